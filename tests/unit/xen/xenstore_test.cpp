// XenStore: the in-test xenstored proven with Debian's own clients (xenstore-write, -read, -ls,
// -rm pointed at it with XENSTORED_PATH), our client proven against it (read, directory, write,
// mkdir, rm, watches, transactions and their conflicts, errors, deadlines), and the driver's
// xenstore part reading domains from it.
#include "unit/xen/xenstored_standin.hpp"

#include <virtpp/error.hpp>
#include <virtpp/hypervisor/xen.hpp>
#include <virtpp/xen/part_xenstore.hpp>
#include <virtpp/xen/xenstore_client.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace virtpp {
namespace {

using namespace std::chrono_literals;

struct XenStore : ::testing::Test {
    std::filesystem::path dir;
    std::unique_ptr<test::xenstored_standin> xsd;
    void SetUp() override {
        char tmpl[] = "/tmp/virtpp-xs.XXXXXX";
        dir = ::mkdtemp(tmpl);
        xsd = std::make_unique<test::xenstored_standin>((dir / "socket").string());
    }
    void TearDown() override {
        xsd.reset();
        std::filesystem::remove_all(dir);
    }
    /// Runs a shell command with XENSTORED_PATH set; returns (exit status, stdout).
    std::pair<int, std::string> sh(const std::string& command) {
        std::string full = "XENSTORED_PATH='" + xsd->path() + "' " + command + " 2>&1";
        FILE* p = ::popen(full.c_str(), "r");
        std::string out;
        char buf[512];
        while (auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
        int status = ::pclose(p);
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
    }
    static bool have(const char* tool) { return ::access((std::string("/usr/bin/") + tool).c_str(), X_OK) == 0; }
};

TEST_F(XenStore, DebianClientsAgreeWithTheStandIn) {
    if (!have("xenstore-write") || !have("xenstore-read") || !have("xenstore-ls")) GTEST_SKIP() << "no xenstore-utils";
    auto [rc, out] = sh("xenstore-write /local/domain/3/name guest3 /local/domain/3/memory/target 262144");
    ASSERT_EQ(rc, 0) << out;
    EXPECT_EQ(xsd->read("/local/domain/3/name"), "guest3");
    EXPECT_EQ(xsd->read("/local/domain/3/memory/target"), "262144");
    EXPECT_EQ(xsd->read("/local/domain/3/memory"), "");  // parents are created empty, as xenstored does

    xsd->write("/local/domain/3/console/tty", "/dev/pts/7");
    std::tie(rc, out) = sh("xenstore-read /local/domain/3/console/tty");
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(out, "/dev/pts/7\n");

    std::tie(rc, out) = sh("xenstore-ls /local/domain/3");
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("name = \"guest3\""), std::string::npos) << out;
    EXPECT_NE(out.find("tty = \"/dev/pts/7\""), std::string::npos) << out;
    EXPECT_NE(out.find("target = \"262144\""), std::string::npos) << out;

    std::tie(rc, out) = sh("xenstore-read /local/domain/99/name");
    EXPECT_NE(rc, 0) << "reading a missing node must fail: " << out;

    if (have("xenstore-rm")) {
        std::tie(rc, out) = sh("xenstore-rm /local/domain/3/console");
        EXPECT_EQ(rc, 0) << out;
        EXPECT_FALSE(xsd->read("/local/domain/3/console/tty"));
    }
    // xenstore-write runs in a transaction (XS_TRANSACTION_START ... XS_TRANSACTION_END)
    auto reqs = xsd->requests();
    EXPECT_NE(std::find(reqs.begin(), reqs.end(), static_cast<std::uint32_t>(xen::xs_type::transaction_start)), reqs.end());
}

TEST_F(XenStore, ClientReadsWhatDebianWrote) {
    if (!have("xenstore-write")) GTEST_SKIP() << "no xenstore-utils";
    ASSERT_EQ(sh("xenstore-write /vm/abc/name 'a b' /vm/abc/image/ostype hvm").first, 0);
    xen::xenstore_client xs(xsd->path());
    EXPECT_EQ(xs.read("/vm/abc/name"), "a b");
    EXPECT_EQ(xs.directory("/vm/abc"), (std::vector<std::string>{"image", "name"}));
    xs.write("/vm/abc/image/ostype", "linux");
    EXPECT_EQ(sh("xenstore-read /vm/abc/image/ostype").second, "linux\n");
}

TEST_F(XenStore, ClientOperationsAndErrors) {
    xen::xenstore_client xs(xsd->path());
    xs.write("/a/b/c", "1");
    xs.mkdir("/a/d");
    EXPECT_EQ(xs.directory("/a"), (std::vector<std::string>{"b", "d"}));
    EXPECT_EQ(xs.read("/a/b/c"), "1");
    EXPECT_EQ(xs.try_read("/a/nothing"), std::nullopt);
    try {
        (void)xs.read("/a/nothing");
        FAIL() << "reading a missing node must raise";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::operation_failed);
        EXPECT_EQ(e.domain(), error_domain::xenstore);
        EXPECT_NE(e.info().message.find("/a/nothing: ENOENT"), std::string::npos) << e.info().message;
    }
    xs.remove("/a/b");
    EXPECT_EQ(xs.try_read("/a/b/c"), std::nullopt);
    EXPECT_THROW((void)xs.read("/bad path with spaces"), error);
    EXPECT_THROW((void)xs.read("/a/b/../d"), error);
    // a request larger than XENSTORE_PAYLOAD_MAX is refused before it is sent
    EXPECT_THROW(xs.write("/big", std::string(5000, 'x')), error);
}

TEST_F(XenStore, Transactions) {
    xen::xenstore_client xs(xsd->path());
    xen::xenstore_client other(xsd->path());
    xs.write("/t/x", "0");
    auto tx = xs.transaction_start();
    xs.write("/t/x", "1", tx);
    EXPECT_EQ(other.read("/t/x"), "0") << "a transaction is private until it commits";
    EXPECT_EQ(xs.read("/t/x", tx), "1");
    EXPECT_TRUE(xs.transaction_end(tx, true));
    EXPECT_EQ(other.read("/t/x"), "1");

    tx = xs.transaction_start();
    xs.write("/t/x", "2", tx);
    other.write("/t/y", "meanwhile");
    EXPECT_FALSE(xs.transaction_end(tx, true)) << "a conflicting commit is refused with EAGAIN";
    EXPECT_EQ(xs.read("/t/x"), "1");

    tx = xs.transaction_start();
    xs.write("/t/x", "3", tx);
    EXPECT_TRUE(xs.transaction_end(tx, false));
    EXPECT_EQ(xs.read("/t/x"), "1") << "an aborted transaction changes nothing";
}

TEST_F(XenStore, Watches) {
    xen::xenstore_client xs(xsd->path());
    xs.watch("/local/domain/5", "tok");
    auto first = xs.next_watch_event(2s);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->path, "/local/domain/5");
    EXPECT_EQ(first->token, "tok");
    EXPECT_FALSE(xs.next_watch_event(100ms)) << "nothing changed";
    xsd->write("/local/domain/5/control/shutdown", "halt");
    auto ev = xs.next_watch_event(2s);
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->path, "/local/domain/5/control/shutdown");
    xsd->write("/local/domain/6/name", "elsewhere");
    EXPECT_FALSE(xs.next_watch_event(100ms)) << "changes outside the path do not fire";
    // the connection still serves requests after a wait that timed out; an event that arrives
    // during a request is kept for later
    xsd->write("/local/domain/5/name", "five");
    EXPECT_EQ(xs.read("/local/domain/5/name"), "five");
    auto queued = xs.next_watch_event(2s);
    ASSERT_TRUE(queued);
    EXPECT_EQ(queued->path, "/local/domain/5/name");
    xs.unwatch("/local/domain/5", "tok");
    xsd->write("/local/domain/5/name", "again");
    EXPECT_FALSE(xs.next_watch_event(100ms));
}

TEST(XenStoreClient, NoDaemonIsNoXenstore) {
    try {
        xen::xenstore_client xs("/nonexistent/xenstored/socket");
        FAIL();
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::no_xenstore);
        EXPECT_NE(e.info().message.find("/nonexistent/xenstored/socket"), std::string::npos);
    }
}

TEST(XenStoreClient, SilentOrLyingDaemonIsAnErrorNotAHang) {
    char tmpl[] = "/tmp/virtpp-xsbad.XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    std::string path = dir + "/socket";
    int lfd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(lfd, 4), 0);
    std::thread server([lfd] {
        // first client: never answers; second: announces a 1 GiB payload
        int a = ::accept(lfd, nullptr, nullptr);
        int b = ::accept(lfd, nullptr, nullptr);
        xen::xs_header h{};
        char buf[64];
        (void)::recv(b, buf, sizeof buf, 0);
        h.type = static_cast<std::uint32_t>(xen::xs_type::read);
        h.req_id = 1;
        h.len = 1U << 30;
        (void)::send(b, &h, sizeof h, MSG_NOSIGNAL);
        ::sleep(2);
        ::close(a);
        ::close(b);
    });
    {
        xen::xenstore_client silent(path, 300ms);
        auto t0 = std::chrono::steady_clock::now();
        EXPECT_THROW((void)silent.read("/x"), error);
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
        xen::xenstore_client liar(path, 1000ms);
        try {
            (void)liar.read("/x");
            FAIL();
        } catch (const error& e) {
            EXPECT_NE(e.info().message.find("payload"), std::string::npos) << e.info().message;
        }
    }
    server.join();
    ::close(lfd);
    std::filesystem::remove_all(dir);
}

TEST_F(XenStore, DriverPartReadsDomains) {
    xsd->write("/local/domain/0/name", "Domain-0");
    xsd->write("/local/domain/0/vm", "/vm/00000000-0000-0000-0000-000000000000");
    xsd->write("/local/domain/4/name", "guest4");
    xsd->write("/local/domain/4/vm", "/vm/596a5d21-71f4-8fb2-e068-e2386a5c413e");
    xsd->write("/vm/596a5d21-71f4-8fb2-e068-e2386a5c413e/image/ostype", "hvm");
    xsd->write("/local/domain/4/memory/target", "524288");
    xsd->write("/local/domain/4/console/tty", "/dev/pts/3");
    xsd->write("/local/domain/4/console/vnc-port", "5904");

    xen::context ctx;
    ctx.xenstored_path = ctx.xenstored_ro_path = xsd->path();
    auto part = xen::xenstore::open(ctx);
    EXPECT_EQ(part->perform(op::connect_list_domains{}, {}), (std::vector<int>{0, 4}));
    auto ref = part->perform(op::domain_lookup_by_id{}, {4});
    EXPECT_EQ(ref.name, "guest4");
    EXPECT_EQ(ref.uuid.str(), "596a5d21-71f4-8fb2-e068-e2386a5c413e");
    EXPECT_EQ(part->perform(op::domain_lookup_by_name{}, {"guest4"}).id, 4);
    EXPECT_EQ(part->perform(op::domain_get_max_memory{}, {ref}), 524288U);
    EXPECT_EQ(part->perform(op::domain_get_os_type{}, {ref}), "hvm");
    part->perform(op::domain_shutdown{}, {ref});
    EXPECT_EQ(xsd->read("/local/domain/4/control/shutdown"), "halt");
    part->perform(op::domain_reboot{}, {ref});
    EXPECT_EQ(xsd->read("/local/domain/4/control/shutdown"), "reboot");
    ASSERT_TRUE(ctx.runtime_of);
    auto rt = ctx.runtime_of(4);
    EXPECT_EQ(rt.console_tty, "/dev/pts/3");
    EXPECT_EQ(rt.vnc_port, 5904);
    // a domain that is not running is declined (the next part may know it), not an error
    EXPECT_THROW(part->perform(op::domain_shutdown{}, {domain_ref{"off", {}, -1}}), hypervisor::part_declined);
    EXPECT_THROW((void)part->perform(op::domain_lookup_by_id{}, {9}), error);
}

}  // namespace
}  // namespace virtpp
