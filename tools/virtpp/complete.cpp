// virsh's hidden `complete` command, which bash completion runs (`virsh complete -- WORDS...`):
// the candidates for the last word, one a line, then an empty line, as virsh 9.0 prints them.
#include "complete.hpp"

#include "shell.hpp"

#include <virtpp/any.hpp>
#include <virtpp/ops.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace virtpp::cli {

namespace {

enum class domain_filter { all, active, inactive, paused, persistent };
enum class network_filter { all, active, inactive, persistent };

/// Which domains virsh's completer offers for a command's domain (virshDomainNameCompleter's
/// flags in virsh 9.0's command tables).
domain_filter domains_for(std::string_view command) {
    static constexpr std::string_view active[] = {"destroy", "shutdown", "reboot", "reset", "suspend", "save", "dump",
                                                  "migrate", "console", "domjobabort", "domjobinfo", "domdisplay",
                                                  "screenshot", "send-key", "managedsave", "domtime"};
    if (command == "start") return domain_filter::inactive;
    if (command == "resume") return domain_filter::paused;
    if (command == "undefine" || command == "autostart") return domain_filter::persistent;
    if (std::find(std::begin(active), std::end(active), command) != std::end(active)) return domain_filter::active;
    return domain_filter::all;
}

network_filter networks_for(std::string_view command) {
    if (command == "net-start") return network_filter::inactive;
    if (command == "net-destroy") return network_filter::active;
    if (command == "net-undefine" || command == "net-autostart") return network_filter::persistent;
    return network_filter::all;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

/// The values of one option (its completer in virsh), those starting with `prefix`.
std::vector<std::string> complete_value(shell& sh, const command_def& cmd, const option_def& opt, const std::string& prefix) {
    std::vector<std::string> out;
    auto offer = [&](std::string candidate) {
        if (starts_with(candidate, prefix)) out.push_back(std::move(candidate));
    };
    if (cmd.name == "help" && opt.name == "command") {
        for (const auto& c : command_table()) offer(std::string(c.name));
        return out;
    }
    if ((cmd.name == "shutdown" || cmd.name == "reboot") && opt.name == "mode") {
        for (const char* mode : {"acpi", "agent", "initctl", "signal", "paravirt"}) offer(mode);
        return out;
    }
    if (cmd.name == "pool-list" && opt.name == "type") {
        // virshPoolTypeCompleter: the pool types virsh knows, in its order
        for (const char* type : {"dir", "fs", "netfs", "logical", "disk", "iscsi", "iscsi-direct", "scsi", "mpath",
                                 "rbd", "sheepdog", "gluster", "zfs", "vstorage"})
            offer(type);
        return out;
    }
    if (cmd.name == "nodedev-list" && opt.name == "cap") {
        // virshNodeDeviceCapabilityNameCompleter: virNodeDevCapType's names
        for (const char* cap : {"system", "pci", "usb_device", "usb", "net", "scsi_host", "scsi_target", "scsi",
                                "storage", "fc_host", "vports", "scsi_generic", "drm", "mdev_types", "mdev", "ccw",
                                "css", "vdpa", "ap_card", "ap_queue", "ap_matrix", "vpd"})
            offer(cap);
        return out;
    }
    const bool pool = opt.name == "pool";
    const bool iface = opt.name == "interface" && cmd.name.starts_with("iface-");
    const bool nodedev = opt.name == "device" && cmd.name.starts_with("nodedev-");
    if (pool || iface || nodedev) {
        try {
            any_connection* c = sh.connection();
            if (c == nullptr) return out;
            if (pool) {
                for (const auto& p : c->call<op::connect_list_all_storage_pools>({0})) offer(p.name);
            } else if (iface) {
                // iface-name takes a MAC address (virshInterfaceMacCompleter), the others a name
                for (const auto& i : c->call<op::connect_list_all_interfaces>({0})) offer(cmd.name == "iface-name" ? i.mac : i.name);
            } else {
                for (const auto& d : c->call<op::connect_list_all_node_devices>({0})) offer(d.name);
            }
        } catch (const virtpp::error&) {
            sh.reset_last_error();  // completion offers nothing rather than an error
        }
        return out;
    }
    const bool domain = opt.name == "domain" && opt.type == opt_type::data;
    const bool network = opt.name == "network" && opt.type == opt_type::data;
    if (!domain && !network) return out;
    try {
        any_connection* c = sh.connection();
        if (c == nullptr) return out;
        if (domain) {
            auto filter = domains_for(cmd.name);
            for (const auto& d : c->list_all_domains()) {
                bool take = true;
                switch (filter) {
                case domain_filter::all: break;
                case domain_filter::active: take = d.is_active(); break;
                case domain_filter::inactive: take = !d.is_active(); break;
                case domain_filter::paused: take = d.info().state == domain_state::paused; break;
                case domain_filter::persistent: take = d.is_persistent(); break;
                }
                if (take) offer(d.name());
            }
        } else {
            auto filter = networks_for(cmd.name);
            for (const auto& n : c->list_all_networks()) {
                bool take = true;
                switch (filter) {
                case network_filter::all: break;
                case network_filter::active: take = n.is_active(); break;
                case network_filter::inactive: take = !n.is_active(); break;
                case network_filter::persistent: take = n.is_persistent(); break;
                }
                if (take) offer(n.name());
            }
        }
    } catch (const virtpp::error&) {
        sh.reset_last_error();  // completion offers nothing rather than an error
    }
    return out;
}

}  // namespace

std::vector<std::string> complete_words(shell& sh, const std::vector<std::string>& words) {
    const std::string current = words.empty() ? std::string() : words.back();
    std::vector<std::string> out;
    const command_def* cmd = words.size() >= 2 ? find_command(command_table(), words[0]) : nullptr;
    if (cmd == nullptr) {
        // the command itself (an unknown command word: virsh offers the commands again)
        for (const auto& c : command_table())
            if (starts_with(c.name, current)) out.emplace_back(c.name);
        return out;
    }

    // what the finished words gave: options seen, positional options filled, a pending value
    std::uint64_t given = 0;
    const option_def* pending = nullptr;
    bool data_only = false;
    auto index_of = [&](std::string name) -> int {
        for (int hops = 0; hops < 4; ++hops) {
            bool again = false;
            for (std::size_t i = 0; i < cmd->opts.size(); ++i) {
                const auto& o = cmd->opts[i];
                if (o.name != name) continue;
                if (o.type != opt_type::alias) return static_cast<int>(i);
                std::string target(o.help);
                name = target.substr(0, target.find('='));
                again = true;
                break;
            }
            if (!again) break;
        }
        return -1;
    };
    auto next_positional = [&]() -> int {
        for (std::size_t i = 0; i < cmd->opts.size(); ++i) {
            const auto& o = cmd->opts[i];
            if (o.type == opt_type::boolean || o.type == opt_type::alias || (o.flags & opt_flag::required_name) != 0) continue;
            if ((given & (1ULL << i)) != 0 && o.type != opt_type::argv) continue;
            return static_cast<int>(i);
        }
        return -1;
    };
    for (std::size_t w = 1; w + 1 < words.size(); ++w) {
        const std::string& word = words[w];
        if (pending != nullptr) {
            pending = nullptr;
            continue;
        }
        if (!data_only && word == "--") {
            data_only = true;
        } else if (!data_only && starts_with(word, "--") && word.size() > 2) {
            std::string name = word.substr(2);
            bool inline_value = name.find('=') != std::string::npos;
            name.resize(std::min(name.size(), name.find('=')));
            int i = index_of(name);
            if (i < 0) continue;
            given |= 1ULL << i;
            const auto& o = cmd->opts[static_cast<std::size_t>(i)];
            if (o.type != opt_type::boolean && !inline_value) pending = &o;
        } else if (int i = next_positional(); i >= 0) {
            given |= 1ULL << i;
        }
    }

    if (pending != nullptr) return complete_value(sh, *cmd, *pending, current);
    if (!data_only && starts_with(current, "-")) {
        // an option name typed in full that takes a value: its value comes next, nothing to offer
        if (starts_with(current, "--"))
            if (int i = index_of(current.substr(2)); i >= 0 && cmd->opts[static_cast<std::size_t>(i)].type != opt_type::boolean)
                return out;
    }
    if (current.empty() || (!data_only && starts_with(current, "-"))) {
        for (std::size_t i = 0; i < cmd->opts.size(); ++i) {
            const auto& o = cmd->opts[i];
            if (o.type == opt_type::alias || ((given & (1ULL << i)) != 0 && o.type != opt_type::argv)) continue;
            std::string name = "--" + std::string(o.name);
            if (starts_with(name, current)) out.push_back(std::move(name));
        }
        return out;
    }
    if (int i = next_positional(); i >= 0) return complete_value(sh, *cmd, cmd->opts[static_cast<std::size_t>(i)], current);
    return out;
}

}  // namespace virtpp::cli
