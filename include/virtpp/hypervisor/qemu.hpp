// The QEMU/KVM hypervisor driver: guests run as qemu-system-* processes controlled over QMP.
//
//   auto conn = virtpp::basic_connection<virtpp::hypervisor::qemu>::open("qemu:///session");
//
// qemu:///system (root only) keeps its state where libvirt 9.0's system driver does
// (/etc/libvirt/qemu, /run/libvirt/qemu, /var/log/libvirt/qemu); qemu:///session under the user's
// XDG directories. VIRTPP_QEMU_STATE_DIR=<dir> puts every directory of either under <dir> (tests).
// Every connection to the same state directory shares one driver; the driver outlives its last
// connection only as files: guests keep running, and the next driver re-attaches to them.
// See docs/qemu.md.
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

namespace virtpp {
class stream;
struct screenshot_data;
}  // namespace virtpp

namespace virtpp::hypervisor {

struct qemu {
    static constexpr std::string_view name = "QEMU";
    struct state;
    struct driver;  ///< the shared driver behind every connection to one state directory

    /// qemu:///system and qemu:///session (no host, no transport).
    static bool accepts(const virtpp::uri& u);
    /// The URI virConnectOpen(NULL) takes on this host (qemuConnectURIProbe): qemu:///system
    /// for root, qemu:///session for other users.
    static std::optional<std::string> probe_uri();
    /// Opens (or joins) the driver of the URI's state directory. qemu:///system needs root.
    static std::shared_ptr<state> open(const virtpp::uri& u, unsigned flags);
};

struct qemu::state {
    explicit state(std::shared_ptr<qemu::driver> d);
    ~state();
    state(const state&) = delete;
    state& operator=(const state&) = delete;

    /// Domain events of every guest of this driver (lifecycle from the API and from QMP's STOP,
    /// RESUME, SHUTDOWN and qemu's exit; reboot from RESET; device-removed from DEVICE_DELETED),
    /// delivered on the driver's event thread. The virtual networks publish none yet.
    [[nodiscard]] event_subscription subscribe_events(event_handler handler);

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
    /// The host's SMBIOS (dmidecode, read once, as libvirtd does); CONFIG_UNSUPPORTED without it.
    /// virConnectGetDomainCapabilities is not provided (NO_SUPPORT): it needs QMP CPU probing.
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

    // ---- jobs: progress of save, restore, dump and outgoing migration, read while they run
    // (without the guest's job lock), and abort (docs/jobs.md)
    job_info perform(op::domain_get_job_info, const op::domain_get_job_info::args&);
    job_stats perform(op::domain_get_job_stats, const op::domain_get_job_stats::args&);
    void perform(op::domain_abort_job, const op::domain_abort_job::args&);

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
    int perform(op::domain_get_vcpus_flags, const op::domain_get_vcpus_flags::args&);
    void perform(op::domain_pin_vcpu, const op::domain_pin_vcpu::args&);
    std::vector<vcpu_info> perform(op::domain_get_vcpus, const op::domain_get_vcpus::args&);
    block_stats perform(op::domain_block_stats, const op::domain_block_stats::args&);
    interface_stats perform(op::domain_interface_stats, const op::domain_interface_stats::args&);
    security_label perform(op::domain_get_security_label, const op::domain_get_security_label::args&);

    // ---- devices: virtio disks and interfaces (user, mcast, server, client) hot-plugged into a
    // running guest (blockdev-add/netdev_add + device_add; device_del waits 5 s for the guest,
    // as libvirt does), or added to / removed from the definition
    void perform(op::domain_attach_device, const op::domain_attach_device::args&);
    void perform(op::domain_detach_device, const op::domain_detach_device::args&);

    // ---- migration to another driver (usually another daemon), libvirt's v3 steps: a real QMP
    // migration over TCP. Not peer-to-peer, not tunnelled, not offline.
    op::domain_migrate_begin::result perform(op::domain_migrate_begin, const op::domain_migrate_begin::args&);
    op::domain_migrate_prepare::result perform(op::domain_migrate_prepare, const op::domain_migrate_prepare::args&);
    op::migrate_cookie perform(op::domain_migrate_perform, const op::domain_migrate_perform::args&);
    op::domain_migrate_finish::result perform(op::domain_migrate_finish, const op::domain_migrate_finish::args&);
    void perform(op::domain_migrate_confirm, const op::domain_migrate_confirm::args&);

    // ---- virtual networks (qemu:///system; starting one needs root): bridges, dnsmasq, nftables.
    // See docs/network.md.
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
    std::vector<network_dhcp_lease> perform(op::network_get_dhcp_leases, const op::network_get_dhcp_leases::args&);
    /// source lease: the addresses the guest's networks' dnsmasq leased to its interfaces' MACs
    std::vector<domain_interface> perform(op::domain_interface_addresses, const op::domain_interface_addresses::args&);

    // ---- streams (outside op::all: they hand back a stream; see virtpp/stream.hpp)
    /// virDomainOpenConsole: the pty of a running guest's console or serial port.
    std::shared_ptr<virtpp::stream> open_console(const domain_ref& dom, const std::optional<std::string>& dev_name,
                                                 unsigned flags);
    /// virDomainScreenshot: QMP screendump into a file of the driver, streamed (PNG, or PPM
    /// from a qemu older than 7.1).
    virtpp::screenshot_data screenshot(const domain_ref& dom, unsigned screen, unsigned flags);

    /// libvirtd's SIGHUP for this driver: persistent guest and network definitions are read
    /// again from disk (new files appear, edited ones replace the persistent definition; as in
    /// libvirtd a definition whose file is gone stays); running guests are untouched.
    void reload();

    /// The shared driver (tests look at its directories and guests' processes).
    [[nodiscard]] qemu::driver& shared_driver() const noexcept { return *driver_; }

private:
    std::shared_ptr<qemu::driver> driver_;
};

}  // namespace virtpp::hypervisor
