// QMP over a unix socket. Boost.JSON is linked (libboost_json), not compiled in: a consumer that
// also uses it gets no duplicate symbols.
#include "hypervisor/qemu_monitor.hpp"

#include "hypervisor/qemu_detail.hpp"

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace virtpp::hypervisor::qemu_detail {

namespace json = boost::json;

std::unique_ptr<qmp_monitor> qmp_monitor::connect(const std::string& path, event_handler on_event, close_handler on_close,
                                                  std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) fail(error_code::internal_error, "monitor socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(error_code::system_error, std::string("cannot create socket: ") + std::strerror(errno));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int e = errno;
        ::close(fd);
        fail(error_code::operation_failed, "failed to connect to monitor socket " + path + ": " + std::strerror(e));
    }
    std::unique_ptr<qmp_monitor> mon(new qmp_monitor(fd, std::move(on_event), std::move(on_close)));
    {
        std::unique_lock lock(mon->mutex_);
        if (!mon->cv_.wait_for(lock, timeout, [&] { return mon->greeted_ || mon->closed_.load(); }) || !mon->greeted_)
            fail(error_code::operation_failed, "QEMU monitor did not greet on " + path);
    }
    mon->execute("qmp_capabilities");
    return mon;
}

qmp_monitor::qmp_monitor(int fd, event_handler on_event, close_handler on_close)
    : fd_(fd), wake_fd_(::eventfd(0, EFD_CLOEXEC)), on_event_(std::move(on_event)), on_close_(std::move(on_close)) {
    thread_ = std::thread([this] { reader(); });
}

qmp_monitor::~qmp_monitor() {
    detach();
    ::close(fd_);
    ::close(wake_fd_);
}

void qmp_monitor::detach() {
    detaching_ = true;
    {
        // a command waiting for a reply the reader will no longer deliver fails now
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    cv_.notify_all();
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    if (thread_.joinable()) {
        if (thread_.get_id() == std::this_thread::get_id())
            thread_.detach();  // a handler dropped its own monitor; the reader ends on its own
        else
            thread_.join();
    }
}

json::value parse_qmp_line(std::string_view line) {
    if (line.size() > qmp_max_line)
        fail(error_code::internal_error, "QEMU monitor message of " + std::to_string(line.size()) + " bytes is over the limit");
    json::parse_options options;
    options.max_depth = qmp_max_depth;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec, {}, options);
    if (ec == json::error::too_deep)
        fail(error_code::internal_error, "QEMU monitor message nested deeper than " + std::to_string(qmp_max_depth) + " levels");
    if (ec) fail(error_code::internal_error, "malformed QEMU monitor message: " + ec.message());
    return v;
}

void qmp_monitor::reader() {
    std::string buffer;
    char chunk[65536];
    for (;;) {
        pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        int r = ::poll(fds, 2, -1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 || (fds[1].revents & POLLIN) != 0) break;
        ssize_t n = ::read(fd_, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) {
            closed_ = true;
            cv_.notify_all();
            if (!detaching_ && on_close_) on_close_();
            return;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
        if (buffer.size() > qmp_max_line && buffer.find('\n') == std::string::npos) {
            // no end of line in sight: the monitor is unusable, never an ever-growing buffer
            closed_ = true;
            cv_.notify_all();
            if (!detaching_ && on_close_) on_close_();
            return;
        }
        std::size_t nl;
        while ((nl = buffer.find('\n')) != std::string::npos) {
            std::string line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line.empty()) dispatch(line);
        }
    }
}

void qmp_monitor::dispatch(std::string_view line) {
    json::value v;
    try {
        v = parse_qmp_line(line);
    } catch (const error& e) {
        // a command waiting for its reply fails with the reason, not with a timeout
        json::object failed;
        failed["error"] = json::object{{"class", "GenericError"}, {"desc", e.info().message}};
        std::lock_guard lock(mutex_);
        reply_ = json::value(std::move(failed));
        cv_.notify_all();
        return;
    }
    if (!v.is_object()) return;
    const auto& o = v.as_object();
    if (o.contains("QMP")) {
        std::lock_guard lock(mutex_);
        greeted_ = true;
        cv_.notify_all();
        return;
    }
    if (o.contains("event")) {
        if (on_event_ && !detaching_) {
            static const json::object empty;
            const auto* data = o.if_contains("data");
            on_event_(json::value_to<std::string>(o.at("event")), data != nullptr && data->is_object() ? data->as_object() : empty);
        }
        return;
    }
    if (o.contains("return") || o.contains("error")) {
        std::lock_guard lock(mutex_);
        reply_ = std::move(v);
        cv_.notify_all();
    }
}

json::value qmp_monitor::execute(std::string_view command, const json::object& arguments, int pass_fd,
                                 std::chrono::milliseconds timeout) {
    std::lock_guard serial(command_mutex_);
    if (closed_) fail(error_code::operation_failed, "domain is not running");
    json::object request;
    request["execute"] = command;
    if (!arguments.empty()) request["arguments"] = arguments;
    std::string text = json::serialize(request) + "\n";
    {
        std::lock_guard lock(mutex_);
        reply_.reset();
    }
    std::size_t sent = 0;
    while (sent < text.size()) {
        iovec iov{text.data() + sent, text.size() - sent};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        if (pass_fd >= 0 && sent == 0) {
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            cmsghdr* c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        }
        ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(error_code::operation_failed, "domain is not running");
        sent += static_cast<std::size_t>(n);
    }
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return reply_.has_value() || closed_.load(); }))
        fail(error_code::operation_timeout, "timed out waiting for QEMU to answer '" + std::string(command) + "'");
    if (!reply_) fail(error_code::operation_failed, "domain is not running");
    json::value reply = std::move(*reply_);
    reply_.reset();
    const auto& o = reply.as_object();
    if (const auto* err = o.if_contains("error")) {
        std::string desc = "unknown error";
        if (err->is_object())
            if (const auto* d = err->as_object().if_contains("desc"); d != nullptr && d->is_string()) desc = std::string(d->as_string());
        fail(error_code::internal_error, "unable to execute QEMU command '" + std::string(command) + "': " + desc);
    }
    return o.at("return");
}

}  // namespace virtpp::hypervisor::qemu_detail
