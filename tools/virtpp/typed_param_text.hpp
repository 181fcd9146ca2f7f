// A typed parameter's value as virsh prints it (vshGetTypedParamValue): schedinfo, domstats and
// the job-completed event share it.
#pragma once

#include <virtpp/types.hpp>

#include <cstdio>
#include <string>
#include <type_traits>
#include <variant>

namespace virtpp::cli {

inline std::string typed_param_text(const typed_param& p) {
    return std::visit(
        [](const auto& v) -> std::string {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, std::string>) return v;
            else if constexpr (std::is_same_v<V, bool>) return v ? "yes" : "no";
            else if constexpr (std::is_same_v<V, double>) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "%f", v);
                return buf;
            } else return std::to_string(v);
        },
        p.value);
}

}  // namespace virtpp::cli
