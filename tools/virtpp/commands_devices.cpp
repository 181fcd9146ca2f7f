// Device hotplug commands built on attach_device/detach_device: attach-disk and attach-interface
// write the device XML the way virsh 9.0 composes it; detach-disk and detach-interface pick the
// device out of the domain's XML with virsh's matching rules and hand that element back.
#include "command_util.hpp"
#include "xml_scan.hpp"

#include <virtpp/xml/escape.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>

namespace virtpp::cli {

namespace {

/// ` name='value'` with the value escaped, or nothing when there is no value.
std::string escaped_attr(std::string_view name, const std::optional<std::string>& value) {
    if (!value) return {};
    return " " + std::string(name) + "='" + xml::escape(*value, xml::escape_style::libvirt_buffer) + "'";
}

/// virStrToLong_uip / _ullp: a non-negative number in `base` starting at `p`; `p` moves past it.
template <class T>
bool read_number(const char*& p, int base, T& out) {
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(p, &end, base);
    if (errno != 0 || end == p || std::memchr(p, '-', static_cast<std::size_t>(end - p)) != nullptr ||
        v > static_cast<unsigned long long>(static_cast<T>(-1)))
        return false;
    out = static_cast<T>(v);
    p = end;
    return true;
}

/// virshAddress: the addresses attach-disk and attach-interface accept ("pci:0000.00.0a.0", ...).
struct device_address {
    enum class kind { pci, drive, ccw, usb } type = kind::pci;
    std::string prefix;  ///< as written: pci, scsi, ide, ccw, usb, sata
    unsigned a = 0, b = 0, c = 0, d = 0;
    unsigned long long unit = 0;
    bool multifunction = false;
};

std::optional<device_address> parse_address(const std::string& text, bool multifunction) {
    auto colon = text.find(':');
    if (colon == std::string::npos) return std::nullopt;
    device_address addr;
    addr.prefix = text.substr(0, colon);
    const char* p = text.c_str() + colon;
    // each field follows one separator character, whatever it is
    auto next = [&](auto& field, int base) {
        if (*p == '\0') return false;
        ++p;
        return read_number(p, base, field);
    };
    if (addr.prefix == "pci") {
        addr.multifunction = multifunction;
        if (!next(addr.a, 16) || !next(addr.b, 16) || !next(addr.c, 16) || !next(addr.d, 16)) return std::nullopt;
    } else if (addr.prefix == "scsi" || addr.prefix == "ide" || addr.prefix == "sata") {
        addr.type = device_address::kind::drive;
        if (!next(addr.a, 10) || !next(addr.b, 10) || !next(addr.unit, 10)) return std::nullopt;
    } else if (addr.prefix == "ccw") {
        addr.type = device_address::kind::ccw;
        if (!next(addr.a, 16) || !next(addr.b, 16) || !next(addr.c, 16)) return std::nullopt;
    } else if (addr.prefix == "usb") {
        addr.type = device_address::kind::usb;
        if (!next(addr.a, 10) || !next(addr.b, 10)) return std::nullopt;
    } else {
        return std::nullopt;
    }
    return addr;
}

std::string format_address(const device_address& addr, const std::string& indent) {
    char buf[160];
    switch (addr.type) {
    case device_address::kind::pci:
        std::snprintf(buf, sizeof buf, "<address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%0x'%s/>\n",
                      addr.a, addr.b, addr.c, addr.d, addr.multifunction ? " multifunction='on'" : "");
        break;
    case device_address::kind::drive:
        std::snprintf(buf, sizeof buf, "<address type='drive' controller='%u' bus='%u' unit='%llu'/>\n", addr.a, addr.b,
                      addr.unit);
        break;
    case device_address::kind::ccw:
        std::snprintf(buf, sizeof buf, "<address type='ccw' cssid='0x%02x' ssid='0x%01x' devno='0x%04x'/>\n", addr.a,
                      addr.b, addr.c);
        break;
    case device_address::kind::usb:
        std::snprintf(buf, sizeof buf, "<address type='usb' bus='%u' port='%u'/>\n", addr.a, addr.b);
        break;
    }
    return indent + buf;
}

/// Reads every string option of `names`; false after the first refusal.
bool read_strings(shell& sh, const parsed_command& cmd, std::initializer_list<std::pair<std::string_view, std::optional<std::string>*>> names) {
    for (const auto& [name, out] : names)
        if (!sh.opt_string(cmd, name, *out)) return false;
    return true;
}

bool hotplug_conflicts(shell& sh, const parsed_command& cmd) {
    return exclusive_options(sh, cmd, "persistent", "current") && exclusive_options(sh, cmd, "current", "live") &&
           exclusive_options(sh, cmd, "current", "config");
}

unsigned requested_affect(const parsed_command& cmd) {
    unsigned flags = 0;
    if (cmd.has("config") || cmd.has("persistent")) flags |= affect::config;
    if (cmd.has("live")) flags |= affect::live;
    return flags;
}

/// The end of attach-disk / attach-interface: with --print-xml the built XML, else the device
/// attached as virsh does it ("Failed to attach disk" / "Disk attached successfully").
bool attach_built(shell& sh, const parsed_command& cmd, const std::string& xml, unsigned flags, std::string_view noun) {
    if (cmd.has("print-xml")) {
        sh.print(xml);
        return true;
    }
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    if (cmd.has("persistent") && dom->is_active()) flags |= affect::live;
    if (!attempt_call(sh, [&] { dom->attach_device(xml, hotplug_flags(flags, cmd.has("current"))); },
                      "Failed to attach " + std::string(noun)))
        return false;
    std::string done(noun);
    done[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(done[0])));
    sh.print_extra(done + " attached successfully\n");
    return true;
}

bool cmd_attach_disk(shell& sh, const parsed_command& cmd) {
    if (!hotplug_conflicts(sh, cmd) || !require_option(sh, cmd, "source-host-name", "source-protocol") ||
        !require_option(sh, cmd, "source-host-transport", "source-protocol") ||
        !require_option(sh, cmd, "source-host-socket", "source-protocol") ||
        !require_option(sh, cmd, "source-host-socket", "source-host-transport") ||
        !exclusive_options(sh, cmd, "source-host-name", "source-host-socket"))
        return false;
    unsigned flags = requested_affect(cmd);
    std::optional<std::string> source, target, driver, subdriver, device, mode, iothread, cache, io, serial, wwn,
        straddr, targetbus, alias, stype, protocol, host_name, host_transport, host_socket;
    if (!read_strings(sh, cmd, {{"source", &source}, {"target", &target}, {"driver", &driver}, {"subdriver", &subdriver},
                                {"type", &device}, {"mode", &mode}, {"iothread", &iothread}, {"cache", &cache},
                                {"io", &io}, {"serial", &serial}, {"wwn", &wwn}, {"address", &straddr},
                                {"targetbus", &targetbus}, {"alias", &alias}, {"sourcetype", &stype},
                                {"source-protocol", &protocol}, {"source-host-name", &host_name},
                                {"source-host-transport", &host_transport}, {"source-host-socket", &host_socket}}))
        return false;
    std::string type;  // "" until chosen: file, block or network
    if (stype) {
        if (*stype != "" && *stype != "file" && *stype != "block" && *stype != "network") {
            sh.error("Unknown source type: '" + *stype + "'");
            return false;
        }
        type = *stype;
    }
    if (type.empty()) {
        struct stat st {};
        if (protocol)
            type = "network";
        else if (driver != "file" && driver != "tap" && source && ::stat(source->c_str(), &st) == 0 && S_ISBLK(st.st_mode))
            type = "block";
        else
            type = "file";
    }
    if ((type == "network") != protocol.has_value()) {
        sh.error("--source-protocol option requires --sourcetype network");
        return false;
    }
    if (mode && *mode != "readonly" && *mode != "shareable") {
        sh.error("No support for " + *mode + " in command 'attach-disk'");
        return false;
    }
    if (wwn) {
        std::string_view digits = *wwn;
        if (digits.starts_with("0x")) digits.remove_prefix(2);
        std::size_t hex = 0;
        while (hex < digits.size() && std::isxdigit(static_cast<unsigned char>(digits[hex])) != 0) ++hex;
        if (hex != 16 || hex != digits.size()) {
            sh.set_pending_error(error_code::internal_error, "internal error: Malformed wwn: " + *wwn);
            return false;
        }
    }

    std::string xml = "<disk type='" + type + "'" + escaped_attr("device", device) +
                      (cmd.has("rawio") ? " rawio='yes'" : "");
    std::string children;
    std::string driver_attrs = escaped_attr("name", driver) + escaped_attr("type", subdriver) +
                               escaped_attr("iothread", iothread) + escaped_attr("cache", cache) + escaped_attr("io", io);
    if (!driver_attrs.empty()) children += "  <driver" + driver_attrs + "/>\n";
    std::string source_attrs, source_children;
    if (type == "file") {
        source_attrs = escaped_attr("file", source);
    } else if (type == "block") {
        source_attrs = escaped_attr("dev", source);
    } else {
        source_attrs = escaped_attr("protocol", protocol) + escaped_attr("name", source);
        std::string host_attrs = escaped_attr("transport", host_transport) + escaped_attr("socket", host_socket);
        if (host_name) {
            auto colon = host_name->find(':');
            host_attrs += escaped_attr("name", host_name->substr(0, colon));
            if (colon != std::string::npos) host_attrs += escaped_attr("port", host_name->substr(colon + 1));
        }
        if (!host_attrs.empty()) source_children = "    <host" + host_attrs + "/>\n";
    }
    if (!source_children.empty())
        children += "  <source" + source_attrs + ">\n" + source_children + "  </source>\n";
    else if (!source_attrs.empty())
        children += "  <source" + source_attrs + "/>\n";
    // virsh writes these values as given, unescaped
    children += "  <target dev='" + *target + "'" + (targetbus ? " bus='" + *targetbus + "'" : "") + "/>\n";
    if (mode) children += "  <" + *mode + "/>\n";
    if (serial) children += "  <serial>" + *serial + "</serial>\n";
    if (alias) children += "  <alias name='" + *alias + "'/>\n";
    if (wwn) children += "  <wwn>" + *wwn + "</wwn>\n";
    if (straddr) {
        auto addr = parse_address(*straddr, cmd.has("multifunction"));
        if (!addr) {
            sh.error("Invalid address.");
            return false;
        }
        if (target->starts_with("vd")) {
            if (addr->prefix != "pci" && addr->prefix != "ccw") {
                sh.error("expecting a pci:0000.00.00.00 or ccw:00.0.0000 address.");
                return false;
            }
        } else if (target->starts_with("sd")) {
            if (addr->prefix != "scsi" && addr->prefix != "usb" && addr->prefix != "sata") {
                sh.error("expecting a scsi:00.00.00 or usb:00.00 or sata:00.00.00 address.");
                return false;
            }
        } else if (target->starts_with("hd")) {
            if (addr->prefix != "ide") {
                sh.error("expecting an ide:00.00.00 address.");
                return false;
            }
        }
        children += format_address(*addr, "  ");
    }
    xml += ">\n" + children + "</disk>\n";

    return attach_built(sh, cmd, xml, flags, "disk");
}

/// virshParseRateStr: "average,peak,burst,floor", any of them empty.
bool parse_rate(shell& sh, const std::string& text, unsigned long long (&rate)[4]) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (;;) {
        auto comma = text.find(',', start);
        fields.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (fields.size() > 4) {
        sh.error("Rate string '" + text + "' has too many fields");
        return false;
    }
    static constexpr const char* names[] = {"average", "peak", "burst", "floor"};
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].empty()) continue;
        const char* p = fields[i].c_str();
        if (!read_number(p, 10, rate[i]) || *p != '\0') {
            sh.error(std::string("field '") + names[i] + "' is malformed");
            return false;
        }
    }
    return true;
}

bool cmd_attach_interface(shell& sh, const parsed_command& cmd) {
    if (!hotplug_conflicts(sh, cmd)) return false;
    unsigned flags = requested_affect(cmd);
    std::optional<std::string> type, source, target, mac, script, model, alias, inbound, outbound, source_mode;
    if (!read_strings(sh, cmd, {{"type", &type}, {"source", &source}, {"target", &target}, {"mac", &mac},
                                {"script", &script}, {"model", &model}, {"alias", &alias}, {"inbound", &inbound},
                                {"outbound", &outbound}, {"source-mode", &source_mode}}))
        return false;
    static constexpr std::string_view net_types[] = {"user",     "ethernet", "vhostuser", "server", "client",
                                                     "mcast",    "network",  "bridge",    "internal", "direct",
                                                     "hostdev",  "udp",      "vdpa",      "null",   "vds"};
    if (std::find(std::begin(net_types), std::end(net_types), *type) == std::end(net_types)) {
        sh.error("No support for " + *type + " in command 'attach-interface'");
        return false;
    }
    if (source_mode && *source_mode != "server" && *source_mode != "client") {
        sh.error("Invalid source mode: " + *source_mode);
        return false;
    }
    unsigned long long in_rate[4] = {}, out_rate[4] = {};
    if (inbound) {
        if (!parse_rate(sh, *inbound, in_rate)) return false;
        if (in_rate[0] == 0 && in_rate[3] == 0) {
            sh.error("either inbound average or floor is mandatory");
            return false;
        }
    }
    if (outbound) {
        if (!parse_rate(sh, *outbound, out_rate)) return false;
        if (out_rate[0] == 0) {
            sh.error("outbound average is mandatory");
            return false;
        }
        if (out_rate[3] != 0) {
            sh.error("outbound floor is unsupported yet");
            return false;
        }
    }
    std::string xml = "<interface type='" + *type + "'" + (cmd.has("managed") ? " managed='yes'>\n" : ">\n");
    if (*type == "network" || *type == "bridge") {
        xml += "  <source " + *type + "='" + *source + "'/>\n";
    } else if (*type == "direct") {
        xml += "  <source dev='" + *source + "'/>\n";
    } else if (*type == "hostdev") {
        auto addr = parse_address("pci:" + *source, false);
        if (!addr) {
            sh.error("cannot parse pci address '" + *source + "' for network interface");
            return false;
        }
        xml += "  <source>\n" + format_address(*addr, "    ") + "  </source>\n";
    } else if (*type == "vhostuser") {
        if (!source_mode) {
            sh.error("source-mode is mandatory");
            return false;
        }
        xml += "  <source type='unix' path='" + *source + "' mode='" + *source_mode + "'/>\n";
    } else {
        sh.error("No support for " + *type + " in command 'attach-interface'");
        return false;
    }
    if (target) xml += "  <target dev='" + *target + "'/>\n";
    if (mac) xml += "  <mac address='" + *mac + "'/>\n";
    if (script) xml += "  <script path='" + *script + "'/>\n";
    if (model) xml += "  <model type='" + *model + "'/>\n";
    if (alias) xml += "  <alias name='" + *alias + "'/>\n";
    if (inbound || outbound) {
        xml += "  <bandwidth>\n";
        if (inbound && (in_rate[0] != 0 || in_rate[3] != 0)) {
            xml += "    <inbound";
            static constexpr const char* names[] = {"average", "peak", "burst", "floor"};
            for (int i = 0; i < 4; ++i)
                if (in_rate[i] > 0) xml += std::string(" ") + names[i] + "='" + std::to_string(in_rate[i]) + "'";
            xml += "/>\n";
        }
        if (outbound && out_rate[0] > 0) {
            xml += "    <outbound average='" + std::to_string(out_rate[0]) + "'";
            if (out_rate[1] > 0) xml += " peak='" + std::to_string(out_rate[1]) + "'";
            if (out_rate[2] > 0) xml += " burst='" + std::to_string(out_rate[2]) + "'";
            xml += "/>\n";
        }
        xml += "  </bandwidth>\n";
    }
    xml += "</interface>\n";

    return attach_built(sh, cmd, xml, flags, "interface");
}

/// The <devices> children named `kind` of a domain document.
std::optional<std::vector<const scanned_element*>> devices_named(const scanned_element& root, std::string_view kind) {
    if (root.name != "domain") return std::nullopt;
    std::vector<const scanned_element*> out;
    for (const auto& section : root.children)
        if (section.name == "devices")
            for (const auto& d : section.children)
                if (d.name == kind) out.push_back(&d);
    return out;
}

bool cmd_detach_disk(shell& sh, const parsed_command& cmd) {
    if (!hotplug_conflicts(sh, cmd)) return false;
    unsigned flags = requested_affect(cmd);
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::optional<std::string> target;
    if (!sh.opt_string(cmd, "target", target)) return false;
    std::string doc;
    if (!attempt_call(sh, [&] { doc = dom->xml_desc(flags == affect::config ? xml_flags::inactive : 0U); }, ""))
        return false;
    if (cmd.has("persistent") && dom->is_active()) flags |= affect::live;
    auto root = scan_xml(doc);
    auto disks = root ? devices_named(*root, "disk") : std::nullopt;
    if (!disks || disks->empty()) {
        sh.error("Failed to get disk information");
        return false;
    }
    const scanned_element* found = nullptr;
    for (const auto* d : *disks) {
        const scanned_element* src = d->child("source");
        const scanned_element* tgt = d->child("target");
        auto is = [&](const scanned_element* e, std::string_view attr) {
            return e != nullptr && e->attr(attr) != nullptr && *e->attr(attr) == *target;
        };
        if (is(tgt, "dev") || is(src, "file") || is(src, "dev") || is(src, "dir") || is(src, "name")) {
            found = d;
            break;
        }
    }
    if (found == nullptr) {
        sh.error("No disk found whose source path or target is " + *target);
        return false;
    }
    // the backing chain is the driver's business, not part of the request
    std::vector<const scanned_element*> drop;
    if (const auto* backing = found->child("backingStore")) drop.push_back(backing);
    std::string disk_xml = node_text(doc, *found, drop);
    if (cmd.has("print-xml")) {
        sh.print(disk_xml);
        return true;
    }
    if (!attempt_call(sh, [&] { dom->detach_device(disk_xml, hotplug_flags(flags, cmd.has("current"))); },
                      "Failed to detach disk"))
        return false;
    sh.print_extra("Disk detached successfully\n");
    return true;
}

/// virMacAddrCompare: six hex numbers separated by ':', compared as numbers.
bool same_mac(const std::string& a, const std::string& b) {
    auto parse = [](const std::string& s, unsigned long (&out)[6]) {
        const char* p = s.c_str();
        for (int i = 0; i < 6; ++i) {
            char* end = nullptr;
            errno = 0;
            out[i] = std::strtoul(p, &end, 16);
            if (end == p || errno != 0) return false;
            p = end;
            if (i < 5 && *p++ != ':') return false;
        }
        return *p == '\0';
    };
    unsigned long x[6], y[6];
    if (!parse(a, x) || !parse(b, y)) return a == b;
    return std::equal(std::begin(x), std::end(x), std::begin(y));
}

/// virshDomainDetachInterface: one pass over one of the domain's definitions.
bool detach_interface_from(shell& sh, any_domain& dom, const std::string& doc, unsigned flags, bool current,
                           const std::string& type, const std::optional<std::string>& mac, bool print_xml) {
    auto root = scan_xml(doc);
    if (!root || root->name != "domain") {
        sh.error("Failed to get interface information");
        return false;
    }
    std::vector<const scanned_element*> nodes;
    const auto interfaces = devices_named(*root, "interface");
    for (const auto* n : *interfaces)
        if (n->attr("type") != nullptr && *n->attr("type") == type) nodes.push_back(n);
    if (nodes.empty()) {
        sh.error("No interface found whose type is " + type);
        return false;
    }
    const scanned_element* match = nullptr;
    if (mac) {
        for (const auto* n : nodes) {
            const auto* m = n->child("mac");
            if (m == nullptr || m->attr("address") == nullptr || !same_mac(*m->attr("address"), *mac)) continue;
            if (match != nullptr) {
                sh.error("Domain has multiple interfaces matching MAC address " + *mac +
                         ". You must use detach-device and specify the device pci address to remove it.");
                return false;
            }
            match = n;
        }
    } else {
        if (nodes.size() > 1) {
            sh.error("Domain has " + std::to_string(nodes.size()) + " interfaces. Please specify which one to detach using --mac");
            return false;
        }
        match = nodes.front();
    }
    if (match == nullptr) {
        sh.error("No interface with MAC address " + *mac + " was found");
        return false;
    }
    std::string detach_xml = node_text(doc, *match);
    if (print_xml) {
        sh.print(detach_xml);
        return true;
    }
    try {
        dom.detach_device(detach_xml, hotplug_flags(flags, current));
        return true;
    } catch (const virtpp::error&) {
        return false;
    }
}

bool cmd_detach_interface(shell& sh, const parsed_command& cmd) {
    if (!hotplug_conflicts(sh, cmd)) return false;
    const bool config = cmd.has("config"), live = cmd.has("live"), persistent = cmd.has("persistent"),
               current = cmd.has("current"), print_xml = cmd.has("print-xml");
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::optional<std::string> type, mac;
    bool ok = sh.opt_string(cmd, "type", type) && sh.opt_string(cmd, "mac", mac);
    bool live_pass = false;  // virsh's --print-xml returns the live pass's result without the summary line
    if (ok) {
        try {
            const bool affect_config = config || persistent;
            if (affect_config)
                ok = detach_interface_from(sh, *dom, dom->xml_desc(xml_flags::inactive), affect::config, current, *type,
                                           mac, print_xml);
            if (ok) {
                const bool affect_live = live || (persistent && dom->is_active());
                if (affect_live || !affect_config) {
                    live_pass = true;
                    ok = detach_interface_from(sh, *dom, dom->xml_desc(0), affect_live ? affect::live : 0U, current,
                                               *type, mac, print_xml);
                }
            }
        } catch (const virtpp::error&) {
            ok = false;
        }
        if (print_xml && (ok || live_pass)) return ok;
    }
    if (!ok) {
        sh.error("Failed to detach interface");
        return false;
    }
    sh.print_extra("Interface detached successfully\n");
    return true;
}

constexpr handler_entry handlers[] = {
    {"attach-disk", cmd_attach_disk},
    {"attach-interface", cmd_attach_interface},
    {"detach-disk", cmd_detach_disk},
    {"detach-interface", cmd_detach_interface},
};

}  // namespace

std::span<const handler_entry> device_handlers() { return handlers; }

}  // namespace virtpp::cli
