// Domain definitions <-> xend S-expressions (see include/virtpp/xen/sexpr_domain.hpp).
#include <virtpp/error.hpp>
#include <virtpp/xen/sexpr_domain.hpp>

namespace virtpp::xen {

std::string join_continuations(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {
            ++i;
            continue;
        }
        out += text[i];
    }
    return out;
}

xml::domain_def domain_from_sexpr(const sexpr&, int, const sexpr_runtime&) {
    raise(error_code::no_support, error_domain::sexpr, "sexpr to domain XML is not implemented yet");
}

xml::domain_def domain_from_sexpr_text(std::string_view text, int version, const sexpr_runtime& runtime) {
    return domain_from_sexpr(parse_sexpr(join_continuations(text)), version, runtime);
}

sexpr domain_to_sexpr(const xml::domain_def&, int) {
    raise(error_code::no_support, error_domain::sexpr, "domain XML to sexpr is not implemented yet");
}

std::string domain_to_sexpr_text(const xml::domain_def& def, int version) {
    return format_sexpr(domain_to_sexpr(def, version));
}

sexpr disk_to_sexpr(const xml::disk_def&, bool, int) {
    raise(error_code::no_support, error_domain::sexpr, "disk to sexpr is not implemented yet");
}

sexpr interface_to_sexpr(const xml::interface_def&, bool, int) {
    raise(error_code::no_support, error_domain::sexpr, "interface to sexpr is not implemented yet");
}

node_info node_info_from_sexpr(const sexpr&) {
    raise(error_code::no_support, error_domain::sexpr, "xend node info is not implemented yet");
}

std::string xen_caps_from_sexpr(const sexpr& node) {
    return node.value("node/xen_caps").value_or("");
}

std::uint64_t xen_version_from_sexpr(const sexpr&) {
    raise(error_code::no_support, error_domain::sexpr, "xend version is not implemented yet");
}

}  // namespace virtpp::xen
