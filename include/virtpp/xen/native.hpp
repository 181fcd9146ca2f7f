// virConnectDomainXMLFromNative / ToNative for Xen: the one place that maps libvirt's native
// format names to the converters, so any Xen driver performs the two operations with one call.
#pragma once

#include <string>
#include <string_view>

namespace virtpp::xen {

/// libvirt's native format names.
inline constexpr std::string_view native_format_sxpr = "xen-sxpr";
inline constexpr std::string_view native_format_xm = "xen-xm";

/// Pass as xend_config_version when no xend tells it (offline conversion on xen:///): the generation
/// is then taken from the input's own spelling. A (domain ...) record or xm file: an HVM CD-ROM in
/// the image / `cdrom =` or `ioemu:` disk names mean 3.0.2, a PV `vfb` device 3.0.4, else 3.0.3.
/// Domain XML: an HVM guest is written for 3.0.2 (the oldest xend, whose spelling every later one
/// reads) unless it needs 3.0.3 (an empty CD-ROM drive, an automatic VNC port); a PV guest with a
/// display for 3.0.4 (vfb device), else 3.0.3. xm files from XML: `ioemu:` disk names mean 3.0.2.
inline constexpr int xend_config_version_unknown = 0;

/// "xen-sxpr" (a (domain ...) record) or "xen-xm" (an xm config file) -> domain XML. A record
/// whose spelling is older than `xend_config_version` (3.0.2's image CD-ROM or ioemu: disks, a PV
/// guest without a vfb device) is read as that older xend wrote it. Another
/// format raises CONFIG_UNSUPPORTED "unsupported config type <format>", as libvirt.
[[nodiscard]] std::string domain_xml_from_native(std::string_view format, std::string_view config,
                                                 int xend_config_version);
/// Domain XML -> "xen-sxpr" ((vm ...), what xend is sent) or "xen-xm".
[[nodiscard]] std::string domain_xml_to_native(std::string_view format, std::string_view xml,
                                               int xend_config_version);

}  // namespace virtpp::xen
