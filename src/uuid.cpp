#include <virtpp/error.hpp>
#include <virtpp/uuid.hpp>

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

namespace virtpp {

namespace {
int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::optional<uuid> uuid::parse(std::string_view text) noexcept {
    // As liberal as libvirt: leading and trailing white space, and any number of '-' or ' '
    // between hex pairs, as long as there are exactly 32 hex digits.
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    std::size_t i = 0;
    while (i < text.size() && space(text[i])) ++i;
    bytes_type raw{};
    for (std::size_t n = 0; n < raw.size();) {
        if (i >= text.size()) return std::nullopt;
        if (text[i] == '-' || text[i] == ' ') {
            ++i;
            continue;
        }
        if (i + 2 > text.size()) return std::nullopt;
        int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        raw[n++] = static_cast<std::uint8_t>(hi * 16 + lo);
        i += 2;
    }
    for (; i < text.size(); ++i)
        if (!space(text[i])) return std::nullopt;
    return uuid(raw);
}

uuid uuid::from_string(std::string_view text) {
    if (auto u = parse(text)) return *u;
    raise(error_code::invalid_arg, error_domain::none, "malformed UUID '" + std::string(text) + "'");
}

uuid uuid::generate() {
    bytes_type raw{};
    std::size_t got = 0;
    while (got < raw.size()) {
        auto n = ::getrandom(raw.data() + got, raw.size() - got, 0);
        if (n < 0) raise(error_code::system_error, error_domain::none, "cannot read random bytes for a UUID");
        got += static_cast<std::size_t>(n);
    }
    raw[6] = static_cast<std::uint8_t>((raw[6] & 0x0F) | 0x40);  // version 4
    raw[8] = static_cast<std::uint8_t>((raw[8] & 0x3F) | 0x80);  // RFC 4122 variant
    return uuid(raw);
}

std::string uuid::str() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t n = 0; n < bytes_.size(); ++n) {
        if (n == 4 || n == 6 || n == 8 || n == 10) out += '-';
        out += digits[bytes_[n] >> 4];
        out += digits[bytes_[n] & 0x0F];
    }
    return out;
}

}  // namespace virtpp
