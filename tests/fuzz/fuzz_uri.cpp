// libFuzzer target for connection URIs: whatever parses must print to a text that parses back to
// the same fields, and computing the daemon-side name must not fail.
#include <virtpp/error.hpp>

#include "fixed_point.hpp"
#include <virtpp/uri.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    virtpp_fuzz::silence_errors();

    std::string_view text(reinterpret_cast<const char*>(data), size);
    virtpp::uri parsed;
    try {
        parsed = virtpp::uri::parse(text);
    } catch (const virtpp::error&) {
        return 0;  // rejected with libvirt's error: fine
    }

    const auto printed = parsed.str();
    virtpp::uri again;
    try {
        again = virtpp::uri::parse(printed);
    } catch (const virtpp::error& e) {
        std::fprintf(stderr, "canonical text does not parse: '%s': %s\n", printed.c_str(), e.what());
        std::abort();
    }
    if (!(again == parsed) || again.str() != printed) {
        std::fprintf(stderr, "round trip changed the URI: '%s' -> '%s'\n", printed.c_str(), again.str().c_str());
        std::abort();
    }

    // Pure computations: none of these may throw.
    (void)parsed.remote_name();
    (void)parsed.passthrough_params();
    (void)parsed.is_remote();
    (void)parsed.transport();
    (void)parsed.remote_port();
    // Flag parsing may raise INVALID_ARG for a bad value, and only that.
    try {
        parsed.check_remote_params();
    } catch (const virtpp::error& e) {
        if (e.code() != virtpp::error_code::invalid_arg) std::abort();
    }
    return 0;
}
