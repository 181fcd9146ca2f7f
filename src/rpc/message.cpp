#include <virtpp/rpc/message.hpp>

namespace virtpp::rpc {

std::size_t bytes_after_length_word(std::uint32_t length_word) {
    if (length_word < length_word_size + header_size)
        xdr::fail("packet length " + std::to_string(length_word) + " is shorter than a message header");
    std::size_t rest = length_word - length_word_size;
    if (rest > message_max)
        xdr::fail("packet length " + std::to_string(length_word) + " is over the limit of " +
                  std::to_string(message_max + length_word_size));
    return rest;
}

header decode_header(std::span<const std::uint8_t> packet) {
    xdr::decoder d(packet);
    header h;
    h.prog = d.u32();
    h.vers = d.u32();
    h.proc = d.i32();
    auto type = d.i32();
    if (type < 0 || type > static_cast<std::int32_t>(message_type::stream_hole))
        xdr::fail("unknown message type " + std::to_string(type));
    h.type = static_cast<message_type>(type);
    h.serial = d.u32();
    auto status = d.i32();
    if (status < 0 || status > static_cast<std::int32_t>(message_status::cont))
        xdr::fail("unknown message status " + std::to_string(status));
    h.status = static_cast<message_status>(status);
    return h;
}

std::vector<std::uint8_t> frame(const header& h, std::span<const std::uint8_t> body) {
    if (header_size + body.size() > message_max) xdr::fail("outgoing message is over the limit");
    std::vector<std::uint8_t> out;
    out.reserve(length_word_size + header_size + body.size());
    xdr::encoder e(out);
    e.u32(static_cast<std::uint32_t>(length_word_size + header_size + body.size()));
    e.u32(h.prog);
    e.u32(h.vers);
    e.i32(h.proc);
    e.i32(static_cast<std::int32_t>(h.type));
    e.u32(h.serial);
    e.i32(static_cast<std::int32_t>(h.status));
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

remote_error to_remote_error(const error_info& info) {
    remote_error r;
    r.code = static_cast<std::int32_t>(info.code);
    r.domain = static_cast<std::int32_t>(info.domain);
    r.message = info.message;
    r.level = static_cast<std::int32_t>(info.level);
    r.str1 = info.str1;
    r.str2 = info.str2;
    r.str3 = info.str3;
    r.int1 = info.int1 == 0 ? -1 : info.int1;
    r.int2 = info.int2 == 0 ? -1 : info.int2;
    return r;
}

error_info from_remote_error(const remote_error& wire) {
    error_info info;
    info.code = static_cast<error_code>(wire.code);
    info.domain = static_cast<error_domain>(wire.domain);
    info.message = wire.message.value_or("");
    info.level = static_cast<error_level>(wire.level);
    info.str1 = wire.str1;
    info.str2 = wire.str2;
    info.str3 = wire.str3;
    info.int1 = wire.int1 == -1 ? 0 : wire.int1;
    info.int2 = wire.int2 == -1 ? 0 : wire.int2;
    if (wire.dom) info.domain_name = wire.dom->name;
    if (wire.net) info.network_name = wire.net->name;
    return info;
}

}  // namespace virtpp::rpc
