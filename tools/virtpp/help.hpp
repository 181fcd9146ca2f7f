// virsh's help texts: the command page (NAME / SYNOPSIS / DESCRIPTION / OPTIONS), a group's
// command list and the grouped list of every command.
#pragma once

#include "command_def.hpp"

#include <cstdio>
#include <span>
#include <string>
#include <string_view>

namespace virtpp::cli {

namespace detail {
inline std::string padded(std::string_view s, std::size_t width) {
    std::string out(s);
    if (out.size() < width) out.append(width - out.size(), ' ');
    return out;
}
}  // namespace detail

/// `help <command>` (vshCmddefHelp).
[[nodiscard]] inline std::string command_help(const command_def& def) {
    std::string out = "  NAME\n    " + std::string(def.name) + " - " + std::string(def.help) + "\n";
    out += "\n  SYNOPSIS\n    " + std::string(def.name);
    bool positional_words = false;  // whether '<value>' may stand for '--opt <value>'
    for (const auto& o : def.opts) {
        const std::string n(o.name);
        const bool req = (o.flags & opt_flag::required) != 0;
        const bool by_position = (o.flags & opt_flag::required_name) == 0;
        std::string s;
        switch (o.type) {
        case opt_type::boolean: s = "[--" + n + "]"; break;
        case opt_type::integer:
            s = req ? "<" + n + ">" : "[--" + n + " <number>]";
            if (by_position) positional_words = true;
            break;
        case opt_type::string:
            s = "[--" + n + " <string>]";
            if (by_position) positional_words = true;
            break;
        case opt_type::data:
            s = req ? "<" + n + ">" : "[<" + n + ">]";
            if (by_position) positional_words = true;
            break;
        case opt_type::argv:
            if (positional_words)
                s = req ? "{[--" + n + "] <string>}..." : "[[--" + n + "] <string>]...";
            else
                s = req ? "<" + n + ">..." : "[<" + n + ">]...";
            break;
        case opt_type::alias: continue;
        }
        out += ' ' + s;
    }
    out += '\n';
    if (!def.desc.empty()) out += "\n  DESCRIPTION\n    " + std::string(def.desc) + "\n";
    if (!def.opts.empty()) {
        out += "\n  OPTIONS\n";
        for (const auto& o : def.opts) {
            const std::string n(o.name);
            std::string s;
            switch (o.type) {
            case opt_type::boolean: s = "--" + n; break;
            case opt_type::integer:
                s = (o.flags & opt_flag::required) != 0 ? "[--" + n + "] <number>" : "--" + n + " <number>";
                break;
            case opt_type::string: s = "--" + n + " <string>"; break;
            case opt_type::data: s = "[--" + n + "] <string>"; break;
            case opt_type::argv: s = positional_words ? "[--" + n + "] <string>" : "<" + n + ">"; break;
            case opt_type::alias: continue;
            }
            out += "    " + detail::padded(s, 15) + "  " + std::string(o.help) + "\n";
        }
    }
    out += '\n';
    return out;
}

/// One "    name    help" line of a command list.
[[nodiscard]] inline std::string command_list_line(const command_def& def) {
    return "    " + detail::padded(def.name, 30) + " " + std::string(def.help) + "\n";
}

/// `help <group>` (vshCmdGrpHelp).
[[nodiscard]] inline std::string group_help(const group_def& group, std::span<const command_def> table) {
    std::string out = " " + std::string(group.name) + " (help keyword '" + std::string(group.keyword) + "'):\n";
    for (const auto& c : table)
        if (c.group == group.keyword) out += command_list_line(c);
    return out;
}

/// `help` without argument: every group.
[[nodiscard]] inline std::string all_help(std::span<const group_def> groups, std::span<const command_def> table) {
    std::string out = "Grouped commands:\n\n";
    for (const auto& g : groups) out += group_help(g, table) + "\n";
    return out;
}

}  // namespace virtpp::cli
