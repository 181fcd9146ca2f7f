#include "daemon/stream_pump.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace virtpp::daemon {

namespace {
/// While the client's outgoing queue is full the pump looks again this often (the host has no
/// "drained" notification; a console or screenshot stream is the only reader waiting on it).
constexpr int output_full_retry_ms = 10;
}  // namespace

stream_pump::stream_pump(std::shared_ptr<virtpp::stream> st, std::int32_t procedure, std::uint32_t serial,
                         std::weak_ptr<session_host> host)
    : stream_(std::move(st)), procedure_(procedure), serial_(serial), host_(std::move(host)) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) raise(error_code::system_error, error_domain::streams, std::string("cannot create eventfd: ") + std::strerror(errno));
}

stream_pump::~stream_pump() {
    shutdown();
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void stream_pump::start(std::function<void()> on_input_drained, std::function<void()> on_end) {
    on_input_drained_ = std::move(on_input_drained);
    on_end_ = std::move(on_end);
    std::weak_ptr<stream_pump> weak = weak_from_this();
    stream_->on_revoked([weak] {
        if (auto self = weak.lock()) self->wake();
    });
    thread_ = std::thread([self = shared_from_this()] { self->run(); });
}

void stream_pump::wake() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

bool stream_pump::data(std::span<const std::uint8_t> bytes) {
    bool over = false;
    {
        std::lock_guard lock(mutex_);
        if (request_ != request::none || quit_) return true;  // after finish/abort: dropped, as libvirtd does
        if (bytes.empty()) return true;
        input_.emplace_back(bytes.begin(), bytes.end());
        input_bytes_ += bytes.size();
        if (input_bytes_ > input_limit) input_over_ = over = true;
    }
    wake();
    return !over;
}

void stream_pump::finish() {
    {
        std::lock_guard lock(mutex_);
        if (request_ == request::none) request_ = request::finish;
    }
    wake();
}

void stream_pump::abort() {
    {
        std::lock_guard lock(mutex_);
        if (request_ == request::none) request_ = request::abort;
    }
    wake();
}

void stream_pump::shutdown() {
    {
        std::lock_guard lock(mutex_);
        quit_ = true;
    }
    if (wake_fd_ >= 0) wake();
    if (thread_.joinable()) {
        if (thread_.get_id() == std::this_thread::get_id())
            thread_.detach();  // the last reference went on the pump's own thread (on_end)
        else
            thread_.join();
    }
    stream_->abort();
}

void stream_pump::send(rpc::message_status status, std::span<const std::uint8_t> body) {
    rpc::header h;
    h.proc = procedure_;
    h.type = rpc::message_type::stream;
    h.serial = serial_;
    h.status = status;
    if (auto host = host_.lock()) host->send(rpc::frame(h, body));
}

void stream_pump::send_error(const error_info& info) {
    rpc::header h;
    h.proc = procedure_;
    h.type = rpc::message_type::stream;
    h.serial = serial_;
    h.status = rpc::message_status::error;
    if (auto host = host_.lock()) host->send(rpc::frame_body(h, rpc::to_remote_error(info)));
}

void stream_pump::run() {
    std::vector<std::uint8_t> buffer(chunk_max);
    bool guest_eof = false;  // the guest's side ended: EOF sent, nothing more is read
    auto end = [&] {
        stream_->abort();
        if (on_end_) on_end_();
    };
    for (;;) {
        request req;
        bool has_input = false;
        {
            std::lock_guard lock(mutex_);
            if (quit_) return;
            req = request_;
            has_input = !input_.empty();
        }
        try {
            if (stream_->revoked()) {
                send_error(make_error_info(error_code::operation_aborted, error_domain::streams,
                                           "console session taken over by another client (--force)"));
                return end();
            }
            if (req == request::abort) {
                send(rpc::message_status::ok, {});  // libvirtd confirms a client's abort with an empty OK
                return end();
            }
            // the client's data goes to the guest first, then its finish is honoured
            if (has_input) {
                bool drained = false;
                for (;;) {
                    std::unique_lock lock(mutex_);
                    if (input_.empty()) break;
                    auto& front = input_.front();
                    std::span<const std::uint8_t> rest(front.data() + input_front_done_, front.size() - input_front_done_);
                    lock.unlock();
                    auto n = stream_->send(rest);
                    if (n == virtpp::stream::would_block) break;
                    lock.lock();
                    input_front_done_ += static_cast<std::size_t>(n);
                    input_bytes_ -= static_cast<std::size_t>(n);
                    if (input_front_done_ == front.size()) {
                        input_.pop_front();
                        input_front_done_ = 0;
                    }
                    if (input_over_ && input_bytes_ <= input_limit / 2) {
                        input_over_ = false;
                        drained = true;
                    }
                }
                if (drained && on_input_drained_) on_input_drained_();
                std::lock_guard lock(mutex_);
                has_input = !input_.empty();
            }
            if (req == request::finish && !has_input) {
                stream_->finish();
                send(rpc::message_status::ok, {});  // the zero-length confirmation
                return end();
            }
            auto host = host_.lock();
            if (!host) return end();
            bool room = !host->output_full();
            host.reset();
            if (!guest_eof && room) {
                auto n = stream_->recv(buffer);
                if (n > 0) {
                    send(rpc::message_status::cont, std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n)));
                    continue;  // read on while there is data and room
                }
                if (n == 0) {
                    guest_eof = true;
                    // end of data: an empty CONTINUE (OK is only the confirmation of the client's
                    // finish or abort; libvirt's client drops the connection on an OK it did not ask for)
                    send(rpc::message_status::cont, {});
                }
            }
        } catch (const error& e) {
            send_error(e.info());
            return end();
        } catch (const std::exception& e) {
            send_error(make_error_info(error_code::internal_error, error_domain::streams, e.what()));
            return end();
        }
        // wait: the guest's side readable (while there is room) or writable (while input waits),
        // or a wake-up from the client's side
        auto host = host_.lock();
        bool room = host && !host->output_full();
        host.reset();
        int fd = stream_->poll_fd();
        short events = 0;
        if (!guest_eof && room) events |= POLLIN;
        if (has_input) events |= POLLOUT;
        pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {events != 0 ? fd : -1, events, 0}};
        int timeout = (!guest_eof && !room) ? output_full_retry_ms : -1;
        if (fd < 0 && events != 0) timeout = output_full_retry_ms;  // a stream without a descriptor: look again
        int rc = ::poll(fds, 2, timeout);
        if (rc < 0 && errno != EINTR) {
            send_error(make_error_info(error_code::system_error, error_domain::streams, std::string("poll: ") + std::strerror(errno)));
            return end();
        }
        if (fds[0].revents != 0) {
            std::uint64_t v = 0;
            [[maybe_unused]] auto n = ::read(wake_fd_, &v, sizeof v);
        }
    }
}

}  // namespace virtpp::daemon
