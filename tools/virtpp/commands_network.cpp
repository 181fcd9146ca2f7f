// Virtual network commands (virsh's "network" group).
#include "command_util.hpp"
#include "shell.hpp"
#include "table.hpp"

#include <algorithm>
#include <cstdio>
#include <strings.h>

namespace virtpp::cli {

namespace {

std::string field(std::string_view label, std::string_view value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%-15s ", std::string(label).c_str());
    return buf + std::string(value) + "\n";
}

bool cmd_net_list(shell& sh, const parsed_command& cmd) {
    unsigned flags = network_list_flags::active;
    if (cmd.has("inactive")) flags = network_list_flags::inactive;
    if (cmd.has("all")) flags = network_list_flags::active | network_list_flags::inactive;
    if (cmd.has("persistent")) flags |= network_list_flags::persistent;
    if (cmd.has("transient")) flags |= network_list_flags::transient;
    if (cmd.has("autostart")) flags |= network_list_flags::autostart;
    if (cmd.has("no-autostart")) flags |= network_list_flags::no_autostart;
    const bool by_name = cmd.has("name"), by_uuid = cmd.has("uuid");
    bool as_table = cmd.has("table");
    if (int(as_table) + int(by_name) + int(by_uuid) > 1) {
        sh.error("Only one argument from --table, --name and --uuid may be specified.");
        return false;
    }
    if (!by_uuid && !by_name) as_table = true;
    auto nets = sh.connection()->list_all_networks(flags);
    std::stable_sort(nets.begin(), nets.end(), [](const any_network& a, const any_network& b) {
        return strcasecmp(a.name().c_str(), b.name().c_str()) < 0;
    });
    table t({"Name", "State", "Autostart", "Persistent"});
    for (const auto& n : nets) {
        if (as_table) {
            std::string autostart;
            try {
                autostart = n.autostart() ? "yes" : "no";
            } catch (const virtpp::error&) {
                autostart = "no autostart";
            }
            t.add_row({n.name(), n.is_active() ? "active" : "inactive", autostart, n.is_persistent() ? "yes" : "no"});
        } else if (by_uuid) {
            sh.print(n.uuid_string() + "\n");
        } else {
            sh.print(n.name() + "\n");
        }
    }
    if (as_table) sh.print(t.str(!sh.quiet));
    return true;
}

bool cmd_net_info(shell& sh, const parsed_command& cmd) {
    auto net = sh.network(cmd);
    if (!net) return false;
    sh.print(field("Name:", net->name()));
    sh.print(field("UUID:", net->uuid_string()));
    try {
        sh.print(field("Active:", net->is_active() ? "yes" : "no"));
    } catch (const virtpp::error&) {
    }
    try {
        sh.print(field("Persistent:", net->is_persistent() ? "yes" : "no"));
    } catch (const virtpp::error&) {
        sh.print(field("Persistent:", "unknown"));
    }
    try {
        sh.print(field("Autostart:", net->autostart() ? "yes" : "no"));
    } catch (const virtpp::error&) {
        sh.print(field("Autostart:", "no autostart"));
    }
    try {
        sh.print(field("Bridge:", net->bridge_name()));
    } catch (const virtpp::error&) {
    }
    return true;
}

bool cmd_net_create(shell& sh, const parsed_command& cmd) {
    std::optional<std::string> from;
    if (!sh.opt_string(cmd, "file", from)) return false;
    std::string xml;
    if (!sh.read_file(*from, xml)) return false;
    std::optional<any_network> net;
    if (!attempt_call(sh, [&] { net = sh.connection()->create_network_xml(xml); }, "Failed to create network from " + *from))
        return false;
    sh.print_extra("Network " + net->name() + " created from " + *from + "\n");
    return true;
}

bool cmd_net_define(shell& sh, const parsed_command& cmd) {
    std::optional<std::string> from;
    if (!sh.opt_string(cmd, "file", from)) return false;
    std::string xml;
    if (!sh.read_file(*from, xml)) return false;
    std::optional<any_network> net;
    if (!attempt_call(sh, [&] { net = sh.connection()->define_network_xml(xml); }, "Failed to define network from " + *from))
        return false;
    sh.print_extra("Network " + net->name() + " defined from " + *from + "\n");
    return true;
}

bool cmd_net_undefine(shell& sh, const parsed_command& cmd) {
    std::string name;
    auto net = sh.network(cmd, &name);
    if (!net) return false;
    if (!attempt_call(sh, [&] { net->undefine(); }, "Failed to undefine network " + name)) return false;
    sh.print_extra("Network " + name + " has been undefined\n");
    return true;
}

bool cmd_net_start(shell& sh, const parsed_command& cmd) {
    std::string name;
    auto net = sh.network(cmd, &name, true, true);
    if (!net) return false;
    if (!attempt_call(sh, [&] { net->create(); }, "Failed to start network " + name)) return false;
    sh.print_extra("Network " + name + " started\n");
    return true;
}

bool cmd_net_destroy(shell& sh, const parsed_command& cmd) {
    std::string name;
    auto net = sh.network(cmd, &name);
    if (!net) return false;
    if (!attempt_call(sh, [&] { net->destroy(); }, "Failed to destroy network " + name)) return false;
    sh.print_extra("Network " + name + " destroyed\n");
    return true;
}

bool cmd_net_autostart(shell& sh, const parsed_command& cmd) {
    std::string name;
    auto net = sh.network(cmd, &name);
    if (!net) return false;
    const bool on = !cmd.has("disable");
    if (!attempt_call(sh, [&] { net->set_autostart(on); },
                 on ? "failed to mark network " + name + " as autostarted"
                    : "failed to unmark network " + name + " as autostarted"))
        return false;
    sh.print_extra(on ? "Network " + name + " marked as autostarted\n" : "Network " + name + " unmarked as autostarted\n");
    return true;
}

bool cmd_net_dumpxml(shell& sh, const parsed_command& cmd) {
    auto net = sh.network(cmd);
    if (!net) return false;
    if (cmd.has("xpath")) {
        sh.error("--xpath is not supported by virtpp");
        return false;
    }
    sh.print(net->xml_desc(cmd.has("inactive") ? 1U : 0U));
    return true;
}

bool cmd_net_name(shell& sh, const parsed_command& cmd) {
    auto net = sh.network(cmd, nullptr, true, false);
    if (!net) return false;
    sh.print(net->name() + "\n");
    return true;
}

bool cmd_net_uuid(shell& sh, const parsed_command& cmd) {
    auto net = sh.network(cmd, nullptr, false, true);
    if (!net) return false;
    sh.print(net->uuid_string() + "\n");
    return true;
}

constexpr handler_entry handlers[] = {
    {"net-list", cmd_net_list},         {"net-info", cmd_net_info},       {"net-create", cmd_net_create},
    {"net-define", cmd_net_define},     {"net-undefine", cmd_net_undefine}, {"net-start", cmd_net_start},
    {"net-destroy", cmd_net_destroy},   {"net-autostart", cmd_net_autostart}, {"net-dumpxml", cmd_net_dumpxml},
    {"net-name", cmd_net_name},         {"net-uuid", cmd_net_uuid},
};

}  // namespace

std::span<const handler_entry> network_handlers() { return handlers; }

}  // namespace virtpp::cli
