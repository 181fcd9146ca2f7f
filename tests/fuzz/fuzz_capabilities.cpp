// libFuzzer target: any bytes either raise a virtpp::error or parse into capabilities whose canonical
// form is a fixed point (format, re-parse, format again gives the same bytes and the same struct).
#include <virtpp/error.hpp>
#include <virtpp/xml/capabilities.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool silenced = [] {
        virtpp::set_error_handler([](const virtpp::error_info&) {});
        return true;
    }();
    (void)silenced;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    virtpp::xml::capabilities caps;
    try {
        caps = virtpp::xml::parse_capabilities_xml(input);
    } catch (const virtpp::error&) {
        return 0;  // rejected with a libvirt error: fine
    }
    auto once = virtpp::xml::format_capabilities_xml(caps);
    try {
        auto again = virtpp::xml::parse_capabilities_xml(once);
        if (virtpp::xml::format_capabilities_xml(again) != once) std::abort();
        if (!(virtpp::xml::parse_capabilities_xml(virtpp::xml::format_capabilities_xml(again)) == again)) std::abort();
    } catch (const virtpp::error&) {
        std::abort();  // our own output must always parse
    }
    return 0;
}
