// Internal: the state behind hypervisor::test, shared by its source files.
#pragma once

#include <virtpp/error.hpp>
#include <virtpp/events.hpp>
#include <virtpp/hypervisor/detail/domain_registry.hpp>
#include <virtpp/hypervisor/test.hpp>
#include <virtpp/xml/domain.hpp>
#include <virtpp/xml/network.hpp>

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace virtpp::hypervisor::test_detail {

/// virDomainRunningReason / virDomainPausedReason / virDomainShutoffReason values the driver uses.
namespace reason {
inline constexpr int running_booted = 1, running_migrated = 2, running_restored = 3, running_unpaused = 5,
                     running_migration_canceled = 6;
inline constexpr int paused_user = 1, paused_migration = 2;
inline constexpr int shutoff_unknown = 0, shutoff_shutdown = 1, shutoff_destroyed = 2, shutoff_crashed = 3,
                     shutoff_migrated = 4, shutoff_saved = 5;
}  // namespace reason

namespace migrate_flags = virtpp::migrate_flags;

enum class migration_stage { none, begun, performed, incoming };

/// A snapshot or a checkpoint: libvirt's "domain moment", metadata only in the test driver.
struct moment {
    std::string name;
    std::optional<std::string> parent;       ///< the parent's name; none for a root
    std::optional<std::string> description;  ///< snapshots only
    std::int64_t creation_time = 0;          ///< seconds since the epoch
    domain_state state = domain_state::shutoff;  ///< the domain's state when taken (snapshots)
    xml::domain_def dom;                      ///< the domain's definition when taken
};

/// A domain's snapshots or checkpoints, in creation order, and which one is current.
struct moment_list {
    std::vector<moment> items;
    std::optional<std::string> current;

    [[nodiscard]] moment* find(std::string_view name) noexcept {
        for (auto& m : items)
            if (m.name == name) return &m;
        return nullptr;
    }
    [[nodiscard]] bool has_children(std::string_view name) const noexcept {
        for (const auto& m : items)
            if (m.parent && *m.parent == name) return true;
        return false;
    }
};

struct domain_obj {
    xml::domain_def config;               ///< the persistent definition (transient: the one it started with)
    std::optional<xml::domain_def> live;  ///< the running definition, while active
    bool persistent = false;
    domain_state state = domain_state::shutoff;
    int reason = reason::shutoff_unknown;
    bool autostart = false;
    bool managed_save = false;
    unsigned scheduler_weight = 50;
    std::vector<std::vector<bool>> vcpu_affinity;  ///< live, one map a vcpu; empty map = every host CPU
    migration_stage migration = migration_stage::none;
    moment_list snapshots;
    moment_list checkpoints;

    [[nodiscard]] bool active() const noexcept { return live.has_value(); }
    [[nodiscard]] const xml::domain_def& current() const noexcept { return live ? *live : config; }
    [[nodiscard]] xml::domain_def& current() noexcept { return live ? *live : config; }
    [[nodiscard]] int id() const noexcept { return live && live->id ? *live->id : -1; }
    [[nodiscard]] domain_ref ref() const { return {current().name, *current().uuid, id()}; }
};

struct network_obj {
    xml::network_def config;               ///< the persistent (or only) definition
    std::optional<xml::network_def> live;  ///< the running definition, while active
    std::optional<xml::network_def> next;  ///< a definition redefined while running, applied at destroy
    bool persistent = false;
    bool autostart = false;

    [[nodiscard]] bool active() const noexcept { return live.has_value(); }
    [[nodiscard]] const xml::network_def& current() const noexcept { return live ? *live : config; }
    [[nodiscard]] network_ref ref() const { return {current().name, *current().uuid}; }
};

struct volume_obj {
    std::string name;
    std::string path;  ///< also its key, as the test driver keys volumes
    std::uint64_t capacity = 0;
    std::uint64_t allocation = 0;
    std::string format = "raw";
};

/// A storage pool of the test driver: always a running 'dir' pool with fixed capacity, whose
/// volumes are bookkeeping only (nothing is written to disk, as in libvirt's test driver).
struct storage_pool_obj {
    std::string name;
    virtpp::uuid uuid;
    std::string type = "dir";
    std::string target_path;
    std::uint64_t capacity = 0;
    bool active = true;
    bool persistent = true;
    bool autostart = false;
    std::vector<volume_obj> volumes;

    [[nodiscard]] std::uint64_t allocation() const noexcept {
        std::uint64_t sum = 0;
        for (const auto& v : volumes) sum += v.allocation;
        return sum;
    }
    [[nodiscard]] storage_pool_ref ref() const { return {name, uuid}; }
};

/// A host interface or node device as the host definition gives it; they cannot be changed.
struct host_interface {
    std::string name;
    std::string mac;
    bool active = true;
    std::string xml;
};
struct node_device {
    std::string name;
    std::optional<std::string> parent;
    std::vector<std::string> caps;  ///< top-level capability types (virNodeDeviceListCaps)
    unsigned list_caps = 0;         ///< the VIR_CONNECT_LIST_NODE_DEVICES_CAP_* bits it matches
    std::string xml;
};

/// What a host definition gives beyond its domains and networks.
struct host_facts {
    node_info node;
    bool numa_cells = false;  ///< the built-in host has two NUMA cells in its capabilities
};

}  // namespace virtpp::hypervisor::test_detail

namespace virtpp::hypervisor {

struct test::state::impl {
    mutable std::shared_mutex mutex;
    test_detail::host_facts host;
    detail::object_registry<test_detail::domain_obj> domains;  ///< in definition order
    detail::object_registry<test_detail::network_obj> networks;
    std::vector<test_detail::storage_pool_obj> pools;
    std::vector<test_detail::host_interface> interfaces;
    std::vector<test_detail::node_device> node_devices;
    int next_id = 1;
    /// Queued under `mutex`, delivered after it is released (event_hub::deliver_on_exit).
    event_hub events;

    // ---- helpers; callers hold the mutex
    /// The domain a reference names, else NO_DOMAIN with the test driver's message.
    test_detail::domain_obj& domain(const domain_ref& ref) const;
    test_detail::domain_obj* find_domain_by_name(std::string_view name) const;
    test_detail::domain_obj& add_domain(std::unique_ptr<test_detail::domain_obj> obj);
    void remove_domain(const test_detail::domain_obj& obj);
    /// virDomainObjListAdd's checks for a new definition: the name/uuid conflicts and (for starts)
    /// an already active domain. Returns the existing domain with that uuid, if any.
    test_detail::domain_obj* check_domain_conflicts(const xml::domain_def& def, bool starting) const;
    /// Parses domain XML and fills what the test driver's post-parse fills (uuid, arch, boot
    /// device, MACs, interface names).
    xml::domain_def parse_domain(std::string_view xml) const;
    /// Starts a domain and queues libvirt's STARTED event with `detail`.
    void start(test_detail::domain_obj& obj, int why);
    /// Stops a domain and queues the STOPPED event; a transient one is removed (obj is invalid
    /// afterwards then).
    void stop(test_detail::domain_obj& obj, int why);
    void queue_event(const test_detail::domain_obj& obj, int event, int detail);
    void queue_event(const test_detail::network_obj& obj, int event);

    test_detail::network_obj& network(const network_ref& ref) const;
    test_detail::network_obj* find_network_by_name(std::string_view name) const;
    test_detail::network_obj* find_network_by_uuid(const virtpp::uuid& id) const;
    test_detail::network_obj& add_network(xml::network_def def, bool live);
};

namespace test_detail {
/// The storage pool, interfaces and node devices of libvirt 9.0's built-in test host.
void add_default_host_objects(test::state::impl& host);
/// Reads a test host definition file (libvirt's <node> format) into a fresh host.
std::shared_ptr<test::state::impl> load_host_file(const std::string& path);
/// The built-in host of test:///default.
std::shared_ptr<test::state::impl> make_default_host();
/// The capabilities document of a host.
std::string capabilities_xml(const host_facts& host);
/// Adds a domain definition read from a host file or the built-in host, running unless told.
void add_host_domain(test::state::impl& host, xml::domain_def def, bool running, bool persistent);
/// Raises an error whose message is `text` as it is, without the code's generic prefix: libvirt
/// reports virCheckFlags and the flag-combination checks that way.
[[noreturn]] void raise_verbatim(error_code code, error_domain domain, std::string text);
/// virCheckFlags: flags outside `allowed` are INVALID_ARG "unsupported flags (0x..) in function f".
void check_flags(unsigned flags, unsigned allowed, std::string_view function);
/// errno's text, as libvirt's virReportSystemError appends it.
std::string errno_text(int err);
}  // namespace test_detail

}  // namespace virtpp::hypervisor
