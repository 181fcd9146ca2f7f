// The xend HTTP client's own rules, without a stand-in process: form encoding, (xend.err ...)
// messages, and a listener that never answers (the deadline) or answers garbage.
#include <virtpp/error.hpp>
#include <virtpp/xen/xend_client.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace virtpp {
namespace {

using namespace std::chrono_literals;

TEST(XendClient, FormEncoding) {
    EXPECT_EQ(xen::form_encode({{"op", "pause"}}), "op=pause");
    EXPECT_EQ(xen::form_encode({{"op", "save"}, {"file", "/var/lib/xen/save/a b&c=d"}}),
              "op=save&file=%2Fvar%2Flib%2Fxen%2Fsave%2Fa%20b%26c%3Dd");
    EXPECT_EQ(xen::form_encode({{"config", "(vm (name 'x'))"}}), "config=%28vm%20%28name%20%27x%27%29%29");
}

TEST(XendClient, ErrorMessages) {
    EXPECT_EQ(xen::xend_error_message("(xend.err 'Domain foo does not exist.')"), "Domain foo does not exist.");
    EXPECT_EQ(xen::xend_error_message("(xend.err \"Cannot destroy privileged domain\")\n"),
              "Cannot destroy privileged domain");
    EXPECT_EQ(xen::xend_error_message("  plain text\n"), "plain text");
}

/// A loopback listener that accepts and then either stays silent or sends `reply`.
struct listener {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    std::uint16_t port = 0;
    std::thread worker;
    explicit listener(std::string reply) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd, 4);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        worker = std::thread([this, reply] {
            int c = ::accept(fd, nullptr, nullptr);
            if (c < 0) return;
            char buf[4096];
            (void)::recv(c, buf, sizeof buf, 0);
            if (!reply.empty()) (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
            std::this_thread::sleep_for(1500ms);
            ::close(c);
        });
    }
    ~listener() {
        ::shutdown(fd, SHUT_RDWR);
        worker.join();
        ::close(fd);
    }
};

TEST(XendClient, SilentXendHitsTheDeadline) {
    listener l("");
    xen::xend_client client({.unix_path = {}, .host = "127.0.0.1", .port = l.port}, 300ms);
    auto t0 = std::chrono::steady_clock::now();
    try {
        (void)client.get_sexpr("/xend/node/");
        FAIL();
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::operation_timeout);
        EXPECT_NE(e.info().message.find("within 300 ms"), std::string::npos) << e.info().message;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1200ms);
}

TEST(XendClient, GarbageAndErrorStatuses) {
    {
        listener l("SSH-2.0-not-http\r\n\r\n");
        xen::xend_client client({.unix_path = {}, .host = "127.0.0.1", .port = l.port}, 1000ms);
        try {
            (void)client.get_sexpr("/xend/node/");
            FAIL();
        } catch (const error& e) {
            EXPECT_EQ(e.code(), error_code::operation_failed);
            EXPECT_NE(e.info().message.find("not HTTP"), std::string::npos) << e.info().message;
        }
    }
    {
        listener l("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 31\r\n\r\n(xend.err 'Domain is shut off')");
        xen::xend_client client({.unix_path = {}, .host = "127.0.0.1", .port = l.port}, 1000ms);
        try {
            (void)client.post_op("/xend/domain/g", {{"op", "pause"}});
            FAIL();
        } catch (const error& e) {
            EXPECT_EQ(e.code(), error_code::post_failed);
            EXPECT_NE(e.info().message.find("Domain is shut off"), std::string::npos) << e.info().message;
        }
    }
    {
        listener l("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        xen::xend_client client({.unix_path = {}, .host = "127.0.0.1", .port = l.port}, 1000ms);
        try {
            (void)client.get_sexpr("/xend/domain/nosuch?detail=1");
            FAIL();
        } catch (const error& e) {
            EXPECT_EQ(e.code(), error_code::no_domain);
            EXPECT_NE(e.info().message.find("'nosuch'"), std::string::npos) << e.info().message;
        }
    }
}

}  // namespace
}  // namespace virtpp
