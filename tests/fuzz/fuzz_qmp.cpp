// libFuzzer target for the QMP reader: bytes from a QEMU monitor, split into lines as the
// monitor's reader splits them. Each line is JSON within qmp_max_depth, or refused with
// virtpp::error (internal_error) — never a crash, a deep recursion or another exception.
#include "hypervisor/qemu_monitor.hpp"

#include "fixed_point.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

namespace {

/// How deep a parsed value nests (iteratively: the check must not recurse either).
std::size_t depth_of(const boost::json::value& root) {
    std::vector<std::pair<const boost::json::value*, std::size_t>> todo{{&root, 1}};
    std::size_t deepest = 0;
    while (!todo.empty()) {
        auto [v, d] = todo.back();
        todo.pop_back();
        deepest = std::max(deepest, d);
        if (v->is_object())
            for (const auto& kv : v->as_object()) todo.emplace_back(&kv.value(), d + 1);
        else if (v->is_array())
            for (const auto& item : v->as_array()) todo.emplace_back(&item, d + 1);
    }
    return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    virtpp_fuzz::silence_errors();
    std::string_view text(reinterpret_cast<const char*>(data), size);
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) continue;
        try {
            auto v = virtpp::hypervisor::qemu_detail::parse_qmp_line(line);
            if (depth_of(v) > virtpp::hypervisor::qemu_detail::qmp_max_depth + 1) {
                std::fprintf(stderr, "QMP value deeper than the limit was accepted\n");
                std::abort();
            }
        } catch (const virtpp::error& e) {
            if (e.code() != virtpp::error_code::internal_error) {
                std::fprintf(stderr, "QMP line refused with code %d: %s\n", static_cast<int>(e.code()), e.what());
                std::abort();
            }
        }
    }
    return 0;
}
