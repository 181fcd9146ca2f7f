// Events: what a driver tells its listeners when a domain or network changes (libvirt's
// virConnectDomainEventRegisterAny / virConnectNetworkEventRegisterAny), with libvirt's event
// and detail numbers, and the hub a driver publishes them through.
//
//   auto sub = conn.subscribe_events([](const virtpp::event& e) {
//       if (auto* d = std::get_if<virtpp::domain_event>(&e)) std::cout << d->dom.name << '\n';
//   });
//   // events flow until `sub` is destroyed or reset()
//
// A driver queues an event while it holds its own lock (so listeners see changes in the order
// they happened) and delivers after releasing it: a handler may call back into the connection.
// Handlers run on the thread that made the change (or, for a remote connection, the
// connection's event thread), one event at a time, never two at once for one hub.
#pragma once

#include <virtpp/types.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace virtpp {

/// virDomainEventID: what a registration listens to.
namespace domain_event_id {
inline constexpr int lifecycle = 0, reboot = 1, rtc_change = 2, watchdog = 3, io_error = 4, graphics = 5,
                     io_error_reason = 6, control_error = 7, block_job = 8, disk_change = 9, tray_change = 10,
                     pmwakeup = 11, pmsuspend = 12, balloon_change = 13, pmsuspend_disk = 14, device_removed = 15,
                     block_job_2 = 16, tunable = 17, agent_lifecycle = 18, device_added = 19,
                     migration_iteration = 20, job_completed = 21, device_removal_failed = 22,
                     metadata_change = 23, block_threshold = 24, memory_failure = 25,
                     memory_device_size_change = 26;
/// libvirt 9.0's VIR_DOMAIN_EVENT_ID_LAST: ids at or over it are refused.
inline constexpr int count = 27;
/// virsh's name of each id ("lifecycle", "device-added"), "" when out of range.
std::string_view name(int id) noexcept;
}  // namespace domain_event_id

/// virDomainEventType (the lifecycle event's `event`) and, under each, its detail numbers.
namespace domain_lifecycle {
inline constexpr int defined = 0, undefined = 1, started = 2, suspended = 3, resumed = 4, stopped = 5,
                     shutdown = 6, pmsuspended = 7, crashed = 8;
namespace defined_detail { inline constexpr int added = 0, updated = 1, renamed = 2, from_snapshot = 3; }
namespace undefined_detail { inline constexpr int removed = 0, renamed = 1; }
namespace started_detail { inline constexpr int booted = 0, migrated = 1, restored = 2, from_snapshot = 3, wakeup = 4; }
namespace suspended_detail {
inline constexpr int paused = 0, migrated = 1, ioerror = 2, watchdog = 3, restored = 4, from_snapshot = 5,
                     api_error = 6, postcopy = 7, postcopy_failed = 8;
}
namespace resumed_detail { inline constexpr int unpaused = 0, migrated = 1, from_snapshot = 2, postcopy = 3; }
namespace stopped_detail {
inline constexpr int shutdown = 0, destroyed = 1, crashed = 2, migrated = 3, saved = 4, failed = 5, from_snapshot = 6;
}
namespace shutdown_detail { inline constexpr int finished = 0, guest = 1, host = 2; }
}  // namespace domain_lifecycle

/// virNetworkEventID and virNetworkEventLifecycleType.
namespace network_event_id {
inline constexpr int lifecycle = 0;
inline constexpr int count = 1;  ///< libvirt 9.0's VIR_NETWORK_EVENT_ID_LAST
}  // namespace network_event_id
namespace network_lifecycle {
inline constexpr int defined = 0, undefined = 1, started = 2, stopped = 3;
}

/// One domain event. `id` says which fields carry meaning: lifecycle (event, detail), device
/// added / removed / removal failed (device_alias), rtc-change (rtc_offset), reboot (none),
/// tray-change (device_alias, reason), pmsuspend / pmwakeup (reason), balloon-change
/// (balloon_actual_kib), job-completed (job_stats).
struct domain_event {
    domain_ref dom;
    int id = domain_event_id::lifecycle;
    int event = 0;
    int detail = 0;
    std::string device_alias;
    std::int64_t rtc_offset = 0;
    int reason = 0;                        ///< tray-change (0 open, 1 close), pmsuspend / pmwakeup
    std::uint64_t balloon_actual_kib = 0;  ///< balloon-change
    std::vector<typed_param> job_stats;    ///< job-completed: virDomainGetJobStats' fields
    friend bool operator==(const domain_event&, const domain_event&) = default;
};

/// One network lifecycle event (network_lifecycle::*, detail 0).
struct network_event {
    network_ref net;
    int id = network_event_id::lifecycle;
    int event = 0;
    int detail = 0;
    friend bool operator==(const network_event&, const network_event&) = default;
};

/// The connection itself ended under its user (libvirt's close callback,
/// virConnectRegisterCloseCallback): a remote connection's subscribers get it once when the link
/// drops (keepalive timeout, end of file, I/O error); nothing comes after it. Not sent when the
/// program closes the connection itself.
namespace close_reason {
inline constexpr int error = 0, eof = 1, keepalive = 2, client = 3;  ///< VIR_CONNECT_CLOSE_REASON_*
}
struct connection_closed_event {
    int reason = close_reason::error;
    std::string message;  ///< the error that every pending call failed with
    friend bool operator==(const connection_closed_event&, const connection_closed_event&) = default;
};

using event = std::variant<domain_event, network_event, connection_closed_event>;
using event_handler = std::function<void(const event&)>;

/// A domain lifecycle event, the common case.
[[nodiscard]] inline domain_event lifecycle_event(domain_ref dom, int event, int detail) {
    domain_event e;
    e.dom = std::move(dom);
    e.id = domain_event_id::lifecycle;
    e.event = event;
    e.detail = detail;
    return e;
}

class event_hub;
namespace detail {
struct event_hub_state;
}

/// A handler's registration with a hub: move-only, deregisters when destroyed or reset(). A
/// handler that is running on another thread at that moment finishes its current event.
class event_subscription {
public:
    event_subscription() = default;
    event_subscription(event_subscription&& other) noexcept;
    event_subscription& operator=(event_subscription&& other) noexcept;
    event_subscription(const event_subscription&) = delete;
    event_subscription& operator=(const event_subscription&) = delete;
    ~event_subscription();

    void reset() noexcept;
    [[nodiscard]] bool active() const noexcept { return !hub_.expired(); }

private:
    friend class event_hub;
    event_subscription(std::weak_ptr<detail::event_hub_state> hub, std::uint64_t id) : hub_(std::move(hub)), id_(id) {}
    std::weak_ptr<detail::event_hub_state> hub_;
    std::uint64_t id_ = 0;
};

/// Where a driver publishes events: handlers subscribe, the driver queues and delivers.
class event_hub {
public:
    event_hub();
    event_hub(const event_hub&) = delete;
    event_hub& operator=(const event_hub&) = delete;

    [[nodiscard]] event_subscription subscribe(event_handler handler);
    /// Adds an event to the queue (cheap; call it under the driver's lock to keep the order).
    void queue(event e);
    /// Runs the handlers for every queued event; returns at once when another thread is
    /// delivering (that thread takes these too). Call it without the driver's lock held.
    void deliver() noexcept;
    [[nodiscard]] bool has_subscribers() const;

    /// Delivers when destroyed: declare it before the driver's lock guard, so it runs after
    /// the lock is released, also when the operation throws.
    class deliver_on_exit {
    public:
        explicit deliver_on_exit(event_hub& hub) noexcept : hub_(hub) {}
        deliver_on_exit(const deliver_on_exit&) = delete;
        deliver_on_exit& operator=(const deliver_on_exit&) = delete;
        ~deliver_on_exit() { hub_.deliver(); }

    private:
        event_hub& hub_;
    };

private:
    std::shared_ptr<detail::event_hub_state> state_;
};

}  // namespace virtpp
