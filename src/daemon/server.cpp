#include "daemon/session.hpp"
#include <virtpp/rpc/server.hpp>

#include "rpc/tls.hpp"

#include <virtpp/error.hpp>

#include <boost/asio.hpp>

#include <grp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <utility>

namespace virtpp::daemon {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;
using steady = std::chrono::steady_clock;

std::string default_unix_sock_dir() {
    if (::geteuid() == 0) return "/run/libvirt";
    return user_runtime_base() + "/libvirt";
}

namespace {

template <class Socket>
class client_connection;

std::string address_text(const asio::ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
    return a.to_string();
}

}  // namespace

struct server::impl {
    server_options opt;
    asio::io_context io;
    asio::thread_pool workers;
    asio::signal_set signals{io, SIGINT, SIGTERM};
    asio::steady_timer idle_timer{io};
    struct unix_listener {
        std::unique_ptr<unix_socket::acceptor> acceptor;
        bool read_only = false;
        std::string path;
        bool accepting = false;  ///< an accept is outstanding
        bool owned = true;  ///< false for a socket systemd handed over: its file is systemd's
    };
    struct tcp_listener {
        std::unique_ptr<tcp::acceptor> acceptor;
        bool tls = false;
        bool accepting = false;
    };
    std::vector<unix_listener> unix_listeners;
    std::vector<tcp_listener> tcp_listeners;
    std::shared_ptr<const rpc::tls::credentials> tls_creds;
    std::vector<std::string> endpoint_names;
    std::atomic<std::size_t> clients{0};
    /// TCP and TLS clients that have not finished their handshake (libvirtd's unauthenticated
    /// clients); unix clients are known to the kernel and never anonymous. I/O thread only.
    std::size_t anonymous = 0;
    steady::time_point last_client_change = steady::now();
    /// Every client reads into this one buffer (the I/O thread is the only reader): an idle
    /// connection holds no read buffer of its own.
    std::array<std::uint8_t, 65536> read_buffer{};

    explicit impl(server_options o)
        : opt(std::move(o)), workers(std::max(1U, opt.config.max_workers)) {}

    void log(int level, const std::string& line) {
        if (opt.log != nullptr) opt.log->write(level, line);
    }

    session_options session_opts(std::string peer, bool read_only) const {
        session_options s;
        s.read_only_socket = read_only;
        s.max_client_requests = std::max(1U, opt.config.max_client_requests);
        s.keepalive_interval = opt.config.keepalive_interval;
        s.keepalive_count = opt.config.keepalive_count;
        s.peer = std::move(peer);
        s.open = opt.open;
        return s;
    }

    /// I/O thread: a client closed (and whether it was still anonymous).
    void client_gone(bool was_anonymous) {
        --clients;
        if (was_anonymous) --anonymous;
        last_client_change = steady::now();
        update_accepting();
    }
    /// I/O thread: an anonymous client finished its handshake.
    void client_greeted() {
        --anonymous;
        update_accepting();
    }

    /// As libvirtd: at max_clients no listener accepts (connections wait in the kernel's backlog
    /// of max_queued_clients); at max_anonymous_clients the TCP/TLS listeners stop accepting.
    /// Accepting resumes when a client leaves or finishes its handshake.
    void update_accepting() {
        if (accept_backoff) return;
        bool full = clients >= std::max(1U, opt.config.max_clients);
        bool anon_full = anonymous >= std::max(1U, opt.config.max_anonymous_clients);
        if (full != logged_full) {
            logged_full = full;
            log(full ? 3 : 2, full ? "max_clients (" + std::to_string(opt.config.max_clients) + ") reached: not accepting"
                                   : "accepting clients again");
        }
        if (anon_full != logged_anon_full) {
            logged_anon_full = anon_full;
            log(anon_full ? 3 : 2, anon_full ? "max_anonymous_clients (" + std::to_string(opt.config.max_anonymous_clients) +
                                                   ") reached: not accepting TCP/TLS clients"
                                             : "accepting TCP/TLS clients again");
        }
        if (!full)
            for (auto& l : unix_listeners)
                if (!l.accepting) accept_unix(l);
        if (!full && !anon_full)
            for (auto& l : tcp_listeners)
                if (!l.accepting) accept_tcp(l);
    }
    bool logged_full = false;
    bool logged_anon_full = false;

    /// accept() failed (out of descriptors, say): wait a little rather than spin on the error.
    void accept_failed(const std::string& where, const boost::system::error_code& ec) {
        log(3, "accept on " + where + " failed: " + ec.message());
        if (accept_backoff) return;
        accept_backoff = true;
        accept_retry.expires_after(std::chrono::milliseconds(200));
        accept_retry.async_wait([this](boost::system::error_code e) {
            accept_backoff = false;
            if (!e) update_accepting();
        });
    }
    asio::steady_timer accept_retry{io};
    bool accept_backoff = false;

    void admit() {
        ++clients;
        last_client_change = steady::now();
    }

    /// libvirtd's max_queued_clients: connections the kernel holds while none is accepted.
    int backlog() const {
        return static_cast<int>(std::clamp(opt.config.max_queued_clients, 1U, static_cast<unsigned>(SOMAXCONN)));
    }
    void setup_unix();
    void adopt_unix();
    void setup_tcp(const std::string& port, bool tls);
    void accept_unix(unix_listener& l);
    void accept_tcp(tcp_listener& l);
    void watch_idle();
};

namespace {

/// Replies queued for a client above this stop the daemon reading from it.
constexpr std::size_t output_pause_bytes = 256U << 10;
/// Replies queued above this close the client: with reading stopped only the calls already in
/// the daemon add to the queue, so only a client that never reads gets here.
constexpr std::size_t output_close_bytes = 2 * rpc::message_max + (1U << 20);

template <class Socket>
class client_connection : public session_host, public std::enable_shared_from_this<client_connection<Socket>> {
public:
    client_connection(server::impl& srv, Socket socket, std::string peer, bool read_only,
                      std::unique_ptr<rpc::tls::engine> tls, bool anonymous)
        : srv_(srv), socket_(std::move(socket)), timer_(srv.io), peer_(std::move(peer)), read_only_(read_only),
          tls_(std::move(tls)), anonymous_(anonymous) {}

    void start() {
        auto self = this->shared_from_this();
        session_ = std::make_shared<client_session>(srv_.session_opts(peer_, read_only_),
                                                    std::weak_ptr<session_host>(std::static_pointer_cast<session_host>(self)));
        srv_.log(2, "client " + peer_ + ": connected" + (read_only_ ? " (read-only socket)" : "") +
                        (tls_ ? " (TLS)" : ""));
        boost::system::error_code ignored;
        socket_.non_blocking(true, ignored);  // read() reads what a readiness wait announced, never waits
        tick();
        read();
    }

    // ---- session_host (any thread)
    void send(std::vector<std::uint8_t> packet) override {
        // a worker's reply goes straight to an idle socket: no hop to the I/O thread (TLS: always hop)
        if (!tls_ && write_now(packet)) return;
        {
            std::lock_guard lock(wire_mutex_);
            posted_bytes_ += packet.size();  // counted for output_full() until queue_write takes it
        }
        asio::post(srv_.io, [self = this->shared_from_this(), p = std::move(packet)]() mutable {
            {
                std::lock_guard lock(self->wire_mutex_);
                self->posted_bytes_ -= p.size();
            }
            self->queue_write(std::move(p));
        });
    }
    void post(std::function<void()> work) override { asio::post(srv_.workers, std::move(work)); }
    void close_after_flush() override {
        asio::post(srv_.io, [self = this->shared_from_this()] { self->close_when_flushed("connection closed by CONNECT_CLOSE", 2); });
    }
    void resume_reading() override {
        asio::post(srv_.io, [self = this->shared_from_this()] {
            self->session_paused_ = false;
            self->read();
        });
    }
    bool output_full() const override {
        std::lock_guard lock(wire_mutex_);
        return out_bytes_ + posted_bytes_ > output_pause_bytes;
    }
    void log(int level, const std::string& line) override { srv_.log(level, line); }
    bool logs(int level) const override { return srv_.opt.log != nullptr && level >= srv_.opt.log->level(); }

private:
    /// Writes a whole packet without blocking when nothing is queued or being written. True when
    /// the packet is taken care of: written, or its unwritten rest queued for the I/O thread.
    bool write_now(std::vector<std::uint8_t>& packet) {
        std::lock_guard lock(wire_mutex_);
        if (closed_ || writing_ || !out_.empty()) return false;
        std::size_t done = 0;
        while (done < packet.size()) {
            auto n = ::send(socket_.native_handle(), packet.data() + done, packet.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                done += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return done > 0;  // broken: the reader sees it
            break;
        }
        if (done > 0) last_write_progress_ = steady::now();
        if (done == packet.size()) return true;
        if (done == 0) return false;
        // the socket is full mid-packet: the rest goes first, written by the I/O thread
        packet.erase(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(done));
        out_bytes_ += packet.size();
        out_.push_back(std::move(packet));
        writing_ = true;
        asio::post(srv_.io, [self = this->shared_from_this()] { self->start_write(); });
        return true;
    }

    /// Waits for the client to be readable, then reads into the server's shared buffer. Not while
    /// the replies queued for the client are over output_pause_bytes: a client that does not
    /// read its replies is not read either (write_next() resumes).
    void read() {
        if (closed_ || reading_ || session_paused_) return;
        {
            std::lock_guard lock(wire_mutex_);
            if (out_bytes_ > output_pause_bytes) {
                output_paused_ = true;
                return;
            }
        }
        if (session_->holds_input()) {
            // what the session held back while paused goes first
            try {
                if (!session_->receive({})) {
                    note_pause();
                    return;
                }
            } catch (const protocol_error& e) {
                close(std::string("protocol error: ") + e.what(), 3);
                return;
            }
            if (closed_) return;
        }
        reading_ = true;
        socket_.async_wait(Socket::wait_read, [self = this->shared_from_this()](boost::system::error_code ec) {
            self->reading_ = false;
            if (self->closed_) return;
            if (ec) {
                self->close("read failed: " + ec.message(), 2);
                return;
            }
            auto n = self->socket_.read_some(asio::buffer(self->srv_.read_buffer), ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again || ec == asio::error::interrupted) {
                self->read();
                return;
            }
            if (ec) {
                self->close(ec == asio::error::eof ? "disconnected" : "read failed: " + ec.message(), 2);
                return;
            }
            self->on_data(n);
        });
    }

    void on_data(std::size_t n) {
        if (closed_) return;
        std::span<const std::uint8_t> data(srv_.read_buffer.data(), n);
        std::vector<std::uint8_t> plain;
        if (tls_) {
            try {
                tls_->received(data.data(), data.size());
            } catch (const std::exception& e) {
                close(std::string("TLS failure: ") + e.what(), 3);
                return;
            }
            flush_tls();
            if (tls_->closed()) {
                close("TLS session closed by the client", 2);
                return;
            }
            if (!tls_->established()) {
                read();
                return;
            }
            if (!confirmed_) {
                // a refused client still gets the end of the handshake, then no confirmation byte
                if (!check_certificate()) return;
                confirmed_ = true;
                const std::uint8_t ok = 1;  // libvirt's confirmation byte: the client is accepted
                tls_->send(&ok, 1);
                flush_tls();
            }
            tls_->take_plaintext(plain);
            if (plain.empty()) {
                read();
                return;
            }
            data = plain;
        }
        try {
            bool more = session_->receive(data);
            if (closed_) return;
            if (anonymous_ && session_->greeted()) {
                anonymous_ = false;
                srv_.client_greeted();
            }
            if (more) read();
            else note_pause();
        } catch (const protocol_error& e) {
            close(std::string("protocol error: ") + e.what(), 3);
        }
    }

    /// receive() returned false: reading waits for the replies to drain (write_next) or for a
    /// waiting call to end (resume_reading); both paths call read(), which checks again.
    void note_pause() {
        std::lock_guard lock(wire_mutex_);
        if (out_bytes_ > output_pause_bytes) output_paused_ = true;
        else session_paused_ = true;
    }

    bool check_certificate() {
        const auto& cfg = srv_.opt.config;
        const std::string& failure = tls_->verify_failure();  // also set when the client sent no certificate
        if (!failure.empty()) {
            if (!cfg.tls_no_verify_certificate) {
                close_when_flushed("refused: certificate check failed: " + failure, 3);
                return false;
            }
            srv_.log(3, "client " + peer_ + ": certificate check failed, allowed by tls_no_verify_certificate: " + failure);
        }
        if (!list_allows(cfg.tls_allowed_dn_list, tls_->peer_dn())) {
            if (!cfg.tls_no_verify_certificate) {
                close_when_flushed("refused: Distinguished Name '" + tls_->peer_dn() +
                                       "' is not on the list of allowed clients (tls_allowed_dn_list)",
                                   3);
                return false;
            }
            srv_.log(3, "client " + peer_ + ": DN '" + tls_->peer_dn() +
                            "' not in tls_allowed_dn_list, allowed by tls_no_verify_certificate");
        }
        return true;
    }

    void flush_tls() {
        auto out = tls_->take_outgoing();
        if (!out.empty()) push_wire(std::move(out));
    }

    void queue_write(std::vector<std::uint8_t> packet) {
        if (closed_) return;
        if (tls_) {
            tls_->send(packet.data(), packet.size());
            flush_tls();
            return;
        }
        push_wire(std::move(packet));
    }

    void push_wire(std::vector<std::uint8_t> bytes) {
        std::unique_lock lock(wire_mutex_);
        if (closed_) return;
        out_bytes_ += bytes.size();
        out_.push_back(std::move(bytes));
        if (out_bytes_ > output_close_bytes) {
            lock.unlock();
            close("more than " + std::to_string(output_close_bytes >> 20) + " MiB of replies not read", 3);
            return;
        }
        if (writing_) return;
        lock.unlock();
        write_next();
    }

    void write_next() {
        std::unique_lock lock(wire_mutex_);
        if (closed_) {
            writing_ = false;
            out_.clear();
            return;
        }
        bool resume = output_paused_ && out_bytes_ <= output_pause_bytes / 2;
        if (resume) output_paused_ = false;
        if (out_.empty()) {
            writing_ = false;
            lock.unlock();
            if (pending_close_) {
                close(pending_close_->first, pending_close_->second);
                return;
            }
            if (resume) read();
            return;
        }
        writing_ = true;
        lock.unlock();
        if (resume) read();
        start_write();
    }

    /// Writes out_.front(); writing_ is set and stays set until the handler.
    void start_write() {
        std::lock_guard lock(wire_mutex_);
        if (closed_) {
            writing_ = false;
            out_.clear();
            return;
        }
        // piece by piece, so a client reading slowly still shows progress (output_stall_timeout)
        const auto& front = out_.front();
        socket_.async_write_some(asio::buffer(front.data() + front_done_, front.size() - front_done_),
                                 [self = this->shared_from_this()](boost::system::error_code ec, std::size_t n) {
            {
                // the buffer written lives in out_ until here, even when close() ran meanwhile
                std::lock_guard lock(self->wire_mutex_);
                self->writing_ = false;
                if (self->closed_) {
                    self->out_.clear();
                    return;
                }
                if (ec == asio::error::would_block || ec == asio::error::try_again || ec == asio::error::interrupted) ec = {};
                if (!ec) {
                    if (n > 0) self->last_write_progress_ = steady::now();
                    self->front_done_ += n;
                    self->out_bytes_ -= n;
                    if (self->front_done_ == self->out_.front().size()) {
                        self->out_.pop_front();
                        self->front_done_ = 0;
                    }
                }
            }
            if (ec) {
                self->close("write failed: " + ec.message(), 2);
                return;
            }
            self->write_next();
        });
    }

    /// Closes once everything queued is on the wire (no more reading meanwhile).
    void close_when_flushed(std::string reason, int level) {
        if (closed_ || pending_close_) return;
        pending_close_.emplace(std::move(reason), level);
        bool busy = false;
        {
            std::lock_guard lock(wire_mutex_);
            busy = writing_;
        }
        if (!busy) close(pending_close_->first, pending_close_->second);
    }

    void tick() {
        timer_.expires_after(std::chrono::seconds(1));
        timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
            if (ec || self->closed_) return;
            const auto& cfg = self->srv_.opt.config;
            auto now = steady::now();
            if (!self->session_->greeted() && cfg.handshake_timeout > 0 &&
                now - self->accepted_ >= std::chrono::seconds(cfg.handshake_timeout)) {
                self->close("no complete message within handshake_timeout (" + std::to_string(cfg.handshake_timeout) + " s)", 3);
                return;
            }
            {
                std::unique_lock lock(self->wire_mutex_);
                bool stalled = self->out_bytes_ > 0 && cfg.output_stall_timeout > 0 &&
                               now - self->last_write_progress_ >= std::chrono::seconds(cfg.output_stall_timeout);
                lock.unlock();
                if (stalled) {
                    self->close("replies not read for output_stall_timeout (" + std::to_string(cfg.output_stall_timeout) + " s)", 3);
                    return;
                }
            }
            switch (self->session_->keepalive_tick(steady::now())) {
            case client_session::keepalive_action::ping:
                self->srv_.log(1, "client " + self->peer_ + ": keepalive PING");
                self->queue_write(client_session::ping_packet());
                break;
            case client_session::keepalive_action::drop: {
                const auto& c = self->srv_.opt.config;
                self->close("no response after " + std::to_string(c.keepalive_count) + " keepalive messages in " +
                                std::to_string(c.keepalive_interval * static_cast<int>(c.keepalive_count + 1)) + " seconds",
                            3);
                return;
            }
            case client_session::keepalive_action::none: break;
            }
            self->tick();
        });
    }

    void close(const std::string& reason, int level) {
        {
            // workers write under this lock: the descriptor is not closed under them
            std::lock_guard lock(wire_mutex_);
            if (closed_) return;
            closed_ = true;
            out_bytes_ = 0;
            front_done_ = 0;
            boost::system::error_code ignored;
            socket_.shutdown(Socket::shutdown_both, ignored);
            socket_.close(ignored);
            if (!writing_) out_.clear();  // else the write in flight still uses its buffer; its handler clears
        }
        srv_.log(level, "client " + peer_ + ": closed: " + reason);
        timer_.cancel();
        session_->shutdown();
        asio::post(srv_.io, [&srv = srv_, anonymous = anonymous_] { srv.client_gone(anonymous); });
        anonymous_ = false;
    }

    server::impl& srv_;
    Socket socket_;
    asio::steady_timer timer_;
    std::string peer_;
    bool read_only_;
    std::unique_ptr<rpc::tls::engine> tls_;
    bool confirmed_ = false;
    std::shared_ptr<client_session> session_;
    bool anonymous_;  ///< counted in srv_.anonymous until the first complete message
    steady::time_point accepted_ = steady::now();
    mutable std::mutex wire_mutex_;  ///< out_, out_bytes_, writing_, closed_ and the descriptor: workers write replies themselves
    std::deque<std::vector<std::uint8_t>> out_;
    std::size_t out_bytes_ = 0;   ///< bytes of out_ not yet written
    std::size_t front_done_ = 0;  ///< bytes of out_.front() already written
    std::size_t posted_bytes_ = 0;  ///< replies on their way to queue_write()
    steady::time_point last_write_progress_ = steady::now();
    bool output_paused_ = false;   ///< reading stopped: out_bytes_ went over output_pause_bytes
    bool session_paused_ = false;  ///< reading stopped: too many calls waiting (I/O thread)
    bool writing_ = false;
    bool reading_ = false;
    bool closed_ = false;
    std::optional<std::pair<std::string, int>> pending_close_;  ///< reason and log level
};

/// A connection refused at accept: ends with a FIN rather than a reset. Nothing is sent; what the
/// client already sent (its ClientHello) is read and dropped until it closes or 5 s pass, so a
/// TLS client always sees the same clean end of stream ("The TLS connection was non-properly
/// terminated.") instead of a reset that depends on timing.
class refused_connection : public std::enable_shared_from_this<refused_connection> {
public:
    refused_connection(asio::io_context& io, tcp::socket s) : socket_(std::move(s)), timer_(io) {}
    void start() {
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
        timer_.expires_after(std::chrono::seconds(5));
        timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            boost::system::error_code e;
            if (!ec) self->socket_.close(e);
        });
        drain();
    }

private:
    void drain() {
        socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
            if (ec) {
                boost::system::error_code e;
                self->timer_.cancel();
                self->socket_.close(e);
                return;
            }
            self->drain();
        });
    }
    tcp::socket socket_;
    asio::steady_timer timer_;
    std::array<std::uint8_t, 4096> buffer_{};
};

unsigned parse_mode(const std::string& text) { return static_cast<unsigned>(std::stoul(text, nullptr, 8)); }

}  // namespace

void server::impl::setup_unix() {
    std::string dir = opt.config.unix_sock_dir.empty() ? default_unix_sock_dir() : opt.config.unix_sock_dir;
    std::error_code fs_ec;
    std::filesystem::create_directories(dir, fs_ec);
    if (fs_ec) throw std::runtime_error("cannot create socket directory " + dir + ": " + fs_ec.message());
    std::optional<gid_t> group;
    if (!opt.config.unix_sock_group.empty()) {
        struct group* g = ::getgrnam(opt.config.unix_sock_group.c_str());
        if (g == nullptr) throw std::runtime_error("unix_sock_group: no group named '" + opt.config.unix_sock_group + "'");
        group = g->gr_gid;
    }
    for (bool ro : {false, true}) {
        unix_listener l;
        l.read_only = ro;
        l.path = dir + (ro ? "/libvirt-sock-ro" : "/libvirt-sock");
        ::unlink(l.path.c_str());  // a socket left by a daemon that did not exit cleanly
        l.acceptor = std::make_unique<unix_socket::acceptor>(io);
        boost::system::error_code ec;
        l.acceptor->open(unix_socket(), ec);
        if (!ec) l.acceptor->bind(unix_socket::endpoint(l.path), ec);
        if (!ec) l.acceptor->listen(backlog(), ec);
        if (ec) throw std::runtime_error("cannot listen on " + l.path + ": " + ec.message());
        auto mode = parse_mode(ro ? opt.config.unix_sock_ro_perms : opt.config.unix_sock_rw_perms);
        if (::chmod(l.path.c_str(), mode) != 0)
            throw std::runtime_error("cannot set the mode of " + l.path + ": " + std::strerror(errno));
        if (group && ::chown(l.path.c_str(), static_cast<uid_t>(-1), *group) != 0)
            throw std::runtime_error("cannot set the group of " + l.path + ": " + std::strerror(errno));
        endpoint_names.push_back("unix:" + l.path + (ro ? " (read-only)" : ""));
        unix_listeners.push_back(std::move(l));
    }
}

void server::impl::adopt_unix() {
    for (const auto& a : opt.activated) {
        unix_listener l;
        l.read_only = a.read_only;
        l.path = a.path;
        l.owned = false;
        l.acceptor = std::make_unique<unix_socket::acceptor>(io);
        boost::system::error_code ec;
        l.acceptor->assign(unix_socket(), a.fd, ec);
        if (ec) throw std::runtime_error("cannot use the socket systemd passed (fd " + std::to_string(a.fd) + "): " + ec.message());
        endpoint_names.push_back("unix:" + l.path + (l.read_only ? " (read-only)" : "") + " (socket activation)");
        unix_listeners.push_back(std::move(l));
    }
}

void server::impl::setup_tcp(const std::string& port, bool tls) {
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    auto results = resolver.resolve(opt.config.listen_addr, port, tcp::resolver::passive | tcp::resolver::address_configured, ec);
    std::string where = (opt.config.listen_addr.empty() ? std::string("*") : opt.config.listen_addr) + ":" + port;
    if (ec) throw std::runtime_error("cannot resolve " + where + ": " + ec.message());
    std::string failures;
    std::size_t bound = 0;
    for (const auto& r : results) {
        auto ep = r.endpoint();
        auto acc = std::make_unique<tcp::acceptor>(io);
        boost::system::error_code e;
        acc->open(ep.protocol(), e);
        if (!e) acc->set_option(asio::socket_base::reuse_address(true), e);
        if (!e && ep.address().is_v6()) acc->set_option(asio::ip::v6_only(true), e);
        if (!e) acc->bind(ep, e);
        if (!e) acc->listen(backlog(), e);
        if (e) {
            failures += " " + ep.address().to_string() + ": " + e.message() + ";";
            continue;
        }
        auto local = acc->local_endpoint();
        endpoint_names.push_back(std::string(tls ? "tls:" : "tcp:") +
                                 (local.address().is_v6() ? "[" + local.address().to_string() + "]" : local.address().to_string()) +
                                 ":" + std::to_string(local.port()));
        tcp_listeners.push_back({std::move(acc), tls});
        ++bound;
    }
    if (bound == 0) throw std::runtime_error("cannot listen on " + where + ":" + failures);
    if (!failures.empty()) log(3, "some addresses of " + where + " could not be used:" + failures);
}

void server::impl::accept_unix(unix_listener& l) {
    l.accepting = true;
    l.acceptor->async_accept([this, &l](boost::system::error_code ec, unix_socket::socket s) {
        l.accepting = false;
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
            std::string peer = std::string("unix") + (l.read_only ? "-ro" : "") + "#" + std::to_string(s.native_handle());
            admit();
            std::make_shared<client_connection<unix_socket::socket>>(*this, std::move(s), peer, l.read_only, nullptr, false)->start();
        } else {
            accept_failed(l.path, ec);
        }
        update_accepting();
    });
}

void server::impl::accept_tcp(tcp_listener& l) {
    l.accepting = true;
    l.acceptor->async_accept([this, &l](boost::system::error_code ec, tcp::socket s) {
        l.accepting = false;
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
            boost::system::error_code e;
            auto remote = s.remote_endpoint(e);
            std::string addr = e ? std::string("?") : address_text(remote.address());
            std::string peer = (remote.address().is_v6() && addr.find(':') != std::string::npos ? "[" + addr + "]" : addr) +
                               ":" + std::to_string(remote.port());
            bool allowed = list_allows(opt.config.tls_allowed_ip_list, addr);
            if (!allowed && opt.config.tls_no_verify_address) {
                log(3, "client " + peer + ": address not in tls_allowed_ip_list, allowed by tls_no_verify_address");
                allowed = true;
            }
            if (!allowed) {
                log(3, "refused client " + peer + ": address not in tls_allowed_ip_list");
                std::make_shared<refused_connection>(io, std::move(s))->start();
            } else {
                admit();
                ++anonymous;
                std::unique_ptr<rpc::tls::engine> engine;
                if (l.tls) engine = rpc::tls::engine::server(tls_creds);
                std::make_shared<client_connection<tcp::socket>>(*this, std::move(s), peer, false, std::move(engine), true)->start();
            }
        } else {
            accept_failed("a TCP listener", ec);
        }
        update_accepting();
    });
}

void server::impl::watch_idle() {
    idle_timer.expires_after(std::chrono::seconds(1));
    idle_timer.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        if (opt.timeout_seconds > 0 && clients == 0 &&
            steady::now() - last_client_change >= std::chrono::seconds(opt.timeout_seconds)) {
            log(2, "no clients for " + std::to_string(opt.timeout_seconds) + " seconds: exiting");
            io.stop();
            return;
        }
        watch_idle();
    });
}

server::server(server_options options) : impl_(std::make_unique<impl>(std::move(options))) {
    // each client is a descriptor: allow as many as the hard limit does (max_clients is 5000)
    if (rlimit r{}; ::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &r);
    }
    auto& o = impl_->opt;
    if (!o.activated.empty())
        impl_->adopt_unix();
    else if (o.unix_sockets)
        impl_->setup_unix();
    if (o.listen && o.config.listen_tcp) impl_->setup_tcp(o.config.tcp_port, false);
    if (o.listen && o.config.listen_tls) {
        try {
            impl_->tls_creds = rpc::tls::load_server_credentials(
                {o.config.ca_file, o.config.crl_file, o.config.cert_file, o.config.key_file, !o.config.tls_no_verify_certificate,
                 !o.config.tls_no_sanity_certificate});
        } catch (const error& e) {
            throw std::runtime_error(std::string("TLS listener (listen_tls = 1): ") + e.what());
        }
        impl_->setup_tcp(o.config.tls_port, true);
    }
}

server::~server() {
    impl_->workers.join();
    for (const auto& l : impl_->unix_listeners)
        if (l.owned) ::unlink(l.path.c_str());
}

void server::run() {
    auto& s = *impl_;
    s.update_accepting();
    s.signals.async_wait([&s](boost::system::error_code ec, int sig) {
        if (ec) return;
        s.log(2, "signal " + std::to_string(sig) + ": exiting");
        s.io.stop();
    });
    s.watch_idle();
    for (const auto& e : s.endpoint_names) s.log(2, "listening on " + e);
    s.io.run();
}

void server::stop() { impl_->io.stop(); }

std::vector<std::string> server::endpoints() const { return impl_->endpoint_names; }

unsigned short server::tcp_port() const {
    for (const auto& l : impl_->tcp_listeners)
        if (!l.tls) return l.acceptor->local_endpoint().port();
    return 0;
}

std::size_t server::client_count() const { return impl_->clients; }

}  // namespace virtpp::daemon
