// The shape of a virsh command definition: its options (with virsh's option kinds) and help texts.
#pragma once

#include <span>
#include <string_view>

namespace virtpp::cli {

/// virsh's option kinds (vshCmdOptType).
enum class opt_type {
    boolean,  ///< --name, no value
    string,   ///< --name value (positional too unless required_name)
    integer,  ///< --name number (positional too unless required_name)
    data,     ///< positional or --name value
    argv,     ///< every remaining positional value
    alias,    ///< another spelling: help holds the real name, or "name=value" for a boolean alias
};

namespace opt_flag {
inline constexpr unsigned required = 1U << 0;       ///< must be given
inline constexpr unsigned required_name = 1U << 1;  ///< only as --name value, never positional
inline constexpr unsigned empty_ok = 1U << 2;       ///< an empty value is accepted
}  // namespace opt_flag

namespace cmd_flag {
inline constexpr unsigned no_connect = 1U << 0;  ///< runs without a connection (help, quit, connect)
}  // namespace cmd_flag

struct option_def {
    std::string_view name;
    opt_type type;
    unsigned flags;
    std::string_view help;
};

struct command_def {
    std::string_view name;
    std::string_view group;  ///< the group's help keyword ("domain", "network", ...)
    std::string_view help;
    std::string_view desc;
    std::span<const option_def> opts;
    unsigned flags;
};

/// A command group as `help` lists it.
struct group_def {
    std::string_view name;
    std::string_view keyword;
};

/// virsh's groups that hold virtpp's commands, in virsh's order.
inline constexpr group_def groups[] = {
    {"Domain Management", "domain"},
    {"Domain Monitoring", "monitor"},
    {"Domain Events", "events"},
    {"Host and Hypervisor", "host"},
    {"Checkpoint", "checkpoint"},
    {"Interface", "interface"},
    {"Networking", "network"},
    {"Node Device", "nodedev"},
    {"Snapshot", "snapshot"},
    {"Storage Pool", "pool"},
    {"Storage Volume", "volume"},
    {"Virsh itself", "virsh"},
};

}  // namespace virtpp::cli
