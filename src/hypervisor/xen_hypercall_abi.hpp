// The byte layouts of Xen's privcmd hypercall interface as libvirt 0.3.2 used it: the privcmd
// ioctl block, and the sysctl / domctl operation blocks of the "v2" hypercall generation in its
// three interface versions (sysctl 2 + domctl 3 or 4: Xen 3.0.4 and the RHEL 5.0 / Fedora 7 Xen
// 3.0/3.1 builds; sysctl 3 + domctl 5: Xen 3.1.0, where every 64-bit field and guest handle is
// 8-byte aligned). Field names follow Xen's public sysctl.h / domctl.h. The structs are laid out
// for an x86_64 dom0 (where uint64_t is 8-byte aligned anyway, so domctl 3/4 and 5 share a
// layout); static_asserts pin every offset to the headers' byte layout.
#pragma once

#include <cstddef>
#include <cstdint>

namespace virtpp::xen::abi {

// ---- privcmd -----------------------------------------------------------------------------------

/// privcmd_hypercall_t (the 64-bit "v1" block libvirt prefers): op and five arguments.
struct privcmd_hypercall {
    std::uint64_t op;
    std::uint64_t arg[5];
};
static_assert(sizeof(privcmd_hypercall) == 48);

/// _IOC(_IOC_NONE, 'P', 0, sizeof(privcmd_hypercall)): IOCTL_PRIVCMD_HYPERCALL.
inline constexpr unsigned long ioctl_privcmd_hypercall =
    (0UL << 30) | (static_cast<unsigned long>(sizeof(privcmd_hypercall)) << 16) | (0x50UL << 8) | 0UL;
static_assert(ioctl_privcmd_hypercall == 0x00305000UL);

// ---- hypercall numbers (xen.h) and xen_version (version.h) ---------------------------------------

inline constexpr std::uint64_t hypervisor_xen_version = 17;  ///< __HYPERVISOR_xen_version
inline constexpr std::uint64_t hypervisor_sysctl = 35;       ///< __HYPERVISOR_sysctl
inline constexpr std::uint64_t hypervisor_domctl = 36;       ///< __HYPERVISOR_domctl
inline constexpr std::uint64_t xenver_version = 0;           ///< XENVER_version: (major << 16) | minor

// ---- sysctl -------------------------------------------------------------------------------------

inline constexpr std::uint32_t sysctl_physinfo = 3;           ///< XEN_SYSCTL_physinfo
inline constexpr std::uint32_t sysctl_getdomaininfolist = 6;  ///< XEN_SYSCTL_getdomaininfolist

/// struct xen_domctl_getdomaininfo (also the element of getdomaininfolist's buffer).
struct xen_domctl_getdomaininfo {
    std::uint16_t domain;  ///< domid_t
    std::uint32_t flags;   ///< XEN_DOMINF_*
    alignas(8) std::uint64_t tot_pages;
    alignas(8) std::uint64_t max_pages;
    alignas(8) std::uint64_t shared_info_frame;
    alignas(8) std::uint64_t cpu_time;  ///< ns
    std::uint32_t nr_online_vcpus;
    std::uint32_t max_vcpu_id;
    std::uint32_t ssidref;
    std::uint8_t handle[16];  ///< xen_domain_handle_t: the domain's UUID
};
static_assert(offsetof(xen_domctl_getdomaininfo, domain) == 0);
static_assert(offsetof(xen_domctl_getdomaininfo, flags) == 4);
static_assert(offsetof(xen_domctl_getdomaininfo, tot_pages) == 8);
static_assert(offsetof(xen_domctl_getdomaininfo, max_pages) == 16);
static_assert(offsetof(xen_domctl_getdomaininfo, shared_info_frame) == 24);
static_assert(offsetof(xen_domctl_getdomaininfo, cpu_time) == 32);
static_assert(offsetof(xen_domctl_getdomaininfo, nr_online_vcpus) == 40);
static_assert(offsetof(xen_domctl_getdomaininfo, max_vcpu_id) == 44);
static_assert(offsetof(xen_domctl_getdomaininfo, ssidref) == 48);
static_assert(offsetof(xen_domctl_getdomaininfo, handle) == 52);
static_assert(sizeof(xen_domctl_getdomaininfo) == 72);

/// XEN_DOMINF_* bits of getdomaininfo::flags.
inline constexpr std::uint32_t dominf_dying = 1U << 0;
inline constexpr std::uint32_t dominf_hvm_guest = 1U << 1;
inline constexpr std::uint32_t dominf_shutdown = 1U << 2;
inline constexpr std::uint32_t dominf_paused = 1U << 3;
inline constexpr std::uint32_t dominf_blocked = 1U << 4;
inline constexpr std::uint32_t dominf_running = 1U << 5;
inline constexpr unsigned dominf_shutdownshift = 16;
inline constexpr std::uint32_t dominf_shutdownmask = 255;
inline constexpr std::uint32_t shutdown_crash = 3;  ///< SHUTDOWN_crash (sched.h)

/// struct xen_sysctl_getdomaininfolist: buffer is a 64-bit guest handle (a pointer in dom0).
struct xen_sysctl_getdomaininfolist {
    std::uint16_t first_domain;
    std::uint32_t max_domains;
    alignas(8) std::uint64_t buffer;
    std::uint32_t num_domains;
};
static_assert(offsetof(xen_sysctl_getdomaininfolist, first_domain) == 0);
static_assert(offsetof(xen_sysctl_getdomaininfolist, max_domains) == 4);
static_assert(offsetof(xen_sysctl_getdomaininfolist, buffer) == 8);
static_assert(offsetof(xen_sysctl_getdomaininfolist, num_domains) == 16);

/// struct xen_sysctl_physinfo (sysctl 2 and 3).
struct xen_sysctl_physinfo {
    std::uint32_t threads_per_core;
    std::uint32_t cores_per_socket;
    std::uint32_t sockets_per_node;
    std::uint32_t nr_nodes;
    std::uint32_t cpu_khz;
    alignas(8) std::uint64_t total_pages;
    alignas(8) std::uint64_t free_pages;
    alignas(8) std::uint64_t scrub_pages;
    std::uint32_t hw_cap[8];
};
static_assert(offsetof(xen_sysctl_physinfo, cpu_khz) == 16);
static_assert(offsetof(xen_sysctl_physinfo, total_pages) == 24);
static_assert(offsetof(xen_sysctl_physinfo, free_pages) == 32);
static_assert(offsetof(xen_sysctl_physinfo, scrub_pages) == 40);
static_assert(offsetof(xen_sysctl_physinfo, hw_cap) == 48);
static_assert(sizeof(xen_sysctl_physinfo) == 80);

/// struct xen_sysctl: cmd, interface_version, then a 128-byte union.
struct xen_sysctl {
    std::uint32_t cmd;
    std::uint32_t interface_version;
    union {
        xen_sysctl_getdomaininfolist getdomaininfolist;
        xen_sysctl_physinfo physinfo;
        std::uint8_t pad[128];
    } u;
};
static_assert(offsetof(xen_sysctl, u) == 8);
static_assert(sizeof(xen_sysctl) == 136);

// ---- domctl -------------------------------------------------------------------------------------

inline constexpr std::uint32_t domctl_destroydomain = 2;
inline constexpr std::uint32_t domctl_pausedomain = 3;
inline constexpr std::uint32_t domctl_unpausedomain = 4;
inline constexpr std::uint32_t domctl_getdomaininfo = 5;
inline constexpr std::uint32_t domctl_setvcpuaffinity = 9;
inline constexpr std::uint32_t domctl_max_mem = 11;
inline constexpr std::uint32_t domctl_getvcpuinfo = 14;
inline constexpr std::uint32_t domctl_max_vcpus = 15;
inline constexpr std::uint32_t domctl_getvcpuaffinity = 25;

/// struct xenctl_cpumap: a guest handle to the bitmap and its size in bits.
struct xenctl_cpumap {
    alignas(8) std::uint64_t bitmap;
    std::uint32_t nr_cpus;
};
static_assert(offsetof(xenctl_cpumap, nr_cpus) == 8);
static_assert(sizeof(xenctl_cpumap) == 16);

/// struct xen_domctl_vcpuaffinity (set and get).
struct xen_domctl_vcpuaffinity {
    std::uint32_t vcpu;
    xenctl_cpumap map;
};
static_assert(offsetof(xen_domctl_vcpuaffinity, map) == 8);

/// struct xen_domctl_getvcpuinfo.
struct xen_domctl_getvcpuinfo {
    std::uint32_t vcpu;
    std::uint8_t online;
    std::uint8_t blocked;
    std::uint8_t running;
    alignas(8) std::uint64_t cpu_time;
    std::uint32_t cpu;
};
static_assert(offsetof(xen_domctl_getvcpuinfo, online) == 4);
static_assert(offsetof(xen_domctl_getvcpuinfo, running) == 6);
static_assert(offsetof(xen_domctl_getvcpuinfo, cpu_time) == 8);
static_assert(offsetof(xen_domctl_getvcpuinfo, cpu) == 16);

/// struct xen_domctl_max_mem / xen_domctl_max_vcpus.
struct xen_domctl_max_mem {
    alignas(8) std::uint64_t max_memkb;
};
struct xen_domctl_max_vcpus {
    std::uint32_t max;
};

/// struct xen_domctl: cmd, interface_version, domain, then a 128-byte union (8-aligned).
struct xen_domctl {
    std::uint32_t cmd;
    std::uint32_t interface_version;
    std::uint16_t domain;
    union {
        xen_domctl_getdomaininfo getdomaininfo;
        xen_domctl_max_mem max_mem;
        xen_domctl_max_vcpus max_vcpus;
        xen_domctl_vcpuaffinity vcpuaffinity;
        xen_domctl_getvcpuinfo getvcpuinfo;
        std::uint8_t pad[128];
    } u;
};
static_assert(offsetof(xen_domctl, domain) == 8);
static_assert(offsetof(xen_domctl, u) == 16);
static_assert(sizeof(xen_domctl) == 144);

/// The interface generations libvirt 0.3.2 detected, newest last.
struct interface_versions {
    std::uint32_t sysctl;
    std::uint32_t domctl;
    friend bool operator==(const interface_versions&, const interface_versions&) = default;
};
inline constexpr interface_versions xen_3_0_sys2_dom3{2, 3};  ///< Xen 3.0.x with domctl (RHEL 5.0)
inline constexpr interface_versions xen_3_0_sys2_dom4{2, 4};  ///< Xen 3.0.4 / Fedora 7's 3.1 builds
inline constexpr interface_versions xen_3_1_sys3_dom5{3, 5};  ///< Xen 3.1.0

}  // namespace virtpp::xen::abi
