// vcpupin, schedinfo and migrate (virsh's "domain" group): CPU affinity, scheduler parameters
// and moving a domain to another connection.
#include "command_util.hpp"
#include "typed_param_text.hpp"
#include "job_watch.hpp"
#include "drivers.hpp"
#include "table.hpp"
#include "xml_scan.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <variant>

namespace virtpp::cli {

namespace {


/// virBitmapParse with 1024 bits: "0-3,^2,5"; nullopt when malformed.
std::optional<std::vector<bool>> parse_cpus(const std::string& text) {
    constexpr std::size_t limit = 1024;
    std::vector<bool> map(limit, false);
    const char* p = text.c_str();
    auto skip = [&] {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f') ++p;
    };
    auto number = [&](long& out) {
        errno = 0;
        char* end = nullptr;
        out = std::strtol(p, &end, 10);
        if (end == p || errno != 0 || out < INT_MIN || out > INT_MAX) return false;
        p = end;
        return true;
    };
    skip();
    if (*p == '\0') return std::nullopt;
    while (*p != '\0') {
        bool neg = false;
        if (*p == '^') {
            ++p;
            neg = true;
        }
        if (*p < '0' || *p > '9') return std::nullopt;
        long start = 0;
        if (!number(start) || start < 0) return std::nullopt;
        skip();
        if (*p == ',' || *p == '\0') {
            if (static_cast<std::size_t>(start) >= limit) return std::nullopt;
            map[static_cast<std::size_t>(start)] = !neg;
        } else if (*p == '-') {
            if (neg) return std::nullopt;
            ++p;
            skip();
            long last = 0;
            if (!number(last) || last < start || static_cast<std::size_t>(last) >= limit) return std::nullopt;
            for (long i = start; i <= last; ++i) map[static_cast<std::size_t>(i)] = true;
            skip();
        }
        if (*p == ',') {
            ++p;
            skip();
        } else if (*p != '\0') {
            return std::nullopt;
        }
    }
    return map;
}

/// The pinning a definition asks for (virDomainDefGetVcpuPinInfoHelper): <vcpupin> per vCPU,
/// else <vcpu cpuset>, else every host CPU.
std::vector<std::vector<bool>> defined_pinning(const std::string& doc, int ncpus, std::size_t bits, int maxcpu) {
    std::vector<bool> all(bits, false);
    for (int i = 0; i < maxcpu && static_cast<std::size_t>(i) < bits; ++i) all[static_cast<std::size_t>(i)] = true;
    auto fit = [&](std::vector<bool> m) {
        m.resize(bits, false);
        return m;
    };
    std::vector<std::vector<bool>> out(static_cast<std::size_t>(ncpus), all);
    auto root = scan_xml(doc);
    if (!root) return out;
    if (const auto* vcpu = root->child("vcpu"); vcpu != nullptr && vcpu->attr("cpuset") != nullptr)
        if (auto m = parse_cpus(*vcpu->attr("cpuset"))) std::fill(out.begin(), out.end(), fit(*m));
    if (const auto* tune = root->child("cputune"))
        for (const auto& pin : tune->children) {
            if (pin.name != "vcpupin" || pin.attr("vcpu") == nullptr || pin.attr("cpuset") == nullptr) continue;
            char* end = nullptr;
            long n = std::strtol(pin.attr("vcpu")->c_str(), &end, 10);
            if (*end != '\0' || n < 0 || n >= ncpus) continue;
            if (auto m = parse_cpus(*pin.attr("cpuset"))) out[static_cast<std::size_t>(n)] = fit(*m);
        }
    return out;
}

bool cmd_vcpupin(shell& sh, const parsed_command& cmd) {
    if (!exclusive_options(sh, cmd, "current", "live") || !exclusive_options(sh, cmd, "current", "config")) return false;
    const bool config = cmd.has("config"), live = cmd.has("live");  // --current is flags 0
    unsigned flags = 0;
    if (config) flags |= affect::config;
    if (live) flags |= affect::live;
    std::optional<std::string> cpulist;
    if (!sh.opt_string(cmd, "cpulist", cpulist)) return false;
    if (!cpulist && !exclusive_options(sh, cmd, "live", "config")) return false;
    std::optional<unsigned> vcpu;
    if (!sh.opt_uint(cmd, "vcpu", vcpu)) return false;
    if (cpulist && !vcpu) {
        sh.error("vcpupin: Missing vCPU number in pin mode.");
        return false;
    }
    auto maxcpu = host_cpu_count(sh);
    if (!maxcpu) return false;
    auto dom = sh.domain(cmd);
    if (!dom) return false;

    if (!cpulist) {
        // virshCPUCountCollect with the state check
        if (((flags & affect::live) != 0 && !dom->is_active()) || ((flags & affect::config) != 0 && !dom->is_persistent())) {
            sh.reset_last_error();
            sh.error((flags & affect::live) != 0 ? "cannot get vcpupin for offline domain"
                                                 : "cannot get vcpupin for transient domain");
            return false;
        }
        int ncpus = 0;
        if (!attempt_call(sh, [&] { ncpus = dom->vcpus_flags(flags | affect::maximum); }, "")) return false;
        const bool active = dom->is_active();
        if (vcpu && *vcpu >= static_cast<unsigned>(ncpus)) {
            const bool live_view = (flags & affect::live) != 0 || ((flags & affect::config) == 0 && active);
            sh.error("vcpu " + std::to_string(*vcpu) + " is out of range of " + (live_view ? "live" : "persistent") +
                     " cpu count " + std::to_string(ncpus));
            return false;
        }
        const std::size_t bits = (static_cast<std::size_t>(*maxcpu) + 7) / 8 * 8;  // whole bytes, as the C API maps them
        std::vector<std::vector<bool>> pins;
        if ((flags & affect::config) == 0 && active) {
            pins = defined_pinning("", ncpus, bits, *maxcpu);
            std::vector<vcpu_info> running;
            if (!attempt_call(sh, [&] { running = dom->vcpus(); }, "")) return false;
            for (const auto& v : running)
                if (v.number < pins.size()) {
                    auto m = v.affinity;
                    m.resize(bits, false);
                    pins[v.number] = std::move(m);
                }
        } else {
            std::string doc;
            if (!attempt_call(sh, [&] { doc = dom->xml_desc(xml_flags::inactive); }, "")) return false;
            pins = defined_pinning(doc, ncpus, bits, *maxcpu);
        }
        table t({"VCPU", "CPU Affinity"});
        for (std::size_t i = 0; i < pins.size(); ++i) {
            if (vcpu && i != *vcpu) continue;
            t.add_row({std::to_string(i), format_cpus(pins[i])});
        }
        sh.print(t.str(!sh.quiet));
        return true;
    }

    std::vector<bool> map;
    if (!cpulist->empty() && (*cpulist)[0] == 'r') {
        map.assign(static_cast<std::size_t>(*maxcpu), true);
    } else {
        auto parsed = parse_cpus(*cpulist);
        const bool any = parsed && std::find(parsed->begin(), parsed->end(), true) != parsed->end();
        if (!any) {
            sh.error("Invalid cpulist '" + *cpulist + "'");
            if (!parsed) sh.set_pending_error(error_code::invalid_arg, "invalid argument: Failed to parse bitmap '" + *cpulist + "'");
            return false;
        }
        int last = static_cast<int>(parsed->rend() - std::find(parsed->rbegin(), parsed->rend(), true)) - 1;
        if (last >= *maxcpu) {
            sh.error("CPU " + std::to_string(last) + " in cpulist '" + *cpulist + "' exceed the maxcpu " + std::to_string(*maxcpu));
            return false;
        }
        parsed->resize(static_cast<std::size_t>(*maxcpu));
        map = std::move(*parsed);
    }
    return attempt_call(sh, [&] { dom->pin_vcpu(*vcpu, map, flags); }, "");
}

/// virTypedParamsAddFromString: the text read as the type the parameter already has.
bool param_from_string(shell& sh, const typed_param& like, const std::string& text, typed_param& out) {
    out.field = like.field;
    auto fail = [&](std::string_view expected) {
        sh.set_pending_error(error_code::invalid_arg, "invalid argument: Invalid value for field '" + like.field +
                                                          "': expected " + std::string(expected));
        return false;
    };
    errno = 0;
    char* end = nullptr;
    const char* s = text.c_str();
    switch (like.value.index()) {
    case 0: {  // int
        long long v = std::strtoll(s, &end, 10);
        if (end == s || *end != '\0' || errno != 0 || v < INT_MIN || v > INT_MAX) return fail("int");
        out.value = static_cast<std::int32_t>(v);
        return true;
    }
    case 1: {  // unsigned int: virStrToLong_ui takes -1 for UINT_MAX
        long long sv = 0;
        unsigned long long v = 0;
        if (text.find('-') != std::string::npos) {
            sv = std::strtoll(s, &end, 10);
            if (end == s || *end != '\0' || errno != 0 || sv < -static_cast<long long>(UINT_MAX)) return fail("unsigned int");
            v = static_cast<unsigned>(sv);
        } else {
            v = std::strtoull(s, &end, 10);
            if (end == s || *end != '\0' || errno != 0 || v > UINT_MAX) return fail("unsigned int");
        }
        out.value = static_cast<std::uint32_t>(v);
        return true;
    }
    case 2: {
        long long v = std::strtoll(s, &end, 10);
        if (end == s || *end != '\0' || errno != 0) return fail("long long");
        out.value = static_cast<std::int64_t>(v);
        return true;
    }
    case 3: {
        unsigned long long v = std::strtoull(s, &end, 10);
        if (end == s || *end != '\0' || errno != 0) return fail("unsigned long long");
        out.value = static_cast<std::uint64_t>(v);
        return true;
    }
    case 4: {
        double v = std::strtod(s, &end);
        if (end == s || *end != '\0' || errno != 0) return fail("double");
        out.value = v;
        return true;
    }
    case 5:
        if (text == "1" || text == "yes" || text == "true") out.value = true;
        else if (text == "0" || text == "no" || text == "false") out.value = false;
        else return fail("boolean");
        return true;
    default: out.value = text; return true;
    }
}

bool cmd_schedinfo(shell& sh, const parsed_command& cmd) {
    if (!exclusive_options(sh, cmd, "current", "live") || !exclusive_options(sh, cmd, "current", "config")) return false;
    const bool config = cmd.has("config"), live = cmd.has("live"), current = cmd.has("current");
    unsigned flags = 0;
    if (config) flags |= affect::config;
    if (live) flags |= affect::live;
    // both at once cannot be queried: settle on the current definition
    unsigned query = config && live ? 0U : flags;
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    scheduler_type type;
    try {
        type = dom->scheduler_type();
    } catch (const virtpp::error&) {
        sh.print("Scheduler      : Unknown\n");
        return false;
    }
    char line[256];
    std::snprintf(line, sizeof line, "%-15s: %s\n", "Scheduler", type.name.c_str());
    sh.print(line);
    if (type.nparams == 0) return false;
    const bool with_flags = flags != 0 || current;
    if (with_flags) {
        // virDomainGetSchedulerParametersFlags lets drivers that can return strings do so
        bool strings = false;
        try {
            strings = sh.connection()->call<op::connect_supports_feature>({9});
        } catch (const virtpp::error&) {
            sh.reset_last_error();
        }
        if (strings) query |= 1U << 2;
    }
    std::vector<typed_param> params;
    if (!attempt_call(sh, [&] { params = dom->scheduler_parameters(with_flags ? query : 0U); }, "")) return false;

    std::vector<typed_param> updates;
    auto update_one = [&](const std::string& field, const std::string& value) {
        for (const auto& p : params) {
            if (p.field != field) continue;
            typed_param u;
            if (!param_from_string(sh, p, value, u)) return false;
            updates.push_back(std::move(u));
            return true;
        }
        sh.error("invalid scheduler option: " + field);
        return false;
    };
    for (const auto& set : cmd.all("set")) {
        auto eq = set.find('=');
        if (eq == std::string::npos) {
            sh.error("Invalid syntax for --set, expecting name=value");
            return false;
        }
        if (!update_one(set.substr(0, eq), set.substr(eq + 1))) return false;
    }
    for (std::string_view name : {"cap", "weight"}) {
        std::optional<std::string> value;
        if (!sh.opt_string(cmd, name, value)) return false;
        if (value && !update_one(std::string(name), *value)) return false;
    }
    if (!updates.empty()) {
        if (!attempt_call(sh, [&] { dom->set_scheduler_parameters(updates, flags); }, "")) return false;
        if (!attempt_call(sh, [&] { params = dom->scheduler_parameters(with_flags ? query : 0U); }, "")) return false;
    } else if (live && config) {
        sh.error("cannot query both live and config at once");
        return false;
    }
    for (const auto& p : params) {
        std::snprintf(line, sizeof line, "%-15s: ", p.field.c_str());
        sh.print(line + typed_param_text(p) + "\n");
    }
    return true;
}

bool cmd_migrate(shell& sh, const parsed_command& cmd) {
    if (!exclusive_options(sh, cmd, "live", "offline") ||
        !exclusive_options(sh, cmd, "timeout-suspend", "timeout-postcopy") ||
        !require_option(sh, cmd, "postcopy-after-precopy", "postcopy") ||
        !require_option(sh, cmd, "postcopy-resume", "postcopy") ||
        !require_option(sh, cmd, "timeout-postcopy", "postcopy") ||
        !require_option(sh, cmd, "persistent-xml", "persistent") || !require_option(sh, cmd, "tls-destination", "tls"))
        return false;
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::optional<unsigned> timeout;
    if (!sh.opt_uint(cmd, "timeout", timeout)) return false;
    if (timeout.value_or(0) > 0 && !cmd.has("live")) {
        sh.error("migrate: Unexpected timeout for offline migration");
        return false;
    }
    if (timeout.value_or(0) == 0 && (cmd.has("timeout-suspend") || cmd.has("timeout-postcopy"))) {
        sh.error("migrate: Unexpected --timeout-* option without --timeout");
        return false;
    }
    // migration parameters the library's migrate() cannot carry are refused, not dropped
    for (std::string_view unsupported :
         {"graphicsuri", "listen-address", "migrate-disks", "disks-port", "disks-uri", "comp-methods",
          "comp-mt-level", "comp-mt-threads", "comp-mt-dthreads", "comp-xbzrle-cache", "auto-converge-initial",
          "auto-converge-increment", "persistent-xml", "postcopy-bandwidth", "parallel-connections",
          "tls-destination", "postcopy-after-precopy"})
        if (cmd.has(unsupported)) {
            sh.error("--" + std::string(unsupported) + " is not supported by virtpp");
            return false;
        }
    if (cmd.has("copy-storage-synchronous-writes") && !cmd.has("copy-storage-all") && !cmd.has("copy-storage-inc")) {
        sh.error("'--copy-storage-synchronous-writes' requires one of '--copy-storage-all', 'copy-storage-inc'");
        return false;
    }
    migrate_params params;
    std::optional<std::string> desturi, xml_file;
    std::optional<unsigned> bandwidth;
    if (!sh.opt_string(cmd, "desturi", desturi) || !sh.opt_string(cmd, "dname", params.dname) ||
        !sh.opt_string(cmd, "migrateuri", params.uri) || !sh.opt_uint(cmd, "bandwidth", bandwidth) ||
        !sh.opt_string(cmd, "xml", xml_file))
        return false;
    params.bandwidth = bandwidth.value_or(0);
    if (xml_file && !sh.read_file(*xml_file, params.xml.emplace())) return false;
    static constexpr std::pair<std::string_view, unsigned> flag_bits[] = {
        {"live", 1U << 0},           {"p2p", 1U << 1},
        {"tunnelled", 1U << 2},      {"persistent", 1U << 3},
        {"undefinesource", 1U << 4}, {"suspend", 1U << 5},
        {"copy-storage-all", 1U << 6}, {"copy-storage-inc", 1U << 7},
        {"change-protection", 1U << 8}, {"unsafe", 1U << 9},
        {"offline", 1U << 10},       {"compressed", 1U << 11},
        {"abort-on-error", 1U << 12}, {"auto-converge", 1U << 13},
        {"rdma-pin-all", 1U << 14},  {"postcopy", 1U << 15},
        {"tls", 1U << 16},           {"parallel", 1U << 17},
        {"copy-storage-synchronous-writes", 1U << 18}, {"postcopy-resume", 1U << 19},
        {"zerocopy", 1U << 20},
    };
    unsigned flags = 0;
    for (const auto& [name, bit] : flag_bits)
        if (cmd.has(name)) flags |= bit;
    // the destination is opened from here in every mode: a peer-to-peer source in this process
    // would reach it the same way
    std::optional<any_connection> dest;
    try {
        dest.emplace(any_connection::open<drivers>(*desturi));
    } catch (const virtpp::error& e) {
        // the message is the library's; the code must not make the shell think its own
        // connection died (virsh sees a socket error here, not NO_CONNECT)
        sh.set_pending_error(error_code::operation_failed, e.what());
        return false;
    }
    sh.debug(shell::debug_info, "Failed to setup keepalive on connection\n");
    return watch_job(sh, *dom, cmd.has("verbose"), "Migration", [&] { (void)dom->migrate(*dest, flags, std::move(params)); });
}

constexpr handler_entry handlers[] = {
    {"vcpupin", cmd_vcpupin},
    {"schedinfo", cmd_schedinfo},
    {"migrate", cmd_migrate},
};

}  // namespace

std::span<const handler_entry> tuning_handlers() { return handlers; }

}  // namespace virtpp::cli
