// Domain monitoring commands (virsh's "monitor" group) and vcpuinfo.
#include "command_util.hpp"
#include "domain_strings.hpp"
#include "shell.hpp"
#include "table.hpp"

#include <algorithm>
#include <cstdio>
#include <strings.h>

namespace virtpp::cli {

namespace {

std::string seconds(std::uint64_t ns) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ns) / 1000000000.0);
    return buf;
}

bool cmd_list(shell& sh, const parsed_command& cmd) {
    unsigned flags = list_flags::active;
    if (cmd.has("inactive") || cmd.has("state-shutoff")) flags = list_flags::inactive;
    if (cmd.has("all")) flags = list_flags::inactive | list_flags::active;
    const std::pair<std::string_view, unsigned> filters[] = {
        {"persistent", list_flags::persistent}, {"transient", list_flags::transient},
        {"with-managed-save", list_flags::managedsave}, {"without-managed-save", list_flags::no_managedsave},
        {"autostart", list_flags::autostart}, {"no-autostart", list_flags::no_autostart},
        {"with-snapshot", list_flags::has_snapshot}, {"without-snapshot", list_flags::no_snapshot},
        {"with-checkpoint", 1U << 14}, {"without-checkpoint", 1U << 15},
        {"state-running", list_flags::running}, {"state-paused", list_flags::paused},
        {"state-shutoff", list_flags::shutoff}, {"state-other", list_flags::other},
    };
    for (const auto& [name, bit] : filters)
        if (cmd.has(name)) flags |= bit;
    for (std::string_view other : {"name", "uuid", "id"})
        if (cmd.has("table") && cmd.has(other)) {
            sh.error("Options --table and --" + std::string(other) + " are mutually exclusive");
            return false;
        }
    const bool by_uuid = cmd.has("uuid"), by_name = cmd.has("name"), by_id = cmd.has("id");
    const bool as_table = cmd.has("table") || (!by_uuid && !by_name && !by_id);
    if (cmd.has("title")) {
        sh.error("--title is not supported by virtpp");
        return false;
    }
    auto domains = sh.connection()->list_all_domains(flags);
    std::stable_sort(domains.begin(), domains.end(), [](const any_domain& a, const any_domain& b) {
        const bool ia = a.id() < 0, ib = b.id() < 0;
        if (ia && ib) return strcasecmp(a.name().c_str(), b.name().c_str()) < 0;
        if (!ia && !ib) return a.id() < b.id();
        return !ia;
    });
    table t({"Id", "Name", "State"});
    for (const auto& d : domains) {
        const std::string id = d.id() < 0 ? "-" : std::to_string(d.id());
        if (as_table) {
            domain_state st{};
            try {
                st = d.state().state;
            } catch (const virtpp::error&) {
                continue;  // gone in the meantime
            }
            std::string state(state_name(st));
            if (cmd.has("managed-save") && st == domain_state::shutoff && d.has_managed_save_image()) state = "saved";
            t.add_row({id, d.name(), state});
            continue;
        }
        std::string line, sep;
        if (by_uuid) {
            line += d.uuid_string();
            sep = " ";
        }
        if (by_id) {
            if (d.id() < 0 && !by_uuid && !by_name) continue;
            line += sep + id;
            sep = " ";
        }
        if (by_name) line += sep + d.name();
        sh.print(line + "\n");
    }
    if (as_table) sh.print(t.str(!sh.quiet));
    return true;
}

bool cmd_dominfo(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    bool ret = true;
    sh.print(field("Id:", dom->id() < 0 ? "-" : std::to_string(dom->id())));
    sh.print(field("Name:", dom->name()));
    sh.print(field("UUID:", dom->uuid_string()));
    try {
        sh.print(field("OS Type:", dom->os_type()));
    } catch (const virtpp::error&) {
    }
    try {
        domain_info info = dom->info();
        sh.print(field("State:", state_name(info.state)));
        sh.print(field("CPU(s):", std::to_string(info.vcpus)));
        if (info.cpu_time_ns != 0) sh.print(field("CPU time:", seconds(info.cpu_time_ns)));
        sh.print(field("Max memory:", info.max_memory_kib == 0xFFFFFFFFULL ? std::string("no limit")
                                                                            : std::to_string(info.max_memory_kib) + " KiB"));
        sh.print(field("Used memory:", std::to_string(info.memory_kib) + " KiB"));
    } catch (const virtpp::error&) {
        ret = false;
    }
    int persistent = -1;
    try {
        persistent = dom->is_persistent() ? 1 : 0;
    } catch (const virtpp::error&) {
    }
    sh.debug(shell::debug_debug, "Domain persistent flag value: " + std::to_string(persistent) + "\n");
    sh.print(field("Persistent:", persistent < 0 ? "unknown" : persistent != 0 ? "yes" : "no"));
    try {
        sh.print(field("Autostart:", dom->autostart() ? "enable" : "disable"));
    } catch (const virtpp::error&) {
    }
    try {
        sh.print(field("Managed save:", dom->has_managed_save_image() ? "yes" : "no"));
    } catch (const virtpp::error&) {
        sh.print(field("Managed save:", "unknown"));
    }
    try {
        security_model model = sh.connection()->call<op::node_get_security_model>({});
        if (!model.model.empty()) {
            sh.print(field("Security model:", model.model));
            sh.print(field("Security DOI:", model.doi));
            security_label label = dom->security_label();
            if (!label.label.empty())
                sh.print(field("Security label:", label.label + (label.enforcing ? " (enforcing)" : " (permissive)")));
        }
    } catch (const virtpp::error& e) {
        if (e.code() != error_code::no_support) return false;
        sh.reset_last_error();
    }
    try {
        auto messages = dom->call<op::domain_get_messages>({dom->ref(), 0});
        for (std::size_t i = 0; i < messages.size(); ++i) sh.print(field(i == 0 ? "Messages:" : "", messages[i]));
    } catch (const virtpp::error&) {
    }
    return ret;
}

bool cmd_domstate(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    domain_state_info st = dom->state();
    if (cmd.has("reason"))
        sh.print(std::string(state_name(st.state)) + " (" + std::string(state_reason_name(st.state, st.reason)) + ")\n");
    else
        sh.print(std::string(state_name(st.state)) + "\n");
    return true;
}

bool cmd_vcpuinfo(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    const bool pretty = cmd.has("pretty");
    // virsh shows as many host CPUs as virshNodeGetCPUCount says, whatever the driver's map holds
    auto maxcpu = host_cpu_count(sh);
    if (!maxcpu) return false;
    auto vcpus = dom->vcpus();
    auto affinity = [&](std::vector<bool> map) {
        map.resize(static_cast<std::size_t>(*maxcpu), false);
        std::string s;
        if (pretty) {
            s = format_cpus(map) + " (out of " + std::to_string(map.size()) + ")";
        } else {
            for (bool b : map) s += b ? 'y' : '-';
        }
        return field("CPU Affinity:", s);
    };
    static constexpr std::string_view vcpu_states[] = {"offline", "running", "blocked"};
    for (std::size_t n = 0; n < vcpus.size(); ++n) {
        const auto& v = vcpus[n];
        sh.print(field("VCPU:", std::to_string(v.number)));
        sh.print(field("CPU:", std::to_string(v.cpu)));
        sh.print(field("State:", v.state >= 0 && v.state < 3 ? vcpu_states[v.state] : "no state"));
        if (v.cpu_time_ns != 0) sh.print(field("CPU time:", seconds(v.cpu_time_ns)));
        sh.print(affinity(v.affinity));
        if (n + 1 < vcpus.size()) sh.print("\n");
    }
    return true;
}

bool cmd_domblkstat(shell& sh, const parsed_command& cmd) {
    std::string name;
    auto dom = sh.domain(cmd, &name);
    if (!dom) return false;
    std::optional<std::string> device;
    if (!sh.opt_string(cmd, "device", device)) return false;
    if (!device) device = "";
    const bool human = cmd.has("human");
    block_stats st;
    try {
        st = dom->block_stats(*device);
    } catch (const virtpp::error&) {
        sh.error("Failed to get block stats " + name + " " + *device);
        return false;
    }
    if (human) sh.print("Device: " + *device + "\n");
    const std::tuple<std::string_view, std::string_view, std::int64_t> rows[] = {
        {"rd_req", "number of read operations:", st.rd_req},   {"rd_bytes", "number of bytes read:", st.rd_bytes},
        {"wr_req", "number of write operations:", st.wr_req},  {"wr_bytes", "number of bytes written:", st.wr_bytes},
        {"errs", "error count:", st.errs},
    };
    for (const auto& [legacy, label, value] : rows) {
        if (value < 0) continue;
        char buf[128];
        std::snprintf(buf, sizeof buf, "%s %-*s %lld\n", device->c_str(), human ? 31 : 0,
                      std::string(human ? label : legacy).c_str(), static_cast<long long>(value));
        sh.print(buf);
    }
    return true;
}

bool cmd_domifstat(shell& sh, const parsed_command& cmd) {
    std::string name;
    auto dom = sh.domain(cmd, &name);
    if (!dom) return false;
    std::optional<std::string> device;
    if (!sh.opt_string(cmd, "interface", device)) return false;
    interface_stats st;
    try {
        st = dom->interface_stats(*device);
    } catch (const virtpp::error&) {
        sh.error("Failed to get interface stats " + name + " " + *device);
        return false;
    }
    const std::pair<std::string_view, std::int64_t> rows[] = {
        {"rx_bytes", st.rx_bytes}, {"rx_packets", st.rx_packets}, {"rx_errs", st.rx_errs}, {"rx_drop", st.rx_drop},
        {"tx_bytes", st.tx_bytes}, {"tx_packets", st.tx_packets}, {"tx_errs", st.tx_errs}, {"tx_drop", st.tx_drop},
    };
    for (const auto& [label, value] : rows)
        if (value >= 0) sh.print(*device + " " + std::string(label) + " " + std::to_string(value) + "\n");
    return true;
}

/// printf's "%-Ns": `text` padded with blanks to `width` bytes.
std::string pad(std::string_view text, std::size_t width) {
    std::string out(text);
    if (out.size() < width) out.append(width - out.size(), ' ');
    return out;
}

// virDomainInterfaceAddressesSource in virsh's spelling, by value
constexpr std::string_view address_sources[] = {"lease", "agent", "arp"};

bool cmd_domifaddr(shell& sh, const parsed_command& cmd) {
    std::optional<std::string> iface_name, source_word;
    if (!sh.opt_string(cmd, "interface", iface_name) || !sh.opt_string(cmd, "source", source_word)) return false;
    const bool full = cmd.has("full");
    unsigned source = 0;
    if (source_word) {
        auto it = std::find(std::begin(address_sources), std::end(address_sources), *source_word);
        if (it == std::end(address_sources)) {
            sh.error("Unknown data source '" + *source_word + "'");
            return false;
        }
        source = static_cast<unsigned>(it - std::begin(address_sources));
    }
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::vector<domain_interface> ifaces;
    if (!attempt_call(sh, [&] { ifaces = dom->interface_addresses(source); }, "Failed to query for interfaces addresses"))
        return false;
    sh.print_extra(" " + pad("Name", 10) + " " + pad("MAC address", 20) + " " + pad("Protocol", 8) + "     Address\n" +
                   std::string(49 + 30, '-') + "\n");
    for (const auto& iface : ifaces) {
        // glibc prints "(null)" for a missing string, as virsh's printf does
        const std::string name = iface.name.value_or("(null)");
        if (iface_name && *iface_name != name) continue;
        if (iface.addrs.empty()) {
            sh.print(" " + pad(name, 10) + " " + pad(iface.hwaddr.value_or("N/A"), 17) + "    " + pad("N/A", 12) + " N/A\n");
            continue;
        }
        for (std::size_t j = 0; j < iface.addrs.size(); ++j) {
            const auto& a = iface.addrs[j];
            const char* type = a.type == 0 ? "ipv4" : a.type == 1 ? "ipv6" : "(null)";
            const std::string address = pad(type, 12) + " " + a.addr + "/" + std::to_string(a.prefix);
            // the name and MAC only on an interface's first line, unless --full
            if (full || j == 0) sh.print(" " + pad(name, 10) + " " + pad(iface.hwaddr.value_or(""), 17) + "    " + address + "\n");
            else sh.print(" " + pad("-", 10) + " " + pad("-", 17) + "    " + address + "\n");
        }
    }
    return true;
}

constexpr handler_entry handlers[] = {
    {"list", cmd_list},         {"dominfo", cmd_dominfo},         {"domstate", cmd_domstate},
    {"vcpuinfo", cmd_vcpuinfo}, {"domblkstat", cmd_domblkstat}, {"domifstat", cmd_domifstat},
    {"domifaddr", cmd_domifaddr},
};

}  // namespace

std::span<const handler_entry> monitor_handlers() { return handlers; }

}  // namespace virtpp::cli
