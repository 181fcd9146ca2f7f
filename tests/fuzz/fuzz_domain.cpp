// libFuzzer target: domain XML either raises a virtpp::error or reaches a fixed point of parse + format.
#include "fixed_point.hpp"

#include <virtpp/xml/domain.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return virtpp_fuzz::check_fixed_point(
        data, size, [](std::string_view text) { return virtpp::xml::parse_domain_xml(text); },
        [](const auto& def) { return virtpp::xml::format_domain_xml(def); });
}
