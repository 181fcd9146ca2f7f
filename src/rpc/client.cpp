// The client session's stream-independent half (detail::session_core): calls by serial, streams,
// events and their thread, keepalive bookkeeping, authentication and CONNECT_OPEN/CLOSE; and the
// rpc::client_session facade over it. The I/O is basic_client_session<S> (client_sessions.cpp).
#include "rpc/client_detail.hpp"

#include <virtpp/rpc/basic_client_session.hpp>
#include <virtpp/rpc/events.hpp>
#include <virtpp/rpc/message.hpp>
#include <virtpp/rpc/procedures.hpp>
#include <virtpp/stream.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>

namespace virtpp::rpc {

namespace {
constexpr std::int32_t auth_none = 0;
constexpr std::int32_t auth_polkit = 2;
constexpr std::int32_t proc_auth_polkit = 70;

error_info closed_error() {
    return make_error_info(error_code::internal_error, error_domain::rpc, "client socket is closed");
}
}  // namespace

namespace detail {

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

/// remote_stream's way into the session's lock and stream table.
struct session_core::stream_access {
    static std::mutex& mutex(session_core& s) { return s.mutex_; }
    static void forget(session_core& s, std::uint32_t serial) { s.streams_.erase(serial); }  // mutex held
};

session_core::session_core(const client_options& options) : options_(options) {}

session_core::~session_core() {
    if (event_thread_.joinable()) event_thread_.detach();  // (stop() joined it unless it was the caller)
}

bool session_core::has_pending() const {
    std::lock_guard lock(mutex_);
    return !pending_.empty();
}

std::optional<error_info> session_core::link_error() const {
    std::lock_guard lock(mutex_);
    return dead_;
}

void session_core::stop() {
    if (stopping_.exchange(true)) return;
    stop_io();
    fail_all(closed_error());
    {
        std::lock_guard lock(event_wake_mutex_);
        event_wake_.notify_all();
    }
    if (event_thread_.joinable() && event_thread_.get_id() != std::this_thread::get_id()) event_thread_.join();
    else if (event_thread_.joinable()) event_thread_.detach();  // closed from a handler: the thread ends after it
}

void session_core::close() {
    bool up = opened_.exchange(false);
    {
        std::lock_guard lock(mutex_);
        up = up && !dead_.has_value();
    }
    if (up && !on_io_thread()) {
        try {
            (void)call(session::connect_close, {});
        } catch (const virtpp::error&) {
            // the daemon may be gone already; closing goes on
        }
    }
    stop();
}

// ---- events -------------------------------------------------------------------------------------

void session_core::run_events() {
    std::unique_lock lock(event_wake_mutex_);
    while (!stopping_) {
        event_wake_.wait(lock, [&] { return event_pending_ || stopping_.load(); });
        if (stopping_) break;
        event_pending_ = false;
        lock.unlock();
        listeners_.deliver();
        lock.lock();
    }
}

void session_core::handle_event(std::int32_t procedure, std::span<const std::uint8_t> body) {
    std::optional<events::decoded_event> decoded;
    try {
        decoded = events::decode_event(procedure, body);
    } catch (const virtpp::error&) {
        return;  // a malformed event is dropped; the calls on the link go on
    }
    if (!decoded) return;
    {
        std::lock_guard lock(events_mutex_);
        // (events of registrations still being made are taken: their ids are not all known yet)
        if (decoded->callback && events_registered_ && !server_callbacks_.contains(*decoded->callback)) return;
    }
    listeners_.queue(std::move(decoded->what));
    std::lock_guard lock(event_wake_mutex_);
    event_pending_ = true;
    event_wake_.notify_one();
}

void session_core::register_events() {
    std::lock_guard registering(register_mutex_);
    {
        std::lock_guard lock(events_mutex_);
        if (events_registered_) return;
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
                std::lock_guard lock(events_mutex_);
                server_callbacks_.insert(id_of_server);
            });
        attempt([&] {
            auto ret = call(events::connect_network_event_register_any,
                            xdr::to_bytes(events::network_register_args{network_event_id::lifecycle, std::nullopt}));
            auto id_of_server = xdr::from_bytes<events::callback_id>(ret).id;
            std::lock_guard lock(events_mutex_);
            server_callbacks_.insert(id_of_server);
        });
    } else {
        for (int id = 0; id <= events::legacy_event_id_max; ++id)
            attempt([&] { (void)call(events::connect_domain_event_register_any, xdr::to_bytes(events::event_id_args{id})); });
    }
    if (registered == 0 && first_failure) throw *first_failure;
    if (!event_thread_.joinable())
        event_thread_ = std::thread([this, keep = keep_alive()] { run_events(); });
    std::lock_guard lock(events_mutex_);
    events_registered_ = true;
}

event_subscription session_core::subscribe_events(event_handler handler) {
    auto subscription = listeners_.subscribe(std::move(handler));
    register_events();  // raises the daemon's refusal (NO_SUPPORT) when it registered nothing
    return subscription;
}

// ---- the link failing ---------------------------------------------------------------------------

void session_core::fail_all(const error_info& why, int reason) {
    std::map<std::uint32_t, call_completion> orphans;
    {
        std::lock_guard lock(mutex_);
        fail_all_locked(why, reason, orphans);
    }
    auto failure = std::make_exception_ptr(virtpp::error(why));
    for (auto& [serial, done] : orphans) done(failure, {});
}

void session_core::fail_all_locked(const error_info& why, int reason, std::map<std::uint32_t, call_completion>& orphans) {
    bool first = !dead_;
    if (!dead_) dead_ = why;
    if (first && !stopping_) {
        listeners_.queue(connection_closed_event{reason, why.message});
        std::lock_guard wake_lock(event_wake_mutex_);
        event_pending_ = true;
        event_wake_.notify_one();
    }
    orphans.swap(pending_);
    abandoned_.clear();
    for (auto& [serial, st] : streams_) {
        if (!st->failure) st->failure = why;
        st->wake.notify_all();
    }
}

// ---- calls --------------------------------------------------------------------------------------

std::uint32_t session_core::register_call(std::int32_t procedure, std::span<const std::uint8_t> args, call_completion done,
                                          const std::shared_ptr<stream_state>& opens, std::vector<std::uint8_t>& message) {
    std::lock_guard lock(mutex_);
    if (dead_) raise(closed_error());
    std::uint32_t serial = next_serial_++;
    header h{remote_program, remote_protocol_version, procedure, message_type::call, serial, message_status::ok};
    message = frame(h, args);  // raises for a call over the size limit: nothing registered yet
    pending_.emplace(serial, std::move(done));
    if (opens) {
        opens->procedure = procedure;
        opens->serial = serial;
        streams_[serial] = opens;
    }
    return serial;
}

std::uint32_t session_core::start_call(std::int32_t procedure, std::span<const std::uint8_t> args, call_completion done,
                                       const std::shared_ptr<stream_state>& opens) {
    std::vector<std::uint8_t> message;
    auto serial = register_call(procedure, args, std::move(done), opens, message);
    send(std::move(message));
    return serial;
}

bool session_core::abandon_call(std::uint32_t serial) {
    std::lock_guard lock(mutex_);
    if (pending_.erase(serial) == 0) return false;
    if (!dead_) abandoned_.insert(serial);
    return true;
}

namespace {
/// A caller blocked on one result.
struct call_waiter {
    std::atomic<bool> done{false};  ///< set (release) after failure and body
    std::exception_ptr failure;
    std::vector<std::uint8_t> body;
};
}  // namespace

std::vector<std::uint8_t> session_core::call(std::int32_t procedure, std::span<const std::uint8_t> args,
                                             const std::shared_ptr<stream_state>& opens) {
    if (on_io_thread())
        raise(error_code::internal_error, error_domain::rpc,
              "a blocking call on the client session's own I/O thread would never see its reply");
    auto w = std::make_shared<call_waiter>();
    std::vector<std::uint8_t> message;
    auto serial = register_call(
        procedure, args,
        [this, w](std::exception_ptr failure, std::vector<std::uint8_t> body) {
            w->failure = std::move(failure);
            w->body = std::move(body);
            w->done.store(true, std::memory_order_release);
            wake_callers();
        },
        opens, message);
    drive(std::move(message), w->done);
    (void)w->done.load(std::memory_order_acquire);
    if (w->failure) {
        if (opens) {
            std::lock_guard session_lock(mutex_);
            streams_.erase(serial);
        }
        std::rethrow_exception(w->failure);
    }
    return std::move(w->body);
}

void session_core::send(std::vector<std::uint8_t> message, write_done done) { post_write(std::move(message), std::move(done)); }

void session_core::send_and_wait(std::vector<std::uint8_t> message) {
    if (on_io_thread()) return send(std::move(message));  // nothing to wait with on the I/O thread
    struct written {
        std::mutex mutex;
        std::condition_variable wake;
        bool done = false;
        std::optional<error_info> failure;
    };
    auto w = std::make_shared<written>();
    send(std::move(message), [w](const std::optional<error_info>& why) {
        std::lock_guard lock(w->mutex);
        w->failure = why;
        w->done = true;
        w->wake.notify_one();
    });
    std::unique_lock lock(w->mutex);
    w->wake.wait(lock, [&] { return w->done; });
    if (w->failure) raise(*w->failure);
}

void session_core::send_keepalive(std::int32_t proc) {
    header h{keepalive_program, keepalive_protocol_version, proc, message_type::message, 0, message_status::ok};
    send(frame_body(h, xdr::none{}));
}

session_core::keepalive_action session_core::keepalive_tick() {
    auto received = received_.load(std::memory_order_relaxed);
    if (received != seen_received_) {
        // the server spoke within the interval: the link is alive
        seen_received_ = received;
        unanswered_ = 0;
        return keepalive_action::none;
    }
    if (unanswered_ >= options_.keepalive_count) return keepalive_action::give_up;
    ++pings_;
    ++unanswered_;
    return keepalive_action::ping;
}

// ---- what the I/O thread read -----------------------------------------------------------------

void session_core::stream_message_locked(stream_state& st, const header& h, std::span<const std::uint8_t> body) {
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

void session_core::dispatch(std::span<const std::uint8_t> packet) {
    header h = decode_header(packet);
    auto body = packet.subspan(header_size);
    if (h.prog == keepalive_program) {
        if (h.proc == keepalive_ping) {
            ++pongs_;  // counted first: whoever sees the PONG sees the count
            send_keepalive(keepalive_pong);
        }
        return;  // a PONG: receiving it already counted as activity
    }
    if (h.type == message_type::message && h.prog == remote_program) {
        handle_event(h.proc, body);
        return;
    }
    if (h.type == message_type::stream || h.type == message_type::stream_hole) {
        std::lock_guard lock(mutex_);
        auto it = streams_.find(h.serial);
        if (it != streams_.end() && it->second->procedure == h.proc && h.prog == remote_program)
            stream_message_locked(*it->second, h, body);
        return;  // data of a stream already closed here: dropped
    }
    if (h.type == message_type::message) return;  // a message of another program: not ours
    if (h.type != message_type::reply && h.type != message_type::reply_with_fds)
        raise(error_code::rpc, error_domain::rpc,
              "got unexpected RPC call prog " + std::to_string(static_cast<std::int32_t>(h.prog)) + " vers " +
                  std::to_string(h.vers) + " proc " + std::to_string(h.proc) + " type " +
                  std::to_string(static_cast<int>(h.type)));
    std::unique_lock lock(mutex_);
    if (auto a = pending_.find(h.serial);
        a != pending_.end() && h.prog == remote_program && h.vers == remote_protocol_version) {
        auto done = std::move(a->second);
        pending_.erase(a);
        lock.unlock();
        if (h.status == message_status::error) {
            std::exception_ptr failure;
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
    if (abandoned_.erase(h.serial) != 0) return;  // the reply of a call given up: dropped
    // libvirtd answers a failed stream finish with a plain error reply of the stream's serial
    if (auto st = streams_.find(h.serial); st != streams_.end() && st->second->awaiting_confirm) {
        stream_message_locked(*st->second, h, body);
        return;
    }
    raise(error_code::rpc, error_domain::rpc,
          "no call waiting for reply with prog " + std::to_string(static_cast<std::int32_t>(h.prog)) + " vers " +
              std::to_string(h.vers) + " serial " + std::to_string(h.serial));
}

// ---- open ---------------------------------------------------------------------------------------

void session_core::setup(std::string name, unsigned flags) {
    // authentication: the daemon lists what it accepts; none and polkit need nothing from us
    std::optional<session::auth_list_ret> auth;
    try {
        auth = xdr::from_bytes<session::auth_list_ret>(call(session::auth_list, {}));
    } catch (const virtpp::error& e) {
        if (e.code() != error_code::no_support) throw;  // an old daemon without AUTH_LIST
    }
    if (auth && !auth->types.items.empty()) {
        auto type = auth->types.items.front();
        if (type == auth_polkit)
            (void)call(proc_auth_polkit, {});
        else if (type != auth_none)
            raise(error_code::auth_failed, error_domain::remote, "unsupported authentication type " + std::to_string(type));
    }

    bool server_keepalive = false;
    if (options_.keepalive) {
        try {
            auto probe = xdr::to_bytes(std::int32_t{feature::program_keepalive});
            server_keepalive = xdr::from_bytes<std::int32_t>(call(proc::connect_supports_feature::number, probe)) != 0;
        } catch (const virtpp::error&) {
            server_keepalive = false;  // libvirt goes on without keepalive
        }
    }

    session::open_args args{std::move(name), flags};
    (void)call(session::connect_open, xdr::to_bytes(args));
    opened_ = true;
    keepalive_ = server_keepalive;
    if (server_keepalive) start_keepalive();
}

}  // namespace detail

// ---- streams --------------------------------------------------------------------------------------

namespace {

using detail::stream_state;
using access = detail::session_core::stream_access;

/// A stream to the daemon: blocking recv, send in messages of at most 256 KiB, each written
/// before the next is taken (the pace of the link).
class remote_stream : public virtpp::stream {
public:
    remote_stream(std::shared_ptr<client_session> owner, detail::session_core& s, std::shared_ptr<stream_state> st)
        : owner_(std::move(owner)), s_(s), st_(std::move(st)) {}
    ~remote_stream() override { abort(); }

    std::ptrdiff_t recv(std::span<std::uint8_t> buf) override {
        std::unique_lock lock(access::mutex(s_));
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
            std::lock_guard lock(access::mutex(s_));
            if (closed_) raise(error_code::operation_invalid, error_domain::streams, "stream is not open");
            if (st_->failure) raise(*st_->failure);
        }
        constexpr std::size_t chunk = 262120;  // VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX
        auto part = data.first(std::min(chunk, data.size()));
        s_.send_and_wait(frame(message_header(message_status::cont), part));
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
            std::unique_lock lock(access::mutex(s_));
            if (closed_) return;
            closed_ = true;
            st_->wake.notify_all();
            failure = st_->failure;
            st_->awaiting_confirm = true;
            if (failure && report) {
                access::forget(s_, st_->serial);
                raise(*failure);
            }
        }
        if (!failure) {
            try {
                s_.send_and_wait(frame(message_header(status), {}));
            } catch (const virtpp::error&) {
                if (report) throw;
            }
            std::unique_lock lock(access::mutex(s_));
            // an abort is not worth a long wait: the daemon may be stuck or gone
            auto limit = status == message_status::ok ? std::chrono::seconds(30) : std::chrono::seconds(5);
            st_->wake.wait_for(lock, limit, [&] { return st_->confirmed || st_->failure.has_value(); });
            failure = st_->failure;
            bool confirmed = st_->confirmed;
            access::forget(s_, st_->serial);
            if (!confirmed && !failure && report)
                failure = make_error_info(error_code::rpc, error_domain::rpc, "no confirmation of the stream's end from the server");
        } else {
            std::lock_guard lock(access::mutex(s_));
            access::forget(s_, st_->serial);
        }
        if (failure && report) raise(*failure);
    }

    std::shared_ptr<client_session> owner_;
    detail::session_core& s_;
    std::shared_ptr<stream_state> st_;
    bool closed_ = false;  ///< guarded by the session's mutex
};

}  // namespace

// ---- the facade ---------------------------------------------------------------------------------

std::vector<std::uint8_t> client_session::call_with_stream(const std::shared_ptr<client_session>& self, std::int32_t procedure,
                                                           std::span<const std::uint8_t> args,
                                                           std::shared_ptr<virtpp::stream>& opened) {
    auto st = std::make_shared<stream_state>();
    auto reply = self->impl_->call(procedure, args, st);
    opened = std::make_shared<remote_stream>(self, *self->impl_, st);
    return reply;
}

client_session::client_session(std::shared_ptr<detail::session_core> p) : impl_(std::move(p)) {}

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
    // the facade exists before the open calls: a failed open closes the session on the way out
    std::shared_ptr<client_session> session(new client_session(stream->start(options)));
    stream.reset();
    session->impl_->setup(std::move(name), flags);
    return session;
}

std::vector<std::uint8_t> client_session::call(std::int32_t procedure, std::span<const std::uint8_t> args) {
    return impl_->call(procedure, args);
}

void client_session::close() {
    if (impl_) impl_->close();
}

event_subscription client_session::subscribe_events(event_handler handler) {
    return impl_->subscribe_events(std::move(handler));
}

bool client_session::keepalive_active() const noexcept { return impl_->keepalive_active(); }
std::uint64_t client_session::pongs_sent() const noexcept { return impl_->pongs_sent(); }
std::uint64_t client_session::pings_sent() const noexcept { return impl_->pings_sent(); }

}  // namespace virtpp::rpc
