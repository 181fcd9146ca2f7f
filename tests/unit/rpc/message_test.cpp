#include <virtpp/rpc/message.hpp>

#include <gtest/gtest.h>

namespace {

using namespace virtpp;
using namespace virtpp::rpc;

std::vector<std::uint8_t> hex(std::string_view words) {
    std::vector<std::uint8_t> out;
    std::string digits;
    for (char c : words)
        if (c != ' ') digits += c;
    for (std::size_t i = 0; i + 1 < digits.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
    return out;
}

struct open_args {
    std::optional<std::string> name;
    std::uint32_t flags = 0;
};
auto xdr_fields(open_args& a) { return std::tie(a.name, a.flags); }

struct rpc_message : ::testing::Test {
    void SetUp() override { set_error_handler([](const error_info&) {}); }
    void TearDown() override { set_error_handler({}); }
};

// The CONNECT_OPEN call virsh 9.0 sends (interop.md §5), byte for byte.
TEST_F(rpc_message, connect_open_call_matches_virsh_bytes) {
    header h{remote_program, 1, 1, message_type::call, 2, message_status::ok};
    auto bytes = frame_body(h, open_args{"test:///default", 0});
    EXPECT_EQ(bytes, hex("00000038 20008086 00000001 00000001 00000000 00000002 00000000 00000001 0000000f "
                         "74657374 3a2f2f2f 64656661 756c7400 00000000"));
    auto rest = bytes_after_length_word(0x38);
    EXPECT_EQ(rest, 52u);
    std::span<const std::uint8_t> packet(bytes.data() + 4, rest);
    EXPECT_EQ(decode_header(packet), h);
    auto body = xdr::from_bytes<open_args>(packet.subspan(header_size));
    EXPECT_EQ(body.name, "test:///default");
}

// The list-all-domains reply body (interop.md §5).
TEST_F(rpc_message, list_all_domains_reply_body) {
    auto bytes = hex("00000001 00000004 74657374 6695eb01f6a4830479aa97f2502e193f 00000003 00000001");
    auto r = [&] {
        xdr::decoder d(bytes.data(), bytes.size());
        xdr::array<domain_ref, 16384> doms;
        xdr::decode(d, doms);
        std::uint32_t n = d.u32();
        d.expect_end();
        return std::pair{doms, n};
    }();
    ASSERT_EQ(r.first.items.size(), 1u);
    EXPECT_EQ(r.first.items[0].name, "test");
    EXPECT_EQ(r.first.items[0].uuid.str(), "6695eb01-f6a4-8304-79aa-97f2502e193f");
    EXPECT_EQ(r.first.items[0].id, 3);
    EXPECT_EQ(r.second, 1u);
    EXPECT_EQ(xdr::to_bytes(r.first.items[0]), hex("00000004 74657374 6695eb01f6a4830479aa97f2502e193f 00000003"));
}

// The error reply body for an unknown domain (interop.md §5).
TEST_F(rpc_message, error_reply_body_round_trips) {
    auto bytes = hex("0000002a 0000000c 00000001 00000010 446f6d61696e206e6f7420666f756e64 00000002 00000000 "
                     "00000001 00000010 446f6d61696e206e6f7420666f756e64 00000000 00000000 ffffffff ffffffff 00000000");
    auto wire = xdr::from_bytes<remote_error>(bytes);
    EXPECT_EQ(wire.code, 42);
    EXPECT_EQ(wire.domain, 12);
    EXPECT_EQ(wire.message, "Domain not found");
    EXPECT_EQ(wire.level, 2);
    EXPECT_EQ(wire.int1, -1);
    EXPECT_EQ(xdr::to_bytes(wire), bytes);
    auto info = from_remote_error(wire);
    EXPECT_EQ(info.code, error_code::no_domain);
    EXPECT_EQ(info.domain, error_domain::test);
    EXPECT_EQ(to_remote_error(info).int1, -1);
}

TEST_F(rpc_message, malformed_input_is_refused_before_allocating) {
    EXPECT_THROW((void)bytes_after_length_word(27), virtpp::error);
    EXPECT_THROW((void)bytes_after_length_word(33554437), virtpp::error);
    EXPECT_EQ(bytes_after_length_word(33554436), 33554432u);
    // a string that claims 4 GiB
    EXPECT_THROW((void)xdr::from_bytes<std::string>(hex("ffffffff 61")), virtpp::error);
    // a string that claims more than is left
    EXPECT_THROW((void)xdr::from_bytes<std::string>(hex("00000010 61626364")), virtpp::error);
    // an array of 16384 domains in 8 bytes
    EXPECT_THROW((void)(xdr::from_bytes<xdr::array<domain_ref, 16384>>(hex("00004000 00000000"))), virtpp::error);
    // over the array maximum
    EXPECT_THROW((void)(xdr::from_bytes<xdr::array<std::int32_t, 2>>(hex("00000003 00000001 00000002 00000003"))), virtpp::error);
    // bad optional discriminant, truncated header, unknown type, trailing garbage
    EXPECT_THROW((void)xdr::from_bytes<std::optional<std::string>>(hex("00000002")), virtpp::error);
    EXPECT_THROW((void)decode_header(hex("20008086 00000001")), virtpp::error);
    EXPECT_THROW((void)decode_header(hex("20008086 00000001 00000001 00000009 00000000 00000000")), virtpp::error);
    EXPECT_THROW((void)xdr::from_bytes<std::int32_t>(hex("00000001 00000002")), virtpp::error);
}

TEST_F(rpc_message, scalars_and_padding) {
    EXPECT_EQ(xdr::to_bytes(std::int64_t{-2}), hex("ffffffff fffffffe"));
    EXPECT_EQ(xdr::to_bytes(std::string("abcde")), hex("00000005 61626364 65000000"));
    EXPECT_EQ(xdr::from_bytes<double>(xdr::to_bytes(1.5)), 1.5);
    xdr::fixed_chars<4> model{{'i', '6', '8', '6'}};
    EXPECT_EQ(xdr::to_bytes(model), hex("00000069 00000036 00000038 00000036"));
}

// An empty opaque (a migration step's cookie, mostly) is a bare zero length, both ways; decoding
// it must not hand memcpy the empty vector's null buffer (UBSan stops the daemon on that).
TEST_F(rpc_message, empty_opaque_and_string) {
    EXPECT_EQ(xdr::to_bytes(xdr::opaque<16>{}), hex("00000000"));
    EXPECT_TRUE(xdr::from_bytes<xdr::opaque<16>>(hex("00000000")).bytes.empty());
    EXPECT_EQ(xdr::from_bytes<std::string>(hex("00000000")), "");
    EXPECT_EQ(xdr::from_bytes<xdr::opaque<16>>(hex("00000002 abcd0000")).bytes, (std::vector<std::uint8_t>{0xab, 0xcd}));
}

}  // namespace

namespace {
struct plain_args {
    virtpp::domain_ref dom;
    std::uint64_t memory = 0;
    std::uint32_t flags = 0;
};
struct with_union {
    std::string field;
    std::variant<std::int32_t, std::uint32_t, std::int64_t, std::uint64_t, double, bool, std::string> value;
};

TEST_F(rpc_message, plain_aggregates_encode_field_by_field) {
    plain_args a{{"t", *virtpp::uuid::parse("00000000000000000000000000000001"), 1}, 1048576, 1};
    auto bytes = xdr::to_bytes(a);
    EXPECT_EQ(bytes, hex("00000001 74000000 00000000000000000000000000000001 00000001 00000000 00100000 00000001"));
    auto back = xdr::from_bytes<plain_args>(bytes);
    EXPECT_EQ(back.dom, a.dom);
    EXPECT_EQ(back.memory, a.memory);
    static_assert(xdr::codec<plain_args>::min_size == 4 + 16 + 4 + 8 + 4);
}

TEST_F(rpc_message, typed_parameter_unions) {
    with_union p{"weight", std::uint32_t{50}};
    EXPECT_EQ(xdr::to_bytes(p), hex("00000006 77656967 68740000 00000002 00000032"));
    auto back = xdr::from_bytes<with_union>(xdr::to_bytes(p));
    EXPECT_EQ(std::get<std::uint32_t>(back.value), 50u);
    EXPECT_THROW((void)xdr::from_bytes<with_union>(hex("00000001 61000000 00000009 00000000")), virtpp::error);
    with_union b{"on", true};
    EXPECT_EQ(xdr::to_bytes(b), hex("00000002 6f6e0000 00000006 00000001"));
}
}  // namespace
