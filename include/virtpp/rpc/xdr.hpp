// XDR (RFC 4506) encoding as libvirt's rpcgen-generated code writes it: big-endian 4-byte words,
// 8-byte hypers, strings and opaques as a length word plus bytes padded to 4, optional data as a
// 0/1 discriminant. Every length read from the wire is checked against its protocol maximum and
// against the bytes actually left *before* anything is allocated.
//
// Structures are encoded field by field: a type takes part by having an overload
//   auto xdr_fields(T& value)  ->  std::tie(field1, field2, ...)
// found by argument-dependent lookup (or in namespace virtpp::rpc::xdr).
#pragma once

#include <virtpp/error.hpp>
#include <virtpp/uuid.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

namespace virtpp::rpc::xdr {

/// libvirt 9.0's limits (remote_protocol.x).
inline constexpr std::size_t string_max = 4194304;  ///< REMOTE_STRING_MAX

/// Raised for malformed input; the connection that sent it is closed.
[[noreturn]] inline void fail(std::string_view what) { raise(error_code::rpc, error_domain::rpc, std::string(what)); }

/// A variable-length array with its protocol maximum: `T items<Max>`.
template <class T, std::size_t Max>
struct array {
    std::vector<T> items;
    friend bool operator==(const array&, const array&) = default;
};

/// A string with a maximum below REMOTE_STRING_MAX.
template <std::size_t Max>
struct bounded_string {
    std::string value;
    friend bool operator==(const bounded_string&, const bounded_string&) = default;
};

/// `opaque data<Max>`
template <std::size_t Max>
struct opaque {
    std::vector<std::uint8_t> bytes;
    friend bool operator==(const opaque&, const opaque&) = default;
};

/// `char name[N]`: a fixed array of xdr_char, each item a 4-byte word.
template <std::size_t N>
struct fixed_chars {
    std::array<char, N> chars{};
    friend bool operator==(const fixed_chars&, const fixed_chars&) = default;
};

/// An empty body (void args or ret).
struct none {
    friend bool operator==(const none&, const none&) = default;
};

class encoder {
public:
    explicit encoder(std::vector<std::uint8_t>& out) : out_(out) {}

    void u32(std::uint32_t v) {
        auto at = out_.size();
        out_.resize(at + 4);
        auto* b = out_.data() + at;
        b[0] = std::uint8_t(v >> 24);
        b[1] = std::uint8_t(v >> 16);
        b[2] = std::uint8_t(v >> 8);
        b[3] = std::uint8_t(v);
    }
    void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
    void u64(std::uint64_t v) {
        u32(static_cast<std::uint32_t>(v >> 32));
        u32(static_cast<std::uint32_t>(v));
    }
    void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
    void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
    void fixed_bytes(const void* data, std::size_t n) {
        auto p = static_cast<const std::uint8_t*>(data);
        out_.insert(out_.end(), p, p + n);
        out_.resize(out_.size() + ((4 - n % 4) % 4), 0);
    }
    void variable_bytes(const void* data, std::size_t n, std::size_t max) {
        if (n > max) fail("outgoing data of " + std::to_string(n) + " bytes is over the limit of " + std::to_string(max));
        u32(static_cast<std::uint32_t>(n));
        fixed_bytes(data, n);
    }
    [[nodiscard]] std::size_t size() const noexcept { return out_.size(); }
    std::vector<std::uint8_t>& buffer() noexcept { return out_; }

private:
    std::vector<std::uint8_t>& out_;
};

class decoder {
public:
    decoder(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
    explicit decoder(std::span<const std::uint8_t> s) : decoder(s.data(), s.size()) {}

    std::uint32_t u32() {
        need(4);
        std::uint32_t v = (std::uint32_t(p_[0]) << 24) | (std::uint32_t(p_[1]) << 16) | (std::uint32_t(p_[2]) << 8) | p_[3];
        p_ += 4;
        return v;
    }
    std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
    std::uint64_t u64() {
        std::uint64_t hi = u32();
        return (hi << 32) | u32();
    }
    std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
    double f64() { return std::bit_cast<double>(u64()); }
    bool boolean() {
        auto v = u32();
        if (v > 1) fail("boolean out of range: " + std::to_string(v));
        return v == 1;
    }
    void fixed_bytes(void* into, std::size_t n) {
        std::size_t padded = n + (4 - n % 4) % 4;
        need(padded);
        if (n > 0) std::memcpy(into, p_, n);  // an empty opaque's buffer may be null
        p_ += padded;
    }
    /// Reads a length word and checks it against `max` and the bytes left, before allocating.
    std::size_t length(std::size_t max, std::size_t item_wire_size) {
        std::size_t n = u32();
        if (n > max) fail("array or string length " + std::to_string(n) + " over the limit of " + std::to_string(max));
        if (item_wire_size > 0 && n > remaining() / item_wire_size)
            fail("length " + std::to_string(n) + " exceeds the " + std::to_string(remaining()) + " bytes left");
        return n;
    }
    [[nodiscard]] std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
    [[nodiscard]] bool at_end() const noexcept { return p_ == end_; }
    void expect_end() const {
        if (!at_end()) fail(std::to_string(remaining()) + " unexpected bytes after the message body");
    }

private:
    void need(std::size_t n) const {
        if (remaining() < n) fail("message truncated: " + std::to_string(n) + " bytes needed, " + std::to_string(remaining()) + " left");
    }
    const std::uint8_t* p_;
    const std::uint8_t* end_;
};

// ---- the codec, by type ---------------------------------------------------------------------

template <class T>
struct codec;  // specialised below; structures go through xdr_fields

template <class T>
void encode(encoder& e, const T& v) {
    codec<T>::encode(e, v);
}
template <class T>
void decode(decoder& d, T& v) {
    codec<T>::decode(d, v);
}

/// Smallest number of bytes a T takes on the wire (bounds array lengths before allocation).
template <class T>
constexpr std::size_t min_wire_size() {
    if constexpr (requires { codec<T>::min_size; })
        return codec<T>::min_size;
    else
        return 4;
}

template <>
struct codec<none> {
    static constexpr std::size_t min_size = 0;
    static void encode(encoder&, const none&) {}
    static void decode(decoder&, none&) {}
};
template <>
struct codec<std::int32_t> {
    static void encode(encoder& e, std::int32_t v) { e.i32(v); }
    static void decode(decoder& d, std::int32_t& v) { v = d.i32(); }
};
template <>
struct codec<std::uint32_t> {
    static void encode(encoder& e, std::uint32_t v) { e.u32(v); }
    static void decode(decoder& d, std::uint32_t& v) { v = d.u32(); }
};
template <>
struct codec<std::int64_t> {
    static constexpr std::size_t min_size = 8;
    static void encode(encoder& e, std::int64_t v) { e.i64(v); }
    static void decode(decoder& d, std::int64_t& v) { v = d.i64(); }
};
template <>
struct codec<std::uint64_t> {
    static constexpr std::size_t min_size = 8;
    static void encode(encoder& e, std::uint64_t v) { e.u64(v); }
    static void decode(decoder& d, std::uint64_t& v) { v = d.u64(); }
};
template <>
struct codec<double> {
    static constexpr std::size_t min_size = 8;
    static void encode(encoder& e, double v) { e.f64(v); }
    static void decode(decoder& d, double& v) { v = d.f64(); }
};
template <>
struct codec<bool> {
    static void encode(encoder& e, bool v) { e.u32(v ? 1 : 0); }
    static void decode(decoder& d, bool& v) { v = d.boolean(); }
};
/// nstr: string<REMOTE_STRING_MAX>
template <>
struct codec<std::string> {
    static void encode(encoder& e, const std::string& v) { e.variable_bytes(v.data(), v.size(), string_max); }
    static void decode(decoder& d, std::string& v) {
        auto n = d.length(string_max, 1);
        v.resize(n);
        d.fixed_bytes(v.data(), n);
    }
};
template <std::size_t Max>
struct codec<bounded_string<Max>> {
    static void encode(encoder& e, const bounded_string<Max>& v) { e.variable_bytes(v.value.data(), v.value.size(), Max); }
    static void decode(decoder& d, bounded_string<Max>& v) {
        auto n = d.length(Max, 1);
        v.value.resize(n);
        d.fixed_bytes(v.value.data(), n);
    }
};
template <std::size_t Max>
struct codec<opaque<Max>> {
    static void encode(encoder& e, const opaque<Max>& v) { e.variable_bytes(v.bytes.data(), v.bytes.size(), Max); }
    static void decode(decoder& d, opaque<Max>& v) {
        auto n = d.length(Max, 1);
        v.bytes.resize(n);
        d.fixed_bytes(v.bytes.data(), n);
    }
};
template <std::size_t N>
struct codec<fixed_chars<N>> {
    static constexpr std::size_t min_size = 4 * N;
    static void encode(encoder& e, const fixed_chars<N>& v) {
        for (char c : v.chars) e.i32(static_cast<signed char>(c));
    }
    static void decode(decoder& d, fixed_chars<N>& v) {
        for (char& c : v.chars) c = static_cast<char>(d.i32());
    }
};
/// uuid: opaque[16]
template <>
struct codec<virtpp::uuid> {
    static constexpr std::size_t min_size = 16;
    static void encode(encoder& e, const virtpp::uuid& v) { e.fixed_bytes(v.bytes().data(), 16); }
    static void decode(decoder& d, virtpp::uuid& v) {
        virtpp::uuid::bytes_type raw{};
        d.fixed_bytes(raw.data(), raw.size());
        v = virtpp::uuid(raw);
    }
};
/// Optional data (an XDR pointer): a 0/1 word, then the value when 1. ostr is optional<string>.
template <class T>
struct codec<std::optional<T>> {
    static void encode(encoder& e, const std::optional<T>& v) {
        e.u32(v ? 1 : 0);
        if (v) xdr::encode(e, *v);
    }
    static void decode(decoder& d, std::optional<T>& v) {
        if (d.boolean()) {
            v.emplace();
            xdr::decode(d, *v);
        } else {
            v.reset();
        }
    }
};
template <class T, std::size_t Max>
struct codec<array<T, Max>> {
    static void encode(encoder& e, const array<T, Max>& v) {
        if (v.items.size() > Max) fail("outgoing array of " + std::to_string(v.items.size()) + " items is over the limit of " + std::to_string(Max));
        e.u32(static_cast<std::uint32_t>(v.items.size()));
        for (const auto& item : v.items) xdr::encode(e, item);
    }
    static void decode(decoder& d, array<T, Max>& v) {
        auto n = d.length(Max, min_wire_size<T>());
        v.items.clear();
        v.items.resize(n);
        for (auto& item : v.items) xdr::decode(d, item);
    }
};

/// Enumerations travel as their 4-byte value.
template <class E>
    requires std::is_enum_v<E>
struct codec<E> {
    static void encode(encoder& e, E v) { e.i32(static_cast<std::int32_t>(v)); }
    static void decode(decoder& d, E& v) { v = static_cast<E>(d.i32()); }
};

/// A discriminated union whose discriminant is the alternative's index + 1 — the layout of
/// libvirt's typed parameters (1 int, 2 uint, 3 llong, 4 ullong, 5 double, 6 boolean, 7 string).
template <class... Ts>
struct codec<std::variant<Ts...>> {
    static void encode(encoder& e, const std::variant<Ts...>& v) {
        e.i32(static_cast<std::int32_t>(v.index() + 1));
        std::visit([&](const auto& x) { xdr::encode(e, x); }, v);
    }
    static void decode(decoder& d, std::variant<Ts...>& v) {
        auto tag = d.i32();
        if (tag < 1 || tag > static_cast<std::int32_t>(sizeof...(Ts))) fail("unknown union discriminant " + std::to_string(tag));
        decode_at<0>(d, v, static_cast<std::size_t>(tag - 1));
    }
    template <std::size_t I>
    static void decode_at(decoder& d, std::variant<Ts...>& v, std::size_t index) {
        if constexpr (I < sizeof...(Ts)) {
            if (index == I) {
                xdr::decode(d, v.template emplace<I>());
                return;
            }
            decode_at<I + 1>(d, v, index);
        }
    }
};

/// Structures with an explicit layout: an xdr_fields overload.
template <class T>
concept has_fields = requires(T& t) { xdr_fields(t); };

namespace reflect {
/// Converts to anything: counts an aggregate's fields by brace-initialising it.
struct any_value {
    template <class T>
    operator T() const;  // NOLINT: declared only, used in unevaluated contexts
};
template <class T, class... A>
constexpr std::size_t field_count() {
    if constexpr (requires { T{std::declval<A>()..., any_value{}}; })
        return field_count<T, A..., any_value>();
    else
        return sizeof...(A);
}
/// The fields of a plain aggregate, in declaration order, as a tuple of references.
template <class T>
auto tie_fields(T& t) {
    constexpr auto n = field_count<T>();
    static_assert(n <= 12, "virtpp::rpc::xdr: aggregate with more than 12 fields needs an xdr_fields overload");
    if constexpr (n == 0) return std::tie();
    else if constexpr (n == 1) { auto& [a] = t; return std::tie(a); }
    else if constexpr (n == 2) { auto& [a, b] = t; return std::tie(a, b); }
    else if constexpr (n == 3) { auto& [a, b, c] = t; return std::tie(a, b, c); }
    else if constexpr (n == 4) { auto& [a, b, c, d] = t; return std::tie(a, b, c, d); }
    else if constexpr (n == 5) { auto& [a, b, c, d, e] = t; return std::tie(a, b, c, d, e); }
    else if constexpr (n == 6) { auto& [a, b, c, d, e, f] = t; return std::tie(a, b, c, d, e, f); }
    else if constexpr (n == 7) { auto& [a, b, c, d, e, f, g] = t; return std::tie(a, b, c, d, e, f, g); }
    else if constexpr (n == 8) { auto& [a, b, c, d, e, f, g, h] = t; return std::tie(a, b, c, d, e, f, g, h); }
    else if constexpr (n == 9) { auto& [a, b, c, d, e, f, g, h, i] = t; return std::tie(a, b, c, d, e, f, g, h, i); }
    else if constexpr (n == 10) { auto& [a, b, c, d, e, f, g, h, i, j] = t; return std::tie(a, b, c, d, e, f, g, h, i, j); }
    else if constexpr (n == 11) { auto& [a, b, c, d, e, f, g, h, i, j, k] = t; return std::tie(a, b, c, d, e, f, g, h, i, j, k); }
    else { auto& [a, b, c, d, e, f, g, h, i, j, k, l] = t; return std::tie(a, b, c, d, e, f, g, h, i, j, k, l); }
}
}  // namespace reflect

/// The fields of T: its xdr_fields overload, else (for a plain aggregate) its members in order.
template <class T>
auto fields_of(T& t) {
    if constexpr (has_fields<T>)
        return xdr_fields(t);
    else
        return reflect::tie_fields(t);
}

template <class T>
concept structure = has_fields<T> || (std::is_aggregate_v<T> && std::is_class_v<T> && !std::is_array_v<T>);

template <class T>
    requires structure<T>
struct codec<T> {
    static constexpr std::size_t min_size = [] {
        std::size_t total = 0;
        using tuple = decltype(fields_of(std::declval<T&>()));
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((total += min_wire_size<std::remove_cvref_t<std::tuple_element_t<I, tuple>>>()), ...);
        }(std::make_index_sequence<std::tuple_size_v<tuple>>{});
        return total;
    }();
    static void encode(encoder& e, const T& v) {
        std::apply([&](const auto&... f) { (xdr::encode(e, f), ...); }, fields_of(const_cast<T&>(v)));
    }
    static void decode(decoder& d, T& v) {
        std::apply([&](auto&... f) { (xdr::decode(d, f), ...); }, fields_of(v));
    }
};

/// Encodes a whole body.
template <class T>
std::vector<std::uint8_t> to_bytes(const T& v) {
    std::vector<std::uint8_t> out;
    encoder e(out);
    encode(e, v);
    return out;
}

/// Decodes a whole body; trailing bytes are an error.
template <class T>
T from_bytes(std::span<const std::uint8_t> bytes) {
    decoder d(bytes);
    T v{};
    decode(d, v);
    d.expect_end();
    return v;
}

}  // namespace virtpp::rpc::xdr
