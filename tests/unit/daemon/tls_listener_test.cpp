// virtppd's TLS listener (src/daemon/server.cpp) on loopback, with TLS clients from src/rpc/tls.hpp
// and certificates made by certtool: refused clients (no certificate, DN not listed, address not
// listed) must get libvirt's errors and must not bring the daemon down — a refusal used to close
// the connection while the end of the handshake was still being written, and the write's
// completion then freed a buffer twice. Skips when certtool (gnutls-bin) is missing.
#include "rpc/tls.hpp"

#include <virtpp/error.hpp>
#include <virtpp/rpc/server.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
using namespace virtpp;
using namespace virtpp::rpc;

bool certtool(const std::string& args) { return std::system(("certtool " + args + " >/dev/null 2>&1").c_str()) == 0; }

/// A CA, a server certificate for localhost and two client certificates.
struct listener_pki {
    fs::path dir = fs::temp_directory_path() / ("virtpp-tls-listener-" + std::to_string(::getpid()));
    bool ok = false;
    listener_pki() {
        fs::remove_all(dir);
        fs::create_directories(dir);
        auto d = dir.string();
        auto info = [&](const char* name, const std::string& text) { std::ofstream(dir / name) << text; };
        info("ca.info", "cn = listener test CA\nca\ncert_signing_key\nexpiration_days = 30\n");
        info("server.info", "organization = virtpp\ncn = localhost\ndns_name = localhost\ntls_www_server\n"
                            "encryption_key\nsigning_key\nexpiration_days = 30\n");
        info("client1.info", "country = GB\norganization = virtpp\ncn = client1\ntls_www_client\n"
                             "encryption_key\nsigning_key\nexpiration_days = 30\n");
        info("client2.info", "country = GB\nstate = London\norganization = Red Hat, Inc.\ncn = client2\ntls_www_client\n"
                             "encryption_key\nsigning_key\nexpiration_days = 30\n");
        ok = certtool("--generate-privkey --outfile " + d + "/cakey.pem") &&
             certtool("--generate-self-signed --load-privkey " + d + "/cakey.pem --template " + d + "/ca.info --outfile " + d + "/cacert.pem");
        for (const char* who : {"server", "client1", "client2"}) {
            std::string p = d + "/" + who;
            ok = ok && certtool("--generate-privkey --outfile " + p + "key.pem") &&
                 certtool("--generate-certificate --load-privkey " + p + "key.pem --load-ca-certificate " + d +
                          "/cacert.pem --load-ca-privkey " + d + "/cakey.pem --template " + p + ".info --outfile " + p + "cert.pem");
        }
    }
    ~listener_pki() { fs::remove_all(dir); }
    std::string file(const std::string& name) const { return (dir / name).string(); }
};

class tls_listener : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (std::system("certtool --version >/dev/null 2>&1") == 0) pki_ = new listener_pki;
    }
    static void TearDownTestSuite() {
        delete pki_;
        pki_ = nullptr;
    }
    void SetUp() override {
        if (pki_ == nullptr) GTEST_SKIP() << "certtool (gnutls-bin) is not installed";
        ASSERT_TRUE(pki_->ok) << "certtool failed";
        set_error_handler([](const error_info&) {});
        log_path_ = pki_->file("daemon-" + std::to_string(++runs_) + ".log");
    }
    void TearDown() override {
        if (server_) {
            server_->stop();
            thread_.join();
            server_.reset();
        }
        log_.reset();
        set_error_handler({});
    }

    /// Starts a daemon with only a TLS listener on a free loopback port.
    void start(daemon::daemon_config config) {
        config.listen_tls = true;
        config.listen_tcp = false;
        config.tls_port = "0";
        config.listen_addr = "127.0.0.1";
        config.ca_file = pki_->file("cacert.pem");
        config.cert_file = pki_->file("servercert.pem");
        config.key_file = pki_->file("serverkey.pem");
        log_ = std::make_unique<daemon::logger>(1, log_path_);
        daemon::server_options o;
        o.config = std::move(config);
        o.listen = true;
        o.unix_sockets = false;
        o.log = log_.get();
        server_ = std::make_unique<daemon::server>(std::move(o));
        for (const auto& e : server_->endpoints())
            if (e.rfind("tls:127.0.0.1:", 0) == 0) port_ = static_cast<std::uint16_t>(std::stoi(e.substr(14)));
        ASSERT_NE(port_, 0);
        thread_ = std::thread([this] { server_->run(); });
    }

    /// Connects, runs libvirt's client handshake and drops the connection; the error, if any.
    std::optional<error_info> connect(const char* client) const {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port_);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd);
            return make_error_info(error_code::system_error, error_domain::rpc, "connect failed");
        }
        tls::client_config cc{pki_->file("cacert.pem"), "", "", ""};
        if (client != nullptr) {
            cc.cert_file = pki_->file(std::string(client) + "cert.pem");
            cc.key_file = pki_->file(std::string(client) + "key.pem");
        }
        try {
            tls::stream s(fd, tls::engine::client(tls::load_client_credentials(cc), "localhost", port_, true));
            s.client_handshake();
        } catch (const virtpp::error& e) {
            return e.info();
        }
        return std::nullopt;
    }

    std::string log_text() const {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the I/O thread logs after the client is done
        std::ifstream in(log_path_);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    static inline listener_pki* pki_ = nullptr;
    static inline int runs_ = 0;
    std::string log_path_;
    std::unique_ptr<daemon::logger> log_;
    std::unique_ptr<daemon::server> server_;
    std::thread thread_;
    std::uint16_t port_ = 0;
};

const char* const confirmation_lost = "Unable to read TLS confirmation: Input/output error";

TEST_F(tls_listener, refused_clients_get_no_confirmation_and_the_daemon_survives) {
    daemon::daemon_config c;
    c.tls_allowed_dn_list = std::vector<std::string>{"C=GB,O=virtpp,CN=someone-else"};
    start(std::move(c));
    // each refusal closes the connection right after the last handshake flight was queued
    for (int i = 0; i < 20; ++i) {
        auto e = connect("client1");
        ASSERT_TRUE(e) << "client1 was admitted";
        EXPECT_EQ(e->code, error_code::system_error);
        EXPECT_EQ(e->domain, error_domain::rpc);
        EXPECT_EQ(e->message, confirmation_lost);
    }
    for (int i = 0; i < 50 && server_->client_count() != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(server_->client_count(), 0U);
    EXPECT_NE(log_text().find("closed: refused: Distinguished Name 'C=GB,O=virtpp,CN=client1' is not on the list of allowed "
                              "clients (tls_allowed_dn_list)"),
              std::string::npos)
        << log_text();
}

TEST_F(tls_listener, client_without_certificate_is_refused_unless_tls_no_verify_certificate) {
    start({});
    auto e = connect(nullptr);
    ASSERT_TRUE(e) << "a client without a certificate was admitted";
    EXPECT_EQ(e->code, error_code::system_error);
    EXPECT_EQ(e->message, confirmation_lost);
    EXPECT_NE(log_text().find("closed: refused: certificate check failed: Unable to verify TLS peer: No certificate was found."),
              std::string::npos)
        << log_text();
    EXPECT_FALSE(connect("client1")) << "a client with a certificate was refused";
}

TEST_F(tls_listener, tls_no_verify_certificate_admits_a_client_without_certificate) {
    daemon::daemon_config c;
    c.tls_no_verify_certificate = true;
    start(std::move(c));
    auto e = connect(nullptr);
    EXPECT_FALSE(e) << e->message;
    EXPECT_NE(log_text().find("certificate check failed, allowed by tls_no_verify_certificate: Unable to verify TLS peer: "
                              "No certificate was found."),
              std::string::npos)
        << log_text();
}

TEST_F(tls_listener, dn_list_matches_the_gnutls_form_of_the_dn) {
    daemon::daemon_config c;
    // as virt-pki-query-dn prints them: certificate order, short names, "\," inside a value
    c.tls_allowed_dn_list = std::vector<std::string>{"C=GB,O=virtpp,CN=client1", "C=GB,ST=London,O=Red Hat\\, Inc.,CN=*"};
    start(std::move(c));
    auto one = connect("client1");
    EXPECT_FALSE(one) << one->message;
    auto two = connect("client2");
    EXPECT_FALSE(two) << two->message;
}

TEST_F(tls_listener, address_not_listed_sees_the_handshake_end_cleanly) {
    daemon::daemon_config c;
    c.tls_allowed_ip_list = std::vector<std::string>{"10.*"};
    start(std::move(c));
    // the daemon ends with a FIN after reading the ClientHello, never a reset, whatever the timing
    for (int i = 0; i < 5; ++i) {
        auto e = connect("client1");
        ASSERT_TRUE(e);
        EXPECT_EQ(e->code, error_code::auth_failed);
        EXPECT_EQ(e->message, "authentication failed: TLS handshake failed The TLS connection was non-properly terminated.");
    }
    EXPECT_NE(log_text().find("address not in tls_allowed_ip_list"), std::string::npos) << log_text();
}

TEST(tls_allowed_lists, match_as_glib_simple_patterns) {
    // libvirtd 9.0 uses g_pattern_match_simple: "*" and "?" only, a backslash is a backslash
    EXPECT_TRUE(daemon::wildcard_match("C=GB,O=Red Hat\\, Inc.,CN=*", "C=GB,O=Red Hat\\, Inc.,CN=client2"));
    EXPECT_FALSE(daemon::wildcard_match("C=GB,O=Red Hat\\, Inc.,CN=*", "C=GB,O=Red Hat, Inc.,CN=client2"));
    EXPECT_TRUE(daemon::wildcard_match("*,CN=client?", "C=GB,CN=client2"));
    EXPECT_FALSE(daemon::wildcard_match("*,CN=client?", "C=GB,CN=client22"));
    EXPECT_TRUE(daemon::wildcard_match("CN=Zo?", "CN=Zo\xc3\xab"));  // "?" is one UTF-8 character
    EXPECT_FALSE(daemon::wildcard_match("[a]", "a"));                 // no bracket classes
    EXPECT_TRUE(daemon::wildcard_match("[a]", "[a]"));
    EXPECT_TRUE(daemon::wildcard_match("127.0.0.*", "127.0.0.1"));
    EXPECT_TRUE(daemon::wildcard_match("*", ""));
    EXPECT_FALSE(daemon::wildcard_match("", "x"));
    EXPECT_TRUE(daemon::wildcard_match("a*b*c", "aXbYbZc"));
    EXPECT_FALSE(daemon::wildcard_match("a*b*c", "aXbYbZ"));
}

}  // namespace
