#include <virtpp/error.hpp>
#include <virtpp/stream.hpp>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

namespace virtpp::streams {

struct fd_stream::state {
    std::mutex mutex;
    int fd = -1;
    bool revoked = false;
    std::function<void()> at_close;
    std::function<void()> revoke_hook;
};

fd_stream::fd_stream(int fd, std::function<void()> at_close) : state_(std::make_shared<state>()) {
    state_->fd = fd;
    state_->at_close = std::move(at_close);
}

fd_stream::~fd_stream() { close_fd(); }

void fd_stream::close_fd() noexcept {
    std::function<void()> at_close;
    {
        std::lock_guard lock(state_->mutex);
        if (state_->fd >= 0) ::close(state_->fd);
        state_->fd = -1;
        at_close = std::move(state_->at_close);
        state_->at_close = nullptr;
    }
    if (at_close) at_close();
}

namespace {
[[noreturn]] void stream_closed(bool revoked) {
    if (revoked) raise(error_code::operation_aborted, error_domain::streams, "console session taken over by another client (--force)");
    raise(error_code::operation_invalid, error_domain::streams, "stream is not open");
}
}  // namespace

std::ptrdiff_t fd_stream::recv(std::span<std::uint8_t> buf) {
    std::lock_guard lock(state_->mutex);
    if (state_->fd < 0 || state_->revoked) stream_closed(state_->revoked);
    for (;;) {
        auto n = ::read(state_->fd, buf.data(), buf.size());
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return would_block;
        if (errno == EIO) return 0;  // a pty whose other side (qemu) closed
        raise(error_code::system_error, error_domain::streams, std::string("cannot read from stream: ") + std::strerror(errno));
    }
}

std::ptrdiff_t fd_stream::send(std::span<const std::uint8_t> data) {
    std::lock_guard lock(state_->mutex);
    if (state_->fd < 0 || state_->revoked) stream_closed(state_->revoked);
    for (;;) {
        auto n = ::write(state_->fd, data.data(), data.size());
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return would_block;
        raise(error_code::system_error, error_domain::streams, std::string("cannot write to stream: ") + std::strerror(errno));
    }
}

void fd_stream::finish() {
    bool revoked = false;
    {
        std::lock_guard lock(state_->mutex);
        revoked = state_->revoked;
    }
    close_fd();
    if (revoked) stream_closed(true);
}

void fd_stream::abort() noexcept { close_fd(); }

int fd_stream::poll_fd() const noexcept {
    std::lock_guard lock(state_->mutex);
    return state_->fd;
}

void fd_stream::on_revoked(std::function<void()> hook) {
    std::lock_guard lock(state_->mutex);
    state_->revoke_hook = std::move(hook);
}

bool fd_stream::revoked() const noexcept {
    std::lock_guard lock(state_->mutex);
    return state_->revoked;
}

void fd_stream::revoke() {
    std::function<void()> hook;
    {
        std::lock_guard lock(state_->mutex);
        if (state_->revoked) return;
        state_->revoked = true;
        hook = std::move(state_->revoke_hook);
        state_->revoke_hook = nullptr;
    }
    if (hook) hook();
}

namespace {

/// The console sessions of this process, one per pty path (libvirt's virChrdevs): a daemon's
/// clients and an in-process CLI see each other here.
struct console_registry {
    struct entry {
        std::weak_ptr<fd_stream> session;
        const void* id = nullptr;
    };
    std::mutex mutex;
    std::map<std::string, entry> open;
};
console_registry& consoles() {
    static console_registry r;
    return r;
}

}  // namespace

std::shared_ptr<stream> open_console_pty(const std::string& path, bool force) {
    auto& reg = consoles();
    std::unique_lock lock(reg.mutex);
    std::shared_ptr<fd_stream> previous;
    if (auto it = reg.open.find(path); it != reg.open.end()) {
        previous = it->second.session.lock();
        if (previous && previous->poll_fd() >= 0 && !previous->revoked()) {
            if (!force) raise(error_code::operation_failed, error_domain::qemu, "Active console session exists for this domain");
        } else {
            previous.reset();
        }
        reg.open.erase(it);
    }
    int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        raise(error_code::system_error, error_domain::streams, "Unable to open stream for '" + path + "': " + std::strerror(errno));
    termios t{};
    if (::tcgetattr(fd, &t) == 0) {
        // the guest's bytes go through unchanged: no echo, no line editing, no CR/LF mapping
        ::cfmakeraw(&t);
        (void)::tcsetattr(fd, TCSANOW, &t);
    }
    // the entry goes when this session ends, unless a newer session replaced it meanwhile
    auto id = std::make_shared<const void*>(nullptr);
    auto at_close = [path, id] {
        auto& r = consoles();
        std::lock_guard l(r.mutex);
        if (auto it = r.open.find(path); it != r.open.end() && it->second.id == *id) r.open.erase(it);
    };
    auto session = std::make_shared<fd_stream>(fd, at_close);
    *id = session.get();
    reg.open[path] = {session, session.get()};
    lock.unlock();
    if (previous) previous->revoke();
    return session;
}

}  // namespace virtpp::streams
