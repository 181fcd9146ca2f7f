// Plain values that cross the API: references to domains and networks (what libvirt's
// virDomainPtr / virNetworkPtr carry), and the records operations return.
#pragma once

#include <virtpp/uuid.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace virtpp {

/// Identifies a domain the way libvirt's remote_nonnull_domain does: name, UUID, and the runtime
/// id (-1 when the domain is not running).
struct domain_ref {
    std::string name;
    virtpp::uuid uuid;
    int id = -1;
    friend bool operator==(const domain_ref&, const domain_ref&) = default;
};

/// Identifies a virtual network (remote_nonnull_network).
struct network_ref {
    std::string name;
    virtpp::uuid uuid;
    friend bool operator==(const network_ref&, const network_ref&) = default;
};

/// A storage pool (remote_nonnull_storage_pool).
struct storage_pool_ref {
    std::string name;
    virtpp::uuid uuid;
    friend bool operator==(const storage_pool_ref&, const storage_pool_ref&) = default;
};

/// A storage volume (remote_nonnull_storage_vol): its pool's name, its name and its key.
struct storage_vol_ref {
    std::string pool;
    std::string name;
    std::string key;
    friend bool operator==(const storage_vol_ref&, const storage_vol_ref&) = default;
};

/// A host interface (remote_nonnull_interface): name and MAC address.
struct interface_ref {
    std::string name;
    std::string mac;
    friend bool operator==(const interface_ref&, const interface_ref&) = default;
};

/// A node device (remote_nonnull_node_device).
struct node_device_ref {
    std::string name;
    friend bool operator==(const node_device_ref&, const node_device_ref&) = default;
};

/// A domain snapshot (remote_nonnull_domain_snapshot): its name and its domain.
struct domain_snapshot_ref {
    std::string name;
    domain_ref dom;
    friend bool operator==(const domain_snapshot_ref&, const domain_snapshot_ref&) = default;
};

/// A domain checkpoint (remote_nonnull_domain_checkpoint).
struct domain_checkpoint_ref {
    std::string name;
    domain_ref dom;
    friend bool operator==(const domain_checkpoint_ref&, const domain_checkpoint_ref&) = default;
};

/// virStoragePoolInfo; state: virStoragePoolState (0 inactive, 1 building, 2 running, 3 degraded, 4 inaccessible).
struct storage_pool_info {
    int state = 0;
    std::uint64_t capacity = 0;
    std::uint64_t allocation = 0;
    std::uint64_t available = 0;
    friend bool operator==(const storage_pool_info&, const storage_pool_info&) = default;
};

/// virStorageVolInfo; type: virStorageVolType (0 file, 1 block, 2 dir, 3 network, 4 netdir, 5 ploop).
struct storage_vol_info {
    int type = 0;
    std::uint64_t capacity = 0;
    std::uint64_t allocation = 0;
    friend bool operator==(const storage_vol_info&, const storage_vol_info&) = default;
};

/// virDomainState numbering.
enum class domain_state : int {
    nostate = 0, running = 1, blocked = 2, paused = 3, shutdown = 4, shutoff = 5, crashed = 6, pmsuspended = 7
};

/// The state with libvirt's reason code (its meaning depends on the state).
struct domain_state_info {
    domain_state state = domain_state::nostate;
    int reason = 0;
    friend bool operator==(const domain_state_info&, const domain_state_info&) = default;
};

/// virDomainInfo.
struct domain_info {
    domain_state state = domain_state::nostate;
    std::uint64_t max_memory_kib = 0;
    std::uint64_t memory_kib = 0;
    unsigned vcpus = 0;
    std::uint64_t cpu_time_ns = 0;
    friend bool operator==(const domain_info&, const domain_info&) = default;
};

/// virVcpuInfo plus the vcpu's affinity map (one bool a host CPU).
struct vcpu_info {
    unsigned number = 0;
    int state = 0;  ///< virVcpuState: 0 offline, 1 running, 2 blocked
    std::uint64_t cpu_time_ns = 0;
    int cpu = -1;  ///< host CPU it runs on, -1 when offline
    std::vector<bool> affinity;
    friend bool operator==(const vcpu_info&, const vcpu_info&) = default;
};

/// virDomainBlockStatsStruct; -1 marks a field the driver does not know.
struct block_stats {
    std::int64_t rd_req = -1, rd_bytes = -1, wr_req = -1, wr_bytes = -1, errs = -1;
    friend bool operator==(const block_stats&, const block_stats&) = default;
};

/// virDomainInterfaceStatsStruct; -1 marks a field the driver does not know.
struct interface_stats {
    std::int64_t rx_bytes = -1, rx_packets = -1, rx_errs = -1, rx_drop = -1;
    std::int64_t tx_bytes = -1, tx_packets = -1, tx_errs = -1, tx_drop = -1;
    friend bool operator==(const interface_stats&, const interface_stats&) = default;
};

/// virNetworkDHCPLease: one lease a network's DHCP server handed out.
struct network_dhcp_lease {
    std::string iface;             ///< the network's bridge
    std::int64_t expiry_time = 0;  ///< seconds since the epoch
    std::int32_t type = 0;         ///< VIR_IP_ADDR_TYPE_IPV4 (0) / IPV6 (1)
    std::optional<std::string> mac, iaid;
    std::string ipaddr;
    std::uint32_t prefix = 0;
    std::optional<std::string> hostname, clientid;
    friend bool operator==(const network_dhcp_lease&, const network_dhcp_lease&) = default;
};

/// virDomainInterface: a guest interface and the addresses it was seen with.
struct domain_interface_address {
    std::int32_t type = 0;  ///< VIR_IP_ADDR_TYPE_IPV4 / IPV6
    std::string addr;
    std::uint32_t prefix = 0;
    friend bool operator==(const domain_interface_address&, const domain_interface_address&) = default;
};
struct domain_interface {
    std::optional<std::string> name;    ///< the host-side device (vnet0)
    std::optional<std::string> hwaddr;  ///< the guest's MAC
    std::vector<domain_interface_address> addrs;
    friend bool operator==(const domain_interface&, const domain_interface&) = default;
};

/// A typed parameter (virTypedParameter): scheduler parameters and the like.
struct typed_param {
    using value_type = std::variant<std::int32_t, std::uint32_t, std::int64_t, std::uint64_t, double, bool, std::string>;
    std::string field;
    value_type value;
    friend bool operator==(const typed_param&, const typed_param&) = default;
};

/// One domain's statistics (virDomainStatsRecord): libvirt's typed fields ("state.state",
/// "vcpu.0.time", ...) in the order the driver reports them.
struct domain_stats_record {
    domain_ref dom;
    std::vector<typed_param> params;
    friend bool operator==(const domain_stats_record&, const domain_stats_record&) = default;
};

/// virDomainStatsTypes bits and virConnectGetAllDomainStats' own flags (beside the list filters).
namespace domain_stats {
inline constexpr unsigned state = 1U << 0;
inline constexpr unsigned cpu_total = 1U << 1;
inline constexpr unsigned balloon = 1U << 2;
inline constexpr unsigned vcpu = 1U << 3;
inline constexpr unsigned interface = 1U << 4;
inline constexpr unsigned block = 1U << 5;
inline constexpr unsigned perf = 1U << 6;
inline constexpr unsigned iothread = 1U << 7;
inline constexpr unsigned memory = 1U << 8;
inline constexpr unsigned dirtyrate = 1U << 9;
inline constexpr unsigned vm = 1U << 10;
inline constexpr unsigned flag_nowait = 1U << 29;
inline constexpr unsigned flag_backing = 1U << 30;
inline constexpr unsigned flag_enforce = 1U << 31;
}  // namespace domain_stats

/// Scheduler type and how many parameters it has (virDomainGetSchedulerType).
struct scheduler_type {
    std::string name;
    int nparams = 0;
    friend bool operator==(const scheduler_type&, const scheduler_type&) = default;
};

/// The security model of the host (virSecurityModel) and a domain's label (virSecurityLabel).
struct security_model {
    std::string model, doi;
    friend bool operator==(const security_model&, const security_model&) = default;
};
struct security_label {
    std::string label;
    bool enforcing = false;
    friend bool operator==(const security_label&, const security_label&) = default;
};

/// Flags of virConnectListAllDomains (VIR_CONNECT_LIST_DOMAINS_*).
namespace list_flags {
inline constexpr unsigned active = 1U << 0;
inline constexpr unsigned inactive = 1U << 1;
inline constexpr unsigned persistent = 1U << 2;
inline constexpr unsigned transient = 1U << 3;
inline constexpr unsigned running = 1U << 4;
inline constexpr unsigned paused = 1U << 5;
inline constexpr unsigned shutoff = 1U << 6;
inline constexpr unsigned other = 1U << 7;
inline constexpr unsigned managedsave = 1U << 8;
inline constexpr unsigned no_managedsave = 1U << 9;
inline constexpr unsigned autostart = 1U << 10;
inline constexpr unsigned no_autostart = 1U << 11;
inline constexpr unsigned has_snapshot = 1U << 12;
inline constexpr unsigned no_snapshot = 1U << 13;
}  // namespace list_flags

/// Flags of virConnectListAllNetworks (VIR_CONNECT_LIST_NETWORKS_*).
namespace network_list_flags {
inline constexpr unsigned active = 1U << 1;  // VIR_CONNECT_LIST_NETWORKS_ACTIVE = 2
inline constexpr unsigned inactive = 1U << 0;  // VIR_CONNECT_LIST_NETWORKS_INACTIVE = 1
inline constexpr unsigned persistent = 1U << 2;
inline constexpr unsigned transient = 1U << 3;
inline constexpr unsigned autostart = 1U << 4;
inline constexpr unsigned no_autostart = 1U << 5;
}  // namespace network_list_flags

/// Flags that select which definition an operation affects (virDomainModificationImpact).
namespace affect {
inline constexpr unsigned current = 0;
inline constexpr unsigned live = 1U << 0;
inline constexpr unsigned config = 1U << 1;
inline constexpr unsigned maximum = 1U << 2;  ///< setvcpus / setmem: the maximum, not the current value
}  // namespace affect

/// virDomainMigrateFlags.
namespace migrate_flags {
inline constexpr unsigned live = 1U << 0;             ///< keep the guest running while its memory moves
inline constexpr unsigned peer2peer = 1U << 1;        ///< the source daemon talks to the destination itself
inline constexpr unsigned tunnelled = 1U << 2;        ///< the stream goes through the daemons' connection
inline constexpr unsigned persist_dest = 1U << 3;     ///< define the guest on the destination
inline constexpr unsigned undefine_source = 1U << 4;  ///< undefine it on the source afterwards
inline constexpr unsigned paused = 1U << 5;           ///< leave it paused on the destination
inline constexpr unsigned change_protection = 1U << 8;
inline constexpr unsigned offline = 1U << 10;
inline constexpr unsigned abort_on_error = 1U << 12;
inline constexpr unsigned auto_converge = 1U << 13;
inline constexpr unsigned postcopy_resume = 1U << 19;
}  // namespace migrate_flags

/// virDomainMigrate3's parameters (VIR_MIGRATE_PARAM_*), all optional.
struct migrate_params {
    std::optional<std::string> dname;  ///< the guest's name on the destination
    std::optional<std::string> uri;    ///< where its state goes (tcp://host[:port]); by default the destination says
    std::optional<std::string> xml;    ///< the definition to run on the destination (same guest, e.g. other paths)
    std::uint64_t bandwidth = 0;       ///< MiB/s; 0: no limit
};

/// virDomainXMLFlags subset.
namespace xml_flags {
inline constexpr unsigned secure = 1U << 0;
inline constexpr unsigned inactive = 1U << 1;
inline constexpr unsigned update_cpu = 1U << 2;
inline constexpr unsigned migratable = 1U << 3;
}  // namespace xml_flags

}  // namespace virtpp
