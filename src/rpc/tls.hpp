// TLS for libvirt's tls transport, client and server side (Botan 2 underneath; no Botan type
// appears here). Two layers:
//
//  * engine: a TLS connection without I/O. Feed it what the peer sent (received), give it what to
//    encrypt (send), and take what to put on the wire (take_outgoing) and what was decrypted
//    (take_plaintext). It suits any event loop, e.g. an Asio socket's async reads.
//  * stream: an engine driving a connected socket descriptor with blocking I/O, safe for one
//    reader thread and writers on other threads; plus libvirt's handshake conventions:
//    after the TLS handshake the server checks the client and sends one byte 0x01 (inside TLS)
//    when it accepts it, or closes the connection; the client reads and checks that byte.
//
// Certificates are PEM files laid out as libvirt's: CA certificate, optional CRL, the peer's own
// certificate and private key (PKCS#8, or PKCS#1 "RSA PRIVATE KEY" as certtool writes it).
//
//   server (virtppd):
//     auto creds = tls::load_server_credentials({.ca_file = ..., .cert_file = ..., .key_file = ...});
//     tls::stream s(accepted_fd, tls::engine::server(creds));   // s owns the descriptor
//     s.server_handshake();         // raises when the client is refused; nothing was confirmed
//     s.read(buffer); s.write_all(p, n); ...
//   client: tls_stream<NextLayer> (src/rpc/client_layers.hpp) drives an engine::client on the
//   session's Asio socket after tls::client_handshake; stream::client_handshake is the same
//   handshake over a blocking socket (tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace virtpp::rpc::tls {

/// Where the client's files are (libvirt's names inside a pki directory).
struct client_config {
    std::string ca_file;    ///< required
    std::string crl_file;   ///< optional; a missing file is skipped
    std::string cert_file;  ///< optional together with key_file: missing files mean no client certificate
    std::string key_file;
    /// libvirt's sanity check of our own files before use (URI no_sanity=1 turns it off): the
    /// certificate's dates, CA flag, key usage and purpose, and that our CA signed it ("Our own
    /// certificate <file> failed validation against <ca>: <reason>", SYSTEM_ERROR).
    bool sanity_check = true;
};

/// The server's files (libvirtd.conf: ca_file, crl_file, cert_file, key_file) and whether clients
/// must present a certificate the CA signed (tls_no_verify_certificate = 0).
struct server_config {
    std::string ca_file;
    std::string crl_file;
    std::string cert_file;
    std::string key_file;
    bool verify_client = true;
    /// libvirtd's check of its own certificate and CA before it listens (dates, basic
    /// constraints, key usage and purpose, signed by the CA); tls_no_sanity_certificate = 1 skips it.
    bool sanity_check = true;
};

/// Loaded certificates, keys and trust store; immutable, shared by the sessions made from it.
class credentials;

/// Loads a client's files; raises SYSTEM_ERROR (RPC domain) with libvirt's messages
/// ("Cannot read CA certificate '<path>': No such file or directory", "Unable to set x509 ...").
[[nodiscard]] std::shared_ptr<const credentials> load_client_credentials(const client_config& config);
/// Loads a server's files; every file but the CRL must exist.
[[nodiscard]] std::shared_ptr<const credentials> load_server_credentials(const server_config& config);

/// The subject Distinguished Name of the (first) certificate in a PEM file, written exactly as
/// GnuTLS's gnutls_x509_crt_get_dn and virt-pki-query-dn write it, the text tls_allowed_dn_list
/// patterns match: "C=GB,ST=London,L=London,O=Red Hat\, Inc.,CN=client2" (RDNs in the
/// certificate's order, "+" inside a multi-valued RDN, "#hex" for values GnuTLS cannot decode).
[[nodiscard]] std::string certificate_subject_dn(const std::string& pem_file);

class engine {
public:
    /// A client session for `hostname` (checked against the server certificate when `verify`).
    [[nodiscard]] static std::unique_ptr<engine> client(std::shared_ptr<const credentials> creds,
                                                        std::string hostname, std::uint16_t port, bool verify);
    /// A server session. It always asks for a client certificate and checks it (verify_failure);
    /// the credentials' verify_client says whether a failure refuses the client.
    [[nodiscard]] static std::unique_ptr<engine> server(std::shared_ptr<const credentials> creds);

    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    /// Bytes from the peer. A fatal TLS error raises AUTH_FAILED "TLS handshake failed ..." during
    /// the handshake, else SYSTEM_ERROR.
    void received(const std::uint8_t* data, std::size_t size);
    /// Application data to encrypt (only once established()).
    void send(const std::uint8_t* data, std::size_t size);
    /// Sends close_notify.
    void close();

    /// Encrypted bytes to write to the peer, in order.
    [[nodiscard]] std::vector<std::uint8_t> take_outgoing();
    /// Appends decrypted application data to `into`.
    void take_plaintext(std::vector<std::uint8_t>& into);

    [[nodiscard]] bool established() const noexcept;
    /// The peer closed (close_notify or a fatal alert).
    [[nodiscard]] bool closed() const noexcept;
    /// The peer ended the session with close_notify (not a bare end of stream or a fatal alert).
    [[nodiscard]] bool closed_cleanly() const noexcept;
    /// The peer sent a fatal alert.
    [[nodiscard]] bool fatal_alert_received() const noexcept;
    [[nodiscard]] bool is_server() const noexcept;
    /// A server whose failed client check refuses the client (verify_client).
    [[nodiscard]] bool peer_certificate_required() const noexcept;
    /// Why the peer's certificate failed the checks, in libvirt's words ("Certificate failed
    /// validation: The certificate hasn't got a known issuer.", on a server without a client
    /// certificate "Unable to verify TLS peer: No certificate was found."); empty when it passed
    /// or was not checked (client with no_verify).
    [[nodiscard]] const std::string& verify_failure() const noexcept;
    /// The peer certificate's subject DN as GnuTLS writes it (certificate_subject_dn), empty
    /// without a certificate.
    [[nodiscard]] const std::string& peer_dn() const noexcept;

    struct impl;

private:
    explicit engine(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

/// A blocking byte pipe for client_handshake (a socket, or an Asio stream's next layer).
class blocking_io {
public:
    virtual ~blocking_io() = default;
    /// Bytes read (> 0), 0 at the end of the stream, -1 on a failure.
    virtual std::ptrdiff_t recv(std::uint8_t* buf, std::size_t size) = 0;
    /// Writes everything; false on a failure.
    virtual bool send(const std::uint8_t* data, std::size_t size) = 0;
    /// Ends both directions.
    virtual void shutdown() noexcept = 0;
};

/// The client's side of libvirt's TLS setup over `io`, with libvirt's errors: TLS handshake
/// (AUTH_FAILED "TLS handshake failed <GnuTLS reason>", e.g. "The TLS connection was
/// non-properly terminated." when the server closes), the certificate check (AUTH_FAILED "Failed
/// to verify peer's certificate", the reason kept in str3), then the server's confirmation byte:
/// the connection closed without it is SYSTEM_ERROR "Unable to read TLS confirmation:
/// Input/output error", a close_notify or a wrong byte RPC "server verification (of our
/// certificate or IP address) failed".
void client_handshake(engine& e, blocking_io& io);

/// An engine over a connected stream socket. Owns the descriptor.
class stream {
public:
    stream(int fd, std::unique_ptr<engine> e);
    ~stream();
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;

    /// Client side: tls::client_handshake over this socket.
    void client_handshake();
    /// Server side: TLS handshake, the client certificate check when required, then the
    /// confirmation byte. A refused client gets no byte; the call raises AUTH_FAILED.
    void server_handshake();

    /// Appends decrypted data; false at end of stream (close_notify or EOF).
    bool read(std::vector<std::uint8_t>& into);
    void write_all(const std::uint8_t* data, std::size_t size);
    /// close_notify (best effort), then shuts the socket down both ways.
    void shutdown() noexcept;

    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] const engine& tls() const noexcept { return *engine_; }

private:
    enum class pump_status : std::uint8_t { data, end, recv_failed, send_failed };
    /// One recv fed to the engine; I/O failures are returned (errno in err), TLS errors raise.
    pump_status pump_raw(std::vector<std::uint8_t>& plaintext, int& err);
    /// pump_raw raising I/O failures; false at end of stream.
    bool pump_once(std::vector<std::uint8_t>& plaintext);
    void flush_locked();
    struct locks;
    int fd_;
    std::unique_ptr<engine> engine_;
    std::unique_ptr<locks> locks_;
    bool eof_ = false;
};

}  // namespace virtpp::rpc::tls
