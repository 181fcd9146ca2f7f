// The hypercalls part of the Xen driver: Xen itself through privcmd's hypercall ioctl
// (/proc/xen/privcmd, or /dev/xen/privcmd), in the sysctl/domctl interface versions libvirt 0.3.2
// detected (sysctl 2 + domctl 3/4: Xen 3.0.x; sysctl 3 + domctl 5: Xen 3.1). Root only, this host
// only, and only for running domains (it works by domain id): other calls it declines.
#pragma once

#include <virtpp/ops.hpp>
#include <virtpp/types.hpp>
#include <virtpp/xen/context.hpp>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace virtpp::xen {

/// Where hypercalls go: privcmd's ioctl, or a stand-in (tests emulate Xen's answers).
class hypercall_port {
public:
    virtual ~hypercall_port() = default;
    /// One hypercall: op and arguments as privcmd_hypercall holds them; returns Xen's result
    /// (negative: -errno).
    virtual long call(std::uint64_t op, std::uint64_t arg0, std::uint64_t arg1) = 0;
};

/// Part: the hypervisor itself.
struct hypercalls {
    static constexpr std::string_view name = "hypercalls";
    struct state;
    /// Opens privcmd (ctx.privcmd_path, else /proc/xen/privcmd, else /dev/xen/privcmd) and detects
    /// the interface versions; raises when there is no privcmd or Xen answers none of them.
    static std::shared_ptr<state> open(context& ctx);
};

struct hypercalls::state {
    /// Detects the interface versions by asking for Domain-0's info in each, as libvirt 0.3.2.
    explicit state(std::unique_ptr<hypercall_port> port);

    std::uint64_t perform(op::connect_get_version, const op::none&);
    int perform(op::connect_get_max_vcpus, const op::connect_get_max_vcpus::args&);
    node_info perform(op::node_get_info, const op::none&);
    int perform(op::connect_num_of_domains, const op::none&);
    std::vector<int> perform(op::connect_list_domains, const op::none&);
    domain_info perform(op::domain_get_info, const op::domain_get_info::args&);
    void perform(op::domain_suspend, const op::domain_suspend::args&);
    void perform(op::domain_resume, const op::domain_resume::args&);
    void perform(op::domain_destroy, const op::domain_destroy::args&);
    std::uint64_t perform(op::domain_get_max_memory, const op::domain_get_max_memory::args&);
    void perform(op::domain_set_max_memory, const op::domain_set_max_memory::args&);
    void perform(op::domain_pin_vcpu, const op::domain_pin_vcpu::args&);
    std::vector<vcpu_info> perform(op::domain_get_vcpus, const op::domain_get_vcpus::args&);
    int perform(op::domain_get_max_vcpus, const op::domain_get_max_vcpus::args&);

    /// The detected interface versions (sysctl, domctl).
    [[nodiscard]] std::uint32_t sysctl_version() const noexcept { return sysctl_version_; }
    [[nodiscard]] std::uint32_t domctl_version() const noexcept { return domctl_version_; }

    struct raw_domain;  ///< one getdomaininfo record (src/)

private:
    std::vector<raw_domain> domain_list(std::uint16_t first, std::uint32_t max);
    raw_domain domain_of(const domain_ref& dom);
    void simple_domctl(std::uint32_t cmd, const domain_ref& dom, std::string_view what);
    std::unique_ptr<hypercall_port> port_;
    std::uint32_t sysctl_version_ = 0;
    std::uint32_t domctl_version_ = 0;
    std::uint32_t host_cpus_ = 0;
};

}  // namespace virtpp::xen
