// How virsh names domain states and their reasons.
#pragma once

#include <virtpp/types.hpp>

#include <array>
#include <string_view>

namespace virtpp::cli {

[[nodiscard]] inline std::string_view state_name(domain_state s) {
    static constexpr std::array<std::string_view, 8> names = {"no state", "running", "idle", "paused",
                                                               "in shutdown", "shut off", "crashed", "pmsuspended"};
    auto i = static_cast<std::size_t>(s);
    return i < names.size() ? names[i] : "no state";
}

[[nodiscard]] inline std::string_view state_reason_name(domain_state s, int reason) {
    static constexpr std::string_view running[] = {"unknown", "booted", "migrated", "restored", "from snapshot",
                                                   "unpaused", "migration canceled", "save canceled", "event wakeup",
                                                   "crashed", "post-copy", "post-copy failed"};
    static constexpr std::string_view paused[] = {"unknown", "user", "migrating", "saving", "dumping",
                                                  "I/O error", "watchdog", "from snapshot", "shutting down",
                                                  "creating snapshot", "crashed", "starting up", "post-copy",
                                                  "post-copy failed"};
    static constexpr std::string_view shutdown[] = {"unknown", "user"};
    static constexpr std::string_view shutoff[] = {"unknown", "shutdown", "destroyed", "crashed", "migrated",
                                                   "saved", "failed", "from snapshot", "daemon"};
    static constexpr std::string_view crashed[] = {"unknown", "panicked"};
    static constexpr std::string_view unknown_only[] = {"unknown"};
    auto pick = [reason](auto& table) -> std::string_view {
        if (reason < 0 || static_cast<std::size_t>(reason) >= std::size(table)) return "unknown";
        return table[reason];
    };
    switch (s) {
    case domain_state::running: return pick(running);
    case domain_state::paused: return pick(paused);
    case domain_state::shutdown: return pick(shutdown);
    case domain_state::shutoff: return pick(shutoff);
    case domain_state::crashed: return pick(crashed);
    default: return pick(unknown_only);
    }
}

}  // namespace virtpp::cli
