// The remote procedures that open a stream (remote_protocol.x): their numbers and wire layouts,
// shared by the client (virtpp/stream.hpp's open_console, take_screenshot) and the daemon. Their
// data travels as VIR_NET_STREAM messages with the opening call's procedure and serial.
#pragma once

#include <virtpp/rpc/message.hpp>
#include <virtpp/types.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace virtpp::rpc::stream_proc {

inline constexpr std::int32_t domain_open_console = 201;  ///< REMOTE_PROC_DOMAIN_OPEN_CONSOLE
inline constexpr std::int32_t domain_screenshot = 211;    ///< REMOTE_PROC_DOMAIN_SCREENSHOT

/// remote_domain_open_console_args (the reply is void)
struct open_console_args {
    domain_ref dom;
    std::optional<std::string> dev_name;
    std::uint32_t flags = 0;
};
/// remote_domain_screenshot_args
struct screenshot_args {
    domain_ref dom;
    std::uint32_t screen = 0;
    std::uint32_t flags = 0;
};
/// remote_domain_screenshot_ret
struct screenshot_ret {
    std::optional<std::string> mime;
};

}  // namespace virtpp::rpc::stream_proc
