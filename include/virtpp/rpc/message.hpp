// libvirt's RPC framing (virnetprotocol.x): a 32-bit length word that counts itself, a 24-byte
// header, then the XDR body; and the remote_error struct that error replies carry.
#pragma once

#include <virtpp/error.hpp>
#include <virtpp/rpc/xdr.hpp>
#include <virtpp/types.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace virtpp {
// Wire layouts of the handle references (remote_nonnull_domain, _network, _storage_pool, ...).
inline auto xdr_fields(domain_ref& r) { return std::tie(r.name, r.uuid, r.id); }
inline auto xdr_fields(network_ref& r) { return std::tie(r.name, r.uuid); }
inline auto xdr_fields(storage_pool_ref& r) { return std::tie(r.name, r.uuid); }
inline auto xdr_fields(storage_vol_ref& r) { return std::tie(r.pool, r.name, r.key); }
inline auto xdr_fields(interface_ref& r) { return std::tie(r.name, r.mac); }
inline auto xdr_fields(node_device_ref& r) { return std::tie(r.name); }
inline auto xdr_fields(domain_snapshot_ref& r) { return std::tie(r.name, r.dom); }
inline auto xdr_fields(domain_checkpoint_ref& r) { return std::tie(r.name, r.dom); }
}  // namespace virtpp

namespace virtpp::rpc {

inline constexpr std::uint32_t remote_program = 0x20008086;
inline constexpr std::uint32_t remote_protocol_version = 1;
inline constexpr std::uint32_t keepalive_program = 0x6b656570;  // "keep"
inline constexpr std::uint32_t keepalive_protocol_version = 1;
inline constexpr std::int32_t keepalive_ping = 1;
inline constexpr std::int32_t keepalive_pong = 2;

inline constexpr std::size_t length_word_size = 4;
inline constexpr std::size_t header_size = 24;
/// VIR_NET_MESSAGE_MAX: header + body, not counting the length word.
inline constexpr std::size_t message_max = 33554432;
inline constexpr std::size_t message_initial = 65536;

enum class message_type : std::int32_t {
    call = 0, reply = 1, message = 2, stream = 3, call_with_fds = 4, reply_with_fds = 5, stream_hole = 6
};
enum class message_status : std::int32_t { ok = 0, error = 1, cont = 2 };

struct header {
    std::uint32_t prog = remote_program;
    std::uint32_t vers = remote_protocol_version;
    std::int32_t proc = 0;
    message_type type = message_type::call;
    std::uint32_t serial = 0;
    message_status status = message_status::ok;
    friend bool operator==(const header&, const header&) = default;
};

/// Validates a length word read from the wire and returns how many bytes follow it.
/// Anything shorter than a header or longer than VIR_NET_MESSAGE_MAX is a protocol error.
[[nodiscard]] std::size_t bytes_after_length_word(std::uint32_t length_word);

/// Parses the 24-byte header at the start of `packet` (the bytes after the length word).
[[nodiscard]] header decode_header(std::span<const std::uint8_t> packet);

/// One whole message on the wire: length word, header, body.
[[nodiscard]] std::vector<std::uint8_t> frame(const header& h, std::span<const std::uint8_t> body);

template <class Body>
[[nodiscard]] std::vector<std::uint8_t> frame_body(const header& h, const Body& body) {
    std::vector<std::uint8_t> out(length_word_size, 0);
    xdr::encoder e(out);
    e.u32(h.prog);
    e.u32(h.vers);
    e.i32(h.proc);
    e.i32(static_cast<std::int32_t>(h.type));
    e.u32(h.serial);
    e.i32(static_cast<std::int32_t>(h.status));
    xdr::encode(e, body);
    if (out.size() - length_word_size > message_max)
        xdr::fail("outgoing message of " + std::to_string(out.size()) + " bytes is over the limit");
    auto n = static_cast<std::uint32_t>(out.size());
    out[0] = std::uint8_t(n >> 24), out[1] = std::uint8_t(n >> 16), out[2] = std::uint8_t(n >> 8), out[3] = std::uint8_t(n);
    return out;
}

/// remote_error, the body of an error reply.
struct remote_error {
    std::int32_t code = 0;
    std::int32_t domain = 0;
    std::optional<std::string> message;
    std::int32_t level = 0;
    std::optional<domain_ref> dom;
    std::optional<std::string> str1, str2, str3;
    std::int32_t int1 = 0, int2 = 0;
    std::optional<network_ref> net;
    friend bool operator==(const remote_error&, const remote_error&) = default;
};
inline auto xdr_fields(remote_error& r) {
    return std::tie(r.code, r.domain, r.message, r.level, r.dom, r.str1, r.str2, r.str3, r.int1, r.int2, r.net);
}

/// libvirt sends int1/int2 as -1 when unset; both directions keep every field.
[[nodiscard]] remote_error to_remote_error(const error_info& info);
[[nodiscard]] error_info from_remote_error(const remote_error& wire);

}  // namespace virtpp::rpc
