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

}  // namespace virtpp::xen::detail
