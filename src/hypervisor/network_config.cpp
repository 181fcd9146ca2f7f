// What a virtual network hands to its helpers: dnsmasq's configuration, hosts files and the
// nftables script. Pure functions of the definitions (conformance-tested against libvirt 9.0).
#include "hypervisor/network_driver.hpp"

#include "hypervisor/netlink.hpp"
#include "xml/tree.hpp"

#include <virtpp/error.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <array>
#include <cstdint>
#include <cstdlib>

namespace virtpp::hypervisor::network {

namespace {

bool is_ipv6(const xml::network_ip& ip) { return ip.address.find(':') != std::string::npos; }

std::array<std::uint8_t, 16> bytes_of(const std::string& address) {
    std::array<std::uint8_t, 16> out{};
    inet_pton(address.find(':') != std::string::npos ? AF_INET6 : AF_INET, address.c_str(), out.data());
    return out;
}

}  // namespace

/// virNetworkIPDefPrefix: prefix, else netmask bits, else the classful default (64 for IPv6).
unsigned ip_prefix(const xml::network_ip& ip) {
    if (ip.prefix && *ip.prefix > 0) return *ip.prefix;
    if (ip.netmask) {
        auto b = bytes_of(*ip.netmask);
        unsigned bits = 0;
        for (std::size_t i = 0; i < 4; ++i)
            for (int k = 7; k >= 0; --k)
                if ((b[i] >> k) & 1) ++bits;
        return bits;
    }
    if (is_ipv6(ip)) return 64;
    auto first = bytes_of(ip.address)[0];
    if (first < 128) return 8;
    if (first < 192) return 16;
    return 24;
}

/// The network address of ip/prefix ("192.168.122.0").
std::string subnet_address(const xml::network_ip& ip) {
    auto b = bytes_of(ip.address);
    unsigned prefix = ip_prefix(ip);
    std::size_t size = is_ipv6(ip) ? 16 : 4;
    for (std::size_t i = 0; i < size; ++i) {
        int keep = std::clamp(static_cast<int>(prefix) - static_cast<int>(8 * i), 0, 8);
        b[i] = static_cast<std::uint8_t>(b[i] & (keep == 0 ? 0 : 0xFF << (8 - keep)));
    }
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(is_ipv6(ip) ? AF_INET6 : AF_INET, b.data(), text, sizeof text);
    return text;
}

std::string netmask_of(unsigned prefix) {
    std::uint32_t mask = prefix == 0 ? 0 : htonl(~0U << (32 - prefix));
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &mask, text, sizeof text);
    return text;
}

namespace {

/// virSocketAddrGetRange's count of addresses start..end (the last 32 bits for IPv6).
long range_size(const std::string& start, const std::string& end) {
    auto s = bytes_of(start), e = bytes_of(end);
    std::size_t off = start.find(':') != std::string::npos ? 12 : 0;
    auto value = [&](const std::array<std::uint8_t, 16>& b) {
        return (std::int64_t{b[off]} << 24) | (std::int64_t{b[off + 1]} << 16) | (std::int64_t{b[off + 2]} << 8) | b[off + 3];
    };
    return static_cast<long>(value(e) - value(s) + 1);
}

bool has_dhcp(const xml::network_ip& ip) { return !ip.dhcp_ranges.empty() || !ip.dhcp_hosts.empty(); }

std::string host_line(const xml::network_dhcp_host& h, bool ipv6) {
    std::string ip = ipv6 ? "[" + h.ip.value_or("") + "]" : h.ip.value_or("");
    if (ipv6 && h.id) return "id:" + *h.id + (h.name ? "," + *h.name : "") + "," + ip;
    if (ipv6) return (h.mac ? *h.mac + "," : "") + (h.name ? *h.name + "," : "") + ip;
    if (h.mac && h.name) return *h.mac + "," + ip + "," + *h.name;
    if (h.name) return *h.name + "," + ip;
    return h.mac.value_or("") + "," + ip;
}

}  // namespace

bool needs_dnsmasq(const xml::network_def& def) {
    if (def.forward && def.forward->mode != xml::network_forward_mode::nat && def.forward->mode != xml::network_forward_mode::route &&
        def.forward->mode != xml::network_forward_mode::open)
        return false;
    if (def.ips.empty()) return false;
    if (def.dns.enable != false) return true;
    for (const auto& ip : def.ips)
        if (has_dhcp(ip) || is_ipv6(ip)) return true;
    return false;
}

dnsmasq_files files_of(const paths& p, const std::string& network) {
    return {p.dnsmasq_dir + "/" + network + ".conf", p.dnsmasq_dir + "/" + network + ".hostsfile",
            p.dnsmasq_dir + "/" + network + ".addnhosts", p.run_dir + "/" + network + ".pid",
            p.dnsmasq_dir + "/" + network + ".leases"};
}

std::string dnsmasq_config(const xml::network_def& def, const dnsmasq_files& files) {
    std::string c =
        "##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n"
        "##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:\n"
        "##    virsh net-edit " + def.name + "\n"
        "## or other application using the libvirt API.\n"
        "##\n"
        "## dnsmasq conf file created by libvirt\n"
        "strict-order\n";
    bool want_dns = def.dns.enable != false;
    if (!want_dns) c += "port=0\n";
    if (want_dns && !def.dns.forwarders.empty()) {
        bool no_resolv = false;
        for (const auto& f : def.dns.forwarders) {
            c += "server=";
            if (f.domain) c += "/" + *f.domain + "/";
            if (f.addr) {
                c += *f.addr;
                if (!f.domain) no_resolv = true;
            } else {
                c += "#";
            }
            c += "\n";
        }
        if (no_resolv) c += "no-resolv\n";
    }
    if (def.domain) {
        if (def.domain->local_only == true) c += "local=/" + def.domain->name + "/\n";
        c += "domain=" + def.domain->name + "\nexpand-hosts\n";
    }
    if (want_dns && def.dns.forward_plain_names == false) c += "domain-needed\nlocal=//\n";
    c += "pid-file=" + files.pidfile + "\n";
    c += "except-interface=lo\n";
    c += "bind-dynamic\ninterface=" + (def.bridge && def.bridge->name ? *def.bridge->name : std::string()) + "\n";

    const xml::network_ip* ipv4_dhcp = nullptr;
    const xml::network_ip* ipv6_dhcp = nullptr;
    for (const auto& ip : def.ips) {
        if (!is_ipv6(ip) && has_dhcp(ip)) {
            if (ipv4_dhcp)
                raise(error_code::config_unsupported, error_domain::network,
                      "For IPv4, multiple DHCP definitions cannot be specified.");
            ipv4_dhcp = &ip;
        }
        if (is_ipv6(ip)) {
            if (has_dhcp(ip)) {
                if (ipv6_dhcp)
                    raise(error_code::config_unsupported, error_domain::network,
                          "For IPv6, multiple DHCP definitions cannot be specified.");
                ipv6_dhcp = &ip;
            }
        }
    }

    if (!def.forward) {
        // isolated: no default route for the clients, no forwarding of queries upstream
        // and no IPv6 default route either (libvirtd 9.0 writes it with or without IPv6)
        c += "dhcp-option=3\nno-resolv\nra-param=*,0,0\n";
    }
    if (want_dns) {
        for (const auto& t : def.dns.txts) c += "txt-record=" + t.name + "," + t.value + "\n";
        for (const auto& s : def.dns.srvs) {
            c += "srv-host=_" + s.service + "._" + s.protocol;
            if (s.domain) c += "." + *s.domain;
            // a target "." means the service is not offered (RFC 2782): nothing more, as libvirt;
            // port, priority and weight go by position, so a later one brings the earlier ones
            // (an unset port as dnsmasq's default, 1)
            if (s.target && *s.target != ".") {
                c += "," + *s.target;
                if (s.port || s.priority || s.weight) c += "," + std::to_string(s.port ? s.port : 1);
                if (s.priority || s.weight) c += "," + std::to_string(s.priority);
                if (s.weight) c += "," + std::to_string(s.weight);
            }
            c += "\n";
        }
    }

    long leases = 0;
    for (const auto* ip = ipv4_dhcp ? ipv4_dhcp : ipv6_dhcp; ip != nullptr; ip = ip == ipv6_dhcp ? nullptr : ipv6_dhcp) {
        unsigned prefix = ip_prefix(*ip);
        for (const auto& r : ip->dhcp_ranges) {
            c += "dhcp-range=" + r.start + "," + r.end + "," + (is_ipv6(*ip) ? std::to_string(prefix) : netmask_of(prefix)) + "\n";
            leases += range_size(r.start, r.end);
        }
        if (ip->dhcp_ranges.empty() && !ip->dhcp_hosts.empty()) {
            c += "dhcp-range=" + ip->address + ",static";
            if (is_ipv6(*ip)) c += "," + std::to_string(prefix);
            c += "\n";
        }
        if (!is_ipv6(*ip)) c += "dhcp-no-override\ndhcp-authoritative\n";
    }
    if (leases > 0) c += "dhcp-lease-max=" + std::to_string(leases) + "\n";
    if (ipv4_dhcp || ipv6_dhcp) c += "dhcp-hostsfile=" + files.hostsfile + "\n";
    if (want_dns) c += "addn-hosts=" + files.addnhosts + "\n";
    if (def.mtu) c += "dhcp-option=option:mtu," + std::to_string(*def.mtu) + "\n";
    if (ipv6_dhcp) {
        c += "enable-ra\n";
    } else {
        for (const auto& ip : def.ips)
            if (is_ipv6(ip) && !has_dhcp(ip)) c += "dhcp-range=" + ip.address + ",ra-only\n";
    }
    return c;
}

std::string dnsmasq_hostsfile(const xml::network_def& def) {
    std::string out;
    bool seen_v4 = false, seen_v6 = false;
    for (const auto& ip : def.ips) {
        if (!has_dhcp(ip)) continue;
        bool v6 = is_ipv6(ip);
        if ((v6 && seen_v6) || (!v6 && seen_v4)) continue;  // only the first DHCP block of a family serves
        (v6 ? seen_v6 : seen_v4) = true;
        for (const auto& h : ip.dhcp_hosts) out += host_line(h, v6) + "\n";
    }
    return out;
}

std::string dnsmasq_addnhosts(const xml::network_def& def) {
    std::string out;
    for (const auto& h : def.dns.hosts) {
        out += h.ip + "\t";
        for (const auto& n : h.hostnames) out += n + "\t";
        out += "\n";
    }
    return out;
}

namespace {
constexpr unsigned modify = 1, del = 2, add_first = 4;  // 3: add-last
// virNetworkUpdateSection
constexpr unsigned section_bridge = 1, section_domain = 2, section_ip = 3, section_dhcp_host = 4, section_dhcp_range = 5,
                   section_forward = 6, section_forward_interface = 7, section_forward_pf = 8, section_portgroup = 9,
                   section_dns_host = 10, section_dns_txt = 11, section_dns_srv = 12;
[[noreturn]] void fail(error_code code, std::string_view detail) { raise(code, error_domain::network, detail); }

/// Parses the throwaway network around an update's element. Its line numbers mean nothing to the
/// caller, so its errors are reported as libvirt reports them: without a line.
xml::network_def parse_update_probe(const std::string& probe) {
    try {
        return xml::parse_network_xml(probe);
    } catch (const virtpp::error& e) {
        auto info = e.info();
        const std::string suffix = " (line " + std::to_string(info.int1) + ")";
        if (info.int1 > 0 && info.message.ends_with(suffix)) {
            info.message.resize(info.message.size() - suffix.size());
            info.int1 = 0;
        }
        raise(info);
    }
}

/// A DHCP host's field in libvirt's update messages: a missing mac or ip reads "unknown", a
/// missing name "(null)" (glibc's printf of NULL).
std::string or_unknown(const std::optional<std::string>& v) { return v.value_or("unknown"); }
std::string or_null(const std::optional<std::string>& v) { return v.value_or("(null)"); }

/// The name of the element an update's text starts with.
std::string element_name(std::string_view text) {
    auto start = text.find('<');
    if (start == std::string_view::npos) return {};
    auto end = text.find_first_of(" \t\r\n/>", start + 1);
    return std::string(text.substr(start + 1, end == std::string_view::npos ? std::string_view::npos : end - start - 1));
}

void expect_element(const xml::network_def& def, std::string_view text, std::string_view expected) {
    if (auto name = element_name(text); name != expected)
        fail(error_code::xml_error, "unexpected element <" + name + ">, expecting <" + std::string(expected) +
                                        ">, while updating network '" + def.name + "'");
}

/// The update's element as a bare tree: deletes name records by some of their fields only
/// (libvirt's "partial" parse), which the network parser, made for whole definitions, refuses.
xml::detail::element update_element(std::string_view text) {
    return xml::detail::parse_document(text, "(network_update_xml)", error_domain::network);
}

/// An address in its canonical text, nullopt when TEXT is none.
std::optional<std::string> canonical_ip(const std::string& text) {
    unsigned char buf[sizeof(in6_addr)];
    char out[INET6_ADDRSTRLEN];
    int family = text.find(':') != std::string::npos ? AF_INET6 : AF_INET;
    if (::inet_pton(family, text.c_str(), buf) != 1 || !::inet_ntop(family, buf, out, sizeof out)) return std::nullopt;
    return std::string(out);
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// virNetworkIPDefByIndex: the <ip> at PARENT_INDEX among all of them, or for -1 the one with
/// DHCP ranges or hosts, else the first IPv4, else the first IPv6.
xml::network_ip& ip_by_index(xml::network_def& def, int parent_index, std::string_view what) {
    if (parent_index >= 0) {
        if (static_cast<std::size_t>(parent_index) >= def.ips.size())
            fail(error_code::operation_invalid, "couldn't update " + std::string(what) + " entry - no <ip> element found at index " +
                                                    std::to_string(parent_index) + " in network '" + def.name + "'");
        return def.ips[static_cast<std::size_t>(parent_index)];
    }
    for (auto& ip : def.ips)
        if (!ip.dhcp_ranges.empty() || !ip.dhcp_hosts.empty()) return ip;
    for (auto& ip : def.ips)
        if (!is_ipv6(ip)) return ip;
    if (!def.ips.empty()) return def.ips.front();
    fail(error_code::operation_invalid, "couldn't update " + std::string(what) + " entry - no <ip> element found in network '" +
                                            def.name + "'");
}

/// virNetworkDefUpdateCheckMultiDHCP: DHCP lives on one <ip> per address family.
void check_single_dhcp(const xml::network_def& def, const xml::network_ip& chosen) {
    for (const auto& ip : def.ips)
        if (&ip != &chosen && is_ipv6(ip) == is_ipv6(chosen) && (!ip.dhcp_ranges.empty() || !ip.dhcp_hosts.empty()))
            fail(error_code::operation_invalid, std::string("dhcp is supported only for a single ") +
                                                    (is_ipv6(chosen) ? "IPv6" : "IPv4") + " address on each network");
}

/// The throwaway network holding TEXT inside <dhcp> of IP, so the parser's checks apply.
xml::network_ip parse_in_dhcp(const xml::network_def& def, const xml::network_ip& ip, const std::string& text) {
    std::string probe = "<network><name>" + xml::detail::escape(def.name) + "</name><ip address='" + ip.address + "'" +
                        (ip.netmask ? " netmask='" + *ip.netmask + "'" : "") +
                        (ip.prefix ? " prefix='" + std::to_string(*ip.prefix) + "'" : "") + "><dhcp>" + text +
                        "</dhcp></ip></network>";
    auto parsed = parse_update_probe(probe);
    if (parsed.ips.empty()) fail(error_code::xml_error, "wrong XML element type");
    return parsed.ips.front();
}

void update_dhcp_range(xml::network_def& def, unsigned command, int parent_index, const std::string& text) {
    expect_element(def, text, "range");
    auto& ip = ip_by_index(def, parent_index, "dhcp range");
    if (command == modify)
        fail(error_code::operation_unsupported, "dhcp ranges cannot be modified, only added or deleted");
    auto parsed = parse_in_dhcp(def, ip, text);
    if (parsed.dhcp_ranges.size() != 1) fail(error_code::xml_error, "wrong XML element type - expected <range>");
    const auto range = parsed.dhcp_ranges.front();
    auto& ranges = ip.dhcp_ranges;
    auto it = std::find(ranges.begin(), ranges.end(), range);
    if (command == del) {
        if (it == ranges.end())
            fail(error_code::operation_invalid, "couldn't locate a matching dhcp range entry in network '" + def.name + "'");
        ranges.erase(it);
        return;
    }
    check_single_dhcp(def, ip);
    if (it != ranges.end())
        fail(error_code::operation_invalid, "there is an existing dhcp range entry in network '" + def.name +
                                                "' that matches \"<range start='" + range.start + "' end='" + range.end + "'/>\"");
    ranges.insert(command == add_first ? ranges.begin() : ranges.end(), range);
}

void update_dns_txt(xml::network_def& def, unsigned command, const std::string& text) {
    if (command == modify)
        fail(error_code::operation_unsupported, "DNS TXT records cannot be modified, only added or deleted");
    expect_element(def, text, "txt");
    auto e = update_element(text);
    const bool adding = command != del;
    const auto* name = e.attr("name");
    if (!name) fail(error_code::xml_detail, "missing required name attribute in DNS TXT record of network " + def.name);
    if (name->find_first_of(" ,") != std::string::npos)
        fail(error_code::xml_detail, "prohibited character in DNS TXT record name '" + *name + "' of network " + def.name);
    const auto* value = e.attr("value");
    if (!value && adding)
        fail(error_code::xml_detail, "missing required value attribute in DNS TXT record named '" + *name + "' of network " +
                                         def.name);
    auto& txts = def.dns.txts;
    auto it = std::find_if(txts.begin(), txts.end(), [&](const xml::network_dns_txt& t) { return t.name == *name; });
    if (!adding) {
        if (it == txts.end()) fail(error_code::operation_invalid, "couldn't locate a matching DNS TXT record in network " + def.name);
        txts.erase(it);
        return;
    }
    if (it != txts.end())
        fail(error_code::operation_invalid, "there is already a DNS TXT record with name '" + *name + "' in network " + def.name);
    txts.insert(command == add_first ? txts.begin() : txts.end(), xml::network_dns_txt{*name, *value});
}

void update_dns_srv(xml::network_def& def, unsigned command, const std::string& text) {
    if (command == modify)
        fail(error_code::operation_unsupported, "DNS SRV records cannot be modified, only added or deleted");
    expect_element(def, text, "srv");
    auto e = update_element(text);
    const bool adding = command != del;
    const std::string& net = def.name;
    auto opt = [&](std::string_view key) -> std::optional<std::string> {
        if (const auto* v = e.attr(key)) return *v;
        return std::nullopt;
    };
    auto service = opt("service"), protocol = opt("protocol"), domain = opt("domain"), target = opt("target");
    // virNetworkDNSSrvDefParseXML's checks, in its order
    if (!service && adding) fail(error_code::xml_detail, "missing required service attribute in DNS SRV record of network '" + net + "'");
    if (service) {
        if (service->size() > 512 - 30)
            fail(error_code::xml_detail, "service attribute '" + *service + "' in network '" + net + "' is too long, limit is 482 bytes");
        if (service->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+/*") != std::string::npos)
            fail(error_code::xml_detail, "invalid character in service attribute '" + *service + "' in DNS SRV record of network '" + net + "'");
    }
    const std::string service_text = service.value_or("(null)");  // glibc's printf of NULL, as libvirt prints it
    if (!protocol && adding)
        fail(error_code::xml_detail, "missing required protocol attribute in DNS SRV record '" + service_text + "' of network '" + net + "'");
    if (protocol && protocol->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+/") != std::string::npos)
        fail(error_code::xml_detail, "invalid character in protocol attribute '" + *protocol + "' in DNS SRV record of network '" + net + "'");
    xml::network_dns_srv srv{service.value_or(""), protocol.value_or(""), domain, target, 0, 0, 0};
    auto number = [&](std::string_view key, unsigned min, const std::string& invalid) -> unsigned {
        auto v = opt(key);
        if (!v) return 0;
        if (!target)
            fail(error_code::xml_detail, "DNS SRV " + std::string(key) + " attribute not permitted without target for service '" +
                                             service_text + "' in network '" + net + "'");
        char* end = nullptr;
        errno = 0;
        unsigned long n = v->empty() || !std::isdigit(static_cast<unsigned char>(v->front())) ? 0 : std::strtoul(v->c_str(), &end, 10);
        if (!end || *end || errno || n < min || n > 65535)
            fail(error_code::xml_detail, invalid + " attribute for service '" + service_text + "' in network '" + net + "'");
        return static_cast<unsigned>(n);
    };
    srv.port = number("port", 1, "invalid DNS SRV port");
    srv.priority = number("priority", 0, "Invalid DNS SRV priority");
    srv.weight = number("weight", 0, "invalid DNS SRV weight");
    // a record matches when every field given (domain, service, protocol, target) is equal
    auto matches = [&](const xml::network_dns_srv& r) {
        return (!domain || r.domain == domain) && (!service || r.service == *service) && (!protocol || r.protocol == *protocol) &&
               (!target || r.target == target);
    };
    auto& srvs = def.dns.srvs;
    std::size_t found = 0, found_at = 0;
    for (std::size_t i = 0; i < srvs.size(); ++i)
        if (matches(srvs[i])) {
            ++found;
            found_at = i;
        }
    if (adding) {
        if (found > 0)
            fail(error_code::operation_invalid, "there is already at least one DNS SRV record matching all specified fields in network " + net);
        srvs.insert(command == add_first ? srvs.begin() : srvs.end(), srv);
        return;
    }
    if (found == 0) fail(error_code::operation_invalid, "couldn't locate a matching DNS SRV record in network " + net);
    if (found > 1)
        fail(error_code::operation_invalid, "multiple DNS SRV records matching all specified fields were found in network " + net);
    srvs.erase(srvs.begin() + static_cast<std::ptrdiff_t>(found_at));
}

void update_forward_interface(xml::network_def& def, unsigned command, const std::string& text) {
    expect_element(def, text, "interface");
    if (command == modify)
        fail(error_code::operation_unsupported, "forward interface entries cannot be modified, only added or deleted");
    auto e = update_element(text);
    const auto* dev = e.attr("dev");
    if (!dev) fail(error_code::xml_error, "missing dev attribute in <interface> element");
    // a definition without <forward> is isolated: libvirt keeps the list but writes none of it
    if (!def.forward)
        fail(error_code::operation_unsupported, "network '" + def.name + "' has no <forward> element to update the interfaces of");
    auto& fwd = *def.forward;
    if (fwd.interfaces.empty() && fwd.dev) fwd.interfaces.push_back(*fwd.dev);
    auto it = std::find(fwd.interfaces.begin(), fwd.interfaces.end(), *dev);
    if (command == del) {
        if (it == fwd.interfaces.end())
            fail(error_code::operation_invalid, "couldn't find an interface entry in network '" + def.name +
                                                    "' matching <interface dev='" + *dev + "'>");
        fwd.interfaces.erase(it);
    } else {
        if (it != fwd.interfaces.end())
            fail(error_code::operation_invalid, "there is an existing interface entry in network '" + def.name +
                                                    "' that matches \"<interface dev='" + *dev + "'>\"");
        fwd.interfaces.insert(command == add_first ? fwd.interfaces.begin() : fwd.interfaces.end(), *dev);
    }
    using mode = xml::network_forward_mode;
    if ((fwd.mode == mode::nat || fwd.mode == mode::route || fwd.mode == mode::open) && fwd.interfaces.size() > 1)
        fail(error_code::xml_error, "multiple forwarding interfaces specified for network '" + def.name + "', only one is supported");
    // libvirt's dev= is the first interface
    if (fwd.interfaces.empty()) fwd.dev.reset();
    else fwd.dev = fwd.interfaces.front();
}

/// virNetworkDefUpdatePortGroup: by name; one default at most.
void update_portgroup(xml::network_def& def, unsigned command, const std::string& text) {
    expect_element(def, text, "portgroup");
    auto parsed = parse_update_probe("<network><name>" + xml::detail::escape(def.name) + "</name>" + text + "</network>");
    if (parsed.portgroups.size() != 1) fail(error_code::xml_error, "wrong XML element type - expected <portgroup>");
    auto pg = parsed.portgroups.front();
    auto& groups = def.portgroups;
    auto named = std::find_if(groups.begin(), groups.end(), [&](const xml::network_portgroup& g) { return g.name == pg.name; });
    auto deflt = std::find_if(groups.begin(), groups.end(), [](const xml::network_portgroup& g) { return g.is_default; });
    const bool adding = command != modify && command != del;
    if (named == groups.end() && !adding)
        fail(error_code::operation_invalid, "couldn't find a portgroup entry in network '" + def.name + "' matching <portgroup name='" +
                                                pg.name + "'>");
    if (named != groups.end() && adding)
        fail(error_code::operation_invalid, "there is an existing portgroup entry in network '" + def.name +
                                                "' that matches \"<portgroup name='" + pg.name + "'>\"");
    if (command != del && pg.is_default && deflt != groups.end() && deflt != named)
        fail(error_code::operation_invalid, "a different portgroup entry in network '" + def.name +
                                                "' is already set as the default. Only one default is allowed.");
    if (command == modify) *named = pg;
    else if (command == del) groups.erase(named);
    else groups.insert(command == add_first ? groups.begin() : groups.end(), pg);
}

/// virNetworkDefUpdateIPDHCPHost's delete: the first host whose every given field (mac, name,
/// ip) is equal; a host without a mac matches any mac.
void delete_dhcp_host(xml::network_def& def, xml::network_ip& ip, const std::string& text) {
    auto e = update_element(text);
    std::optional<std::string> mac, name, address;
    if (const auto* m = e.attr("mac")) mac = lower(*m);
    if (const auto* n = e.attr("name")) name = *n;
    if (const auto* a = e.attr("ip")) {
        address = canonical_ip(*a);
        if (!address) fail(error_code::xml_error, "Invalid IP address in static host definition for network '" + def.name + "'");
    }
    auto& hosts = ip.dhcp_hosts;
    auto it = std::find_if(hosts.begin(), hosts.end(), [&](const xml::network_dhcp_host& h) {
        return (!mac || !h.mac || lower(*h.mac) == *mac) && (!name || h.name == name) &&
               (!address || (h.ip && canonical_ip(*h.ip) == address));
    });
    if (it == hosts.end())
        fail(error_code::operation_invalid, "couldn't locate a matching dhcp host entry in network '" + def.name + "'");
    hosts.erase(it);
}
}  // namespace

void check_update(unsigned command, unsigned section) {
    if (command < modify || command > add_first)
        fail(error_code::invalid_arg, "unrecognized network update command code " + std::to_string(command));
    if (section < section_bridge || section > section_dns_srv)
        fail(error_code::operation_unsupported, "can't update unrecognized section of network");
}

void apply_update(xml::network_def& def, unsigned command, unsigned section, int parent_index, const std::string& text) {
    check_update(command, section);
    const char* unsupported = nullptr;  // what libvirt 9.0 cannot update either
    switch (section) {
    case section_bridge: unsupported = "bridge"; break;
    case section_domain: unsupported = "domain"; break;
    case section_ip: unsupported = "ip"; break;
    case section_forward: unsupported = "forward"; break;
    case section_forward_pf: unsupported = "forward pf"; break;
    case section_dhcp_range: return update_dhcp_range(def, command, parent_index, text);
    case section_forward_interface: return update_forward_interface(def, command, text);
    case section_dns_txt: return update_dns_txt(def, command, text);
    case section_dns_srv: return update_dns_srv(def, command, text);
    case section_portgroup: return update_portgroup(def, command, text);
    default: break;
    }
    if (unsupported)
        fail(error_code::operation_unsupported, "can't update '" + std::string(unsupported) + "' section of network '" + def.name + "'");
    // the element is parsed inside a throwaway network, so the usual checks apply
    if (section == section_dhcp_host) {
        expect_element(def, text, "host");
        std::vector<xml::network_ip*> v4;
        for (auto& ip : def.ips)
            if (ip.address.find(':') == std::string::npos) v4.push_back(&ip);
        if (parent_index >= 0 && static_cast<std::size_t>(parent_index) >= v4.size())
            fail(error_code::operation_invalid, "couldn't update dhcp host entry - no <ip> element found at index " +
                                                    std::to_string(parent_index) + " in network '" + def.name + "'");
        xml::network_ip* ip = nullptr;
        if (parent_index >= 0) ip = v4[static_cast<std::size_t>(parent_index)];
        else
            for (auto* c : v4)
                if (!c->dhcp_ranges.empty() || !c->dhcp_hosts.empty()) { ip = c; break; }
        if (!ip)
            fail(error_code::operation_invalid, "couldn't update dhcp host entry - no <ip> element found in network '" + def.name +
                                                    "' with a <dhcp> element");
        if (command == del) return delete_dhcp_host(def, *ip, text);
        std::string probe = "<network><name>" + xml::detail::escape(def.name) + "</name><ip address='" + ip->address + "'" +
                            (ip->netmask ? " netmask='" + *ip->netmask + "'" : "") +
                            (ip->prefix ? " prefix='" + std::to_string(*ip->prefix) + "'" : "") + "><dhcp>" + text +
                            "</dhcp></ip></network>";
        auto parsed = parse_update_probe(probe);
        if (parsed.ips.empty() || parsed.ips[0].dhcp_hosts.size() != 1)
            fail(error_code::xml_error, "wrong XML element type - expected <host>");
        auto host = parsed.ips[0].dhcp_hosts[0];
        // inside the subnet: a reservation dnsmasq could never hand out is refused
        if (!netlink::subnets_overlap(ip->address, ip_prefix(*ip), *host.ip, ip_prefix(*ip)))
            fail(error_code::operation_unsupported, "The address '" + *host.ip + "' is not in the network '" + def.name +
                                                        "' of subnet " + subnet_address(*ip) + "/" + std::to_string(ip_prefix(*ip)));
        auto same = [&](const xml::network_dhcp_host& h) {
            return (host.mac && h.mac && *h.mac == *host.mac) || (host.name && h.name && *h.name == *host.name) ||
                   (host.ip && h.ip && *h.ip == *host.ip);
        };
        auto& hosts = ip->dhcp_hosts;
        if (command == modify) {
            // the entry with this mac, ip or name takes the new fields (virNetworkDefUpdateIPDHCPHost)
            auto it = std::find_if(hosts.begin(), hosts.end(), same);
            if (it == hosts.end())
                fail(error_code::operation_invalid, "couldn't locate an existing dhcp host entry with \"mac='" +
                                                        or_unknown(host.mac) + "'\" \"name='" + or_null(host.name) +
                                                        "'\" \"ip='" + or_unknown(host.ip) + "'\" in network '" + def.name + "'");
            *it = host;
        } else {
            if (auto it = std::find_if(hosts.begin(), hosts.end(), same); it != hosts.end())
                fail(error_code::operation_invalid, "there is an existing dhcp host entry in network '" + def.name +
                                                        "' that matches \"<host mac='" + or_unknown(host.mac) + "' name='" +
                                                        or_null(host.name) + "' ip='" + or_unknown(host.ip) + "'/>\"");
            if (command == add_first) hosts.insert(hosts.begin(), host);
            else hosts.push_back(host);
        }
    } else if (section == section_dns_host) {
        if (command == modify)
            fail(error_code::operation_unsupported, "DNS HOST records cannot be modified, only added or deleted");
        expect_element(def, text, "host");
        std::string probe = "<network><name>" + xml::detail::escape(def.name) + "</name><dns>" + text + "</dns></network>";
        auto parsed = parse_update_probe(probe);
        if (parsed.dns.hosts.size() != 1) fail(error_code::xml_error, "wrong XML element type - expected <host>");
        auto host = parsed.dns.hosts[0];
        auto& hosts = def.dns.hosts;
        const bool adding = command != del;
        // an add clashes on the address only (one name on several addresses is fine); a delete
        // matches the address or any of the names, and must match exactly one record
        std::size_t found = 0, found_at = 0;
        for (std::size_t i = 0; i < hosts.size(); ++i) {
            bool match = hosts[i].ip == host.ip;
            for (const auto& n : host.hostnames)
                if (!adding && std::find(hosts[i].hostnames.begin(), hosts[i].hostnames.end(), n) != hosts[i].hostnames.end())
                    match = true;
            if (match) {
                ++found;
                found_at = i;
            }
        }
        if (adding) {
            if (found > 0)
                fail(error_code::operation_invalid,
                     "there is already at least one DNS HOST record with a matching field in network " + def.name);
            if (command == add_first) hosts.insert(hosts.begin(), host);
            else hosts.push_back(host);
        } else {
            if (found == 0)
                fail(error_code::operation_invalid, "couldn't locate a matching DNS HOST record in network " + def.name);
            if (found > 1)
                fail(error_code::operation_invalid, "multiple matching DNS HOST records were found in network " + def.name);
            hosts.erase(hosts.begin() + static_cast<std::ptrdiff_t>(found_at));
        }
    }
}

namespace {
std::string quoted(const std::string& s) { return "\"" + s + "\""; }
}  // namespace

std::string firewall_script(const std::vector<xml::network_def>& running) {
    // add-then-delete makes the delete valid when the table does not exist yet; the whole
    // buffer is one nftables transaction, so the table is replaced atomically
    std::string s = "table inet virtpp\ndelete table inet virtpp\n";
    if (running.empty()) return s;
    std::string input, output, fwx, fwi, fwo, post;
    for (const auto& def : running) {
        using mode = xml::network_forward_mode;
        if (def.forward && def.forward->mode != mode::nat && def.forward->mode != mode::route) {
            if (def.forward->mode != mode::open) continue;  // bridge/hostdev/...: not ours to filter
        }
        std::string br = quoted(def.bridge && def.bridge->name ? *def.bridge->name : "");
        bool open = def.forward && def.forward->mode == mode::open;
        bool v4 = false, v6 = false;
        for (const auto& ip : def.ips) (is_ipv6(ip) ? v6 : v4) = true;
        if (!open && needs_dnsmasq(def)) {
            input += "    iifname " + br + " udp dport { 53, 67 } accept\n";
            input += "    iifname " + br + " tcp dport { 53, 67 } accept\n";
            output += "    oifname " + br + " udp dport { 53, 68 } accept\n";
            output += "    oifname " + br + " tcp dport { 53, 68 } accept\n";
            if (v6) {
                input += "    iifname " + br + " udp dport 547 accept\n";
                output += "    oifname " + br + " udp dport 546 accept\n";
            }
        }
        if (open) continue;
        fwx += "    iifname " + br + " oifname " + br + " accept\n";
        if (def.forward) {
            std::string dev = def.forward->dev ? " oifname " + quoted(*def.forward->dev) : "";
            std::string dev_in = def.forward->dev ? " iifname " + quoted(*def.forward->dev) : "";
            bool nat = def.forward->mode == mode::nat;
            for (const auto& ip : def.ips) {
                std::string fam = is_ipv6(ip) ? "ip6" : "ip";
                std::string net = subnet_address(ip) + "/" + std::to_string(ip_prefix(ip));
                // libvirt NATs IPv4 only; IPv6 of a nat network is routed
                fwi += "   " + dev_in + " oifname " + br + " " + fam + " daddr " + net +
                       (nat && !is_ipv6(ip) ? " ct state related,established" : "") + " accept\n";
                fwo += "    iifname " + br + dev + " " + fam + " saddr " + net + " accept\n";
                if (nat && !is_ipv6(ip)) {
                    std::string match = "   " + dev + " ip saddr " + net;
                    post += match + " ip daddr 224.0.0.0/24 return\n";
                    post += match + " ip daddr 255.255.255.255 return\n";
                    const auto& f = *def.forward;
                    unsigned lo = f.nat_port_start ? f.nat_port_start : 1024, hi = f.nat_port_end ? f.nat_port_end : 65535;
                    std::string ports = ":" + std::to_string(lo) + "-" + std::to_string(hi);
                    std::string to = f.nat_address_start ? "snat ip to " + *f.nat_address_start +
                                                               (f.nat_address_end && *f.nat_address_end != *f.nat_address_start
                                                                    ? "-" + *f.nat_address_end
                                                                    : "")
                                                         : "masquerade";
                    std::string to_ports = f.nat_address_start ? to + ports : "masquerade to " + ports;
                    post += match + " ip daddr != " + net + " meta l4proto tcp " + to_ports + "\n";
                    post += match + " ip daddr != " + net + " meta l4proto udp " + to_ports + "\n";
                    post += match + " ip daddr != " + net + " " + to + "\n";
                }
            }
        }
        fwi += "    oifname " + br + " reject\n";
        fwo += "    iifname " + br + " reject\n";
    }
    s += "table inet virtpp {\n";
    s += "  chain input {\n    type filter hook input priority filter; policy accept;\n" + input + "  }\n";
    s += "  chain output {\n    type filter hook output priority filter; policy accept;\n" + output + "  }\n";
    s += "  chain forward {\n    type filter hook forward priority filter; policy accept;\n" + fwx + fwi + fwo + "  }\n";
    s += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n" + post + "  }\n";
    s += "}\n";
    return s;
}

}  // namespace virtpp::hypervisor::network
