// Native format dispatch for the Xen converters (see include/virtpp/xen/native.hpp).
#include <virtpp/error.hpp>
#include <virtpp/xen/native.hpp>
#include <virtpp/xen/sexpr_domain.hpp>
#include <virtpp/xen/xm_config.hpp>

namespace virtpp::xen {

namespace {
[[noreturn]] void unsupported(std::string_view format) {
    raise(error_code::config_unsupported, error_domain::xen, "unsupported config type " + std::string(format));
}
}  // namespace

std::string domain_xml_from_native(std::string_view format, std::string_view config, int version) {
    if (format == native_format_sxpr) return domain_xml_from_sexpr_text(config, version);
    if (format == native_format_xm) {
        // the same parser pass as sexpr: the output carries libvirt 9.0's parser defaults
        xml::domain_format_flags keep_secrets;
        keep_secrets.secure = true;
        // as libvirt's xmconfig conversions: the VNC password stays (the file holds it in clear)
        return xml::format_domain_xml(
            xml::parse_domain_xml(xml::format_domain_xml(domain_from_xm_text(config, version), keep_secrets)), keep_secrets);
    }
    unsupported(format);
}

std::string domain_xml_to_native(std::string_view format, std::string_view xml, int version) {
    if (format == native_format_sxpr) return domain_to_sexpr_text(xml::parse_domain_xml(xml), version);
    if (format == native_format_xm) return domain_to_xm_text(xml::parse_domain_xml(xml), version);
    unsupported(format);
}

}  // namespace virtpp::xen
