#include <virtpp/rpc/procedures.hpp>

#include <gtest/gtest.h>

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

}  // namespace
