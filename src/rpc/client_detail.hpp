// Internal: how each transport of a remote URI connects, ready to become a client session.
#pragma once

#include <virtpp/rpc/client.hpp>
#include <virtpp/uri.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace virtpp::rpc {

/// A connected transport that is not running a session yet: the I/O context its stream lives on
/// and the stream (one of the stacks of client_layers.hpp). start() makes it a
/// basic_client_session<Stream> with its I/O thread running.
class client_stream {
public:
    virtual ~client_stream() = default;
    [[nodiscard]] virtual std::shared_ptr<detail::session_core> start(const client_options& options) = 0;
};

/// A unix stream socket descriptor it owns (a daemon's socket, or one end of a socketpair):
/// basic_client_session<boost::asio::local::stream_protocol::socket>.
class fd_stream : public client_stream {
public:
    explicit fd_stream(int fd) noexcept : fd_(fd) {}
    ~fd_stream() override;
    fd_stream(const fd_stream&) = delete;
    fd_stream& operator=(const fd_stream&) = delete;
    [[nodiscard]] std::shared_ptr<detail::session_core> start(const client_options& options) override;
    [[nodiscard]] int fd() const noexcept { return fd_; }

private:
    int fd_;
};

/// Connects a unix socket; raises "Failed to connect socket to '<path>': <strerror>".
[[nodiscard]] std::unique_ptr<fd_stream> connect_unix(const std::string& path);
/// Connects host:port trying every address; raises "unable to connect to server at 'h:p': ...".
/// Returns the connected descriptor and its address family.
[[nodiscard]] std::pair<int, int> connect_tcp(const std::string& host, std::uint16_t port);
/// Runs argv[0] (searched in PATH) with its stdin/stdout on a socketpair, stderr captured.
[[nodiscard]] std::unique_ptr<client_stream> spawn_command(const std::vector<std::string>& argv);

/// The proxy command libvirt 9.0 runs on the far side of ssh (virNetClientSSHHelperCommand):
/// proxy "auto" (virt-ssh-helper if installed, else netcat), "netcat" or "native".
[[nodiscard]] std::string ssh_remote_command(std::string_view proxy, const std::optional<std::string>& netcat,
                                             const std::string& socket_path, const std::string& driver_uri,
                                             bool read_only);
/// The whole argv of the ssh transport (virNetSocketNewConnectSSH):
///   command [-p port] [-l user] [-i keyfile] -T -e none [-o BatchMode=yes]
///           [-o StrictHostKeyChecking=no] -- host <remote command>
[[nodiscard]] std::vector<std::string> ssh_argv(const virtpp::uri& u, unsigned flags);
/// The unix socket a URI names: socket=, else libvirt's system sockets (-ro when read-only).
[[nodiscard]] std::string unix_socket_path(const virtpp::uri& u, unsigned flags);

/// libvirt's system socket paths.
inline constexpr const char* default_socket_rw = "/var/run/libvirt/libvirt-sock";
inline constexpr const char* default_socket_ro = "/var/run/libvirt/libvirt-sock-ro";

/// Opens the URI's transport (tls handshake and confirmation byte included).
[[nodiscard]] std::unique_ptr<client_stream> open_transport(const virtpp::uri& u, unsigned flags);

/// strerror text of an errno value, as libvirt prints it.
[[nodiscard]] std::string errno_text(int err);
/// Raises SYSTEM_ERROR in the RPC domain with "<what>: <strerror(err)>".
[[noreturn]] void raise_system(int err, const std::string& what);

}  // namespace virtpp::rpc
