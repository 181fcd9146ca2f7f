// basic_client_session<AsyncStream>: the stream half of a client session (read loop, write queue,
// keepalive timer, the I/O thread), and its instantiations for the client's stacks.
#include "rpc/client_layers.hpp"

#include <virtpp/rpc/basic_client_session.hpp>
#include <virtpp/rpc/message.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace virtpp::rpc {

namespace {
error_info closed_error() {
    return make_error_info(error_code::internal_error, error_domain::rpc, "client socket is closed");
}
constexpr std::size_t read_chunk = 65536;
/// How long the link stays quiet after a blocking call before the I/O thread takes the lead
/// (keepalive, the end of the stream): back-to-back calls never wake it.
constexpr auto idle_grace = std::chrono::milliseconds(20);
}  // namespace

template <class S>
std::shared_ptr<basic_client_session<S>> basic_client_session<S>::start(std::unique_ptr<boost::asio::io_context> io, S stream,
                                                                        const client_options& options) {
    auto self = std::make_shared<basic_client_session>(std::move(io), std::move(stream), options);
    // (the read loop starts behind the first write, as the POSIX client read only after its first
    // call went out: a command that is already gone fails that write with EPIPE, not an EOF)
    // the thread keeps the session alive while it runs: a session closed from one of its own
    // completions leaves the thread to end by itself
    self->thread_ = std::thread([keep = self] { keep->run_io(); });
    return self;
}

template <class S>
basic_client_session<S>::basic_client_session(std::unique_ptr<boost::asio::io_context> io, S stream, const client_options& options)
    : session_core(options), io_(std::move(io)), work_(io_->get_executor()), stream_(std::move(stream)), keepalive_timer_(*io_) {}

template <class S>
basic_client_session<S>::~basic_client_session() {
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
        stop_io();
    } else if (thread_.joinable()) {
        thread_.detach();
    }
}

template <class S>
std::shared_ptr<detail::session_core> basic_client_session<S>::keep_alive() {
    return this->shared_from_this();
}

template <class S>
void basic_client_session<S>::read_loop() {
    if (read_buffer_.size() < read_used_ + read_chunk) read_buffer_.resize(read_used_ + read_chunk);
    stream_.async_read_some(boost::asio::buffer(read_buffer_.data() + read_used_, read_chunk),
                            [this](const boost::system::error_code& ec, std::size_t n) { on_read(ec, n); });
}

template <class S>
void basic_client_session<S>::on_read(const boost::system::error_code& ec, std::size_t n) {
    if (link_closed_) return;
    if (ec) return read_failed(ec);
    note_received();
    read_used_ += n;
    try {
        // whole messages: the length word is checked before the body is waited for
        std::size_t used = 0;
        while (read_used_ - used >= length_word_size) {
            const auto* p = read_buffer_.data() + used;
            std::uint32_t word = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
            auto rest = bytes_after_length_word(word);
            if (read_used_ - used - length_word_size < rest) break;
            dispatch({p + length_word_size, rest});
            if (link_closed_) return;
            used += length_word_size + rest;
        }
        if (used != 0) {
            std::memmove(read_buffer_.data(), read_buffer_.data() + used, read_used_ - used);
            read_used_ -= used;
        }
    } catch (const virtpp::error& e) {
        return link_failed(stopping() ? closed_error() : e.info());
    } catch (const std::exception& e) {
        return link_failed(stopping() ? closed_error() : make_error_info(error_code::internal_error, error_domain::rpc, e.what()));
    }
    read_loop();
}

template <class S>
void basic_client_session<S>::read_failed(const boost::system::error_code& ec) {
    if (stopping()) return link_failed(closed_error());
    if (auto why = traits::failure(stream_, ec)) return link_failed(*why);
    bool eof = ec == boost::asio::error::eof || (traits::reset_is_eof && ec == boost::asio::error::connection_reset);
    auto output = traits::error_output(stream_);
    if (eof) {
        auto info = make_error_info(error_code::system_error, error_domain::rpc,
                                    (output.empty() ? std::string("End of file while reading data")
                                                    : "End of file while reading data: " + output) +
                                        ": " + errno_text(EIO));
        return link_failed(info, close_reason::eof);
    }
    link_failed(make_error_info(error_code::system_error, error_domain::rpc,
                                (output.empty() ? std::string("Cannot recv data") : "Cannot recv data: " + output) + ": " +
                                    errno_text(ec.value())));
}

template <class S>
void basic_client_session<S>::link_failed(const error_info& why, int reason) {
    // failed first, then shut: the end of the stream that follows must not be the calls' error
    fail_all(why, reason);
    if (link_closed_) return;
    link_closed_ = true;
    keepalive_timer_.cancel();
    traits::shutdown(stream_);
    auto failure = link_error();
    for (auto& q : write_queue_)
        if (q.done) q.done(failure);
    write_queue_.clear();
}

template <class S>
void basic_client_session<S>::post_write(std::vector<std::uint8_t> message, write_done done) {
    if (io_stopped_) {
        if (done) done(link_error().value_or(closed_error()));
        return;
    }
    boost::asio::post(*io_, [this, m = std::move(message), d = std::move(done)]() mutable { enqueue(std::move(m), std::move(d)); });
    if (on_io_thread()) return;  // the leader runs it
    {
        std::lock_guard lock(lead_mutex_);
        work_hint_ = true;
    }
    io_cv_.notify_one();
}

template <class S>
void basic_client_session<S>::enqueue(std::vector<std::uint8_t> message, write_done done) {
    if (link_closed_) {
        if (done) done(link_error().value_or(closed_error()));
        return;
    }
    write_queue_.push_back({std::move(message), std::move(done)});
    if (writing_.empty()) write_next();
}

template <class S>
void basic_client_session<S>::wake_callers() noexcept {
    { std::lock_guard lock(lead_mutex_); }  // a waiter between its check and its wait sees the change
    lead_cv_.notify_all();
}

template <class S>
void basic_client_session<S>::drive(std::vector<std::uint8_t> message, const std::atomic<bool>& done) {
    std::unique_lock lock(lead_mutex_);
    if (!leader_busy_ && !stop_requested_) {
        // the lead is free: this thread writes its call and reads until its reply is in
        leader_busy_ = true;
        lock.unlock();
        enqueue(std::move(message), {});
        return lead(done);
    }
    ++waiting_;
    lock.unlock();
    // the leader writes it (the post also wakes a leader waiting on the link)
    boost::asio::post(*io_, [this, m = std::move(message)]() mutable { enqueue(std::move(m), {}); });
    lock.lock();
    while (!done.load(std::memory_order_acquire)) {
        if (!leader_busy_ && !stop_requested_ && !io_->stopped()) {
            leader_busy_ = true;
            --waiting_;
            lock.unlock();
            return lead(done);
        }
        lead_cv_.wait(lock);
    }
    --waiting_;
}

template <class S>
void basic_client_session<S>::lead(const std::atomic<bool>& done) {
    while (!done.load(std::memory_order_acquire) && !io_->stopped()) {
        try {
            io_->run_one();
        } catch (...) {
            // a completion that threw: the session goes on
        }
    }
    bool more = has_pending();
    std::unique_lock lock(lead_mutex_);
    leader_busy_ = false;
    released_at_ = std::chrono::steady_clock::now();
    lead_cv_.notify_all();
    if (more && waiting_ == 0) {
        // async calls are still out and no caller will read for them: the I/O thread, now
        work_hint_ = true;
        io_cv_.notify_one();
    }
    // stopped before the reply: stop() fails the call
    lead_cv_.wait(lock, [&] { return done.load(std::memory_order_acquire); });
}

template <class S>
void basic_client_session<S>::run_io() {
    std::unique_lock lock(lead_mutex_);
    for (;;) {
        if (stop_requested_ && io_->stopped()) return;
        // (not woken by every call: it looks again every idle_grace, unless work is posted)
        if (leader_busy_ || (waiting_ != 0 && !stop_requested_)) {
            io_cv_.wait_for(lock, idle_grace);
            continue;
        }
        auto quiet_until = released_at_ + idle_grace;
        if (!work_hint_ && !stop_requested_ && std::chrono::steady_clock::now() < quiet_until) {
            io_cv_.wait_until(lock, quiet_until);
            continue;
        }
        leader_busy_ = true;
        work_hint_ = false;
        lock.unlock();
        try {
            if (stop_requested_) io_->poll();  // the shutdown posted by stop_io
            else io_->run_one_for(std::chrono::milliseconds(250));
        } catch (...) {
            // a completion that threw: the session goes on
        }
        lock.lock();
        leader_busy_ = false;
        if (waiting_ != 0) lead_cv_.notify_all();
        if (stop_requested_ && !io_->stopped()) io_->stop();
    }
}

template <class S>
void basic_client_session<S>::write_next() {
    // everything queued goes out in one gathered write: pipelined calls cost one write between them
    while (!write_queue_.empty()) {
        writing_.push_back(std::move(write_queue_.front()));
        write_queue_.pop_front();
    }
    buffers_.clear();
    for (auto& q : writing_) buffers_.emplace_back(q.bytes.data(), q.bytes.size());
    struct start_reading {
        basic_client_session& s;
        ~start_reading() {
            if (!s.reading_ && !s.link_closed_) {
                s.reading_ = true;
                s.read_loop();
            }
        }
    } after_write_started{*this};
    boost::asio::async_write(stream_, buffers_, [this](const boost::system::error_code& ec, std::size_t) {
        auto written = std::move(writing_);
        writing_.clear();
        if (ec) {
            error_info why;
            if (stopping()) why = closed_error();
            else if (auto f = traits::failure(stream_, ec)) why = *f;
            else why = make_error_info(error_code::system_error, error_domain::rpc, "Cannot write data: " + errno_text(ec.value()));
            if (!link_closed_) link_failed(why);
            auto failure = link_error().value_or(why);
            for (auto& q : written)
                if (q.done) q.done(failure);
            return;
        }
        for (auto& q : written)
            if (q.done) q.done(std::nullopt);
        if (!write_queue_.empty() && !link_closed_) write_next();
    });
}

template <class S>
void basic_client_session<S>::start_keepalive() {
    boost::asio::post(*io_, [this] {
        if (!link_closed_) keepalive_wait();
    });
}

template <class S>
void basic_client_session<S>::keepalive_wait() {
    keepalive_timer_.expires_after(options().keepalive_interval);
    keepalive_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || link_closed_) return;
        switch (keepalive_tick()) {
        case keepalive_action::give_up:
            return link_failed(make_error_info(error_code::internal_error, error_domain::rpc,
                                               "connection closed due to keepalive timeout"),
                               close_reason::keepalive);
        case keepalive_action::ping: {
            header h{keepalive_program, keepalive_protocol_version, keepalive_ping, message_type::message, 0, message_status::ok};
            write_queue_.push_back({frame_body(h, xdr::none{}), {}});
            if (writing_.empty()) write_next();
            break;
        }
        case keepalive_action::none: break;
        }
        keepalive_wait();
    });
}

template <class S>
void basic_client_session<S>::stop_io() noexcept {
    if (io_stopped_.exchange(true)) return;
    auto shut = [this] {
        if (!link_closed_) {
            link_closed_ = true;
            keepalive_timer_.cancel();
            traits::shutdown(stream_);
        }
        auto failure = link_error().value_or(closed_error());
        for (auto& q : write_queue_)
            if (q.done) q.done(failure);
        write_queue_.clear();
        work_.reset();
        io_->stop();
        wake_callers();
    };
    if (on_io_thread()) shut();
    else boost::asio::post(*io_, shut);  // run by the leader, or by the I/O thread
    {
        std::lock_guard lock(lead_mutex_);
        stop_requested_ = true;
    }
    lead_cv_.notify_all();
    io_cv_.notify_all();
    if (thread_.joinable() && thread_.get_id() == std::this_thread::get_id()) thread_.detach();  // it ends after this handler
    else if (thread_.joinable()) thread_.join();
}

template class basic_client_session<unix_socket>;
template class basic_client_session<tcp_socket>;
template class basic_client_session<tls_stream<tcp_socket>>;
template class basic_client_session<command_stream>;

// ---- the stacks' own parts ---------------------------------------------------------------------

fd_stream::~fd_stream() {
    if (fd_ >= 0) ::close(fd_);
}

std::shared_ptr<detail::session_core> fd_stream::start(const client_options& options) {
    auto io = std::make_unique<boost::asio::io_context>();
    unix_socket socket(*io);
    boost::system::error_code ec;
    socket.assign(boost::asio::local::stream_protocol(), fd_, ec);
    if (ec) raise_system(ec.value(), "Failed to create socket");
    fd_ = -1;  // the socket owns it now
    return basic_client_session<unix_socket>::start(std::move(io), std::move(socket), options);
}

command_stream::command_stream(command_stream&& other) noexcept
    : socket_(std::move(other.socket_)), errfd_(other.errfd_), pid_(other.pid_), captured_(std::move(other.captured_)) {
    other.errfd_ = -1;
    other.pid_ = -1;
}

command_stream::~command_stream() {
    shutdown();
    if (pid_ > 0) {
        // the child sees EOF on stdin; give it a moment, then make sure it goes
        int status = 0;
        for (int i = 0; i < 20; ++i) {
            if (::waitpid(pid_, &status, WNOHANG) != 0) {
                pid_ = -1;
                break;
            }
            ::usleep(10000);
        }
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, &status, 0);
        }
    }
    if (errfd_ >= 0) ::close(errfd_);
}

std::string command_stream::error_output() {
    char buf[1024];
    while (errfd_ >= 0 && captured_.size() < 1024) {
        pollfd p{errfd_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) break;
        auto n = ::read(errfd_, buf, sizeof buf);
        if (n <= 0) break;
        captured_.append(buf, static_cast<std::size_t>(n));
    }
    std::string out = captured_.substr(0, 1024);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\r' || out.back() == '\t')) out.pop_back();
    return out;
}

}  // namespace virtpp::rpc
