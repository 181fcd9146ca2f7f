// xend's HTTP client: Boost.Beast over a unix or TCP socket, one connection per exchange (xend
// closes it after each reply), all of it under one deadline run on a private io_context.
#include <virtpp/error.hpp>
#include <virtpp/xen/xend_client.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <optional>

namespace virtpp::xen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

std::string xend_endpoint::str() const {
    if (is_unix()) return "unix:" + unix_path;
    return "http://" + host + ":" + std::to_string(port) + "/";
}

std::string form_encode(const std::vector<form_field>& fields) {
    static constexpr char hex[] = "0123456789ABCDEF";
    auto encode = [](std::string& out, std::string_view text) {
        for (unsigned char c : text) {
            bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                         c == '_' || c == '.' || c == '~';
            if (plain) {
                out += static_cast<char>(c);
            } else {
                out += '%';
                out += hex[c >> 4];
                out += hex[c & 0xF];
            }
        }
    };
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty()) out += '&';
        encode(out, name);
        out += '=';
        encode(out, value);
    }
    return out;
}

std::string xend_error_message(std::string_view body) {
    auto trim = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t'))
            s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
            s.remove_suffix(1);
        return s;
    };
    std::string_view text = trim(body);
    constexpr std::string_view tag = "(xend.err";
    if (auto at = text.find(tag); at != std::string_view::npos) {
        std::string_view rest = trim(text.substr(at + tag.size()));
        if (!rest.empty() && rest.back() == ')') rest = trim(rest.substr(0, rest.size() - 1));
        // xend quotes the message with ' or " (Python's repr); strip one pair.
        if (rest.size() >= 2 && (rest.front() == '\'' || rest.front() == '"') && rest.back() == rest.front())
            rest = rest.substr(1, rest.size() - 2);
        return std::string(rest);
    }
    return std::string(text.substr(0, 4096));
}

xend_client::xend_client(xend_endpoint where, std::chrono::milliseconds deadline)
    : where_(std::move(where)), deadline_(deadline) {}

namespace {

/// Runs the exchange on `socket` (already opened by connect_step) until done or the deadline.
template <class Socket, class ConnectStep>
xend_client::reply run_exchange(asio::io_context& io, Socket& socket, ConnectStep connect_step,
                                http::request<http::string_body>& request, std::chrono::milliseconds deadline,
                                const std::string& where) {
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(xend_client::max_reply_bytes);
    parser.header_limit(64 * 1024);
    std::optional<beast::error_code> outcome;
    const char* stage = "connecting to";

    auto on_read = [&](beast::error_code ec, std::size_t) { outcome = ec; };
    auto on_write = [&](beast::error_code ec, std::size_t) {
        if (ec) {
            outcome = ec;
            return;
        }
        stage = "reading the reply of";
        http::async_read(socket, buffer, parser, on_read);
    };
    auto on_connect = [&](beast::error_code ec) {
        if (ec) {
            outcome = ec;
            return;
        }
        stage = "sending the request to";
        http::async_write(socket, request, on_write);
    };
    connect_step(on_connect);
    io.run_for(deadline);
    if (!outcome) {
        beast::error_code ignored;
        socket.close(ignored);
        io.restart();
        io.run_for(std::chrono::milliseconds(100));  // let the cancelled handlers finish
        raise(error_code::operation_timeout, error_domain::xend,
              std::string("no reply from xend at ") + where + " within " + std::to_string(deadline.count()) +
                  " ms (while " + stage + " it)");
    }
    if (*outcome) {
        const beast::error_code& ec = *outcome;
        if (std::string_view(stage) == "connecting to")
            raise(error_code::system_error, error_domain::xend,
                  "failed to connect to xend at " + where + ": " + ec.message());
        if (ec == http::error::body_limit || ec == http::error::header_limit)
            raise(error_code::operation_failed, error_domain::xend,
                  "the reply of xend at " + where + " is larger than " + std::to_string(xend_client::max_reply_bytes) +
                      " bytes");
        if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof ||
            ec == asio::error::connection_reset)
            raise(error_code::operation_failed, error_domain::xend,
                  std::string("xend at ") + where + " closed the connection before a complete reply (while " + stage +
                      " it)");
        if (ec.category() == http::make_error_code(http::error::bad_version).category())
            raise(error_code::operation_failed, error_domain::xend,
                  "xend at " + where + " sent a reply that is not HTTP/1.x: " + ec.message());
        raise(error_code::operation_failed, error_domain::xend,
              std::string("error ") + stage + " xend at " + where + ": " + ec.message());
    }
    beast::error_code ignored;
    socket.close(ignored);
    auto& response = parser.get();
    return {static_cast<unsigned>(response.result_int()), std::move(response.body())};
}

}  // namespace

xend_client::reply xend_client::exchange(std::string_view method, std::string_view path, std::string body) const {
    http::request<http::string_body> request;
    request.method_string(method);
    request.target(path);
    request.version(11);
    // xend's BaseHTTPServer wants a Host; libvirt 0.3 sent localhost:8000 even over the socket.
    request.set(http::field::host, where_.is_unix() ? std::string("localhost:8000")
                                                    : where_.host + ":" + std::to_string(where_.port));
    request.set(http::field::accept_encoding, "identity");
    request.set(http::field::connection, "close");
    if (method == "POST") {
        request.set(http::field::content_type, "application/x-www-form-urlencoded");
        request.body() = std::move(body);
        request.prepare_payload();
    }
    asio::io_context io;
    const std::string where = where_.str();
    if (where_.is_unix()) {
        asio::local::stream_protocol::socket socket(io);
        asio::local::stream_protocol::endpoint ep(where_.unix_path);
        return run_exchange(
            io, socket, [&](auto handler) { socket.async_connect(ep, handler); }, request, deadline_, where);
    }
    asio::ip::tcp::resolver resolver(io);
    beast::error_code ec;
    auto endpoints = resolver.resolve(where_.host, std::to_string(where_.port), asio::ip::resolver_base::numeric_service, ec);
    if (ec) raise(error_code::system_error, error_domain::xend, "cannot resolve xend's host '" + where_.host + "': " + ec.message());
    asio::ip::tcp::socket socket(io);
    return run_exchange(
        io, socket,
        [&](auto handler) {
            asio::async_connect(socket, endpoints, [handler](beast::error_code e, const auto&) mutable { handler(e); });
        },
        request, deadline_, where);
}

xend_client::reply xend_client::get(std::string_view path) const { return exchange("GET", path, {}); }

xend_client::reply xend_client::post(std::string_view path, const std::vector<form_field>& fields) const {
    return exchange("POST", path, form_encode(fields));
}

std::string xend_client::get_sexpr(std::string_view path) const {
    auto r = get(path);
    constexpr std::string_view domain_prefix = "/xend/domain/";
    if (r.status == 404 && path.starts_with(domain_prefix)) {
        std::string_view name = path.substr(domain_prefix.size());
        name = name.substr(0, name.find('?'));
        raise(error_code::no_domain, error_domain::xend, "no domain with matching name '" + std::string(name) + "'");
    }
    if (r.status >= 300 || r.status < 100)
        raise(error_code::get_failed, error_domain::xend,
              "xend_get: error from xen daemon (HTTP " + std::to_string(r.status) + " for " + std::string(path) +
                  "): " + xend_error_message(r.body));
    return std::move(r.body);
}

std::string xend_client::post_op(std::string_view path, const std::vector<form_field>& fields) const {
    auto r = post(path, fields);
    bool failed = r.status >= 300 || r.status < 200 || (r.status == 202 && r.body.find("failed") != std::string::npos) ||
                  r.body.find("xend.err") != std::string::npos;
    if (failed) {
        std::string op;
        for (const auto& [name, value] : fields)
            if (name == "op") op = value;
        raise(error_code::post_failed, error_domain::xend,
              "xend_post: error from xen daemon (HTTP " + std::to_string(r.status) + ", op " + op + " on " +
                  std::string(path) + "): " + xend_error_message(r.body));
    }
    return std::move(r.body);
}

}  // namespace virtpp::xen
