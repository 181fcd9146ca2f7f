// libFuzzer target: network XML either raises a virtpp::error or reaches a fixed point of parse + format.
#include "fixed_point.hpp"

#include <virtpp/xml/network.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return virtpp_fuzz::check_fixed_point(
        data, size, [](std::string_view text) { return virtpp::xml::parse_network_xml(text); },
        [](const auto& def) { return virtpp::xml::format_network_xml(def); });
}
