// The daemon's per-client protocol handling, in memory: framing, session procedures, dispatch
// through rpc::procedures, libvirtd's errors, read-only refusal, keepalive, malformed input.
#include "daemon/session.hpp"

#include <virtpp/rpc/events.hpp>

#include <virtpp/hypervisor/test.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

namespace {

using namespace virtpp;
namespace xdr = virtpp::rpc::xdr;
using bytes = std::vector<std::uint8_t>;
using drivers = driver_list<driver<hypervisor::test>>;

struct memory_host : daemon::session_host {
    std::mutex m;
    std::vector<bytes> sent;
    bool closing = false;
    std::vector<std::string> lines;
    void send(bytes p) override {
        std::lock_guard l(m);
        sent.push_back(std::move(p));
    }
    unsigned posted = 0;  ///< calls handed to the pool (the rest ran on the reading thread)
    void post(std::function<void()> work) override {
        ++posted;
        work();
    }
    void close_after_flush() override { closing = true; }
    void resume_reading() override {}
    void log(int, const std::string& line) override {
        std::lock_guard l(m);
        lines.push_back(line);
    }
};

class SessionTest : public ::testing::Test {
protected:
    void SetUp() override { set_error_handler([](const error_info&) {}); }
    void TearDown() override {
        session.reset();
        set_error_handler({});
    }
    void make(bool read_only_socket = false) {
        daemon::session_options o;
        o.read_only_socket = read_only_socket;
        o.peer = "test";
        o.open = [](const std::string& name, unsigned flags) { return any_connection::open<drivers>(name, flags); };
        session = std::make_shared<daemon::client_session>(o, host);
    }
    template <class Body>
    static bytes call(std::int32_t proc, std::uint32_t serial, const Body& body) {
        rpc::header h;
        h.proc = proc;
        h.serial = serial;
        return rpc::frame_body(h, body);
    }
    /// Feeds a packet, returns the one reply it produced.
    bytes roundtrip(const bytes& packet) {
        host->sent.clear();
        session->receive(packet);
        EXPECT_EQ(host->sent.size(), 1U);
        return host->sent.empty() ? bytes{} : host->sent.back();
    }
    static rpc::header header_of(const bytes& reply) {
        return rpc::decode_header(std::span<const std::uint8_t>(reply).subspan(4));
    }
    template <class T>
    static T body_of(const bytes& reply) {
        return rpc::xdr::from_bytes<T>(std::span<const std::uint8_t>(reply).subspan(28));
    }
    void open(std::uint32_t flags = 0) {
        auto r = roundtrip(call(1, 100, rpc::session::open_args{std::string("test:///default"), flags}));
        ASSERT_EQ(header_of(r).status, rpc::message_status::ok);
    }

    std::shared_ptr<memory_host> host = std::make_shared<memory_host>();
    std::shared_ptr<daemon::client_session> session;
};

bytes hex(std::initializer_list<std::uint32_t> words) {
    bytes out;
    for (auto w : words)
        for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(w >> s));
    return out;
}

TEST_F(SessionTest, ConnectionSetupIsByteIdenticalToLibvirtd) {
    make();
    // interop.md §5: what libvirtd 9.0 answered virsh's first three calls
    EXPECT_EQ(roundtrip(hex({0x1c, 0x20008086, 1, 0x42, 0, 0, 0})),
              hex({0x24, 0x20008086, 1, 0x42, 1, 0, 0, 1, 0}));
    EXPECT_EQ(roundtrip(hex({0x20, 0x20008086, 1, 0x3c, 0, 1, 0, 10})), hex({0x20, 0x20008086, 1, 0x3c, 1, 1, 0, 1}));
    EXPECT_TRUE(session->keepalive_enabled());
    EXPECT_EQ(roundtrip(hex({0x38, 0x20008086, 1, 1, 0, 2, 0, 1, 0x0f, 0x74657374, 0x3a2f2f2f, 0x64656661, 0x756c7400, 0})),
              hex({0x1c, 0x20008086, 1, 1, 1, 2, 0}));
    EXPECT_TRUE(session->is_open());
    EXPECT_FALSE(session->read_only());
}

TEST_F(SessionTest, BytesMayArriveOneAtATime) {
    make();
    auto packet = call(66, 7, xdr::none{});
    for (auto b : packet) session->receive(std::span<const std::uint8_t>(&b, 1));
    ASSERT_EQ(host->sent.size(), 1U);
    EXPECT_EQ(header_of(host->sent[0]).serial, 7U);
}

TEST_F(SessionTest, CallsBeforeOpenGetLibvirtdsErrors) {
    make();
    auto r = roundtrip(call(3, 1, xdr::none{}));
    ASSERT_EQ(header_of(r).status, rpc::message_status::error);
    auto e = body_of<rpc::remote_error>(r);
    EXPECT_EQ(e.code, static_cast<int>(error_code::internal_error));
    EXPECT_EQ(e.domain, static_cast<int>(error_domain::rpc));
    EXPECT_EQ(e.message.value_or(""), "internal error: hypervisor connection not open");
    auto n = body_of<rpc::remote_error>(roundtrip(call(52, 2, xdr::none{})));
    EXPECT_EQ(n.message.value_or(""), "internal error: connection not open");
}

TEST_F(SessionTest, UnknownProcedureIsAnRpcError) {
    make();
    auto r = roundtrip(call(9999, 4, xdr::none{}));
    auto e = body_of<rpc::remote_error>(r);
    EXPECT_EQ(e.code, static_cast<int>(error_code::rpc));
    EXPECT_NE(e.message.value_or("").find("unknown procedure: 9999"), std::string::npos);
    EXPECT_EQ(header_of(r).proc, 9999);
}

TEST_F(SessionTest, OperationsGoThroughTheProcedureTable) {
    make();
    open();
    auto r = roundtrip(call(273, 5, rpc::wire::list_all_args{1, 3}));
    ASSERT_EQ(header_of(r).status, rpc::message_status::ok);
    auto doms = body_of<rpc::wire::list_all_domains_ret>(r);
    ASSERT_EQ(doms.domains.items.size(), 1U);
    EXPECT_EQ(doms.domains.items[0].name, "test");
    auto lookup = roundtrip(call(23, 6, op::domain_lookup_by_name::args{"nosuchdom"}));
    auto e = body_of<rpc::remote_error>(lookup);
    EXPECT_EQ(e.code, static_cast<int>(error_code::no_domain));
    auto ver = roundtrip(call(157, 7, xdr::none{}));
    EXPECT_EQ(body_of<std::uint64_t>(ver), 9000000U);
    EXPECT_EQ(body_of<std::string>(roundtrip(call(110, 8, xdr::none{}))), "test:///default");
}

TEST_F(SessionTest, FeaturesAreAnsweredHonestly) {
    make();
    open();
    auto feature = [&](int f) { return body_of<std::int32_t>(roundtrip(call(60, 9, op::connect_supports_feature::args{f}))); };
    EXPECT_EQ(feature(rpc::feature::remote_close_callback), 1);
    EXPECT_EQ(feature(rpc::feature::remote_event_callback), 1);
    EXPECT_EQ(feature(rpc::feature::fd_passing), 0);
    EXPECT_EQ(feature(rpc::feature::typed_param_string), 1);  // the test driver's answer
}

TEST_F(SessionTest, ProceduresVirtppdDoesNotServeAreLibvirtdsNoSupport) {
    make();
    domain_ref d{"test", {}, 1};
    // before CONNECT_OPEN: libvirtd's "not open" (a network API's wording differs)
    auto before = body_of<rpc::remote_error>(roundtrip(call(163, 1, d)));
    EXPECT_EQ(before.message.value_or(""), "internal error: hypervisor connection not open");
    open();
    // DOMAIN_GET_JOB_INFO: NO_SUPPORT naming the API, in the domain's error domain
    auto job = body_of<rpc::remote_error>(roundtrip(call(163, 2, d)));
    EXPECT_EQ(job.code, static_cast<int>(error_code::no_support));
    EXPECT_EQ(job.domain, static_cast<int>(error_domain::domain));
    EXPECT_EQ(job.message.value_or(""), "this function is not supported by the connection driver: virDomainGetJobInfo");
    // a storage API: the storage error domain
    struct refresh_args { storage_pool_ref pool; std::uint32_t flags; };
    auto pools = body_of<rpc::remote_error>(roundtrip(call(83, 3, refresh_args{{"default-pool", {}}, 0})));
    EXPECT_EQ(pools.message.value_or(""), "this function is not supported by the connection driver: virStoragePoolRefresh");
    EXPECT_EQ(pools.domain, static_cast<int>(error_domain::storage));
}

TEST_F(SessionTest, UnservedProceduresOnAReadOnlySocketAreRefusedFirstWhenTheyWouldWrite) {
    make(true);
    open();
    domain_ref d{"test", {}, 1};
    // DOMAIN_ABORT_JOB writes: libvirt's read-only check comes before the driver's
    auto abort = body_of<rpc::remote_error>(roundtrip(call(164, 4, d)));
    EXPECT_EQ(abort.code, static_cast<int>(error_code::operation_denied));
    EXPECT_EQ(abort.message.value_or(""), "operation forbidden: read only access prevents virDomainAbortJob");
    // DOMAIN_GET_JOB_INFO only reads
    EXPECT_EQ(body_of<rpc::remote_error>(roundtrip(call(163, 5, d))).code, static_cast<int>(error_code::no_support));
}

TEST_F(SessionTest, BlockStatsFlagsIsNoSupportSoVirshFallsBack) {
    make();
    open();
    struct args { domain_ref dom; std::string path; std::int32_t nparams; std::uint32_t flags; };
    domain_ref d{"test", {}, 1};
    auto e = body_of<rpc::remote_error>(roundtrip(call(243, 10, args{d, "vda", 0, 4})));
    EXPECT_EQ(e.code, static_cast<int>(error_code::no_support));
    EXPECT_EQ(e.domain, static_cast<int>(error_domain::domain));
    EXPECT_EQ(e.message.value_or(""), "this function is not supported by the connection driver: virDomainBlockStatsFlags");
}

TEST_F(SessionTest, CloseCallbacksRegisterAndUnregister) {
    make();
    open();
    EXPECT_EQ(header_of(roundtrip(call(360, 11, xdr::none{}))).status, rpc::message_status::ok);
    EXPECT_EQ(header_of(roundtrip(call(361, 12, xdr::none{}))).status, rpc::message_status::ok);
    EXPECT_EQ(header_of(roundtrip(call(361, 13, xdr::none{}))).status, rpc::message_status::error);
}

TEST_F(SessionTest, ReadOnlySocketRefusesMutatingCalls) {
    make(true);
    open();
    EXPECT_TRUE(session->read_only());
    auto d = body_of<domain_ref>(roundtrip(call(23, 14, op::domain_lookup_by_name::args{"test"})));
    auto e = body_of<rpc::remote_error>(roundtrip(call(34, 15, op::domain_suspend::args{d})));
    EXPECT_EQ(e.code, static_cast<int>(error_code::operation_denied));
    EXPECT_EQ(e.message.value_or(""), "operation forbidden: read only access prevents virDomainSuspend");
    // reading is allowed
    EXPECT_EQ(header_of(roundtrip(call(16, 16, op::domain_get_info::args{d}))).status, rpc::message_status::ok);
    EXPECT_TRUE(std::any_of(host->lines.begin(), host->lines.end(),
                            [](const std::string& l) { return l.find("refused virDomainSuspend") != std::string::npos; }));
}

TEST_F(SessionTest, OpenFailureAndDoubleOpen) {
    make();
    auto e = body_of<rpc::remote_error>(roundtrip(call(1, 1, rpc::session::open_args{std::string("bogus:///x"), 0})));
    EXPECT_EQ(e.code, static_cast<int>(error_code::no_connect));
    open();
    auto again = body_of<rpc::remote_error>(roundtrip(call(1, 2, rpc::session::open_args{std::string("test:///default"), 0})));
    EXPECT_EQ(again.message.value_or(""), "internal error: connection already open");
}

TEST_F(SessionTest, ConnectCloseRepliesThenCloses) {
    make();
    open();
    EXPECT_EQ(header_of(roundtrip(call(2, 20, xdr::none{}))).status, rpc::message_status::ok);
    EXPECT_TRUE(host->closing);
    EXPECT_FALSE(session->is_open());
}

TEST_F(SessionTest, PingGetsPong) {
    make();
    auto pong = roundtrip(hex({0x1c, 0x6b656570, 1, 1, 2, 0, 0}));
    EXPECT_EQ(pong, hex({0x1c, 0x6b656570, 1, 2, 2, 0, 0}));
    host->sent.clear();
    session->receive(hex({0x1c, 0x6b656570, 1, 2, 2, 0, 0}));  // a PONG needs no answer
    EXPECT_TRUE(host->sent.empty());
}

TEST_F(SessionTest, KeepaliveOnlyForClientsThatAskedAndDropsAfterCount) {
    make();
    auto t0 = daemon::client_session::clock::now();
    using std::chrono::seconds;
    EXPECT_EQ(session->keepalive_tick(t0 + seconds(60)), daemon::client_session::keepalive_action::none);
    (void)roundtrip(call(60, 1, op::connect_supports_feature::args{10}));
    auto now = daemon::client_session::clock::now();
    EXPECT_EQ(session->keepalive_tick(now + seconds(1)), daemon::client_session::keepalive_action::none);
    for (int i = 1; i <= 5; ++i)
        EXPECT_EQ(session->keepalive_tick(now + seconds(5 * i)), daemon::client_session::keepalive_action::ping) << i;
    EXPECT_EQ(session->keepalive_tick(now + seconds(29)), daemon::client_session::keepalive_action::none);
    EXPECT_EQ(session->keepalive_tick(now + seconds(30)), daemon::client_session::keepalive_action::drop);
}

TEST_F(SessionTest, MalformedInputIsAProtocolError) {
    make();
    EXPECT_THROW(session->receive(hex({0x10})), daemon::protocol_error);  // shorter than a header
    make();
    EXPECT_THROW(session->receive(hex({0x7fffffff})), daemon::protocol_error);  // over the limit, nothing allocated
    make();
    EXPECT_THROW(session->receive(hex({0x1c, 0x20008086, 1, 3, 1, 0, 0})), daemon::protocol_error);  // a reply from a client
    make();
    EXPECT_THROW(session->receive(hex({0x20, 0x6b656570, 1, 1, 2, 0, 0, 0})), daemon::protocol_error);  // PING with a body
}

TEST_F(SessionTest, MalformedArgumentsAreLibvirtdsRpcErrorAndTheConnectionStays) {
    make();
    // CONNECT_OPEN whose string length runs past the packet: libvirtd's exact reply, byte for byte
    auto r = roundtrip(hex({0x24, 0x20008086, 1, 1, 0, 1, 0, 1, 0x7fffffff}));
    EXPECT_EQ(r, hex({0x98, 0x20008086, 1, 1, 1, 1, 1, 0x27, 7, 1, 0x20, 0x556e6162, 0x6c652074, 0x6f206465, 0x636f6465,
                      0x206d6573, 0x73616765, 0x20706179, 0x6c6f6164, 2, 0, 1, 2, 0x25730000, 1, 0x20, 0x556e6162,
                      0x6c652074, 0x6f206465, 0x636f6465, 0x206d6573, 0x73616765, 0x20706179, 0x6c6f6164, 0, 0xffffffff,
                      0xffffffff, 0}));
    open();  // the same connection goes on
}

TEST_F(SessionTest, CallsOfADriverThatNeverBlocksRunOnTheReadingThread) {
    make();
    open();  // no connection yet: CONNECT_OPEN itself goes to the pool
    EXPECT_EQ(host->posted, 1U);
    auto r = roundtrip(call(66, 2, xdr::none{}));
    EXPECT_EQ(header_of(r).status, rpc::message_status::ok);
    EXPECT_EQ(header_of(r).serial, 2U);
    EXPECT_EQ(host->posted, 1U);
    EXPECT_EQ(session->calls_in_flight(), 0U);
}

TEST_F(SessionTest, CallsThatMaySleepGoToThePool) {
    make();
    auto o = roundtrip(call(1, 1, rpc::session::open_args{std::string("test:///default?virtpp_delay_ms=1"), 0U}));
    ASSERT_EQ(header_of(o).status, rpc::message_status::ok);
    auto r = roundtrip(call(66, 2, xdr::none{}));
    EXPECT_EQ(header_of(r).status, rpc::message_status::ok);
    EXPECT_EQ(host->posted, 2U);
}

TEST_F(SessionTest, ServedProceduresCoverTheTableAndTheSession) {
    auto served = daemon::served_procedures();
    EXPECT_TRUE(std::is_sorted(served.begin(), served.end()));
    for (int n : {1, 2, 60, 66, 110, 157, 360, 361, 273, 283, 212, 426, 201, 211, 105, 106, 167, 168, 313, 314, 316, 317})
        EXPECT_TRUE(std::binary_search(served.begin(), served.end(), n)) << n;
    // the session procedures: 7 beside SUPPORTS_FEATURE (which replaces the table's), 8 of events, 2 that open streams
    EXPECT_EQ(served.size(), std::tuple_size_v<rpc::procedures> + 7 + 8 + 2);
}

}  // namespace

namespace {

TEST_F(SessionTest, EventCallbacksRelayTheDriversEventsAsLibvirtdSendsThem) {
    make();
    open();
    namespace ev = rpc::events;
    auto reg = roundtrip(call(ev::connect_domain_event_callback_register_any, 10, ev::domain_callback_register_args{0, std::nullopt}));
    ASSERT_EQ(header_of(reg).status, rpc::message_status::ok);
    auto id = body_of<ev::callback_id>(reg).id;
    auto net_reg = roundtrip(call(ev::connect_network_event_register_any, 11, ev::network_register_args{0, std::nullopt}));
    ASSERT_EQ(header_of(net_reg).status, rpc::message_status::ok);

    host->sent.clear();
    domain_ref d{"test", *uuid::parse("6695eb01-f6a4-8304-79aa-97f2502e193f"), 1};
    session->receive(call(34, 12, op::domain_suspend::args{d}));  // DOMAIN_SUSPEND
    ASSERT_EQ(host->sent.size(), 2U);
    auto h = header_of(host->sent[0]);
    EXPECT_EQ(h.proc, ev::domain_event_callback_lifecycle);
    EXPECT_EQ(h.type, rpc::message_type::message);
    EXPECT_EQ(h.serial, 1U);  // libvirtd's serial for every event
    auto m = body_of<ev::callback_lifecycle_msg>(host->sent[0]);
    EXPECT_EQ(m.callback_id, id);
    EXPECT_EQ(m.msg.dom.name, "test");
    EXPECT_EQ(m.msg.event, domain_lifecycle::suspended);
    EXPECT_EQ(m.msg.detail, domain_lifecycle::suspended_detail::paused);
    EXPECT_EQ(header_of(host->sent[1]).type, rpc::message_type::reply);

    EXPECT_EQ(header_of(roundtrip(call(ev::connect_domain_event_callback_deregister_any, 13, ev::callback_id{id}))).status,
              rpc::message_status::ok);
    auto again = body_of<rpc::remote_error>(roundtrip(call(ev::connect_domain_event_callback_deregister_any, 14, ev::callback_id{id})));
    EXPECT_EQ(again.message.value_or(""), "internal error: domain event callback " + std::to_string(id) + " not registered");
    auto bad = body_of<rpc::remote_error>(roundtrip(call(ev::connect_domain_event_callback_register_any, 15,
                                                         ev::domain_callback_register_args{27, std::nullopt})));
    EXPECT_EQ(bad.message.value_or(""), "internal error: unsupported event ID 27");
    // the resume now reaches only the network registration: nothing is sent but the reply
    host->sent.clear();
    session->receive(call(28, 16, op::domain_resume::args{d}));
    ASSERT_EQ(host->sent.size(), 1U);
    EXPECT_EQ(header_of(host->sent[0]).type, rpc::message_type::reply);
}

}  // namespace
