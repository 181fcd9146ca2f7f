// The XenStore part of the Xen driver: what libvirt 0.3.2 read from (and wrote to) XenStore for
// running domains: their ids and names (/local/domain/N/name), uuid (/local/domain/N/vm),
// memory target, OS type, shutdown and reboot requests (/local/domain/N/control/shutdown), and
// for dumpxml the console tty and VNC port.
#pragma once

#include <virtpp/ops.hpp>
#include <virtpp/types.hpp>
#include <virtpp/xen/context.hpp>
#include <virtpp/xen/xenstore_client.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::xen {

/// Part: XenStore (xenstored's socket, socket_ro for read-only connections). This host only.
struct xenstore {
    static constexpr std::string_view name = "xenstore";
    struct state;
    static std::shared_ptr<state> open(context& ctx);
};

struct xenstore::state {
    state(context& ctx, std::unique_ptr<xenstore_client> client);

    int perform(op::connect_num_of_domains, const op::none&);
    std::vector<int> perform(op::connect_list_domains, const op::none&);
    domain_ref perform(op::domain_lookup_by_id, const op::domain_lookup_by_id::args&);
    domain_ref perform(op::domain_lookup_by_name, const op::domain_lookup_by_name::args&);
    std::uint64_t perform(op::domain_get_max_memory, const op::domain_get_max_memory::args&);
    std::string perform(op::domain_get_os_type, const op::domain_get_os_type::args&);
    void perform(op::domain_shutdown, const op::domain_shutdown::args&);
    void perform(op::domain_reboot, const op::domain_reboot::args&);

    /// Console tty and VNC port of a running domain (absent keys: nullopt).
    [[nodiscard]] sexpr_runtime runtime_of(int domid);
    [[nodiscard]] xenstore_client& client() const noexcept { return *client_; }

private:
    [[nodiscard]] std::string domain_path(const domain_ref& dom) const;
    context& ctx_;
    std::unique_ptr<xenstore_client> client_;
};

}  // namespace virtpp::xen
