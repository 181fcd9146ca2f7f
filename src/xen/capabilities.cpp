// Xen host capabilities (see include/virtpp/xen/capabilities.hpp).
#include <virtpp/error.hpp>
#include <virtpp/xen/capabilities.hpp>

namespace virtpp::xen {

xml::capabilities xen_capabilities(const xen_caps_input&) {
    raise(error_code::no_support, error_domain::xen, "Xen capabilities are not implemented yet");
}

std::string xen_capabilities_xml(const xen_caps_input&) {
    raise(error_code::no_support, error_domain::xen, "Xen capabilities are not implemented yet");
}

}  // namespace virtpp::xen
