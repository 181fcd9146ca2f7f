// QMP over a unix socket, on Asio: one I/O thread reads every monitor of the process.
// Boost.JSON is linked (libboost_json), not compiled in: a consumer that also uses it gets no
// duplicate symbols.
#include "hypervisor/qemu_monitor.hpp"

#include "hypervisor/qemu_detail.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/json.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

namespace virtpp::hypervisor::qemu_detail {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

/// The QMP I/O context: one thread, started with the first monitor and kept for the process's
/// life (it sleeps in the reactor when no guest runs). Never destroyed, so a monitor released on
/// any thread, at any time, finds it alive.
class qmp_io {
public:
    static qmp_io& instance() {
        static qmp_io* io = new qmp_io;  // intentionally immortal (see above)
        return *io;
    }
    asio::io_context& context() noexcept { return context_; }
    [[nodiscard]] bool on_thread() const noexcept { return std::this_thread::get_id() == thread_.get_id(); }

private:
    qmp_io() : thread_([this] { context_.run(); }) {}
    asio::io_context context_{1};
    asio::executor_work_guard<asio::io_context::executor_type> work_{context_.get_executor()};
    std::thread thread_;
};

}  // namespace

struct qmp_monitor::state : std::enable_shared_from_this<qmp_monitor::state> {
    explicit state(asio::io_context& io) : socket(io) {}

    asio::local::stream_protocol::socket socket;
    std::string buffer;  ///< what the I/O thread read and has not dispatched yet
    event_handler on_event;
    close_handler on_close;

    std::mutex command_mutex;  ///< one command in flight
    std::mutex mutex;          ///< everything below
    std::condition_variable cv;
    std::optional<json::value> reply;
    std::string expected_id;  ///< the id of the command in flight: a late reply to an earlier one is dropped
    bool greeted = false;
    bool closed = false;      ///< qemu closed the socket, or the monitor was detached
    bool stopped = false;     ///< the read loop ended and will call no handler again
    bool detaching = false;
    bool write_failed = false;
    std::uint64_t next_id = 0;

    // ---- the I/O thread
    void start_read() {
        asio::async_read_until(socket, asio::dynamic_buffer(buffer, qmp_max_line), '\n',
                               [self = shared_from_this()](boost::system::error_code ec, std::size_t n) { self->on_read(ec, n); });
    }

    void on_read(boost::system::error_code ec, std::size_t n) {
        // an error is the end: qemu exited, the line outgrew qmp_max_line (never an ever-growing
        // buffer), or detach closed the socket
        if (ec) return finish();
        std::string line = buffer.substr(0, n - 1);
        buffer.erase(0, n);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) dispatch(line);
        {
            std::lock_guard lock(mutex);
            if (detaching) {
                closed = stopped = true;
                cv.notify_all();
                return;
            }
        }
        start_read();
    }

    void finish() {
        bool tell;
        {
            std::lock_guard lock(mutex);
            closed = true;
            tell = !detaching;
        }
        cv.notify_all();
        if (tell && on_close) on_close();
        std::lock_guard lock(mutex);
        stopped = true;
        cv.notify_all();
    }

    void dispatch(std::string_view line);

    /// Sends text from offset on; fd travels with the first byte. Waits for the socket to drain
    /// when the kernel's buffer is full, without blocking the thread.
    void send(std::shared_ptr<const std::string> text, std::size_t offset, int fd) {
        while (offset < text->size()) {
            iovec iov{const_cast<char*>(text->data()) + offset, text->size() - offset};
            msghdr msg{};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
            if (fd >= 0) {
                msg.msg_control = control;
                msg.msg_controllen = sizeof control;
                cmsghdr* c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
            }
            ssize_t sent = ::sendmsg(socket.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (sent < 0 && errno == EINTR) continue;
            if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                socket.async_wait(asio::socket_base::wait_write,
                                  [self = shared_from_this(), text, offset, fd](boost::system::error_code ec) {
                                      if (ec) return self->write_failure();
                                      self->send(text, offset, fd);
                                  });
                return;
            }
            if (sent < 0) return write_failure();
            offset += static_cast<std::size_t>(sent);
            fd = -1;
        }
    }

    void write_failure() {
        std::lock_guard lock(mutex);
        write_failed = true;
        cv.notify_all();
    }
};

std::unique_ptr<qmp_monitor> qmp_monitor::connect(const std::string& path, event_handler on_event, close_handler on_close,
                                                  std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) fail(error_code::internal_error, "monitor socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    // made here, not by Asio, for SOCK_CLOEXEC: qemu and dnsmasq children must not inherit monitors
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(error_code::system_error, std::string("cannot create socket: ") + std::strerror(errno));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int e = errno;
        ::close(fd);
        fail(error_code::operation_failed, "failed to connect to monitor socket " + path + ": " + std::strerror(e));
    }
    auto& io = qmp_io::instance();
    auto s = std::make_shared<state>(io.context());
    boost::system::error_code ec;
    s->socket.assign(asio::local::stream_protocol(), fd, ec);
    if (ec) {
        ::close(fd);
        fail(error_code::system_error, "cannot watch the monitor socket " + path + ": " + ec.message());
    }
    s->on_event = std::move(on_event);
    s->on_close = std::move(on_close);
    std::unique_ptr<qmp_monitor> mon(new qmp_monitor(s));
    asio::post(io.context(), [s] { s->start_read(); });
    {
        std::unique_lock lock(s->mutex);
        if (!s->cv.wait_for(lock, timeout, [&] { return s->greeted || s->closed; }) || !s->greeted)
            fail(error_code::operation_failed, "QEMU monitor did not greet on " + path);
    }
    mon->execute("qmp_capabilities");
    return mon;
}

qmp_monitor::qmp_monitor(std::shared_ptr<state> s) : state_(std::move(s)) {}

qmp_monitor::~qmp_monitor() { detach(); }

bool qmp_monitor::alive() const noexcept {
    std::lock_guard lock(state_->mutex);
    return !state_->closed;
}

void qmp_monitor::detach() {
    auto& s = *state_;
    {
        // a command waiting for a reply the reader will no longer deliver fails now
        std::lock_guard lock(s.mutex);
        if (s.stopped) return;
        s.detaching = true;
        s.closed = true;
    }
    s.cv.notify_all();
    auto& io = qmp_io::instance();
    auto close = [self = state_] {
        boost::system::error_code ignored;
        self->socket.close(ignored);  // the pending read completes with operation_aborted
    };
    if (io.on_thread()) {
        close();  // a handler dropped its own monitor: the read loop ends on its own
        return;
    }
    asio::post(io.context(), close);
    std::unique_lock lock(s.mutex);
    s.cv.wait(lock, [&] { return s.stopped; });
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

void qmp_monitor::state::dispatch(std::string_view line) {
    json::value v;
    try {
        v = parse_qmp_line(line);
    } catch (const error& e) {
        // a command waiting for its reply fails with the reason, not with a timeout
        json::object failed;
        failed["error"] = json::object{{"class", "GenericError"}, {"desc", e.info().message}};
        std::lock_guard lock(mutex);
        reply = json::value(std::move(failed));
        cv.notify_all();
        return;
    }
    if (!v.is_object()) return;
    const auto& o = v.as_object();
    if (o.contains("QMP")) {
        std::lock_guard lock(mutex);
        greeted = true;
        cv.notify_all();
        return;
    }
    if (o.contains("event")) {
        bool deliver;
        {
            std::lock_guard lock(mutex);
            deliver = !detaching;
        }
        if (on_event && deliver) {
            static const json::object empty;
            const auto* data = o.if_contains("data");
            on_event(json::value_to<std::string>(o.at("event")), data != nullptr && data->is_object() ? data->as_object() : empty);
        }
        return;
    }
    if (o.contains("return") || o.contains("error")) {
        std::lock_guard lock(mutex);
        // qemu echoes the command's id; a reply without one (qemu could not parse the command)
        // belongs to the command in flight
        if (const auto* id = o.if_contains("id"); id != nullptr && !(id->is_string() && id->as_string() == expected_id))
            return;  // the late reply of a command that timed out
        reply = std::move(v);
        cv.notify_all();
    }
}

json::value qmp_monitor::execute(std::string_view command, const json::object& arguments, int pass_fd,
                                 std::chrono::milliseconds timeout) {
    if (qmp_io::instance().on_thread())
        fail(error_code::internal_error, "QEMU command '" + std::string(command) + "' issued on the monitor's own I/O thread");
    auto& s = *state_;
    std::lock_guard serial(s.command_mutex);
    json::object request;
    request["execute"] = command;
    if (!arguments.empty()) request["arguments"] = arguments;
    {
        std::lock_guard lock(s.mutex);
        if (s.closed) fail(error_code::operation_failed, "domain is not running");
        s.reply.reset();
        s.write_failed = false;
        s.expected_id = "virtpp-" + std::to_string(++s.next_id);
        request["id"] = s.expected_id;
    }
    auto text = std::make_shared<const std::string>(json::serialize(request) + "\n");
    asio::post(s.socket.get_executor(), [self = state_, text, pass_fd] { self->send(text, 0, pass_fd); });
    std::unique_lock lock(s.mutex);
    if (!s.cv.wait_for(lock, timeout, [&] { return s.reply.has_value() || s.closed || s.write_failed; }))
        fail(error_code::operation_timeout, "timed out waiting for QEMU to answer '" + std::string(command) + "'");
    if (!s.reply) fail(error_code::operation_failed, "domain is not running");
    json::value reply = std::move(*s.reply);
    s.reply.reset();
    s.expected_id.clear();
    lock.unlock();
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
