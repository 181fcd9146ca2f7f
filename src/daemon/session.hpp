// One client of the daemon, without any I/O: bytes in, packets out. The transport (Asio sockets in
// server.cpp, or memory in tests and the fuzz target) feeds what it reads to receive(), which
// frames packets (the length word is checked before the buffer grows), answers keepalive PINGs at
// once, runs calls of drivers that never block right there and hands the others to the worker
// pool through the host. A malformed, truncated, oversized or
// out-of-order packet raises protocol_error: the transport closes that client and logs the reason.
#pragma once

#include <virtpp/any.hpp>
#include <virtpp/rpc/procedures.hpp>
#include <virtpp/rpc/server.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace virtpp::daemon {

class stream_pump;

/// The packet stream of a client broke the protocol; the client is closed.
class protocol_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// What the transport offers a session. Every member may be called from worker threads.
class session_host {
public:
    virtual ~session_host() = default;
    /// Queues one whole framed packet for the client.
    virtual void send(std::vector<std::uint8_t> packet) = 0;
    /// Runs work on the worker pool.
    virtual void post(std::function<void()> work) = 0;
    /// Closes the client once the packets queued so far are written (CONNECT_CLOSE).
    virtual void close_after_flush() = 0;
    /// Reading was paused by receive() returning false; calls finished: feed receive() an empty
    /// span (it runs what it held back) and read again when that returns true.
    virtual void resume_reading() = 0;
    /// Whether the replies queued for the client are over the host's limit: receive() then takes
    /// no more packets (it holds them) and returns false; the host calls receive({}) once they drain.
    [[nodiscard]] virtual bool output_full() const { return false; }
    /// A line for the daemon's log (level 1 debug .. 4 error).
    virtual void log(int level, const std::string& line) = 0;
    /// Whether a line of this level would be written: callers skip building the text otherwise.
    [[nodiscard]] virtual bool logs(int level) const { return level >= 0; }
};

struct session_options {
    bool read_only_socket = false;  ///< the unix read-only socket: every connection is read-only
    /// Calls of this client running at once (libvirtd's max_client_requests). Later calls wait,
    /// and reading goes on (keepalive PINGs are still answered) until as many again wait or the
    /// waiting calls hold max_waiting_bytes; then receive() stops taking packets and reading
    /// pauses until a call ends.
    unsigned max_client_requests = 5;
    std::size_t max_waiting_bytes = 4U << 20;
    int keepalive_interval = 5;
    unsigned keepalive_count = 5;
    std::string peer;  ///< for log lines: "unix", "127.0.0.1:40000"
    connection_opener open;
    /// When set, procedures it refuses get OPERATION_DENIED: a sandbox (the fuzz target keeps
    /// save/restore/core-dump from writing files where the input says).
    std::function<bool(std::int32_t procedure)> procedure_allowed;
};

class client_session : public std::enable_shared_from_this<client_session> {
public:
    using clock = std::chrono::steady_clock;

    client_session(session_options options, std::weak_ptr<session_host> host);
    ~client_session();
    client_session(const client_session&) = delete;
    client_session& operator=(const client_session&) = delete;

    /// Consumes bytes read from the client. Returns false when reading should pause until the
    /// host's resume_reading(): too many calls wait (see session_options), and the bytes not
    /// yet framed are held (at most one read's worth) until receive({}) after the resume.
    /// Raises protocol_error when the client must be closed.
    bool receive(std::span<const std::uint8_t> bytes);
    /// Bytes read but not yet taken (held while paused): receive({}) takes them.
    [[nodiscard]] bool holds_input() const { return !held_.empty(); }
    /// Whether a complete message arrived (the handshake timeout stops counting then).
    [[nodiscard]] bool greeted() const;
    /// Bytes this session holds for the client: the packet being framed and the bytes held back.
    [[nodiscard]] std::size_t buffered_bytes() const;

    enum class keepalive_action { none, ping, drop };
    /// The keepalive clock: PING when the client was silent for an interval, drop it after
    /// keepalive_count unanswered PINGs. Only for clients that asked for keepalive (feature 10).
    keepalive_action keepalive_tick(clock::time_point now);
    /// A framed keepalive PING.
    [[nodiscard]] static std::vector<std::uint8_t> ping_packet();

    /// Drops the driver connection (the client went away).
    void shutdown();

    [[nodiscard]] bool keepalive_enabled() const;
    [[nodiscard]] bool is_open() const;
    [[nodiscard]] bool read_only() const;
    /// Calls running or waiting.
    [[nodiscard]] std::size_t calls_in_flight() const;

    /// Per-connection state the procedure handlers use (for dispatch.cpp).
    struct context;

private:
    void handle_packet(std::span<const std::uint8_t> packet);
    void enqueue(std::function<void()> job, std::size_t bytes);
    [[nodiscard]] bool waiting_full_locked() const;
    void start_jobs_locked(std::optional<std::function<void()>>& ready);

    /// One event callback the client registered (libvirtd's daemonClientEventCallback).
    struct event_registration {
        std::int32_t callback_id = 0;
        std::int32_t event_id = 0;
        bool network = false;
        bool legacy = false;  ///< registered by the pre-callback procedures: events without an id
        std::optional<virtpp::uuid> only;  ///< one domain's or network's events
    };
    /// Adds a registration (subscribing to the driver at the first) and returns its callback id.
    std::int32_t add_event_registration(any_connection& conn, event_registration r);
    /// Drops the registrations and the driver subscription (the connection closes).
    void drop_event_registrations();
    /// Sends the client the messages of one driver event, one per matching registration.
    void relay_event(const event& e);
    void finish_job();
    /// A stream message of the client (VIR_NET_STREAM / VIR_NET_STREAM_HOLE).
    void handle_stream_packet(const rpc::header& h, std::span<const std::uint8_t> body);
    /// The call that opened stream `serial` replied: its pump starts.
    void start_stream(std::uint32_t serial);
    /// Frames and handles packets until the input ends or the calls in flight reach the limit;
    /// returns how many bytes it took.
    std::size_t consume(std::span<const std::uint8_t> in);

    session_options options_;
    std::weak_ptr<session_host> host_;

    // framing (reader thread only)
    std::uint8_t length_bytes_[4] = {};
    std::size_t length_have_ = 0;
    std::vector<std::uint8_t> packet_;
    std::size_t packet_need_ = 0;
    std::vector<std::uint8_t> held_;  ///< read while paused: framed after the resume
    bool output_blocked_ = false;     ///< the last consume() stopped at the host's output_full()
    bool greeted_ = false;

    mutable std::mutex mutex_;
    std::optional<any_connection> conn_;
    std::string uri_;
    bool read_only_ = false;
    bool keepalive_ = false;
    bool close_callback_ = false;
    bool paused_ = false;
    bool close_requested_ = false;
    unsigned running_ = 0;
    std::deque<std::pair<std::function<void()>, std::size_t>> waiting_;
    std::size_t waiting_bytes_ = 0;
    clock::time_point last_received_ = clock::now();
    /// Open streams by the serial of the call that opened them.
    std::map<std::uint32_t, std::shared_ptr<stream_pump>> streams_;
    bool stream_input_full_ = false;  ///< a stream's queue for the guest is full: reading waits
    unsigned pings_sent_ = 0;
    std::vector<event_registration> event_registrations_;
    event_subscription events_;  ///< held while the client has registrations

    friend struct dispatcher;
};

/// The procedures the daemon serves: the session procedures plus every number of rpc::procedures,
/// sorted (for docs and tests).
[[nodiscard]] std::vector<std::int32_t> served_procedures();

}  // namespace virtpp::daemon
