// rpc::client_session: one open session with a daemon (libvirt's virNetClient plus the remote
// driver's open and close), as a type-erased facade. Underneath it is a
// basic_client_session<AsyncStream> (virtpp/rpc/basic_client_session.hpp) over one of the
// transport stacks (unix or tcp socket, tls_stream<tcp socket>, a command's socketpair), run by
// one Asio I/O thread. See docs/remote.md.
//
// A session is safe to call from several threads at once: every call gets a serial and the I/O
// thread hands each reply to the call waiting for that serial, so a slow call does not hold up
// the others.
#pragma once

#include <virtpp/concepts.hpp>
#include <virtpp/error.hpp>
#include <virtpp/events.hpp>
#include <virtpp/rpc/procedures.hpp>
#include <virtpp/uri.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace virtpp {
class stream;
}  // namespace virtpp

namespace virtpp::rpc {

class client_stream;  // internal: a connected transport not yet running a session (src/rpc/client_detail.hpp)
namespace detail {
class session_core;  // the stream-independent half of basic_client_session (virtpp/rpc/basic_client_session.hpp)
}

/// Tunables of a client session; the defaults are libvirt's.
struct client_options {
    /// Keepalive: a PING after this much silence from the server (libvirt: 5 s)...
    std::chrono::milliseconds keepalive_interval{5000};
    /// ...and the connection is given up after this many unanswered PINGs (libvirt: 6).
    unsigned keepalive_count = 6;
    /// Probe the keepalive feature before CONNECT_OPEN (as virsh does) and ping when idle.
    bool keepalive = true;
};

/// The options of the sessions transport::remote opens (any_connection, basic_connection over
/// transport::remote): libvirt's defaults until a program sets its own, as virsh's -k / -K do.
[[nodiscard]] client_options default_client_options();
void set_default_client_options(const client_options& options);

/// One open session with a daemon: libvirt's virNetClient plus the remote driver's open/close.
class client_session {
public:
    /// Connects over the URI's transport, authenticates (AUTH_LIST; "none" and "polkit"), probes
    /// keepalive and sends CONNECT_OPEN with uri.remote_name() and flags (open_flags::read_only).
    /// Transport failures raise libvirt's errors (SYSTEM_ERROR in the RPC domain, ...).
    [[nodiscard]] static std::shared_ptr<client_session> open(const virtpp::uri& u, unsigned flags,
                                                              const client_options& options = {});
    /// The same over a stream that is already connected (tests; custom transports).
    [[nodiscard]] static std::shared_ptr<client_session> open_stream(std::unique_ptr<client_stream> stream,
                                                                     std::string name, unsigned flags,
                                                                     const client_options& options = {});

    client_session(const client_session&) = delete;
    client_session& operator=(const client_session&) = delete;
    /// Sends CONNECT_CLOSE (if the link is still up) and stops the reader thread.
    ~client_session();

    /// One call of the remote program: `args` is the XDR body, the result is the reply body.
    /// An error reply raises the server's error unchanged; a dead link raises the transport error.
    [[nodiscard]] std::vector<std::uint8_t> call(std::int32_t procedure, std::span<const std::uint8_t> args);

    /// A call that opens a stream (DOMAIN_OPEN_CONSOLE, DOMAIN_SCREENSHOT): the stream is known
    /// under the call's serial before the call goes out, so data right behind the reply is kept.
    /// Returns the reply body; `opened` is the stream (blocking recv/send, finish, abort), which
    /// keeps the session alive.
    [[nodiscard]] static std::vector<std::uint8_t> call_with_stream(const std::shared_ptr<client_session>& self,
                                                                    std::int32_t procedure, std::span<const std::uint8_t> args,
                                                                    std::shared_ptr<virtpp::stream>& opened);

    /// How a started call ends: an error (the server's, or the link's), or the reply body. It runs
    /// once, on the thread that read the reply (or failed the link), with no lock held; it must
    /// not block: hand the result to an executor (virtpp/async.hpp does).
    using call_completion = std::function<void(std::exception_ptr, std::vector<std::uint8_t>)>;

    /// Sends one call without waiting: any number may be in flight on the session (pipelined);
    /// `done` gets the reply. Returns the call's serial. Raises at once when the link is down.
    std::uint32_t start_call(std::int32_t procedure, std::span<const std::uint8_t> args, call_completion done);

    /// Gives up a started call without touching the link: true when its completion had not run
    /// and never will (the caller completes it); its reply, if it ever comes, is dropped by serial.
    bool abandon_call(std::uint32_t serial);

    /// CONNECT_CLOSE then shutdown; later calls raise "client socket is closed".
    void close();

    /// The daemon's domain and network events. The first subscription registers a callback for
    /// every event id with the daemon (the callback procedures when it supports them, else the
    /// legacy ones); handlers run on the session's event thread, never the reading one, so they
    /// may make calls on this session. Registrations stay until the session closes.
    [[nodiscard]] event_subscription subscribe_events(event_handler handler);

    /// True when the server supports keepalive and this session pings it when idle.
    [[nodiscard]] bool keepalive_active() const noexcept;
    /// PINGs from the server this session answered with a PONG.
    [[nodiscard]] std::uint64_t pongs_sent() const noexcept;
    /// PINGs this session sent.
    [[nodiscard]] std::uint64_t pings_sent() const noexcept;

    /// The session underneath (basic_client_session<S> for the transport's stack).
    [[nodiscard]] detail::session_core& core() const noexcept { return *impl_; }

private:
    explicit client_session(std::shared_ptr<detail::session_core> p);
    std::shared_ptr<detail::session_core> impl_;
};

/// Performs Op over a session through its client procedure: convert, encode, call, decode.
template <class Op>
typename Op::result call_remote(client_session& session, const typename Op::args& a) {
    using P = client_procedure_t<Op>;
    auto body = xdr::to_bytes(P::from_op(a));
    auto reply = session.call(P::number, body);
    auto ret = xdr::from_bytes<typename P::ret>(reply);
    if constexpr (std::is_void_v<typename Op::result>)
        P::from_wire(ret);
    else
        return op_result<P>(a, ret);
}

}  // namespace virtpp::rpc

