// Node info as libvirt 9.0 computes it on Linux (virHostCPUGetInfoPopulateLinux, virHostMemGetInfo):
// the CPU topology from sysfs (per NUMA node when /sys/devices/system/node exists, else the flat
// cpu directory), the frequency from /proc/cpuinfo, MemTotal from /proc/meminfo. When sysfs has
// no CPUs (containers, old kernels) the topology comes from /proc/cpuinfo and sysconf instead.
#include <virtpp/error.hpp>
#include <virtpp/xml/node_info.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

namespace virtpp {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_file(const fs::path& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string_view trim(std::string_view s) {
    constexpr std::string_view ws = " \t\r\n";
    auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

template <class Int>
std::optional<Int> leading_number(std::string_view s) {
    s = trim(s);
    Int v{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end == s.data()) return std::nullopt;
    return v;
}

// Linux CPU lists ("0-3,8,10-11"), as in /sys/devices/system/cpu/online.
std::optional<std::set<unsigned>> parse_cpu_list(std::string_view text) {
    std::set<unsigned> out;
    text = trim(text);
    if (text.empty()) return out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto comma = text.find(',', pos);
        auto item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        auto dash = item.find('-');
        auto first = leading_number<unsigned>(item.substr(0, dash));
        auto last = dash == std::string_view::npos ? first : leading_number<unsigned>(item.substr(dash + 1));
        if (!first || !last || *last < *first || *last - *first > 65536) return std::nullopt;
        for (unsigned c = *first; c <= *last; ++c) out.insert(c);
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    return out;
}

// "key<blanks>: value" lines of /proc/cpuinfo.
struct cpuinfo_line {
    std::string_view key;
    std::string_view value;
};

std::vector<cpuinfo_line> split_cpuinfo(std::string_view text) {
    std::vector<cpuinfo_line> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        out.push_back({trim(line.substr(0, colon)), trim(line.substr(colon + 1))});
    }
    return out;
}

bool is_x86(std::string_view machine) {
    return machine.empty() || machine == "x86_64" || machine == "i386" || machine == "i486" || machine == "i586" ||
           machine == "i686";
}

// virHostCPUParseFrequency: the key depends on the architecture; the last match wins; ARM has none.
unsigned parse_mhz(std::string_view cpuinfo, std::string_view machine) {
    std::string_view key;
    if (is_x86(machine)) key = "cpu MHz";
    else if (machine.starts_with("ppc")) key = "clock";
    else if (machine.starts_with("s390")) key = "cpu MHz dynamic";
    else return 0;
    unsigned mhz = 0;
    for (const auto& l : split_cpuinfo(cpuinfo))
        if (l.key == key)
            if (auto v = leading_number<unsigned>(l.value)) mhz = *v;
    return mhz;
}

std::uint64_t parse_mem_total(std::string_view meminfo) {
    for (const auto& l : split_cpuinfo(meminfo))
        if (l.key == "MemTotal")
            if (auto v = leading_number<std::uint64_t>(l.value)) return *v;
    raise(error_code::internal_error, error_domain::none, "Unable to parse MemTotal from /proc/meminfo");
}

std::string uname_machine() {
    utsname u{};
    if (uname(&u) != 0) return {};
    return u.machine;
}

// libvirt's final sanity rule: when the parts do not multiply to the CPU count, report a flat
// topology rather than a wrong one.
void flatten_if_inconsistent(node_info& info, unsigned offline) {
    if (info.nodes * info.sockets * info.cores * info.threads != info.cpus + offline) {
        info.nodes = 1;
        info.sockets = 1;
        info.cores = info.cpus + offline;
        info.threads = 1;
    }
}

struct node_counts {
    unsigned cpus = 0, sockets = 0, cores = 0, threads = 0, offline = 0;
};

// virHostCPUParseNode: the CPUs listed in `dir` that are present; topology files always come from
// the cpu root.
node_counts count_node(const fs::path& dir, const fs::path& cpu_root, const std::set<unsigned>& present,
                       const std::set<unsigned>& online) {
    node_counts out;
    std::set<unsigned> members;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        auto name = entry.path().filename().string();
        if (!name.starts_with("cpu")) continue;
        unsigned cpu = 0;
        auto [end, err] = std::from_chars(name.data() + 3, name.data() + name.size(), cpu);
        if (err != std::errc{} || end == name.data() + 3) continue;
        if (present.count(cpu)) members.insert(cpu);
    }
    std::map<unsigned, std::set<unsigned>> cores_by_socket;
    for (auto cpu : members) {
        if (!online.count(cpu)) {
            ++out.offline;
            continue;
        }
        ++out.cpus;
        auto topo = cpu_root / ("cpu" + std::to_string(cpu)) / "topology";
        // A missing (or negative) package id means one socket, as libvirt reads it.
        auto socket_text = read_file(topo / "physical_package_id");
        auto socket = socket_text ? leading_number<int>(*socket_text).value_or(0) : 0;
        auto core_text = read_file(topo / "core_id");
        unsigned core = core_text ? leading_number<unsigned>(*core_text).value_or(0) : 0;
        cores_by_socket[static_cast<unsigned>(std::max(socket, 0))].insert(core);
        unsigned siblings = 1;
        if (auto s = read_file(topo / "thread_siblings_list"))
            if (auto list = parse_cpu_list(*s); list && !list->empty()) siblings = static_cast<unsigned>(list->size());
        out.threads = std::max(out.threads, siblings);
    }
    out.sockets = static_cast<unsigned>(cores_by_socket.size());
    for (const auto& [socket, cores] : cores_by_socket) out.cores = std::max(out.cores, static_cast<unsigned>(cores.size()));
    return out;
}

std::set<unsigned> cpus_in_root(const fs::path& cpu_root) {
    std::set<unsigned> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(cpu_root, ec)) {
        auto name = entry.path().filename().string();
        if (!name.starts_with("cpu") || name.size() == 3) continue;
        unsigned cpu = 0;
        auto [end, err] = std::from_chars(name.data() + 3, name.data() + name.size(), cpu);
        if (err == std::errc{} && end == name.data() + name.size()) out.insert(cpu);
    }
    return out;
}

// The sysfs path; nothing when sysfs shows no CPUs, so the caller falls back to /proc/cpuinfo.
std::optional<node_info> topology_from_sysfs(const node_info_sources& src) {
    fs::path cpu_root = src.sysfs_cpu_root;
    auto all = cpus_in_root(cpu_root);
    if (all.empty()) return std::nullopt;
    auto present_text = read_file(cpu_root / "present");
    auto present = present_text ? parse_cpu_list(*present_text) : std::optional(all);
    auto online_text = read_file(cpu_root / "online");
    auto online = online_text ? parse_cpu_list(*online_text) : present;
    if (!present || !online) return std::nullopt;

    node_info info;
    unsigned offline = 0;
    std::error_code ec;
    fs::path node_root = src.sysfs_node_root;
    if (fs::is_directory(node_root, ec)) {
        for (const auto& entry : fs::directory_iterator(node_root, ec)) {
            auto name = entry.path().filename().string();
            if (!name.starts_with("node") || name.size() == 4 ||
                name.find_first_not_of("0123456789", 4) != std::string::npos)
                continue;
            ++info.nodes;
            auto counts = count_node(entry.path(), cpu_root, *present, *online);
            info.cpus += counts.cpus;
            offline += counts.offline;
            info.sockets = std::max(info.sockets, counts.sockets);
            info.cores = std::max(info.cores, counts.cores);
            info.threads = std::max(info.threads, counts.threads);
        }
    }
    if (info.cpus == 0 || info.nodes == 0) {
        auto counts = count_node(cpu_root, cpu_root, *present, *online);
        info.nodes = 1;
        info.cpus = counts.cpus;
        info.sockets = counts.sockets;
        info.cores = counts.cores;
        info.threads = counts.threads;
        offline = counts.offline;
    }
    if (info.cpus == 0) return std::nullopt;
    if (info.sockets == 0) raise(error_code::internal_error, error_domain::none, "no sockets found");
    if (info.threads == 0) raise(error_code::internal_error, error_domain::none, "no threads found");
    flatten_if_inconsistent(info, offline);
    return info;
}

}  // namespace

node_info node_info_from_proc(std::string_view cpuinfo, std::string_view meminfo, std::string_view machine) {
    node_info info;
    info.model = std::string(machine);
    info.memory_kib = parse_mem_total(meminfo);
    info.mhz = parse_mhz(cpuinfo, machine);

    std::set<std::string_view> physical_ids;
    unsigned cores = 0, siblings = 0;
    for (const auto& l : split_cpuinfo(cpuinfo)) {
        if (l.key == "processor") ++info.cpus;
        else if (l.key == "physical id") physical_ids.insert(l.value);
        else if (l.key == "cpu cores") cores = std::max(cores, leading_number<unsigned>(l.value).value_or(0));
        else if (l.key == "siblings") siblings = std::max(siblings, leading_number<unsigned>(l.value).value_or(0));
    }
    if (info.cpus == 0) raise(error_code::internal_error, error_domain::none, "no CPUs found");
    info.nodes = 1;
    info.sockets = physical_ids.empty() ? 1 : static_cast<unsigned>(physical_ids.size());
    info.cores = cores == 0 ? info.cpus / info.sockets : cores;
    // "siblings" counts logical CPUs per package; per core that is siblings / cores.
    info.threads = (cores > 0 && siblings >= cores) ? siblings / cores : 1;
    if (info.cores == 0) info.cores = 1;
    flatten_if_inconsistent(info, 0);
    return info;
}

node_info read_node_info_unreported(const node_info_sources& sources) {
    std::string machine = sources.machine.empty() ? uname_machine() : sources.machine;
    fs::path proc = sources.proc_root;
    auto cpuinfo = read_file(proc / "cpuinfo");
    if (!cpuinfo) raise(error_code::system_error, error_domain::none, "cannot open " + (proc / "cpuinfo").string());
    auto meminfo = read_file(proc / "meminfo");
    if (!meminfo) raise(error_code::system_error, error_domain::none, "cannot open " + (proc / "meminfo").string());

    if (auto info = topology_from_sysfs(sources)) {
        info->model = machine;
        info->mhz = parse_mhz(*cpuinfo, machine);
        info->memory_kib = parse_mem_total(*meminfo);
        return *info;
    }
    // No CPUs in sysfs: /proc/cpuinfo, and sysconf when it lists no processors either.
    auto lines = split_cpuinfo(*cpuinfo);
    if (std::none_of(lines.begin(), lines.end(), [](const cpuinfo_line& l) { return l.key == "processor"; })) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        node_info info;
        info.model = machine;
        info.memory_kib = parse_mem_total(*meminfo);
        info.mhz = parse_mhz(*cpuinfo, machine);
        info.cpus = online > 0 ? static_cast<unsigned>(online) : 1;
        info.nodes = info.sockets = info.threads = 1;
        info.cores = info.cpus;
        return info;
    }
    return node_info_from_proc(*cpuinfo, *meminfo, machine);
}

std::string format_node_info_summary(const node_info& info) {
    return "CPUs: " + std::to_string(info.cpus) + ", MHz: " + std::to_string(info.mhz) + ", Nodes: " +
           std::to_string(info.nodes) + ", Sockets: " + std::to_string(info.sockets) + ", Cores: " +
           std::to_string(info.cores) + ", Threads: " + std::to_string(info.threads);
}

// The public entry point: an error is reported through the handlers, then thrown.
node_info read_node_info(const node_info_sources& sources) {
    return api_boundary(nullptr, [&] { return read_node_info_unreported(sources); });
}

}  // namespace virtpp
