// Domain jobs: domjobinfo, domjobabort, and the watcher save, dump and migrate run under.
#include "command_util.hpp"
#include "job_watch.hpp"
#include "shell.hpp"

#include <virtpp/job.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <poll.h>
#include <pthread.h>
#include <termios.h>
#include <thread>
#include <unistd.h>

namespace virtpp::cli {

namespace {

volatile std::sig_atomic_t interrupt_caught = 0;

extern "C" void catch_interrupt(int) { interrupt_caught = 1; }

/// vshTTYDisableInterrupt / vshTTYRestore: once the job runs, ^C is read as a character (so
/// it aborts the job instead of killing virtpp); the terminal is restored at the end.
class terminal_interrupt {
public:
    terminal_interrupt() {
        tty_ = ::isatty(STDIN_FILENO) != 0 && ::tcgetattr(STDIN_FILENO, &saved_) == 0;
    }
    terminal_interrupt(const terminal_interrupt&) = delete;
    terminal_interrupt& operator=(const terminal_interrupt&) = delete;
    ~terminal_interrupt() {
        if (changed_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
    }
    [[nodiscard]] bool tty() const noexcept { return tty_; }
    [[nodiscard]] bool reading() const noexcept { return changed_; }
    void disable() {
        if (!tty_ || changed_ || saved_.c_cc[VINTR] == _POSIX_VDISABLE) return;
        termios t = saved_;
        t.c_cc[VINTR] = _POSIX_VDISABLE;
        t.c_lflag &= ~static_cast<tcflag_t>(ICANON);
        changed_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
    }
    /// True when the user typed the interrupt character (or stdin closed) within timeout_ms.
    bool wait_for_interrupt(int timeout_ms) {
        pollfd p{STDIN_FILENO, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) return false;
        if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return true;
        char c = 0;
        return ::read(STDIN_FILENO, &c, 1) == 1 && c == static_cast<char>(saved_.c_cc[VINTR]);
    }

private:
    termios saved_{};
    bool tty_ = false;
    bool changed_ = false;
};

/// vshPrettyCapacity printed as domjobinfo prints it ("%-.3lf %s").
std::string job_capacity(std::uint64_t value) {
    auto c = pretty_capacity(value);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%-.3f %s", c.value, c.unit);
    return buf;
}

std::string line(std::string_view label, std::string_view value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%-17s ", std::string(label).c_str());
    return buf + std::string(value) + "\n";
}

std::string padded(std::uint64_t v, int width, std::string_view suffix = {}) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%-*llu", width, static_cast<unsigned long long>(v));
    return buf + std::string(suffix);
}

std::string_view job_type_name(int type) {
    static constexpr std::string_view names[] = {"None", "Bounded", "Unbounded", "Completed", "Failed", "Cancelled"};
    return type >= 0 && type < static_cast<int>(std::size(names)) ? names[type] : "unknown";
}

std::string_view job_operation_name(int op) {
    static constexpr std::string_view names[] = {"Unknown", "Start", "Save", "Restore", "Incoming migration",
                                                 "Outgoing migration", "Snapshot", "Snapshot revert", "Dump",
                                                 "Backup", "Snapshot delete"};
    return op >= 0 && op < static_cast<int>(std::size(names)) ? names[op] : "unknown";
}

std::string typed_value(const typed_param& p) {
    return std::visit(
        [](const auto& v) -> std::string {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, std::string>) return v;
            else if constexpr (std::is_same_v<V, bool>) return v ? "1" : "0";
            else if constexpr (std::is_same_v<V, double>) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "%lf", v);
                return buf;
            } else return std::to_string(v);
        },
        p.value);
}

bool cmd_domjobinfo(shell& sh, const parsed_command& cmd) {
    if (!require_option(sh, cmd, "keep-completed", "completed")) return false;
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    const bool rawstats = cmd.has("rawstats");
    unsigned flags = 0;
    if (cmd.has("completed")) flags |= job_stats_flags::completed;
    if (cmd.has("keep-completed")) flags |= job_stats_flags::keep_completed;
    job_stats stats;
    job_info info;
    // virsh asks for the statistics, and falls back to the plain record where they are missing
    try {
        stats = dom->call<op::domain_get_job_stats>({dom->ref(), flags});
        info = job_info_from_stats(stats);
    } catch (const virtpp::error& e) {
        if (e.code() != error_code::no_support) return false;
        if (flags != 0 || rawstats) {
            // virsh reports this, then (as the command failed) the library's error it kept
            sh.error("Optional flags or --rawstats are not supported by the daemon");
            return false;
        }
        sh.reset_last_error();
        try {
            info = dom->call<op::domain_get_job_info>({dom->ref()});
        } catch (const virtpp::error&) {
            return false;
        }
        stats = {};
        stats.type = info.type;
    }
    if (rawstats) {
        std::string out = "Job type: " + std::to_string(info.type) + "\n\n";
        for (const auto& p : stats.params) out += p.field + ": " + typed_value(p) + "\n";
        sh.print(out);
        return true;
    }
    std::string out;
    {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%-17s %-12s\n", "Job type:", std::string(job_type_name(info.type)).c_str());
        out += buf;
    }
    if (info.type == job_type::none) {
        sh.print(out);
        return true;
    }
    {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%-17s %-12s\n", "Operation:",
                      std::string(job_operation_name(stats.i32(job_field::operation).value_or(job_operation::unknown))).c_str());
        out += buf;
    }
    if (!cmd.has("anystats") && info.type != job_type::bounded && info.type != job_type::unbounded &&
        (!(flags & job_stats_flags::completed) || info.type != job_type::completed)) {
        sh.print(out);
        return true;
    }
    auto u64 = [&](std::string_view f) { return stats.u64(f); };
    out += line("Time elapsed:", padded(info.time_elapsed, 12, " ms"));
    if (auto v = u64("time_elapsed_net")) out += line("Time elapsed w/o network:", padded(*v, 12, " ms"));
    if (info.type == job_type::bounded) out += line("Time remaining:", padded(info.time_remaining, 12, " ms"));
    if (info.data_total || info.data_remaining || info.data_processed) {
        out += line("Data processed:", job_capacity(info.data_processed));
        out += line("Data remaining:", job_capacity(info.data_remaining));
        out += line("Data total:", job_capacity(info.data_total));
    }
    if (info.mem_total || info.mem_remaining || info.mem_processed) {
        out += line("Memory processed:", job_capacity(info.mem_processed));
        out += line("Memory remaining:", job_capacity(info.mem_remaining));
        out += line("Memory total:", job_capacity(info.mem_total));
        if (auto v = u64(job_field::memory_bps); v && *v) out += line("Memory bandwidth:", job_capacity(*v) + "/s");
        if (auto v = u64(job_field::memory_dirty_rate)) out += line("Dirty rate:", padded(*v, 12, " pages/s"));
        if (auto v = u64(job_field::memory_page_size)) out += line("Page size:", padded(*v, 12, " bytes"));
        if (auto v = u64(job_field::memory_iteration)) out += line("Iteration:", padded(*v, 12));
        if (auto v = u64(job_field::memory_postcopy_requests)) out += line("Postcopy requests:", padded(*v, 12));
    }
    if (info.file_total || info.file_remaining || info.file_processed) {
        out += line("File processed:", job_capacity(info.file_processed));
        out += line("File remaining:", job_capacity(info.file_remaining));
        out += line("File total:", job_capacity(info.file_total));
        if (auto v = u64(job_field::disk_bps); v && *v) out += line("File bandwidth:", job_capacity(*v) + "/s");
    }
    if (auto v = u64(job_field::memory_constant)) out += line("Constant pages:", padded(*v, 12));
    if (auto v = u64(job_field::memory_normal)) out += line("Normal pages:", padded(*v, 12));
    if (auto v = u64(job_field::memory_normal_bytes)) out += line("Normal data:", job_capacity(*v));
    if (auto v = u64(job_field::downtime))
        out += line(info.type == job_type::completed ? "Total downtime:" : "Expected downtime:", padded(*v, 12, " ms"));
    if (auto v = u64("downtime_net")) out += line("Downtime w/o network:", padded(*v, 12, " ms"));
    if (auto v = u64(job_field::setup_time)) out += line("Setup time:", padded(*v, 12, " ms"));
    if (auto v = u64("compression_cache")) out += line("Compression cache:", job_capacity(*v));
    if (auto v = u64("compression_bytes")) out += line("Compressed data:", job_capacity(*v));
    if (auto v = u64("compression_pages")) out += line("Compressed pages:", padded(*v, 13));
    if (auto v = u64("compression_cache_misses")) out += line("Compression cache misses:", padded(*v, 13));
    if (auto v = u64("compression_overflow")) out += line("Compression overflows:", padded(*v, 13));
    if (auto v = stats.i32("auto_converge_throttle")) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%-13d", *v);
        out += line("Auto converge throttle:", buf);
    }
    if (auto v = u64("disk_temp_used")) out += line("Temporary disk space use:", job_capacity(*v));
    if (auto v = u64("disk_temp_total")) out += line("Temporary disk space total:", job_capacity(*v));
    for (const auto& p : stats.params)
        if (p.field == job_field::errmsg)
            if (const auto* s = std::get_if<std::string>(&p.value)) out += line("Error message:", *s);
    sh.print(out);
    return true;
}

bool cmd_domjobabort(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    unsigned flags = cmd.has("postcopy") ? 1U : 0U;  // VIR_DOMAIN_ABORT_JOB_POSTCOPY
    try {
        dom->call<op::domain_abort_job>({dom->ref(), flags});
    } catch (const virtpp::error& e) {
        // with flags virsh calls virDomainAbortJobFlags: a driver without jobs names that API
        if (flags != 0 && e.code() == error_code::no_support)
            sh.set_pending_error(error_code::no_support,
                                 "this function is not supported by the connection driver: virDomainAbortJobFlags");
        return false;
    }
    return true;
}

constexpr handler_entry handlers[] = {
    {"domjobinfo", cmd_domjobinfo},
    {"domjobabort", cmd_domjobabort},
};

}  // namespace

std::span<const handler_entry> job_handlers() { return handlers; }

void print_job_progress(std::string_view label, std::uint64_t remaining, std::uint64_t total) {
    int progress = 100;
    if (remaining != 0) {
        progress = static_cast<int>(100.0 - static_cast<double>(remaining) * 100.0 / static_cast<double>(total));
        if (progress >= 100) progress = 99;  // not done: never "[100 %]"
    }
    std::cout.flush();
    std::fprintf(stderr, "\r%.*s: [%3d %%]", static_cast<int>(label.size()), label.data(), progress);
    std::fflush(stderr);
}

bool watch_job(shell& sh, const any_domain& dom, bool verbose, std::string_view label, const std::function<void()>& call) {
    using clock = std::chrono::steady_clock;
    std::atomic<bool> done{false};
    std::optional<error_info> failure;
    std::exception_ptr other_failure;

    // SIGINT reaches this thread only: the worker starts with it blocked
    interrupt_caught = 0;
    struct sigaction catcher {};
    struct sigaction previous {};
    catcher.sa_handler = catch_interrupt;
    sigemptyset(&catcher.sa_mask);
    ::sigaction(SIGINT, &catcher, &previous);
    sigset_t block, old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &block, &old_mask);
    std::thread worker([&] {
        try {
            call();
        } catch (const virtpp::error& e) {
            failure = e.info();
        } catch (...) {
            other_failure = std::current_exception();
        }
        done = true;
    });
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);

    terminal_interrupt terminal;
    bool abort_wanted = false, abort_sent = false, polling = true;
    auto next_poll = clock::now() + std::chrono::milliseconds(500);  // virsh's progress timer
    while (!done) {
        if (terminal.reading()) {
            if (terminal.wait_for_interrupt(50)) abort_wanted = true;
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (interrupt_caught) {
            interrupt_caught = 0;
            abort_wanted = true;
        }
        if (done) break;
        if (abort_wanted && !abort_sent) {
            // before the driver has the job there is nothing to abort yet: try again next round
            try {
                dom.call<op::domain_abort_job>({dom.ref(), 0});
                abort_sent = true;
            } catch (const virtpp::error&) {
            }
        }
        if (polling && clock::now() >= next_poll) {
            next_poll += std::chrono::milliseconds(500);
            try {
                auto info = dom.call<op::domain_get_job_info>({dom.ref()});
                if (done) break;
                if (verbose && info.data_total > 0) print_job_progress(label, info.data_remaining, info.data_total);
                if (info.type == job_type::bounded || info.type == job_type::unbounded) terminal.disable();
            } catch (const virtpp::error& e) {
                // a driver without job information: the job still runs, silently
                if (e.code() == error_code::no_support) polling = false;
            }
        }
    }
    worker.join();
    ::sigaction(SIGINT, &previous, nullptr);
    sh.reset_last_error();
    if (other_failure) std::rethrow_exception(other_failure);
    if (failure) {
        sh.set_pending_error(failure->code, failure->message);
        return false;
    }
    if (verbose) print_job_progress(label, 0, 1);
    return true;
}

}  // namespace virtpp::cli
