// virConnectGetAllDomainStats / virDomainListGetStats: the test driver's answers (libvirt 9.0's:
// the state group, iothread accepted and empty), its checks of groups and flags, the list
// filters, listed domains in the caller's order; procedure 344 through XDR; and the wire forms of
// the QEMU driver's newer events (tray-change, balloon-change, pmsuspend, pmwakeup,
// job-completed) through encode and decode.
#include <virtpp/any.hpp>
#include <virtpp/connection.hpp>
#include <virtpp/hypervisor/test.hpp>
#include <virtpp/rpc/events.hpp>
#include <virtpp/rpc/procedures.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace virtpp;
using conn_t = basic_connection<hypervisor::test>;

std::string dom_xml(const std::string& name, const std::string& uuid) {
    return "<domain type='test'><name>" + name + "</name><uuid>" + uuid +
           "</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>";
}

std::vector<std::string> names(const std::vector<domain_stats_record>& v) {
    std::vector<std::string> out;
    for (const auto& r : v) out.push_back(r.dom.name);
    return out;
}

TEST(domain_stats, test_driver_reports_the_state_group) {
    auto conn = conn_t::open("test:///default");
    auto all = conn.all_domain_stats();
    ASSERT_EQ(all.size(), 1U);
    EXPECT_EQ(all[0].dom.name, "test");
    EXPECT_EQ(all[0].params, (std::vector<typed_param>{{"state.state", std::int32_t{1}}, {"state.reason", std::int32_t{0}}}));
    // iothread is accepted (even enforced) and says nothing; the others are dropped without enforce
    EXPECT_TRUE(conn.all_domain_stats(domain_stats::iothread, domain_stats::flag_enforce)[0].params.empty());
    EXPECT_TRUE(conn.all_domain_stats(domain_stats::balloon | domain_stats::vcpu)[0].params.empty());
}

TEST(domain_stats, enforce_and_unknown_flags_are_refused_as_libvirt_refuses_them) {
    auto conn = conn_t::open("test:///default");
    try {
        (void)conn.all_domain_stats(domain_stats::state | domain_stats::balloon | domain_stats::vm, domain_stats::flag_enforce);
        FAIL() << "enforced unsupported groups";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::argument_unsupported);
        EXPECT_NE(std::string(e.what()).find("Stats types bits 0x404 are not supported by this daemon"), std::string::npos) << e.what();
    }
    try {
        (void)conn.all_domain_stats(0, 1U << 28);
        FAIL() << "unknown flag";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::invalid_arg);
        EXPECT_NE(std::string(e.what()).find("unsupported flags (0x10000000) in function testConnectGetAllDomainStats"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_THROW((void)conn.domain_list_stats({}), virtpp::error);  // at least one domain
}

TEST(domain_stats, filters_and_listed_domains) {
    auto conn = conn_t::open("test:///default");
    auto a = conn.define_domain_xml(dom_xml("sa", "11111111-2a5b-4f0e-9d3c-0e1f2a3b4c5d"));
    auto b = conn.define_domain_xml(dom_xml("sb", "22222222-2a5b-4f0e-9d3c-0e1f2a3b4c5d"));
    b.create();
    b.suspend();
    EXPECT_EQ(names(conn.all_domain_stats(0, list_flags::paused)), std::vector<std::string>{"sb"});
    EXPECT_EQ(names(conn.all_domain_stats(0, list_flags::inactive)), std::vector<std::string>{"sa"});
    EXPECT_EQ(names(conn.all_domain_stats(0, list_flags::transient)), std::vector<std::string>{});
    // listed: the caller's order, the filters still apply, vanished domains are skipped
    auto test = conn.lookup_domain_by_name("test");
    domain_ref gone{"gone", *virtpp::uuid::parse("33333333-2a5b-4f0e-9d3c-0e1f2a3b4c5d"), -1};
    EXPECT_EQ(names(conn.domain_list_stats({b.ref(), test.ref(), gone, a.ref()})), (std::vector<std::string>{"sb", "test", "sa"}));
    EXPECT_EQ(names(conn.domain_list_stats({b.ref(), test.ref(), a.ref()}, 0, list_flags::active)),
              (std::vector<std::string>{"sb", "test"}));
    auto paused = conn.domain_list_stats({b.ref()}, domain_stats::state);
    ASSERT_EQ(paused.size(), 1U);
    EXPECT_EQ(paused[0].params, (std::vector<typed_param>{{"state.state", std::int32_t{3}}, {"state.reason", std::int32_t{1}}}));
    b.destroy();
    auto stopped = conn.domain_list_stats({b.ref()});
    EXPECT_EQ(stopped[0].params[1], (typed_param{"state.reason", std::int32_t{2}}));  // destroyed
    a.undefine();
    b.undefine();
}

TEST(domain_stats, any_connection_and_read_only_connections_may_ask) {
    using drivers = driver_list<driver<hypervisor::test>>;
    auto conn = any_connection::open<drivers>("test:///default", open_flags::read_only);
    EXPECT_EQ(names(conn.all_domain_stats()), std::vector<std::string>{"test"});
}

TEST(domain_stats, procedure_344_round_trip) {
    using P = rpc::proc::connect_get_all_domain_stats;
    static_assert(P::number == 344);
    op::connect_get_all_domain_stats::args a;
    a.doms.push_back({"x", *virtpp::uuid::parse("11111111-2a5b-4f0e-9d3c-0e1f2a3b4c5d"), 3});
    a.stats = domain_stats::state | domain_stats::block;
    a.flags = list_flags::active | domain_stats::flag_enforce;
    auto back = P::to_op(rpc::xdr::from_bytes<P::args>(rpc::xdr::to_bytes(P::from_op(a))));
    EXPECT_EQ(back.doms, a.doms);
    EXPECT_EQ(back.stats, a.stats);
    EXPECT_EQ(back.flags, a.flags);
    std::vector<domain_stats_record> recs{
        {a.doms[0], {{"state.state", std::int32_t{1}}, {"block.count", std::uint32_t{2}}, {"block.0.name", std::string("vda")},
                     {"block.0.rd.bytes", std::uint64_t{1} << 40}, {"vcpu.0.halted", true}}},
        {a.doms[0], {}}};
    EXPECT_EQ(P::from_wire(rpc::xdr::from_bytes<P::ret>(rpc::xdr::to_bytes(P::to_wire(recs)))), recs);
}

domain_event round_trip(const domain_event& e, bool legacy, std::int32_t expect_proc) {
    auto pkt = rpc::events::encode_domain_event(e, 7, legacy);
    EXPECT_GE(pkt.size(), 28U);
    std::int32_t proc = static_cast<std::int32_t>((pkt[12] << 24) | (pkt[13] << 16) | (pkt[14] << 8) | pkt[15]);
    EXPECT_EQ(proc, expect_proc);
    auto d = rpc::events::decode_event(proc, std::span<const std::uint8_t>(pkt).subspan(28));
    EXPECT_TRUE(d.has_value());
    if (!d) return {};
    EXPECT_EQ(d->callback.has_value(), !legacy);
    return std::get<domain_event>(d->what);
}

TEST(domain_stats, newer_qemu_events_travel_as_libvirt_numbers_them) {
    domain_event e;
    e.dom = {"g", *virtpp::uuid::parse("11111111-2a5b-4f0e-9d3c-0e1f2a3b4c5d"), 4};
    e.id = domain_event_id::tray_change;
    e.device_alias = "ide0-1-0";
    e.reason = 1;
    EXPECT_EQ(round_trip(e, false, 328), e);
    EXPECT_EQ(round_trip(e, true, 268), e);
    domain_event b;
    b.dom = e.dom;
    b.id = domain_event_id::balloon_change;
    b.balloon_actual_kib = 524288;
    EXPECT_EQ(round_trip(b, false, 331), b);
    EXPECT_EQ(round_trip(b, true, 276), b);
    domain_event s;
    s.dom = e.dom;
    s.id = domain_event_id::pmsuspend;
    EXPECT_EQ(round_trip(s, false, 330), s);
    s.id = domain_event_id::pmwakeup;
    EXPECT_EQ(round_trip(s, false, 329), s);
    EXPECT_EQ(round_trip(s, true, 269), s);
    domain_event j;
    j.dom = e.dom;
    j.id = domain_event_id::job_completed;
    j.job_stats = {{"type", std::int32_t{3}}, {"time_elapsed", std::uint64_t{1234}}};
    EXPECT_EQ(round_trip(j, false, 363), j);
    EXPECT_TRUE(rpc::events::encode_domain_event(j, 7, true).empty());  // no legacy form
}

}  // namespace
