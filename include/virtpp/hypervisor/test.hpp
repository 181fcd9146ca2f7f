// The test hypervisor driver: a complete in-memory hypervisor with the same built-in host as
// libvirt 9.0's test driver (test:///default), or a host read from a test host definition file
// (test:///path/to/host.xml). Every operation of op::all is provided with real state transitions
// and libvirt 9.0's error codes and messages. See docs/test-driver.md.
//
//   auto conn = virtpp::basic_connection<virtpp::hypervisor::test>::open("test:///default");
//
// test:///default is shared by every connection open in the process and starts afresh when the
// last one closes; each test:///<file> connection has a host of its own.
// Test hook: the URI parameter virtpp_delay_ms=N (libvirt's test driver ignores query parameters)
// makes every call on that connection sleep N milliseconds first, so a daemon test can keep slow
// calls in flight; other connections to the same host are not slowed.
#pragma once

#include <virtpp/concepts.hpp>
#include <virtpp/events.hpp>
#include <virtpp/ops.hpp>
#include <virtpp/types.hpp>
#include <virtpp/uri.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::hypervisor {

struct test {
    static constexpr std::string_view name = "test";
    struct state;

    /// test:///... URIs without a host or transport.
    static bool accepts(const virtpp::uri& u);
    /// test:///default (shared, refcounted) or test:///<absolute path of a host file>.
    static std::shared_ptr<state> open(const virtpp::uri& u, unsigned flags);
};

struct test::state {
    struct impl;
    /// A connection's view of a host: hosts are shared (test:///default), the delay is not.
    state(std::shared_ptr<impl> host, unsigned delay_ms);
    ~state();
    state(const state&) = delete;
    state& operator=(const state&) = delete;

    // ---- connection and node
    std::string perform(op::connect_get_type, const op::none&);
    std::uint64_t perform(op::connect_get_version, const op::none&);
    std::string perform(op::connect_get_hostname, const op::none&);
    int perform(op::connect_get_max_vcpus, const op::connect_get_max_vcpus::args&);
    std::string perform(op::connect_get_capabilities, const op::none&);
    node_info perform(op::node_get_info, const op::none&);
    security_model perform(op::node_get_security_model, const op::none&);
    std::vector<bool> perform(op::node_get_cpu_map, const op::none&);
    bool perform(op::connect_supports_feature, const op::connect_supports_feature::args&);
    /// libvirt 9.0's test driver answers a fixed SMBIOS; it has no domain capabilities (NO_SUPPORT).
    std::string perform(op::connect_get_sysinfo, const op::connect_get_sysinfo::args&);

    // ---- listing
    int perform(op::connect_num_of_domains, const op::none&);
    std::vector<int> perform(op::connect_list_domains, const op::none&);
    int perform(op::connect_num_of_defined_domains, const op::none&);
    std::vector<std::string> perform(op::connect_list_defined_domains, const op::none&);
    std::vector<domain_ref> perform(op::connect_list_all_domains, const op::connect_list_all_domains::args&);
    std::vector<domain_stats_record> perform(op::connect_get_all_domain_stats, const op::connect_get_all_domain_stats::args&);
    int perform(op::connect_num_of_networks, const op::none&);
    std::vector<std::string> perform(op::connect_list_networks, const op::none&);
    int perform(op::connect_num_of_defined_networks, const op::none&);
    std::vector<std::string> perform(op::connect_list_defined_networks, const op::none&);
    std::vector<network_ref> perform(op::connect_list_all_networks, const op::connect_list_all_networks::args&);

    // ---- domain lookup and lifecycle
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
    bool perform(op::domain_has_managed_save_image, const op::domain_has_managed_save_image::args&);

    // ---- domain properties
    domain_info perform(op::domain_get_info, const op::domain_get_info::args&);
    domain_state_info perform(op::domain_get_state, const op::domain_get_state::args&);
    std::string perform(op::domain_get_os_type, const op::domain_get_os_type::args&);
    std::string perform(op::domain_get_xml_desc, const op::domain_get_xml_desc::args&);
    bool perform(op::domain_is_active, const op::domain_is_active::args&);
    bool perform(op::domain_is_persistent, const op::domain_is_persistent::args&);
    bool perform(op::domain_get_autostart, const op::domain_get_autostart::args&);
    void perform(op::domain_set_autostart, const op::domain_set_autostart::args&);
    std::uint64_t perform(op::domain_get_max_memory, const op::domain_get_max_memory::args&);
    void perform(op::domain_set_max_memory, const op::domain_set_max_memory::args&);
    void perform(op::domain_set_memory, const op::domain_set_memory::args&);
    int perform(op::domain_get_max_vcpus, const op::domain_get_max_vcpus::args&);
    void perform(op::domain_set_vcpus, const op::domain_set_vcpus::args&);
    int perform(op::domain_get_vcpus_flags, const op::domain_get_vcpus_flags::args&);
    void perform(op::domain_pin_vcpu, const op::domain_pin_vcpu::args&);
    std::vector<vcpu_info> perform(op::domain_get_vcpus, const op::domain_get_vcpus::args&);
    scheduler_type perform(op::domain_get_scheduler_type, const op::domain_get_scheduler_type::args&);
    std::vector<typed_param> perform(op::domain_get_scheduler_parameters, const op::domain_get_scheduler_parameters::args&);
    void perform(op::domain_set_scheduler_parameters, const op::domain_set_scheduler_parameters::args&);
    block_stats perform(op::domain_block_stats, const op::domain_block_stats::args&);
    interface_stats perform(op::domain_interface_stats, const op::domain_interface_stats::args&);
    void perform(op::domain_attach_device, const op::domain_attach_device::args&);
    void perform(op::domain_detach_device, const op::domain_detach_device::args&);
    security_label perform(op::domain_get_security_label, const op::domain_get_security_label::args&);
    int perform(op::domain_snapshot_num, const op::domain_snapshot_num::args&);
    std::vector<std::string> perform(op::domain_get_messages, const op::domain_get_messages::args&);

    // ---- migration
    op::domain_migrate_begin::result perform(op::domain_migrate_begin, const op::domain_migrate_begin::args&);
    op::domain_migrate_prepare::result perform(op::domain_migrate_prepare, const op::domain_migrate_prepare::args&);
    op::migrate_cookie perform(op::domain_migrate_perform, const op::domain_migrate_perform::args&);
    op::domain_migrate_finish::result perform(op::domain_migrate_finish, const op::domain_migrate_finish::args&);
    void perform(op::domain_migrate_confirm, const op::domain_migrate_confirm::args&);

    // ---- networks
    network_ref perform(op::network_lookup_by_name, const op::network_lookup_by_name::args&);
    network_ref perform(op::network_lookup_by_uuid, const op::network_lookup_by_uuid::args&);
    network_ref perform(op::network_create_xml, const op::network_create_xml::args&);
    network_ref perform(op::network_define_xml, const op::network_define_xml::args&);
    void perform(op::network_undefine, const op::network_undefine::args&);
    void perform(op::network_create, const op::network_create::args&);
    void perform(op::network_destroy, const op::network_destroy::args&);
    std::string perform(op::network_get_xml_desc, const op::network_get_xml_desc::args&);
    std::string perform(op::network_get_bridge_name, const op::network_get_bridge_name::args&);
    bool perform(op::network_get_autostart, const op::network_get_autostart::args&);
    void perform(op::network_set_autostart, const op::network_set_autostart::args&);
    bool perform(op::network_is_active, const op::network_is_active::args&);
    bool perform(op::network_is_persistent, const op::network_is_persistent::args&);
    void perform(op::network_update, const op::network_update::args&);
    /// Test networks run no DHCP server: no leases.
    std::vector<network_dhcp_lease> perform(op::network_get_dhcp_leases, const op::network_get_dhcp_leases::args&);
    /// No DHCP server and no guest agent: each interface with its MAC and no address.
    std::vector<domain_interface> perform(op::domain_interface_addresses, const op::domain_interface_addresses::args&);

    // ---- storage (the built-in host's default-pool; volumes are bookkeeping, nothing on disk)
    std::vector<storage_pool_ref> perform(op::connect_list_all_storage_pools, const op::connect_list_all_storage_pools::args&);
    storage_pool_ref perform(op::storage_pool_lookup_by_name, const op::storage_pool_lookup_by_name::args&);
    storage_pool_ref perform(op::storage_pool_lookup_by_uuid, const op::storage_pool_lookup_by_uuid::args&);
    storage_pool_ref perform(op::storage_pool_lookup_by_volume, const op::storage_pool_lookup_by_volume::args&);
    storage_pool_info perform(op::storage_pool_get_info, const op::storage_pool_get_info::args&);
    std::string perform(op::storage_pool_get_xml_desc, const op::storage_pool_get_xml_desc::args&);
    bool perform(op::storage_pool_get_autostart, const op::storage_pool_get_autostart::args&);
    bool perform(op::storage_pool_is_active, const op::storage_pool_is_active::args&);
    bool perform(op::storage_pool_is_persistent, const op::storage_pool_is_persistent::args&);
    std::vector<storage_vol_ref> perform(op::storage_pool_list_all_volumes, const op::storage_pool_list_all_volumes::args&);
    storage_vol_ref perform(op::storage_vol_create_xml, const op::storage_vol_create_xml::args&);
    void perform(op::storage_vol_delete, const op::storage_vol_delete::args&);
    storage_vol_ref perform(op::storage_vol_lookup_by_name, const op::storage_vol_lookup_by_name::args&);
    storage_vol_ref perform(op::storage_vol_lookup_by_key, const op::storage_vol_lookup_by_key::args&);
    storage_vol_ref perform(op::storage_vol_lookup_by_path, const op::storage_vol_lookup_by_path::args&);
    storage_vol_info perform(op::storage_vol_get_info, const op::storage_vol_get_info::args&);
    std::string perform(op::storage_vol_get_xml_desc, const op::storage_vol_get_xml_desc::args&);
    std::string perform(op::storage_vol_get_path, const op::storage_vol_get_path::args&);

    // ---- host interfaces and node devices (the built-in host's; fixed)
    std::vector<interface_ref> perform(op::connect_list_all_interfaces, const op::connect_list_all_interfaces::args&);
    interface_ref perform(op::interface_lookup_by_name, const op::interface_lookup_by_name::args&);
    interface_ref perform(op::interface_lookup_by_mac_string, const op::interface_lookup_by_mac_string::args&);
    std::string perform(op::interface_get_xml_desc, const op::interface_get_xml_desc::args&);
    bool perform(op::interface_is_active, const op::interface_is_active::args&);
    std::vector<node_device_ref> perform(op::connect_list_all_node_devices, const op::connect_list_all_node_devices::args&);
    std::vector<std::string> perform(op::node_list_devices, const op::node_list_devices::args&);
    node_device_ref perform(op::node_device_lookup_by_name, const op::node_device_lookup_by_name::args&);
    std::string perform(op::node_device_get_xml_desc, const op::node_device_get_xml_desc::args&);
    std::optional<std::string> perform(op::node_device_get_parent, const op::node_device_get_parent::args&);
    std::vector<std::string> perform(op::node_device_list_caps, const op::node_device_list_caps::args&);

    // ---- snapshots and checkpoints (metadata: libvirt's test driver saves no state)
    domain_snapshot_ref perform(op::domain_snapshot_create_xml, const op::domain_snapshot_create_xml::args&);
    std::string perform(op::domain_snapshot_get_xml_desc, const op::domain_snapshot_get_xml_desc::args&);
    domain_snapshot_ref perform(op::domain_snapshot_lookup_by_name, const op::domain_snapshot_lookup_by_name::args&);
    std::vector<domain_snapshot_ref> perform(op::domain_list_all_snapshots, const op::domain_list_all_snapshots::args&);
    bool perform(op::domain_has_current_snapshot, const op::domain_has_current_snapshot::args&);
    domain_snapshot_ref perform(op::domain_snapshot_current, const op::domain_snapshot_current::args&);
    domain_snapshot_ref perform(op::domain_snapshot_get_parent, const op::domain_snapshot_get_parent::args&);
    bool perform(op::domain_snapshot_is_current, const op::domain_snapshot_is_current::args&);
    bool perform(op::domain_snapshot_has_metadata, const op::domain_snapshot_has_metadata::args&);
    void perform(op::domain_snapshot_delete, const op::domain_snapshot_delete::args&);
    domain_checkpoint_ref perform(op::domain_checkpoint_create_xml, const op::domain_checkpoint_create_xml::args&);
    std::string perform(op::domain_checkpoint_get_xml_desc, const op::domain_checkpoint_get_xml_desc::args&);
    domain_checkpoint_ref perform(op::domain_checkpoint_lookup_by_name, const op::domain_checkpoint_lookup_by_name::args&);
    std::vector<domain_checkpoint_ref> perform(op::domain_list_all_checkpoints, const op::domain_list_all_checkpoints::args&);
    domain_checkpoint_ref perform(op::domain_checkpoint_get_parent, const op::domain_checkpoint_get_parent::args&);
    void perform(op::domain_checkpoint_delete, const op::domain_checkpoint_delete::args&);

    /// Domain and network events of this host (libvirt 9.0's test driver's: lifecycle only),
    /// until the subscription ends. Every connection to the host sees every change.
    [[nodiscard]] event_subscription subscribe_events(event_handler handler);

    /// The per-call delay of the virtpp_delay_ms URI parameter (0 = none).
    [[nodiscard]] unsigned delay_ms() const noexcept;
    /// Calls only sleep when the delay hook is set (any_connection::calls_may_block).
    [[nodiscard]] bool calls_may_block() const noexcept { return delay_ms_ != 0; }

private:
    void pause() const;
    std::shared_ptr<impl> impl_;
    unsigned delay_ms_ = 0;
};

}  // namespace virtpp::hypervisor
