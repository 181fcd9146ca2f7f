// The host's node info (libvirt's virNodeInfo, virNodeGetInfo), computed the way libvirt 9.0 does
// on Linux: CPU topology from sysfs, /proc/cpuinfo as the fallback, memory from /proc/meminfo,
// model from uname's machine. The roots are injectable so tests read fixture trees and strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace virtpp {

struct node_info {
    std::string model;             ///< CPU model: uname's machine, e.g. "x86_64"
    std::uint64_t memory_kib = 0;  ///< MemTotal
    unsigned cpus = 0;             ///< active CPUs
    unsigned mhz = 0;              ///< expected CPU frequency
    unsigned nodes = 0;            ///< NUMA nodes (1 when not NUMA-aware)
    unsigned sockets = 0;          ///< sockets per node
    unsigned cores = 0;            ///< cores per socket
    unsigned threads = 0;          ///< threads per core

    friend bool operator==(const node_info&, const node_info&) = default;
};

/// Where read_node_info looks; tests point these at fixture trees.
struct node_info_sources {
    std::string sysfs_cpu_root = "/sys/devices/system/cpu";
    std::string sysfs_node_root = "/sys/devices/system/node";
    std::string proc_root = "/proc";
    std::string machine;  ///< empty: uname()'s machine
};

/// This host's node info. Raises INTERNAL_ERROR / SYSTEM_ERROR when /proc cannot be read.
[[nodiscard]] node_info read_node_info(const node_info_sources& sources = {});

/// The fallback path, from the texts of /proc/cpuinfo and /proc/meminfo alone: CPUs counted from
/// "processor" lines, MHz from "cpu MHz", sockets from distinct "physical id", cores from
/// "cpu cores", threads from siblings / cpu cores; one node.
[[nodiscard]] node_info node_info_from_proc(std::string_view cpuinfo, std::string_view meminfo,
                                            std::string_view machine = {});

/// The line virsh's tests print: "CPUs: 2, MHz: 2800, Nodes: 1, Sockets: 1, Cores: 2, Threads: 1".
[[nodiscard]] std::string format_node_info_summary(const node_info& info);

}  // namespace virtpp
