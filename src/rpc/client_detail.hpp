// Internal: the byte streams a client session runs over, and how each transport opens one.
#pragma once

#include <virtpp/transport/remote.hpp>
#include <virtpp/uri.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace virtpp::rpc {

/// A connected, bidirectional byte stream to a daemon. read() and write_all() may run at the same
/// time on two threads (the reader thread and a caller); two writers never overlap.
class client_stream {
public:
    virtual ~client_stream() = default;
    /// A descriptor that polls readable when read() has something (data or end of stream).
    [[nodiscard]] virtual int poll_fd() const noexcept = 0;
    /// Appends what arrived (plaintext); false at end of stream. Raises on transport errors.
    virtual bool read(std::vector<std::uint8_t>& into) = 0;
    virtual void write_all(const std::uint8_t* data, std::size_t size) = 0;
    /// Ends both directions; a blocked read() returns.
    virtual void shutdown() noexcept = 0;
    /// For command transports: what the child wrote on stderr (trailing blanks trimmed), for
    /// libvirt's "End of file while reading data: <stderr>".
    [[nodiscard]] virtual std::string error_output() { return {}; }
};

/// A stream over a socket descriptor it owns (tcp, unix, or a socketpair to a child).
class fd_stream : public client_stream {
public:
    explicit fd_stream(int fd) noexcept : fd_(fd) {}
    ~fd_stream() override;
    [[nodiscard]] int poll_fd() const noexcept override { return fd_; }
    bool read(std::vector<std::uint8_t>& into) override;
    void write_all(const std::uint8_t* data, std::size_t size) override;
    void shutdown() noexcept override;
    [[nodiscard]] int fd() const noexcept { return fd_; }

protected:
    /// What a failed recv (not EINTR) means: false for the end of the stream, or it raises. A
    /// socket to a daemon takes a reset as the end; command_stream reports the command's stderr.
    virtual bool recv_failed(int err);
    int fd_;
};

/// Connects a unix socket; raises "Failed to connect socket to '<path>': <strerror>".
[[nodiscard]] std::unique_ptr<fd_stream> connect_unix(const std::string& path);
/// Connects host:port trying every address; raises "unable to connect to server at 'h:p': ...".
[[nodiscard]] std::unique_ptr<fd_stream> connect_tcp(const std::string& host, std::uint16_t port);
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
