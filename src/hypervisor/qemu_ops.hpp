// Internal: what the QEMU driver's operation files share — small helpers, the guest operations
// performed with a guest's job lock held (ops, defined in qemu_ops.cpp), and the guard that takes
// that lock (guest_job).
#pragma once

#include "hypervisor/qemu_driver.hpp"
#include "hypervisor/qemu_defaults.hpp"
#include "hypervisor/qemu_process.hpp"
#include "xml/tree.hpp"

#include <virtpp/xml/node_info.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <map>
#include <netinet/in.h>
#include <pwd.h>
#include <random>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace virtpp::hypervisor {

namespace json = boost::json;
using namespace qemu_detail;
using obj_ptr = std::shared_ptr<domain_obj>;

namespace qemu_detail {


constexpr unsigned start_paused = 1U;  // VIR_DOMAIN_START_PAUSED / VIR_DOMAIN_NONE

/// The QOM object of the virtio balloon (-device ...,id=balloon0): its guest-stats property and
/// guest-stats-polling-interval, as libvirt finds them.
inline constexpr const char* balloon_qom_path = "/machine/peripheral/balloon0";

// ---- small helpers ---------------------------------------------------------------------------

std::string now_stamp();

/// Appends to a guest's log (a path of log_file()): opened relative to its directory, no links.
void append_log(const std::string& path, const std::string& text);

std::string random_mac();

[[noreturn]] inline void not_running() { fail(error_code::operation_invalid, "domain is not running"); }

/// The live taps, in tap-interface order, from the live definition (caller holds the driver mutex).
void refresh_taps(domain_obj& o);

std::string host_arch();

std::string disk_device_id(const xml::domain_def& def, std::size_t index);

/// utime + stime of /proc/<pid>[/task/<tid>]/stat in ns, and the CPU it last ran on.
std::pair<std::uint64_t, int> proc_cpu(pid_t pid, std::optional<pid_t> tid = std::nullopt);

std::vector<bool> affinity_of(pid_t tid, unsigned host_cpus);

/// "1-4,8-20,^3" -> the listed CPUs.
std::vector<int> parse_cpuset(const std::string& text);

unsigned host_cpu_count();

/// A free TCP port for VNC, from 5900 up, on the listen address.
int free_vnc_port(const std::string& listen);

// ---- the driver registry: one driver per state directory -------------------------------------

inline std::mutex registry_mutex;
inline std::map<std::string, std::weak_ptr<qemu::driver>>& registry() {
    static std::map<std::string, std::weak_ptr<qemu::driver>> r;
    return r;
}


}  // namespace qemu_detail

namespace qemu_detail {

struct ops {
    qemu::driver& d;

    obj_ptr find(const virtpp::uuid& id) { return d.domains.find_by_uuid(id); }
    obj_ptr find_name(std::string_view name) { return d.domains.find_by_name(name); }
    obj_ptr lookup(const domain_ref& ref);

    std::string config_file(const std::string& name) const { return d.paths.config_dir + "/" + name + ".xml"; }
    std::string autostart_link(const std::string& name) const { return d.paths.autostart_dir + "/" + name + ".xml"; }
    std::string status_file(const std::string& name) const { return d.paths.run_dir + "/" + name + ".json"; }
    std::string log_file(const std::string& name) const { return d.paths.log_dir + "/" + name + ".log"; }

    // -- definitions

    /// libvirt's post-parse for the QEMU driver: type, arch, emulator, machine, uuid, MACs, balloon, console.
    /// source_xml: the definition as written, when the caller has it (see complete_pc_devices).
    void fill_defaults(xml::domain_def& def, std::string_view source_xml = {});

    /// libvirt's rules for a new definition against the existing ones (caller holds d.mutex).
    obj_ptr check_clash(const xml::domain_def& def, bool for_start);

    /// The guest a start from outside its definition (restore, incoming migration) runs as: the
    /// defined one of that name and UUID, else a new transient one (created: true).
    std::pair<obj_ptr, bool> existing_or_transient(const xml::domain_def& def);

    void save_config(const xml::domain_def& def);

    // -- status of running guests

    void write_status(domain_obj& o);

    // -- starting

    std::unique_ptr<qmp_monitor> make_monitor(const obj_ptr& o, const std::string& path);

    /// Starts qemu for o (job held, o inactive). incoming_fd: a restore stream to read, completely,
    /// before this returns; incoming_uri: where to listen for a migration stream (not waited for).
    void start(const obj_ptr& o, bool paused, int incoming_fd = -1, int running_reason = reason::running_booted,
               const std::string& incoming_uri = {}) {
        // An automatic VNC port is free when picked but may be taken (by another daemon's guest)
        // before qemu binds it: qemu then exits at once, before reading anything; pick again.
        for (int attempt = 1;; ++attempt) {
            try {
                start_once(o, paused, incoming_fd, running_reason, incoming_uri);
                return;
            } catch (const virtpp::error& e) {
                bool vnc_autoport = false;
                {
                    std::lock_guard lock(d.mutex);
                    for (const auto& g : o->config.devices.graphics)
                        if (g.type == xml::graphics_type::vnc && (g.autoport || g.port <= 0)) vnc_autoport = true;
                }
                const auto& m = e.info().message;
                if (attempt >= 3 || !vnc_autoport || m.find("-vnc") == std::string::npos ||
                    m.find("Address already in use") == std::string::npos)
                    throw;
            }
        }
    }

    void start_once(const obj_ptr& o, bool paused, int incoming_fd, int running_reason, const std::string& incoming_uri);

    // -- stopping

    /// Ends the guest's process (if still there) and forgets its runtime state (job held).
    void stop(const obj_ptr& o, domain_state final_state, int final_reason, const std::string& why);

    // -- events, on the driver's event thread

    void on_event(const std::weak_ptr<domain_obj>& weak, unsigned gen, const std::string& name, const json::object& data);

    void on_exit(const std::weak_ptr<domain_obj>& weak, unsigned gen);

    void apply_action(const obj_ptr& o, xml::lifecycle_action action, int shutoff_reason, const std::string& why);

    // -- re-attaching to guests a previous driver left running

    /// The names in dir that end with suffix (and are more than it), sorted; none if dir is missing.
    static std::vector<std::string> files_ending(const std::string& dir_path, std::string_view suffix);

    void reattach_all();

    /// FILE: a status file of run_dir.
    void reattach(const std::string& file);

    void load_configs();

    void autostart_all();

    // -- checks on a guest taken under its job lock

    // -- hot-unplug completion (job held)

    /// Removes the device the guest let go of from the live XML and frees its backend; false
    /// when no detach was waiting for that id.
    bool finish_unplug(const obj_ptr& o, qmp_monitor& mon, const std::string& id);

    std::shared_ptr<qmp_monitor> running_monitor(const obj_ptr& o);
};

}  // namespace qemu_detail

namespace qemu_detail {

/// The job record of a long job for its duration (GetJobStats, AbortJob read it): made at
/// construction, kept as the completed job's statistics by complete(), dropped at destruction.
class job_scope {
public:
    job_scope(qemu::driver& d, obj_ptr o, int operation, std::string name, job_stats_kind kind) : d_(d), o_(std::move(o)) {
        job_record r;
        r.operation = operation;
        r.name = std::move(name);
        r.kind = kind;
        r.started_ms = wall_ms();
        std::lock_guard lock(d_.mutex);
        o_->running_job = std::move(r);
    }
    job_scope(const job_scope&) = delete;
    job_scope& operator=(const job_scope&) = delete;
    ~job_scope() {
        std::lock_guard lock(d_.mutex);
        o_->running_job.reset();
    }
    /// Changes the record under the driver mutex.
    template <class F>
    void update(F&& f) {
        std::lock_guard lock(d_.mutex);
        if (o_->running_job) f(*o_->running_job);
    }
    /// Keeps the job's statistics as the completed job's. With `announce`, also emits the
    /// job-completed event carrying them, as libvirt does when a migration stream into a file
    /// (save, core dump) ends; an outgoing migration announces at confirm (announce_completed).
    void complete(bool announce = false) {
        std::optional<job_stats> done;
        {
            std::lock_guard lock(d_.mutex);
            if (o_->running_job) o_->completed_job = stats_of(*o_->running_job, job_type::completed);
            if (announce) done = o_->completed_job;
        }
        if (done) announce_completed(d_, *o_, *done);
    }

    static void announce_completed(qemu::driver& d, const domain_obj& o, const job_stats& stats) {
        domain_event e;
        {
            std::lock_guard lock(d.mutex);
            e.dom = o.ref();
        }
        e.id = domain_event_id::job_completed;
        e.job_stats = stats.params;
        d.emit(std::move(e));
    }

private:
    qemu::driver& d_;
    obj_ptr o_;
};

/// Waits for an outgoing migration stream (save, dump, migration) to finish, recording its
/// progress in the guest's job record; a destroy meanwhile aborts the job, and so does
/// virDomainAbortJob (the stream is cancelled: the caller's undo resumes the guest).
void wait_migration(qemu::driver& d, const obj_ptr& o, qmp_monitor& mon, const std::string& job);

/// Sets the rate of a stream into a file (save, dump): unlimited as libvirt, unless qemu.conf's
/// save_max_bandwidth says otherwise.
void set_file_stream_rate(qemu::driver& d, qmp_monitor& mon);

/// After a failed outgoing stream (save, migration): a destroy meanwhile is the error to report;
/// otherwise the stream is cancelled when asked and a guest that was running runs on. Returns when
/// the caller should rethrow its own error.
inline void undo_outgoing_stream(qemu::driver& d, const obj_ptr& o, qmp_monitor& mon, const std::string& job, bool cancel,
                          bool was_running, int resumed_reason) {
    {
        std::lock_guard lock(d.mutex);
        if (o->stopping || !o->live)
            fail(error_code::operation_aborted, job + " job: the domain was destroyed while the job ran");
    }
    try {
        if (cancel) mon.execute("migrate_cancel");
        if (!was_running) return;
        mon.execute("cont");
        std::lock_guard lock(d.mutex);
        o->state = domain_state::running;
        o->reason = resumed_reason;
    } catch (const virtpp::error&) {
        // the guest is gone too; the exit event records it
    }
}


}  // namespace qemu_detail

namespace qemu_detail {
/// A guest's job for one qemu::state operation: the guest looked up and its job lock held until
/// the guard leaves scope (libvirt's virDomainObjBeginJob / EndJob):
///   guest_job job(*driver_, a.dom);
///   auto& g = job.g; auto& o = job.o;
struct guest_job {
    ops g;
    obj_ptr o;
    std::unique_lock<std::mutex> lock;

    guest_job(qemu::driver& d, const domain_ref& ref) : g{d}, o(g.lookup(ref)), lock(o->job) {}
    guest_job(const guest_job&) = delete;
    guest_job& operator=(const guest_job&) = delete;
};
}  // namespace qemu_detail

}  // namespace virtpp::hypervisor
