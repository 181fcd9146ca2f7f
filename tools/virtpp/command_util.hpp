// Checks and call wrappers the command families share: virsh's VSH_EXCLUSIVE_OPTIONS,
// VSH_REQUIRE_OPTION, and "run the API call, on failure print the command's context line".
#pragma once

#include "shell.hpp"

#include <cstdint>
#include <cstdio>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::cli {

/// VSH_EXCLUSIVE_OPTIONS: false (after virsh's message) when both are given.
inline bool exclusive_options(shell& sh, const parsed_command& cmd, std::string_view a, std::string_view b) {
    if (cmd.has(a) && cmd.has(b)) {
        sh.error("Options --" + std::string(a) + " and --" + std::string(b) + " are mutually exclusive");
        return false;
    }
    return true;
}

/// VSH_REQUIRE_OPTION: `option` needs `required`.
inline bool require_option(shell& sh, const parsed_command& cmd, std::string_view option, std::string_view required) {
    if (cmd.has(option) && !cmd.has(required)) {
        sh.error("Option --" + std::string(required) + " is required by option --" + std::string(option));
        return false;
    }
    return true;
}

/// Runs an API call; on failure prints the context line (the library's error follows it).
template <class F>
bool attempt_call(shell& sh, F&& f, const std::string& context) {
    try {
        f();
        return true;
    } catch (const virtpp::error&) {
        if (!context.empty()) sh.error(context);
        return false;
    }
}

/// virsh's simple domain commands: look the domain up, act on it, and report as virsh does —
/// "Failed to <verb> domain 'NAME'" before the library's error, or "Domain 'NAME' <done>".
template <class Act>
bool domain_action(shell& sh, const parsed_command& cmd, std::string_view verb, std::string_view done, Act&& act) {
    std::string name;
    auto dom = sh.domain(cmd, &name);
    if (!dom) return false;
    if (!attempt_call(sh, [&] { act(*dom); }, "Failed to " + std::string(verb) + " domain '" + name + "'")) return false;
    sh.print_extra("Domain '" + name + "' " + std::string(done) + "\n");
    return true;
}

/// virsh's choice between the flag-less API (libvirt applies it to the live domain) and the
/// *Flags variant: the flags as given, or live when none was asked for.
[[nodiscard]] inline unsigned hotplug_flags(unsigned flags, bool current) {
    return flags != 0 || current ? flags : affect::live;
}

/// virshNodeGetCPUCount: the host's CPU count from its CPU map, else from nodeinfo; nullopt (the
/// error reported) when neither answers.
[[nodiscard]] inline std::optional<int> host_cpu_count(shell& sh) {
    try {
        return static_cast<int>(sh.connection()->call<op::node_get_cpu_map>({}).size());
    } catch (const virtpp::error&) {
        sh.reset_last_error();
    }
    try {
        return static_cast<int>(sh.connection()->node_info().cpus);
    } catch (const virtpp::error&) {
        return std::nullopt;
    }
}

/// virBitmapDataFormat: "0-3,5" for the set bits (vcpupin's and vcpuinfo --pretty's CPU lists).
[[nodiscard]] inline std::string format_cpus(const std::vector<bool>& map) {
    std::string s;
    std::size_t i = 0;
    while (i < map.size()) {
        if (!map[i]) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j + 1 < map.size() && map[j + 1]) ++j;
        if (!s.empty()) s += ',';
        s += std::to_string(i);
        if (j > i) s += '-' + std::to_string(j);
        i = j + 1;
    }
    return s;
}

/// vshStringToArray: comma-separated words, ",," standing for a literal comma.
inline std::vector<std::string> comma_words(const std::string& s) {
    std::vector<std::string> out(1);
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == ',') {
            if (i + 1 < s.size() && s[i + 1] == ',') {
                out.back() += ',';
                ++i;
            } else {
                out.emplace_back();
            }
        } else {
            out.back() += s[i];
        }
    }
    return out;
}

/// virsh's "Label:         value" line: the label padded to 15 columns and a space.
inline std::string field(std::string_view label, std::string_view value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%-15s ", std::string(label).c_str());
    return buf + std::string(value) + "\n";
}

/// vshPrettyCapacity: the value in the largest binary unit that keeps it under 1024, and that
/// unit's name; each command prints it with its own precision.
struct scaled_capacity {
    double value = 0;
    const char* unit = "B";
};
inline scaled_capacity pretty_capacity(std::uint64_t bytes) {
    static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double limit = 1024;
    std::size_t u = 0;
    while (u + 1 < std::size(units) && static_cast<double>(bytes) >= limit) {
        limit *= 1024;
        ++u;
    }
    return {static_cast<double>(bytes) / (limit / 1024), units[u]};
}

}  // namespace virtpp::cli
