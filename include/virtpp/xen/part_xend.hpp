// The xend part of the Xen driver: every operation xend's HTTP interface offers, as libvirt
// 0.3.x's xend driver used it (GET /xend/node/, /xend/domain[?detail=1], /xend/domain/NAME?detail=1;
// POST /xend/domain/NAME op=..., POST /xend/domain op=create|restore|new).
#pragma once

#include <virtpp/ops.hpp>
#include <virtpp/types.hpp>
#include <virtpp/xen/context.hpp>
#include <virtpp/xen/xend_client.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::xen {

/// Part: xend over HTTP (unix socket or TCP). The broadest part: everything xend offers.
struct xend {
    static constexpr std::string_view name = "xend";
    struct state;
    /// Asks xend for its node record (which also tells xend_config_format); raises when xend does
    /// not answer.
    static std::shared_ptr<state> open(context& ctx);
};

struct xend::state {
    state(context& ctx, xend_client client);

    // ---- connection and node
    std::uint64_t perform(op::connect_get_version, const op::none&);
    std::string perform(op::connect_get_hostname, const op::none&);
    std::string perform(op::connect_get_capabilities, const op::none&);
    node_info perform(op::node_get_info, const op::none&);

    // ---- listing
    int perform(op::connect_num_of_domains, const op::none&);
    std::vector<int> perform(op::connect_list_domains, const op::none&);
    int perform(op::connect_num_of_defined_domains, const op::none&);
    std::vector<std::string> perform(op::connect_list_defined_domains, const op::none&);
    std::vector<domain_ref> perform(op::connect_list_all_domains, const op::connect_list_all_domains::args&);

    // ---- lookup and lifecycle
    domain_ref perform(op::domain_lookup_by_id, const op::domain_lookup_by_id::args&);
    domain_ref perform(op::domain_lookup_by_name, const op::domain_lookup_by_name::args&);
    domain_ref perform(op::domain_lookup_by_uuid, const op::domain_lookup_by_uuid::args&);
    domain_ref perform(op::domain_create_xml, const op::domain_create_xml::args&);
    domain_ref perform(op::domain_define_xml, const op::domain_define_xml::args&);
    void perform(op::domain_undefine, const op::domain_undefine::args&);
    domain_ref perform(op::domain_create, const op::domain_create::args&);
    void perform(op::domain_suspend, const op::domain_suspend::args&);
    void perform(op::domain_resume, const op::domain_resume::args&);
    void perform(op::domain_shutdown, const op::domain_shutdown::args&);
    void perform(op::domain_reboot, const op::domain_reboot::args&);
    void perform(op::domain_destroy, const op::domain_destroy::args&);
    void perform(op::domain_save, const op::domain_save::args&);
    void perform(op::domain_restore, const op::domain_restore::args&);
    void perform(op::domain_core_dump, const op::domain_core_dump::args&);

    // ---- properties
    domain_info perform(op::domain_get_info, const op::domain_get_info::args&);
    domain_state_info perform(op::domain_get_state, const op::domain_get_state::args&);
    std::string perform(op::domain_get_os_type, const op::domain_get_os_type::args&);
    std::string perform(op::domain_get_xml_desc, const op::domain_get_xml_desc::args&);
    bool perform(op::domain_is_active, const op::domain_is_active::args&);
    bool perform(op::domain_is_persistent, const op::domain_is_persistent::args&);
    /// xend 3.0.4 and later: (on_xend_start start) in the domain's record.
    bool perform(op::domain_get_autostart, const op::domain_get_autostart::args&);
    std::uint64_t perform(op::domain_get_max_memory, const op::domain_get_max_memory::args&);
    void perform(op::domain_set_max_memory, const op::domain_set_max_memory::args&);
    void perform(op::domain_set_memory, const op::domain_set_memory::args&);
    int perform(op::domain_get_max_vcpus, const op::domain_get_max_vcpus::args&);
    void perform(op::domain_set_vcpus, const op::domain_set_vcpus::args&);
    int perform(op::domain_get_vcpus_flags, const op::domain_get_vcpus_flags::args&);
    void perform(op::domain_pin_vcpu, const op::domain_pin_vcpu::args&);
    /// op=new with the record's (on_xend_start start|ignore) changed (xend 3.0.4 and later).
    void perform(op::domain_set_autostart, const op::domain_set_autostart::args&);

    // ---- the credit scheduler: node/xen_scheduler, the record's cpu_weight and cpu_cap,
    //      op=domain_sched_credit_set weight= cap=
    scheduler_type perform(op::domain_get_scheduler_type, const op::domain_get_scheduler_type::args&);
    std::vector<typed_param> perform(op::domain_get_scheduler_parameters, const op::domain_get_scheduler_parameters::args&);
    void perform(op::domain_set_scheduler_parameters, const op::domain_set_scheduler_parameters::args&);

    // ---- devices: op=device_create config=(vbd ...) / op=device_destroy type=vbd|tap|vif dev=N
    void perform(op::domain_attach_device, const op::domain_attach_device::args&);
    void perform(op::domain_detach_device, const op::domain_detach_device::args&);

    // ---- migration: the source xend does it all (op=migrate destination= live= port= resource=);
    //      the destination only hands out xenmigr://itself/ and looks the guest up afterwards.
    op::domain_migrate_begin::result perform(op::domain_migrate_begin, const op::domain_migrate_begin::args&);
    op::domain_migrate_prepare::result perform(op::domain_migrate_prepare, const op::domain_migrate_prepare::args&);
    op::migrate_cookie perform(op::domain_migrate_perform, const op::domain_migrate_perform::args&);
    op::domain_migrate_finish::result perform(op::domain_migrate_finish, const op::domain_migrate_finish::args&);
    void perform(op::domain_migrate_confirm, const op::domain_migrate_confirm::args&);

    [[nodiscard]] const xend_client& client() const noexcept { return client_; }

    struct record;  ///< what the driver keeps of one domain's S-expression (src/)

private:
    record fetch(const std::string& name) const;
    std::vector<record> fetch_all(bool inactive) const;
    void domain_op(const domain_ref& dom, std::vector<form_field> fields) const;
    [[nodiscard]] bool manages_inactive() const noexcept;

    context& ctx_;
    xend_client client_;
};

}  // namespace virtpp::xen
