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

}  // namespace virtpp::xen::detail
