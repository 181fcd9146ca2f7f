// The hypercalls part: sysctl / domctl blocks laid out as hypervisor/xen_hypercall_abi.hpp says,
// handed to privcmd's ioctl. Detection follows libvirt 0.3.2: the xen_version hypercall must
// answer, then Domain-0's info and its vcpu 0 must be readable in an interface version.
#include <virtpp/error.hpp>
#include <virtpp/hypervisor/first_of.hpp>
#include <virtpp/xen/part_hypercalls.hpp>

#include "hypervisor/xen_hypercall_abi.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace virtpp::xen {

struct hypercalls::state::raw_domain {
    abi::xen_domctl_getdomaininfo info;
};

namespace {

constexpr std::uint64_t kib_per_page = 4;  // x86 pages

/// privcmd's hypercall ioctl on an open file.
class privcmd_port final : public hypercall_port {
public:
    explicit privcmd_port(int fd) : fd_(fd) {}
    ~privcmd_port() override { ::close(fd_); }
    privcmd_port(const privcmd_port&) = delete;
    privcmd_port& operator=(const privcmd_port&) = delete;

    long call(std::uint64_t op, std::uint64_t arg0, std::uint64_t arg1) override {
        abi::privcmd_hypercall hc{};
        hc.op = op;
        hc.arg[0] = arg0;
        hc.arg[1] = arg1;
        long ret = ::ioctl(fd_, abi::ioctl_privcmd_hypercall, &hc);
        return ret < 0 ? -errno : ret;
    }

private:
    int fd_;
};

/// Keeps a buffer Xen reads or writes in RAM for the length of a hypercall (as libvirt did).
class locked_memory {
public:
    locked_memory(const void* p, std::size_t n) : p_(p), n_(n) {
        if (n_ != 0 && ::mlock(p_, n_) != 0)
            raise(error_code::xen_call, error_domain::xen, std::string("locking ") + std::to_string(n_) +
                                                               " bytes for a hypercall: " + std::strerror(errno));
    }
    ~locked_memory() {
        if (n_ != 0) ::munlock(p_, n_);
    }
    locked_memory(const locked_memory&) = delete;
    locked_memory& operator=(const locked_memory&) = delete;

private:
    const void* p_;
    std::size_t n_;
};

std::uint64_t handle_of(const void* p) { return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)); }

[[noreturn]] void call_failed(std::string_view what, long ret) {
    raise(error_code::xen_call, error_domain::xen,
          std::string(what) + " failed: " + std::strerror(static_cast<int>(ret < 0 ? -ret : ret)));
}

}  // namespace

std::shared_ptr<hypercalls::state> hypercalls::open(context& ctx) {
    if (!ctx.local_host) throw hypervisor::part_declined("hypercalls only reach this host's hypervisor");
    std::vector<std::string> candidates;
    if (!ctx.privcmd_path.empty()) candidates.push_back(ctx.privcmd_path);
    else candidates = {"/proc/xen/privcmd", "/dev/xen/privcmd"};
    std::string why;
    for (const auto& path : candidates) {
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd >= 0) return std::make_shared<state>(std::make_unique<privcmd_port>(fd));
        if (!why.empty()) why += ", ";
        why += path + ": " + std::strerror(errno);
    }
    throw hypervisor::part_declined("no privcmd (" + why + ")");
}

hypercalls::state::state(std::unique_ptr<hypercall_port> port) : port_(std::move(port)) {
    long version = port_->call(abi::hypervisor_xen_version, abi::xenver_version, 0);
    if (version <= 0) call_failed("the xen_version hypercall", version == 0 ? EINVAL : version);
    for (auto v : {abi::xen_3_0_sys2_dom3, abi::xen_3_0_sys2_dom4, abi::xen_3_1_sys3_dom5}) {
        sysctl_version_ = v.sysctl;
        domctl_version_ = v.domctl;
        try {
            auto dom0 = domain_list(0, 1);
            if (dom0.size() != 1 || dom0[0].info.domain != 0) continue;
            abi::xen_domctl op{};
            op.cmd = abi::domctl_getvcpuinfo;
            op.interface_version = domctl_version_;
            op.domain = 0;
            op.u.getvcpuinfo.vcpu = 0;
            locked_memory lock(&op, sizeof op);
            if (port_->call(abi::hypervisor_domctl, handle_of(&op), 0) < 0) continue;
            abi::xen_sysctl phys{};
            phys.cmd = abi::sysctl_physinfo;
            phys.interface_version = sysctl_version_;
            locked_memory lock2(&phys, sizeof phys);
            if (port_->call(abi::hypervisor_sysctl, handle_of(&phys), 0) >= 0)
                host_cpus_ = phys.u.physinfo.threads_per_core * phys.u.physinfo.cores_per_socket *
                             phys.u.physinfo.sockets_per_node * phys.u.physinfo.nr_nodes;
            return;
        } catch (const virtpp::error&) {
            continue;
        }
    }
    throw hypervisor::part_declined("Xen answers none of the hypercall interfaces known here (sysctl 2/domctl 3, "
                                    "sysctl 2/domctl 4, sysctl 3/domctl 5)");
}

std::vector<hypercalls::state::raw_domain> hypercalls::state::domain_list(std::uint16_t first, std::uint32_t max) {
    std::vector<abi::xen_domctl_getdomaininfo> buffer(max);
    abi::xen_sysctl op{};
    op.cmd = abi::sysctl_getdomaininfolist;
    op.interface_version = sysctl_version_;
    op.u.getdomaininfolist.first_domain = first;
    op.u.getdomaininfolist.max_domains = max;
    op.u.getdomaininfolist.buffer = handle_of(buffer.data());
    op.u.getdomaininfolist.num_domains = max;
    locked_memory lock_op(&op, sizeof op);
    locked_memory lock_buffer(buffer.data(), buffer.size() * sizeof(abi::xen_domctl_getdomaininfo));
    long ret = port_->call(abi::hypervisor_sysctl, handle_of(&op), 0);
    if (ret < 0) call_failed("sysctl getdomaininfolist", ret);
    std::uint32_t n = op.u.getdomaininfolist.num_domains;
    if (n > max) raise(error_code::xen_call, error_domain::xen, "Xen listed more domains than asked for");
    std::vector<raw_domain> out;
    for (std::uint32_t i = 0; i < n; ++i) out.push_back({buffer[i]});
    return out;
}

hypercalls::state::raw_domain hypercalls::state::domain_of(const domain_ref& dom) {
    if (dom.id < 0 || dom.id > 0x7fef)
        throw hypervisor::part_declined("'" + dom.name + "' is not running: hypercalls need a domain id");
    auto list = domain_list(static_cast<std::uint16_t>(dom.id), 1);
    if (list.empty() || list[0].info.domain != dom.id)
        raise(error_code::no_domain, error_domain::xen, "no domain with id " + std::to_string(dom.id));
    return list[0];
}

void hypercalls::state::simple_domctl(std::uint32_t cmd, const domain_ref& dom, std::string_view what) {
    if (dom.id < 0) throw hypervisor::part_declined("'" + dom.name + "' is not running: hypercalls need a domain id");
    abi::xen_domctl op{};
    op.cmd = cmd;
    op.interface_version = domctl_version_;
    op.domain = static_cast<std::uint16_t>(dom.id);
    locked_memory lock(&op, sizeof op);
    long ret = port_->call(abi::hypervisor_domctl, handle_of(&op), 0);
    if (ret < 0) call_failed(what, ret);
}

std::uint64_t hypercalls::state::perform(op::connect_get_version, const op::none&) {
    long v = port_->call(abi::hypervisor_xen_version, abi::xenver_version, 0);
    if (v <= 0) call_failed("the xen_version hypercall", v == 0 ? EINVAL : v);
    auto u = static_cast<std::uint64_t>(v);
    return (u >> 16) * 1000000 + (u & 0xFFFF) * 1000;
}

int hypercalls::state::perform(op::connect_get_max_vcpus, const op::connect_get_max_vcpus::args&) {
    return 32;  // MAX_VIRT_CPUS of Xen 3.0/3.1
}

node_info hypercalls::state::perform(op::node_get_info, const op::none&) {
    abi::xen_sysctl op{};
    op.cmd = abi::sysctl_physinfo;
    op.interface_version = sysctl_version_;
    locked_memory lock(&op, sizeof op);
    long ret = port_->call(abi::hypervisor_sysctl, handle_of(&op), 0);
    if (ret < 0) call_failed("sysctl physinfo", ret);
    const auto& p = op.u.physinfo;
    node_info info;
    utsname u{};
    if (::uname(&u) == 0) info.model = u.machine;
    info.memory_kib = p.total_pages * kib_per_page;
    info.nodes = p.nr_nodes;
    info.sockets = p.sockets_per_node;
    info.cores = p.cores_per_socket;
    info.threads = p.threads_per_core;
    info.cpus = p.threads_per_core * p.cores_per_socket * p.sockets_per_node * p.nr_nodes;
    info.mhz = p.cpu_khz / 1000;
    return info;
}

std::vector<int> hypercalls::state::perform(op::connect_list_domains, const op::none&) {
    std::vector<int> ids;
    for (const auto& d : domain_list(0, 1024)) ids.push_back(d.info.domain);
    return ids;
}

int hypercalls::state::perform(op::connect_num_of_domains, const op::none& a) {
    return static_cast<int>(perform(op::connect_list_domains{}, a).size());
}

domain_info hypercalls::state::perform(op::domain_get_info, const op::domain_get_info::args& a) {
    auto d = domain_of(a.dom).info;
    domain_info info;
    std::uint32_t flags = d.flags & ~abi::dominf_hvm_guest;
    switch (flags & 0xFF) {
        case abi::dominf_dying: info.state = domain_state::shutdown; break;
        case abi::dominf_shutdown:
            info.state = ((flags >> abi::dominf_shutdownshift) & abi::dominf_shutdownmask) == abi::shutdown_crash
                             ? domain_state::crashed
                             : domain_state::shutdown;
            break;
        case abi::dominf_paused: info.state = domain_state::paused; break;
        case abi::dominf_blocked: info.state = domain_state::blocked; break;
        case abi::dominf_running: info.state = domain_state::running; break;
        default: info.state = domain_state::nostate;
    }
    info.cpu_time_ns = d.cpu_time;
    info.memory_kib = d.tot_pages * kib_per_page;
    info.max_memory_kib = d.max_pages == 0xFFFFFFFFULL ? d.max_pages : d.max_pages * kib_per_page;
    info.vcpus = d.nr_online_vcpus;
    return info;
}

void hypercalls::state::perform(op::domain_suspend, const op::domain_suspend::args& a) {
    simple_domctl(abi::domctl_pausedomain, a.dom, "domctl pausedomain");
}
void hypercalls::state::perform(op::domain_resume, const op::domain_resume::args& a) {
    simple_domctl(abi::domctl_unpausedomain, a.dom, "domctl unpausedomain");
}
void hypercalls::state::perform(op::domain_destroy, const op::domain_destroy::args& a) {
    simple_domctl(abi::domctl_destroydomain, a.dom, "domctl destroydomain");
}

std::uint64_t hypercalls::state::perform(op::domain_get_max_memory, const op::domain_get_max_memory::args& a) {
    auto d = domain_of(a.dom).info;
    return d.max_pages * kib_per_page;
}

void hypercalls::state::perform(op::domain_set_max_memory, const op::domain_set_max_memory::args& a) {
    if (a.dom.id < 0) throw hypervisor::part_declined("'" + a.dom.name + "' is not running: hypercalls need a domain id");
    abi::xen_domctl op{};
    op.cmd = abi::domctl_max_mem;
    op.interface_version = domctl_version_;
    op.domain = static_cast<std::uint16_t>(a.dom.id);
    op.u.max_mem.max_memkb = a.kib;
    locked_memory lock(&op, sizeof op);
    long ret = port_->call(abi::hypervisor_domctl, handle_of(&op), 0);
    if (ret < 0) call_failed("domctl max_mem", ret);
}

void hypercalls::state::perform(op::domain_pin_vcpu, const op::domain_pin_vcpu::args& a) {
    if (a.dom.id < 0) throw hypervisor::part_declined("'" + a.dom.name + "' is not running: hypercalls need a domain id");
    std::vector<std::uint8_t> bitmap((a.cpumap.size() + 7) / 8, 0);
    for (std::size_t cpu = 0; cpu < a.cpumap.size(); ++cpu)
        if (a.cpumap[cpu]) bitmap[cpu / 8] = static_cast<std::uint8_t>(bitmap[cpu / 8] | (1U << (cpu % 8)));
    if (bitmap.empty()) raise(error_code::invalid_arg, error_domain::xen, "empty CPU map");
    abi::xen_domctl op{};
    op.cmd = abi::domctl_setvcpuaffinity;
    op.interface_version = domctl_version_;
    op.domain = static_cast<std::uint16_t>(a.dom.id);
    op.u.vcpuaffinity.vcpu = a.vcpu;
    op.u.vcpuaffinity.map.bitmap = handle_of(bitmap.data());
    op.u.vcpuaffinity.map.nr_cpus = static_cast<std::uint32_t>(bitmap.size() * 8);
    locked_memory lock(&op, sizeof op);
    locked_memory lock_map(bitmap.data(), bitmap.size());
    long ret = port_->call(abi::hypervisor_domctl, handle_of(&op), 0);
    if (ret < 0) call_failed("domctl setvcpuaffinity", ret);
}

std::vector<vcpu_info> hypercalls::state::perform(op::domain_get_vcpus, const op::domain_get_vcpus::args& a) {
    auto d = domain_of(a.dom).info;
    std::uint32_t count = d.max_vcpu_id + 1;
    if (a.maxinfo > 0 && static_cast<std::uint32_t>(a.maxinfo) < count) count = static_cast<std::uint32_t>(a.maxinfo);
    std::uint32_t cpus = host_cpus_ ? host_cpus_ : 1;
    std::vector<vcpu_info> out;
    for (std::uint32_t v = 0; v < count; ++v) {
        abi::xen_domctl op{};
        op.cmd = abi::domctl_getvcpuinfo;
        op.interface_version = domctl_version_;
        op.domain = d.domain;
        op.u.getvcpuinfo.vcpu = v;
        {
            locked_memory lock(&op, sizeof op);
            long ret = port_->call(abi::hypervisor_domctl, handle_of(&op), 0);
            if (ret < 0) call_failed("domctl getvcpuinfo", ret);
        }
        vcpu_info info;
        info.number = v;
        const auto& vi = op.u.getvcpuinfo;
        info.state = !vi.online ? 0 : vi.blocked ? 2 : vi.running ? 1 : 0;
        info.cpu_time_ns = vi.cpu_time;
        info.cpu = vi.online ? static_cast<int>(vi.cpu) : -1;
        std::vector<std::uint8_t> bitmap((cpus + 7) / 8, 0);
        abi::xen_domctl get{};
        get.cmd = abi::domctl_getvcpuaffinity;
        get.interface_version = domctl_version_;
        get.domain = d.domain;
        get.u.vcpuaffinity.vcpu = v;
        get.u.vcpuaffinity.map.bitmap = handle_of(bitmap.data());
        get.u.vcpuaffinity.map.nr_cpus = static_cast<std::uint32_t>(bitmap.size() * 8);
        {
            locked_memory lock(&get, sizeof get);
            locked_memory lock_map(bitmap.data(), bitmap.size());
            long ret = port_->call(abi::hypervisor_domctl, handle_of(&get), 0);
            if (ret < 0) call_failed("domctl getvcpuaffinity", ret);
        }
        for (std::uint32_t cpu = 0; cpu < cpus; ++cpu) info.affinity.push_back((bitmap[cpu / 8] >> (cpu % 8)) & 1U);
        out.push_back(std::move(info));
    }
    return out;
}

int hypercalls::state::perform(op::domain_get_max_vcpus, const op::domain_get_max_vcpus::args& a) {
    return static_cast<int>(domain_of(a.dom).info.max_vcpu_id + 1);
}

}  // namespace virtpp::xen
