// libFuzzer target for xm configuration files (the Python-syntax files in /etc/xen): any text is
// either read or refused with CONF_SYNTAX naming the file and line; what is read formats back to
// text that reads to the same settings, and converting it to a domain either works or raises a
// libvirt error. Never a crash, a hang or another exception.
#include <virtpp/error.hpp>
#include <virtpp/xen/sexpr_domain.hpp>
#include <virtpp/xen/xm_config.hpp>

#include "fixed_point.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    virtpp_fuzz::silence_errors();
    std::string_view text(reinterpret_cast<const char*>(data), size);
    virtpp::xen::xm_config config;
    try {
        config = virtpp::xen::parse_xm_config(text, "fuzz.cfg");
    } catch (const virtpp::error& e) {
        if (e.code() != virtpp::error_code::conf_syntax ||
            std::string_view(e.what()).find("fuzz.cfg") == std::string_view::npos) {
            std::fprintf(stderr, "xm config refused without CONF_SYNTAX naming the file: %s\n", e.what());
            std::abort();
        }
        return 0;
    }
    {
        auto printed = virtpp::xen::format_xm_config(config);
        try {
            if (virtpp::xen::parse_xm_config(printed, "printed.cfg") != config) {
                std::fprintf(stderr, "printed config reads back differently:\n%s\n", printed.c_str());
                std::abort();
            }
        } catch (const virtpp::error& e) {
            std::fprintf(stderr, "printed config does not read back: %s\n%s\n", e.what(), printed.c_str());
            std::abort();
        }
    }
    try {
        auto def = virtpp::xen::domain_from_xm_config(config, virtpp::xen::xend_config_version_3_0_3);
        (void)virtpp::xml::format_domain_xml(def);
    } catch (const virtpp::error&) {
        // a refusal with libvirt's code and a message
    }
    return 0;
}
