// Internal: the host's links and addresses through rtnetlink (no ip(8)): bridges for virtual
// networks, their addresses, MAC, MTU, STP and forward delay, and the routes that tell whether a
// subnet is already in use. Every call acts in the calling thread's network namespace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace virtpp::hypervisor::netlink {

struct bridge_settings {
    std::optional<std::string> mac;  ///< "52:54:00:.."; the kernel's random one when absent
    std::optional<unsigned> mtu;
    bool stp = true;
    unsigned long delay_seconds = 0;
};

/// Creates a bridge (down). Raises SYSTEM_ERROR naming the bridge: EEXIST when the name is taken.
void create_bridge(const std::string& name, const bridge_settings& settings);
/// Deletes a link; a link that is already gone is no error.
void delete_link(const std::string& name);
/// Sets IFF_UP on or off.
void set_link_up(const std::string& name, bool up);
/// Adds an address (IPv4 with its broadcast) to a link.
void add_address(const std::string& link, const std::string& address, unsigned prefix);
/// Adds a static route to destination/prefix via gateway, leaving through link (RTM_NEWROUTE,
/// main table, the given metric). Raises SYSTEM_ERROR "Error adding route to <link>".
void add_route(const std::string& link, const std::string& destination, unsigned prefix, const std::string& gateway,
               unsigned metric);
/// True when a link of that name exists.
[[nodiscard]] bool link_exists(const std::string& name);
/// The links enslaved to a bridge (by IFLA_MASTER).
[[nodiscard]] std::vector<std::string> bridge_ports(const std::string& bridge);

/// True when the namespace has a link of no virtual kind besides lo (a real NIC: the host's
/// namespace rather than one a test made from veths and bridges).
[[nodiscard]] bool has_hardware_links();

/// One route of the main table: the link it leaves through and its destination subnet.
struct route {
    std::string link;
    int family = 0;  ///< AF_INET / AF_INET6
    std::string destination;
    unsigned prefix = 0;
};
/// The routes of the namespace's main table with a link (RTM_GETROUTE dump).
[[nodiscard]] std::vector<route> routes();

/// True when a/prefix_a and b/prefix_b share addresses (one contains the other).
[[nodiscard]] bool subnets_overlap(const std::string& a, unsigned prefix_a, const std::string& b, unsigned prefix_b);

}  // namespace virtpp::hypervisor::netlink
