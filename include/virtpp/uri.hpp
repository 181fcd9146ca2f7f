// Connection URIs as libvirt reads them: driver[+transport]://[user@][host][:port]/[path][?params][#fragment],
// parsed with RFC 3986 rules the way libxml2's xmlParseURI does for libvirt (components %-decoded,
// query parameters split and decoded like virURIParseParams), plus the seed's legacy forms
// (NULL/"", "xen", xend socket paths, http://host[:port]/). See docs/uri.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp {

/// How a remote URI reaches the daemon. libvirt 9 also accepts libssh2 and libssh, so they parse
/// here too; whether a build can connect with them is the transport layer's business.
enum class transport_kind { unix_socket, ssh, ext, tcp, tls, libssh2, libssh };

/// The transport's name in URIs ("unix", "ssh", "ext", "tcp", "tls", "libssh2", "libssh").
[[nodiscard]] std::string_view transport_name(transport_kind kind) noexcept;
/// Reads a transport name case-insensitively, as libvirt's remote driver does.
[[nodiscard]] std::optional<transport_kind> parse_transport_name(std::string_view name) noexcept;

inline constexpr std::uint16_t default_tcp_port = 16509;        ///< libvirtd's plain TCP port
inline constexpr std::uint16_t default_tls_port = 16514;        ///< libvirtd's TLS port
inline constexpr std::uint16_t default_xend_http_port = 8000;   ///< xend's (xend-http-server yes) port

/// The port a transport uses when the URI names none: tcp 16509, tls 16514; nothing for the
/// others (unix and ext have no port; ssh leaves it to ssh).
[[nodiscard]] constexpr std::optional<std::uint16_t> default_port(transport_kind kind) noexcept {
    if (kind == transport_kind::tcp) return default_tcp_port;
    if (kind == transport_kind::tls) return default_tls_port;
    return std::nullopt;
}

/// One query parameter, %-decoded. A parameter written without '=' has an empty value.
struct uri_param {
    std::string name;
    std::string value;
    friend bool operator==(const uri_param&, const uri_param&) = default;
};

class uri {
public:
    /// Which of the seed's forms the text was.
    enum class form {
        default_uri,  ///< NULL or "": "use the default hypervisor" (choosing it is the connection layer's job)
        legacy_xen,   ///< the bare string "xen" (any case): the local Xen hypervisor, like xen:///
        xend_socket,  ///< an absolute path (or ///path): xend's unix socket, for the Xen driver
        xend_http,    ///< http://host[:port]/: xend's HTTP server, for the Xen driver
        standard,     ///< driver[+transport]://...
    };

    /// URIs longer than this are refused (with an error) before any parsing.
    static constexpr std::size_t max_length = 64 * 1024;

    /// The default URI (what NULL and "" mean).
    uri() = default;

    /// Parses text. Malformed text raises INTERNAL_ERROR in the URI domain ("Unable to parse URI
    /// <text>: <what and where>"), like virURIParse; text without a driver (other than the legacy
    /// forms) raises NO_CONNECT; an unknown transport, or unix with a host, raises INVALID_ARG in
    /// the remote domain, like libvirt's remote driver.
    [[nodiscard]] static uri parse(std::string_view text);
    /// As above; a null pointer is the default URI, like virConnectOpen(NULL).
    [[nodiscard]] static uri parse(const char* text);

    [[nodiscard]] form kind() const noexcept { return form_; }
    [[nodiscard]] bool is_default() const noexcept { return form_ == form::default_uri; }
    [[nodiscard]] bool is_legacy_xen() const noexcept { return form_ == form::legacy_xen; }
    [[nodiscard]] bool is_xend_socket() const noexcept { return form_ == form::xend_socket; }
    [[nodiscard]] bool is_xend_http() const noexcept { return form_ == form::xend_http; }
    /// Any of the seed's legacy forms (legacy "xen", xend socket path, xend http).
    [[nodiscard]] bool is_legacy() const noexcept {
        return form_ == form::legacy_xen || form_ == form::xend_socket || form_ == form::xend_http;
    }

    /// libvirt's rule: a URI with a host or a transport (or the "remote" driver) goes to the remote
    /// driver. The legacy forms and the default URI are local.
    [[nodiscard]] bool is_remote() const noexcept;

    /// The scheme as written ("qemu+ssh", "http"); empty for the default URI and xend socket paths.
    [[nodiscard]] const std::string& scheme() const noexcept { return scheme_; }
    /// The driver the URI selects: the scheme before '+' ("qemu"), "xen" for every legacy form,
    /// empty for the default URI.
    [[nodiscard]] std::string_view driver() const noexcept;
    /// The transport written after '+', if any.
    [[nodiscard]] std::optional<transport_kind> explicit_transport() const noexcept { return transport_; }
    /// The transport the remote driver would use: the explicit one, else tls with a host, else unix.
    [[nodiscard]] transport_kind transport() const noexcept;

    [[nodiscard]] const std::string& user() const noexcept { return user_; }  ///< decoded; may hold "user:password"
    /// Decoded host name, or an IPv6 address without its brackets ("::1", "fe80::1%eth0").
    [[nodiscard]] const std::string& host() const noexcept { return host_; }
    [[nodiscard]] bool has_host() const noexcept { return !host_.empty(); }
    /// The port written in the URI. ":0" and a port without a host count as none (libvirt does so too).
    [[nodiscard]] std::optional<std::uint16_t> port() const noexcept;
    [[nodiscard]] const std::string& path() const noexcept { return path_; }          ///< decoded
    [[nodiscard]] const std::string& fragment() const noexcept { return fragment_; }  ///< decoded
    /// True when the text had a '#', even an empty fragment (libvirt keeps "x#" as it is).
    [[nodiscard]] bool has_fragment() const noexcept { return has_fragment_; }
    /// Every query parameter, decoded, in order (repeats kept).
    [[nodiscard]] const std::vector<uri_param>& params() const noexcept { return params_; }
    /// The first parameter with exactly this name (virURIGetParam).
    [[nodiscard]] std::optional<std::string_view> param(std::string_view name) const noexcept;

    // ---- what the remote driver takes out of the query (case-insensitive names, last one wins) ----

    /// True for the parameters libvirt 9's remote driver consumes (name, command, socket, netcat,
    /// no_verify, no_tty, pkipath, keyfile, known_hosts, ...); they are not passed to the daemon.
    [[nodiscard]] static bool is_remote_driver_param(std::string_view name) noexcept;
    /// The value of a remote-driver parameter, e.g. remote_param("pkipath").
    [[nodiscard]] std::optional<std::string_view> remote_param(std::string_view name) const noexcept;
    [[nodiscard]] std::optional<std::string_view> name_override() const noexcept { return remote_param("name"); }
    [[nodiscard]] std::optional<std::string_view> command() const noexcept { return remote_param("command"); }
    [[nodiscard]] std::optional<std::string_view> socket_path() const noexcept { return remote_param("socket"); }
    [[nodiscard]] std::optional<std::string_view> netcat() const noexcept { return remote_param("netcat"); }
    [[nodiscard]] std::optional<std::string_view> pkipath() const noexcept { return remote_param("pkipath"); }
    [[nodiscard]] std::optional<std::string_view> keyfile() const noexcept { return remote_param("keyfile"); }
    [[nodiscard]] std::optional<std::string_view> known_hosts() const noexcept { return remote_param("known_hosts"); }
    /// no_verify=N / no_tty=N / no_sanity=N: false when absent; a value that is not an integer
    /// raises INVALID_ARG ("Failed to parse value of URI component no_verify"), as at libvirt's connect.
    [[nodiscard]] bool no_verify() const;
    [[nodiscard]] bool no_tty() const;
    [[nodiscard]] bool no_sanity() const;
    /// The parameters passed through to the daemon, in order.
    [[nodiscard]] std::vector<uri_param> passthrough_params() const;

    /// The connection checks libvirt makes when the remote driver opens the URI: integer flags
    /// parse, and ext has command=. Raises INVALID_ARG (remote domain) naming the problem.
    void check_remote_params() const;

    /// The name sent to the daemon in the open call, computed as libvirt 9's doRemoteOpen does:
    /// the name= parameter if given; "" for the "remote" driver (the daemon probes); otherwise
    /// driver:// + path + the passed-through parameters + fragment (transport, user, host and port
    /// dropped), e.g. test+tcp://h:16599/default -> test:///default. The default URI gives "".
    [[nodiscard]] std::string remote_name() const;
    /// The host to connect to: the URI's, else "localhost".
    [[nodiscard]] std::string remote_host() const { return host_.empty() ? std::string("localhost") : host_; }
    /// The port to connect to: the URI's, else the transport's default (none for unix, ssh, ext).
    [[nodiscard]] std::optional<std::uint16_t> remote_port() const noexcept;

    /// A canonical text that parses back to an equal uri: components re-encoded, parameters
    /// printed as name=value joined by '&', a legacy form printed as that form.
    [[nodiscard]] std::string str() const;

    friend bool operator==(const uri&, const uri&) = default;

private:
    friend class uri_parser;

    form form_ = form::default_uri;
    std::string scheme_;
    std::optional<transport_kind> transport_;
    std::string user_;
    std::string host_;
    std::uint16_t port_ = 0;
    std::string path_;
    std::vector<uri_param> params_;
    std::string fragment_;
    bool has_fragment_ = false;
};

}  // namespace virtpp
