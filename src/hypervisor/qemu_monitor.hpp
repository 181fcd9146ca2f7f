// Internal: a QMP client on a guest's monitor socket. One reader thread per monitor takes replies
// to the one command in flight and hands events (and the socket closing) to the driver.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace virtpp::hypervisor::qemu_detail {

/// QMP messages nest at most this deep (query-block, the deepest qemu sends, uses 6).
inline constexpr std::size_t qmp_max_depth = 64;
/// A QMP line longer than this closes the monitor rather than growing the reader's buffer.
inline constexpr std::size_t qmp_max_line = 16U << 20;

/// One line from QEMU's monitor as JSON; malformed, over-long or nested deeper than
/// qmp_max_depth raises virtpp::error (internal_error) saying which.
[[nodiscard]] boost::json::value parse_qmp_line(std::string_view line);

class qmp_monitor {
public:
    using event_handler = std::function<void(const std::string& name, const boost::json::object& data)>;
    using close_handler = std::function<void()>;

    /// Connects to the monitor socket at path, reads the greeting and enters command mode.
    /// Raises OPERATION_FAILED when the monitor does not answer within timeout.
    static std::unique_ptr<qmp_monitor> connect(const std::string& path, event_handler on_event, close_handler on_close,
                                                std::chrono::milliseconds timeout = std::chrono::seconds(10));
    ~qmp_monitor();
    qmp_monitor(const qmp_monitor&) = delete;
    qmp_monitor& operator=(const qmp_monitor&) = delete;

    /// Runs a command and returns its "return" value. pass_fd (when >= 0) travels with the
    /// command as SCM_RIGHTS (for getfd). A QMP error raises INTERNAL_ERROR naming the command;
    /// a closed monitor raises OPERATION_FAILED.
    boost::json::value execute(std::string_view command, const boost::json::object& arguments = {}, int pass_fd = -1,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30));

    /// False once qemu closed the socket (it exited).
    [[nodiscard]] bool alive() const noexcept { return !closed_.load(); }
    /// Stops the reader without waiting for qemu: the guest keeps running.
    void detach();

private:
    qmp_monitor(int fd, event_handler on_event, close_handler on_close);
    void reader();
    void dispatch(std::string_view line);

    int fd_ = -1;
    int wake_fd_ = -1;
    event_handler on_event_;
    close_handler on_close_;
    std::mutex command_mutex_;  ///< one command in flight
    std::mutex mutex_;
    std::condition_variable cv_;
    std::optional<boost::json::value> reply_;
    bool greeted_ = false;
    std::atomic<bool> closed_{false};
    std::atomic<bool> detaching_{false};
    std::thread thread_;
};

}  // namespace virtpp::hypervisor::qemu_detail
