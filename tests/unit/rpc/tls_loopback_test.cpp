// TLS client and server (src/rpc/tls.hpp) talking to each other over a socketpair, with
// certificates made for the test by certtool as the seed's instructions make them: a happy path,
// a server certificate from another CA, a host name that does not match, no_verify, and a server
// refusing a client without a certificate. Skips when certtool (gnutls-bin) is missing.
#include "rpc/tls.hpp"

#include <virtpp/error.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <thread>

namespace {

namespace fs = std::filesystem;
using namespace virtpp;
using namespace virtpp::rpc;

bool have_certtool() { return std::system("certtool --version >/dev/null 2>&1") == 0; }

void write_file(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

/// Runs certtool; true on success.
bool certtool(const std::string& args) { return std::system(("certtool " + args + " >/dev/null 2>&1").c_str()) == 0; }

/// A CA with a server certificate for "localhost" and a client certificate, in libvirt's layout
/// (cacert.pem, servercert.pem, private/serverkey.pem-like names flattened into one directory).
struct pki {
    fs::path dir;
    explicit pki(const std::string& name) {
        dir = fs::temp_directory_path() / ("virtpp-tls-" + name + "-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        write_file(dir / "ca.info", "cn = virtpp test CA " + name + "\nca\ncert_signing_key\nexpiration_days = 30\n");
        write_file(dir / "server.info", "organization = virtpp\ncn = localhost\ndns_name = localhost\ntls_www_server\n"
                                        "encryption_key\nsigning_key\nexpiration_days = 30\n");
        write_file(dir / "client.info", "country = GB\norganization = virtpp\ncn = client1\ntls_www_client\n"
                                        "encryption_key\nsigning_key\nexpiration_days = 30\n");
        auto d = dir.string();
        ok = certtool("--generate-privkey --outfile " + d + "/cakey.pem") &&
             certtool("--generate-self-signed --load-privkey " + d + "/cakey.pem --template " + d + "/ca.info --outfile " + d + "/cacert.pem") &&
             certtool("--generate-privkey --outfile " + d + "/serverkey.pem") &&
             certtool("--generate-certificate --load-privkey " + d + "/serverkey.pem --load-ca-certificate " + d +
                      "/cacert.pem --load-ca-privkey " + d + "/cakey.pem --template " + d + "/server.info --outfile " + d + "/servercert.pem") &&
             certtool("--generate-privkey --outfile " + d + "/clientkey.pem") &&
             certtool("--generate-certificate --load-privkey " + d + "/clientkey.pem --load-ca-certificate " + d +
                      "/cacert.pem --load-ca-privkey " + d + "/cakey.pem --template " + d + "/client.info --outfile " + d + "/clientcert.pem");
    }
    ~pki() { fs::remove_all(dir); }
    std::string file(const char* name) const { return (dir / name).string(); }
    bool ok = false;
};

class tls_loopback : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!have_certtool()) return;
        main_ = new pki("main");
        other_ = new pki("other");
    }
    static void TearDownTestSuite() {
        delete main_;
        delete other_;
        main_ = other_ = nullptr;
    }
    void SetUp() override {
        if (main_ == nullptr) GTEST_SKIP() << "certtool (gnutls-bin) is not installed";
        ASSERT_TRUE(main_->ok && other_->ok) << "certtool failed";
        set_error_handler([](const error_info&) {});
    }
    void TearDown() override { set_error_handler({}); }

    static tls::server_config server_config(const pki& p, bool verify_client = true) {
        return {p.file("cacert.pem"), "", p.file("servercert.pem"), p.file("serverkey.pem"), verify_client};
    }
    static tls::client_config client_config(const pki& ca, const pki* client_certs) {
        tls::client_config c{ca.file("cacert.pem"), ca.file("cacrl.pem"), "", ""};
        if (client_certs != nullptr) {
            c.cert_file = client_certs->file("clientcert.pem");
            c.key_file = client_certs->file("clientkey.pem");
        }
        return c;
    }

    struct outcome {
        std::optional<error_info> client_error;
        std::optional<error_info> server_error;
        std::string echoed;
        std::string client_dn_seen_by_server;
    };

    /// Runs a client and a server over a socketpair; the client sends "hello", the server echoes.
    static outcome run(const tls::server_config& sc, const tls::client_config& cc, const std::string& host, bool verify) {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        outcome out;
        std::thread server([&] {
            try {
                tls::stream s(sv[1], tls::engine::server(tls::load_server_credentials(sc)));
                s.server_handshake();
                out.client_dn_seen_by_server = s.tls().peer_dn();
                std::vector<std::uint8_t> got;
                while (got.size() < 5 && s.read(got)) {
                }
                s.write_all(got.data(), got.size());
                s.shutdown();
            } catch (const virtpp::error& e) {
                out.server_error = e.info();
            }
        });
        bool handed_over = false;
        try {
            auto engine = tls::engine::client(tls::load_client_credentials(cc), host, 16514, verify);
            tls::stream c(sv[0], std::move(engine));
            handed_over = true;
            c.client_handshake();
            std::string hello = "hello";
            c.write_all(reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size());
            std::vector<std::uint8_t> got;
            while (got.size() < 5 && c.read(got)) {
            }
            out.echoed.assign(got.begin(), got.end());
        } catch (const virtpp::error& e) {
            out.client_error = e.info();
        }
        if (!handed_over) ::close(sv[0]);  // the server sees the client go away
        server.join();
        return out;
    }

    static inline pki* main_ = nullptr;
    static inline pki* other_ = nullptr;
};

TEST_F(tls_loopback, happy_path_with_client_certificate) {
    auto r = run(server_config(*main_), client_config(*main_, main_), "localhost", true);
    ASSERT_FALSE(r.client_error) << r.client_error->message << " / " << r.client_error->str3.value_or("");
    ASSERT_FALSE(r.server_error) << r.server_error->message << " / " << r.server_error->str3.value_or("");
    EXPECT_EQ(r.echoed, "hello");
    EXPECT_EQ(r.client_dn_seen_by_server, "C=GB,O=virtpp,CN=client1");
}

TEST_F(tls_loopback, server_from_another_ca_is_refused) {
    auto r = run(server_config(*other_, false), client_config(*main_, main_), "localhost", true);
    ASSERT_TRUE(r.client_error);
    EXPECT_EQ(r.client_error->code, error_code::auth_failed);
    EXPECT_EQ(r.client_error->domain, error_domain::rpc);
    EXPECT_EQ(r.client_error->message, "authentication failed: Failed to verify peer's certificate");
    EXPECT_EQ(r.client_error->str3, "Certificate failed validation: The certificate hasn't got a known issuer.");
}

TEST_F(tls_loopback, wrong_host_name_is_refused_unless_no_verify) {
    auto r = run(server_config(*main_), client_config(*main_, main_), "other.example", true);
    ASSERT_TRUE(r.client_error);
    EXPECT_EQ(r.client_error->code, error_code::auth_failed);
    EXPECT_EQ(r.client_error->str3, "Certificate [session] owner does not match the hostname other.example");

    auto lax = run(server_config(*main_), client_config(*main_, main_), "other.example", false);
    ASSERT_FALSE(lax.client_error) << lax.client_error->message;
    EXPECT_EQ(lax.echoed, "hello");
}

TEST_F(tls_loopback, client_without_certificate_gets_no_confirmation) {
    auto r = run(server_config(*main_), client_config(*main_, nullptr), "localhost", true);
    ASSERT_TRUE(r.server_error);
    EXPECT_EQ(r.server_error->code, error_code::auth_failed);
    EXPECT_EQ(r.server_error->str3, "Unable to verify TLS peer: No certificate was found.");
    // the server closes without a byte and without close_notify: libvirt's client reads EIO
    ASSERT_TRUE(r.client_error);
    EXPECT_EQ(r.client_error->code, error_code::system_error);
    EXPECT_EQ(r.client_error->domain, error_domain::rpc);
    EXPECT_EQ(r.client_error->message, "Unable to read TLS confirmation: Input/output error");

    // a server that does not verify clients accepts it
    auto open = run(server_config(*main_, false), client_config(*main_, nullptr), "localhost", true);
    ASSERT_FALSE(open.client_error) << open.client_error->message;
    EXPECT_EQ(open.echoed, "hello");
}

TEST_F(tls_loopback, client_certificate_from_another_ca_is_refused_by_the_server) {
    auto cc = client_config(*main_, other_);
    cc.sanity_check = false;  // no_sanity=1: offer it anyway
    auto r = run(server_config(*main_), cc, "localhost", true);
    ASSERT_TRUE(r.server_error);
    EXPECT_EQ(r.server_error->str3, "Certificate failed validation: The certificate hasn't got a known issuer.");
    ASSERT_TRUE(r.client_error);
    EXPECT_EQ(r.client_error->message, "Unable to read TLS confirmation: Input/output error");
}

TEST_F(tls_loopback, own_certificate_from_another_ca_fails_the_sanity_check) {
    // libvirt checks its own certificate against its own CA before connecting
    try {
        (void)tls::load_client_credentials(client_config(*main_, other_));
        FAIL() << "loaded";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::system_error);
        EXPECT_EQ(e.domain(), error_domain::rpc);
        EXPECT_EQ(e.info().message, "Our own certificate " + other_->file("clientcert.pem") + " failed validation against " +
                                        main_->file("cacert.pem") + ": The certificate hasn't got a known issuer.");
    }
    // a CA certificate offered as our own: its basic constraints show a CA
    try {
        (void)tls::load_client_credentials({main_->file("cacert.pem"), "", main_->file("cacert.pem"), main_->file("cakey.pem")});
        FAIL() << "loaded";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.info().message, "The certificate " + main_->file("cacert.pem") +
                                        " basic constraints show a CA, but we need one for a client");
    }
}

/// A server that completes the handshake, then ends the session with close_notify or sends `byte`.
void scripted_server(int fd, std::shared_ptr<const tls::credentials> creds, std::optional<std::uint8_t> byte) {
    auto e = tls::engine::server(std::move(creds));
    std::uint8_t buf[16384];
    auto flush = [&] {
        auto out = e->take_outgoing();
        if (!out.empty()) (void)!::write(fd, out.data(), out.size());
    };
    while (!e->established()) {
        auto n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        e->received(buf, static_cast<std::size_t>(n));
        flush();
    }
    if (byte) e->send(&*byte, 1);
    else e->close();
    flush();
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
}

TEST_F(tls_loopback, close_notify_or_a_wrong_byte_is_a_verification_failure) {
    auto creds = tls::load_server_credentials(server_config(*main_, false));
    for (std::optional<std::uint8_t> byte : {std::optional<std::uint8_t>(), std::optional<std::uint8_t>(2)}) {
        int sv[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        std::thread server(scripted_server, sv[1], creds, byte);
        try {
            tls::stream c(sv[0], tls::engine::client(tls::load_client_credentials(client_config(*main_, main_)), "localhost", 16514, true));
            c.client_handshake();
            ADD_FAILURE() << "accepted";
        } catch (const virtpp::error& e) {
            EXPECT_EQ(e.code(), error_code::rpc);
            EXPECT_EQ(e.info().message, "server verification (of our certificate or IP address) failed");
        }
        server.join();
    }
}

TEST_F(tls_loopback, server_closing_during_the_handshake_is_libvirts_handshake_failure) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ::shutdown(sv[1], SHUT_WR);  // an end of stream, as a daemon refusing the address sends
    try {
        tls::stream c(sv[0], tls::engine::client(tls::load_client_credentials(client_config(*main_, main_)), "localhost", 16514, true));
        c.client_handshake();
        ADD_FAILURE() << "accepted";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::auth_failed);
        EXPECT_EQ(e.info().message, "authentication failed: TLS handshake failed The TLS connection was non-properly terminated.");
    }
    ::close(sv[1]);
}

TEST_F(tls_loopback, missing_files_use_libvirts_messages) {
    try {
        (void)tls::load_client_credentials({"/nonexistent/cacert.pem", "", "", ""});
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::system_error);
        EXPECT_EQ(e.info().message, "Cannot read CA certificate '/nonexistent/cacert.pem': No such file or directory");
    }
    // a client's own certificate is optional; a server's is not
    EXPECT_NO_THROW((void)tls::load_client_credentials({main_->file("cacert.pem"), "", "/nonexistent/c.pem", "/nonexistent/k.pem"}));
    try {
        (void)tls::load_server_credentials({main_->file("cacert.pem"), "", "/nonexistent/c.pem", "/nonexistent/k.pem", true});
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.info().message, "Cannot read certificate '/nonexistent/c.pem': No such file or directory");
    }
}

}  // namespace
