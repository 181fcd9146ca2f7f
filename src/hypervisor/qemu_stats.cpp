// hypervisor::qemu: virConnectGetAllDomainStats / virDomainListGetStats with libvirt 9.0's field
// names, read from QMP (query-balloon, query-cpus-fast, query-blockstats, query-block), /proc (the
// guest process's and vcpu threads' CPU times, RSS, scheduler waits) and the host's counters of
// the guests' tap devices. Groups in libvirt's order: state, cpu-total, balloon, vcpu, interface,
// block, dirtyrate. perf, iothread, memory and vm are not collected (enforcing them is refused).
#include "hypervisor/fd_io.hpp"
#include "hypervisor/qemu_ops.hpp"

#include <virtpp/hypervisor/detail/domain_stats.hpp>

#include <sys/stat.h>

#include <array>
#include <filesystem>

#include <mutex>
#include <sstream>

namespace virtpp::hypervisor {

using namespace qemu_detail;

namespace {

constexpr unsigned list_filters = 0xffU;  // VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE .. _OTHER
constexpr unsigned collected_groups = domain_stats::state | domain_stats::cpu_total | domain_stats::balloon |
                                      domain_stats::vcpu | domain_stats::interface | domain_stats::block |
                                      domain_stats::dirtyrate | domain_stats::perf | domain_stats::iothread |
                                      domain_stats::memory;

using detail::add_stat;
using u64 = std::uint64_t;

std::optional<std::string> read_text(const std::string& path) {
    try {
        return read_file(path);
    } catch (const virtpp::error&) {
        return std::nullopt;
    }
}

/// utime and stime of a process in ns (fields 14 and 15 of /proc/<pid>/stat).
std::optional<std::pair<u64, u64>> user_system_ns(pid_t pid) {
    auto text = read_text("/proc/" + std::to_string(pid) + "/stat");
    if (!text) return std::nullopt;
    auto close = text->rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream in(text->substr(close + 2));
    std::string f;
    std::vector<std::string> fields;
    while (in >> f && fields.size() < 13) fields.push_back(f);
    if (fields.size() < 13) return std::nullopt;
    long hz = ::sysconf(_SC_CLK_TCK);
    u64 per_tick = 1000000000ULL / static_cast<u64>(hz > 0 ? hz : 100);
    return std::pair{std::stoull(fields[11]) * per_tick, std::stoull(fields[12]) * per_tick};
}

/// VmRSS of /proc/<pid>/status in KiB.
std::optional<u64> rss_kib(pid_t pid) {
    auto text = read_text("/proc/" + std::to_string(pid) + "/status");
    if (!text) return std::nullopt;
    auto at = text->find("\nVmRSS:");
    if (at == std::string::npos) return std::nullopt;
    return std::strtoull(text->c_str() + at + 7, nullptr, 10);
}

/// A vcpu thread's time waiting on I/O (se.statistics.iowait_sum of /proc/.../sched, in ms with
/// a fraction) in ns, and its run-queue delay (the second field of schedstat) in ns.
std::pair<u64, u64> vcpu_wait_delay(pid_t pid, pid_t tid) {
    std::string base = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid);
    u64 wait = 0, delay = 0;
    if (auto sched = read_text(base + "/sched")) {
        std::istringstream in(*sched);
        std::string line;
        while (std::getline(in, line)) {
            if (line.find("iowait_sum") == std::string::npos) continue;
            auto colon = line.find(':');
            if (colon != std::string::npos) wait = static_cast<u64>(std::strtod(line.c_str() + colon + 1, nullptr) * 1e6);
        }
    }
    if (auto schedstat = read_text(base + "/schedstat")) {
        std::istringstream in(*schedstat);
        u64 run = 0;
        in >> run >> delay;
    }
    return {wait, delay};
}

struct guest_facts {
    domain_stats_record rec;
    domain_state state = domain_state::shutoff;
    int reason = 0;
    bool active = false;
    pid_t pid = -1;
    std::shared_ptr<qmp_monitor> monitor;
    xml::domain_def def;
};

void state_group(guest_facts& g) {
    add_stat(g.rec.params, "state.state", static_cast<std::int32_t>(g.state));
    add_stat(g.rec.params, "state.reason", static_cast<std::int32_t>(g.reason));
}

/// Halt-polling time of the guest's vcpus (KVM only), as libvirt 9.0 finds it: QMP query-stats for
/// the kvm provider (an empty answer, as under TCG, is 0), else the kvm debugfs directory of the
/// process; nothing when neither answers.
std::optional<std::pair<u64, u64>> halt_poll_ns(guest_facts& g, bool monitor_ok) {
    if (monitor_ok && g.monitor) {
        try {
            auto reply = g.monitor->execute(
                "query-stats",
                json::object{{"target", "vcpu"},
                             {"providers", json::array{json::object{
                                               {"provider", "kvm"},
                                               {"names", json::array{"halt_poll_success_ns", "halt_poll_fail_ns"}}}}}});
            u64 success = 0, fail = 0;
            bool complete = true;
            for (const auto& per_vcpu : reply.as_array()) {
                std::optional<u64> s, f;
                for (const auto& stat : per_vcpu.at("stats").as_array()) {
                    auto name = json::value_to<std::string>(stat.at("name"));
                    if (name == "halt_poll_success_ns") s = stat.at("value").to_number<u64>();
                    if (name == "halt_poll_fail_ns") f = stat.at("value").to_number<u64>();
                }
                if (!s || !f) complete = false;
                else success += *s, fail += *f;
            }
            if (complete) return std::pair{success, fail};
        } catch (const std::exception&) {
            // no query-stats, or an answer of another shape: try debugfs
        }
    }
    const std::string kvm = "/sys/kernel/debug/kvm";
    auto prefix = std::to_string(g.pid) + "-";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(kvm, ec)) {
        auto name = entry.path().filename().string();
        if (!name.starts_with(prefix)) continue;
        auto s = read_text(kvm + "/" + name + "/halt_poll_success_ns");
        auto f = read_text(kvm + "/" + name + "/halt_poll_fail_ns");
        if (!s || !f) return std::nullopt;
        return std::pair{std::strtoull(s->c_str(), nullptr, 10), std::strtoull(f->c_str(), nullptr, 10)};
    }
    return std::nullopt;
}

void cpu_group(guest_facts& g, bool monitor_ok) {
    // libvirt 9.0 (no cgroups) reads /proc/<pid>/stat of the guest's process; an inactive guest's
    // pid is 0 there, and it reports the daemon's own times. The same fields, then.
    if (auto us = g.active && g.pid > 0 ? user_system_ns(g.pid) : user_system_ns(::getpid())) {
        add_stat(g.rec.params, "cpu.time", u64{us->first + us->second});
        add_stat(g.rec.params, "cpu.user", u64{us->first});
        add_stat(g.rec.params, "cpu.system", u64{us->second});
    }
    if (!g.active || g.pid <= 0) return;
    // cache monitors are <cputune><cachetune><monitor>, which this driver does not take: none
    add_stat(g.rec.params, "cpu.cache.monitor.count", std::uint32_t{0});
    if (auto hp = halt_poll_ns(g, monitor_ok)) {
        add_stat(g.rec.params, "cpu.haltpoll.success.time", hp->first);
        add_stat(g.rec.params, "cpu.haltpoll.fail.time", hp->second);
    }
}

/// query-dirty-rate's last calculation (libvirt's dirtyrate group; calc-dirty-rate starts one).
void dirtyrate_group(guest_facts& g, bool monitor_ok) {
    if (!g.active || !monitor_ok || !g.monitor) return;
    auto r = g.monitor->execute("query-dirty-rate");
    static constexpr std::array<std::string_view, 3> statuses{"unstarted", "measuring", "measured"};
    auto status_text = json::value_to<std::string>(r.at("status"));
    auto at = std::find(statuses.begin(), statuses.end(), status_text);
    if (at == statuses.end()) fail(error_code::internal_error, "Unknown dirty rate status: " + status_text);
    auto status = static_cast<std::int32_t>(at - statuses.begin());
    add_stat(g.rec.params, "dirtyrate.calc_status", status);
    add_stat(g.rec.params, "dirtyrate.calc_start_time", r.at("start-time").to_number<std::int64_t>());
    add_stat(g.rec.params, "dirtyrate.calc_period", r.at("calc-time").to_number<std::int32_t>());
    std::string mode = r.as_object().contains("mode") ? json::value_to<std::string>(r.at("mode")) : "page-sampling";
    add_stat(g.rec.params, "dirtyrate.calc_mode", mode);
    if (status == 2) {
        add_stat(g.rec.params, "dirtyrate.megabytes_per_second", r.at("dirty-rate").to_number<std::int64_t>());
        if (mode == "dirty-ring" && r.as_object().contains("vcpu-dirty-rate"))
            for (const auto& v : r.at("vcpu-dirty-rate").as_array())
                add_stat(g.rec.params, "dirtyrate.vcpu." + std::to_string(v.at("id").to_number<int>()) + ".megabytes_per_second",
                         v.at("dirty-rate").to_number<u64>());
    }
}

/// The guest's own memory figures (virtio balloon's guest-stats), in libvirt's order and units;
/// a figure the guest never reported (-1) is left out, as libvirt leaves it.
void guest_memory_stats(guest_facts& g) {
    json::value reply;
    try {
        reply = g.monitor->execute("qom-get", json::object{{"path", balloon_qom_path}, {"property", "guest-stats"}});
    } catch (const virtpp::error&) {
        return;  // no stats yet, or no such property: libvirt reports none either
    }
    if (!reply.is_object() || !reply.as_object().contains("stats") || !reply.at("stats").is_object()) return;
    const auto& stats = reply.at("stats").as_object();
    auto add = [&](const json::object& from, const char* field, const char* name, u64 divisor) {
        auto it = from.find(field);
        if (it == from.end()) return;
        const auto& v = it->value();
        if (v.is_int64() && v.as_int64() < 0) return;  // never collected: -1
        if (v.is_uint64() && v.as_uint64() == UINT64_MAX) return;  // the same -1, as qemu writes it
        if (!v.is_int64() && !v.is_uint64()) return;
        add_stat(g.rec.params, std::string("balloon.") + name, v.to_number<u64>() / divisor);
    };
    add(stats, "stat-swap-in", "swap_in", 1024);
    add(stats, "stat-swap-out", "swap_out", 1024);
    add(stats, "stat-major-faults", "major_fault", 1);
    add(stats, "stat-minor-faults", "minor_fault", 1);
    add(stats, "stat-free-memory", "unused", 1024);
    add(stats, "stat-total-memory", "available", 1024);
    add(stats, "stat-available-memory", "usable", 1024);
    add(reply.as_object(), "last-update", "last-update", 1);
    add(stats, "stat-disk-caches", "disk_caches", 1024);
    add(stats, "stat-htlb-pgalloc", "hugetlb_pgalloc", 1);
    add(stats, "stat-htlb-pgfail", "hugetlb_pgfail", 1);
}

void balloon_group(guest_facts& g, bool monitor_ok) {
    u64 maximum = g.def.memory_kib;
    bool balloon = g.def.devices.memballoon && g.def.devices.memballoon->model != "none";
    u64 current = balloon ? g.def.current_memory_kib.value_or(maximum) : maximum;
    if (g.active && monitor_ok && g.monitor && balloon) {
        try {
            auto b = g.monitor->execute("query-balloon");
            current = b.at("actual").to_number<u64>() / 1024;
        } catch (const virtpp::error&) {
            // no balloon device: the definition's size is the answer, as libvirt's
        }
    }
    add_stat(g.rec.params, "balloon.current", current);
    add_stat(g.rec.params, "balloon.maximum", maximum);
    if (!g.active || g.pid <= 0 || !monitor_ok) return;  // libvirt's figures below need the guest's job
    if (g.monitor && g.def.devices.memballoon && g.def.devices.memballoon->model == "virtio")
        guest_memory_stats(g);
    if (auto rss = rss_kib(g.pid)) add_stat(g.rec.params, "balloon.rss", *rss);
}

void vcpu_group(guest_facts& g, bool monitor_ok) {
    add_stat(g.rec.params, "vcpu.current", static_cast<std::uint32_t>(g.def.vcpu.current.value_or(g.def.vcpu.count)));
    add_stat(g.rec.params, "vcpu.maximum", static_cast<std::uint32_t>(g.def.vcpu.count));
    if (!g.active || !monitor_ok || !g.monitor) return;
    json::value cpus;
    try {
        cpus = g.monitor->execute("query-cpus-fast");
    } catch (const virtpp::error&) {
        return;
    }
    std::vector<std::pair<unsigned, pid_t>> threads;
    for (const auto& c : cpus.as_array())
        threads.emplace_back(c.at("cpu-index").to_number<unsigned>(), c.at("thread-id").to_number<pid_t>());
    std::sort(threads.begin(), threads.end());
    for (auto [index, tid] : threads) {
        std::string prefix = "vcpu." + std::to_string(index) + ".";
        add_stat(g.rec.params, prefix + "state", std::int32_t{1});  // VIR_VCPU_RUNNING
        add_stat(g.rec.params, prefix + "time", u64{proc_cpu(g.pid, tid).first});
        auto [wait, delay] = vcpu_wait_delay(g.pid, tid);
        add_stat(g.rec.params, prefix + "wait", wait);
        add_stat(g.rec.params, prefix + "delay", delay);
    }
}

void interface_group(guest_facts& g) {
    if (!g.active) return;
    const auto& nets = g.def.devices.interfaces;
    add_stat(g.rec.params, "net.count", static_cast<std::uint32_t>(nets.size()));
    for (std::size_t i = 0; i < nets.size(); ++i) {
        std::string prefix = "net." + std::to_string(i) + ".";
        if (!nets[i].target_dev) continue;
        add_stat(g.rec.params, prefix + "name", *nets[i].target_dev);
        auto c = host_interface_counters(*nets[i].target_dev);
        if (!c) continue;
        // the tap's receive is the guest's transmit
        const std::pair<const char*, std::size_t> fields[] = {
            {"rx.bytes", 4}, {"rx.pkts", 5}, {"rx.errs", 6}, {"rx.drop", 7},
            {"tx.bytes", 0}, {"tx.pkts", 1}, {"tx.errs", 2}, {"tx.drop", 3},
        };
        for (auto [name, at] : fields) add_stat(g.rec.params, prefix + name, static_cast<u64>((*c)[at]));
    }
}

const json::object* find_by_qdev(const json::value& list, const std::string& id) {
    if (!list.is_array()) return nullptr;
    for (const auto& entry : list.as_array()) {
        if (!entry.is_object()) continue;
        const auto& e = entry.as_object();
        std::string qdev = e.contains("qdev") ? json::value_to<std::string>(e.at("qdev")) : "";
        if (qdev == id || qdev.find("/" + id + "/") != std::string::npos || qdev.ends_with("/" + id)) return &e;
    }
    return nullptr;
}

/// query-blockstats (with query-nodes) lists each node's own figures under its node-name.
const json::object* find_by_node(const json::value& list, const std::string& node) {
    if (!list.is_array()) return nullptr;
    for (const auto& entry : list.as_array())
        if (entry.is_object() && entry.as_object().contains("node-name") && entry.at("node-name") == node.c_str())
            return &entry.as_object();
    return nullptr;
}

void block_group(guest_facts& g, bool monitor_ok) {
    const auto& disks = g.def.devices.disks;
    add_stat(g.rec.params, "block.count", static_cast<std::uint32_t>(disks.size()));
    json::value blockstats, node_stats, nodes;  // by device (qdev), by node, the nodes' images
    if (g.active && monitor_ok && g.monitor) {
        try {
            blockstats = g.monitor->execute("query-blockstats");
            node_stats = g.monitor->execute("query-blockstats", json::object{{"query-nodes", true}});
            nodes = g.monitor->execute("query-named-block-nodes", json::object{{"flat", true}});
        } catch (const virtpp::error&) {
            blockstats = node_stats = nodes = nullptr;
        }
    }
    for (std::size_t i = 0; i < disks.size(); ++i) {
        const auto& d = disks[i];
        std::string prefix = "block." + std::to_string(i) + ".";
        add_stat(g.rec.params, prefix + "name", d.target_dev);
        bool local = (d.type == "file" || d.type == "block") && d.source;
        if (local) add_stat(g.rec.params, prefix + "path", *d.source);
        if (g.active && d.source) add_stat(g.rec.params, prefix + "backingIndex", disk_storage_index(g.def, i));
        std::string id = disk_device_id(g.def, i);
        if (const auto* e = find_by_qdev(blockstats, id)) {
            const auto& st = e->at("stats").as_object();
            auto num = [&](const char* key) { return st.contains(key) ? st.at(key).to_number<u64>() : u64{0}; };
            add_stat(g.rec.params, prefix + "rd.reqs", num("rd_operations"));
            add_stat(g.rec.params, prefix + "rd.bytes", num("rd_bytes"));
            add_stat(g.rec.params, prefix + "rd.times", num("rd_total_time_ns"));
            add_stat(g.rec.params, prefix + "wr.reqs", num("wr_operations"));
            add_stat(g.rec.params, prefix + "wr.bytes", num("wr_bytes"));
            add_stat(g.rec.params, prefix + "wr.times", num("wr_total_time_ns"));
            add_stat(g.rec.params, prefix + "fl.reqs", num("flush_operations"));
            add_stat(g.rec.params, prefix + "fl.times", num("flush_total_time_ns"));
        }
        if (!d.source) continue;  // an empty drive has no storage: nothing more, as libvirt
        if (g.active) {
            // the format node's figures, by its name (libvirt-N-format), as libvirt's blockdev mode
            std::string node_name = "libvirt-" + std::to_string(disk_storage_index(g.def, i)) + "-format";
            const json::object* node = nullptr;
            if (nodes.is_array())
                for (const auto& n : nodes.as_array())
                    if (n.is_object() && n.as_object().contains("node-name") && n.at("node-name") == node_name.c_str()) node = &n.as_object();
            if (!node) continue;  // qemu gave none: libvirt stops here too
            if (const auto* e = find_by_node(node_stats, node_name))
                add_stat(g.rec.params, prefix + "allocation",
                         e->at("stats").as_object().contains("wr_highest_offset") ? e->at("stats").at("wr_highest_offset").to_number<u64>() : u64{0});
            const auto& image = node->at("image").as_object();
            u64 capacity = image.contains("virtual-size") ? image.at("virtual-size").to_number<u64>() : 0;
            u64 physical = image.contains("actual-size") ? image.at("actual-size").to_number<u64>() : 0;
            if (capacity) add_stat(g.rec.params, prefix + "capacity", capacity);
            // qemu's allocated size, or (none allocated yet) the file's size, as libvirt falls back
            struct stat st {};
            if (!physical && local && ::stat(d.source->c_str(), &st) == 0) physical = static_cast<u64>(st.st_size);
            if (physical) add_stat(g.rec.params, prefix + "physical", physical);
            continue;
        }
        // not running: the file itself (libvirt's qemuStorageLimitsRefresh for a local raw image)
        struct stat st {};
        if (!local || ::stat(d.source->c_str(), &st) != 0 || d.driver_type.value_or("raw") != "raw") continue;
        u64 allocation = static_cast<u64>(st.st_blocks) * 512;
        u64 size = S_ISREG(st.st_mode) ? static_cast<u64>(st.st_size) : 0;
        if (allocation) add_stat(g.rec.params, prefix + "allocation", allocation);
        if (size) add_stat(g.rec.params, prefix + "capacity", size);
        if (size) add_stat(g.rec.params, prefix + "physical", size);
    }
}

}  // namespace

std::vector<domain_stats_record> qemu::state::perform(op::connect_get_all_domain_stats,
                                                      const op::connect_get_all_domain_stats::args& a) {
    constexpr unsigned allowed = list_filters | domain_stats::flag_nowait | domain_stats::flag_backing |
                                 domain_stats::flag_enforce;
    if ((a.flags & ~allowed) != 0) {
        char bits[32];
        std::snprintf(bits, sizeof bits, "0x%x", a.flags & ~allowed);
        raise(error_code::invalid_arg, error_domain::qemu,
              std::string("unsupported flags (") + bits + ") in function qemuConnectGetAllDomainStats");
    }
    const unsigned groups = detail::resolve_stats_groups(a.stats, collected_groups, a.flags, error_domain::qemu);
    const bool nowait = (a.flags & domain_stats::flag_nowait) != 0;

    std::vector<obj_ptr> guests;
    {
        std::lock_guard lock(driver_->mutex);
        auto passes = [&](const domain_obj& o) {
            detail::domain_list_facts facts{.active = o.active(), .persistent = o.persistent, .managed_save = false,
                                            .autostart = o.autostart, .has_snapshot = false, .has_checkpoint = false,
                                            .state = o.state};
            return detail::matches_list_flags(a.flags & list_filters, facts);
        };
        if (a.doms.empty()) {
            for (auto& o : driver_->domains.owners())
                if (passes(*o)) guests.push_back(o);
        } else {
            for (const auto& ref : a.doms)  // missing domains are skipped, as libvirt does
                if (auto o = driver_->domains.find_by_uuid(ref.uuid); o && passes(*o)) guests.push_back(o);
        }
    }

    std::vector<domain_stats_record> out;
    out.reserve(guests.size());
    for (const auto& o : guests) {
        // the monitor is asked only while this guest's job is ours; with NOWAIT a busy guest gives
        // what needs no monitor
        std::unique_lock job(o->job, std::defer_lock);
        if (nowait) (void)job.try_lock();
        else job.lock();
        guest_facts g;
        {
            std::lock_guard lock(driver_->mutex);
            g.rec.dom = o->ref();
            g.state = o->state;
            g.reason = o->reason;
            g.active = o->active();
            g.pid = o->pid;
            g.monitor = o->monitor;
            g.def = o->current();
        }
        const bool monitor_ok = job.owns_lock();
        if (groups & domain_stats::state) state_group(g);
        if (groups & domain_stats::cpu_total) cpu_group(g, monitor_ok);
        if (groups & domain_stats::balloon) balloon_group(g, monitor_ok);
        if (groups & domain_stats::vcpu) vcpu_group(g, monitor_ok);
        if (groups & domain_stats::interface) interface_group(g);
        if (groups & domain_stats::block) block_group(g, monitor_ok);
        if (groups & domain_stats::dirtyrate) dirtyrate_group(g, monitor_ok);
        out.push_back(std::move(g.rec));
    }
    return out;
}

}  // namespace virtpp::hypervisor
