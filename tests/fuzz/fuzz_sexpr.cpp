// libFuzzer target for the xend S-expression reader and the domain conversion on top of it: any
// bytes either raise a virtpp::error (SEXPR_SERIAL for malformed text, the converter's own codes
// for wrong content) or parse into a value whose printed form re-parses to the same tree; a
// converted domain formats as domain XML. Never a crash, a hang or another exception.
#include <virtpp/error.hpp>
#include <virtpp/xen/sexpr.hpp>
#include <virtpp/xen/sexpr_domain.hpp>

#include "fixed_point.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

// quoting is spelling: compare trees by text only
bool same_tree(const virtpp::xen::sexpr& a, const virtpp::xen::sexpr& b) {
    if (a.is_atom() != b.is_atom()) return false;
    if (a.is_atom()) return a.text() == b.text();
    if (a.items().size() != b.items().size()) return false;
    for (std::size_t i = 0; i < a.items().size(); ++i)
        if (!same_tree(a.items()[i], b.items()[i])) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    virtpp_fuzz::silence_errors();
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto value = virtpp::xen::parse_sexpr(text);
        auto printed = virtpp::xen::format_sexpr(value);
        if (!same_tree(virtpp::xen::parse_sexpr(printed), value)) {
            std::fprintf(stderr, "printed S-expression re-parses differently: %s\n", printed.c_str());
            std::abort();
        }
    } catch (const virtpp::error& e) {
        if (e.code() != virtpp::error_code::sexpr_serial) {
            std::fprintf(stderr, "S-expression refused with code %d: %s\n", static_cast<int>(e.code()), e.what());
            std::abort();
        }
    }
    try {
        auto xml = virtpp::xen::domain_xml_from_sexpr_text(text, virtpp::xen::xend_config_version_3_0_3);
        (void)xml;
    } catch (const virtpp::error&) {
        // any libvirt error is a refusal with a message
    }
    return 0;
}
