// Domain XML <-> xend S-expressions for paravirtual and HVM guests, and xend's node record, as
// libvirt's xen_sxpr did for each generation of xend. `xend_config_version` is libvirt's
// xendConfigVersion: 1 = Xen 3.0.2 and older, 2 = 3.0.3 (PV framebuffer, new-style vfb),
// 3 = 3.0.4 (managed domains), 4 = 3.1 and later (device naming, on-the-fly devices).
// The conversions need no running Xen: `virsh domxml-from-native xen-sxpr` uses them directly.
#pragma once

#include <virtpp/xml/node_info.hpp>
#include <virtpp/xen/sexpr.hpp>
#include <virtpp/xml/domain.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace virtpp::xen {

inline constexpr int xend_config_version_3_0_2 = 1;
inline constexpr int xend_config_version_3_0_3 = 2;
inline constexpr int xend_config_version_3_0_4 = 3;
inline constexpr int xend_config_version_3_1_0 = 4;

/// Runtime facts the sexpr does not carry: libvirt takes them from XenStore.
struct sexpr_runtime {
    std::optional<std::string> console_tty;  ///< /local/domain/N/console/tty
    std::optional<int> vnc_port;             ///< /local/domain/N/console/vnc-port
};

/// (domain ...) as xend returns it -> domain definition. A running domain carries (domid N): the
/// result then has id = N and vifN.M interface targets. Bad content raises INTERNAL_ERROR /
/// XML_ERROR naming the field, never crashes.
[[nodiscard]] xml::domain_def domain_from_sexpr(const sexpr& domain, int xend_config_version,
                                                const sexpr_runtime& runtime = {});
/// Text convenience: parses (joining backslash-newline continuations first) and converts.
[[nodiscard]] xml::domain_def domain_from_sexpr_text(std::string_view text, int xend_config_version,
                                                     const sexpr_runtime& runtime = {});

/// The domain XML `domxml-from-native xen-sxpr` prints: the definition passed through the XML
/// parser once more, so it carries the defaults libvirt 9.0's parser fills (loader type, VNC
/// listen, boot device...). `flags` as virDomainGetXMLDesc (secure keeps VNC passwords).
[[nodiscard]] std::string domain_xml_from_sexpr_text(std::string_view text, int xend_config_version,
                                                     const sexpr_runtime& runtime = {},
                                                     xml::domain_format_flags flags = {});

/// Domain definition -> the (vm ...) xend's op=create / op=new take. What xend cannot express
/// raises CONFIG_UNSUPPORTED naming it.
[[nodiscard]] sexpr domain_to_sexpr(const xml::domain_def& def, int xend_config_version);
/// format_sexpr(domain_to_sexpr(...)): the exact text libvirt POSTs.
[[nodiscard]] std::string domain_to_sexpr_text(const xml::domain_def& def, int xend_config_version);

/// One (device (vbd ...)) / (device (vif ...)) entry, for attach-device via xend.
[[nodiscard]] sexpr disk_to_sexpr(const xml::disk_def& disk, bool hvm, int xend_config_version);
[[nodiscard]] sexpr interface_to_sexpr(const xml::interface_def& nic, bool hvm, int xend_config_version);

/// GET /xend/node/ -> node info (nr_cpus, cpu_mhz, nr_nodes, sockets_per_node, cores_per_socket,
/// threads_per_core, total_memory in MiB, machine).
[[nodiscard]] virtpp::node_info node_info_from_sexpr(const sexpr& node);
/// The node's xen_caps string ("xen-3.0-x86_64 hvm-3.0-x86_32 ..."), empty when absent.
[[nodiscard]] std::string xen_caps_from_sexpr(const sexpr& node);
/// Xen version as libvirt reports it (major * 1000000 + minor * 1000 + release) from
/// xen_major / xen_minor / xen_extra of the node record.
[[nodiscard]] std::uint64_t xen_version_from_sexpr(const sexpr& node);

/// Joins libvirt fixture continuation lines: every backslash-newline is removed.
[[nodiscard]] std::string join_continuations(std::string_view text);

}  // namespace virtpp::xen
