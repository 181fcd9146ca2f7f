// The shell's own commands: help, quit/exit, connect.
#include "command_defs.hpp"
#include "help.hpp"
#include "shell.hpp"

#include <cstdio>

namespace virtpp::cli {

std::span<const command_def> command_table() { return defs::commands; }

namespace {

bool cmd_help(shell& sh, const parsed_command& cmd) {
    const given_option* o = cmd.find("command");
    if (o == nullptr || o->value.empty()) {
        sh.print(all_help(groups, command_table()));
        return true;
    }
    if (const command_def* def = find_command(command_table(), o->value)) {
        sh.print(command_help(*def));
        return true;
    }
    for (const auto& g : groups) {
        if (g.name == o->value || g.keyword == o->value) {
            sh.print(group_help(g, command_table()));
            return true;
        }
    }
    sh.error("command or command group '" + o->value + "' doesn't exist");
    return false;
}

bool cmd_quit(shell& sh, const parsed_command&) {
    sh.quit_requested = true;
    return true;
}

bool cmd_connect(shell& sh, const parsed_command& cmd) {
    std::optional<std::string> name;
    if (!sh.opt_string(cmd, "name", name)) return false;
    return sh.reconnect(name, cmd.has("readonly"), true);
}

constexpr handler_entry handlers[] = {
    {"help", cmd_help},
    {"quit", cmd_quit},
    {"exit", cmd_quit},
    {"connect", cmd_connect},
};

}  // namespace

std::span<const handler_entry> shell_handlers() { return handlers; }

}  // namespace virtpp::cli
