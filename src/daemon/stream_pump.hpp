// One stream of a client (libvirt's daemonClientStream): moves bytes between a virtpp::stream (a
// guest's pty, a screenshot file) and the client as VIR_NET_STREAM messages of the call that
// opened it (same procedure and serial). Status CONTINUE carries data (empty: the guest's side
// ended), OK is the client's finish and the daemon's empty confirmation of a finish or an abort,
// ERROR aborts (the client's, empty; the daemon's carries a remote_error).
//
// Flow control, both ways: the pump reads the guest's side only while the client's queue of
// outgoing packets is under the host's limit (session_host::output_full), and the client's data
// waits in a queue of at most input_limit bytes; above it the session stops reading the client
// until the guest took enough (on_input_drained).
#pragma once

#include "daemon/session.hpp"

#include <virtpp/stream.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace virtpp::daemon {

class stream_pump : public std::enable_shared_from_this<stream_pump> {
public:
    /// Bytes from the client that may wait for the guest before the session stops reading.
    static constexpr std::size_t input_limit = 1U << 20;
    /// The largest data message (libvirt's VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX).
    static constexpr std::size_t chunk_max = 262120;

    stream_pump(std::shared_ptr<virtpp::stream> st, std::int32_t procedure, std::uint32_t serial,
                std::weak_ptr<session_host> host);
    ~stream_pump();
    stream_pump(const stream_pump&) = delete;
    stream_pump& operator=(const stream_pump&) = delete;

    /// Called once the reply of the opening call is queued: data may follow it from now on.
    /// on_input_drained: the client's queued data fell under half the limit after being over it.
    /// on_end: the stream is over (finished, aborted, failed); called on the pump's thread.
    void start(std::function<void()> on_input_drained, std::function<void()> on_end);

    /// The client's messages (the session's reading thread). data() returns false when the
    /// queue is now over input_limit: the session pauses reading until on_input_drained.
    bool data(std::span<const std::uint8_t> bytes);
    void finish();
    void abort();

    /// The client went away: the stream is aborted and the thread joined.
    void shutdown();

    [[nodiscard]] std::int32_t procedure() const noexcept { return procedure_; }

private:
    void run();
    void wake();
    void send(rpc::message_status status, std::span<const std::uint8_t> body);
    void send_error(const error_info& info);

    std::shared_ptr<virtpp::stream> stream_;
    std::int32_t procedure_;
    std::uint32_t serial_;
    std::weak_ptr<session_host> host_;
    std::function<void()> on_input_drained_, on_end_;

    int wake_fd_ = -1;
    std::thread thread_;

    std::mutex mutex_;
    std::deque<std::vector<std::uint8_t>> input_;
    std::size_t input_front_done_ = 0;
    std::size_t input_bytes_ = 0;
    bool input_over_ = false;
    enum class request { none, finish, abort } request_ = request::none;
    bool quit_ = false;
};

}  // namespace virtpp::daemon
