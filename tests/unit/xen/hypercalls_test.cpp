// The hypercalls part without Xen: the structures' byte layouts checked against Xen's public
// headers (sysctl.h / domctl.h of the sysctl 2-3 / domctl 3-5 interfaces, x86_64), and the part's
// detection and operations against a stand-in hypervisor that reads and writes those same bytes
// and refuses any other interface version with -EACCES, as Xen does.
#include "hypervisor/xen_hypercall_abi.hpp"

#include <virtpp/error.hpp>
#include <virtpp/xen/part_hypercalls.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

namespace virtpp {
namespace {

namespace abi = xen::abi;

template <class T>
std::vector<std::uint8_t> bytes_of(const T& v) {
    std::vector<std::uint8_t> out(sizeof v);
    std::memcpy(out.data(), &v, sizeof v);
    return out;
}
/// Puts a little-endian value of n bytes at offset (the header's layout, written out by hand).
void put(std::vector<std::uint8_t>& b, std::size_t offset, std::uint64_t value, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) b[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
}

TEST(XenHypercallAbi, GetDomainInfoBytesMatchDomctlH) {
    abi::xen_domctl_getdomaininfo d{};
    d.domain = 0x0102;
    d.flags = 0x03040506;
    d.tot_pages = 0x1112131415161718ULL;
    d.max_pages = 0x2122232425262728ULL;
    d.shared_info_frame = 0x3132333435363738ULL;
    d.cpu_time = 0x4142434445464748ULL;
    d.nr_online_vcpus = 0x51525354;
    d.max_vcpu_id = 0x61626364;
    d.ssidref = 0x71727374;
    for (int i = 0; i < 16; ++i) d.handle[i] = static_cast<std::uint8_t>(0x80 + i);
    // struct xen_domctl_getdomaininfo: domid_t domain; uint32_t flags; uint64_aligned_t tot_pages,
    // max_pages, shared_info_frame, cpu_time; uint32_t nr_online_vcpus, max_vcpu_id, ssidref;
    // xen_domain_handle_t handle; — 72 bytes with the tail padding of an 8-aligned struct
    std::vector<std::uint8_t> want(72, 0);
    put(want, 0, 0x0102, 2);
    put(want, 4, 0x03040506, 4);
    put(want, 8, 0x1112131415161718ULL, 8);
    put(want, 16, 0x2122232425262728ULL, 8);
    put(want, 24, 0x3132333435363738ULL, 8);
    put(want, 32, 0x4142434445464748ULL, 8);
    put(want, 40, 0x51525354, 4);
    put(want, 44, 0x61626364, 4);
    put(want, 48, 0x71727374, 4);
    for (int i = 0; i < 16; ++i) want[52 + i] = static_cast<std::uint8_t>(0x80 + i);
    auto got = bytes_of(d);
    got[2] = got[3] = 0;  // padding after domid_t
    for (std::size_t i = 68; i < 72; ++i) got[i] = 0;
    EXPECT_EQ(got, want);
}

TEST(XenHypercallAbi, SysctlAndDomctlBlocks) {
    abi::xen_sysctl s{};
    s.cmd = abi::sysctl_getdomaininfolist;
    s.interface_version = 3;
    s.u.getdomaininfolist.first_domain = 7;
    s.u.getdomaininfolist.max_domains = 9;
    s.u.getdomaininfolist.buffer = 0xAABBCCDDEEFF0011ULL;
    s.u.getdomaininfolist.num_domains = 5;
    // struct xen_sysctl: cmd, interface_version, then the union at 8 (128 bytes);
    // getdomaininfolist: first_domain @0, max_domains @4, buffer (a 64-bit handle) @8, num_domains @16
    auto b = bytes_of(s);
    ASSERT_EQ(b.size(), 136U);
    std::vector<std::uint8_t> want(136, 0);
    put(want, 0, 6, 4);
    put(want, 4, 3, 4);
    put(want, 8, 7, 2);
    put(want, 12, 9, 4);
    put(want, 16, 0xAABBCCDDEEFF0011ULL, 8);
    put(want, 24, 5, 4);
    b[10] = b[11] = 0;
    EXPECT_EQ(b, want);

    abi::xen_domctl d{};
    d.cmd = abi::domctl_setvcpuaffinity;
    d.interface_version = 5;
    d.domain = 4;
    d.u.vcpuaffinity.vcpu = 1;
    d.u.vcpuaffinity.map.bitmap = 0x1122334455667788ULL;
    d.u.vcpuaffinity.map.nr_cpus = 64;
    // struct xen_domctl: cmd @0, interface_version @4, domain @8, union @16 (8-aligned);
    // xen_domctl_vcpuaffinity: vcpu @0, xenctl_cpumap { bitmap handle @8, nr_cpus @16 }
    auto db = bytes_of(d);
    ASSERT_EQ(db.size(), 144U);
    std::vector<std::uint8_t> dwant(144, 0);
    put(dwant, 0, 9, 4);
    put(dwant, 4, 5, 4);
    put(dwant, 8, 4, 2);
    put(dwant, 16, 1, 4);
    put(dwant, 24, 0x1122334455667788ULL, 8);
    put(dwant, 32, 64, 4);
    for (std::size_t i : {10, 11, 12, 13, 14, 15, 20, 21, 22, 23}) db[i] = 0;
    EXPECT_EQ(db, dwant);
    EXPECT_EQ(abi::ioctl_privcmd_hypercall, 0x00305000UL);  // _IOC(_IOC_NONE, 'P', 0, 48)
}

/// A hypervisor speaking one interface generation through the byte layouts.
class fake_xen final : public xen::hypercall_port {
public:
    struct dom {
        std::uint32_t flags;
        std::uint64_t tot_pages, max_pages;
        std::uint32_t vcpus;
        std::vector<std::uint8_t> affinity;  // one byte map for every vcpu
    };
    fake_xen(abi::interface_versions v, std::map<int, dom>& domains) : v_(v), domains_(domains) {}
    std::vector<std::uint32_t> log;

    long call(std::uint64_t op, std::uint64_t arg0, std::uint64_t) override {
        if (op == abi::hypervisor_xen_version) return (3 << 16) | 1;
        if (op == abi::hypervisor_sysctl) {
            auto* s = reinterpret_cast<abi::xen_sysctl*>(arg0);
            if (s->interface_version != v_.sysctl) return -EACCES;
            log.push_back(s->cmd);
            if (s->cmd == abi::sysctl_getdomaininfolist) {
                auto* out = reinterpret_cast<abi::xen_domctl_getdomaininfo*>(s->u.getdomaininfolist.buffer);
                std::uint32_t n = 0;
                for (auto it = domains_.lower_bound(s->u.getdomaininfolist.first_domain);
                     it != domains_.end() && n < s->u.getdomaininfolist.max_domains; ++it, ++n)
                    out[n] = record(it->first, it->second);
                s->u.getdomaininfolist.num_domains = n;
                return 0;
            }
            if (s->cmd == abi::sysctl_physinfo) {
                s->u.physinfo = {};
                s->u.physinfo.threads_per_core = 2;
                s->u.physinfo.cores_per_socket = 2;
                s->u.physinfo.sockets_per_node = 1;
                s->u.physinfo.nr_nodes = 1;
                s->u.physinfo.cpu_khz = 2992000;
                s->u.physinfo.total_pages = 2096640;  // 8190 MiB of 4 KiB pages
                return 0;
            }
            return -ENOSYS;
        }
        if (op == abi::hypervisor_domctl) {
            auto* d = reinterpret_cast<abi::xen_domctl*>(arg0);
            if (d->interface_version != v_.domctl) return -EACCES;
            log.push_back(d->cmd);
            auto it = domains_.find(d->domain);
            if (it == domains_.end()) return -ESRCH;
            auto& g = it->second;
            switch (d->cmd) {
                case abi::domctl_pausedomain: g.flags = abi::dominf_paused; return 0;
                case abi::domctl_unpausedomain: g.flags = abi::dominf_running; return 0;
                case abi::domctl_destroydomain: domains_.erase(it); return 0;
                case abi::domctl_max_mem: g.max_pages = d->u.max_mem.max_memkb / 4; return 0;
                case abi::domctl_getvcpuinfo:
                    if (d->u.getvcpuinfo.vcpu >= g.vcpus) return -ESRCH;
                    d->u.getvcpuinfo.online = 1;
                    d->u.getvcpuinfo.running = d->u.getvcpuinfo.vcpu == 0;
                    d->u.getvcpuinfo.blocked = d->u.getvcpuinfo.vcpu != 0;
                    d->u.getvcpuinfo.cpu_time = 1000000000ULL * (d->u.getvcpuinfo.vcpu + 1);
                    d->u.getvcpuinfo.cpu = d->u.getvcpuinfo.vcpu + 1;
                    return 0;
                case abi::domctl_setvcpuaffinity:
                    g.affinity.at(d->u.vcpuaffinity.vcpu) = *reinterpret_cast<std::uint8_t*>(d->u.vcpuaffinity.map.bitmap);
                    return 0;
                case abi::domctl_getvcpuaffinity:
                    *reinterpret_cast<std::uint8_t*>(d->u.vcpuaffinity.map.bitmap) = g.affinity.at(d->u.vcpuaffinity.vcpu);
                    return 0;
                default: return -ENOSYS;
            }
        }
        return -ENOSYS;
    }

private:
    static abi::xen_domctl_getdomaininfo record(int id, const dom& g) {
        abi::xen_domctl_getdomaininfo r{};
        r.domain = static_cast<std::uint16_t>(id);
        r.flags = g.flags;
        r.tot_pages = g.tot_pages;
        r.max_pages = g.max_pages;
        r.cpu_time = 5000000000ULL;
        r.nr_online_vcpus = g.vcpus;
        r.max_vcpu_id = g.vcpus - 1;
        return r;
    }
    abi::interface_versions v_;
    std::map<int, dom>& domains_;
};

struct XenHypercalls : ::testing::TestWithParam<abi::interface_versions> {
    std::map<int, fake_xen::dom> domains{
        {0, {abi::dominf_running, 262144, 262144, 2, {0xF, 0xF}}},
        {5, {abi::dominf_blocked, 65536, 131072, 2, {0xF, 0xF}}},
        {7, {abi::dominf_shutdown | (abi::shutdown_crash << abi::dominf_shutdownshift), 1024, 1024, 1, {1}}},
    };
};

TEST_P(XenHypercalls, DetectsTheInterfaceAndPerforms) {
    auto port = std::make_unique<fake_xen>(GetParam(), domains);
    auto* fake = port.get();
    xen::hypercalls::state s(std::move(port));
    EXPECT_EQ(s.sysctl_version(), GetParam().sysctl);
    EXPECT_EQ(s.domctl_version(), GetParam().domctl);

    EXPECT_EQ(s.perform(op::connect_get_version{}, {}), 3001000U);
    EXPECT_EQ(s.perform(op::connect_list_domains{}, {}), (std::vector<int>{0, 5, 7}));
    auto n = s.perform(op::node_get_info{}, {});
    EXPECT_EQ(n.cpus, 4U);
    EXPECT_EQ(n.mhz, 2992U);
    EXPECT_EQ(n.memory_kib, 8386560U);

    domain_ref five{"five", {}, 5};
    auto info = s.perform(op::domain_get_info{}, {five});
    EXPECT_EQ(info.state, domain_state::blocked);
    EXPECT_EQ(info.memory_kib, 262144U);
    EXPECT_EQ(info.max_memory_kib, 524288U);
    EXPECT_EQ(info.vcpus, 2U);
    EXPECT_EQ(s.perform(op::domain_get_info{}, {domain_ref{"seven", {}, 7}}).state, domain_state::crashed);

    s.perform(op::domain_suspend{}, {five});
    EXPECT_EQ(s.perform(op::domain_get_info{}, {five}).state, domain_state::paused);
    s.perform(op::domain_resume{}, {five});
    EXPECT_EQ(s.perform(op::domain_get_info{}, {five}).state, domain_state::running);
    s.perform(op::domain_set_max_memory{}, {five, 1048576});
    EXPECT_EQ(domains[5].max_pages, 262144U);

    s.perform(op::domain_pin_vcpu{}, {five, 1, {false, true, false, true}, 0});
    EXPECT_EQ(domains[5].affinity[1], 0b1010);
    auto vcpus = s.perform(op::domain_get_vcpus{}, {five, 0, 0});
    ASSERT_EQ(vcpus.size(), 2U);
    EXPECT_EQ(vcpus[0].state, 1);
    EXPECT_EQ(vcpus[1].state, 2);
    EXPECT_EQ(vcpus[1].cpu, 2);
    EXPECT_EQ(vcpus[1].cpu_time_ns, 2000000000U);
    EXPECT_EQ(vcpus[1].affinity, (std::vector<bool>{false, true, false, true}));

    s.perform(op::domain_destroy{}, {five});
    EXPECT_FALSE(domains.contains(5));
    EXPECT_THROW((void)s.perform(op::domain_get_info{}, {five}), error);
    // a domain that is not running has no id: declined, for xend to answer
    EXPECT_THROW((void)s.perform(op::domain_get_info{}, {domain_ref{"off", {}, -1}}), hypervisor::part_declined);
    EXPECT_FALSE(fake->log.empty());
}

INSTANTIATE_TEST_SUITE_P(Interfaces, XenHypercalls,
                         ::testing::Values(abi::xen_3_0_sys2_dom3, abi::xen_3_0_sys2_dom4, abi::xen_3_1_sys3_dom5),
                         [](const auto& info) {
                             return "sysctl" + std::to_string(info.param.sysctl) + "_domctl" + std::to_string(info.param.domctl);
                         });

TEST(XenHypercallsDetect, UnknownInterfaceIsDeclined) {
    std::map<int, fake_xen::dom> domains{{0, {abi::dominf_running, 1, 1, 1, {1}}}};
    EXPECT_THROW(xen::hypercalls::state(std::make_unique<fake_xen>(abi::interface_versions{6, 7}, domains)),
                 hypervisor::part_declined);
}

TEST(XenHypercallsDetect, NoPrivcmdIsDeclined) {
    xen::context ctx;
    ctx.privcmd_path = "/nonexistent/privcmd";
    EXPECT_THROW(xen::hypercalls::open(ctx), hypervisor::part_declined);
    ctx.local_host = false;
    EXPECT_THROW(xen::hypercalls::open(ctx), hypervisor::part_declined);
}

}  // namespace
}  // namespace virtpp
