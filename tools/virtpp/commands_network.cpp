// Virtual network commands (virsh's "network" group).
#include "command_util.hpp"
#include "shell.hpp"
#include "table.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <strings.h>

namespace virtpp::cli {

namespace {

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

// virNetworkUpdateCommand and virNetworkUpdateSection in virsh's spelling, by their values
constexpr std::string_view update_commands[] = {"none", "modify", "delete", "add-last", "add-first"};
constexpr std::string_view update_sections[] = {"none",           "bridge",     "domain",        "ip",
                                                "ip-dhcp-host",   "ip-dhcp-range", "forward",    "forward-interface",
                                                "forward-pf",     "portgroup",  "dns-host",      "dns-txt",
                                                "dns-srv"};
constexpr unsigned update_command_add_last = 3;
// virNetworkUpdateFlags
constexpr unsigned update_affect_live = 1U << 0, update_affect_config = 1U << 1;

/// The value of `word` in `names`, or 0 ("none", which virsh refuses like an unknown word).
template <std::size_t N>
unsigned enum_value(const std::string_view (&names)[N], std::string_view word) {
    for (std::size_t i = 1; i < N; ++i)
        if (names[i] == word) return static_cast<unsigned>(i);
    return 0;
}

bool cmd_net_update(shell& sh, const parsed_command& cmd) {
    if (!exclusive_options(sh, cmd, "current", "live") || !exclusive_options(sh, cmd, "current", "config")) return false;
    const bool config = cmd.has("config"), live = cmd.has("live");
    auto net = sh.network(cmd);
    if (!net) return false;
    std::optional<std::string> command_word, section_word, xml_arg;
    if (!sh.opt_string(cmd, "command", command_word)) return false;
    // "add" is virsh's synonym for add-last
    const unsigned command = *command_word == "add" ? update_command_add_last : enum_value(update_commands, *command_word);
    if (command == 0) {
        sh.error("unrecognized command name '" + *command_word + "'");
        return false;
    }
    if (!sh.opt_string(cmd, "section", section_word)) return false;
    const unsigned section = enum_value(update_sections, *section_word);
    if (section == 0) {
        sh.error("unrecognized section name '" + *section_word + "'");
        return false;
    }
    std::optional<int> parent_index;
    if (!sh.opt_int(cmd, "parent-index", parent_index)) return false;
    if (!sh.opt_string(cmd, "xml", xml_arg)) return false;
    // the element itself when it starts with '<', else the name of a file holding it
    std::string xml = *xml_arg;
    if (xml.front() != '<' && !sh.read_file(*xml_arg, xml)) return false;
    unsigned flags = 0;
    if (config) flags |= update_affect_config;
    if (live) flags |= update_affect_live;
    const std::string name = net->name();
    if (!attempt_call(sh, [&] { net->update(command, section, parent_index.value_or(-1), xml, flags); },
                      "Failed to update network " + name))
        return false;
    bool shows_live = live && !config;
    if (!config && !live) {
        // virNetworkIsActive's -1 counts as true in virsh's test
        try {
            shows_live = net->is_active();
        } catch (const virtpp::error&) {
            shows_live = true;
        }
    }
    // virsh prints these without a newline of their own; the one after every command ends the line
    if (config && live) sh.print_extra("Updated network " + name + " persistent config and live state");
    else if (shows_live) sh.print_extra("Updated network " + name + " live state");
    else sh.print_extra("Updated network " + name + " persistent config");
    return true;
}

/// The local time of an expiry as virsh prints it (%Y-%m-%d %H:%M:%S).
std::string local_time(std::int64_t seconds) {
    const auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    if (localtime_r(&t, &tm) == nullptr) return "";
    char buf[64];
    return std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) ? std::string(buf) : std::string();
}

bool cmd_net_dhcp_leases(shell& sh, const parsed_command& cmd) {
    std::optional<std::string> mac;
    if (!sh.opt_string(cmd, "mac", mac)) return false;
    std::string name;
    auto net = sh.network(cmd, &name);
    if (!net) return false;
    std::vector<network_dhcp_lease> leases;
    if (!attempt_call(sh, [&] { leases = net->dhcp_leases(mac); }, "Failed to get leases info for " + name)) return false;
    // by MAC, ignoring case; leases without one last
    std::stable_sort(leases.begin(), leases.end(), [](const network_dhcp_lease& a, const network_dhcp_lease& b) {
        if (!a.mac || !b.mac) return a.mac.has_value() && !b.mac.has_value();
        return strcasecmp(a.mac->c_str(), b.mac->c_str()) < 0;
    });
    table t({"Expiry Time", "MAC address", "Protocol", "IP address", "Hostname", "Client ID or DUID"});
    for (const auto& l : leases) {
        const char* protocol = l.type == 0 ? "ipv4" : l.type == 1 ? "ipv6" : "-";
        t.add_row({local_time(l.expiry_time), l.mac.value_or("-"), protocol, l.ipaddr + "/" + std::to_string(l.prefix),
                   l.hostname.value_or("-"), l.clientid.value_or("-")});
    }
    sh.print(t.str(!sh.quiet));
    return true;
}

constexpr handler_entry handlers[] = {
    {"net-list", cmd_net_list},         {"net-info", cmd_net_info},       {"net-create", cmd_net_create},
    {"net-define", cmd_net_define},     {"net-undefine", cmd_net_undefine}, {"net-start", cmd_net_start},
    {"net-destroy", cmd_net_destroy},   {"net-autostart", cmd_net_autostart}, {"net-dumpxml", cmd_net_dumpxml},
    {"net-name", cmd_net_name},         {"net-uuid", cmd_net_uuid},
    {"net-update", cmd_net_update},     {"net-dhcp-leases", cmd_net_dhcp_leases},
};

}  // namespace

std::span<const handler_entry> network_handlers() { return handlers; }

}  // namespace virtpp::cli
