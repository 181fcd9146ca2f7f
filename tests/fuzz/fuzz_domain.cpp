// libFuzzer target: any input either raises a virtpp::error or parses into a definition whose
// canonical form is a fixed point of parse + format.
#include <virtpp/xml/domain.hpp>

#include <virtpp/error.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool silenced = [] {
        virtpp::set_error_handler([](const virtpp::error_info&) {});
        return true;
    }();
    (void)silenced;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string once;
    try {
        once = virtpp::xml::format_domain_xml(virtpp::xml::parse_domain_xml(text));
    } catch (const virtpp::error&) {
        return 0;  // rejected input is fine; crashing is not
    }
    try {
        const auto twice = virtpp::xml::format_domain_xml(virtpp::xml::parse_domain_xml(once));
        if (twice != once) {
            std::fprintf(stderr, "not a fixed point:\n%s\n---\n%s\n", once.c_str(), twice.c_str());
            std::abort();
        }
    } catch (const virtpp::error& e) {
        std::fprintf(stderr, "our own output was rejected: %s\n%s\n", e.what(), once.c_str());
        std::abort();
    }
    return 0;
}
