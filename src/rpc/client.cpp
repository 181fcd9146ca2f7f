// The client session: frames calls with serials, a reader thread that hands replies to their
// callers, keepalive, and the remote driver's open and close.
#include "rpc/client_detail.hpp"

#include <virtpp/rpc/message.hpp>
#include <virtpp/rpc/procedures.hpp>
#include <virtpp/transport/remote.hpp>

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <future>
#include <map>
#include <mutex>
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

error_info closed_error() {
    return make_error_info(error_code::internal_error, error_domain::rpc, "client socket is closed");
}
}  // namespace

struct client_session::impl {
    std::unique_ptr<client_stream> stream;
    client_options options;

    std::mutex mutex;  ///< pending, next_serial, dead
    std::map<std::uint32_t, std::promise<reply>> pending;
    std::uint32_t next_serial = 0;
    std::optional<error_info> dead;  ///< set once the link is down (or closed)

    std::mutex write_mutex;  ///< one whole message at a time on the wire
    std::thread reader;
    int wake[2] = {-1, -1};
    std::atomic<bool> stopping{false};

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
        reader = std::thread([this] { run(); });
    }

    void stop() {
        stopping = true;
        if (wake[1] >= 0) {
            char b = 0;
            [[maybe_unused]] auto n = ::write(wake[1], &b, 1);
        }
        if (stream) stream->shutdown();
        if (reader.joinable()) reader.join();
        fail_all(closed_error());
    }

    /// Marks the link down with `why` and fails every waiting call with it.
    void fail_all(const error_info& why) {
        std::lock_guard lock(mutex);
        if (!dead) dead = why;
        for (auto& [serial, promise] : pending) promise.set_exception(std::make_exception_ptr(virtpp::error(why)));
        pending.clear();
    }

    void send(const std::vector<std::uint8_t>& message) {
        std::lock_guard lock(write_mutex);
        stream->write_all(message.data(), message.size());
    }

    void send_keepalive(std::int32_t proc) {
        header h{keepalive_program, keepalive_protocol_version, proc, message_type::message, 0, message_status::ok};
        send(frame_body(h, xdr::none{}));
    }

    std::vector<std::uint8_t> call(std::int32_t procedure, std::span<const std::uint8_t> args) {
        std::future<reply> answer;
        std::uint32_t serial = 0;
        {
            std::lock_guard lock(mutex);
            if (dead) raise(closed_error());
            serial = next_serial++;
            answer = pending[serial].get_future();
        }
        header h{remote_program, remote_protocol_version, procedure, message_type::call, serial, message_status::ok};
        try {
            send(frame(h, args));
        } catch (const virtpp::error& e) {
            std::lock_guard lock(mutex);
            pending.erase(serial);
            throw;
        }
        reply r = answer.get();
        if (r.head.status == message_status::error) raise(from_remote_error(xdr::from_bytes<remote_error>(r.body)));
        return std::move(r.body);
    }

    void dispatch(std::span<const std::uint8_t> packet) {
        header h = decode_header(packet);
        auto body = packet.subspan(header_size);
        if (h.prog == keepalive_program) {
            if (h.proc == keepalive_ping) {
                send_keepalive(keepalive_pong);
                ++pongs;
            }
            return;  // a PONG: receiving it already counted as activity
        }
        if (h.type == message_type::message || h.type == message_type::stream || h.type == message_type::stream_hole)
            return;  // events and streams: this client registers none
        if (h.type != message_type::reply && h.type != message_type::reply_with_fds)
            raise(error_code::rpc, error_domain::rpc,
                  "got unexpected RPC call prog " + std::to_string(static_cast<std::int32_t>(h.prog)) + " vers " +
                      std::to_string(h.vers) + " proc " + std::to_string(h.proc) + " type " +
                      std::to_string(static_cast<int>(h.type)));
        std::lock_guard lock(mutex);
        auto it = pending.find(h.serial);
        if (h.prog != remote_program || h.vers != remote_protocol_version || it == pending.end())
            raise(error_code::rpc, error_domain::rpc,
                  "no call waiting for reply with prog " + std::to_string(static_cast<std::int32_t>(h.prog)) + " vers " +
                      std::to_string(h.vers) + " serial " + std::to_string(h.serial));
        it->second.set_value(reply{h, std::vector<std::uint8_t>(body.begin(), body.end())});
        pending.erase(it);
    }

    /// The reader thread: frames in, replies out, keepalive on the side.
    void run() {
        using clock = std::chrono::steady_clock;
        std::vector<std::uint8_t> buffer;
        auto last_received = clock::now();
        auto next_check = last_received + options.keepalive_interval;
        unsigned unanswered = 0;
        try {
            while (!stopping) {
                int timeout = 250;  // until keepalive is switched on after the open call
                if (keepalive) {
                    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_check - clock::now()).count();
                    timeout = static_cast<int>(std::max<long long>(0, std::min<long long>(left, 60000)));
                }
                pollfd fds[2] = {{stream->poll_fd(), POLLIN, 0}, {wake[0], POLLIN, 0}};
                int n = ::poll(fds, 2, timeout);
                if (n < 0 && errno != EINTR) raise_system(errno, "poll on socket failed");
                if (stopping || (n > 0 && fds[1].revents != 0)) break;
                auto now = clock::now();
                if (n > 0 && fds[0].revents != 0) {
                    if (!stream->read(buffer)) {
                        if (stopping) break;
                        auto output = stream->error_output();
                        raise_system(EIO, output.empty() ? std::string("End of file while reading data")
                                                         : "End of file while reading data: " + output);
                    }
                    last_received = now;
                    unanswered = 0;
                    // whole messages: length word checked before the body is waited for
                    std::size_t used = 0;
                    while (buffer.size() - used >= length_word_size) {
                        const auto* p = buffer.data() + used;
                        std::uint32_t word = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) |
                                             (std::uint32_t(p[2]) << 8) | p[3];
                        auto rest = bytes_after_length_word(word);
                        if (buffer.size() - used - length_word_size < rest) break;
                        dispatch({p + length_word_size, rest});
                        used += length_word_size + rest;
                    }
                    buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(used));
                }
                if (keepalive && now >= next_check) {
                    if (now - last_received >= options.keepalive_interval) {
                        if (unanswered >= options.keepalive_count)
                            raise(error_code::internal_error, error_domain::rpc, "connection closed due to keepalive timeout");
                        send_keepalive(keepalive_ping);
                        ++pings;
                        ++unanswered;
                    }
                    next_check = now + options.keepalive_interval;
                }
            }
        } catch (const virtpp::error& e) {
            stream->shutdown();
            fail_all(e.info());
            return;
        } catch (const std::exception& e) {
            stream->shutdown();
            fail_all(make_error_info(error_code::internal_error, error_domain::rpc, e.what()));
            return;
        }
    }
};

client_session::client_session(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

client_session::~client_session() { close(); }

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

bool client_session::keepalive_active() const noexcept { return impl_->keepalive; }
std::uint64_t client_session::pongs_sent() const noexcept { return impl_->pongs; }
std::uint64_t client_session::pings_sent() const noexcept { return impl_->pings; }

}  // namespace virtpp::rpc
