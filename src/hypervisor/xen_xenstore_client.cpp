// XenStore client: one unix socket to xenstored, requests answered in order (xenstored replies
// to each before reading the next), watch events queued when they arrive between replies.
#include <virtpp/error.hpp>
#include <virtpp/xen/xenstore_client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <poll.h>

#include <cerrno>
#include <cstring>

namespace virtpp::xen {

namespace asio = boost::asio;

std::vector<std::string> split_nul(std::string_view payload) {
    std::vector<std::string> out;
    while (!payload.empty()) {
        auto end = payload.find('\0');
        if (end == std::string_view::npos) {
            out.emplace_back(payload);
            break;
        }
        out.emplace_back(payload.substr(0, end));
        payload.remove_prefix(end + 1);
    }
    return out;
}

struct xenstore_client::impl {
    asio::io_context io;
    asio::local::stream_protocol::socket socket{io};

    /// Runs one async operation to completion or the deadline; false on timeout.
    template <class Start>
    bool run(Start start, std::chrono::milliseconds deadline, boost::system::error_code& ec) {
        bool done = false;
        start([&](boost::system::error_code e, std::size_t = 0) {
            ec = e;
            done = true;
        });
        io.restart();
        io.run_for(deadline);
        if (!done) {
            boost::system::error_code ignored;
            socket.close(ignored);
            io.restart();
            io.run_for(std::chrono::milliseconds(50));
        }
        return done;
    }
};

namespace {
[[noreturn]] void fail(std::string_view what, const std::string& path, const std::string& why) {
    raise(error_code::operation_failed, error_domain::xenstore,
          "xenstore " + std::string(what) + " via " + path + ": " + why);
}
std::string_view type_name(xs_type t) {
    switch (t) {
        case xs_type::directory: return "directory";
        case xs_type::read: return "read";
        case xs_type::write: return "write";
        case xs_type::mkdir: return "mkdir";
        case xs_type::rm: return "rm";
        case xs_type::watch: return "watch";
        case xs_type::unwatch: return "unwatch";
        case xs_type::transaction_start: return "transaction start";
        case xs_type::transaction_end: return "transaction end";
        default: return "request";
    }
}
}  // namespace

xenstore_client::xenstore_client(std::string socket_path, std::chrono::milliseconds deadline)
    : path_(std::move(socket_path)), deadline_(deadline), impl_(std::make_unique<impl>()) {
    boost::system::error_code ec;
    asio::local::stream_protocol::endpoint ep(path_);
    bool done = impl_->run([&](auto handler) { impl_->socket.async_connect(ep, handler); }, deadline_, ec);
    if (!done) raise(error_code::no_xenstore, error_domain::xenstore, path_ + ": timed out connecting");
    if (ec) raise(error_code::no_xenstore, error_domain::xenstore, path_ + ": " + ec.message());
}

xenstore_client::~xenstore_client() = default;

std::string xenstore_client::request(xs_type type, std::string_view payload, std::uint32_t tx) {
    if (payload.size() > xenstore_payload_max)
        fail(type_name(type), path_, "the request is " + std::to_string(payload.size()) + " bytes, more than " +
                                         std::to_string(xenstore_payload_max));
    std::lock_guard lock(mutex_);
    if (!impl_->socket.is_open()) fail(type_name(type), path_, "the connection to xenstored is closed");
    xs_header h{static_cast<std::uint32_t>(type), next_req_id_++, tx, static_cast<std::uint32_t>(payload.size())};
    std::string out(sizeof h, '\0');
    std::memcpy(out.data(), &h, sizeof h);
    out.append(payload);
    boost::system::error_code ec;
    auto deadline = deadline_;
    if (!impl_->run([&](auto handler) { asio::async_write(impl_->socket, asio::buffer(out), handler); }, deadline, ec))
        fail(type_name(type), path_, "timed out sending the request");
    if (ec) fail(type_name(type), path_, ec.message());
    for (;;) {
        xs_header reply{};
        if (!impl_->run([&](auto handler) { asio::async_read(impl_->socket, asio::buffer(&reply, sizeof reply), handler); },
                        deadline, ec))
            fail(type_name(type), path_, "no reply from xenstored within " + std::to_string(deadline.count()) + " ms");
        if (ec) fail(type_name(type), path_, "reading the reply: " + ec.message());
        if (reply.len > xenstore_payload_max) {
            impl_->socket.close(ec);
            fail(type_name(type), path_, "xenstored announced a " + std::to_string(reply.len) + "-byte payload (at most " +
                                             std::to_string(xenstore_payload_max) + ")");
        }
        std::string body(reply.len, '\0');
        if (reply.len > 0) {
            if (!impl_->run([&](auto handler) { asio::async_read(impl_->socket, asio::buffer(body), handler); }, deadline,
                            ec))
                fail(type_name(type), path_, "the reply's payload did not arrive in time");
            if (ec) fail(type_name(type), path_, "reading the reply: " + ec.message());
        }
        if (reply.type == static_cast<std::uint32_t>(xs_type::watch_event)) {
            auto parts = split_nul(body);
            events_.push_back({parts.size() > 0 ? parts[0] : "", parts.size() > 1 ? parts[1] : ""});
            continue;
        }
        if (reply.req_id != h.req_id) {
            impl_->socket.close(ec);
            fail(type_name(type), path_, "xenstored answered request " + std::to_string(reply.req_id) + " instead of " +
                                             std::to_string(h.req_id));
        }
        if (reply.type == static_cast<std::uint32_t>(xs_type::error)) {
            auto parts = split_nul(body);
            auto args = split_nul(payload);
            raise(error_code::operation_failed, error_domain::xenstore,
                  "xenstore " + std::string(type_name(type)) + " " + (args.empty() ? std::string() : args[0]) + ": " +
                      (parts.empty() ? std::string("error") : parts[0]));
        }
        if (reply.type != h.type) {
            impl_->socket.close(ec);
            fail(type_name(type), path_, "xenstored answered with message type " + std::to_string(reply.type));
        }
        return body;
    }
}

namespace {
std::string with_nul(std::string_view s) {
    std::string out(s);
    out += '\0';
    return out;
}
bool is_errno(const virtpp::error& e, std::string_view name) {
    const auto& m = e.info().message;
    return m.size() >= name.size() && m.compare(m.size() - name.size(), name.size(), name) == 0;
}
}  // namespace

std::string xenstore_client::read(std::string_view path, std::uint32_t tx) {
    return request(xs_type::read, with_nul(path), tx);
}

std::optional<std::string> xenstore_client::try_read(std::string_view path, std::uint32_t tx) {
    try {
        return read(path, tx);
    } catch (const virtpp::error& e) {
        if (e.info().domain == error_domain::xenstore && is_errno(e, ": ENOENT")) return std::nullopt;
        throw;
    }
}

std::vector<std::string> xenstore_client::directory(std::string_view path, std::uint32_t tx) {
    return split_nul(request(xs_type::directory, with_nul(path), tx));
}

void xenstore_client::write(std::string_view path, std::string_view value, std::uint32_t tx) {
    std::string payload = with_nul(path);
    payload.append(value);  // the value is not NUL-terminated (xs_write)
    (void)request(xs_type::write, payload, tx);
}

void xenstore_client::mkdir(std::string_view path, std::uint32_t tx) { (void)request(xs_type::mkdir, with_nul(path), tx); }
void xenstore_client::remove(std::string_view path, std::uint32_t tx) { (void)request(xs_type::rm, with_nul(path), tx); }

std::uint32_t xenstore_client::transaction_start() {
    auto body = request(xs_type::transaction_start, with_nul(""));
    auto parts = split_nul(body);
    try {
        unsigned long id = std::stoul(parts.empty() ? std::string() : parts[0]);
        if (id == 0 || id > 0xffffffffUL) throw std::out_of_range("id");
        return static_cast<std::uint32_t>(id);
    } catch (const std::exception&) {
        fail("transaction start", path_, "xenstored sent no transaction id");
    }
}

bool xenstore_client::transaction_end(std::uint32_t tx, bool commit) {
    try {
        (void)request(xs_type::transaction_end, with_nul(commit ? "T" : "F"), tx);
        return true;
    } catch (const virtpp::error& e) {
        if (e.info().domain == error_domain::xenstore && is_errno(e, ": EAGAIN")) return false;
        throw;
    }
}

void xenstore_client::watch(std::string_view path, std::string_view token) {
    (void)request(xs_type::watch, with_nul(path) + with_nul(token));
}

void xenstore_client::unwatch(std::string_view path, std::string_view token) {
    (void)request(xs_type::unwatch, with_nul(path) + with_nul(token));
}

std::optional<xenstore_client::watch_event> xenstore_client::next_watch_event(std::chrono::milliseconds timeout) {
    std::lock_guard lock(mutex_);
    if (events_.empty()) {
        xs_header h{};
        boost::system::error_code ec;
        if (!impl_->socket.is_open()) return std::nullopt;
        // Wait with poll so that no event within the timeout leaves the connection usable.
        pollfd p{impl_->socket.native_handle(), POLLIN, 0};
        int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (ready == 0) return std::nullopt;
        if (ready < 0) fail("watch", path_, std::strerror(errno));
        if (!impl_->run([&](auto handler) { asio::async_read(impl_->socket, asio::buffer(&h, sizeof h), handler); },
                        deadline_, ec))
            fail("watch", path_, "a watch event was cut short");
        if (ec) fail("watch", path_, ec.message());
        if (h.len > xenstore_payload_max || h.type != static_cast<std::uint32_t>(xs_type::watch_event))
            fail("watch", path_, "xenstored sent message type " + std::to_string(h.type) + " outside a request");
        std::string body(h.len, '\0');
        if (h.len > 0 &&
            !impl_->run([&](auto handler) { asio::async_read(impl_->socket, asio::buffer(body), handler); }, deadline_, ec))
            fail("watch", path_, "the event's payload did not arrive in time");
        auto parts = split_nul(body);
        events_.push_back({parts.size() > 0 ? parts[0] : "", parts.size() > 1 ? parts[1] : ""});
    }
    auto e = std::move(events_.front());
    events_.pop_front();
    return e;
}

}  // namespace virtpp::xen
