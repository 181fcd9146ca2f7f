// virtppd's server as a library (src/daemon/): its configuration (libvirtd.conf's keys in
// libvirt's virConf syntax), its log, and the server itself — unix read-write and read-only
// sockets, TCP and TLS listeners on every address getaddrinfo gives (IPv4 and IPv6), one I/O
// thread that only reads, writes and keeps time, and a worker pool that runs the calls, so
// keepalive PINGs are answered while a client has many slow calls in flight. Asio stays inside
// src/daemon/server.cpp. The per-client protocol state is src/daemon/session.hpp.
#pragma once

#include <virtpp/any.hpp>
#include <virtpp/runtime_dirs.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace virtpp::daemon {

// ---- configuration --------------------------------------------------------------------------
// virConf syntax: key = value lines; strings in single, double or triple double quotes;
// integers; lists of values in [ ] (nested at most conf_max_depth deep); # comments. Every key
// libvirtd 9.0 knows is accepted; the seed's keys that 9.0 dropped (tls_allowed_ip_list,
// tls_no_verify_address) work as the seed describes; a key nobody knows is ignored, as libvirtd
// 9.0 ignores it, and named in a warning. A known key with a value of the wrong type is a
// start-up error naming the file and line.

/// A configuration file problem: "FILE:LINE: what".
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One value of a virConf file.
struct conf_value {
    std::variant<long long, std::string, std::vector<conf_value>> data;
    int line = 0;
};

struct conf_entry {
    std::string key;
    conf_value value;
};

/// How deep lists may nest in virConf text: deeper is a config_error, not a deeper recursion.
inline constexpr int conf_max_depth = 16;

/// Parses virConf text; raises config_error with the file name and line of the first problem.
[[nodiscard]] std::vector<conf_entry> parse_conf(std::string_view text, std::string_view filename);

/// The settings virtppd acts on, with libvirtd's defaults.
struct daemon_config {
    bool listen_tls = true;
    bool listen_tcp = false;
    std::string tls_port = "16514";
    std::string tcp_port = "16509";
    std::string listen_addr;  ///< empty: every address (getaddrinfo with AI_PASSIVE)
    std::string unix_sock_group;
    std::string unix_sock_ro_perms = "0777";
    std::string unix_sock_rw_perms = "0700";
    std::string unix_sock_dir;  ///< empty: the default (/run/libvirt, or $XDG_RUNTIME_DIR/libvirt)
    bool tls_no_verify_certificate = false;
    bool tls_no_sanity_certificate = false;
    bool tls_no_verify_address = false;
    std::string key_file = "/etc/pki/libvirt/private/serverkey.pem";
    std::string cert_file = "/etc/pki/libvirt/servercert.pem";
    std::string ca_file = "/etc/pki/CA/cacert.pem";
    std::string crl_file;
    std::optional<std::vector<std::string>> tls_allowed_dn_list;  ///< absent: DNs are not checked
    std::optional<std::vector<std::string>> tls_allowed_ip_list;  ///< absent: any address may connect
    unsigned max_workers = 20;
    unsigned max_clients = 5000;             ///< at this many clients no more are accepted (they wait queued)
    unsigned max_queued_clients = 1000;      ///< the listen backlog (capped by the kernel's SOMAXCONN)
    unsigned max_anonymous_clients = 20;     ///< TCP/TLS clients still in their handshake; more wait queued
    unsigned max_client_requests = 5;        ///< calls of one client running at once; as many more may wait
    /// virtppd's own keys (libvirtd ignores unknown keys, so one file serves both): seconds a client
    /// has to complete its TLS handshake and first message, and seconds its unread replies may sit
    /// without the client reading any of them; 0 turns either off.
    int handshake_timeout = 30;
    int output_stall_timeout = 30;
    int keepalive_interval = 5;        ///< seconds; <= 0 turns the daemon's pings off
    unsigned keepalive_count = 5;
    unsigned log_level = 3;            ///< 1 debug, 2 info, 3 warning, 4 error
    std::string log_outputs;           ///< "LEVEL:stderr" or "LEVEL:file:PATH" (first output only)

    /// Keys present in the file that libvirtd knows but virtppd does not act on.
    std::vector<std::string> ignored_keys;
    /// "FILE:LINE: unknown setting 'KEY' ignored" for keys neither libvirtd nor virtppd knows.
    std::vector<std::string> warnings;
};

/// Reads libvirtd.conf text into a daemon_config.
[[nodiscard]] daemon_config read_config(std::string_view text, std::string_view filename);
/// Reads a file; a missing or unreadable file is a config_error.
[[nodiscard]] daemon_config read_config_file(const std::string& path);

/// GLib's simple patterns (only `*` and `?` are special), as libvirtd 9.0 matches
/// tls_allowed_dn_list (g_pattern_match_simple); also used for the seed's tls_allowed_ip_list.
[[nodiscard]] bool wildcard_match(const std::string& pattern, const std::string& text);
/// True when the list allows the text (an absent list allows everything, an empty one nothing).
[[nodiscard]] bool list_allows(const std::optional<std::vector<std::string>>& list, const std::string& text);

// ---- log ------------------------------------------------------------------------------------
// libvirt's logging model: levels 1 debug, 2 info, 3 warning, 4 error; log_filters
// ("LEVEL:[+]MATCH ...", the first filter whose MATCH is a substring of the line's category sets
// its level) and log_outputs ("LEVEL:stderr", "LEVEL:file:PATH", "LEVEL:syslog:IDENT",
// "LEVEL:journald", space separated; each output takes lines at or above its own level).
// configure() may run while other threads log (SIGHUP reloads the daemon's configuration).

class logger {
public:
    /// Writes to stderr.
    explicit logger(int level = 3);
    /// Appends to a file; raises std::runtime_error when it cannot be opened.
    logger(int level, const std::string& path);
    ~logger();
    logger(const logger&) = delete;
    logger& operator=(const logger&) = delete;

    /// Replaces level, filters and outputs; raises std::runtime_error naming the entry that is
    /// wrong (the previous settings stay). An empty `outputs` means LEVEL:stderr.
    void configure(int level, const std::string& filters, const std::string& outputs);

    /// A line of the "daemon" category.
    void write(int level, const std::string& line);
    void write(int level, std::string_view category, const std::string& line);
    /// The lowest level any line can pass at (callers skip formatting lines below it).
    [[nodiscard]] int level() const noexcept { return lowest_.load(std::memory_order_relaxed); }

    struct output;
    struct filter {
        int level;
        std::string match;
    };

private:
    std::atomic<int> lowest_;
    int default_level_;
    std::vector<filter> filters_;
    std::vector<std::unique_ptr<output>> outputs_;
    std::mutex mutex_;
};

/// Where the journal listens: /run/systemd/journal/socket ($VIRTPP_JOURNAL_SOCKET overrides, for
/// tests).
[[nodiscard]] std::string journal_socket_path();

// ---- server ---------------------------------------------------------------------------------

/// Opens a driver connection for CONNECT_OPEN (name, flags); raises virtpp::error on failure.
using connection_opener = std::function<any_connection(const std::string& name, unsigned flags)>;

/// A listening unix socket handed over by systemd (socket activation: LISTEN_FDS).
struct activated_socket {
    int fd = -1;
    bool read_only = false;
    std::string path;  ///< where it listens, for the log
};

struct server_options {
    daemon_config config;
    /// Socket activation: these listening sockets are served instead of creating the unix sockets
    /// (systemd owns their files; the server never unlinks them).
    std::vector<activated_socket> activated;
    bool listen = false;        ///< -l: TCP/TLS listeners as listen_tcp / listen_tls say
    bool unix_sockets = true;   ///< the unix sockets in unix_sock_dir
    int timeout_seconds = 0;    ///< -t: exit after this long without clients (0: never)
    connection_opener open;     ///< how CONNECT_OPEN reaches the drivers
    logger* log = nullptr;
};

class server {
public:
    /// Creates the sockets; raises std::runtime_error naming what could not be set up.
    explicit server(server_options options);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Serves until stop(), SIGTERM/SIGINT, or the idle timeout.
    void run();
    /// Thread-safe.
    void stop();

    /// Where it listens ("unix:/run/libvirt/libvirt-sock", "tcp:127.0.0.1:16509", ...).
    [[nodiscard]] std::vector<std::string> endpoints() const;
    /// The port of the first TCP listener (useful with tcp_port = "0"), 0 without one.
    [[nodiscard]] unsigned short tcp_port() const;
    [[nodiscard]] std::size_t client_count() const;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

using virtpp::user_runtime_base;  // virtpp/runtime_dirs.hpp
/// The default unix socket directory: /run/libvirt for root, else user_runtime_base()/libvirt.
[[nodiscard]] std::string default_unix_sock_dir();

}  // namespace virtpp::daemon
