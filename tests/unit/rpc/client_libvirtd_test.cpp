// virtpp's remote client against a real libvirtd serving test:///default. Run by
// tests/scripts/remote_client_libvirtd.sh, which starts the daemon and sets:
//   VIRTPP_TEST_REMOTE_URI       a read-write URI (tcp, unix, tls, ext or ssh: the script runs the
//                                suite once per transport)
//   VIRTPP_TEST_REMOTE_RO_URI    the read-only socket
//   VIRTPP_TEST_REMOTE_TLS_WRONG_CA_URI / _WRONG_HOST_URI / _NO_VERIFY_URI   TLS refusals
//   VIRTPP_TEST_REMOTE_KILL_PID  the daemon's pid, for the daemon-dies test (run last)
// Without them every case skips.
#include <virtpp/connection.hpp>
#include <virtpp/hypervisor/remote.hpp>
#include <virtpp/transport/remote.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace {

using namespace virtpp;
using namespace std::chrono_literals;
using remote_connection = basic_connection<hypervisor::remote, transport::remote>;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
}

class remote_libvirtd : public ::testing::Test {
protected:
    void SetUp() override {
        uri_ = env("VIRTPP_TEST_REMOTE_URI");
        if (uri_.empty()) GTEST_SKIP() << "VIRTPP_TEST_REMOTE_URI is not set (tests/scripts/remote_client_libvirtd.sh sets it)";
        set_error_handler([](const error_info&) {});
    }
    void TearDown() override { set_error_handler({}); }
    std::string uri_;
};

const char* const new_domain_xml = R"(<domain type='test'>
  <name>virtpp-remote-dom</name>
  <memory unit='KiB'>524288</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
  </os>
</domain>
)";

const char* const new_network_xml = R"(<network>
  <name>virtpp-remote-net</name>
  <forward mode='nat'/>
  <bridge name='virbr78'/>
  <ip address='192.168.178.1' netmask='255.255.255.0'/>
</network>
)";

TEST_F(remote_libvirtd, host_and_listing) {
    auto conn = remote_connection::open(uri_);
    EXPECT_EQ(conn.type(), "TEST");
    EXPECT_EQ(conn.version(), 2u);
    EXPECT_FALSE(conn.hostname().empty());
    auto node = conn.node_info();
    EXPECT_EQ(node.model, "i686");
    EXPECT_EQ(node.cpus, 16u);
    EXPECT_EQ(node.memory_kib, 3145728u);
    EXPECT_NE(conn.capabilities().find("<capabilities>"), std::string::npos);
    EXPECT_EQ(conn.num_of_domains(), 1);
    EXPECT_EQ(conn.list_domains(), std::vector<int>{1});
    auto all = conn.list_all_domains(3);
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.front().name(), "test");
}

TEST_F(remote_libvirtd, lookup_info_and_xml) {
    auto conn = remote_connection::open(uri_);
    auto dom = conn.lookup_domain_by_name("test");
    EXPECT_EQ(dom.id(), 1);
    EXPECT_EQ(dom.uuid_string(), "6695eb01-f6a4-8304-79aa-97f2502e193f");
    EXPECT_EQ(conn.lookup_domain_by_id(1).name(), "test");
    EXPECT_EQ(conn.lookup_domain_by_uuid_string("6695eb01-f6a4-8304-79aa-97f2502e193f").name(), "test");
    auto info = dom.info();
    EXPECT_EQ(info.state, domain_state::running);
    EXPECT_EQ(info.max_memory_kib, 8388608u);
    EXPECT_EQ(info.vcpus, 2u);
    EXPECT_EQ(dom.os_type(), "linux");
    EXPECT_TRUE(dom.is_persistent());
    EXPECT_EQ(dom.state().state, domain_state::running);
    auto xml = dom.xml_desc();
    EXPECT_NE(xml.find("<name>test</name>"), std::string::npos);
    EXPECT_NE(xml.find("<source file='/guest/diskimage1'/>"), std::string::npos);
}

TEST_F(remote_libvirtd, unknown_domain_is_libvirts_error) {
    auto conn = remote_connection::open(uri_);
    try {
        (void)conn.lookup_domain_by_name("nosuchdom");
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::no_domain);
        EXPECT_EQ(e.domain(), error_domain::test);
        EXPECT_EQ(e.info().message.rfind("Domain not found", 0), 0u) << e.info().message;
    }
    // the connection's last error is the server's
    ASSERT_TRUE(conn.errors().last_error());
    EXPECT_EQ(conn.errors().last_error()->code, error_code::no_domain);
}

TEST_F(remote_libvirtd, domain_lifecycle_save_and_restore) {
    auto conn = remote_connection::open(uri_);
    auto dom = conn.define_domain_xml(new_domain_xml);
    EXPECT_FALSE(dom.is_active());
    dom.create();
    EXPECT_TRUE(dom.is_active());
    EXPECT_GT(dom.id(), 0);
    dom.suspend();
    EXPECT_EQ(dom.info().state, domain_state::paused);
    dom.resume();
    EXPECT_EQ(dom.info().state, domain_state::running);
    auto path = (std::filesystem::temp_directory_path() / ("virtpp-remote-save-" + std::to_string(::getpid()))).string();
    dom.save(path);
    EXPECT_FALSE(conn.lookup_domain_by_name("virtpp-remote-dom").is_active());
    conn.restore_domain(path);
    std::filesystem::remove(path);
    auto restored = conn.lookup_domain_by_name("virtpp-remote-dom");
    EXPECT_TRUE(restored.is_active());
    restored.destroy();
    EXPECT_FALSE(restored.is_active());
    restored.undefine();
    EXPECT_THROW((void)conn.lookup_domain_by_name("virtpp-remote-dom"), virtpp::error);
}

TEST_F(remote_libvirtd, networks) {
    auto conn = remote_connection::open(uri_);
    auto def = conn.lookup_network_by_name("default");
    EXPECT_EQ(def.uuid_string(), "dd8fe884-6c02-601e-7551-cca97df1c5df");
    EXPECT_EQ(def.bridge_name(), "virbr0");
    EXPECT_TRUE(def.is_active());
    EXPECT_NE(def.xml_desc().find("<name>default</name>"), std::string::npos);
    auto names = conn.list_networks();
    EXPECT_NE(std::find(names.begin(), names.end(), "default"), names.end());
    auto net = conn.define_network_xml(new_network_xml);
    EXPECT_FALSE(net.is_active());
    net.create();
    EXPECT_TRUE(net.is_active());
    net.destroy();
    net.undefine();
    try {
        (void)conn.lookup_network_by_name("virtpp-remote-net");
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::no_network);
    }
}

TEST_F(remote_libvirtd, many_threads_share_one_connection) {
    auto conn = remote_connection::open(uri_);
    std::atomic<int> good{0};
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 40; ++i) {
                try {
                    if ((t + i) % 3 == 0) {
                        if (conn.lookup_domain_by_name("test").id() == 1) ++good; else ++bad;
                    } else if ((t + i) % 3 == 1) {
                        if (conn.lookup_network_by_name("default").name() == "default") ++good; else ++bad;
                    } else {
                        (void)conn.lookup_domain_by_name("nosuchdom-" + std::to_string(t));
                        ++bad;
                    }
                } catch (const virtpp::error& e) {
                    if (e.code() == error_code::no_domain) ++good; else ++bad;
                }
            }
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(good.load(), 8 * 40);
    EXPECT_EQ(bad.load(), 0);
}

TEST_F(remote_libvirtd, keepalive_is_negotiated_and_server_pings_are_answered) {
    rpc::client_options opts;
    opts.keepalive_interval = 60s;  // we stay quiet; the daemon (keepalive_interval = 1) pings us
    auto session = rpc::client_session::open(uri::parse(uri_), 0, opts);
    EXPECT_TRUE(session->keepalive_active());
    std::this_thread::sleep_for(3500ms);
    EXPECT_GE(session->pongs_sent(), 1u);
    // still alive: the daemon got its PONGs
    EXPECT_EQ(rpc::call_remote<op::connect_get_type>(*session, {}), "TEST");
}

TEST_F(remote_libvirtd, read_only_socket_refuses_changes) {
    auto ro = env("VIRTPP_TEST_REMOTE_RO_URI");
    if (ro.empty()) GTEST_SKIP() << "VIRTPP_TEST_REMOTE_RO_URI is not set";
    auto conn = remote_connection::open_read_only(ro);
    EXPECT_EQ(conn.lookup_domain_by_name("test").id(), 1);
    // the daemon's own refusal: a session that does not ask for read-only on the read-only socket
    auto session = rpc::client_session::open(uri::parse(ro), 0);
    auto dom = rpc::call_remote<op::domain_lookup_by_name>(*session, {"test"});
    try {
        rpc::call_remote<op::domain_suspend>(*session, {dom});
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::operation_denied);
        EXPECT_EQ(e.info().message, "operation forbidden: read only access prevents virDomainSuspend");
    }
}

TEST_F(remote_libvirtd, tls_refusals) {
    auto wrong_ca = env("VIRTPP_TEST_REMOTE_TLS_WRONG_CA_URI");
    if (wrong_ca.empty()) GTEST_SKIP() << "no TLS set-up";
    // our own certificate does not chain to the CA we trust: libvirt's sanity check of its own
    // files refuses before connecting, as virsh does on the same URI
    try {
        (void)remote_connection::open(wrong_ca);
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::system_error);
        EXPECT_NE(e.info().message.find("Our own certificate "), std::string::npos) << e.info().message;
        EXPECT_NE(e.info().message.find(" failed validation against "), std::string::npos) << e.info().message;
    }
    // no_sanity=1 skips it; then the server's certificate is checked against that CA
    try {
        (void)remote_connection::open(wrong_ca + "&no_sanity=1");
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::auth_failed);
        EXPECT_EQ(e.info().message, "authentication failed: Failed to verify peer's certificate");
        EXPECT_EQ(e.info().str3, "Certificate failed validation: The certificate hasn't got a known issuer.");
    }
    try {
        (void)remote_connection::open(env("VIRTPP_TEST_REMOTE_TLS_WRONG_HOST_URI"));
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::auth_failed);
        EXPECT_NE(e.info().str3.value_or("").find("owner does not match the hostname"), std::string::npos);
    }
    auto lax = remote_connection::open(env("VIRTPP_TEST_REMOTE_TLS_NO_VERIFY_URI"));
    EXPECT_EQ(lax.type(), "TEST");
}

// Kills the daemon: the script runs it last, on its own.
TEST_F(remote_libvirtd, daemon_death_is_an_error_not_a_hang) {
    auto pid = env("VIRTPP_TEST_REMOTE_KILL_PID");
    if (pid.empty()) GTEST_SKIP() << "VIRTPP_TEST_REMOTE_KILL_PID is not set";
    auto conn = remote_connection::open(uri_);
    EXPECT_EQ(conn.type(), "TEST");
    ASSERT_EQ(::kill(std::stoi(pid), SIGKILL), 0);
    std::this_thread::sleep_for(300ms);
    auto started = std::chrono::steady_clock::now();
    try {
        (void)conn.type();
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_TRUE(e.code() == error_code::system_error || e.code() == error_code::internal_error) << e.info().message;
        EXPECT_TRUE(e.info().message.find("End of file while reading data") != std::string::npos ||
                    e.info().message == "internal error: client socket is closed")
            << e.info().message;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

}  // namespace
