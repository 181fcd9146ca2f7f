// Connecting each transport of a remote URI: a stream of client_layers.hpp on its own I/O
// context, ready to become a session.
#include "rpc/client_detail.hpp"
#include "rpc/client_layers.hpp"
#include "rpc/session_autostart.hpp"
#include "rpc/tls.hpp"

#include <virtpp/concepts.hpp>
#include <virtpp/error.hpp>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace virtpp::rpc {

std::string errno_text(int err) {
    char buf[256];
    // the GNU strerror_r returns the text (possibly not in buf)
    return ::strerror_r(err, buf, sizeof buf);
}

void raise_system(int err, const std::string& what) {
    raise(error_code::system_error, error_domain::rpc, what + ": " + errno_text(err));
}

// ---- unix and tcp -----------------------------------------------------------------------------

std::unique_ptr<fd_stream> connect_unix(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        raise(error_code::internal_error, error_domain::rpc, "Path " + path + " too long for unix socket");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) raise_system(errno, "Failed to create socket");
    int rc;
    do {
        rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        int err = errno;
        ::close(fd);
        raise_system(err, "Failed to connect socket to '" + path + "'");
    }
    return std::make_unique<fd_stream>(fd);
}

std::pair<int, int> connect_tcp(const std::string& host, std::uint16_t port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG | AI_V4MAPPED;
    addrinfo* found = nullptr;
    auto service = std::to_string(port);
    if (int e = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); e != 0)
        raise(error_code::system_error, error_domain::rpc,
              "Unable to resolve address '" + host + "' service '" + service + "': " + ::gai_strerror(e));
    int fd = -1;
    int family = AF_INET;
    int saved = 0;
    for (auto* a = found; a != nullptr; a = a->ai_next) {
        family = a->ai_family;
        fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int rc;
        do {
            rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
        } while (rc < 0 && errno == EINTR);
        if (rc == 0) break;
        saved = errno;
        ::close(fd);
        fd = -1;
    }
    ::freeaddrinfo(found);
    if (fd < 0) raise_system(saved, "unable to connect to server at '" + host + ":" + service + "'");
    return {fd, family};
}

// ---- commands (ssh, ext) ----------------------------------------------------------------------

namespace {

}  // namespace

std::unique_ptr<client_stream> spawn_command(const std::vector<std::string>& argv) {
    if (argv.empty() || argv[0].empty())
        raise(error_code::invalid_arg, error_domain::remote, "no command given for the external transport");
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) raise_system(errno, "unable to create socket pair");
    int errpipe[2];
    if (::pipe2(errpipe, O_CLOEXEC) < 0) {
        int err = errno;
        ::close(sv[0]);
        ::close(sv[1]);
        raise_system(err, "cannot create pipe");
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // what libvirt's child says when the exec fails (its default error handler's line), ready
    // before the fork: the child only appends the errno text and writes
    const std::string exec_failed = "libvirt:  error : cannot execute binary " + argv[0] + ": ";
    pid_t pid = ::fork();
    if (pid < 0) {
        int err = errno;
        for (int fd : {sv[0], sv[1], errpipe[0], errpipe[1]}) ::close(fd);
        raise_system(err, "cannot fork child process");
    }
    if (pid == 0) {
        // child: only async-signal-safe calls
        ::dup2(sv[1], STDIN_FILENO);
        ::dup2(sv[1], STDOUT_FILENO);
        ::dup2(errpipe[1], STDERR_FILENO);
        ::setsid();  // no controlling terminal: ssh must not prompt on ours
        ::execvp(args[0], args.data());
        const char* why = ::strerrordesc_np(errno);  // a static string: safe after fork
        if (why == nullptr) why = "Unknown error";
        [[maybe_unused]] auto w1 = ::write(STDERR_FILENO, exec_failed.data(), exec_failed.size());
        [[maybe_unused]] auto w2 = ::write(STDERR_FILENO, why, std::strlen(why));
        [[maybe_unused]] auto w3 = ::write(STDERR_FILENO, "\n", 1);
        ::_exit(127);
    }
    ::close(sv[1]);
    ::close(errpipe[1]);
    auto io = std::make_unique<boost::asio::io_context>();
    unix_socket socket(*io);
    boost::system::error_code ec;
    socket.assign(boost::asio::local::stream_protocol(), sv[0], ec);
    if (ec) ::close(sv[0]);
    command_stream child(std::move(socket), errpipe[0], pid);  // reaps the child if the next line raises
    if (ec) raise_system(ec.value(), "unable to create socket pair");
    return std::make_unique<connected_stream<command_stream>>(std::move(io), std::move(child));
}

namespace {
/// virBufferEscapeShell: quote only when a shell metacharacter is present.
std::string shell_escape(std::string_view s) {
    if (s.empty()) return "''";
    if (s.find_first_of("\r\t\n !\"#$&'()*;<>?[\\]^`{|}~") == std::string_view::npos) return std::string(s);
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\'";
        out += c;
    }
    out += '\'';
    return out;
}
std::string double_escape(std::string_view s) { return shell_escape(shell_escape(s)); }
}  // namespace

std::string ssh_remote_command(std::string_view proxy, const std::optional<std::string>& netcat,
                               const std::string& socket_path, const std::string& driver_uri, bool read_only) {
    std::string nc = double_escape(netcat ? *netcat : std::string("nc"));
    std::string nccmd = "if '" + nc + "' -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;'" +
                        nc + "' $ARG -U " + socket_path;
    std::string helper = std::string("virt-ssh-helper") + (read_only ? " -r " : " ") + "'" + double_escape(driver_uri) + "'";
    std::string mode(proxy);
    if (mode == "auto" && netcat) mode = "netcat";
    if (mode == "auto")
        return "sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     " + helper + "; else    " + nccmd + "; fi'";
    if (mode == "netcat") return "sh -c '" + nccmd + "'";
    if (mode == "native") {
        if (netcat) raise(error_code::invalid_arg, error_domain::rpc, "netcat path not valid with native proxy mode");
        return "sh -c '" + helper + "'";
    }
    raise(error_code::invalid_arg, error_domain::remote, "Unnkown proxy type '" + mode + "'");
}

std::string unix_socket_path(const virtpp::uri& u, unsigned flags) {
    if (auto s = u.socket_path()) return std::string(*s);
    return (flags & open_flags::read_only) ? default_socket_ro : default_socket_rw;
}

std::vector<std::string> ssh_argv(const virtpp::uri& u, unsigned flags) {
    std::vector<std::string> argv;
    argv.emplace_back(u.command() ? std::string(*u.command()) : std::string("ssh"));
    if (auto port = u.port()) argv.insert(argv.end(), {"-p", std::to_string(*port)});
    if (!u.user().empty()) argv.insert(argv.end(), {"-l", u.user()});
    if (auto key = u.keyfile()) argv.insert(argv.end(), {"-i", std::string(*key)});
    argv.insert(argv.end(), {"-T", "-e", "none"});
    if (u.no_tty()) argv.insert(argv.end(), {"-o", "BatchMode=yes"});
    if (u.no_verify()) argv.insert(argv.end(), {"-o", "StrictHostKeyChecking=no"});
    argv.emplace_back("--");
    argv.push_back(u.remote_host());
    // an explicit socket means netcat (virt-ssh-helper cannot take one)
    std::string proxy = "auto";
    if (auto p = u.remote_param("proxy")) proxy = std::string(*p);
    else if (u.socket_path()) proxy = "netcat";
    std::optional<std::string> netcat;
    if (auto n = u.netcat()) netcat = std::string(*n);
    argv.push_back(ssh_remote_command(proxy, netcat, unix_socket_path(u, flags), u.remote_name(),
                                      (flags & open_flags::read_only) != 0));
    return argv;
}

// ---- tls --------------------------------------------------------------------------------------

namespace {

/// libvirt's file locations: pkipath=, else ~/.pki/libvirt for non-root users when the files
/// are there, else /etc/pki.
tls::client_config locate_client_credentials(const virtpp::uri& u) {
    tls::client_config c;
    if (auto dir = u.pkipath()) {
        std::string d(*dir);
        return {d + "/cacert.pem", d + "/cacrl.pem", d + "/clientcert.pem", d + "/clientkey.pem", !u.no_sanity()};
    }
    auto exists = [](const std::string& p) { return ::access(p.c_str(), F_OK) == 0; };
    if (::geteuid() != 0) {
        if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
            std::string d = std::string(home) + "/.pki/libvirt";
            if (exists(d + "/cacert.pem")) c.ca_file = d + "/cacert.pem";
            if (exists(d + "/cacrl.pem")) c.crl_file = d + "/cacrl.pem";
            if (exists(d + "/clientkey.pem") && exists(d + "/clientcert.pem")) {
                c.cert_file = d + "/clientcert.pem";
                c.key_file = d + "/clientkey.pem";
            }
        }
    }
    if (c.ca_file.empty()) c.ca_file = "/etc/pki/CA/cacert.pem";
    if (c.crl_file.empty()) c.crl_file = "/etc/pki/CA/cacrl.pem";
    if (c.cert_file.empty()) {
        c.cert_file = "/etc/pki/libvirt/clientcert.pem";
        c.key_file = "/etc/pki/libvirt/private/clientkey.pem";
    }
    c.sanity_check = !u.no_sanity();
    return c;
}

}  // namespace

namespace {
/// connect_tcp's descriptor as an Asio socket on `io`.
tcp_socket tcp_connected(boost::asio::io_context& io, const std::string& host, std::uint16_t port) {
    auto [fd, family] = connect_tcp(host, port);
    tcp_socket socket(io);
    boost::system::error_code ec;
    socket.assign(family == AF_INET6 ? boost::asio::ip::tcp::v6() : boost::asio::ip::tcp::v4(), fd, ec);
    if (ec) {
        ::close(fd);
        raise_system(ec.value(), "Failed to create socket");
    }
    return socket;
}
}  // namespace

std::unique_ptr<client_stream> open_transport(const virtpp::uri& u, unsigned flags) {
    u.check_remote_params();
    switch (u.transport()) {
    case transport_kind::unix_socket:
        if (auto user = user_daemon_for(u, flags)) return connect_user_daemon(*user);  // src/rpc/session_autostart.cpp
        return connect_unix(unix_socket_path(u, flags));
    case transport_kind::tcp: {
        auto io = std::make_unique<boost::asio::io_context>();
        auto socket = tcp_connected(*io, u.remote_host(), *u.remote_port());
        return std::make_unique<connected_stream<tcp_socket>>(std::move(io), std::move(socket));
    }
    case transport_kind::tls: {
        // credentials first, as libvirt does: a missing CA fails before any connection
        auto creds = tls::load_client_credentials(locate_client_credentials(u));
        auto io = std::make_unique<boost::asio::io_context>();
        tls_stream<tcp_socket> s(tcp_connected(*io, u.remote_host(), *u.remote_port()),
                                 tls::engine::client(creds, u.remote_host(), *u.remote_port(), !u.no_verify()));
        s.handshake();
        return std::make_unique<connected_stream<tls_stream<tcp_socket>>>(std::move(io), std::move(s));
    }
    case transport_kind::ssh:
        return spawn_command(ssh_argv(u, flags));
    case transport_kind::ext:
        // libvirt runs the command as it is, without arguments
        return spawn_command({std::string(*u.command())});
    case transport_kind::libssh2:
        raise_system(ENOSYS, "libssh2 transport support was not enabled");
    case transport_kind::libssh:
        break;
    }
    raise_system(ENOSYS, "libssh transport support was not enabled");
}

}  // namespace virtpp::rpc
