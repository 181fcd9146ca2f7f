// Typed virtual-network XML (<network>), as libvirt 9.0 parses and formats it: name, uuid, forward,
// bridge, mac, domain, and IP blocks with their DHCP ranges and hosts. Unknown elements are dropped.
#pragma once

#include <virtpp/uuid.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::xml {

/// <forward mode='...'>: how the network reaches the outside. libvirt's default is nat.
enum class network_forward_mode { nat, route, open, bridge, private_, vepa, passthrough, hostdev };

[[nodiscard]] std::string_view to_string(network_forward_mode mode) noexcept;
[[nodiscard]] std::optional<network_forward_mode> network_forward_mode_from_string(std::string_view text) noexcept;

struct network_forward {
    network_forward_mode mode = network_forward_mode::nat;
    std::optional<std::string> dev;  ///< dev='...': the host interface traffic must leave through
    /// <interface dev='..'/> children; libvirt lists dev as the first. When empty, dev alone is
    /// formatted as the one interface. Parsing fills both.
    std::vector<std::string> interfaces;
    bool managed = false;  ///< managed='yes' (hostdev mode only, where libvirt always writes it)
    /// <nat><address start end/><port start end/></nat> (nat mode only)
    std::optional<std::string> nat_address_start, nat_address_end;
    unsigned nat_port_start = 0, nat_port_end = 0;
    friend bool operator==(const network_forward&, const network_forward&) = default;
};

struct network_bridge {
    std::optional<std::string> name;  ///< the driver picks virbrN at define time when absent
    bool stp = true;                  ///< stp='off' turns it off; libvirt's default is on
    unsigned long delay = 0;          ///< forward delay in seconds
    friend bool operator==(const network_bridge&, const network_bridge&) = default;
};

/// <domain name='example.com' localOnly='yes'/>: the DNS domain handed to DHCP clients.
struct network_domain {
    std::string name;
    std::optional<bool> local_only;
    friend bool operator==(const network_domain&, const network_domain&) = default;
};

struct network_dhcp_range {
    std::string start;
    std::string end;
    friend bool operator==(const network_dhcp_range&, const network_dhcp_range&) = default;
};

/// <host mac='..' name='..' ip='..'/>: a fixed DHCP lease.
struct network_dhcp_host {
    std::optional<std::string> mac;
    std::optional<std::string> id;
    std::optional<std::string> name;
    std::optional<std::string> ip;
    friend bool operator==(const network_dhcp_host&, const network_dhcp_host&) = default;
};

struct network_ip {
    std::optional<std::string> family;  ///< "ipv4" / "ipv6"; absent means ipv4
    std::string address;
    std::optional<std::string> netmask;
    std::optional<unsigned> prefix;  ///< prefix='24', formatted only when given
    std::vector<network_dhcp_range> dhcp_ranges;
    std::vector<network_dhcp_host> dhcp_hosts;
    friend bool operator==(const network_ip&, const network_ip&) = default;
};

/// <dns>: what the network's dnsmasq answers besides its DHCP clients' names.
struct network_dns_forwarder {
    std::optional<std::string> domain;
    std::optional<std::string> addr;
    friend bool operator==(const network_dns_forwarder&, const network_dns_forwarder&) = default;
};
struct network_dns_txt {
    std::string name, value;
    friend bool operator==(const network_dns_txt&, const network_dns_txt&) = default;
};
struct network_dns_host {
    std::string ip;
    std::vector<std::string> hostnames;
    friend bool operator==(const network_dns_host&, const network_dns_host&) = default;
};
struct network_dns_srv {
    std::string service, protocol;
    std::optional<std::string> domain, target;
    unsigned port = 0, priority = 0, weight = 0;
    friend bool operator==(const network_dns_srv&, const network_dns_srv&) = default;
};
struct network_dns {
    std::optional<bool> enable;               ///< enable='no': no DNS at all (dnsmasq port=0)
    std::optional<bool> forward_plain_names;  ///< forwardPlainNames='no': domain-needed + local=//
    std::vector<network_dns_forwarder> forwarders;
    std::vector<network_dns_txt> txts;
    std::vector<network_dns_srv> srvs;
    std::vector<network_dns_host> hosts;
    [[nodiscard]] bool empty() const noexcept {
        return !enable && !forward_plain_names && forwarders.empty() && txts.empty() && srvs.empty() && hosts.empty();
    }
    friend bool operator==(const network_dns&, const network_dns&) = default;
};

/// <route>: a static route the network's bridge carries (virNetDevIPRoute).
struct network_route {
    std::optional<std::string> family;  ///< "ipv4" / "ipv6" as written
    std::string address;                ///< the destination network, canonical
    std::optional<std::string> netmask;
    std::optional<unsigned> prefix;
    std::string gateway;
    std::optional<unsigned> metric;     ///< absent or > 0
    friend bool operator==(const network_route&, const network_route&) = default;
};

/// <inbound>/<outbound> of <bandwidth> (virNetDevBandwidthRate): kbytes/s, kbytes; 0 = not given.
struct network_bandwidth_rate {
    unsigned long long average = 0, peak = 0, floor = 0, burst = 0;
    friend bool operator==(const network_bandwidth_rate&, const network_bandwidth_rate&) = default;
};
/// <bandwidth>: a QoS the network's bridge (or a portgroup's interfaces) would get through tc.
struct network_bandwidth {
    std::optional<network_bandwidth_rate> inbound, outbound;
    friend bool operator==(const network_bandwidth&, const network_bandwidth&) = default;
};
/// <portgroup name default trustGuestRxFilters>: settings a guest interface picks by name.
struct network_portgroup {
    std::string name;
    bool is_default = false;
    std::optional<bool> trust_guest_rx_filters;
    std::optional<network_bandwidth> bandwidth;
    friend bool operator==(const network_portgroup&, const network_portgroup&) = default;
};

struct network_def {
    std::string name;
    std::optional<virtpp::uuid> uuid;  ///< the driver generates one at define time when absent
    std::optional<network_forward> forward;  ///< absent: an isolated network
    std::optional<network_bridge> bridge;
    std::optional<std::string> mac;  ///< <mac address='..'/>: the bridge's MAC address
    std::optional<network_domain> domain;
    std::optional<unsigned> mtu;  ///< <mtu size='..'/>
    network_dns dns;
    std::vector<network_ip> ips;
    std::vector<network_route> routes;
    std::optional<network_bandwidth> bandwidth;
    std::vector<network_portgroup> portgroups;

    friend bool operator==(const network_def&, const network_def&) = default;
};

struct network_format_flags {
    bool inactive = false;  ///< VIR_NETWORK_XML_INACTIVE: the persistent config (no live-only data)
    friend bool operator==(const network_format_flags&, const network_format_flags&) = default;
};

/// Parses a <network> document. Malformed XML raises XML_DETAIL; wrong content (missing name, bad
/// uuid, unknown forward mode, bad number) raises XML_ERROR naming the element/attribute and line.
[[nodiscard]] network_def parse_network_xml(std::string_view xml);

/// libvirt 9.0's canonical layout; format(parse(x)) is a fixed point.
[[nodiscard]] std::string format_network_xml(const network_def& def, network_format_flags flags = {});

}  // namespace virtpp::xml
