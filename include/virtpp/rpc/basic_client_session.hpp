// basic_client_session<AsyncStream>: the remote client on Asio. One I/O thread runs the session's
// io_context: an async read loop (length word checked before the body is waited for), a write
// queue, the keepalive timer. What does not depend on the stream (calls by serial, streams,
// events, keepalive bookkeeping, authentication and CONNECT_OPEN/CLOSE) is session_core, compiled
// once in src/rpc/client.cpp; the template adds the stream and is instantiated there for each
// transport stack (src/rpc/client_layers.hpp):
//
//   unix        boost::asio::local::stream_protocol::socket   (also the socketpair of a test)
//   tcp         boost::asio::ip::tcp::socket
//   tls         tls_stream<boost::asio::ip::tcp::socket>       (Botan engine, libvirt's checks)
//   ssh, ext    command_stream                                  (socketpair to a child, stderr kept)
//
// rpc::client_session (virtpp/rpc/client.hpp) is the type-erased facade the rest of the library
// uses; this header is for transports and tests (it pulls in Asio).
#pragma once

#include <virtpp/error.hpp>
#include <virtpp/events.hpp>
#include <virtpp/rpc/client.hpp>
#include <virtpp/rpc/message.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace virtpp::rpc {

namespace detail {

struct stream_state;  // a stream of this client (console, screenshot), src/rpc/client.cpp

/// How a transport layer reports itself to the session; specialized by the layers that differ
/// from a plain socket (src/rpc/client_layers.hpp).
template <class AsyncStream>
struct layer_traits {
    /// A reset by the peer is the end of the stream (a daemon that went away).
    static constexpr bool reset_is_eof = true;
    /// What a command transport's child wrote on stderr (empty for sockets).
    static std::string error_output(AsyncStream&) { return {}; }
    /// A layer's own failure (a TLS alert), in libvirt's words, when `ec` is one.
    static std::optional<error_info> failure(AsyncStream&, const boost::system::error_code&) { return std::nullopt; }
    /// Ends both directions; a pending read completes.
    static void shutdown(AsyncStream& s) noexcept {
        boost::system::error_code ignored;
        s.shutdown(AsyncStream::shutdown_both, ignored);
    }
};

/// The half of a client session that does not depend on the stream: the pending calls by serial,
/// the open streams, events and their thread, the keepalive bookkeeping, and the protocol's open
/// and close. All its I/O goes through the virtual hooks the stream half implements.
class session_core {
public:
    using call_completion = client_session::call_completion;
    using write_done = std::function<void(const std::optional<error_info>&)>;

    explicit session_core(const client_options& options);
    virtual ~session_core();
    session_core(const session_core&) = delete;
    session_core& operator=(const session_core&) = delete;

    /// AUTH_LIST (none, polkit), the keepalive probe, CONNECT_OPEN.
    void setup(std::string name, unsigned flags);
    /// CONNECT_CLOSE when the session is open and the link up, then stop().
    void close();
    /// Stops the I/O and event threads and fails what is still pending with "client socket is
    /// closed". Called from the session's own I/O thread, the thread is left to end by itself.
    void stop();

    /// Sends one call; `done` runs on the I/O thread with the reply. `opens` (call_with_stream)
    /// is known under the call's serial before the call goes out.
    std::uint32_t start_call(std::int32_t procedure, std::span<const std::uint8_t> args, call_completion done,
                             const std::shared_ptr<stream_state>& opens = nullptr);
    bool abandon_call(std::uint32_t serial);
    /// start_call and wait. Raises (never deadlocks) on the session's own I/O thread.
    std::vector<std::uint8_t> call(std::int32_t procedure, std::span<const std::uint8_t> args,
                                   const std::shared_ptr<stream_state>& opens = nullptr);

    /// Queues a whole message; `done` (optional) runs on the I/O thread once it is written or failed.
    void send(std::vector<std::uint8_t> message, write_done done = {});
    /// Queues a message and waits until it is written: stream data keeps the pace of the link.
    void send_and_wait(std::vector<std::uint8_t> message);

    event_subscription subscribe_events(event_handler handler);

    [[nodiscard]] bool keepalive_active() const noexcept { return keepalive_.load(); }
    [[nodiscard]] std::uint64_t pongs_sent() const noexcept { return pongs_.load(); }
    [[nodiscard]] std::uint64_t pings_sent() const noexcept { return pings_.load(); }
    /// True on a thread running the session's handlers (the I/O thread, or a caller leading).
    [[nodiscard]] virtual bool on_io_thread() const noexcept = 0;

    /// Calls still waiting for their reply.
    [[nodiscard]] bool has_pending() const;
    /// The error every call gets once the link is down, if it is.
    [[nodiscard]] std::optional<error_info> link_error() const;

    // ---- the stream half's side ------------------------------------------------------------

    /// A whole packet (after the length word). Raises a protocol error (the link then fails).
    void dispatch(std::span<const std::uint8_t> packet);
    /// Marks the link down with `why` and fails every call and stream with it; the first time,
    /// unless the program is closing the session, subscribers are told the link dropped.
    void fail_all(const error_info& why, int reason = close_reason::error);
    /// Every keepalive_interval: true when a PING is due (counted), and the link given up
    /// (failed with libvirt's keepalive error) when `keepalive_count` went unanswered.
    enum class keepalive_action : std::uint8_t { none, ping, give_up };
    keepalive_action keepalive_tick();
    void note_received() noexcept { received_.fetch_add(1, std::memory_order_relaxed); }
    [[nodiscard]] bool stopping() const noexcept { return stopping_.load(); }
    [[nodiscard]] const client_options& options() const noexcept { return options_; }

    struct stream_access;  // remote_stream's way in (src/rpc/client.cpp)

protected:
    /// Hands a message to the I/O thread's write queue (any thread).
    virtual void post_write(std::vector<std::uint8_t> message, write_done done) = 0;
    /// Starts the keepalive timer (after CONNECT_OPEN, when the server supports it).
    virtual void start_keepalive() = 0;
    /// Ends the link and the I/O thread; joins it unless called on it.
    virtual void stop_io() noexcept = 0;
    /// A reference that keeps the session alive (the event thread holds one while it runs).
    virtual std::shared_ptr<session_core> keep_alive() = 0;
    /// Sends a blocking call's message and runs the session's I/O on this thread until `done`
    /// (leader/follower: when no other thread runs it), else waits for `done`.
    virtual void drive(std::vector<std::uint8_t> message, const std::atomic<bool>& done) = 0;
    /// Wakes the threads waiting in drive() (a call completed).
    virtual void wake_callers() noexcept = 0;

private:
    void register_events();
    void run_events();
    void handle_event(std::int32_t procedure, std::span<const std::uint8_t> body);
    void fail_all_locked(const error_info& why, int reason, std::map<std::uint32_t, call_completion>& orphans);
    void stream_message_locked(stream_state& st, const header& h, std::span<const std::uint8_t> body);
    void send_keepalive(std::int32_t proc);
    /// Registers a call under the next serial and frames it (nothing sent yet).
    std::uint32_t register_call(std::int32_t procedure, std::span<const std::uint8_t> args, call_completion done,
                                const std::shared_ptr<stream_state>& opens, std::vector<std::uint8_t>& message);

    client_options options_;

    mutable std::mutex mutex_;  ///< everything below up to streams_, and the stream states
    std::map<std::uint32_t, call_completion> pending_;
    std::set<std::uint32_t> abandoned_;  ///< calls given up: their late replies are dropped
    std::map<std::uint32_t, std::shared_ptr<stream_state>> streams_;
    std::uint32_t next_serial_ = 0;
    std::optional<error_info> dead_;

    // events: decoded on the I/O thread, delivered by the event thread
    event_hub listeners_;
    std::mutex register_mutex_;  ///< one registration at a time (held across calls)
    std::mutex events_mutex_;    ///< events_registered_, server_callbacks_
    bool events_registered_ = false;
    std::set<std::int32_t> server_callbacks_;
    std::thread event_thread_;
    std::mutex event_wake_mutex_;
    std::condition_variable event_wake_;
    bool event_pending_ = false;

    std::atomic<bool> stopping_{false};
    std::atomic<bool> opened_{false};
    std::atomic<bool> keepalive_{false};
    std::atomic<std::uint64_t> pongs_{0};
    std::atomic<std::uint64_t> pings_{0};
    std::atomic<std::uint64_t> received_{0};
    std::uint64_t seen_received_ = 0;  ///< keepalive_tick only (I/O thread)
    unsigned unanswered_ = 0;

    friend struct stream_access;
};

}  // namespace detail

/// A client session over AsyncStream (Asio's AsyncReadStream and AsyncWriteStream), run by its
/// own I/O thread. Created with open() over a connected stream on `io`.
template <class AsyncStream>
class basic_client_session final : public detail::session_core,
                                   public std::enable_shared_from_this<basic_client_session<AsyncStream>> {
public:
    using stream_type = AsyncStream;
    using executor_type = boost::asio::io_context::executor_type;
    using traits = detail::layer_traits<AsyncStream>;

    /// Takes the connected stream (whose executor is `*io`) and starts the I/O thread.
    [[nodiscard]] static std::shared_ptr<basic_client_session> start(std::unique_ptr<boost::asio::io_context> io,
                                                                     AsyncStream stream, const client_options& options);

    basic_client_session(std::unique_ptr<boost::asio::io_context> io, AsyncStream stream, const client_options& options);
    ~basic_client_session() override;

    [[nodiscard]] executor_type get_executor() const noexcept { return io_->get_executor(); }
    [[nodiscard]] AsyncStream& stream() noexcept { return stream_; }

    /// One call, completed with (std::exception_ptr, std::vector<std::uint8_t> reply body) on the
    /// token's associated executor (default: the session's I/O thread).
    template <class CompletionToken>
    auto async_call(std::int32_t procedure, std::span<const std::uint8_t> args, CompletionToken&& token) {
        using signature = void(std::exception_ptr, std::vector<std::uint8_t>);
        return boost::asio::async_initiate<CompletionToken, signature>(
            [this](auto handler, std::int32_t proc, std::vector<std::uint8_t> body) {
                auto ex = boost::asio::get_associated_executor(handler, get_executor());
                auto shared = std::make_shared<decltype(handler)>(std::move(handler));
                try {
                    (void)start_call(proc, body, [shared, ex](std::exception_ptr e, std::vector<std::uint8_t> reply) {
                        boost::asio::dispatch(ex, [shared, e, reply = std::move(reply)]() mutable {
                            (*shared)(e, std::move(reply));
                        });
                    });
                } catch (...) {
                    boost::asio::post(ex, [shared, e = std::current_exception()]() mutable { (*shared)(e, {}); });
                }
            },
            token, procedure, std::vector<std::uint8_t>(args.begin(), args.end()));
    }

protected:
    void post_write(std::vector<std::uint8_t> message, write_done done) override;
    void start_keepalive() override;
    void stop_io() noexcept override;
    std::shared_ptr<session_core> keep_alive() override;
    void drive(std::vector<std::uint8_t> message, const std::atomic<bool>& done) override;
    void wake_callers() noexcept override;

public:
    [[nodiscard]] bool on_io_thread() const noexcept override { return io_->get_executor().running_in_this_thread(); }

private:
    /// Runs handlers on this thread, which holds the lead, until `done` or the context stops;
    /// then gives the lead up.
    void lead(const std::atomic<bool>& done);
    /// The I/O thread: runs the session when no caller does (async calls, keepalive, the idle link).
    void run_io();
    void enqueue(std::vector<std::uint8_t> message, write_done done);
    void read_loop();
    void on_read(const boost::system::error_code& ec, std::size_t n);
    void read_failed(const boost::system::error_code& ec);
    void write_next();
    void link_failed(const error_info& why, int reason = close_reason::error);
    void keepalive_wait();

    struct queued {
        std::vector<std::uint8_t> bytes;
        write_done done;
    };

    std::unique_ptr<boost::asio::io_context> io_;
    boost::asio::executor_work_guard<executor_type> work_;  ///< the thread runs until stop_io
    AsyncStream stream_;
    boost::asio::steady_timer keepalive_timer_;
    std::thread thread_;
    std::vector<std::uint8_t> read_buffer_;
    std::size_t read_used_ = 0;
    std::deque<queued> write_queue_;
    std::vector<queued> writing_;
    std::vector<boost::asio::const_buffer> buffers_;  ///< the gathered write of writing_
    bool link_closed_ = false;  ///< the lead's only
    bool reading_ = false;      ///< the read loop runs (from the first write on)
    std::atomic<bool> io_stopped_{false};

    // Leader/follower, as libvirt's client and the previous POSIX one: one thread at a time runs
    // the io_context (the lead); a blocking caller takes the lead when it is free, so a lone caller
    // writes and reads on its own thread. The I/O thread leads only when no caller does, after
    // the link has been quiet for a moment or when async work was posted.
    std::mutex lead_mutex_;
    std::condition_variable lead_cv_;  ///< callers: the lead is free, or a call completed
    std::condition_variable io_cv_;    ///< the I/O thread: work was posted, or stop (else it polls)
    bool leader_busy_ = false;
    unsigned waiting_ = 0;        ///< callers waiting for the lead or their reply
    bool work_hint_ = false;      ///< something was posted that needs a leader
    bool stop_requested_ = false;
    std::chrono::steady_clock::time_point released_at_{};
};

}  // namespace virtpp::rpc
