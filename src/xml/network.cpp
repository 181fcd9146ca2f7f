// <network> documents: parsed with libvirt 9.0's checks (virNetworkDefParseXML) and formatted in
// its layout (virNetworkDefFormatBuf). Addresses and the bridge MAC are kept in libvirt's
// canonical spelling so that format(parse(x)) is a fixed point.
#include <virtpp/xml/network.hpp>

#include "tree.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cctype>
#include <cstdio>
#include <cstring>

namespace virtpp::xml {

namespace {

using detail::element;

constexpr error_domain network_domain_id = error_domain::network;

// libvirt reports these without a line; we add the line of the element at fault.
[[noreturn]] void fail(error_code code, const element& where, std::string detail) {
    if (where.line > 0) detail += " (line " + std::to_string(where.line) + ")";
    auto info = make_error_info(code, network_domain_id, detail);
    info.int1 = where.line;
    raise(info);
}

[[noreturn]] void fail_xml(const element& where, const std::string& detail) {
    detail::raise_xml_error(where, detail, network_domain_id);
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

template <class Int>
std::optional<Int> parse_decimal(std::string_view text) {
    Int value{};
    if (text.empty() || text.front() == '-' || text.front() == '+') return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// An IP address as libvirt holds it: family plus raw bytes, printed back canonically.
struct ip_address {
    int family = AF_UNSPEC;
    std::array<std::uint8_t, 16> bytes{};

    [[nodiscard]] std::size_t size() const { return family == AF_INET ? 4 : 16; }
    [[nodiscard]] std::string str() const {
        char buf[INET6_ADDRSTRLEN] = {};
        inet_ntop(family, bytes.data(), buf, sizeof buf);
        return buf;
    }
};

// libvirt resolves numerically with getaddrinfo, so IPv4 takes inet_aton's forms ("1.2.3").
std::optional<ip_address> parse_ip(std::string_view text) {
    std::string s(text);
    ip_address a;
    if (s.find(':') != std::string::npos) {
        if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
        a.family = AF_INET6;
        return a;
    }
    in_addr v4{};
    if (s.empty() || inet_aton(s.c_str(), &v4) == 0) return std::nullopt;
    a.family = AF_INET;
    std::memcpy(a.bytes.data(), &v4, 4);
    return a;
}

// Contiguous netmask -> prefix length; nothing when the mask has holes.
std::optional<int> netmask_bits(const ip_address& mask) {
    int bits = 0;
    bool ended = false;
    for (std::size_t i = 0; i < mask.size(); ++i) {
        for (int b = 7; b >= 0; --b) {
            bool set = (mask.bytes[i] >> b) & 1;
            if (set && ended) return std::nullopt;
            if (set) ++bits;
            else ended = true;
        }
    }
    return bits;
}

// virNetworkIPDefPrefix: explicit prefix, else the netmask, else the classful default for IPv4
// and 64 for IPv6.
int effective_prefix(const ip_address& address, const std::optional<ip_address>& netmask, unsigned prefix) {
    if (prefix > 0) return static_cast<int>(prefix);
    if (netmask) return netmask_bits(*netmask).value_or(-1);
    if (address.family == AF_INET6) return 64;
    auto first = address.bytes[0];
    if (first < 128) return 8;
    if (first < 192) return 16;
    if (first < 224) return 24;
    return -1;
}

bool same_subnet(const ip_address& a, const ip_address& b, int prefix) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        int bits = std::clamp(prefix - static_cast<int>(8 * i), 0, 8);
        auto mask = static_cast<std::uint8_t>(bits == 0 ? 0 : 0xFF << (8 - bits));
        if ((a.bytes[i] & mask) != (b.bytes[i] & mask)) return false;
    }
    return true;
}

bool host_bits_all(const ip_address& a, int prefix, bool ones) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        int bits = std::clamp(prefix - static_cast<int>(8 * i), 0, 8);
        auto host_mask = static_cast<std::uint8_t>(bits == 8 ? 0 : 0xFF >> bits);
        auto host = static_cast<std::uint8_t>(a.bytes[i] & host_mask);
        if (host != (ones ? host_mask : 0)) return false;
    }
    return true;
}

// The checks of virSocketAddrGetRange, with its (INTERNAL_ERROR) messages.
void check_range(const element& where, const ip_address& start, const ip_address& end, const ip_address& network,
                 int prefix) {
    auto s = start.str(), e = end.str(), n = network.str();
    if (start.family != end.family) fail(error_code::internal_error, where, "mismatch of address family in range " + s + " - " + e);
    if (start.family != network.family)
        fail(error_code::internal_error, where,
             "mismatch of address family in range " + s + " - " + e + " for network " + n);
    int max_prefix = network.family == AF_INET ? 32 : 128;
    if (prefix < 0 || prefix > max_prefix)
        fail(error_code::internal_error, where,
             "bad prefix " + std::to_string(prefix) + " for network " + n + " when  checking range " + s + " - " + e);
    auto where_net = n + "/" + std::to_string(prefix);
    if (!same_subnet(start, network, prefix) || !same_subnet(end, network, prefix))
        fail(error_code::internal_error, where, "range " + s + " - " + e + " is not entirely within network " + where_net);
    if (start.family == AF_INET) {
        if (host_bits_all(start, prefix, false))
            fail(error_code::internal_error, where,
                 "start of range " + s + " - " + e + " in network " + where_net + " is the network address");
        if (host_bits_all(end, prefix, true))
            fail(error_code::internal_error, where,
                 "end of range " + s + " - " + e + " in network " + where_net + " is the broadcast address");
        if (start.bytes[0] != end.bytes[0] || start.bytes[1] != end.bytes[1])
            fail(error_code::internal_error, where, "range " + s + " - " + e + " is too large (> 65535)");
        if ((end.bytes[2] - start.bytes[2]) * 256 + (end.bytes[3] - start.bytes[3]) < 0)
            fail(error_code::internal_error, where, "range " + s + " - " + e + " is reversed ");
    } else if (!std::lexicographical_compare(start.bytes.begin(), start.bytes.end(), end.bytes.begin(), end.bytes.end()) &&
               start.bytes != end.bytes) {
        fail(error_code::internal_error, where, "range " + s + " - " + e + " is reversed ");
    }
}

// virMacAddrParse: six hex groups of one or two digits separated by ':'.
std::optional<std::array<std::uint8_t, 6>> parse_mac(std::string_view text) {
    std::array<std::uint8_t, 6> out{};
    std::size_t pos = 0;
    for (std::size_t i = 0; i < 6; ++i) {
        std::size_t digits = 0;
        unsigned value = 0;
        while (pos < text.size() && digits < 2 && std::isxdigit(static_cast<unsigned char>(text[pos]))) {
            auto c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[pos])));
            value = value * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : c - 'a' + 10);
            ++pos;
            ++digits;
        }
        if (digits == 0) return std::nullopt;
        out[i] = static_cast<std::uint8_t>(value);
        if (i < 5) {
            if (pos >= text.size() || text[pos] != ':') return std::nullopt;
            ++pos;
        }
    }
    if (pos != text.size()) return std::nullopt;
    return out;
}

std::string format_mac(const std::array<std::uint8_t, 6>& mac) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return buf;
}

std::optional<bool> parse_yes_no(const element& e, std::string_view attr) {
    const auto* v = e.attr(attr);
    if (!v) return std::nullopt;
    if (*v == "yes") return true;
    if (*v == "no") return false;
    fail_xml(e, "Invalid value for attribute " + quoted(attr) + " in element " + quoted(e.name) + ": " + quoted(*v) + ".");
}

std::string_view yes_no(bool b) { return b ? "yes" : "no"; }

constexpr std::array<std::string_view, 8> forward_mode_names = {"nat",     "route", "open",        "bridge",
                                                                "private", "vepa",  "passthrough", "hostdev"};

bool has_bridge_settings(std::optional<network_forward_mode> mode) {
    return !mode || *mode == network_forward_mode::nat || *mode == network_forward_mode::route ||
           *mode == network_forward_mode::open;
}

network_dhcp_host parse_dhcp_host(const element& e, const std::string& net, const ip_address& network_addr) {
    network_dhcp_host host;
    bool ipv6 = network_addr.family == AF_INET6;
    if (const auto* mac = e.attr("mac")) {
        if (ipv6)
            fail_xml(e, "Invalid to specify MAC address " + quoted(*mac) + " in network " + quoted(net) +
                            " IPv6 static host definition");
        auto parsed = parse_mac(*mac);
        if (!parsed) fail_xml(e, "Cannot parse MAC address " + quoted(*mac) + " in network " + quoted(net));
        if ((*parsed)[0] & 1)
            fail_xml(e, "expected unicast mac address, found multicast " + quoted(*mac) + " in network " + quoted(net));
        host.mac = *mac;
    }
    if (const auto* id = e.attr("id")) {
        auto bad = id->find_first_not_of("0123456789abcdefABCDEF:");
        if (bad != std::string::npos)
            fail_xml(e, std::string("Invalid character '") + (*id)[bad] + "' in id " + quoted(*id) + " of network " +
                            quoted(net));
        host.id = *id;
    }
    if (const auto* name = e.attr("name")) {
        if (name->empty() || !std::isalnum(static_cast<unsigned char>(name->front())))
            fail_xml(e, "Cannot use host name " + quoted(*name) + " in network " + quoted(net));
        host.name = *name;
    }
    if (const auto* ip = e.attr("ip")) {
        auto parsed = parse_ip(*ip);
        if (!parsed) fail_xml(e, "Invalid IP address in static host definition for network " + quoted(net));
        host.ip = parsed->str();
    }
    if (ipv6 && !host.id && !host.name)
        fail_xml(e, "Static host definition in IPv6 network " + quoted(net) + " must have id or name attribute");
    if (!ipv6 && !host.mac && !host.name)
        fail_xml(e, "Static host definition in IPv4 network " + quoted(net) + " must have mac or name attribute");
    if (!host.ip) fail_xml(e, "Missing IP address in static host definition for network " + quoted(net));
    return host;
}

// virNetDevIPRouteParseXML / virNetDevIPRouteCreate: libvirt's checks and messages, in its order.
network_route parse_route(const element& e, const std::string& net) {
    network_route r;
    auto uint_attr = [&](const char* name, bool nonzero) -> std::optional<unsigned> {
        const auto* v = e.attr(name);
        if (!v) return std::nullopt;
        auto parsed = parse_decimal<unsigned>(*v);
        if (!parsed)
            fail_xml(e, "Invalid value for attribute " + quoted(name) + " in element 'route': " + quoted(*v) +
                            ". Expected non-negative integer value");
        if (nonzero && *parsed == 0)
            fail_xml(e, "Invalid value for attribute " + quoted(name) + " in element 'route': Zero is not permitted");
        return parsed;
    };
    r.prefix = uint_attr("prefix", false);
    r.metric = uint_attr("metric", true);
    if (const auto* f = e.attr("family")) r.family = *f;
    const auto* address = e.attr("address");
    const auto* netmask = e.attr("netmask");
    const auto* gateway = e.attr("gateway");
    if (!address) fail_xml(e, net + ": Missing required address attribute in route definition");
    if (!gateway) fail_xml(e, net + ": Missing required gateway attribute in route definition");
    auto addr = parse_ip(*address);
    if (!addr) fail_xml(e, net + ": Bad network address " + quoted(*address) + " in route definition");
    auto gw = parse_ip(*gateway);
    if (!gw) fail_xml(e, net + ": Bad gateway address " + quoted(*gateway) + " in route definition");
    std::optional<ip_address> mask;
    const unsigned prefix = r.prefix.value_or(0);
    if (!r.family || *r.family == "ipv4") {
        if (addr->family != AF_INET)
            fail_xml(e, net + (r.family ? ": IPv4 family" : ": No family") + " specified for non-IPv4 address " +
                            quoted(*address) + " in route definition");
        if (gw->family != AF_INET)  // libvirt names the address here, not the gateway
            fail_xml(e, net + (r.family ? ": IPv4 family" : ": No family") + " specified for non-IPv4 gateway " +
                            quoted(*address) + " in route definition");
        if (netmask) {
            mask = parse_ip(*netmask);
            if (!mask) fail_xml(e, net + ": Bad netmask address " + quoted(*netmask) + " in route definition");
            if (mask->family != AF_INET)
                fail_xml(e, net + ": Invalid netmask " + quoted(*netmask) + " for address " + quoted(*address) +
                                " (both must be IPv4)");
            if (r.prefix) fail_xml(e, net + ": Route definition cannot have both a prefix and a netmask");
            r.netmask = mask->str();
        }
        if (prefix > 32)
            fail_xml(e, net + ": Invalid prefix " + std::to_string(prefix) + " specified in route definition, must be 0 - 32");
    } else if (*r.family == "ipv6") {
        if (addr->family != AF_INET6)
            fail_xml(e, net + ": ipv6 family specified for non-IPv6 address " + quoted(*address) + " in route definition");
        if (netmask)
            fail_xml(e, net + ": Specifying netmask invalid for IPv6 address " + quoted(*address) + " in route definition");
        if (gw->family != AF_INET6)
            fail_xml(e, net + ": ipv6 specified for non-IPv6 gateway address " + quoted(*gateway) + " in route definition");
        if (prefix > 128)
            fail_xml(e, net + ": Invalid prefix " + std::to_string(prefix) + " specified in route definition, must be 0 - 128");
    } else {
        fail_xml(e, net + ": Unrecognized family " + quoted(*r.family) + " in route definition");
    }
    // the destination must be a network address: no host bits under its prefix
    int bits = mask ? netmask_bits(*mask).value_or(-1) : static_cast<int>(prefix);
    if (bits < 0 || !host_bits_all(*addr, bits, false))
        fail_xml(e, net + ": Address " + quoted(*address) + " in route definition is not a network address");
    r.address = addr->str();
    r.gateway = gw->str();
    return r;
}

network_ip parse_ip_element(const element& e, const std::string& net) {
    network_ip ip;
    if (const auto* family = e.attr("family")) ip.family = *family;
    const auto* address_text = e.attr("address");
    if (!address_text) fail_xml(e, "Missing required address attribute in network " + quoted(net));
    auto address = parse_ip(*address_text);
    if (!address) fail_xml(e, "Invalid address " + quoted(*address_text) + " in network " + quoted(net));
    ip.address = address->str();

    std::optional<ip_address> netmask;
    if (const auto* mask = e.attr("netmask")) {
        netmask = parse_ip(*mask);
        if (!netmask) fail_xml(e, "Invalid netmask " + quoted(*mask) + " in network " + quoted(net));
        ip.netmask = netmask->str();
    }
    unsigned prefix = 0;
    if (const auto* p = e.attr("prefix")) {
        auto parsed = parse_decimal<unsigned>(*p);
        if (!parsed)
            fail_xml(e, "Invalid value for attribute 'prefix' in element 'ip': " + quoted(*p) +
                            ". Expected non-negative integer value");
        prefix = *parsed;
        ip.prefix = prefix;
    }

    if (!ip.family || *ip.family == "ipv4") {
        if (address->family != AF_INET)
            fail(error_code::config_unsupported, e,
                 std::string(ip.family ? "ipv4" : "no") + " family specified for non-IPv4 address " +
                     quoted(*address_text) + " in network " + quoted(net));
        if (netmask) {
            if (netmask->family != AF_INET)
                fail(error_code::config_unsupported, e,
                     "Invalid netmask " + quoted(*e.attr("netmask")) + " for address " + quoted(*address_text) +
                         " in network " + quoted(net) + " (both must be IPv4)");
            if (prefix > 0)
                fail(error_code::config_unsupported, e,
                     "Network " + quoted(net) + " IP address cannot have both a prefix and a netmask");
        } else if (prefix > 32) {
            fail(error_code::config_unsupported, e,
                 "Invalid IPv4 prefix '" + std::to_string(prefix) + "' in network " + quoted(net));
        }
    } else if (*ip.family == "ipv6") {
        if (address->family != AF_INET6)
            fail(error_code::config_unsupported, e,
                 "Family 'ipv6' specified for non-IPv6 address " + quoted(*address_text) + " in network " + quoted(net));
        if (netmask)
            fail(error_code::config_unsupported, e,
                 "netmask not allowed for IPv6 address " + quoted(*address_text) + " in network " + quoted(net));
        if (prefix > 128)
            fail(error_code::config_unsupported, e,
                 "Invalid IPv6 prefix '" + std::to_string(prefix) + "' in network " + quoted(net));
    } else {
        fail_xml(e, "Unrecognized family " + quoted(*ip.family) + " in network " + quoted(net));
    }
    // A prefix of 0 means "not given" to libvirt, which then formats none.
    if (ip.prefix == 0u) ip.prefix.reset();

    if (const auto* dhcp = e.child("dhcp")) {
        int net_prefix = effective_prefix(*address, netmask, prefix);
        for (const auto& c : dhcp->children) {
            if (c.name == "range") {
                const auto* start = c.attr("start");
                if (!start) fail_xml(c, "Missing 'start' attribute in dhcp range for network " + quoted(net));
                auto start_addr = parse_ip(*start);
                if (!start_addr)
                    fail(error_code::system_error, c, "Cannot parse socket address " + quoted(*start) + ": Name or service not known");
                const auto* end = c.attr("end");
                if (!end) fail_xml(c, "Missing 'end' attribute in dhcp range for network " + quoted(net));
                auto end_addr = parse_ip(*end);
                if (!end_addr)
                    fail(error_code::system_error, c, "Cannot parse socket address " + quoted(*end) + ": Name or service not known");
                check_range(c, *start_addr, *end_addr, *address, net_prefix);
                ip.dhcp_ranges.push_back({start_addr->str(), end_addr->str()});
            } else if (c.name == "host") {
                ip.dhcp_hosts.push_back(parse_dhcp_host(c, net, *address));
            }
        }
    }
    return ip;
}

network_forward parse_forward(const element& e, const std::string& net) {
    network_forward fwd;
    if (const auto* mode = e.attr("mode")) {
        auto parsed = network_forward_mode_from_string(*mode);
        if (!parsed) fail(error_code::config_unsupported, e, "unknown forwarding type " + quoted(*mode));
        fwd.mode = *parsed;
    }
    // managed means something (and is written back) only for hostdev pools.
    if (const auto* managed = e.attr("managed"); managed && fwd.mode == network_forward_mode::hostdev)
        fwd.managed = managed->size() == 3 && std::tolower(static_cast<unsigned char>((*managed)[0])) == 'y' &&
                      std::tolower(static_cast<unsigned char>((*managed)[1])) == 'e' &&
                      std::tolower(static_cast<unsigned char>((*managed)[2])) == 's';
    if (const auto* dev = e.attr("dev")) fwd.interfaces.push_back(*dev);
    bool dev_given = !fwd.interfaces.empty();
    auto ifaces = e.children_named("interface");
    for (std::size_t i = 0; i < ifaces.size(); ++i) {
        const auto* dev = ifaces[i]->attr("dev");
        if (!dev)
            fail_xml(*ifaces[i], "Missing required dev attribute in <forward> <interface> element of network " + net);
        if (i == 0 && dev_given) {
            if (*dev != fwd.interfaces.front())
                fail_xml(*ifaces[i], "<forward dev=" + quoted(fwd.interfaces.front()) + "> must match first <interface dev=" +
                                         quoted(*dev) + "/> in network " + net);
            continue;
        }
        if (std::find(fwd.interfaces.begin(), fwd.interfaces.end(), *dev) != fwd.interfaces.end())
            fail_xml(*ifaces[i], "interface " + quoted(*dev) + " can only be listed once in network " + net);
        fwd.interfaces.push_back(*dev);
    }
    if (!fwd.interfaces.empty()) fwd.dev = fwd.interfaces.front();
    if (const auto* nat = e.child("nat")) {
        if (fwd.mode != network_forward_mode::nat)
            fail_xml(*nat, "The <nat> element can only be used when <forward> 'mode' is 'nat' in network " + net);
        if (const auto* a = nat->child("address")) {
            const auto* start = a->attr("start");
            const auto* end = a->attr("end");
            if (!start || !end) fail_xml(*a, "Missing start or end attribute in <nat> <address> in network " + net);
            auto s4 = parse_ip(*start), e4 = parse_ip(*end);
            if (!s4 || s4->family != AF_INET) fail_xml(*a, "Bad ipv4 start address " + quoted(*start) + " in <nat> in <forward> in network " + quoted(net));
            if (!e4 || e4->family != AF_INET) fail_xml(*a, "Bad ipv4 end address " + quoted(*end) + " in <nat> in <forward> in network " + quoted(net));
            fwd.nat_address_start = s4->str();
            fwd.nat_address_end = e4->str();
        }
        if (const auto* port = nat->child("port")) {
            auto number = [&](std::string_view name) -> unsigned {
                const auto* v = port->attr(name);
                auto parsed = v ? parse_decimal<unsigned>(*v) : std::nullopt;
                if (!parsed || *parsed > 65535)
                    fail_xml(*port, "Missing or invalid '" + std::string(name) + "' attribute in <port> in <nat> in <forward> in network " + net);
                return *parsed;
            };
            fwd.nat_port_start = number("start");
            fwd.nat_port_end = number("end");
            if (fwd.nat_port_start > fwd.nat_port_end)
                fail_xml(*port, "Invalid port range '" + std::to_string(fwd.nat_port_start) + "-" + std::to_string(fwd.nat_port_end) +
                                    "' in <nat> in <forward> in network " + net);
        }
    }
    return fwd;
}

// virNetDevBandwidthParse (allowFloor false, as for networks and portgroups): checks and messages
// in libvirt's order. A <bandwidth> with neither child is no bandwidth.
std::optional<network_bandwidth> parse_bandwidth(const element& e) {
    const element* in = nullptr;
    const element* out = nullptr;
    for (const auto& c : e.children) {
        if (c.name == "inbound") {
            if (in) fail(error_code::xml_detail, c, "Only one child <inbound> element allowed");
            in = &c;
        } else if (c.name == "outbound") {
            if (out) fail(error_code::xml_detail, c, "Only one child <outbound> element allowed");
            out = &c;
        }
    }
    auto rate = [](const element& r) {
        network_bandwidth_rate v;
        auto number = [&](std::string_view key, unsigned long long& into) {
            const auto* text = r.attr(key);
            if (!text) return false;
            auto parsed = parse_decimal<unsigned long long>(*text);
            if (!parsed)
                fail(error_code::config_unsupported, r, "could not convert bandwidth " + std::string(key) + " value '" + *text + "'");
            into = *parsed;
            return true;
        };
        bool average = r.attr("average") != nullptr, floor = r.attr("floor") != nullptr;
        if (average) number("average", v.average);
        else if (!floor) fail(error_code::xml_detail, r, "Missing mandatory average or floor attributes");
        if ((r.attr("peak") || r.attr("burst")) && !average)
            fail(error_code::config_unsupported, r, "'peak' and 'burst' require 'average' attribute");
        number("peak", v.peak);
        number("burst", v.burst);
        number("floor", v.floor);
        return v;
    };
    network_bandwidth bw;
    if (in) {
        bw.inbound = rate(*in);
        if (bw.inbound->floor) fail(error_code::config_unsupported, *in, "floor attribute is not supported for this config");
    }
    if (out) {
        bw.outbound = rate(*out);
        if (bw.outbound->floor) fail(error_code::config_unsupported, *out, "'floor' attribute allowed only in <inbound> element");
    }
    if (!bw.inbound && !bw.outbound) return std::nullopt;
    return bw;
}

// virNetworkPortGroupParseXML: name required; default='yes' (any case) marks the default one.
network_portgroup parse_portgroup(const element& e) {
    network_portgroup pg;
    const auto* name = e.attr("name");
    if (!name) fail_xml(e, "Missing required name attribute in portgroup");
    pg.name = *name;
    if (const auto* d = e.attr("default")) {
        std::string lower = *d;
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        pg.is_default = lower == "yes";
    }
    pg.trust_guest_rx_filters = parse_yes_no(e, "trustGuestRxFilters");
    if (const auto* b = e.child("bandwidth")) pg.bandwidth = parse_bandwidth(*b);
    return pg;
}

network_dns parse_dns(const element& e, const std::string& net) {
    network_dns dns;
    dns.enable = parse_yes_no(e, "enable");
    dns.forward_plain_names = parse_yes_no(e, "forwardPlainNames");
    for (const auto& c : e.children) {
        if (c.name == "forwarder") {
            network_dns_forwarder f;
            if (const auto* d = c.attr("domain")) f.domain = *d;
            if (const auto* a = c.attr("addr")) {
                auto parsed = parse_ip(*a);
                if (!parsed) fail_xml(c, "Invalid forwarder IP address " + quoted(*a) + " in network " + quoted(net));
                f.addr = parsed->str();
            }
            if (!f.domain && !f.addr)
                fail_xml(c, "Invalid forwarder element, must contain at least one of addr or domain");
            dns.forwarders.push_back(std::move(f));
        } else if (c.name == "txt") {
            const auto* name = c.attr("name");
            if (!name) fail_xml(c, "missing required name attribute in DNS TXT record of network " + net);
            if (name->find_first_of(" \t") != std::string::npos)
                fail_xml(c, "prohibited character in DNS TXT record name '" + *name + "' of network " + net);
            const auto* value = c.attr("value");
            dns.txts.push_back({*name, value ? *value : ""});
        } else if (c.name == "host") {
            const auto* ip = c.attr("ip");
            auto parsed = ip ? parse_ip(*ip) : std::nullopt;
            if (!parsed) fail_xml(c, "Invalid IP address in network '" + net + "' DNS HOST record");
            network_dns_host h{parsed->str(), {}};
            for (const auto* hn : c.children_named("hostname"))
                if (!hn->text.empty()) h.hostnames.push_back(hn->text);
            if (h.hostnames.empty()) fail_xml(c, "Missing ip and hostname in network '" + net + "' DNS HOST record");
            dns.hosts.push_back(std::move(h));
        } else if (c.name == "srv") {
            network_dns_srv srv;
            const auto* service = c.attr("service");
            if (!service) fail_xml(c, "missing required service attribute in DNS SRV record of network '" + net + "'");
            const auto* protocol = c.attr("protocol");
            if (!protocol) fail_xml(c, "missing required protocol attribute in DNS SRV record '" + *service + "' of network '" + net + "'");
            srv.service = *service;
            srv.protocol = *protocol;
            if (const auto* d = c.attr("domain")) srv.domain = *d;
            if (const auto* t = c.attr("target")) srv.target = *t;
            auto number = [&](std::string_view name, unsigned max) -> unsigned {
                const auto* v = c.attr(name);
                if (!v) return 0;
                auto parsed = parse_decimal<unsigned>(*v);
                if (!parsed || *parsed > max)
                    fail_xml(c, "invalid " + std::string(name) + " attribute in DNS SRV record of network '" + net + "'");
                return *parsed;
            };
            srv.port = number("port", 65535);
            srv.priority = number("priority", 65535);
            srv.weight = number("weight", 65535);
            dns.srvs.push_back(std::move(srv));
        }
    }
    if (dns.enable == false && (!dns.forwarders.empty() || !dns.txts.empty() || !dns.srvs.empty() || !dns.hosts.empty()))
        fail_xml(e, "Extra data in disabled network '" + net + "'");
    return dns;
}

// The layout writer: libvirt writes some elements (<ip>) open/close even when empty, which the
// shared tree writer would collapse, so network and its children are laid out line by line.
using detail::lines;

std::string attr(std::string_view key, std::string_view value) { return detail::attr_text(key, value); }

}  // namespace

std::string_view to_string(network_forward_mode mode) noexcept {
    return forward_mode_names[static_cast<std::size_t>(mode)];
}

std::optional<network_forward_mode> network_forward_mode_from_string(std::string_view text) noexcept {
    for (std::size_t i = 0; i < forward_mode_names.size(); ++i)
        if (forward_mode_names[i] == text) return static_cast<network_forward_mode>(i);
    return std::nullopt;
}

network_def parse_network_xml_unreported(std::string_view xml) {
    auto root = detail::parse_document(xml, "(network_definition)", network_domain_id);
    if (root.name != "network") fail_xml(root, "expecting root element of 'network', not " + quoted(root.name));

    network_def def;
    const auto* name = root.child("name");
    if (!name || name->text.empty()) fail(error_code::no_name, name ? *name : root, "missing name information");
    def.name = name->text;
    if (def.name.find('/') != std::string::npos) fail(error_code::xml_detail, *name, "invalid char in name: /");
    for (char c : def.name)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            char shown[8];
            std::snprintf(shown, sizeof shown, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
            fail(error_code::xml_detail, *name, std::string("invalid char in name: ") + (c == '\n' ? std::string("\n") : std::string(shown)));
        }
    const std::string& net = def.name;

    if (const auto* u = root.child("uuid"); u && !u->text.empty()) {
        auto parsed = uuid::parse(u->text);
        if (!parsed) fail(error_code::internal_error, *u, "malformed uuid element");
        def.uuid = *parsed;
    }

    if (const auto* d = root.child("domain")) {
        if (const auto* dn = d->attr("name")) {
            def.domain = network_domain{*dn, parse_yes_no(*d, "localOnly")};
        } else {
            parse_yes_no(*d, "localOnly");  // still validated, as libvirt does
        }
    }

    const auto* bridge = root.child("bridge");
    network_bridge bridge_def;
    bool stp_given = false;
    if (bridge) {
        if (const auto* n = bridge->attr("name")) bridge_def.name = *n;
        if (const auto* stp = bridge->attr("stp")) {
            stp_given = true;
            bridge_def.stp = *stp != "off";
        }
        if (const auto* delay = bridge->attr("delay")) {
            auto parsed = parse_decimal<unsigned long>(*delay);
            if (!parsed) fail_xml(*bridge, "Invalid delay value in network " + quoted(net));
            bridge_def.delay = *parsed;
        }
    }

    if (const auto* m = root.child("mac")) {
        if (const auto* address = m->attr("address")) {
            auto parsed = parse_mac(*address);
            if (!parsed) fail_xml(*m, "Invalid bridge mac address " + quoted(*address) + " in network " + quoted(net));
            if ((*parsed)[0] & 1)
                fail_xml(*m, "Invalid multicast bridge mac address " + quoted(*address) + " in network " + quoted(net));
            def.mac = format_mac(*parsed);
        }
    }

    if (const auto* m = root.child("mtu")) {
        const auto* size = m->attr("size");
        auto parsed = size ? parse_decimal<unsigned>(*size) : std::nullopt;
        if (!parsed) fail_xml(*m, "Invalid mtu size in network '" + net + "'");
        if (*parsed > 0) def.mtu = *parsed;
    }
    if (const auto* dns = root.child("dns")) def.dns = parse_dns(*dns, net);

    if (const auto* b = root.child("bandwidth")) def.bandwidth = parse_bandwidth(*b);
    for (const auto* pg : root.children_named("portgroup")) def.portgroups.push_back(parse_portgroup(*pg));

    for (const auto* ip : root.children_named("ip")) def.ips.push_back(parse_ip_element(*ip, net));

    const auto route_elements = root.children_named("route");
    for (const auto* r : route_elements) def.routes.push_back(parse_route(*r, net));
    // each gateway must be directly reachable: inside one of the network's subnets of its family
    for (std::size_t k = 0; k < def.routes.size(); ++k) {
        const auto& r = def.routes[k];
        auto gw = *parse_ip(r.gateway);
        bool reachable = false;
        for (const auto& ip : def.ips) {
            auto a = *parse_ip(ip.address);
            if (a.family != gw.family) continue;
            std::optional<ip_address> mask = ip.netmask ? parse_ip(*ip.netmask) : std::nullopt;
            int p = effective_prefix(a, mask, ip.prefix.value_or(0));
            if (p >= 0 && same_subnet(a, gw, p)) {
                reachable = true;
                break;
            }
        }
        if (!reachable)
            fail(error_code::config_unsupported, *route_elements[k],
                 "unreachable static route gateway " + quoted(r.gateway) + " specified for network " + quoted(net));
    }

    const auto* forward = root.child("forward");
    if (forward) def.forward = parse_forward(*forward, net);

    auto mode = def.forward ? std::optional(def.forward->mode) : std::nullopt;
    if (mode) {
        const auto& where = *forward;
        auto mode_name = std::string(to_string(*mode));
        switch (*mode) {
            case network_forward_mode::nat:
            case network_forward_mode::route:
            case network_forward_mode::open:
                if (def.ips.empty())
                    fail_xml(where, mode_name + " forwarding requested, but no IP address provided for network " + quoted(net));
                if (def.forward->interfaces.size() > 1)
                    fail_xml(where, "multiple forwarding interfaces specified for network " + quoted(net) +
                                        ", only one is supported");
                if (*mode == network_forward_mode::open && !def.forward->interfaces.empty())
                    fail_xml(where, "forward dev not allowed for network " + quoted(net) + " with forward mode=" +
                                        quoted(mode_name));
                break;
            case network_forward_mode::private_:
            case network_forward_mode::vepa:
            case network_forward_mode::passthrough:
            case network_forward_mode::hostdev:
                if (bridge_def.name)
                    fail_xml(*bridge, "bridge name not allowed in " + mode_name + " mode (network " + quoted(net) + ")");
                [[fallthrough]];
            case network_forward_mode::bridge:
                if (bridge_def.delay || stp_given)
                    fail_xml(*bridge, "bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in " +
                                          mode_name + " (network " + quoted(net) + ")");
                if (bridge_def.name && !def.forward->interfaces.empty())
                    fail_xml(*bridge, "A network with forward mode=" + quoted(mode_name) +
                                          " can specify a bridge name or a forward dev, but not both (network " +
                                          quoted(net) + ")");
                break;
        }
    }
    // Networks that route or isolate always have a bridge (libvirt writes stp/delay for them);
    // the others carry one only when it is named.
    if (has_bridge_settings(mode) || bridge_def.name) def.bridge = bridge_def;
    return def;
}

std::string format_network_xml(const network_def& def, network_format_flags /*flags*/) {
    lines out;
    out.add(0, "<network>");
    out.add(1, "<name>" + detail::escape(def.name) + "</name>");
    if (def.uuid) out.add(1, "<uuid>" + def.uuid->str() + "</uuid>");

    auto mode = def.forward ? std::optional(def.forward->mode) : std::nullopt;
    if (def.forward) {
        auto ifaces = def.forward->interfaces;
        if (ifaces.empty() && def.forward->dev) ifaces.push_back(*def.forward->dev);
        std::string start = "<forward";
        if (!ifaces.empty()) start += attr("dev", ifaces.front());
        start += attr("mode", to_string(def.forward->mode));
        if (def.forward->mode == network_forward_mode::hostdev) start += attr("managed", def.forward->managed ? "yes" : "no");
        const auto& f = *def.forward;
        bool nat = f.nat_address_start || f.nat_port_start || f.nat_port_end;
        if (ifaces.empty() && !nat) {
            out.add(1, start + "/>");
        } else {
            out.add(1, start + ">");
            if (nat) {
                out.add(2, "<nat>");
                if (f.nat_address_start)
                    out.add(3, "<address" + attr("start", *f.nat_address_start) + attr("end", f.nat_address_end.value_or("")) + "/>");
                if (f.nat_port_start || f.nat_port_end)
                    out.add(3, "<port" + attr("start", std::to_string(f.nat_port_start)) + attr("end", std::to_string(f.nat_port_end)) + "/>");
                out.add(2, "</nat>");
            }
            for (const auto& dev : ifaces) out.add(2, "<interface" + attr("dev", dev) + "/>");
            out.add(1, "</forward>");
        }
    }

    bool settings = has_bridge_settings(mode);
    if (settings || (def.bridge && def.bridge->name)) {
        std::string line = "<bridge";
        if (def.bridge && def.bridge->name) line += attr("name", *def.bridge->name);
        if (settings) {
            bool stp = def.bridge ? def.bridge->stp : true;
            unsigned long delay = def.bridge ? def.bridge->delay : 0;
            line += attr("stp", stp ? "on" : "off") + attr("delay", std::to_string(delay));
        }
        out.add(1, line + "/>");
    }
    if (def.mtu) out.add(1, "<mtu" + attr("size", std::to_string(*def.mtu)) + "/>");
    if (def.mac) out.add(1, "<mac" + attr("address", *def.mac) + "/>");
    if (def.domain) {
        std::string line = "<domain" + attr("name", def.domain->name);
        if (def.domain->local_only) line += attr("localOnly", yes_no(*def.domain->local_only));
        out.add(1, line + "/>");
    }
    if (!def.dns.empty()) {
        const auto& dns = def.dns;
        std::string line = "<dns";
        if (dns.enable) line += attr("enable", yes_no(*dns.enable));
        if (dns.forward_plain_names) line += attr("forwardPlainNames", yes_no(*dns.forward_plain_names));
        if (dns.forwarders.empty() && dns.txts.empty() && dns.srvs.empty() && dns.hosts.empty()) {
            out.add(1, line + "/>");
        } else {
            out.add(1, line + ">");
            for (const auto& f : dns.forwarders) {
                std::string fl = "<forwarder";
                if (f.domain) fl += attr("domain", *f.domain);
                if (f.addr) fl += attr("addr", *f.addr);
                out.add(2, fl + "/>");
            }
            for (const auto& t : dns.txts) out.add(2, "<txt" + attr("name", t.name) + attr("value", t.value) + "/>");
            for (const auto& srv : dns.srvs) {
                std::string sl = "<srv" + attr("service", srv.service) + attr("protocol", srv.protocol);
                if (srv.domain) sl += attr("domain", *srv.domain);
                if (srv.target) sl += attr("target", *srv.target);
                if (srv.port) sl += attr("port", std::to_string(srv.port));
                if (srv.priority) sl += attr("priority", std::to_string(srv.priority));
                if (srv.weight) sl += attr("weight", std::to_string(srv.weight));
                out.add(2, sl + "/>");
            }
            for (const auto& h : dns.hosts) {
                out.add(2, "<host" + attr("ip", h.ip) + ">");
                for (const auto& n : h.hostnames) out.add(3, "<hostname>" + detail::escape(n) + "</hostname>");
                out.add(2, "</host>");
            }
            out.add(1, "</dns>");
        }
    }
    // virNetDevBandwidthFormat: a rate without average or floor is not written
    auto bandwidth = [&](const network_bandwidth& bw, int depth) {
        out.add(depth, "<bandwidth>");
        auto rate = [&](const std::optional<network_bandwidth_rate>& r, std::string_view element) {
            if (!r || (!r->average && !r->floor)) return;
            std::string line = "<" + std::string(element);
            if (r->average) line += attr("average", std::to_string(r->average));
            if (r->peak) line += attr("peak", std::to_string(r->peak));
            if (r->floor) line += attr("floor", std::to_string(r->floor));
            if (r->burst) line += attr("burst", std::to_string(r->burst));
            out.add(depth + 1, line + "/>");
        };
        rate(bw.inbound, "inbound");
        rate(bw.outbound, "outbound");
        out.add(depth, "</bandwidth>");
    };
    if (def.bandwidth) bandwidth(*def.bandwidth, 1);
    for (const auto& ip : def.ips) {
        std::string line = "<ip";
        if (ip.family) line += attr("family", *ip.family);
        line += attr("address", ip.address);
        if (ip.netmask) line += attr("netmask", *ip.netmask);
        if (ip.prefix && *ip.prefix > 0) line += attr("prefix", std::to_string(*ip.prefix));
        out.add(1, line + ">");
        if (!ip.dhcp_ranges.empty() || !ip.dhcp_hosts.empty()) {
            out.add(2, "<dhcp>");
            for (const auto& r : ip.dhcp_ranges) out.add(3, "<range" + attr("start", r.start) + attr("end", r.end) + "/>");
            for (const auto& h : ip.dhcp_hosts) {
                std::string host = "<host";
                if (h.mac) host += attr("mac", *h.mac);
                if (h.id) host += attr("id", *h.id);
                if (h.name) host += attr("name", *h.name);
                if (h.ip) host += attr("ip", *h.ip);
                out.add(3, host + "/>");
            }
            out.add(2, "</dhcp>");
        }
        out.add(1, "</ip>");
    }
    for (const auto& r : def.routes) {
        std::string line = "<route";
        if (r.family) line += attr("family", *r.family);
        line += attr("address", r.address);
        if (r.netmask) line += attr("netmask", *r.netmask);
        if (r.prefix) line += attr("prefix", std::to_string(*r.prefix));
        line += attr("gateway", r.gateway);
        if (r.metric) line += attr("metric", std::to_string(*r.metric));
        out.add(1, line + "/>");
    }
    for (const auto& pg : def.portgroups) {
        std::string line = "<portgroup" + attr("name", pg.name);
        if (pg.is_default) line += attr("default", "yes");
        if (pg.trust_guest_rx_filters) line += attr("trustGuestRxFilters", yes_no(*pg.trust_guest_rx_filters));
        out.add(1, line + ">");
        if (pg.bandwidth) bandwidth(*pg.bandwidth, 2);
        out.add(1, "</portgroup>");
    }
    out.add(0, "</network>");
    return std::move(out.out_);
}

// The public entry point: an error is reported through the handlers, then thrown.
network_def parse_network_xml(std::string_view xml) {
    return api_boundary(nullptr, [&] { return parse_network_xml_unreported(xml); });
}

}  // namespace virtpp::xml
