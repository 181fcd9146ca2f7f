// What every XML fuzz target checks: any bytes either raise a virtpp::error, or parse into a
// definition whose canonical form is a fixed point of parse + format (and, where the type can be
// compared, re-parses to an equal value). Anything else aborts, which libFuzzer reports.
#pragma once

#include <virtpp/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace virtpp_fuzz {

/// Every target refuses most inputs: the default error handler's line each time would drown the
/// fuzzer's output. Call at the start of each run; only the first call does anything.
inline void silence_errors() {
    static const bool silenced = [] {
        virtpp::set_error_handler([](const virtpp::error_info&) {});
        return true;
    }();
    (void)silenced;
}

template <class Parse, class Format>
int check_fixed_point(const std::uint8_t* data, std::size_t size, Parse parse, Format format) {
    silence_errors();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string once;
    try {
        once = format(parse(text));
    } catch (const virtpp::error&) {
        return 0;  // rejected with a libvirt error: fine; crashing is not
    }
    try {
        const auto again = parse(once);
        const auto twice = format(again);
        if (twice != once) {
            std::fprintf(stderr, "not a fixed point:\n%s\n---\n%s\n", once.c_str(), twice.c_str());
            std::abort();
        }
        if constexpr (requires { again == again; }) {
            if (!(parse(twice) == again)) std::abort();
        }
    } catch (const virtpp::error& e) {
        std::fprintf(stderr, "our own output was rejected: %s\n%s\n", e.what(), once.c_str());
        std::abort();
    }
    return 0;
}

}  // namespace virtpp_fuzz
