// Internal: the shared QEMU driver and its guests.
#pragma once

#include <virtpp/hypervisor/detail/domain_registry.hpp>
#include <virtpp/hypervisor/qemu.hpp>

#include "hypervisor/qemu_detail.hpp"
#include "hypervisor/qemu_jobs.hpp"
#include "hypervisor/qemu_monitor.hpp"
#include "hypervisor/network_driver.hpp"

#include <atomic>
#include <map>
#include <set>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include <virtpp/events.hpp>
#include <thread>

namespace virtpp::hypervisor {

namespace qemu_detail {

/// One guest. `job` serialises the operations on it; the other fields are guarded by the
/// driver's mutex (read under it, written under it while also holding `job`).
struct domain_obj {
    std::mutex job;
    xml::domain_def config;
    std::optional<xml::domain_def> live;
    bool persistent = false;
    bool autostart = false;
    domain_state state = domain_state::shutoff;
    int reason = reason::shutoff_unknown;

    pid_t pid = -1;
    int pidfd = -1;
    std::string monitor_path;
    std::shared_ptr<qmp_monitor> monitor;
    std::vector<std::string> taps;  ///< live tap names, in tap-interface order
    unsigned generation = 0;        ///< bumped at each start and stop; stale events are dropped
    bool stopping = false;          ///< the driver is ending this process: its exit is no crash
    bool fake_reboot = false;       ///< a powerdown that is a reboot (virDomainReboot with ACPI)
    std::string async_job;          ///< the long job running ("domain save"), for destroy's message
    std::optional<job_record> running_job;   ///< its progress, for GetJobStats and AbortJob
    std::optional<job_stats> completed_job;  ///< the last job that completed (GetJobStats COMPLETED)

    /// Where a migration of this guest stands between its steps (each step holds the job).
    enum class migration_stage { none, outgoing_done, incoming } migration = migration_stage::none;
    int migration_port = -1;                              ///< incoming: the port reserved for the stream
    const void* migration_owner = nullptr;                ///< incoming: the connection (qemu::state) that prepared it
    std::optional<xml::domain_def> config_before_migration;  ///< incoming over a defined guest: its definition

    /// A device_del the guest has not completed yet: what to clean up when DEVICE_DELETED comes.
    struct pending_unplug {
        std::string target;                ///< disk target, or "" for an interface
        std::string mac;                   ///< interface MAC, or ""
        std::vector<std::string> backend;  ///< block nodes (format, storage) or the netdev id
    };
    std::map<std::string, pending_unplug> unplugs;  ///< by device id (job held)
    std::set<std::string> deleted_devices;          ///< DEVICE_DELETED ids seen (driver mutex)

    [[nodiscard]] bool active() const noexcept { return live.has_value(); }
    [[nodiscard]] const xml::domain_def& current() const noexcept { return live ? *live : config; }
    [[nodiscard]] int id() const noexcept { return live && live->id ? *live->id : -1; }
    [[nodiscard]] domain_ref ref() const { return {current().name, *current().uuid, id()}; }
};

}  // namespace qemu_detail

struct qemu::driver {
    driver(bool privileged, qemu_detail::driver_paths paths);
    ~driver();
    driver(const driver&) = delete;
    driver& operator=(const driver&) = delete;

    bool privileged;
    qemu_detail::driver_paths paths;
    qemu_detail::driver_config config;

    /// The virtual networks guests' <interface type='network'> join (made before guests autostart).
    std::unique_ptr<network::driver> networks;

    std::mutex mutex;
    detail::object_registry<qemu_detail::domain_obj, std::shared_ptr<qemu_detail::domain_obj>> domains;
    int next_id = 1;
    std::optional<std::string> capabilities_xml;
    /// Names this driver to a migration peer, so a guest is never migrated into the driver it runs on.
    virtpp::uuid instance = virtpp::uuid::generate();
    /// Ports reserved by incoming migrations (guarded by mutex).
    std::set<int> migration_ports;
    /// Signalled (under mutex) when a guest's DEVICE_DELETED arrives.
    std::condition_variable device_deleted;
    /// Set when the driver is going away: event handlers then leave guests as they are.
    std::atomic<bool> closing{false};

    /// Runs fn on the driver's event thread (QMP events and qemu exits are handled there).
    void post(std::function<void()> fn);

    /// Domain events: queued where the change happens (under `mutex`, keeping their order),
    /// delivered on the event thread, where no driver lock is held.
    event_hub events;
    void emit(event e);
    void emit_lifecycle(const qemu_detail::domain_obj& o, int event, int detail) {
        emit(lifecycle_event(o.ref(), event, detail));
    }

    /// The pid of a running guest's qemu (tests), -1 when not running.
    [[nodiscard]] pid_t guest_pid(std::string_view name);

private:
    void event_loop();
    std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::deque<std::function<void()>> queue_;
    bool quitting_ = false;
    std::thread worker_;
};

}  // namespace virtpp::hypervisor
