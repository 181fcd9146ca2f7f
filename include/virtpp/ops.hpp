// Every driver operation as a type: its arguments, its result, whether it changes anything (so
// read-only connections refuse it), and libvirt's public API name (used in NO_SUPPORT messages).
// Connections, handles, any_connection's dispatch table, the remote procedure table and
// docs/support-matrix.md are all built from the list at the end of this file.
#pragma once

#include <virtpp/job.hpp>
#include <virtpp/types.hpp>
#include <virtpp/xml/node_info.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace virtpp::op {

struct none {
    friend bool operator==(const none&, const none&) = default;
};

#define VIRTPP_OP_TRAITS(api_name, is_mutating)                      \
    static constexpr std::string_view name = api_name;               \
    static constexpr bool mutates = is_mutating

// ---- connection and node ---------------------------------------------------------------------
struct connect_get_type { VIRTPP_OP_TRAITS("virConnectGetType", false); using args = none; using result = std::string; };
struct connect_get_version { VIRTPP_OP_TRAITS("virConnectGetVersion", false); using args = none; using result = std::uint64_t; };
struct connect_get_hostname { VIRTPP_OP_TRAITS("virConnectGetHostname", false); using args = none; using result = std::string; };
/// The host's SMBIOS as <sysinfo> XML.
struct connect_get_sysinfo { VIRTPP_OP_TRAITS("virConnectGetSysinfo", false); struct args { unsigned flags = 0; }; using result = std::string; };
/// <domainCapabilities> for one emulator/arch/machine/virttype; libvirt refuses it on read-only connections.
struct connect_get_domain_capabilities {
    VIRTPP_OP_TRAITS("virConnectGetDomainCapabilities", true);
    struct args { std::optional<std::string> emulatorbin, arch, machine, virttype; unsigned flags = 0; };
    using result = std::string;
};
struct connect_get_max_vcpus {
    VIRTPP_OP_TRAITS("virConnectGetMaxVcpus", false);
    struct args { std::optional<std::string> type; };
    using result = int;
};
struct connect_get_capabilities { VIRTPP_OP_TRAITS("virConnectGetCapabilities", false); using args = none; using result = std::string; };
struct node_get_info { VIRTPP_OP_TRAITS("virNodeGetInfo", false); using args = none; using result = node_info; };
struct node_get_security_model { VIRTPP_OP_TRAITS("virNodeGetSecurityModel", false); using args = none; using result = security_model; };
/// virNodeGetCPUMap: number of host CPUs and which are online.
struct node_get_cpu_map { VIRTPP_OP_TRAITS("virNodeGetCPUMap", false); using args = none; using result = std::vector<bool>; };
struct connect_supports_feature {
    VIRTPP_OP_TRAITS("virConnectSupportsFeature", false);
    struct args { int feature = 0; };
    using result = bool;
};
/// virConnectDomainXMLFromNative: a hypervisor's own configuration ("xen-sxpr", "xen-xm", ...) to
/// domain XML. libvirt refuses it on read-only connections, so it counts as mutating.
struct connect_domain_xml_from_native {
    VIRTPP_OP_TRAITS("virConnectDomainXMLFromNative", true);
    struct args { std::string format; std::string config; unsigned flags = 0; };
    using result = std::string;
};
/// virConnectDomainXMLToNative: domain XML to the named native format.
struct connect_domain_xml_to_native {
    VIRTPP_OP_TRAITS("virConnectDomainXMLToNative", true);
    struct args { std::string format; std::string xml; unsigned flags = 0; };
    using result = std::string;
};

// ---- listing ---------------------------------------------------------------------------------
struct connect_num_of_domains { VIRTPP_OP_TRAITS("virConnectNumOfDomains", false); using args = none; using result = int; };
struct connect_list_domains { VIRTPP_OP_TRAITS("virConnectListDomains", false); using args = none; using result = std::vector<int>; };
struct connect_num_of_defined_domains { VIRTPP_OP_TRAITS("virConnectNumOfDefinedDomains", false); using args = none; using result = int; };
struct connect_list_defined_domains { VIRTPP_OP_TRAITS("virConnectListDefinedDomains", false); using args = none; using result = std::vector<std::string>; };
struct connect_list_all_domains {
    VIRTPP_OP_TRAITS("virConnectListAllDomains", false);
    struct args { unsigned flags = 0; };
    using result = std::vector<domain_ref>;
};
/// virConnectGetAllDomainStats and virDomainListGetStats in one (as libvirt's driver entry and
/// procedure are): `doms` empty means every domain that passes the list filters in `flags`.
struct connect_get_all_domain_stats {
    VIRTPP_OP_TRAITS("virConnectGetAllDomainStats", false);
    struct args { std::vector<domain_ref> doms; unsigned stats = 0; unsigned flags = 0; };
    using result = std::vector<domain_stats_record>;
};
struct connect_num_of_networks { VIRTPP_OP_TRAITS("virConnectNumOfNetworks", false); using args = none; using result = int; };
struct connect_list_networks { VIRTPP_OP_TRAITS("virConnectListNetworks", false); using args = none; using result = std::vector<std::string>; };
struct connect_num_of_defined_networks { VIRTPP_OP_TRAITS("virConnectNumOfDefinedNetworks", false); using args = none; using result = int; };
struct connect_list_defined_networks { VIRTPP_OP_TRAITS("virConnectListDefinedNetworks", false); using args = none; using result = std::vector<std::string>; };
struct connect_list_all_networks {
    VIRTPP_OP_TRAITS("virConnectListAllNetworks", false);
    struct args { unsigned flags = 0; };
    using result = std::vector<network_ref>;
};

// ---- domain lookup and lifecycle -------------------------------------------------------------
struct domain_lookup_by_id { VIRTPP_OP_TRAITS("virDomainLookupByID", false); struct args { int id = 0; }; using result = domain_ref; };
struct domain_lookup_by_name { VIRTPP_OP_TRAITS("virDomainLookupByName", false); struct args { std::string name; }; using result = domain_ref; };
struct domain_lookup_by_uuid { VIRTPP_OP_TRAITS("virDomainLookupByUUID", false); struct args { virtpp::uuid uuid; }; using result = domain_ref; };
struct domain_create_xml { VIRTPP_OP_TRAITS("virDomainCreateXML", true); struct args { std::string xml; unsigned flags = 0; }; using result = domain_ref; };
struct domain_define_xml { VIRTPP_OP_TRAITS("virDomainDefineXML", true); struct args { std::string xml; unsigned flags = 0; }; using result = domain_ref; };
struct domain_undefine { VIRTPP_OP_TRAITS("virDomainUndefineFlags", true); struct args { domain_ref dom; unsigned flags = 0; }; using result = void; };
struct domain_create { VIRTPP_OP_TRAITS("virDomainCreate", true); struct args { domain_ref dom; unsigned flags = 0; }; using result = domain_ref; };
struct domain_suspend { VIRTPP_OP_TRAITS("virDomainSuspend", true); struct args { domain_ref dom; }; using result = void; };
struct domain_resume { VIRTPP_OP_TRAITS("virDomainResume", true); struct args { domain_ref dom; }; using result = void; };
struct domain_shutdown { VIRTPP_OP_TRAITS("virDomainShutdown", true); struct args { domain_ref dom; unsigned flags = 0; }; using result = void; };
struct domain_reboot { VIRTPP_OP_TRAITS("virDomainReboot", true); struct args { domain_ref dom; unsigned flags = 0; }; using result = void; };
struct domain_destroy { VIRTPP_OP_TRAITS("virDomainDestroy", true); struct args { domain_ref dom; unsigned flags = 0; }; using result = void; };
struct domain_save { VIRTPP_OP_TRAITS("virDomainSave", true); struct args { domain_ref dom; std::string path; }; using result = void; };
struct domain_restore { VIRTPP_OP_TRAITS("virDomainRestore", true); struct args { std::string path; }; using result = void; };
struct domain_core_dump { VIRTPP_OP_TRAITS("virDomainCoreDump", true); struct args { domain_ref dom; std::string path; unsigned flags = 0; }; using result = void; };
struct domain_has_managed_save_image { VIRTPP_OP_TRAITS("virDomainHasManagedSaveImage", false); struct args { domain_ref dom; unsigned flags = 0; }; using result = bool; };

// ---- domain properties -----------------------------------------------------------------------
struct domain_get_info { VIRTPP_OP_TRAITS("virDomainGetInfo", false); struct args { domain_ref dom; }; using result = domain_info; };
struct domain_get_state { VIRTPP_OP_TRAITS("virDomainGetState", false); struct args { domain_ref dom; unsigned flags = 0; }; using result = domain_state_info; };
struct domain_get_os_type { VIRTPP_OP_TRAITS("virDomainGetOSType", false); struct args { domain_ref dom; }; using result = std::string; };
struct domain_get_xml_desc { VIRTPP_OP_TRAITS("virDomainGetXMLDesc", false); struct args { domain_ref dom; unsigned flags = 0; }; using result = std::string; };
struct domain_is_active { VIRTPP_OP_TRAITS("virDomainIsActive", false); struct args { domain_ref dom; }; using result = bool; };
struct domain_is_persistent { VIRTPP_OP_TRAITS("virDomainIsPersistent", false); struct args { domain_ref dom; }; using result = bool; };
struct domain_get_autostart { VIRTPP_OP_TRAITS("virDomainGetAutostart", false); struct args { domain_ref dom; }; using result = bool; };
struct domain_set_autostart { VIRTPP_OP_TRAITS("virDomainSetAutostart", true); struct args { domain_ref dom; bool autostart = false; }; using result = void; };
struct domain_get_max_memory { VIRTPP_OP_TRAITS("virDomainGetMaxMemory", false); struct args { domain_ref dom; }; using result = std::uint64_t; };
struct domain_set_max_memory { VIRTPP_OP_TRAITS("virDomainSetMaxMemory", true); struct args { domain_ref dom; std::uint64_t kib = 0; }; using result = void; };
/// virDomainSetMemoryFlags (virDomainSetMemory is flags = affect::live)
struct domain_set_memory { VIRTPP_OP_TRAITS("virDomainSetMemoryFlags", true); struct args { domain_ref dom; std::uint64_t kib = 0; unsigned flags = affect::live; }; using result = void; };
struct domain_get_max_vcpus { VIRTPP_OP_TRAITS("virDomainGetMaxVcpus", false); struct args { domain_ref dom; }; using result = int; };
/// virDomainSetVcpusFlags (virDomainSetVcpus is flags = affect::live)
struct domain_set_vcpus { VIRTPP_OP_TRAITS("virDomainSetVcpusFlags", true); struct args { domain_ref dom; unsigned count = 0; unsigned flags = affect::live; }; using result = void; };
struct domain_get_vcpus_flags {
    VIRTPP_OP_TRAITS("virDomainGetVcpusFlags", false);
    struct args { domain_ref dom; unsigned flags = 0; };
    using result = int;
    /// libvirt asks the guest agent with VIR_DOMAIN_VCPU_GUEST (8), which read-only connections may not
    static constexpr bool mutates_with(const args& a) { return (a.flags & 8U) != 0; }
};
/// virDomainPinVcpuFlags (virDomainPinVcpu is flags = 0, the current state)
struct domain_pin_vcpu { VIRTPP_OP_TRAITS("virDomainPinVcpuFlags", true); struct args { domain_ref dom; unsigned vcpu = 0; std::vector<bool> cpumap; unsigned flags = 0; }; using result = void; };
/// virDomainGetVcpus: at most `maxinfo` vcpus (0: all) with `maplen` bytes of affinity map each
/// (0: the driver's full map in process; over the wire, none).
struct domain_get_vcpus { VIRTPP_OP_TRAITS("virDomainGetVcpus", false); struct args { domain_ref dom; std::int32_t maxinfo = 0; std::int32_t maplen = 0; }; using result = std::vector<vcpu_info>; };
struct domain_get_scheduler_type { VIRTPP_OP_TRAITS("virDomainGetSchedulerType", false); struct args { domain_ref dom; }; using result = scheduler_type; };
struct domain_get_scheduler_parameters { VIRTPP_OP_TRAITS("virDomainGetSchedulerParameters", false); struct args { domain_ref dom; unsigned flags = 0; }; using result = std::vector<typed_param>; };
struct domain_set_scheduler_parameters { VIRTPP_OP_TRAITS("virDomainSetSchedulerParameters", true); struct args { domain_ref dom; std::vector<typed_param> params; unsigned flags = 0; }; using result = void; };
struct domain_block_stats { VIRTPP_OP_TRAITS("virDomainBlockStats", false); struct args { domain_ref dom; std::string path; }; using result = block_stats; };
struct domain_interface_stats { VIRTPP_OP_TRAITS("virDomainInterfaceStats", false); struct args { domain_ref dom; std::string path; }; using result = interface_stats; };
struct domain_attach_device { VIRTPP_OP_TRAITS("virDomainAttachDeviceFlags", true); struct args { domain_ref dom; std::string xml; unsigned flags = affect::live; }; using result = void; };
struct domain_detach_device { VIRTPP_OP_TRAITS("virDomainDetachDeviceFlags", true); struct args { domain_ref dom; std::string xml; unsigned flags = affect::live; }; using result = void; };
struct domain_get_security_label { VIRTPP_OP_TRAITS("virDomainGetSecurityLabel", false); struct args { domain_ref dom; }; using result = security_label; };
struct domain_snapshot_num { VIRTPP_OP_TRAITS("virDomainSnapshotNum", false); struct args { domain_ref dom; unsigned flags = 0; }; using result = int; };
/// virDomainGetMessages: tainting and deprecation messages
struct domain_get_messages { VIRTPP_OP_TRAITS("virDomainGetMessages", false); struct args { domain_ref dom; unsigned flags = 0; }; using result = std::vector<std::string>; };

// ---- migration (libvirt's v3 protocol: begin on the source, prepare on the destination,
//      perform on the source, finish on the destination, confirm on the source). Each step
//      hands the next an opaque cookie; prepare may choose the URI perform sends the guest to.
/// Bytes one migration step passes to the next (libvirt's migration cookie).
using migrate_cookie = std::vector<std::uint8_t>;
struct domain_migrate_begin {
    VIRTPP_OP_TRAITS("virDomainMigrateBegin3", true);
    struct args { domain_ref dom; std::optional<std::string> xmlin; unsigned flags = 0; std::optional<std::string> dname; std::uint64_t bandwidth = 0; };
    struct result { migrate_cookie cookie; std::string xml; };
};
struct domain_migrate_prepare {
    VIRTPP_OP_TRAITS("virDomainMigratePrepare3", true);
    struct args { migrate_cookie cookie; std::optional<std::string> uri_in; unsigned flags = 0; std::optional<std::string> dname; std::uint64_t bandwidth = 0; std::string xml; };
    struct result { migrate_cookie cookie; std::optional<std::string> uri_out; };
};
struct domain_migrate_perform {
    VIRTPP_OP_TRAITS("virDomainMigratePerform3", true);
    struct args { domain_ref dom; std::optional<std::string> xmlin; migrate_cookie cookie; std::optional<std::string> dconnuri; std::optional<std::string> uri; unsigned flags = 0; std::optional<std::string> dname; std::uint64_t bandwidth = 0; };
    using result = migrate_cookie;
};
struct domain_migrate_finish {
    VIRTPP_OP_TRAITS("virDomainMigrateFinish3", true);
    struct args { std::string name; migrate_cookie cookie; std::optional<std::string> dconnuri; std::optional<std::string> uri; unsigned flags = 0; bool cancelled = false; };
    struct result { domain_ref dom; migrate_cookie cookie; };
};
struct domain_migrate_confirm {
    VIRTPP_OP_TRAITS("virDomainMigrateConfirm3", true);
    struct args { domain_ref dom; migrate_cookie cookie; unsigned flags = 0; bool cancelled = false; };
    using result = void;
};

// ---- networks --------------------------------------------------------------------------------
struct network_lookup_by_name { VIRTPP_OP_TRAITS("virNetworkLookupByName", false); struct args { std::string name; }; using result = network_ref; };
struct network_lookup_by_uuid { VIRTPP_OP_TRAITS("virNetworkLookupByUUID", false); struct args { virtpp::uuid uuid; }; using result = network_ref; };
struct network_create_xml { VIRTPP_OP_TRAITS("virNetworkCreateXML", true); struct args { std::string xml; }; using result = network_ref; };
struct network_define_xml { VIRTPP_OP_TRAITS("virNetworkDefineXML", true); struct args { std::string xml; }; using result = network_ref; };
struct network_undefine { VIRTPP_OP_TRAITS("virNetworkUndefine", true); struct args { network_ref net; }; using result = void; };
struct network_create { VIRTPP_OP_TRAITS("virNetworkCreate", true); struct args { network_ref net; }; using result = void; };
struct network_destroy { VIRTPP_OP_TRAITS("virNetworkDestroy", true); struct args { network_ref net; }; using result = void; };
struct network_get_xml_desc { VIRTPP_OP_TRAITS("virNetworkGetXMLDesc", false); struct args { network_ref net; unsigned flags = 0; }; using result = std::string; };
struct network_get_bridge_name { VIRTPP_OP_TRAITS("virNetworkGetBridgeName", false); struct args { network_ref net; }; using result = std::string; };
struct network_get_autostart { VIRTPP_OP_TRAITS("virNetworkGetAutostart", false); struct args { network_ref net; }; using result = bool; };
struct network_set_autostart { VIRTPP_OP_TRAITS("virNetworkSetAutostart", true); struct args { network_ref net; bool autostart = false; }; using result = void; };
struct network_is_active { VIRTPP_OP_TRAITS("virNetworkIsActive", false); struct args { network_ref net; }; using result = bool; };
struct network_is_persistent { VIRTPP_OP_TRAITS("virNetworkIsPersistent", false); struct args { network_ref net; }; using result = bool; };
/// command: 1 modify, 2 delete, 3 add-last, 4 add-first; section: virNetworkUpdateSection (4 ip-dhcp-host, 10 dns-host...)
struct network_update {
    VIRTPP_OP_TRAITS("virNetworkUpdate", true);
    struct args { network_ref net; unsigned command = 0; unsigned section = 0; int parent_index = -1; std::string xml; unsigned flags = 0; };
    using result = void;
};
struct network_get_dhcp_leases {
    VIRTPP_OP_TRAITS("virNetworkGetDHCPLeases", false);
    struct args { network_ref net; std::optional<std::string> mac; unsigned flags = 0; };
    using result = std::vector<network_dhcp_lease>;
};
/// source: 0 lease (the network's DHCP server), 1 agent, 2 arp.
struct domain_interface_addresses {
    VIRTPP_OP_TRAITS("virDomainInterfaceAddresses", false);
    struct args { domain_ref dom; unsigned source = 0; unsigned flags = 0; };
    using result = std::vector<domain_interface>;
    /// the guest agent as the source (VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, 1) is refused on
    /// read-only connections, as libvirt refuses it
    static constexpr bool mutates_with(const args& a) { return a.source == 1U; }
};

// ---- storage pools and volumes (docs/test-driver.md: the test driver's default-pool) ---------
struct connect_list_all_storage_pools { VIRTPP_OP_TRAITS("virConnectListAllStoragePools", false); struct args { unsigned flags = 0; }; using result = std::vector<storage_pool_ref>; };
struct storage_pool_lookup_by_name { VIRTPP_OP_TRAITS("virStoragePoolLookupByName", false); struct args { std::string name; }; using result = storage_pool_ref; };
struct storage_pool_lookup_by_uuid { VIRTPP_OP_TRAITS("virStoragePoolLookupByUUID", false); struct args { virtpp::uuid uuid; }; using result = storage_pool_ref; };
struct storage_pool_lookup_by_volume { VIRTPP_OP_TRAITS("virStoragePoolLookupByVolume", false); struct args { storage_vol_ref vol; }; using result = storage_pool_ref; };
struct storage_pool_get_info { VIRTPP_OP_TRAITS("virStoragePoolGetInfo", false); struct args { storage_pool_ref pool; }; using result = storage_pool_info; };
struct storage_pool_get_xml_desc { VIRTPP_OP_TRAITS("virStoragePoolGetXMLDesc", false); struct args { storage_pool_ref pool; unsigned flags = 0; }; using result = std::string; };
struct storage_pool_get_autostart { VIRTPP_OP_TRAITS("virStoragePoolGetAutostart", false); struct args { storage_pool_ref pool; }; using result = bool; };
struct storage_pool_is_active { VIRTPP_OP_TRAITS("virStoragePoolIsActive", false); struct args { storage_pool_ref pool; }; using result = bool; };
struct storage_pool_is_persistent { VIRTPP_OP_TRAITS("virStoragePoolIsPersistent", false); struct args { storage_pool_ref pool; }; using result = bool; };
struct storage_pool_list_all_volumes { VIRTPP_OP_TRAITS("virStoragePoolListAllVolumes", false); struct args { storage_pool_ref pool; unsigned flags = 0; }; using result = std::vector<storage_vol_ref>; };
struct storage_vol_create_xml { VIRTPP_OP_TRAITS("virStorageVolCreateXML", true); struct args { storage_pool_ref pool; std::string xml; unsigned flags = 0; }; using result = storage_vol_ref; };
struct storage_vol_delete { VIRTPP_OP_TRAITS("virStorageVolDelete", true); struct args { storage_vol_ref vol; unsigned flags = 0; }; using result = void; };
struct storage_vol_lookup_by_name { VIRTPP_OP_TRAITS("virStorageVolLookupByName", false); struct args { storage_pool_ref pool; std::string name; }; using result = storage_vol_ref; };
struct storage_vol_lookup_by_key { VIRTPP_OP_TRAITS("virStorageVolLookupByKey", false); struct args { std::string key; }; using result = storage_vol_ref; };
struct storage_vol_lookup_by_path { VIRTPP_OP_TRAITS("virStorageVolLookupByPath", false); struct args { std::string path; }; using result = storage_vol_ref; };
struct storage_vol_get_info { VIRTPP_OP_TRAITS("virStorageVolGetInfo", false); struct args { storage_vol_ref vol; }; using result = storage_vol_info; };
struct storage_vol_get_xml_desc { VIRTPP_OP_TRAITS("virStorageVolGetXMLDesc", false); struct args { storage_vol_ref vol; unsigned flags = 0; }; using result = std::string; };
struct storage_vol_get_path { VIRTPP_OP_TRAITS("virStorageVolGetPath", false); struct args { storage_vol_ref vol; }; using result = std::string; };

// ---- host interfaces and node devices (read-only views of the host) ------------------------
struct connect_list_all_interfaces { VIRTPP_OP_TRAITS("virConnectListAllInterfaces", false); struct args { unsigned flags = 0; }; using result = std::vector<interface_ref>; };
struct interface_lookup_by_name { VIRTPP_OP_TRAITS("virInterfaceLookupByName", false); struct args { std::string name; }; using result = interface_ref; };
struct interface_lookup_by_mac_string { VIRTPP_OP_TRAITS("virInterfaceLookupByMACString", false); struct args { std::string mac; }; using result = interface_ref; };
struct interface_get_xml_desc { VIRTPP_OP_TRAITS("virInterfaceGetXMLDesc", false); struct args { interface_ref iface; unsigned flags = 0; }; using result = std::string; };
struct interface_is_active { VIRTPP_OP_TRAITS("virInterfaceIsActive", false); struct args { interface_ref iface; }; using result = bool; };
struct connect_list_all_node_devices { VIRTPP_OP_TRAITS("virConnectListAllNodeDevices", false); struct args { unsigned flags = 0; }; using result = std::vector<node_device_ref>; };
/// virNodeListDevices: the names of the devices with capability `cap` (every device when none).
struct node_list_devices { VIRTPP_OP_TRAITS("virNodeListDevices", false); struct args { std::optional<std::string> cap; unsigned flags = 0; }; using result = std::vector<std::string>; };
struct node_device_lookup_by_name { VIRTPP_OP_TRAITS("virNodeDeviceLookupByName", false); struct args { std::string name; }; using result = node_device_ref; };
struct node_device_get_xml_desc { VIRTPP_OP_TRAITS("virNodeDeviceGetXMLDesc", false); struct args { node_device_ref dev; unsigned flags = 0; }; using result = std::string; };
/// The parent's name; none for a root device.
struct node_device_get_parent { VIRTPP_OP_TRAITS("virNodeDeviceGetParent", false); struct args { node_device_ref dev; }; using result = std::optional<std::string>; };
struct node_device_list_caps { VIRTPP_OP_TRAITS("virNodeDeviceListCaps", false); struct args { node_device_ref dev; }; using result = std::vector<std::string>; };

// ---- snapshots and checkpoints (metadata in the test driver) ---------------------------------
struct domain_snapshot_create_xml { VIRTPP_OP_TRAITS("virDomainSnapshotCreateXML", true); struct args { domain_ref dom; std::string xml; unsigned flags = 0; }; using result = domain_snapshot_ref; };
struct domain_snapshot_get_xml_desc { VIRTPP_OP_TRAITS("virDomainSnapshotGetXMLDesc", false); struct args { domain_snapshot_ref snap; unsigned flags = 0; }; using result = std::string; };
struct domain_snapshot_lookup_by_name { VIRTPP_OP_TRAITS("virDomainSnapshotLookupByName", false); struct args { domain_ref dom; std::string name; unsigned flags = 0; }; using result = domain_snapshot_ref; };
struct domain_list_all_snapshots { VIRTPP_OP_TRAITS("virDomainListAllSnapshots", false); struct args { domain_ref dom; unsigned flags = 0; }; using result = std::vector<domain_snapshot_ref>; };
struct domain_has_current_snapshot { VIRTPP_OP_TRAITS("virDomainHasCurrentSnapshot", false); struct args { domain_ref dom; unsigned flags = 0; }; using result = bool; };
struct domain_snapshot_current { VIRTPP_OP_TRAITS("virDomainSnapshotCurrent", false); struct args { domain_ref dom; unsigned flags = 0; }; using result = domain_snapshot_ref; };
struct domain_snapshot_get_parent { VIRTPP_OP_TRAITS("virDomainSnapshotGetParent", false); struct args { domain_snapshot_ref snap; unsigned flags = 0; }; using result = domain_snapshot_ref; };
struct domain_snapshot_is_current { VIRTPP_OP_TRAITS("virDomainSnapshotIsCurrent", false); struct args { domain_snapshot_ref snap; unsigned flags = 0; }; using result = bool; };
struct domain_snapshot_has_metadata { VIRTPP_OP_TRAITS("virDomainSnapshotHasMetadata", false); struct args { domain_snapshot_ref snap; unsigned flags = 0; }; using result = bool; };
struct domain_snapshot_delete { VIRTPP_OP_TRAITS("virDomainSnapshotDelete", true); struct args { domain_snapshot_ref snap; unsigned flags = 0; }; using result = void; };
struct domain_checkpoint_create_xml { VIRTPP_OP_TRAITS("virDomainCheckpointCreateXML", true); struct args { domain_ref dom; std::string xml; unsigned flags = 0; }; using result = domain_checkpoint_ref; };
struct domain_checkpoint_get_xml_desc { VIRTPP_OP_TRAITS("virDomainCheckpointGetXMLDesc", false); struct args { domain_checkpoint_ref checkpoint; unsigned flags = 0; }; using result = std::string; };
struct domain_checkpoint_lookup_by_name { VIRTPP_OP_TRAITS("virDomainCheckpointLookupByName", false); struct args { domain_ref dom; std::string name; unsigned flags = 0; }; using result = domain_checkpoint_ref; };
struct domain_list_all_checkpoints { VIRTPP_OP_TRAITS("virDomainListAllCheckpoints", false); struct args { domain_ref dom; unsigned flags = 0; }; using result = std::vector<domain_checkpoint_ref>; };
struct domain_checkpoint_get_parent { VIRTPP_OP_TRAITS("virDomainCheckpointGetParent", false); struct args { domain_checkpoint_ref checkpoint; unsigned flags = 0; }; using result = domain_checkpoint_ref; };
struct domain_checkpoint_delete { VIRTPP_OP_TRAITS("virDomainCheckpointDelete", true); struct args { domain_checkpoint_ref checkpoint; unsigned flags = 0; }; using result = void; };

// ---- jobs (docs/jobs.md) ----------------------------------------------------------------------
/// virDomainGetJobInfo: progress of the domain's running job (type none when idle).
struct domain_get_job_info { VIRTPP_OP_TRAITS("virDomainGetJobInfo", false); struct args { domain_ref dom; }; using result = job_info; };
/// virDomainGetJobStats: the same as libvirt's named statistics; flags: job_stats_flags.
struct domain_get_job_stats { VIRTPP_OP_TRAITS("virDomainGetJobStats", false); struct args { domain_ref dom; unsigned flags = 0; }; using result = job_stats; };
/// virDomainAbortJob: cancels the running save, dump or outgoing migration.
struct domain_abort_job { VIRTPP_OP_TRAITS("virDomainAbortJob", true); struct args { domain_ref dom; unsigned flags = 0; }; using result = void; };

#undef VIRTPP_OP_TRAITS

/// Whether a read-only connection refuses this call: the operation's `mutates`, or for the few
/// APIs libvirt refuses only for some arguments, its `mutates_with(args)`.
template <class Op>
constexpr bool refused_read_only(const typename Op::args& a) {
    if constexpr (requires { Op::mutates_with(a); })
        return Op::mutates_with(a);
    else
        return Op::mutates;
}

/// Every operation a driver may provide, in one list.
using all = std::tuple<
    connect_get_type, connect_get_version, connect_get_hostname, connect_get_max_vcpus, connect_get_capabilities,
    node_get_info, node_get_security_model, node_get_cpu_map, connect_supports_feature,
    connect_domain_xml_from_native, connect_domain_xml_to_native, connect_get_sysinfo,
    connect_get_domain_capabilities,
    connect_num_of_domains, connect_list_domains, connect_num_of_defined_domains, connect_list_defined_domains,
    connect_list_all_domains, connect_get_all_domain_stats, connect_num_of_networks, connect_list_networks, connect_num_of_defined_networks,
    connect_list_defined_networks, connect_list_all_networks,
    domain_lookup_by_id, domain_lookup_by_name, domain_lookup_by_uuid, domain_create_xml, domain_define_xml,
    domain_undefine, domain_create, domain_suspend, domain_resume, domain_shutdown, domain_reboot, domain_destroy,
    domain_save, domain_restore, domain_core_dump, domain_has_managed_save_image,
    domain_get_info, domain_get_state, domain_get_os_type, domain_get_xml_desc, domain_is_active,
    domain_is_persistent, domain_get_autostart, domain_set_autostart, domain_get_max_memory, domain_set_max_memory,
    domain_set_memory, domain_get_max_vcpus, domain_set_vcpus, domain_get_vcpus_flags, domain_pin_vcpu,
    domain_get_vcpus, domain_get_scheduler_type, domain_get_scheduler_parameters, domain_set_scheduler_parameters,
    domain_block_stats, domain_interface_stats, domain_attach_device, domain_detach_device,
    domain_get_security_label, domain_snapshot_num, domain_get_messages,
    domain_migrate_begin, domain_migrate_prepare, domain_migrate_perform, domain_migrate_finish,
    domain_migrate_confirm,
    network_lookup_by_name, network_lookup_by_uuid, network_create_xml, network_define_xml, network_undefine,
    network_create, network_destroy, network_get_xml_desc, network_get_bridge_name, network_get_autostart,
    network_set_autostart, network_is_active, network_is_persistent, network_update, network_get_dhcp_leases,
    domain_interface_addresses,
    domain_get_job_info, domain_get_job_stats, domain_abort_job,
    connect_list_all_storage_pools, storage_pool_lookup_by_name, storage_pool_lookup_by_uuid,
    storage_pool_lookup_by_volume, storage_pool_get_info, storage_pool_get_xml_desc, storage_pool_get_autostart,
    storage_pool_is_active, storage_pool_is_persistent, storage_pool_list_all_volumes, storage_vol_create_xml,
    storage_vol_delete, storage_vol_lookup_by_name, storage_vol_lookup_by_key, storage_vol_lookup_by_path,
    storage_vol_get_info, storage_vol_get_xml_desc, storage_vol_get_path,
    connect_list_all_interfaces, interface_lookup_by_name, interface_lookup_by_mac_string, interface_get_xml_desc,
    interface_is_active, connect_list_all_node_devices, node_list_devices, node_device_lookup_by_name, node_device_get_xml_desc,
    node_device_get_parent, node_device_list_caps,
    domain_snapshot_create_xml, domain_snapshot_get_xml_desc, domain_snapshot_lookup_by_name,
    domain_list_all_snapshots, domain_has_current_snapshot, domain_snapshot_current, domain_snapshot_get_parent,
    domain_snapshot_is_current, domain_snapshot_has_metadata, domain_snapshot_delete,
    domain_checkpoint_create_xml, domain_checkpoint_get_xml_desc, domain_checkpoint_lookup_by_name,
    domain_list_all_checkpoints, domain_checkpoint_get_parent, domain_checkpoint_delete>;

}  // namespace virtpp::op
