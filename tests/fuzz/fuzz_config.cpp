// libFuzzer target for the configuration files the daemon and the QEMU driver read
// (libvirtd.conf syntax, qemu.conf): any text is either read or refused with the parser's own
// error naming the file and line — never a crash, a hang or another exception.
#include <virtpp/error.hpp>

#include "fixed_point.hpp"
#include <virtpp/rpc/server.hpp>

#include "hypervisor/qemu_detail.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    virtpp_fuzz::silence_errors();
    std::string_view text(reinterpret_cast<const char*>(data), size);

    try {
        auto cfg = virtpp::daemon::read_config(text, "fuzz.conf");
        (void)cfg;
    } catch (const virtpp::daemon::config_error& e) {
        // a refusal must say where
        if (std::string_view(e.what()).find("fuzz.conf") == std::string_view::npos) {
            std::fprintf(stderr, "libvirtd.conf error without the file name: %s\n", e.what());
            std::abort();
        }
    }

    try {
        auto q = virtpp::hypervisor::qemu_detail::parse_driver_config(text, "qemu.conf");
        if (q.migration_port_min > q.migration_port_max) {
            std::fprintf(stderr, "qemu.conf accepted an empty migration port range\n");
            std::abort();
        }
    } catch (const virtpp::error& e) {
        if (e.code() != virtpp::error_code::conf_syntax) {
            std::fprintf(stderr, "qemu.conf refused with code %d: %s\n", static_cast<int>(e.code()), e.what());
            std::abort();
        }
    }
    return 0;
}
