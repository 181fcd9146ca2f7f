// The client session against a scripted daemon on a socketpair: the set-up sequence, serial
// matching with several calls in flight, error replies, keepalive both ways, and a daemon that
// dies mid-call.
#include "rpc/client_detail.hpp"
#include "scripted_daemon.hpp"

#include <virtpp/hypervisor/remote.hpp>
#include <virtpp/rpc/basic_client_session.hpp>
#include <virtpp/rpc/procedures.hpp>
#include <virtpp/transport/remote.hpp>

#include <boost/asio/local/stream_protocol.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

namespace {

using namespace virtpp;
using namespace virtpp::rpc;
using namespace std::chrono_literals;

using namespace virtpp::test_support;

class client_session_test : public ::testing::Test {
protected:
    void SetUp() override { set_error_handler([](const error_info&) {}); }
    void TearDown() override { set_error_handler({}); }
};

TEST_F(client_session_test, setup_sequence_is_libvirts) {
    scripted_daemon d([](scripted_daemon& d, const message& m) { answer_setup(d, m); });
    {
        auto s = client_session::open_stream(d.client_end(), "test:///default", 1);
        EXPECT_TRUE(s->keepalive_active());
    }
    ASSERT_TRUE(d.wait_for([](auto& log) { return log.size() >= 4; }));
    auto log = d.received();
    ASSERT_EQ(log.size(), 4u);
    EXPECT_EQ(log[0].head.proc, 66);
    EXPECT_EQ(log[0].head.serial, 0u);
    EXPECT_TRUE(log[0].body.empty());
    EXPECT_EQ(log[1].head.proc, 60);
    EXPECT_EQ(log[1].head.serial, 1u);
    EXPECT_EQ(xdr::from_bytes<std::int32_t>(log[1].body), 10);
    EXPECT_EQ(log[2].head.proc, 1);
    EXPECT_EQ(log[2].head.serial, 2u);
    auto open = xdr::from_bytes<session::open_args>(log[2].body);
    EXPECT_EQ(open.name, "test:///default");
    EXPECT_EQ(open.flags, 1u);
    EXPECT_EQ(log[3].head.proc, 2);  // CONNECT_CLOSE when the session goes
    // the exact bytes of libvirt's CONNECT_OPEN call (interop.md §5), serial 2
    auto bytes = frame(log[2].head, xdr::to_bytes(session::open_args{"test:///default", 0}));
    std::vector<std::uint8_t> expected = {0, 0, 0, 0x38, 0x20, 0, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2,
                                          0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x0f, 't', 'e', 's', 't', ':', '/', '/', '/',
                                          'd', 'e', 'f', 'a', 'u', 'l', 't', 0, 0, 0, 0, 0};
    EXPECT_EQ(bytes, expected);
}

TEST_F(client_session_test, replies_reach_their_callers_out_of_order) {
    // The daemon holds every LOOKUP_BY_NAME until three are in flight, then answers in reverse.
    std::mutex held_mutex;
    std::vector<message> held;
    scripted_daemon d([&](scripted_daemon& d, const message& m) {
        if (answer_setup(d, m)) return;
        std::lock_guard lock(held_mutex);
        held.push_back(m);
        if (held.size() == 3)
            for (auto it = held.rbegin(); it != held.rend(); ++it) {
                auto args = xdr::from_bytes<op::domain_lookup_by_name::args>(it->body);
                d.reply(*it, domain_ref{args.name, {}, static_cast<int>(it->head.serial)});
            }
    });
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0);
    std::vector<std::thread> callers;
    std::vector<std::string> got(3);
    for (int i = 0; i < 3; ++i)
        callers.emplace_back([&, i] {
            got[i] = call_remote<op::domain_lookup_by_name>(*s, {"dom" + std::to_string(i)}).name;
        });
    for (auto& t : callers) t.join();
    EXPECT_EQ(got, (std::vector<std::string>{"dom0", "dom1", "dom2"}));
}

bool has_pong(const std::vector<message>& log) {
    for (auto& m : log)
        if (m.head.prog == keepalive_program && m.head.proc == keepalive_pong) return true;
    return false;
}
bool has_call(const std::vector<message>& log, std::int32_t proc) {
    for (auto& m : log)
        if (m.head.prog == remote_program && m.head.proc == proc) return true;
    return false;
}

TEST_F(client_session_test, a_slow_call_does_not_hold_back_a_later_one) {
    // "slow" is held by the daemon; "fast" is answered at once and must return while "slow" waits,
    // whichever of the two callers is reading the socket.
    std::mutex held_mutex;
    std::optional<message> held;
    scripted_daemon d([&](scripted_daemon& d, const message& m) {
        if (answer_setup(d, m)) return;
        auto args = xdr::from_bytes<op::domain_lookup_by_name::args>(m.body);
        if (args.name == "slow") {
            std::lock_guard lock(held_mutex);
            held = m;
            return;
        }
        d.reply(m, domain_ref{args.name, {}, 2});
    });
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0);
    std::atomic<bool> slow_done{false};
    std::string slow_name;
    std::thread slow([&] {
        slow_name = call_remote<op::domain_lookup_by_name>(*s, {"slow"}).name;
        slow_done = true;
    });
    ASSERT_TRUE(d.wait_for([](auto& log) { return has_call(log, proc::domain_lookup_by_name::number); }));
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(call_remote<op::domain_lookup_by_name>(*s, {"fast"}).name, "fast");
    EXPECT_FALSE(slow_done);
    {
        std::lock_guard lock(held_mutex);
        ASSERT_TRUE(held.has_value());
        d.reply(*held, domain_ref{"slow", {}, 1});
    }
    slow.join();
    EXPECT_EQ(slow_name, "slow");
}

TEST_F(client_session_test, ping_during_a_call_is_answered_while_the_caller_waits) {
    std::mutex held_mutex;
    std::optional<message> held;
    scripted_daemon d([&](scripted_daemon& d, const message& m) {
        if (answer_setup(d, m)) return;
        std::lock_guard lock(held_mutex);
        held = m;
    });
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0);
    std::string type;
    std::thread caller([&] { type = call_remote<op::connect_get_type>(*s, {}); });
    ASSERT_TRUE(d.wait_for([](auto& log) { return has_call(log, proc::connect_get_type::number); }));
    d.send(header{keepalive_program, 1, keepalive_ping, message_type::message, 0, message_status::ok}, {});
    EXPECT_TRUE(d.wait_for(has_pong));
    EXPECT_EQ(s->pongs_sent(), 1u);
    {
        std::lock_guard lock(held_mutex);
        ASSERT_TRUE(held.has_value());
        d.reply(*held, std::string("TEST"));
    }
    caller.join();
    EXPECT_EQ(type, "TEST");
}

TEST_F(client_session_test, ping_after_a_burst_of_calls_is_answered) {
    // the callers read their own replies; once they stop, the idle link is watched again
    scripted_daemon d([](scripted_daemon& d, const message& m) {
        if (answer_setup(d, m)) return;
        d.reply(m, std::string("TEST"));
    });
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(call_remote<op::connect_get_type>(*s, {}), "TEST");
    d.send(header{keepalive_program, 1, keepalive_ping, message_type::message, 0, message_status::ok}, {});
    EXPECT_TRUE(d.wait_for(has_pong));
    EXPECT_EQ(s->pongs_sent(), 1u);
    EXPECT_EQ(call_remote<op::connect_get_type>(*s, {}), "TEST");
}

TEST_F(client_session_test, many_threads_each_get_their_own_replies) {
    // the socket passes from caller to caller many times; every reply reaches its own caller
    scripted_daemon d([](scripted_daemon& d, const message& m) {
        if (answer_setup(d, m)) return;
        auto args = xdr::from_bytes<op::domain_lookup_by_name::args>(m.body);
        d.reply(m, domain_ref{args.name, {}, 1});
    });
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0);
    std::atomic<int> wrong{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < 8; ++t)
        callers.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                std::string name = "dom" + std::to_string(t) + "-" + std::to_string(i);
                if (call_remote<op::domain_lookup_by_name>(*s, {name}).name != name) ++wrong;
            }
        });
    for (auto& c : callers) c.join();
    EXPECT_EQ(wrong, 0);
}

TEST_F(client_session_test, error_reply_is_the_servers_error_unchanged) {
    scripted_daemon d([](scripted_daemon& d, const message& m) {
        if (answer_setup(d, m)) return;
        remote_error e;
        e.code = 42;
        e.domain = 12;
        e.message = "Domain not found";
        e.level = 2;
        e.str1 = "Domain not found";
        e.int1 = e.int2 = -1;
        d.reply_error(m, e);
    });
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0);
    try {
        (void)call_remote<op::domain_lookup_by_name>(*s, {"nosuchdom"});
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::no_domain);
        EXPECT_EQ(e.domain(), error_domain::test);
        EXPECT_EQ(e.info().message, "Domain not found");
        EXPECT_EQ(e.info().str1, "Domain not found");
    }
    // the session is still usable after an error reply
    EXPECT_THROW((void)call_remote<op::domain_lookup_by_name>(*s, {"again"}), virtpp::error);
}

TEST_F(client_session_test, ping_from_server_is_answered_with_pong) {
    scripted_daemon d([](scripted_daemon& d, const message& m) { answer_setup(d, m); });
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0);
    d.send(header{keepalive_program, 1, keepalive_ping, message_type::message, 0, message_status::ok}, {});
    ASSERT_TRUE(d.wait_for([](auto& log) {
        for (auto& m : log)
            if (m.head.prog == keepalive_program && m.head.proc == keepalive_pong) return true;
        return false;
    }));
    EXPECT_EQ(s->pongs_sent(), 1u);
    auto log = d.received();
    auto pong = std::find_if(log.begin(), log.end(), [](auto& m) { return m.head.prog == keepalive_program; });
    EXPECT_EQ(pong->head.type, message_type::message);
    EXPECT_EQ(pong->head.serial, 0u);
    EXPECT_TRUE(pong->body.empty());
}

TEST_F(client_session_test, idle_client_pings_and_gives_up_after_count) {
    // A daemon that supports keepalive but never answers PINGs.
    scripted_daemon d([](scripted_daemon& d, const message& m) { answer_setup(d, m); });
    client_options opts;
    opts.keepalive_interval = 100ms;
    opts.keepalive_count = 2;
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0, opts);
    ASSERT_TRUE(s->keepalive_active());
    std::this_thread::sleep_for(800ms);
    EXPECT_GE(s->pings_sent(), 2u);
    try {
        (void)call_remote<op::connect_get_type>(*s, {});
        FAIL() << "connection should be closed";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::internal_error);
        EXPECT_EQ(e.info().message, "internal error: client socket is closed");
    }
}

TEST_F(client_session_test, no_pings_when_server_lacks_keepalive) {
    scripted_daemon d([](scripted_daemon& d, const message& m) { answer_setup(d, m, false); });
    client_options opts;
    opts.keepalive_interval = 50ms;
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0, opts);
    EXPECT_FALSE(s->keepalive_active());
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(s->pings_sent(), 0u);
}

TEST_F(client_session_test, daemon_dying_mid_call_fails_the_call) {
    scripted_daemon d([](scripted_daemon& d, const message& m) {
        if (answer_setup(d, m)) return;
        d.hang_up();  // no reply, connection gone
    });
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0);
    auto started = std::chrono::steady_clock::now();
    try {
        (void)call_remote<op::connect_get_type>(*s, {});
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::system_error);
        EXPECT_EQ(e.domain(), error_domain::rpc);
        EXPECT_EQ(e.info().message, "End of file while reading data: Input/output error");
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    try {
        (void)call_remote<op::connect_get_type>(*s, {});
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.info().message, "internal error: client socket is closed");
    }
}

TEST_F(client_session_test, oversized_length_word_closes_the_connection) {
    scripted_daemon d([](scripted_daemon& d, const message& m) {
        if (answer_setup(d, m)) return;
        d.send_raw({0x7f, 0xff, 0xff, 0xff});  // far over VIR_NET_MESSAGE_MAX: refused before allocating
    });
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0);
    try {
        (void)call_remote<op::connect_get_type>(*s, {});
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::rpc);
        EXPECT_NE(e.info().message.find("over the limit"), std::string::npos) << e.info().message;
    }
}

TEST_F(client_session_test, reply_for_no_call_is_a_protocol_error) {
    scripted_daemon d([](scripted_daemon& d, const message& m) {
        if (answer_setup(d, m)) return;
        header h = m.head;
        h.type = message_type::reply;
        h.serial += 100;
        d.send(h, {});
    });
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0);
    try {
        (void)call_remote<op::connect_get_type>(*s, {});
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::rpc);
        EXPECT_EQ(e.info().message, "no call waiting for reply with prog 536903814 vers 1 serial 103");
    }
}

TEST_F(client_session_test, unsupported_auth_type_refuses_open) {
    scripted_daemon d([](scripted_daemon& d, const message& m) {
        if (m.head.proc == session::auth_list) d.reply(m, session::auth_list_ret{{{1}}});  // SASL
    });
    try {
        (void)client_session::open_stream(d.client_end(), "test:///default", 0);
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::auth_failed);
        EXPECT_EQ(e.info().message, "authentication failed: unsupported authentication type 1");
    }
}

TEST_F(client_session_test, open_error_is_reported) {
    scripted_daemon d([](scripted_daemon& d, const message& m) {
        if (m.head.proc == session::connect_open) {
            remote_error e;
            e.code = 5;
            e.domain = 0;
            e.message = "Failed to connect to remote libvirt URI foo:///: no driver";
            e.level = 2;
            d.reply_error(m, e);
            return;
        }
        answer_setup(d, m);
    });
    try {
        (void)client_session::open_stream(d.client_end(), "foo:///", 0);
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::no_connect);
        EXPECT_EQ(e.info().message, "Failed to connect to remote libvirt URI foo:///: no driver");
    }
}

// A daemon that goes silent (SIGSTOPped, or its packets dropped) while a call is pending and a
// subscriber listens: the keepalive clock runs while the caller reads, so after interval x
// (count + 1) the pending call fails with libvirt's keepalive error and the subscriber is told the
// connection closed (virConnectRegisterCloseCallback's VIR_CONNECT_CLOSE_REASON_KEEPALIVE).
TEST_F(client_session_test, silent_daemon_fails_pending_calls_and_tells_subscribers) {
    std::atomic<int> next_callback{1};
    scripted_daemon d([&](scripted_daemon& d, const message& m) {
        if (answer_setup(d, m)) return;
        if (m.head.prog == remote_program && (m.head.proc == 316 || m.head.proc == 313)) {
            d.reply(m, std::int32_t{next_callback++});  // event registrations
            return;
        }
        // anything else: never answered, and PINGs neither
    });
    client_options opts;
    opts.keepalive_interval = 100ms;
    opts.keepalive_count = 2;
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0, opts);
    ASSERT_TRUE(s->keepalive_active());
    std::mutex m;
    std::condition_variable cv;
    std::optional<connection_closed_event> closed;
    auto sub = s->subscribe_events([&](const event& e) {
        if (const auto* c = std::get_if<connection_closed_event>(&e)) {
            std::lock_guard lock(m);
            closed = *c;
            cv.notify_all();
        }
    });
    auto t0 = std::chrono::steady_clock::now();
    try {
        (void)call_remote<op::connect_get_type>(*s, {});
        FAIL() << "the call should fail";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::internal_error);
        EXPECT_EQ(e.info().message, "internal error: connection closed due to keepalive timeout");
    }
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 2s) << "pending call hung";
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 2s, [&] { return closed.has_value(); }));
    EXPECT_EQ(closed->reason, close_reason::keepalive);
    EXPECT_EQ(closed->message, "internal error: connection closed due to keepalive timeout");
    lock.unlock();
    // later calls fail at once
    EXPECT_THROW((void)call_remote<op::connect_get_type>(*s, {}), virtpp::error);
}

TEST(transport_remote, accepts_what_libvirts_remote_driver_takes) {
    using R = transport::remote;
    EXPECT_TRUE(R::accepts(uri::parse("test+tcp://host/default")));
    EXPECT_TRUE(R::accepts(uri::parse("qemu://host/system")));
    EXPECT_TRUE(R::accepts(uri::parse("test+unix:///default")));
    EXPECT_TRUE(R::accepts(uri::parse("remote:///")));
    EXPECT_TRUE(R::accepts(uri::parse("foo:///")));  // unknown driver: the default unix socket
    EXPECT_TRUE(R::accepts(uri::parse("")));  // no URI: ask the local daemon which driver it runs
    EXPECT_FALSE(R::accepts(uri::parse("xen")));
    static_assert(supports<hypervisor::remote, op::domain_migrate_begin>);
    static_assert(supports<hypervisor::remote, op::network_is_persistent>);
}

}  // namespace

namespace {

using virtpp::test_support::scripted_daemon;

TEST(basic_client_session, async_call_completes_through_its_token) {
    set_error_handler([](const error_info&) {});
    scripted_daemon d([](scripted_daemon& d, const message& m) {
        if (answer_setup(d, m)) return;
        if (m.head.proc == proc::connect_get_type::number) d.reply(m, std::string("TEST"));
    });
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0);
    auto* session = dynamic_cast<basic_client_session<boost::asio::local::stream_protocol::socket>*>(&s->core());
    ASSERT_NE(session, nullptr);  // a unix socket's stack
    std::promise<std::string> got;
    session->async_call(proc::connect_get_type::number, {}, [&](std::exception_ptr e, std::vector<std::uint8_t> body) {
        // a completion runs on the session's I/O thread
        EXPECT_TRUE(session->on_io_thread());
        if (e) got.set_exception(e);
        else got.set_value(xdr::from_bytes<std::string>(body));
    });
    auto f = got.get_future();
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(f.get(), "TEST");
    set_error_handler({});
}

TEST(basic_client_session, blocking_call_on_the_io_thread_raises_instead_of_deadlocking) {
    set_error_handler([](const error_info&) {});
    scripted_daemon d([](scripted_daemon& d, const message& m) {
        if (answer_setup(d, m)) return;
        if (m.head.proc == proc::connect_get_type::number) d.reply(m, std::string("TEST"));
    });
    auto s = client_session::open_stream(d.client_end(), "test:///default", 0);
    std::promise<std::string> got;
    (void)s->start_call(proc::connect_get_type::number, {}, [&](std::exception_ptr, std::vector<std::uint8_t>) {
        try {
            (void)s->call(proc::connect_get_type::number, {});
            got.set_value("no error");
        } catch (const virtpp::error& e) {
            got.set_value(e.info().message);
        }
    });
    auto f = got.get_future();
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(f.get(), "internal error: a blocking call on the client session's own I/O thread would never see its reply");
    // the session goes on
    EXPECT_EQ(call_remote<op::connect_get_type>(*s, {}), "TEST");
    set_error_handler({});
}

}  // namespace
