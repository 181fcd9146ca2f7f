// Internal: a QMP client on a guest's monitor socket, on Asio. Every monitor of the process is
// read by one I/O thread (the QMP I/O context, shared and started with the first monitor): it
// takes the reply to each monitor's one command in flight and hands events (and the socket
// closing) to the driver, whose handlers only record and post. A caller of execute() blocks on its
// own thread until the reply is in.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

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
    /// a closed monitor raises OPERATION_FAILED. Never called on the QMP I/O thread (an event
    /// handler posts its work elsewhere): there it raises INTERNAL_ERROR instead of deadlocking.
    boost::json::value execute(std::string_view command, const boost::json::object& arguments = {}, int pass_fd = -1,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30));

    /// False once qemu closed the socket (it exited).
    [[nodiscard]] bool alive() const noexcept;
    /// Stops reading without waiting for qemu: the guest keeps running. No handler runs after it
    /// returns (unless it is called from a handler, which then is the last).
    void detach();

    struct state;  ///< the socket and what its reads share with callers (src/hypervisor/qemu_monitor.cpp)

private:
    explicit qmp_monitor(std::shared_ptr<state> s);
    std::shared_ptr<state> state_;
};

}  // namespace virtpp::hypervisor::qemu_detail
