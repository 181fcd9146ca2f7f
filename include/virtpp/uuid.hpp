// UUIDs as libvirt handles them: 16 raw bytes, parsed from 32 hex digits with or without dashes
// (both forms appear in the seed's examples), printed in the dashed form.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace virtpp {

class uuid {
public:
    using bytes_type = std::array<std::uint8_t, 16>;

    constexpr uuid() noexcept = default;
    constexpr explicit uuid(const bytes_type& raw) noexcept : bytes_(raw) {}

    /// Accepts libvirt's input forms: 32 hex digits, with any dashes or blanks between
    /// byte pairs, surrounded by white space. Returns nothing for anything else.
    [[nodiscard]] static std::optional<uuid> parse(std::string_view text) noexcept;
    /// Like parse, but raises INVALID_ARG naming the bad text.
    [[nodiscard]] static uuid from_string(std::string_view text);
    /// A random (version 4) UUID from the system's entropy source.
    [[nodiscard]] static uuid generate();

    /// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lower case.
    [[nodiscard]] std::string str() const;
    [[nodiscard]] constexpr const bytes_type& bytes() const noexcept { return bytes_; }
    [[nodiscard]] constexpr bool is_nil() const noexcept {
        for (auto b : bytes_)
            if (b != 0) return false;
        return true;
    }

    friend constexpr auto operator<=>(const uuid&, const uuid&) noexcept = default;

private:
    bytes_type bytes_{};
};

}  // namespace virtpp

template <>
struct std::hash<virtpp::uuid> {
    std::size_t operator()(const virtpp::uuid& u) const noexcept {
        std::size_t h = 1469598103934665603ULL;
        for (auto b : u.bytes()) h = (h ^ b) * 1099511628211ULL;
        return h;
    }
};
