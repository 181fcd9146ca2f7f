// Capabilities of a Xen host, built as libvirt's xen_hypervisor did from Xen's capability string
// (xen_caps: "xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 ...", from /sys/hypervisor/properties/
// capabilities or xend's node record) and /proc/cpuinfo's flags (vmx/svm, pae) and the host arch.
#pragma once

#include <virtpp/xml/capabilities.hpp>

#include <string>
#include <string_view>

namespace virtpp::xen {

/// The inputs: hostarch is uname's machine ("x86_64", "i686", "ia64", "ppc64").
struct xen_caps_input {
    std::string hostarch;
    std::string xen_caps;  ///< the capability string
    std::string cpuinfo;   ///< /proc/cpuinfo text; may be empty (no host feature flags then)
};

/// The capabilities document model (host cpu arch and feature flags, one guest per xen_caps token).
[[nodiscard]] xml::capabilities xen_capabilities(const xen_caps_input& input);
/// The XML text, in the layout libvirt's xencapstest fixtures have.
[[nodiscard]] std::string xen_capabilities_xml(const xen_caps_input& input);

}  // namespace virtpp::xen
