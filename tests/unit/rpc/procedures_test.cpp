#include <virtpp/rpc/procedures.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <set>

namespace {

using namespace virtpp;
using namespace virtpp::rpc;

// Every operation has exactly one client procedure (checked at compile time by instantiating it),
// and no two procedures share a number.
template <class... Ops>
constexpr bool all_have_client_procedure(std::tuple<Ops...>) {
    return ((client_procedure_t<Ops>::number > 0) && ...);
}
static_assert(all_have_client_procedure(op::all{}));

TEST(rpc_procedures, numbers_are_unique_and_libvirts) {
    std::set<std::int32_t> seen;
    auto check = [&](std::int32_t n) { EXPECT_TRUE(seen.insert(n).second) << "duplicate procedure " << n; };
    std::apply([&](auto... p) { (check(decltype(p)::number), ...); }, procedures{});
    EXPECT_EQ(client_procedure_t<op::domain_suspend>::number, 34);
    EXPECT_EQ(client_procedure_t<op::connect_list_all_domains>::number, 273);
    EXPECT_EQ(client_procedure_t<op::domain_create>::number, 196);
    EXPECT_EQ(proc::domain_create::number, 9);
}

TEST(rpc_procedures, conversions_round_trip) {
    using P = proc::node_get_info;
    node_info n{"i686", 3145728, 16, 1400, 2, 2, 2, 2};
    auto wire = xdr::from_bytes<P::ret>(xdr::to_bytes(P::to_wire(n)));
    EXPECT_EQ(P::from_wire(wire), n);
    EXPECT_EQ(xdr::to_bytes(P::to_wire(n)).size(), 128u + 8 + 24);

    using M = proc::node_get_cpu_map;
    std::vector<bool> online(16, true);
    online[3] = false;
    EXPECT_EQ(M::from_wire(M::to_wire(online)), online);
    EXPECT_EQ(M::to_wire(online).online, 15u);

    using V = proc::domain_pin_vcpu_flags;
    op::domain_pin_vcpu::args pin;
    pin.dom.name = "t";
    pin.vcpu = 1;
    pin.cpumap = {true, false, true};
    auto back = V::to_op(V::from_op(pin));
    EXPECT_EQ(back.cpumap.size(), 8u);
    EXPECT_TRUE(back.cpumap[0] && !back.cpumap[1] && back.cpumap[2]);

    using S = proc::node_get_security_model;
    auto model = S::from_wire(xdr::from_bytes<S::ret>(xdr::to_bytes(S::to_wire({"testSecurity", ""}))));
    EXPECT_EQ(model.model, "testSecurity");
    EXPECT_EQ(model.doi, "");
}

// The migration steps carry every field libvirt's v3 procedures carry, through XDR and back.
TEST(rpc_procedures, migration_steps_keep_cookies_and_uris) {
    const op::migrate_cookie cookie{'<', 'q', '>', 0};
    domain_ref dom{"g", *uuid::parse("6d1b52a8-6f8e-4a4c-9d77-5c4a0e0b6a01"), 3};
    auto through = [](auto p, const auto& args) {
        using P = decltype(p);
        return P::to_op(xdr::from_bytes<typename P::args>(xdr::to_bytes(P::from_op(args))));
    };

    auto begin = through(proc::domain_migrate_begin3{}, op::domain_migrate_begin::args{dom, "<domain/>", 9, "g2", 7});
    EXPECT_EQ(begin.dom, dom);
    EXPECT_EQ(begin.xmlin, "<domain/>");
    EXPECT_EQ(begin.flags, 9u);
    EXPECT_EQ(begin.dname, "g2");
    EXPECT_EQ(begin.bandwidth, 7u);
    using B = proc::domain_migrate_begin3;
    auto begun = B::from_wire(xdr::from_bytes<B::ret>(xdr::to_bytes(B::to_wire({cookie, "<domain/>"}))));
    EXPECT_EQ(begun.cookie, cookie);
    EXPECT_EQ(begun.xml, "<domain/>");

    auto prep = through(proc::domain_migrate_prepare3{}, op::domain_migrate_prepare::args{cookie, "tcp://h", 1, std::nullopt, 0, "<x/>"});
    EXPECT_EQ(prep.cookie, cookie);
    EXPECT_EQ(prep.uri_in, "tcp://h");
    EXPECT_EQ(prep.xml, "<x/>");
    using R = proc::domain_migrate_prepare3;
    auto prepared = R::from_wire(xdr::from_bytes<R::ret>(xdr::to_bytes(R::to_wire({cookie, "tcp:h:49152"}))));
    EXPECT_EQ(prepared.cookie, cookie);
    EXPECT_EQ(prepared.uri_out, "tcp:h:49152");

    auto perf = through(proc::domain_migrate_perform3{},
                        op::domain_migrate_perform::args{dom, std::nullopt, cookie, std::nullopt, "tcp:h:49152", 1, std::nullopt, 0});
    EXPECT_EQ(perf.cookie, cookie);
    EXPECT_EQ(perf.uri, "tcp:h:49152");
    EXPECT_FALSE(perf.dconnuri);

    auto fin = through(proc::domain_migrate_finish3{}, op::domain_migrate_finish::args{"g", cookie, std::nullopt, "tcp:h:1", 8, true});
    EXPECT_EQ(fin.name, "g");
    EXPECT_EQ(fin.cookie, cookie);
    EXPECT_EQ(fin.uri, "tcp:h:1");
    EXPECT_TRUE(fin.cancelled);
    using F = proc::domain_migrate_finish3;
    auto finished = F::from_wire(xdr::from_bytes<F::ret>(xdr::to_bytes(F::to_wire({dom, cookie}))));
    EXPECT_EQ(finished.dom, dom);
    EXPECT_EQ(finished.cookie, cookie);

    auto conf = through(proc::domain_migrate_confirm3{}, op::domain_migrate_confirm::args{dom, cookie, 16, false});
    EXPECT_EQ(conf.cookie, cookie);
    EXPECT_EQ(conf.flags, 16u);
    EXPECT_FALSE(conf.cancelled);
}

}  // namespace

namespace {

// The job procedures: libvirt's numbers, remote_domain_get_job_info_ret's twelve fields (4 + 11 x 8
// bytes), GET_JOB_STATS' typed parameters, and ABORT_JOB's flags through ABORT_JOB_FLAGS.
TEST(rpc_procedures, jobs_carry_libvirts_layouts) {
    EXPECT_EQ(client_procedure_t<op::domain_get_job_info>::number, 163);
    EXPECT_EQ(client_procedure_t<op::domain_get_job_stats>::number, 298);
    EXPECT_EQ(client_procedure_t<op::domain_abort_job>::number, 442);
    EXPECT_EQ(proc::domain_abort_job::number, 164);

    using I = proc::domain_get_job_info;
    job_info info{job_type::unbounded, 1500, 0, 300, 100, 200, 300, 100, 200, 0, 0, 0};
    auto bytes = xdr::to_bytes(I::to_wire(info));
    EXPECT_EQ(bytes.size(), 4u + 11 * 8);
    EXPECT_EQ(I::from_wire(xdr::from_bytes<I::ret>(bytes)), info);

    using S = proc::domain_get_job_stats;
    job_stats stats{job_type::completed,
                    {{"operation", std::int32_t{job_operation::save}}, {"time_elapsed", std::uint64_t{42}},
                     {"data_total", std::uint64_t{4096}}, {"data_remaining", std::uint64_t{0}}}};
    auto back = S::from_wire(xdr::from_bytes<S::ret>(xdr::to_bytes(S::to_wire(stats))));
    EXPECT_EQ(back, stats);
    EXPECT_EQ(back.i32(job_field::operation), job_operation::save);
    auto derived = job_info_from_stats(back);
    EXPECT_EQ(derived.type, job_type::completed);
    EXPECT_EQ(derived.time_elapsed, 42u);
    EXPECT_EQ(derived.data_total, 4096u);

    using A = proc::domain_abort_job_flags;
    domain_ref dom{"g", *uuid::parse("6d1b52a8-6f8e-4a4c-9d77-5c4a0e0b6a01"), 3};
    auto abort = A::to_op(xdr::from_bytes<A::args>(xdr::to_bytes(A::from_op({dom, 1}))));
    EXPECT_EQ(abort.dom, dom);
    EXPECT_EQ(abort.flags, 1u);
    EXPECT_EQ(proc::domain_abort_job::to_op({dom}).flags, 0u);
}

}  // namespace

// ---- the table against libvirt's protocol ----------------------------------------------------
// Every procedure virtpp serves or calls must be one of libvirt 9.0's (remote_protocol.x, through
// the generated src/daemon/libvirt_procedures.hpp), and the operation a client procedure carries
// must be the API libvirt names for that number, with the same read-only rule. Served-only entries
// (the older forms stock clients still send) carry an operation of their own family, so only their
// number is checked; a client entry whose API differs from the number's is listed with its reason.
#include "daemon/libvirt_procedures.hpp"

namespace {

const virtpp::daemon::libvirt_procedure* libvirt_entry(std::int32_t number) {
    for (const auto& p : virtpp::daemon::libvirt_procedures)
        if (p.number == number) return &p;
    return nullptr;
}

/// Client procedures whose operation is a different libvirt API than the procedure's own, and why:
/// the operation takes flags, so its client procedure is libvirt's Flags form of the same call.
struct known_difference {
    std::string_view op_api;
    std::string_view procedure_api;
};
constexpr known_difference differences[] = {
    {"virDomainDefineXML", "virDomainDefineXMLFlags"},
    {"virDomainCreate", "virDomainCreateWithFlags"},
    {"virDomainShutdown", "virDomainShutdownFlags"},
    {"virDomainDestroy", "virDomainDestroyFlags"},
    {"virDomainSetSchedulerParameters", "virDomainSetSchedulerParametersFlags"},
    {"virDomainAbortJob", "virDomainAbortJobFlags"},
};

bool known(std::string_view op_api, std::string_view procedure_api) {
    for (const auto& d : differences)
        if (d.op_api == op_api && d.procedure_api == procedure_api) return true;
    return false;
}

/// APIs libvirt refuses on read-only connections only for some arguments (the generated table
/// marks any API whose body checks read-only): the driver refuses those arguments itself.
constexpr std::string_view conditionally_read_only[] = {
    "virDomainGetVcpusFlags",        // only with VIR_DOMAIN_VCPU_GUEST
    "virDomainInterfaceAddresses",   // only with the guest agent as the source
};

bool conditional(std::string_view api) {
    return std::find(std::begin(conditionally_read_only), std::end(conditionally_read_only), api) !=
           std::end(conditionally_read_only);
}

}  // namespace

TEST(rpc_procedures, every_number_is_libvirts_with_its_api) {
    std::size_t client = 0, served_only = 0;
    auto check = [&](auto p) {
        using P = decltype(p);
        using Op = typename P::operation;
        const auto* lv = libvirt_entry(P::number);
        ASSERT_NE(lv, nullptr) << "procedure " << P::number << " (" << Op::name << ") is not in libvirt 9.0's protocol";
        if (!P::client) {
            ++served_only;
            return;
        }
        ++client;
        if (lv->api != Op::name) {
            EXPECT_TRUE(known(Op::name, lv->api))
                << "procedure " << P::number << " is " << lv->api << " in libvirt, but carries " << Op::name;
        } else if (!conditional(Op::name)) {
            EXPECT_EQ(lv->mutates, Op::mutates) << Op::name << ": read-only rule differs from libvirt's";
        }
    };
    std::apply([&](auto... p) { (check(p), ...); }, procedures{});
    EXPECT_EQ(client, std::tuple_size_v<op::all>);  // one client procedure per operation
    EXPECT_GT(served_only, 0U);
}
