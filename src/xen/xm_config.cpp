// xm configuration files (see include/virtpp/xen/xm_config.hpp).
#include <virtpp/error.hpp>
#include <virtpp/xen/xm_config.hpp>

namespace virtpp::xen {

const xm_value* xm_config::find(std::string_view name) const {
    const xm_value* found = nullptr;
    for (const auto& e : entries)
        if (e.name == name) found = &e.value;
    return found;
}

xm_config parse_xm_config(std::string_view, std::string_view, const xm_limits&) {
    raise(error_code::no_support, error_domain::xenxm, "xm config parsing is not implemented yet");
}

std::string format_xm_config(const xm_config&) {
    raise(error_code::no_support, error_domain::xenxm, "xm config formatting is not implemented yet");
}

xml::domain_def domain_from_xm_config(const xm_config&, int) {
    raise(error_code::no_support, error_domain::xenxm, "xm config to domain XML is not implemented yet");
}

xm_config domain_to_xm_config(const xml::domain_def&, int) {
    raise(error_code::no_support, error_domain::xenxm, "domain XML to xm config is not implemented yet");
}

xml::domain_def domain_from_xm_text(std::string_view text, int version) {
    return domain_from_xm_config(parse_xm_config(text), version);
}

std::string domain_to_xm_text(const xml::domain_def& def, int version) {
    return format_xm_config(domain_to_xm_config(def, version));
}

}  // namespace virtpp::xen
