// Helpers shared by the S-expression and xm config converters (not installed).
#pragma once

#include <virtpp/xml/domain.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace virtpp::xen::detail {

[[noreturn]] void incomplete(std::string_view what);
[[nodiscard]] std::optional<std::int64_t> to_integer(std::string_view s);
/// qemu-dm's character device spelling ("pty", "/dev/ttyS0", "tcp:host:port,server,nowait",
/// "udp:host:port@host:port", "unix:path,server,nowait", "file:", "pipe:", "null", "stdio", "vc");
/// "none" and "" are nullopt; anything else is INTERNAL_ERROR naming `what`.
[[nodiscard]] std::optional<xml::chardev_def> parse_chardev(std::string_view value, std::string_view what);
[[nodiscard]] std::string format_chardev(const xml::chardev_def& c);
/// The pointer and keyboard that come with a display, as libvirt adds them implicitly: PS/2 for
/// HVM guests, Xen's own bus for paravirtual ones. Nothing when the domain has no graphics.
void add_display_inputs(xml::domain_def& def, bool hvm);
/// The video card libvirt 9.0's libxl driver gives a guest with a display (its conversions are
/// libxl's): cirrus with the qemu-xen device model's 8 MiB on HVM (VGA, 16 MiB, on ppc64), the
/// PV framebuffer on PV guests. libvirt asks an existing emulator binary whether it is the
/// traditional qemu-dm (which would halve the HVM sizes); a conversion here never runs one and
/// assumes qemu-xen, as libvirt does whenever the named emulator is absent.
void add_display_video(xml::domain_def& def, bool hvm);

}  // namespace virtpp::xen::detail
