// The client session: frames calls with serials, callers that read their own replies (handing
// others' to them), a background thread for the idle link and keepalive, and the remote driver's
// open and close.
#include "rpc/client_detail.hpp"

#include <virtpp/rpc/events.hpp>
#include <virtpp/rpc/message.hpp>
#include <virtpp/rpc/procedures.hpp>
#include <virtpp/stream.hpp>
#include <virtpp/transport/remote.hpp>

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cerrno>
#include <fcntl.h>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace virtpp::rpc {

namespace {
constexpr std::int32_t auth_none = 0;
constexpr std::int32_t auth_polkit = 2;
constexpr std::int32_t proc_auth_polkit = 70;

struct reply {
    header head;
    std::vector<std::uint8_t> body;
};

/// One call waiting for its reply, on its caller's stack.
struct waiter {
    std::condition_variable wake;  ///< reply arrived, link failed, or the socket is free to read
    bool done = false;
    reply answer;
    std::optional<error_info> failure;
};

error_info closed_error() {
    return make_error_info(error_code::internal_error, error_domain::rpc, "client socket is closed");
}

/// A stream of this client (libvirt's virNetClientStream): what the daemon sent for it, guarded
/// by the session's mutex and signalled through `wake`.
struct stream_state {
    std::int32_t procedure = 0;
    std::uint32_t serial = 0;
    std::condition_variable wake;
    std::deque<std::vector<std::uint8_t>> data;
    std::size_t front_done = 0;
    bool eof = false;               ///< the daemon's empty OK: no more data
    bool awaiting_confirm = false;  ///< finish/abort sent: the next OK (or error) answers it
    bool confirmed = false;
    std::optional<error_info> failure;  ///< the daemon's stream error, or the link's
};

using clock = std::chrono::steady_clock;
/// How long the link stays quiet after the last call before the background thread watches the
/// socket (keepalive PINGs, end of stream): back-to-back calls never wake it.
constexpr auto idle_grace = std::chrono::milliseconds(20);
}  // namespace

// One thread at a time reads the socket (reader_busy): a caller waiting for its reply reads it
// itself and hands other callers' replies to them; when its own arrives it passes the socket to
// another waiter. Only when no call is in flight does the background thread watch the socket, for
// the daemon's keepalive PINGs and a dead link. It also keeps the keepalive clock.
struct client_session::impl {
    std::unique_ptr<client_stream> stream;
    client_options options;

    std::mutex mutex;  ///< pending, next_serial, dead, reader_busy, idle_since
    std::map<std::uint32_t, waiter*> pending;
    /// Calls whose completion runs when the reply is in (start_call): nobody waits on a thread, so
    /// the background thread reads while any is outstanding.
    std::map<std::uint32_t, client_session::call_completion> async_pending;
    /// Serials of abandoned calls (cancelled, timed out): their late replies are dropped.
    std::set<std::uint32_t> abandoned;
    std::map<std::uint32_t, std::shared_ptr<stream_state>> streams;  ///< open streams by serial
    std::uint32_t next_serial = 0;
    std::optional<error_info> dead;  ///< set once the link is down (or closed)
    bool reader_busy = false;        ///< a thread is reading the socket
    clock::time_point idle_since = clock::now();
    std::condition_variable background_wake;

    std::vector<std::uint8_t> read_buffer;  ///< only the reading thread touches it
    std::atomic<clock::rep> last_received{clock::now().time_since_epoch().count()};

    std::mutex write_mutex;  ///< one whole message at a time on the wire
    std::thread background;
    int wake[2] = {-1, -1};
    std::atomic<bool> stopping{false};

    // events: decoded by the reading thread, delivered by the event thread
    event_hub listeners;
    std::mutex register_mutex;  ///< one registration at a time (held across calls: never by the reader)
    std::mutex events_mutex;    ///< events_registered, server_callbacks, legacy_events (never held across calls)
    bool events_registered = false;
    bool legacy_events = false;               ///< registered with the pre-callback procedures
    std::set<std::int32_t> server_callbacks;  ///< the daemon's ids of our registrations
    std::thread event_thread;
    std::mutex event_wake_mutex;
    std::condition_variable event_wake;
    bool event_pending = false;

    std::atomic<bool> opened{false};  ///< CONNECT_OPEN succeeded: closing says CONNECT_CLOSE
    std::atomic<bool> keepalive{false};
    std::atomic<std::uint64_t> pongs{0};
    std::atomic<std::uint64_t> pings{0};

    ~impl() {
        stop();
        for (int fd : wake)
            if (fd >= 0) ::close(fd);
    }

    void setup(std::string name, unsigned flags);

    void start() {
        if (::pipe2(wake, O_CLOEXEC) < 0) raise_system(errno, "cannot create pipe");
        background = std::thread([this] { run(); });
    }

    void stop() {
        stopping = true;
        if (wake[1] >= 0) {
            char b = 0;
            [[maybe_unused]] auto n = ::write(wake[1], &b, 1);
        }
        if (stream) stream->shutdown();
        {
            std::lock_guard lock(mutex);
            background_wake.notify_all();
        }
        if (background.joinable()) background.join();
        fail_all(closed_error());
        {
            std::lock_guard lock(event_wake_mutex);
            event_wake.notify_all();
        }
        if (event_thread.joinable() && event_thread.get_id() != std::this_thread::get_id()) event_thread.join();
        else if (event_thread.joinable()) event_thread.detach();  // closed from a handler: the thread ends after it
    }

    /// The event thread: delivers what the reader queued, one event at a time.
    void run_events() {
        std::unique_lock lock(event_wake_mutex);
        while (!stopping) {
            event_wake.wait(lock, [&] { return event_pending || stopping.load(); });
            if (stopping) break;
            event_pending = false;
            lock.unlock();
            listeners.deliver();
            lock.lock();
        }
    }

    /// An event message from the daemon: queued for the event thread when it is ours.
    void handle_event(std::int32_t procedure, std::span<const std::uint8_t> body) {
        std::optional<events::decoded_event> decoded;
        try {
            decoded = events::decode_event(procedure, body);
        } catch (const virtpp::error&) {
            return;  // a malformed event is dropped; the calls on the link go on
        }
        if (!decoded) return;
        {
            std::lock_guard lock(events_mutex);
            // (events of registrations still being made are taken: their ids are not all known yet)
            if (decoded->callback && events_registered && !server_callbacks.contains(*decoded->callback)) return;
        }
        listeners.queue(std::move(decoded->what));
        std::lock_guard lock(event_wake_mutex);
        event_pending = true;
        event_wake.notify_one();
    }

    /// Registers with the daemon for every domain event id and network lifecycle (once).
    void register_events() {
        std::lock_guard registering(register_mutex);
        {
            std::lock_guard lock(events_mutex);
            if (events_registered) return;
        }
        bool callbacks = false;
        try {
            auto probe = xdr::to_bytes(std::int32_t{feature::remote_event_callback});
            callbacks = xdr::from_bytes<std::int32_t>(call(proc::connect_supports_feature::number, probe)) != 0;
        } catch (const virtpp::error&) {
            callbacks = false;
        }
        std::size_t registered = 0;
        std::optional<virtpp::error> first_failure;
        auto attempt = [&](auto&& f) {
            try {
                f();
                ++registered;
            } catch (const virtpp::error& e) {
                if (!first_failure) first_failure = e;  // an id an older daemon does not know
            }
        };
        if (callbacks) {
            for (int id = 0; id < domain_event_id::count; ++id)
                attempt([&] {
                    auto ret = call(events::connect_domain_event_callback_register_any,
                                    xdr::to_bytes(events::domain_callback_register_args{id, std::nullopt}));
                    auto id_of_server = xdr::from_bytes<events::callback_id>(ret).id;
                    std::lock_guard lock(events_mutex);
                    server_callbacks.insert(id_of_server);
                });
            attempt([&] {
                auto ret = call(events::connect_network_event_register_any,
                                xdr::to_bytes(events::network_register_args{network_event_id::lifecycle, std::nullopt}));
                auto id_of_server = xdr::from_bytes<events::callback_id>(ret).id;
                std::lock_guard lock(events_mutex);
                server_callbacks.insert(id_of_server);
            });
        } else {
            for (int id = 0; id <= events::legacy_event_id_max; ++id)
                attempt([&] { (void)call(events::connect_domain_event_register_any, xdr::to_bytes(events::event_id_args{id})); });
        }
        if (registered == 0 && first_failure) throw *first_failure;
        if (!event_thread.joinable()) event_thread = std::thread([this] { run_events(); });
        std::lock_guard lock(events_mutex);
        legacy_events = !callbacks;
        events_registered = true;
    }

    /// Marks the link down with `why` and fails every waiting call with it. The first time, unless
    /// the program is closing the session itself, event subscribers are told the link dropped.
    void fail_all(const error_info& why, int reason = close_reason::error) {
        std::map<std::uint32_t, client_session::call_completion> orphans;
        {
            std::lock_guard lock(mutex);
            fail_all_locked(why, reason);
            orphans.swap(async_pending);
            abandoned.clear();
        }
        auto failure = std::make_exception_ptr(virtpp::error(why));
        for (auto& [serial, done] : orphans) done(failure, {});
    }

    void fail_all_locked(const error_info& why, int reason) {
        bool first = !dead;
        if (!dead) dead = why;
        if (first && !stopping) {
            listeners.queue(connection_closed_event{reason, why.message});
            std::lock_guard wake_lock(event_wake_mutex);
            event_pending = true;
            event_wake.notify_one();
        }
        for (auto& [serial, w] : pending) {
            w->failure = why;
            w->done = true;
            w->wake.notify_one();
        }
        pending.clear();
        for (auto& [serial, st] : streams) {
            if (!st->failure) st->failure = why;
            st->wake.notify_all();
        }
        background_wake.notify_all();
    }

    /// The socket is free: the next waiter reads it. With none, the background thread takes over
    /// at its next turn (within 250 ms): waking it here would cost a context switch per call.
    void hand_off_locked() {
        if (!pending.empty()) {
            pending.begin()->second->wake.notify_one();
        } else {
            idle_since = clock::now();
            if (!async_pending.empty()) background_wake.notify_all();  // replies still due: it reads now
        }
    }

    /// Sends a call whose reply goes to `done` (run on the thread that reads it).
    std::uint32_t start_call(std::int32_t procedure, std::span<const std::uint8_t> args,
                             client_session::call_completion done) {
        std::uint32_t serial = 0;
        {
            std::lock_guard lock(mutex);
            if (dead) raise(closed_error());
            serial = next_serial++;
            async_pending.emplace(serial, std::move(done));
        }
        header h{remote_program, remote_protocol_version, procedure, message_type::call, serial, message_status::ok};
        try {
            send(frame(h, args));
        } catch (const virtpp::error&) {
            std::lock_guard lock(mutex);
            async_pending.erase(serial);
            throw;
        }
        std::lock_guard lock(mutex);
        background_wake.notify_all();
        return serial;
    }

    /// Drops a started call: true when its completion had not run (the caller completes it).
    bool abandon_call(std::uint32_t serial) {
        std::lock_guard lock(mutex);
        if (async_pending.erase(serial) == 0) return false;
        if (!dead) abandoned.insert(serial);
        return true;
    }

    void send(const std::vector<std::uint8_t>& message) {
        std::lock_guard lock(write_mutex);
        stream->write_all(message.data(), message.size());
    }

    void send_keepalive(std::int32_t proc) {
        header h{keepalive_program, keepalive_protocol_version, proc, message_type::message, 0, message_status::ok};
        send(frame_body(h, xdr::none{}));
    }

    std::vector<std::uint8_t> call(std::int32_t procedure, std::span<const std::uint8_t> args,
                                   const std::shared_ptr<stream_state>& opens = nullptr) {
        waiter w;
        std::uint32_t serial = 0;
        {
            std::lock_guard lock(mutex);
            if (dead) raise(closed_error());
            serial = next_serial++;
            pending[serial] = &w;
            if (opens) {
                opens->procedure = procedure;
                opens->serial = serial;
                streams[serial] = opens;
            }
        }
        header h{remote_program, remote_protocol_version, procedure, message_type::call, serial, message_status::ok};
        try {
            send(frame(h, args));
        } catch (const virtpp::error& e) {
            std::lock_guard lock(mutex);
            if (!w.done) pending.erase(serial);
            if (!reader_busy) hand_off_locked();
            throw;
        }
        std::unique_lock lock(mutex);
        while (!w.done) {
            if (!reader_busy) {
                // nobody reads: this caller does, until its own reply is in
                reader_busy = true;
                lock.unlock();
                read_some(false);
                lock.lock();
                reader_busy = false;
                continue;
            }
            w.wake.wait(lock);
        }
        if (!reader_busy) hand_off_locked();
        if (opens && (w.failure || w.answer.head.status == message_status::error)) streams.erase(serial);
        lock.unlock();
        if (w.failure) raise(*w.failure);
        if (w.answer.head.status == message_status::error)
            raise(from_remote_error(xdr::from_bytes<remote_error>(w.answer.body)));
        return std::move(w.answer.body);
    }

    /// A stream message, or a reply to a stream's finish/abort (mutex held).
    void stream_message_locked(stream_state& st, const header& h, std::span<const std::uint8_t> body) {
        if (h.type == message_type::stream_hole) {
            st.failure = make_error_info(error_code::rpc, error_domain::rpc, "Unexpected stream hole");
        } else if (h.status == message_status::cont && h.type == message_type::stream) {
            // an empty CONTINUE is the end of the daemon's data
            if (body.empty()) st.eof = true;
            else st.data.emplace_back(body.begin(), body.end());
        } else if (h.status == message_status::ok) {
            if (st.awaiting_confirm) st.confirmed = true;
            else st.eof = true;
        } else {
            try {
                st.failure = from_remote_error(xdr::from_bytes<remote_error>(body));
            } catch (const virtpp::error&) {
                st.failure = make_error_info(error_code::rpc, error_domain::rpc, "stream aborted by the server");
            }
        }
        st.wake.notify_all();
    }

    void dispatch(std::span<const std::uint8_t> packet) {
        header h = decode_header(packet);
        auto body = packet.subspan(header_size);
        if (h.prog == keepalive_program) {
            if (h.proc == keepalive_ping) {
                ++pongs;  // counted first: whoever sees the PONG sees the count
                send_keepalive(keepalive_pong);
            }
            return;  // a PONG: receiving it already counted as activity
        }
        if (h.type == message_type::message && h.prog == remote_program) {
            handle_event(h.proc, body);
            return;
        }
        if (h.type == message_type::stream || h.type == message_type::stream_hole) {
            std::lock_guard lock(mutex);
            auto it = streams.find(h.serial);
            if (it != streams.end() && it->second->procedure == h.proc && h.prog == remote_program)
                stream_message_locked(*it->second, h, body);
            return;  // data of a stream already closed here: dropped
        }
        if (h.type == message_type::message) return;  // a message of another program: not ours
        if (h.type != message_type::reply && h.type != message_type::reply_with_fds)
            raise(error_code::rpc, error_domain::rpc,
                  "got unexpected RPC call prog " + std::to_string(static_cast<std::int32_t>(h.prog)) + " vers " +
                      std::to_string(h.vers) + " proc " + std::to_string(h.proc) + " type " +
                      std::to_string(static_cast<int>(h.type)));
        std::unique_lock lock(mutex);
        if (auto a = async_pending.find(h.serial);
            a != async_pending.end() && h.prog == remote_program && h.vers == remote_protocol_version) {
            auto done = std::move(a->second);
            async_pending.erase(a);
            lock.unlock();
            std::exception_ptr failure;
            if (h.status == message_status::error) {
                try {
                    failure = std::make_exception_ptr(virtpp::error(from_remote_error(xdr::from_bytes<remote_error>(body))));
                } catch (...) {
                    failure = std::current_exception();
                }
                done(failure, {});
            } else {
                done(nullptr, std::vector<std::uint8_t>(body.begin(), body.end()));
            }
            return;
        }
        if (abandoned.erase(h.serial) != 0) return;  // the reply of a call given up: dropped
        auto it = pending.find(h.serial);
        if (it == pending.end()) {
            // libvirtd answers a failed stream finish with a plain error reply of the stream's serial
            auto st = streams.find(h.serial);
            if (st != streams.end() && st->second->awaiting_confirm) {
                stream_message_locked(*st->second, h, body);
                return;
            }
        }
        if (h.prog != remote_program || h.vers != remote_protocol_version || it == pending.end())
            raise(error_code::rpc, error_domain::rpc,
                  "no call waiting for reply with prog " + std::to_string(static_cast<std::int32_t>(h.prog)) + " vers " +
                      std::to_string(h.vers) + " serial " + std::to_string(h.serial));
        waiter& w = *it->second;
        w.answer = reply{h, std::vector<std::uint8_t>(body.begin(), body.end())};
        w.done = true;
        w.wake.notify_one();
        pending.erase(it);
    }

    /// One read by the thread that owns the socket, and the whole messages it completes. A broken
    /// link fails every call. With only_if_ready, returns at once when nothing is readable.
    void read_some(bool only_if_ready) {
        try {
            if (only_if_ready) {
                pollfd p{stream->poll_fd(), POLLIN, 0};
                if (::poll(&p, 1, 0) <= 0) return;
            }
            if (!stream->read(read_buffer)) {
                if (stopping) {
                    fail_all(closed_error());
                    return;
                }
                auto output = stream->error_output();
                stream->shutdown();
                auto eof = make_error_info(error_code::system_error, error_domain::rpc,
                                           (output.empty() ? std::string("End of file while reading data")
                                                           : "End of file while reading data: " + output) +
                                               ": " + errno_text(EIO));
                fail_all(eof, close_reason::eof);
                return;
            }
            last_received = clock::now().time_since_epoch().count();
            // whole messages: length word checked before the body is waited for
            std::size_t used = 0;
            while (read_buffer.size() - used >= length_word_size) {
                const auto* p = read_buffer.data() + used;
                std::uint32_t word = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) |
                                     (std::uint32_t(p[2]) << 8) | p[3];
                auto rest = bytes_after_length_word(word);
                if (read_buffer.size() - used - length_word_size < rest) break;
                dispatch({p + length_word_size, rest});
                used += length_word_size + rest;
            }
            read_buffer.erase(read_buffer.begin(), read_buffer.begin() + static_cast<std::ptrdiff_t>(used));
        } catch (const virtpp::error& e) {
            stream->shutdown();
            fail_all(stopping ? closed_error() : e.info());
        } catch (const std::exception& e) {
            stream->shutdown();
            fail_all(stopping ? closed_error() : make_error_info(error_code::internal_error, error_domain::rpc, e.what()));
        }
    }

    /// The background thread: reads while no call is in flight, and keeps the keepalive clock.
    void run() {
        auto next_check = clock::now() + options.keepalive_interval;
        auto seen_received = last_received.load();
        unsigned unanswered = 0;
        std::unique_lock lock(mutex);
        while (!stopping && !dead) {
            auto now = clock::now();
            if (keepalive && now >= next_check) {
                auto received = last_received.load();
                if (received != seen_received) {
                    seen_received = received;
                    unanswered = 0;
                }
                if (now - clock::time_point(clock::duration(received)) >= options.keepalive_interval) {
                    if (unanswered >= options.keepalive_count) {
                        lock.unlock();
                        // failed first, then shut: a caller reading the socket would otherwise see
                        // the end of stream and fail the calls with that instead
                        fail_all(make_error_info(error_code::internal_error, error_domain::rpc,
                                                 "connection closed due to keepalive timeout"),
                                 close_reason::keepalive);
                        stream->shutdown();
                        return;
                    }
                    lock.unlock();
                    try {
                        send_keepalive(keepalive_ping);
                    } catch (const virtpp::error& e) {
                        stream->shutdown();
                        fail_all(e.info());
                        return;
                    }
                    lock.lock();
                    ++pings;
                    ++unanswered;
                }
                next_check = now + options.keepalive_interval;
                continue;
            }
            auto wait = std::chrono::milliseconds(250);  // until keepalive is switched on after the open call
            if (keepalive)
                wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(next_check - now) +
                                          std::chrono::milliseconds(1));
            if (!pending.empty() || reader_busy) {
                background_wake.wait_for(lock, wait);  // a caller reads
                continue;
            }
            if (now - idle_since < idle_grace && async_pending.empty()) {
                background_wake.wait_for(lock, idle_grace - (now - idle_since));
                continue;
            }
            lock.unlock();
            pollfd fds[2] = {{stream->poll_fd(), POLLIN, 0}, {wake[0], POLLIN, 0}};
            int n = ::poll(fds, 2, static_cast<int>(wait.count()));
            lock.lock();
            if (stopping || dead || (n > 0 && fds[1].revents != 0)) break;
            if (n > 0 && fds[0].revents != 0 && pending.empty() && !reader_busy) {
                reader_busy = true;
                lock.unlock();
                read_some(true);
                lock.lock();
                reader_busy = false;
                hand_off_locked();
            }
        }
    }
};

namespace {

/// A stream to the daemon: blocking recv, send in messages of at most 256 KiB.
class remote_stream : public virtpp::stream {
public:
    remote_stream(std::shared_ptr<client_session> owner, client_session::impl& s, std::shared_ptr<stream_state> st)
        : owner_(std::move(owner)), s_(s), st_(std::move(st)) {}
    ~remote_stream() override { abort(); }

    std::ptrdiff_t recv(std::span<std::uint8_t> buf) override {
        std::unique_lock lock(s_.mutex);
        // finish/abort on another thread ends a recv waiting here
        st_->wake.wait(lock, [&] { return closed_ || !st_->data.empty() || st_->eof || st_->failure.has_value(); });
        if (closed_) return 0;
        if (!st_->data.empty()) {
            auto& front = st_->data.front();
            std::size_t n = std::min(buf.size(), front.size() - st_->front_done);
            std::copy_n(front.begin() + static_cast<std::ptrdiff_t>(st_->front_done), n, buf.begin());
            st_->front_done += n;
            if (st_->front_done == front.size()) {
                st_->data.pop_front();
                st_->front_done = 0;
            }
            return static_cast<std::ptrdiff_t>(n);
        }
        if (st_->failure) raise(*st_->failure);
        return 0;
    }

    std::ptrdiff_t send(std::span<const std::uint8_t> data) override {
        {
            std::lock_guard lock(s_.mutex);
            if (closed_) raise(error_code::operation_invalid, error_domain::streams, "stream is not open");
            if (st_->failure) raise(*st_->failure);
        }
        constexpr std::size_t chunk = 262120;  // VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX
        auto part = data.first(std::min(chunk, data.size()));
        s_.send(frame(message_header(message_status::cont), part));
        return static_cast<std::ptrdiff_t>(part.size());
    }

    void finish() override { end(message_status::ok, true); }
    void abort() noexcept override {
        try {
            end(message_status::error, false);
        } catch (...) {
            // aborting never fails: the stream is gone here whatever the daemon says
        }
    }

private:
    header message_header(message_status status) const {
        return header{remote_program, remote_protocol_version, st_->procedure, message_type::stream, st_->serial, status};
    }

    /// Sends finish (OK) or abort (ERROR) and waits for the daemon's confirmation.
    void end(message_status status, bool report) {
        std::optional<error_info> failure;
        {
            std::unique_lock lock(s_.mutex);
            if (closed_) return;
            closed_ = true;
            st_->wake.notify_all();
            failure = st_->failure;
            st_->awaiting_confirm = true;
            if (failure && report) {
                s_.streams.erase(st_->serial);
                raise(*failure);
            }
        }
        if (!failure) {
            try {
                s_.send(frame(message_header(status), {}));
            } catch (const virtpp::error&) {
                if (report) throw;
            }
            std::unique_lock lock(s_.mutex);
            // an abort is not worth a long wait: the daemon may be stuck or gone
            auto limit = status == message_status::ok ? std::chrono::seconds(30) : std::chrono::seconds(5);
            st_->wake.wait_for(lock, limit, [&] { return st_->confirmed || st_->failure.has_value(); });
            failure = st_->failure;
            bool confirmed = st_->confirmed;
            s_.streams.erase(st_->serial);
            if (!confirmed && !failure && report)
                failure = make_error_info(error_code::rpc, error_domain::rpc, "no confirmation of the stream's end from the server");
        } else {
            std::lock_guard lock(s_.mutex);
            s_.streams.erase(st_->serial);
        }
        if (failure && report) raise(*failure);
    }

    std::shared_ptr<client_session> owner_;
    client_session::impl& s_;
    std::shared_ptr<stream_state> st_;
    bool closed_ = false;  ///< guarded by the session's mutex
};

}  // namespace

std::vector<std::uint8_t> client_session::call_with_stream(const std::shared_ptr<client_session>& self, std::int32_t procedure,
                                                           std::span<const std::uint8_t> args,
                                                           std::shared_ptr<virtpp::stream>& opened) {
    auto st = std::make_shared<stream_state>();
    auto reply = self->impl_->call(procedure, args, st);
    opened = std::make_shared<remote_stream>(self, *self->impl_, st);
    return reply;
}

client_session::client_session(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

std::uint32_t client_session::start_call(std::int32_t procedure, std::span<const std::uint8_t> args, call_completion done) {
    return impl_->start_call(procedure, args, std::move(done));
}

bool client_session::abandon_call(std::uint32_t serial) { return impl_->abandon_call(serial); }

client_session::~client_session() { close(); }

namespace {
std::mutex default_options_mutex;
client_options& default_options_locked() {
    static client_options options;
    return options;
}
}  // namespace

client_options default_client_options() {
    std::lock_guard lock(default_options_mutex);
    return default_options_locked();
}

void set_default_client_options(const client_options& options) {
    std::lock_guard lock(default_options_mutex);
    default_options_locked() = options;
}

std::shared_ptr<client_session> client_session::open(const virtpp::uri& u, unsigned flags, const client_options& options) {
    return open_stream(open_transport(u, flags), u.remote_name(), flags, options);
}

std::shared_ptr<client_session> client_session::open_stream(std::unique_ptr<client_stream> stream, std::string name,
                                                            unsigned flags, const client_options& options) {
    auto p = std::make_unique<impl>();
    p->stream = std::move(stream);
    p->options = options;
    p->start();
    std::shared_ptr<client_session> session(new client_session(std::move(p)));
    auto& s = *session->impl_;
    s.setup(std::move(name), flags);
    return session;
}

void client_session::impl::setup(std::string name, unsigned flags) {
    auto& s = *this;

    // authentication: the daemon lists what it accepts; none and polkit need nothing from us
    std::optional<session::auth_list_ret> auth;
    try {
        auth = xdr::from_bytes<session::auth_list_ret>(s.call(session::auth_list, {}));
    } catch (const virtpp::error& e) {
        if (e.code() != error_code::no_support) throw;  // an old daemon without AUTH_LIST
    }
    if (auth && !auth->types.items.empty()) {
        auto type = auth->types.items.front();
        if (type == auth_polkit)
            (void)s.call(proc_auth_polkit, {});
        else if (type != auth_none)
            raise(error_code::auth_failed, error_domain::remote, "unsupported authentication type " + std::to_string(type));
    }

    bool server_keepalive = false;
    if (options.keepalive) {
        try {
            auto probe = xdr::to_bytes(std::int32_t{feature::program_keepalive});
            server_keepalive = xdr::from_bytes<std::int32_t>(s.call(proc::connect_supports_feature::number, probe)) != 0;
        } catch (const virtpp::error&) {
            server_keepalive = false;  // libvirt goes on without keepalive
        }
    }

    session::open_args args{std::move(name), flags};
    (void)s.call(session::connect_open, xdr::to_bytes(args));
    s.opened = true;
    s.keepalive = server_keepalive;  // the reader picks it up within its idle poll period
}

std::vector<std::uint8_t> client_session::call(std::int32_t procedure, std::span<const std::uint8_t> args) {
    return impl_->call(procedure, args);
}

void client_session::close() {
    if (!impl_) return;
    bool up = impl_->opened.exchange(false);
    {
        std::lock_guard lock(impl_->mutex);
        up = up && !impl_->dead.has_value();
    }
    if (up) {
        try {
            (void)impl_->call(session::connect_close, {});
        } catch (const virtpp::error&) {
            // the daemon may be gone already; closing goes on
        }
    }
    impl_->stop();
}

event_subscription client_session::subscribe_events(event_handler handler) {
    auto subscription = impl_->listeners.subscribe(std::move(handler));
    impl_->register_events();  // raises the daemon's refusal (NO_SUPPORT) when it registered nothing
    return subscription;
}

bool client_session::keepalive_active() const noexcept { return impl_->keepalive; }
std::uint64_t client_session::pongs_sent() const noexcept { return impl_->pongs; }
std::uint64_t client_session::pings_sent() const noexcept { return impl_->pings; }

}  // namespace virtpp::rpc
