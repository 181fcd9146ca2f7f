// Typed capabilities XML (<capabilities>), the document virConnectGetCapabilities returns: the host
// (uuid, CPU, power management, IOMMU, migration, NUMA topology, security models) and the guests it
// can run. Parsed from the seed's form and libvirt 9.0's, formatted in 9.0's layout. Unknown
// elements are dropped.
#pragma once

#include <virtpp/uuid.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::xml {

/// <signature family='6' model='85' stepping='4'/>
struct cpu_signature {
    unsigned family = 0;
    unsigned model = 0;
    unsigned stepping = 0;
    friend bool operator==(const cpu_signature&, const cpu_signature&) = default;
};

/// <counter name='tsc' frequency='..' scaling='yes|no'/>
struct cpu_counter {
    std::string name = "tsc";
    std::uint64_t frequency = 0;
    std::optional<bool> scaling;
    friend bool operator==(const cpu_counter&, const cpu_counter&) = default;
};

/// <topology sockets='1' dies='1' cores='4' threads='2'/>; libvirt formats it only when all four are set.
struct cpu_topology {
    unsigned sockets = 0;
    unsigned dies = 1;  ///< older documents omit dies; libvirt takes 1
    unsigned cores = 0;
    unsigned threads = 0;
    friend bool operator==(const cpu_topology&, const cpu_topology&) = default;
};

/// <maxphysaddr mode='passthrough' bits='46'/>
struct cpu_max_phys_addr {
    std::string mode;
    std::optional<int> bits;
    friend bool operator==(const cpu_max_phys_addr&, const cpu_max_phys_addr&) = default;
};

struct host_cpu {
    std::optional<std::string> arch;
    /// The seed's <features><vmx/><pae/></features>: one empty element per feature, in order.
    std::vector<std::string> feature_flags;
    std::optional<std::string> model;
    std::optional<std::string> vendor;
    std::optional<unsigned> microcode_version;
    std::optional<cpu_signature> signature;
    std::optional<cpu_counter> counter;
    std::optional<cpu_topology> topology;
    std::optional<cpu_max_phys_addr> max_phys_addr;
    /// 9.0's <feature name='x'/> list (the CPU-model form), in order.
    std::vector<std::string> features;
    /// <pages unit='KiB' size='N'/>: page sizes the host supports, in KiB.
    std::vector<std::uint64_t> page_sizes_kib;
    friend bool operator==(const host_cpu&, const host_cpu&) = default;
};

/// <migration_features><live/><uri_transports><uri_transport>tcp</uri_transport>...
struct migration_features {
    bool live = false;
    std::vector<std::string> uri_transports;
    friend bool operator==(const migration_features&, const migration_features&) = default;
};

/// <pages unit='KiB' size='4'>524288</pages> inside a NUMA cell.
struct numa_cell_pages {
    std::uint64_t size_kib = 0;
    std::uint64_t available = 0;
    friend bool operator==(const numa_cell_pages&, const numa_cell_pages&) = default;
};

/// <sibling id='1' value='21'/> inside <distances>.
struct numa_distance {
    unsigned cell_id = 0;
    unsigned value = 0;
    friend bool operator==(const numa_distance&, const numa_distance&) = default;
};

/// <cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0'/>; the location is all or nothing.
struct numa_cell_cpu {
    unsigned id = 0;
    std::optional<unsigned> socket_id;
    std::optional<unsigned> die_id;
    std::optional<unsigned> core_id;
    std::optional<std::string> siblings;  ///< a CPU list such as "0,4" or "0-3"
    friend bool operator==(const numa_cell_cpu&, const numa_cell_cpu&) = default;
};

struct numa_cell {
    unsigned id = 0;
    std::optional<std::uint64_t> memory_kib;
    std::vector<numa_cell_pages> pages;
    std::vector<numa_distance> distances;
    std::vector<numa_cell_cpu> cpus;
    friend bool operator==(const numa_cell&, const numa_cell&) = default;
};

/// <baselabel type='kvm'>+0:+0</baselabel>
struct security_base_label {
    std::string type;
    std::string label;
    friend bool operator==(const security_base_label&, const security_base_label&) = default;
};

struct security_model {
    std::string model;
    std::string doi;
    std::vector<security_base_label> base_labels;
    friend bool operator==(const security_model&, const security_model&) = default;
};

/// <power_management> targets, in libvirt's order.
enum class power_target { suspend_mem, suspend_disk, suspend_hybrid };
[[nodiscard]] std::string_view to_string(power_target target) noexcept;

struct host_capabilities {
    std::optional<virtpp::uuid> uuid;
    host_cpu cpu;
    /// Formatted as <power_management/> when empty: libvirt always writes the element.
    std::vector<power_target> power_management;
    bool iommu = false;  ///< <iommu support='yes|no'/>
    std::optional<migration_features> migration;
    std::optional<std::string> netprefix;
    /// <topology><cells num='N'>...: absent when the host has no NUMA data.
    std::optional<std::vector<numa_cell>> numa_cells;
    std::vector<security_model> security_models;
    friend bool operator==(const host_capabilities&, const host_capabilities&) = default;
};

/// <machine canonical='pc-i440fx-7.2' maxCpus='255' deprecated='yes'>pc</machine>
struct guest_machine {
    std::string name;
    std::optional<std::string> canonical;
    std::optional<unsigned> max_cpus;
    bool deprecated = false;
    friend bool operator==(const guest_machine&, const guest_machine&) = default;
};

/// <domain type='kvm'>: a hypervisor that can run this guest, with its own emulator/machines.
struct guest_domain {
    std::string type;
    std::optional<std::string> emulator;
    std::optional<std::string> loader;
    std::vector<guest_machine> machines;
    friend bool operator==(const guest_domain&, const guest_domain&) = default;
};

struct guest_arch {
    std::string name;
    unsigned wordsize = 0;
    std::optional<std::string> emulator;
    std::optional<std::string> loader;
    std::vector<guest_machine> machines;
    std::vector<guest_domain> domains;
    friend bool operator==(const guest_arch&, const guest_arch&) = default;
};

/// Guest features libvirt knows, in the order it formats them.
enum class guest_feature_kind { pae, nonpae, ia64_be, acpi, apic, cpuselection, deviceboot, disksnapshot, hap };
[[nodiscard]] std::string_view to_string(guest_feature_kind kind) noexcept;

/// <acpi default='on' toggle='yes'/>
struct guest_feature {
    guest_feature_kind kind = guest_feature_kind::pae;
    std::optional<bool> default_on;
    std::optional<bool> toggle;
    friend bool operator==(const guest_feature&, const guest_feature&) = default;
};

struct guest_capabilities {
    std::string os_type;  ///< "hvm", "xen", "linux", "exe"
    guest_arch arch;
    std::vector<guest_feature> features;  ///< formatted in guest_feature_kind order, one each
    friend bool operator==(const guest_capabilities&, const guest_capabilities&) = default;
};

struct capabilities {
    host_capabilities host;
    std::vector<guest_capabilities> guests;
    friend bool operator==(const capabilities&, const capabilities&) = default;
};

/// Parses a <capabilities> document (the seed's or libvirt 9.0's layout). Malformed XML raises
/// XML_DETAIL; wrong content raises XML_ERROR naming the element/attribute and the line.
[[nodiscard]] capabilities parse_capabilities_xml(std::string_view xml);

/// libvirt 9.0's layout (virCapabilitiesFormatXML); format(parse(x)) is a fixed point.
[[nodiscard]] std::string format_capabilities_xml(const capabilities& caps);

}  // namespace virtpp::xml
