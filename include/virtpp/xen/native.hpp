// virConnectDomainXMLFromNative / ToNative for Xen: the one place that maps libvirt's native
// format names to the converters, so any Xen driver performs the two operations with one call.
#pragma once

#include <string>
#include <string_view>

namespace virtpp::xen {

/// libvirt's native format names.
inline constexpr std::string_view native_format_sxpr = "xen-sxpr";
inline constexpr std::string_view native_format_xm = "xen-xm";

/// "xen-sxpr" (a (domain ...) record) or "xen-xm" (an xm config file) -> domain XML. Another
/// format raises CONFIG_UNSUPPORTED "unsupported config type <format>", as libvirt.
[[nodiscard]] std::string domain_xml_from_native(std::string_view format, std::string_view config,
                                                 int xend_config_version);
/// Domain XML -> "xen-sxpr" ((vm ...), what xend is sent) or "xen-xm".
[[nodiscard]] std::string domain_xml_to_native(std::string_view format, std::string_view xml,
                                               int xend_config_version);

}  // namespace virtpp::xen
