// The HTTP/1.1 client of xend (Xen's management daemon), over its unix socket or its TCP port, as
// libvirt 0.3.x's xend driver spoke to it: GET for S-expression records, POST with form-encoded
// operations. Every exchange has a deadline (connect, write and read together); a reply that is
// not HTTP, is cut short, or comes too late is an error naming xend's address, never a hang.
//
//   virtpp::xen::xend_client xend({.unix_path = "/var/lib/xend/xend-socket"});
//   std::string node = xend.get_sexpr("/xend/node/");
//   xend.post_op("/xend/domain/guest", {{"op", "pause"}});
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace virtpp::xen {

/// Where xend listens: a unix socket path, or a host and port (xend-http-server).
struct xend_endpoint {
    std::string unix_path;
    std::string host;
    std::uint16_t port = 0;
    [[nodiscard]] bool is_unix() const noexcept { return !unix_path.empty(); }
    /// "unix:/var/lib/xend/xend-socket" or "http://host:port/", for messages.
    [[nodiscard]] std::string str() const;
};

/// One form field of a POST (name, value), sent application/x-www-form-urlencoded.
using form_field = std::pair<std::string, std::string>;

/// Encodes fields as name=value&... with every byte but [A-Za-z0-9-_.~] %-encoded.
[[nodiscard]] std::string form_encode(const std::vector<form_field>& fields);

class xend_client {
public:
    /// Deadline of one exchange unless the caller gives another (xend answers quickly; a create
    /// or save waits for the guest, hence the margin).
    static constexpr std::chrono::milliseconds default_deadline{30000};
    /// Replies larger than this are refused before they are buffered.
    static constexpr std::size_t max_reply_bytes = 16U * 1024U * 1024U;

    explicit xend_client(xend_endpoint where, std::chrono::milliseconds deadline = default_deadline);

    struct reply {
        unsigned status = 0;
        std::string body;
    };

    /// One raw exchange. Transport failures raise: SYSTEM_ERROR (xend domain) when xend cannot be
    /// reached, OPERATION_TIMEOUT past the deadline, HTTP_ERROR for a reply that is not HTTP/1.x
    /// or is cut short. The status is returned as it came.
    [[nodiscard]] reply get(std::string_view path) const;
    [[nodiscard]] reply post(std::string_view path, const std::vector<form_field>& fields) const;

    /// GET with libvirt's rules: a status of 300 or more raises GET_FAILED with xend's body, except
    /// 404 under /xend/domain/, which raises NO_DOMAIN naming the domain.
    [[nodiscard]] std::string get_sexpr(std::string_view path) const;
    /// POST with libvirt's rules: a status of 300 or more, a 202 whose body says "failed", or a
    /// 2xx body holding (xend.err ...) raises POST_FAILED with xend's message. Returns the body.
    std::string post_op(std::string_view path, const std::vector<form_field>& fields) const;

    [[nodiscard]] const xend_endpoint& endpoint() const noexcept { return where_; }
    [[nodiscard]] std::chrono::milliseconds deadline() const noexcept { return deadline_; }

private:
    reply exchange(std::string_view method, std::string_view path, std::string body) const;
    xend_endpoint where_;
    std::chrono::milliseconds deadline_;
};

/// The message of an (xend.err 'text') reply, or the body itself trimmed when it is not one.
[[nodiscard]] std::string xend_error_message(std::string_view body);

}  // namespace virtpp::xen
