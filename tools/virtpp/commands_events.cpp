// event and net-event: virsh's commands that wait for domain and network events and print one
// line each, as virsh 9.0 prints them. Handlers run on the connection's event thread; they only
// queue the line, and the command's thread prints it, so output never interleaves.
#include "command_util.hpp"
#include "typed_param_text.hpp"

#include <virtpp/events.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <sys/time.h>

namespace virtpp::cli {

namespace {

std::atomic<bool> interrupted{false};
extern "C" void on_interrupt(int) { interrupted = true; }

/// SIGINT ends the wait (virsh's "event loop interrupted") while the command runs.
class interrupt_scope {
public:
    interrupt_scope() {
        interrupted = false;
        struct sigaction sa {};
        sa.sa_handler = on_interrupt;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGINT, &sa, &old_);
    }
    interrupt_scope(const interrupt_scope&) = delete;
    interrupt_scope& operator=(const interrupt_scope&) = delete;
    ~interrupt_scope() { ::sigaction(SIGINT, &old_, nullptr); }

private:
    struct sigaction old_ {};
};

/// virTimeStringNowRaw: "2026-12-05 13:06:13.016+0000" (UTC).
std::string timestamp_now() {
    timeval tv{};
    ::gettimeofday(&tv, nullptr);
    std::tm tm{};
    ::gmtime_r(&tv.tv_sec, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d+0000", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(tv.tv_usec / 1000));
    return buf;
}

std::string_view lifecycle_name(int event) {
    static constexpr std::array<std::string_view, 9> names{"Defined", "Undefined", "Started",     "Suspended", "Resumed",
                                                           "Stopped", "Shutdown",  "PMSuspended", "Crashed"};
    return event >= 0 && event < static_cast<int>(names.size()) ? names[static_cast<std::size_t>(event)] : "unknown";
}

std::string_view lifecycle_detail_name(int event, int detail) {
    static constexpr std::string_view defined[] = {"Added", "Updated", "Renamed", "Snapshot"};
    static constexpr std::string_view undefined[] = {"Removed", "Renamed"};
    static constexpr std::string_view started[] = {"Booted", "Migrated", "Restored", "Snapshot", "Event wakeup"};
    static constexpr std::string_view suspended[] = {"Paused",   "Migrated",  "I/O Error", "Watchdog",       "Restored",
                                                     "Snapshot", "API error", "Post-copy", "Post-copy Error"};
    static constexpr std::string_view resumed[] = {"Unpaused", "Migrated", "Snapshot", "Post-copy", "Post-copy Error"};
    static constexpr std::string_view stopped[] = {"Shutdown", "Destroyed", "Crashed", "Migrated",
                                                   "Saved",    "Failed",    "Snapshot"};
    static constexpr std::string_view shutdown[] = {"Finished", "Finished after guest request", "Finished after host request"};
    static constexpr std::string_view pmsuspended[] = {"Memory", "Disk"};
    static constexpr std::string_view crashed[] = {"Panicked", "Crashloaded"};
    auto pick = [&](std::span<const std::string_view> names) -> std::string_view {
        return detail >= 0 && detail < static_cast<int>(names.size()) ? names[static_cast<std::size_t>(detail)] : "unknown";
    };
    switch (event) {
    case domain_lifecycle::defined: return pick(defined);
    case domain_lifecycle::undefined: return pick(undefined);
    case domain_lifecycle::started: return pick(started);
    case domain_lifecycle::suspended: return pick(suspended);
    case domain_lifecycle::resumed: return pick(resumed);
    case domain_lifecycle::stopped: return pick(stopped);
    case domain_lifecycle::shutdown: return pick(shutdown);
    case domain_lifecycle::pmsuspended: return pick(pmsuspended);
    case domain_lifecycle::crashed: return pick(crashed);
    default: return "unknown";
    }
}

/// virsh's line for a domain event, "" for kinds it would not be registered for here.
std::string domain_event_line(const domain_event& e) {
    std::string head = "event '" + std::string(domain_event_id::name(e.id)) + "' for domain '" + e.dom.name + "'";
    switch (e.id) {
    case domain_event_id::lifecycle:
        return head + ": " + std::string(lifecycle_name(e.event)) + " " + std::string(lifecycle_detail_name(e.event, e.detail)) + "\n";
    case domain_event_id::rtc_change: return head + ": " + std::to_string(e.rtc_offset) + "\n";
    case domain_event_id::device_added:
    case domain_event_id::device_removed:
    case domain_event_id::device_removal_failed: return head + ": " + e.device_alias + "\n";
    case domain_event_id::tray_change:
        return head + " disk " + e.device_alias + ": " + (e.reason == 0 ? "opened" : e.reason == 1 ? "closed" : "unknown") + "\n";
    case domain_event_id::balloon_change: return head + ": " + std::to_string(e.balloon_actual_kib) + " KiB\n";
    case domain_event_id::job_completed: {
        std::string out = head + ":\n";
        for (const auto& p : e.job_stats) {
            std::string value = typed_param_text(p);
            out += "\t" + p.field + ": " + value + "\n";
        }
        return out;
    }
    default: return head + "\n";  // virshEventGenericPrint: reboot, control-error
    }
}

std::string network_event_line(const network_event& e) {
    static constexpr std::string_view names[] = {"Defined", "Undefined", "Started", "Stopped"};
    std::string_view what = e.event >= 0 && e.event < 4 ? names[e.event] : "unknown";
    return "event 'lifecycle' for network " + e.net.name + ": " + std::string(what) + "\n";
}

/// What the handler hands the command's thread.
struct line_queue {
    std::mutex m;
    std::condition_variable wake;
    std::deque<std::string> lines;
    std::optional<int> closed;  ///< the connection dropped (close_reason::*): the wait ends
    void push(std::string line) {
        std::lock_guard lock(m);
        lines.push_back(std::move(line));
        wake.notify_one();
    }
    void close(int reason) {
        std::lock_guard lock(m);
        closed = reason;
        wake.notify_one();
    }
};

/// vshCommandOptTimeoutToMs: --timeout in seconds, 1 .. INT_MAX/1000; 0 = none.
bool timeout_option(shell& sh, const parsed_command& cmd, int& seconds) {
    seconds = 0;
    std::optional<unsigned> t;
    if (!sh.opt_uint(cmd, "timeout", t)) return false;
    if (!t) return true;
    if (*t == 0 || *t > 2147483647U / 1000) {
        sh.error("Numeric value '" + std::to_string(*t) + "' for <timeout> option is malformed or out of range");
        return false;
    }
    seconds = static_cast<int>(*t);
    return true;
}

/// The wait of both commands: prints queued lines (with the timestamp taken when the event came)
/// until the first (without --loop), the timeout or SIGINT; then virsh's closing lines.
bool wait_and_print(shell& sh, line_queue& q, bool loop, int timeout_seconds) {
    interrupt_scope sigint;
    int count = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
    enum { done, timed_out, interrupt, disconnected } why = done;
    std::unique_lock lock(q.m);
    for (;;) {
        while (!q.lines.empty()) {
            auto line = std::move(q.lines.front());
            q.lines.pop_front();
            lock.unlock();
            sh.print(line);
            ++count;
            lock.lock();
            if (!loop) break;
        }
        if (!loop && count > 0) break;
        if (q.closed) {
            why = disconnected;
            break;
        }
        if (interrupted) {
            why = interrupt;
            break;
        }
        if (timeout_seconds > 0 && std::chrono::steady_clock::now() >= deadline) {
            why = timed_out;
            break;
        }
        q.wake.wait_for(lock, std::chrono::milliseconds(100));  // also the SIGINT poll
    }
    lock.unlock();
    if (why == disconnected) {
        // virsh's close callback (virshCatchDisconnect) ends the wait with the reason
        const char* cause = *q.closed == close_reason::keepalive ? "keepalive timeout"
                            : *q.closed == close_reason::eof     ? "end of file"
                                                                  : "I/O error";
        auto* conn = sh.connection();
        sh.error("Disconnected from " + (conn != nullptr ? conn->uri() : std::string()) + " due to " + cause);
    }
    if (why == interrupt) sh.print("event loop interrupted\n");
    if (why == timed_out) sh.print("event loop timed out\n");
    sh.print("events received: " + std::to_string(count) + "\n");
    if (why == disconnected) {
        // and its deregistration then fails on the closed socket
        sh.error("internal error: client socket is closed");
        return false;
    }
    return count > 0;
}

bool cmd_event(shell& sh, const parsed_command& cmd) {
    if (!exclusive_options(sh, cmd, "all", "event") || !exclusive_options(sh, cmd, "list", "all") ||
        !exclusive_options(sh, cmd, "list", "event"))
        return false;
    if (cmd.has("list")) {
        for (int id = 0; id < domain_event_id::count; ++id) sh.print(std::string(domain_event_id::name(id)) + "\n");
        return true;
    }
    std::optional<std::string> name;
    if (!sh.opt_string(cmd, "event", name)) return false;
    if (!name && !cmd.has("all")) {
        sh.error("one of --list, --all, or --event <type> is required");
        return false;
    }
    int wanted = -1;  // every id (--all)
    if (name) {
        for (int id = 0; id < domain_event_id::count; ++id)
            if (domain_event_id::name(id) == *name) wanted = id;
        if (wanted < 0) {
            sh.error("unknown event type " + *name);
            return false;
        }
    }
    int timeout = 0;
    if (!timeout_option(sh, cmd, timeout)) return false;
    std::optional<virtpp::uuid> only;
    if (cmd.has("domain")) {
        auto dom = sh.domain(cmd);
        if (!dom) return false;
        only = dom->uuid();
    }
    auto* conn = sh.connection();
    if (conn == nullptr) return false;
    const bool stamp = cmd.has("timestamp");
    // shared with the handler: it may still be running on the event thread as the subscription ends
    auto q = std::make_shared<line_queue>();
    event_subscription sub;
    try {
        sub = conn->subscribe_events([q, wanted, only, stamp](const event& e) {
            if (const auto* c = std::get_if<connection_closed_event>(&e)) return q->close(c->reason);
            const auto* d = std::get_if<domain_event>(&e);
            if (d == nullptr || (wanted >= 0 && d->id != wanted) || (only && d->dom.uuid != *only)) return;
            auto line = domain_event_line(*d);
            q->push(stamp ? timestamp_now() + ": " + line : line);
        });
    } catch (const virtpp::error&) {
        return false;
    }
    return wait_and_print(sh, *q, cmd.has("loop"), timeout);
}

bool cmd_net_event(shell& sh, const parsed_command& cmd) {
    if (!exclusive_options(sh, cmd, "list", "event")) return false;
    if (cmd.has("list")) {
        sh.print("lifecycle\n");
        return true;
    }
    std::optional<std::string> name;
    if (!sh.opt_string(cmd, "event", name)) return false;
    if (!name) {
        sh.error("either --list or --event <type> is required");
        return false;
    }
    if (*name != "lifecycle") {
        sh.error("unknown event type " + *name);
        return false;
    }
    int timeout = 0;
    if (!timeout_option(sh, cmd, timeout)) return false;
    auto* conn = sh.connection();  // first: it clears the last error, which a failed lookup keeps
    if (conn == nullptr) return false;
    std::optional<virtpp::uuid> only;
    if (cmd.has("network")) {
        // virsh 9.0 goes on without the filter when the lookup fails (its error is reported at the end)
        if (auto net = sh.network(cmd)) only = net->uuid();
    }
    const bool stamp = cmd.has("timestamp");
    auto q = std::make_shared<line_queue>();
    event_subscription sub;
    try {
        sub = conn->subscribe_events([q, only, stamp](const event& e) {
            if (const auto* c = std::get_if<connection_closed_event>(&e)) return q->close(c->reason);
            const auto* n = std::get_if<network_event>(&e);
            if (n == nullptr || (only && n->net.uuid != *only)) return;
            auto line = network_event_line(*n);
            q->push(stamp ? timestamp_now() + ": " + line : line);
        });
    } catch (const virtpp::error&) {
        return false;
    }
    return wait_and_print(sh, *q, cmd.has("loop"), timeout);
}

constexpr handler_entry handlers[] = {
    {"event", cmd_event},
    {"net-event", cmd_net_event},
};

}  // namespace

std::span<const handler_entry> event_handlers() { return handlers; }

}  // namespace virtpp::cli
