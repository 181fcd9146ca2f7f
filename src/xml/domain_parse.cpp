// Reading domain XML into domain_def: libvirt 9.0's parser rules (and the defaults its parser
// fills), plus the 0.3-era spellings the seed uses.
#include "xml/domain_detail.hpp"
#include "xml/tree.hpp"

#include <virtpp/error.hpp>

#include <algorithm>
#include <cstdio>
#include <arpa/inet.h>
#include <cctype>
#include <climits>
#include <cstring>
#include <set>

namespace virtpp::xml {

using detail::element;

namespace {

constexpr error_domain from_domain = error_domain::domain;

[[noreturn]] void fail(error_code code, const element& where, std::string_view what) {
    std::string detail_text(what);
    if (where.line > 0) detail_text += " (line " + std::to_string(where.line) + ")";
    auto info = make_error_info(code, from_domain, detail_text);
    info.int1 = where.line;
    raise(info);
}

[[noreturn]] void xml_fail(const element& where, std::string_view what) {
    detail::raise_xml_error(where, what, from_domain);
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::optional<std::string> attr(const element& e, std::string_view key) {
    if (const auto* v = e.attr(key)) return *v;
    return std::nullopt;
}

// libvirt reads these through XPath string(): an empty value counts as absent.
std::optional<std::string> nonempty_attr(const element& e, std::string_view key) {
    auto v = attr(e, key);
    if (v && v->empty()) return std::nullopt;
    return v;
}

std::optional<std::string> child_text(const element& parent, std::string_view name) {
    const auto* c = parent.child(name);
    if (!c || c->text.empty()) return std::nullopt;
    return c->text;
}

// Numbers as libvirt's virStrToLong_* read them: leading blanks allowed, then digits in `base`
// (0: "0x" hex, leading-0 octal, else decimal) and nothing after.
std::optional<unsigned long long> to_unsigned(std::string_view s, int base = 10) {
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i < s.size() && s[i] == '+') ++i;
    if (base == 0 || base == 16) {
        if (i + 1 < s.size() && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
            base = 16;
            i += 2;
        } else if (base == 0) {
            base = (i + 1 < s.size() && s[i] == '0') ? 8 : 10;
        }
    }
    if (i >= s.size()) return std::nullopt;
    unsigned long long value = 0;
    for (; i < s.size(); ++i) {
        int digit;
        char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
        if (c >= '0' && c <= '9') digit = c - '0';
        else if (c >= 'a' && c <= 'z') digit = c - 'a' + 10;
        else return std::nullopt;
        if (digit >= base) return std::nullopt;
        if (value > (ULLONG_MAX - static_cast<unsigned>(digit)) / static_cast<unsigned>(base)) return std::nullopt;
        value = value * static_cast<unsigned>(base) + static_cast<unsigned>(digit);
    }
    return value;
}

std::optional<long long> to_signed(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    bool negative = i < s.size() && s[i] == '-';
    auto magnitude = to_unsigned(s.substr(negative ? i + 1 : i));
    if (!magnitude || (negative && i + 1 < s.size() && s[i + 1] == '+')) return std::nullopt;
    if (negative) {
        if (*magnitude > static_cast<unsigned long long>(LLONG_MAX) + 1) return std::nullopt;
        return static_cast<long long>(0 - *magnitude);
    }
    if (*magnitude > static_cast<unsigned long long>(LLONG_MAX)) return std::nullopt;
    return static_cast<long long>(*magnitude);
}

std::optional<unsigned> to_uint(std::string_view s, int base = 10) {
    auto v = to_unsigned(s, base);
    if (!v || *v > UINT_MAX) return std::nullopt;
    return static_cast<unsigned>(*v);
}

std::optional<int> to_int(std::string_view s) {
    auto v = to_signed(s);
    if (!v || *v > INT_MAX || *v < INT_MIN) return std::nullopt;
    return static_cast<int>(*v);
}

/// An unsigned attribute; a present but malformed value is an XML error naming it.
std::optional<unsigned> uint_attr(const element& e, std::string_view key, int base = 10) {
    auto text = attr(e, key);
    if (!text) return std::nullopt;
    auto v = to_uint(*text, base);
    if (!v)
        xml_fail(e, "Invalid value for attribute " + quoted(key) + " in element " + quoted(e.name) + ": " +
                        quoted(*text) + ". Expected non-negative integer value");
    return v;
}

std::optional<bool> yes_no_attr(const element& e, std::string_view key) {
    auto text = attr(e, key);
    if (!text) return std::nullopt;
    if (*text == "yes") return true;
    if (*text == "no") return false;
    xml_fail(e, "Invalid value for attribute " + quoted(key) + " in element " + quoted(e.name) + ": " +
                    quoted(*text) + ". Expected 'yes' or 'no'");
}

std::optional<bool> on_off_attr(const element& e, std::string_view key) {
    auto text = attr(e, key);
    if (!text) return std::nullopt;
    if (*text == "on") return true;
    if (*text == "off") return false;
    xml_fail(e, "Invalid value for attribute " + quoted(key) + " in element " + quoted(e.name) + ": " +
                    quoted(*text) + ". Expected 'on' or 'off'");
}

template <class Enum, std::size_t N>
Enum enum_attr(const element& e, std::string_view key, const detail::enum_names<Enum, N>& names,
               std::string_view what) {
    auto text = attr(e, key);
    if (!text) fail(error_code::internal_error, e, "missing " + std::string(what));
    auto v = names.parse(*text);
    if (!v) fail(error_code::config_unsupported, e, "unknown " + std::string(what) + " " + quoted(*text));
    return *v;
}

// --- memory: virScaleInteger + virDomainParseMemory ---------------------------------------------

std::uint64_t scale_factor(const element& e, const std::optional<std::string>& unit) {
    if (!unit || unit->empty()) return 1024;  // no unit: KiB
    std::string u;
    for (char c : *unit) u += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (u == "b" || u == "byte" || u == "bytes") return 1;
    std::uint64_t base;
    if (u.size() == 1 || u.substr(1) == "ib") base = 1024;
    else if (u.size() == 2 && u[1] == 'b') base = 1000;
    else fail(error_code::invalid_arg, e, "unknown suffix " + quoted(*unit));
    static constexpr std::string_view powers = "kmgtpe";
    auto pos = powers.find(u[0]);
    if (pos == std::string_view::npos) fail(error_code::invalid_arg, e, "unknown suffix " + quoted(*unit));
    std::uint64_t scale = 1;
    for (std::size_t i = 0; i <= pos; ++i) scale *= base;
    return scale;
}

/// <memory>, <currentMemory>, <maxMemory>: a count scaled by unit= and rounded up to KiB.
std::optional<std::uint64_t> parse_memory(const element& root, std::string_view name) {
    const auto* e = root.child(name);
    if (!e || e->text.empty()) return std::nullopt;
    auto count = to_unsigned(e->text);
    if (!count || e->text.find('-') != std::string::npos)
        xml_fail(*e, "Invalid value " + quoted(e->text) + " for element or attribute " +
                         quoted("./" + std::string(name) + "[1]"));
    const std::uint64_t limit = LLONG_MAX;
    std::uint64_t scale = scale_factor(*e, attr(*e, "unit"));
    if (*count && *count > limit / scale)
        fail(error_code::overflow, *e, "value too large: " + std::to_string(*count) + attr(*e, "unit").value_or(""));
    std::uint64_t bytes = *count * scale;
    std::uint64_t kib = bytes / 1024 + (bytes % 1024 ? 1 : 0);
    if (kib >= limit / 1024 + 1) fail(error_code::overflow, *e, "size value too large");
    return kib;
}

// --- cpuset: virBitmapParse / virBitmapFormat ---------------------------------------------------

std::string canonical_cpuset(const element& e, std::string_view text) {
    constexpr unsigned max_cpus = 16384;
    std::set<unsigned> cpus;
    auto bad = [&]() -> void { fail(error_code::invalid_arg, e, "Failed to parse bitmap " + quoted(text)); };
    std::size_t pos = 0;
    bool any_item = false;
    while (pos <= text.size()) {
        auto comma = text.find(',', pos);
        auto item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
        while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
        if (item.empty()) bad();
        any_item = true;
        bool exclude = item.front() == '^';
        if (exclude) item.remove_prefix(1);
        auto dash = item.find('-');
        std::optional<unsigned> first, last;
        if (dash == std::string_view::npos || exclude) {
            first = last = to_uint(item);
        } else {
            first = to_uint(item.substr(0, dash));
            last = to_uint(item.substr(dash + 1));
        }
        if (!first || !last || *first > *last || *last >= max_cpus || item.front() == '+') bad();
        for (unsigned c = *first; c <= *last; ++c) {
            if (exclude) cpus.erase(c);
            else cpus.insert(c);
        }
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    if (!any_item) bad();
    if (cpus.empty()) fail(error_code::config_unsupported, e, "Invalid value of 'cpuset': " + std::string(text));
    std::string out;
    for (auto it = cpus.begin(); it != cpus.end();) {
        unsigned start = *it, end = start;
        while (++it != cpus.end() && *it == end + 1) ++end;
        if (!out.empty()) out += ',';
        out += std::to_string(start);
        if (end != start) out += "-" + std::to_string(end);
    }
    return out;
}

// --- device pieces ------------------------------------------------------------------------------

std::optional<device_address> parse_address_element(const element& a) {
    auto type_text = attr(a, "type");
    if (!type_text) return std::nullopt;  // libvirt: an address without a type is no address
    auto type = detail::address_type_names.parse(*type_text);
    if (!type) fail(error_code::config_unsupported, a, "unknown address type " + quoted(*type_text));
    device_address addr;
    addr.type = *type;
    switch (addr.type) {
    case address_type::pci:
        addr.domain = uint_attr(a, "domain", 0);
        addr.bus = uint_attr(a, "bus", 0);
        addr.slot = uint_attr(a, "slot", 0);
        addr.function = uint_attr(a, "function", 0);
        addr.multifunction = on_off_attr(a, "multifunction");
        if (addr.domain.value_or(0) > 0xFFFF || addr.bus.value_or(0) > 0xFF || addr.slot.value_or(0) > 0x1F ||
            addr.function.value_or(0) > 7)
            xml_fail(a, "Invalid PCI address, a field is out of range");
        break;
    case address_type::drive:
        addr.controller = uint_attr(a, "controller");
        addr.bus = uint_attr(a, "bus");
        addr.target = uint_attr(a, "target");
        addr.unit = uint_attr(a, "unit");
        break;
    case address_type::virtio_serial:
        addr.controller = uint_attr(a, "controller");
        addr.bus = uint_attr(a, "bus");
        if (auto p = uint_attr(a, "port")) addr.port = std::to_string(*p);
        break;
    case address_type::ccid:
        addr.controller = uint_attr(a, "controller");
        addr.slot = uint_attr(a, "slot");
        break;
    case address_type::usb:
        addr.bus = uint_attr(a, "bus");
        if (auto p = nonempty_attr(a, "port")) {
            // "1" or "1.2.3": up to four dotted hub ports
            std::size_t parts = 0;
            for (std::size_t pos = 0; pos <= p->size(); ++parts) {
                auto dot = p->find('.', pos);
                if (!to_uint(p->substr(pos, dot == std::string::npos ? std::string::npos : dot - pos)))
                    xml_fail(a, "Cannot parse <address> 'port' attribute " + quoted(*p));
                if (dot == std::string::npos) break;
                pos = dot + 1;
            }
            if (parts >= 4) xml_fail(a, "Cannot parse <address> 'port' attribute " + quoted(*p));
            addr.port = *p;
        }
        break;
    }
    return addr;
}

std::optional<device_address> device_address_of(const element& dev) {
    if (const auto* a = dev.child("address")) return parse_address_element(*a);
    return std::nullopt;
}

disk_def parse_disk(const element& e, const domain_def& def) {
    (void)def;
    disk_def d;
    static constexpr std::array<std::string_view, 7> disk_types{"file", "block", "dir", "network", "volume",
                                                                "nvme", "vhostuser"};
    static constexpr std::array<std::string_view, 4> disk_devices{"disk", "cdrom", "floppy", "lun"};
    static constexpr std::array<std::string_view, 9> disk_buses{"ide", "fdc", "scsi", "virtio", "xen",
                                                                "usb", "uml", "sata", "sd"};
    auto one_of = [](const auto& table, std::string_view v) {
        return std::find(table.begin(), table.end(), v) != table.end();
    };
    if (auto t = attr(e, "type")) {
        if (!one_of(disk_types, *t))
            xml_fail(e, "Invalid value for attribute 'type' in element 'disk': " + quoted(*t));
        if (*t != "file" && *t != "block")
            fail(error_code::config_unsupported, e, "disk type " + quoted(*t) + " is not supported by virtpp's domain model");
        d.type = *t;
    }
    if (auto dev = attr(e, "device")) {
        if (!one_of(disk_devices, *dev))
            xml_fail(e, "Invalid value for attribute 'device' in element 'disk': " + quoted(*dev));
        d.device = *dev;
    }
    if (const auto* src = e.child("source")) d.source = nonempty_attr(*src, d.type == "block" ? "dev" : "file");
    // libvirt resets the type when there is no <source>; an empty one is the same here, so that
    // what we write (no <source> for no path) reads back the same
    if (!d.source) d.type = "file";
    if (const auto* drv = e.child("driver")) {
        d.driver_name = attr(*drv, "name");
        if (auto fmt = attr(*drv, "type")) d.driver_type = *fmt == "aio" ? "raw" : *fmt;  // Xen back-compat
        if (auto cache = attr(*drv, "cache")) {
            static constexpr std::array<std::string_view, 6> caches{"default", "none", "writethrough",
                                                                    "writeback", "directsync", "unsafe"};
            if (!one_of(caches, *cache))
                xml_fail(*drv, "Invalid value for attribute 'cache' in element 'driver': " + quoted(*cache));
            if (*cache != "default") d.driver_cache = *cache;
        }
    }
    const auto* target = e.child("target");
    if (target) {
        if (auto dev = attr(*target, "dev")) d.target_dev = *dev;
        if (auto bus = attr(*target, "bus")) {
            if (!one_of(disk_buses, *bus))
                xml_fail(*target, "Invalid value for attribute 'bus' in element 'target': " + quoted(*bus));
            d.target_bus = *bus;
        }
    }
    if (d.target_dev.empty()) xml_fail(target ? *target : e, "missing target information for device");
    // The Xen driver once wrote "ioemu:hda"; libvirt strips the prefix.
    if (d.target_dev.rfind("ioemu:", 0) == 0) d.target_dev.erase(0, 6);
    if (!d.target_bus) {
        std::string_view dst = d.target_dev;
        std::string bus = "ide";
        if (d.device == "floppy") bus = "fdc";
        else if (dst.rfind("sd", 0) == 0) bus = "scsi";
        else if (dst.rfind("vd", 0) == 0) bus = "virtio";
        else if (dst.rfind("xvd", 0) == 0) bus = "xen";
        else if (dst.rfind("ubd", 0) == 0) bus = "uml";
        d.target_bus = bus;
    }
    d.readonly = e.child("readonly") != nullptr || d.device == "cdrom";
    d.shareable = e.child("shareable") != nullptr;
    if (const auto* bs = e.child("backingStore"); bs && !bs->attr("type")) d.backing_store_terminated = true;
    d.address = device_address_of(e);
    return d;
}

controller_def parse_controller(const element& e) {
    controller_def c;
    c.type = enum_attr(e, "type", detail::controller_type_names, "controller type");
    if (auto idx = attr(e, "index")) {
        auto v = to_int(*idx);
        if (!v || *v < 0) fail(error_code::internal_error, e, "Cannot parse controller index " + *idx);
        c.index = static_cast<unsigned>(*v);
    } else {
        c.index = UINT_MAX;  // assigned after all controllers are read
    }
    c.model = nonempty_attr(e, "model");
    c.address = device_address_of(e);
    return c;
}

std::string parse_mac(const element& e, std::string_view text) {
    unsigned octets[6];
    std::size_t pos = 0;
    for (int i = 0; i < 6; ++i) {
        auto end = text.find(':', pos);
        if ((i < 5) != (end != std::string_view::npos))
            xml_fail(e, "unable to parse mac address " + quoted(text));
        auto part = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        auto v = part.empty() || part.size() > 2 ? std::nullopt : to_uint(part, 16);
        if (!v || !std::isxdigit(static_cast<unsigned char>(part[0])) || part.find('x') != std::string_view::npos ||
            part.find('X') != std::string_view::npos)
            xml_fail(e, "unable to parse mac address " + quoted(text));
        octets[i] = *v;
        pos = end + 1;
    }
    // libvirt 9.0 refuses multicast addresses here; the seed's own examples use one
    // (11:22:33:44:55:66), so virtpp reads them (docs/xml-domain.md).
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", octets[0], octets[1], octets[2], octets[3],
                  octets[4], octets[5]);
    return buf;
}

interface_def parse_interface(const element& e) {
    interface_def n;
    auto type_text = attr(e, "type");
    if (!type_text) type_text = "user";  // libvirt's default
    auto type = detail::interface_type_names.parse(*type_text);
    if (!type) {
        static constexpr std::array<std::string_view, 9> known_elsewhere{
            "udp", "direct", "hostdev", "vhostuser", "internal", "vdpa", "vds", "null", "ethernet"};
        if (std::find(known_elsewhere.begin(), known_elsewhere.end(), *type_text) != known_elsewhere.end())
            fail(error_code::config_unsupported, e,
                 "interface type " + quoted(*type_text) + " is not supported by virtpp's domain model");
        xml_fail(e, "Invalid value for attribute 'type' in element 'interface': " + quoted(*type_text));
    }
    n.type = *type;
    if (const auto* mac = e.child("mac")) {
        if (auto a = attr(*mac, "address")) n.mac = parse_mac(*mac, *a);
    }
    const auto* src = e.child("source");
    switch (n.type) {
    case interface_type::network:
        if (src) n.source_network = nonempty_attr(*src, "network");
        if (!n.source_network)
            fail(error_code::internal_error, src ? *src : e,
                 "No <source> 'network' attribute specified with <interface type='network'/>");
        break;
    case interface_type::bridge:
        if (src) n.source_bridge = nonempty_attr(*src, "bridge");
        break;
    case interface_type::mcast:
    case interface_type::server:
    case interface_type::client:
        if (src) {
            n.source_address = nonempty_attr(*src, "address");
            if (auto port = attr(*src, "port")) {
                auto v = to_int(*port);
                if (!v) fail(error_code::internal_error, *src, "Cannot parse <source> 'port' attribute with socket interface");
                n.source_port = *v;
            }
        }
        if (!n.source_port)
            fail(error_code::internal_error, src ? *src : e, "No <source> 'port' attribute specified with socket interface");
        if (n.type != interface_type::server && !n.source_address)
            fail(error_code::internal_error, src ? *src : e,
                 "No <source> 'address' attribute specified with socket interface");
        break;
    case interface_type::user:
    case interface_type::ethernet:
        break;
    }
    for (const auto* ip : e.children_named("ip")) {
        auto a = nonempty_attr(*ip, "address");
        if (!a) xml_fail(*ip, "Missing required address in <ip>");
        unsigned char buf[16];
        if (inet_pton(AF_INET, a->c_str(), buf) != 1 && inet_pton(AF_INET6, a->c_str(), buf) != 1)
            xml_fail(*ip, "Invalid address " + quoted(*a) + " in <ip>");
        n.ip_addresses.push_back(*a);
    }
    if (const auto* s = e.child("script")) n.script = nonempty_attr(*s, "path");
    if (const auto* t = e.child("target")) n.target_dev = nonempty_attr(*t, "dev");
    if (const auto* m = e.child("model")) {
        if (auto model = nonempty_attr(*m, "type")) {
            // libvirt: a model name is letters, digits, '_' and '-' only
            bool ok = std::all_of(model->begin(), model->end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
            });
            if (!ok) fail(error_code::invalid_arg, *m, "Model name contains invalid characters");
            n.model = *model;
        }
    }
    if (const auto* bw = e.child("bandwidth")) {
        auto average_of = [](const element* dir) -> std::optional<std::uint64_t> {
            if (!dir) return std::nullopt;
            auto text = attr(*dir, "average");
            if (!text) return std::nullopt;
            auto v = to_unsigned(*text);
            if (!v) fail(error_code::invalid_arg, *dir, "could not convert bandwidth average value " + quoted(*text));
            return *v;
        };
        n.bandwidth_inbound_average = average_of(bw->child("inbound"));
        n.bandwidth_outbound_average = average_of(bw->child("outbound"));
    }
    n.address = device_address_of(e);
    return n;
}

chardev_def parse_chardev(const element& e, std::string_view kind) {
    chardev_def c;
    if (auto t = attr(e, "type")) {
        auto type = detail::chardev_type_names.parse(*t);
        if (!type) {
            static constexpr std::array<std::string_view, 5> known_elsewhere{"spicevmc", "spiceport", "nmdm",
                                                                             "qemu-vdagent", "dbus"};
            if (std::find(known_elsewhere.begin(), known_elsewhere.end(), *t) != known_elsewhere.end())
                fail(error_code::config_unsupported, e,
                     "character device type " + quoted(*t) + " is not supported by virtpp's domain model");
            xml_fail(e, "unknown type presented to host for character device: " + *t);
        }
        c.type = *type;
    }
    auto sources = e.children_named("source");
    switch (c.type) {
    case chardev_type::pty:
    case chardev_type::dev:
    case chardev_type::file:
    case chardev_type::pipe:
        for (const auto* s : sources)
            if (!c.path) c.path = nonempty_attr(*s, "path");
        // The 0.3 format's <console tty='/dev/pts/5'/> names the pty.
        if (!c.path && c.type == chardev_type::pty && kind == "console") c.path = nonempty_attr(e, "tty");
        if (!c.path && c.type != chardev_type::pty)
            xml_fail(e, "Missing source path attribute for char device");
        break;
    case chardev_type::unix_socket:
        for (const auto* s : sources) {
            if (!c.path) c.path = nonempty_attr(*s, "path");
            if (auto m = attr(*s, "mode")) c.listen = *m == "bind";
        }
        break;
    case chardev_type::tcp:
        for (const auto* s : sources) {
            if (auto m = attr(*s, "mode")) {
                if (*m != "bind" && *m != "connect")
                    xml_fail(*s, "Unknown source mode " + quoted(*m));
                c.listen = *m == "bind";
            }
            if (!c.host) c.host = nonempty_attr(*s, "host");
            if (!c.service) c.service = nonempty_attr(*s, "service");
        }
        if (!c.service) xml_fail(e, "Missing source service attribute for char device");
        if (const auto* p = e.child("protocol")) {
            if (auto t = attr(*p, "type")) {
                static constexpr std::array<std::string_view, 4> protocols{"raw", "telnet", "telnets", "tls"};
                if (std::find(protocols.begin(), protocols.end(), *t) == protocols.end())
                    xml_fail(*p, "Unknown protocol " + quoted(*t));
                c.protocol = *t;
            }
        }
        break;
    case chardev_type::udp:
        for (const auto* s : sources) {
            auto m = attr(*s, "mode").value_or("connect");
            auto& host = m == "bind" ? c.bind_host : c.host;
            auto& service = m == "bind" ? c.bind_service : c.service;
            if (!host) host = nonempty_attr(*s, "host");
            if (!service) service = nonempty_attr(*s, "service");
        }
        if (!c.service) xml_fail(e, "Missing source service attribute for char device");
        break;
    case chardev_type::null:
    case chardev_type::vc:
    case chardev_type::stdio:
        break;
    }
    c.target_port = -1;  // assigned after all devices of this kind are read
    if (const auto* t = e.child("target")) {
        if (kind != "parallel") c.target_type = nonempty_attr(*t, "type");
        if (c.target_type) {
            static constexpr std::array<std::string_view, 9> console_targets{
                "none", "serial", "xen", "uml", "virtio", "lxc", "openvz", "sclp", "sclplm"};
            static constexpr std::array<std::string_view, 9> serial_targets{
                "none", "isa-serial", "usb-serial", "pci-serial", "spapr-vio-serial", "system-serial",
                "sclp-serial", "isa-debug", "isa"};
            const auto& allowed = kind == "console" ? console_targets : serial_targets;
            if (std::find(allowed.begin(), allowed.end(), *c.target_type) == allowed.end())
                xml_fail(*t, "unknown target type " + quoted(*c.target_type) + " specified for character device");
            if (*c.target_type == "none") c.target_type.reset();
        }
        if (kind == "serial")
            if (const auto* m = t->child("model")) c.target_model = nonempty_attr(*m, "name");
        if (auto port = attr(*t, "port")) {
            auto v = to_int(*port);
            if (!v || *v < 0) xml_fail(*t, "Invalid port number: " + *port);
            c.target_port = *v;
        }
    }
    c.address = device_address_of(e);
    return c;
}

/// A value that must be one of `allowed`, else libvirt's "Invalid value for attribute" error.
template <std::size_t N>
std::optional<std::string> enum_attr(const element& e, std::string_view key, const std::array<std::string_view, N>& allowed) {
    auto v = attr(e, key);
    if (v && std::find(allowed.begin(), allowed.end(), *v) == allowed.end())
        xml_fail(e, "Invalid value for attribute " + quoted(key) + " in element " + quoted(e.name) + ": " + quoted(*v));
    return v;
}

audio_def parse_audio(const element& e) {
    static constexpr std::array<std::string_view, 11> types{"none", "alsa", "coreaudio", "jack", "oss", "pulseaudio",
                                                            "sdl", "spice", "file", "dbus", "pipewire"};
    audio_def a;
    auto type = enum_attr(e, "type", types);
    if (!type) xml_fail(e, "Missing required attribute 'type' in element 'audio'");
    a.type = *type;
    auto id = uint_attr(e, "id");
    if (!id || *id == 0) xml_fail(e, "Missing required attribute 'id' in element 'audio'");
    a.id = *id;
    return a;
}

/// The video model a Xen guest gets when <model type> is absent, as libvirt 9.0's libxl driver
/// (libxlDomainDeviceDefPostParse): the PV framebuffer for PV guests, VGA on ppc64, cirrus else.
std::string xen_default_video_model(const domain_def& def) {
    if (def.os.type == "xen" || def.os.type == "linux") return "xen";
    if (def.os.arch && def.os.arch->starts_with("ppc64")) return "vga";
    return "cirrus";
}

video_def parse_video(const element& e, const domain_def& def) {
    static constexpr std::array<std::string_view, 11> models{"vga", "cirrus", "vmvga", "xen", "vbox", "qxl",
                                                             "virtio", "gop", "bochs", "ramfb", "none"};
    video_def v;
    if (def.type == domain_virt_type::xen) v.model = xen_default_video_model(def);
    if (const auto* m = e.child("model")) {
        if (auto type = enum_attr(*m, "type", models)) v.model = *type;
        v.ram = uint_attr(*m, "ram");
        v.vram = uint_attr(*m, "vram");
        v.heads = uint_attr(*m, "heads");
        v.primary = yes_no_attr(*m, "primary").value_or(false);
    }
    v.address = device_address_of(e);
    return v;
}

/// libvirt's rule for both completions below: a 'none' video card is the only one.
void require_none_alone(const std::vector<video_def>& videos) {
    if (videos.size() > 1 && std::any_of(videos.begin(), videos.end(), [](const video_def& v) { return v.model == "none"; }))
        raise(error_code::config_unsupported, from_domain,
              "a 'none' video type must be the only video device defined for the domain");
}

/// libvirt's generic completion of video devices: the first is primary, one head each, the
/// video RAM each model has by default (cirrus always 16 MiB), and 'none' stands alone.
void complete_videos(std::vector<video_def>& videos) {
    require_none_alone(videos);
    for (std::size_t i = 0; i < videos.size(); ++i) {
        auto& v = videos[i];
        if (v.model == "none") {
            v.primary = false;
            continue;
        }
        if (i == 0) v.primary = true;
        if (!v.heads) v.heads = 1;
        if (v.model == "cirrus") v.vram = 16384;
        else if ((v.model == "vga" || v.model == "vmvga" || v.model == "xen") && !v.vram) v.vram = 16384;
        else if (v.model == "qxl") {
            if (!v.ram) v.ram = 65536;
            if (!v.vram) v.vram = 65536;
        }
    }
}

/// The smallest power of two not below n (libvirt's VIR_ROUND_UP_POWER_OF_TWO; 0 stays 0).
unsigned round_up_power_of_two(unsigned n) {
    if (n == 0) return 0;
    unsigned p = 1;
    while (p < n && p < (1u << 31)) p <<= 1;
    return p;
}

/// Video completion on a Xen guest, as libvirt 9.0's generic post-parse does it (what its test
/// driver shows for <domain type='xen'>): one head each, the first primary, the default video RAM
/// (Xen PV framebuffer 4 MiB, VGA/cirrus/VMVGA/Bochs 16 MiB, QXL 64 MiB) rounded up to a power of
/// two. The libxl driver's own HVM sizes are the Xen converters' business (src/xen).
void complete_xen_videos(std::vector<video_def>& videos) {
    require_none_alone(videos);
    for (std::size_t i = 0; i < videos.size(); ++i) {
        auto& v = videos[i];
        if (v.model == "none") {
            v = video_def{};
            v.model = "none";
            continue;
        }
        if (i == 0) v.primary = true;
        if (!v.heads) v.heads = 1;
        if (v.model == "qxl" && !v.ram.value_or(0)) v.ram = 65536;
        if (!v.vram.value_or(0)) {
            if (v.model == "vga" || v.model == "cirrus" || v.model == "vmvga" || v.model == "bochs") v.vram = 16384;
            else if (v.model == "xen") v.vram = 4096;
            else if (v.model == "qxl") v.vram = 65536;
        }
        if (v.ram) v.ram = round_up_power_of_two(*v.ram);
        if (v.vram) v.vram = round_up_power_of_two(*v.vram);
        if (v.ram == std::optional<unsigned>(0)) v.ram.reset();
        if (v.vram == std::optional<unsigned>(0)) v.vram.reset();
    }
}

void parse_cpu(const element& root, domain_def& def) {
    const auto* c = root.child("cpu");
    if (!c) return;
    static constexpr std::array<std::string_view, 4> modes{"custom", "host-model", "host-passthrough", "maximum"};
    static constexpr std::array<std::string_view, 3> matches{"minimum", "exact", "strict"};
    static constexpr std::array<std::string_view, 3> checks{"none", "partial", "full"};
    static constexpr std::array<std::string_view, 2> on_off{"on", "off"};
    static constexpr std::array<std::string_view, 2> fallbacks{"allow", "forbid"};
    static constexpr std::array<std::string_view, 5> policies{"force", "require", "optional", "disable", "forbid"};
    cpu_def cpu;
    cpu.mode = enum_attr(*c, "mode", modes);
    cpu.match = enum_attr(*c, "match", matches);
    cpu.check = enum_attr(*c, "check", checks);
    cpu.migratable = enum_attr(*c, "migratable", on_off);
    if (const auto* m = c->child("model")) {
        auto name = m->trimmed_text();
        if (!name.empty()) cpu.model = name;
        cpu.fallback = enum_attr(*m, "fallback", fallbacks);
    }
    // a model without mode is a custom CPU; custom ones match exactly and fall back by default
    if (!cpu.mode && (cpu.model || cpu.match)) cpu.mode = "custom";
    if (cpu.mode == "custom" && cpu.model) {
        if (!cpu.match) cpu.match = "exact";
        if (!cpu.fallback) cpu.fallback = "allow";
    }
    if (const auto* v = c->child("vendor")) {
        auto name = v->trimmed_text();
        if (!name.empty()) cpu.vendor = name;
    }
    if (const auto* t = c->child("topology")) {
        cpu_def::topology_def topo;
        auto read = [&](std::string_view key, unsigned& into, bool required) {
            auto v = uint_attr(*t, key);
            if (!v && required) xml_fail(*t, "Missing attribute '" + std::string(key) + "' for CPU topology");
            if (v) {
                if (*v == 0) xml_fail(*t, "Invalid CPU topology: " + std::string(key) + " must be positive");
                into = *v;
            }
        };
        read("sockets", topo.sockets, true);
        read("dies", topo.dies, false);
        read("cores", topo.cores, true);
        read("threads", topo.threads, true);
        cpu.topology = topo;
    }
    for (const auto* f : c->children_named("feature")) {
        auto name = nonempty_attr(*f, "name");
        if (!name) xml_fail(*f, "Missing 'name' attribute for CPU feature");
        auto policy = enum_attr(*f, "policy", policies);
        cpu.features.push_back({policy.value_or("require"), *name});
    }
    def.cpu = std::move(cpu);
}

input_def parse_input(const element& e, const domain_def& def) {
    input_def in;
    auto type_text = attr(e, "type");
    if (!type_text) fail(error_code::internal_error, e, "missing input device type");
    auto type = detail::input_type_names.parse(*type_text);
    if (!type) fail(error_code::config_unsupported, e, "unknown input device type " + quoted(*type_text));
    in.type = *type;
    if (auto bus = attr(e, "bus")) {
        auto b = detail::input_bus_names.parse(*bus);
        if (!b) fail(error_code::config_unsupported, e, "unknown input bus type " + quoted(*bus));
        in.bus = *b;
    } else if (detail::is_hvm(def)) {
        bool x86 = !def.os.arch || *def.os.arch == "i686" || *def.os.arch == "x86_64";
        in.bus = (in.type != input_type::tablet && x86) ? input_bus::ps2 : input_bus::usb;
    } else if (def.os.type == "xenpvh" || (def.os.type == "xen") ||
               (def.os.type == "linux" && def.type == domain_virt_type::xen)) {
        in.bus = input_bus::xen;
    }
    in.address = device_address_of(e);
    if (in.bus == input_bus::ps2 && in.type == input_type::tablet)
        xml_fail(e, "ps2 bus does not support tablet input");
    if (in.bus == input_bus::xen && in.type == input_type::tablet)
        xml_fail(e, "xen bus does not support tablet input");
    return in;
}

graphics_def parse_graphics(const element& e) {
    graphics_def g;
    auto type_text = attr(e, "type");
    if (!type_text) fail(error_code::internal_error, e, "missing graphics device type");
    auto type = detail::graphics_type_names.parse(*type_text);
    if (!type) {
        static constexpr std::array<std::string_view, 5> known_elsewhere{"rdp", "desktop", "spice",
                                                                         "egl-headless", "dbus"};
        if (std::find(known_elsewhere.begin(), known_elsewhere.end(), *type_text) != known_elsewhere.end())
            fail(error_code::config_unsupported, e,
                 "graphics type " + quoted(*type_text) + " is not supported by virtpp's domain model");
        fail(error_code::config_unsupported, e, "unknown graphics device type " + quoted(*type_text));
    }
    g.type = *type;
    if (g.type == graphics_type::sdl) {
        g.display = attr(e, "display");
        g.xauth = attr(e, "xauth");
        if (auto fs = yes_no_attr(e, "fullscreen"); fs && *fs) g.fullscreen = true;
        return g;
    }
    for (const auto* l : e.children_named("listen")) {
        graphics_listen_def listen;
        auto t = attr(*l, "type");
        if (!t) xml_fail(*l, "graphics listen type must be specified");
        static constexpr std::array<std::string_view, 4> listen_types{"address", "network", "socket", "none"};
        if (std::find(listen_types.begin(), listen_types.end(), *t) == listen_types.end())
            fail(error_code::config_unsupported, *l, "unknown graphics listen type " + quoted(*t));
        listen.type = *t;
        auto address = nonempty_attr(*l, "address");
        if (g.listens.empty() && listen.type == "address") {
            auto compat = nonempty_attr(e, "listen");
            if (address && compat && *address != *compat)
                fail(error_code::config_unsupported, *l,
                     "graphics 'listen' attribute " + quoted(*compat) +
                         " must match 'address' attribute of first listen element (found " + quoted(*address) + ")");
            if (!address) address = compat;
        }
        if (listen.type == "address" || listen.type == "network") listen.address = address;
        if (auto network = nonempty_attr(*l, "network")) {
            if (listen.type != "network") xml_fail(*l, "'network' attribute is valid only for listen type 'network'");
            listen.network = network;
        }
        if (auto socket = nonempty_attr(*l, "socket")) {
            if (listen.type != "socket") xml_fail(*l, "'socket' attribute is valid only for listen type 'socket'");
            listen.socket = socket;
        }
        g.listens.push_back(std::move(listen));
    }
    if (g.listens.empty()) {
        graphics_listen_def listen;
        if (auto socket = nonempty_attr(e, "socket")) {
            listen.type = "socket";
            listen.socket = socket;
        } else {
            listen.address = nonempty_attr(e, "listen");
        }
        g.listens.push_back(std::move(listen));
    }
    if (auto port = attr(e, "port")) {
        auto v = to_int(*port);
        if (!v) fail(error_code::internal_error, e, "cannot parse vnc port " + *port);
        g.port = *v;
        if (g.port == -1) g.autoport = true;  // legacy spelling of "pick a port"
    } else {
        g.autoport = true;
    }
    if (auto a = attr(e, "autoport")) {
        if (*a == "yes") g.autoport = true;
        else if (*a == "no") g.autoport = false;
    }
    g.keymap = attr(e, "keymap");
    g.passwd = attr(e, "passwd");
    return g;
}

sound_def parse_sound(const element& e) {
    static constexpr std::array<std::string_view, 9> models{"sb16", "es1370", "pcspk", "ac97", "ich6",
                                                            "ich9", "usb", "ich7", "virtio"};
    sound_def s;
    auto model = attr(e, "model");
    if (!model) xml_fail(e, "Missing required attribute 'model' in element 'sound'");
    if (std::find(models.begin(), models.end(), *model) == models.end())
        xml_fail(e, "Invalid value for attribute 'model' in element 'sound': " + quoted(*model));
    s.model = *model;
    s.address = device_address_of(e);
    return s;
}

hostdev_def parse_hostdev(const element& e) {
    hostdev_def h;
    auto mode = attr(e, "mode").value_or("subsystem");
    if (mode != "subsystem")
        fail(error_code::config_unsupported, e, "hostdev mode " + quoted(mode) + " is not supported by virtpp's domain model");
    auto type = attr(e, "type");
    if (!type) xml_fail(e, "missing type in hostdev");
    if (*type != "pci")
        fail(error_code::config_unsupported, e, "hostdev type " + quoted(*type) + " is not supported by virtpp's domain model");
    if (auto managed = attr(e, "managed")) h.managed = *managed == "yes";
    const auto* src = e.child("source");
    const auto* a = src ? src->child("address") : nullptr;
    if (!a) xml_fail(src ? *src : e, "PCI host devices must use 'pci' address type");
    h.source.type = address_type::pci;
    h.source.domain = uint_attr(*a, "domain", 0);
    h.source.bus = uint_attr(*a, "bus", 0);
    h.source.slot = uint_attr(*a, "slot", 0);
    h.source.function = uint_attr(*a, "function", 0);
    if (h.source.domain.value_or(0) > 0xFFFF || h.source.bus.value_or(0) > 0xFF ||
        h.source.slot.value_or(0) > 0x1F || h.source.function.value_or(0) > 7)
        xml_fail(*a, "Invalid PCI address, a field is out of range");
    h.address = device_address_of(e);
    return h;
}

memballoon_def parse_memballoon(const element& e) {
    static constexpr std::array<std::string_view, 5> models{"virtio", "xen", "none", "virtio-transitional",
                                                            "virtio-non-transitional"};
    memballoon_def m;
    auto model = attr(e, "model");
    if (!model) xml_fail(e, "Missing required attribute 'model' in element 'memballoon'");
    if (std::find(models.begin(), models.end(), *model) == models.end())
        xml_fail(e, "Invalid value for attribute 'model' in element 'memballoon': " + quoted(*model));
    m.model = *model;
    m.autodeflate = on_off_attr(e, "autodeflate");
    m.free_page_reporting = on_off_attr(e, "freePageReporting");
    if (const auto* stats = e.child("stats")) {
        if (auto text = attr(*stats, "period")) {
            auto v = to_int(*text);
            if (!v)
                xml_fail(*stats, "Invalid value for attribute 'period' in element 'stats': " + quoted(*text) +
                                     ". Expected integer value");
            m.period = std::max(*v, 0);  // libvirt takes a negative period as none
        }
    }
    m.address = device_address_of(e);
    return m;
}

bool same_source(const chardev_def& a, const chardev_def& b) {
    return a.type == b.type && a.path == b.path && a.listen == b.listen && a.host == b.host &&
           a.service == b.service && a.bind_host == b.bind_host && a.bind_service == b.bind_service &&
           a.protocol == b.protocol;
}

// libvirt's console back-compat: an HVM guest's first console, if it targets a serial port, is
// an alias of serial 0 (created from it when there is none).
void apply_console_compat(domain_def& def) {
    auto& consoles = def.devices.consoles;
    auto& serials = def.devices.serials;
    for (std::size_t i = 1; i < consoles.size(); ++i)
        if (consoles[i].target_type == "serial")
            raise(error_code::config_unsupported, from_domain, "Only the first console can be a serial port");
    if (!detail::is_hvm(def)) return;
    chardev_def alias;
    alias.target_type = "serial";
    if (!consoles.empty() && (!consoles[0].target_type || *consoles[0].target_type == "serial")) {
        if (serials.empty()) {
            chardev_def serial = consoles[0];
            serial.target_type.reset();
            serial.target_port = 0;
            serials.push_back(std::move(serial));
            consoles[0] = alias;
        } else if (!same_source(serials[0], consoles[0])) {
            consoles[0] = alias;
        }
    } else if (!serials.empty()) {
        const auto& t = serials[0].target_type;
        if (!t || *t == "isa-serial" || *t == "spapr-vio-serial" || *t == "system-serial" || *t == "sclp-serial" ||
            *t == "isa")
            consoles.insert(consoles.begin(), alias);
    }
}

void assign_ports(std::vector<chardev_def>& devices) {
    int next = 0;
    for (const auto& d : devices) next = std::max(next, d.target_port + 1);
    for (auto& d : devices)
        if (d.target_port < 0) d.target_port = next++;
}

void parse_os(const element& root, domain_def& def) {
    const auto* os = root.child("os");
    const element& where = os ? *os : root;
    const auto* type = os ? os->child("type") : nullptr;
    if (!type || type->text.empty()) {
        if (!def.bootloader) xml_fail(where, "an os <type> must be specified");
        def.os.type = "xen";
    } else {
        static constexpr std::array<std::string_view, 6> os_types{"hvm", "xen", "linux", "exe", "uml", "xenpvh"};
        if (std::find(os_types.begin(), os_types.end(), type->text) == os_types.end())
            fail(error_code::config_unsupported, *type, "unknown OS type " + quoted(type->text));
        def.os.type = type->text;
        if (auto arch = nonempty_attr(*type, "arch")) {
            static constexpr std::array<std::string_view, 38> arches{
                "alpha", "armv6l", "armv7l", "armv7b", "aarch64", "cris", "i686", "ia64", "lm32", "m68k",
                "microblaze", "microblazeel", "mips", "mipsel", "mips64", "mips64el", "openrisc", "parisc",
                "parisc64", "ppc", "ppcle", "ppc64", "ppc64le", "ppcemb", "riscv32", "riscv64", "s390", "s390x",
                "sh4", "sh4eb", "sparc", "sparc64", "unicore32", "x86_64", "xtensa", "xtensaeb", "i386", "i486"};
            // libvirt maps i386..i686 spellings onto i686
            std::string a = (*arch == "i386" || *arch == "i486" || *arch == "i586") ? "i686" : *arch;
            if (std::find(arches.begin(), arches.end(), a) == arches.end())
                fail(error_code::config_unsupported, *type, "Unknown architecture " + *arch);
            def.os.arch = a;
        }
        def.os.machine = nonempty_attr(*type, "machine");
    }
    // Xen paravirt guests are "linux" in the XML and "xen" in capabilities; libvirt writes "linux".
    if (def.type == domain_virt_type::xen && def.os.type == "xen") def.os.type = "linux";
    if (!os) return;
    if (const auto* loader = os->child("loader")) {
        if (!loader->text.empty()) def.os.loader = loader->text;
        if (auto t = attr(*loader, "type")) {
            if (*t != "rom" && *t != "pflash")
                xml_fail(*loader, "Invalid value for attribute 'type' in element 'loader': " + quoted(*t));
            def.os.loader_type = *t;
        }
        if (def.os.loader && !def.os.loader_type) def.os.loader_type = "rom";  // libvirt's default
    }
    def.os.kernel = child_text(*os, "kernel");
    def.os.initrd = child_text(*os, "initrd");
    def.os.cmdline = child_text(*os, "cmdline");
    def.os.root = child_text(*os, "root");
    for (const auto* b : os->children_named("boot")) {
        if (def.os.boot.size() >= 4) break;  // libvirt keeps at most one of each
        auto dev = attr(*b, "dev");
        if (!dev) xml_fail(*b, "Missing required attribute 'dev' in element 'boot'");
        auto v = detail::boot_names.parse(*dev);
        if (!v) xml_fail(*b, "Invalid value for attribute 'dev' in element 'boot': " + quoted(*dev));
        def.os.boot.push_back(*v);
    }
    if (const auto* menu = os->child("bootmenu")) {
        if (auto en = attr(*menu, "enable")) {
            if (*en != "yes" && *en != "no")
                xml_fail(*menu, "Invalid value for attribute 'enable' in element 'bootmenu': " + quoted(*en));
            def.os.bootmenu = *en == "yes";
        }
        if (auto t = attr(*menu, "timeout")) {
            auto v = to_int(*t);
            if (!v || *v < 0 || *v > 65535) xml_fail(*menu, "invalid value for boot menu timeout, must be in range [0,65535]");
            def.os.bootmenu_timeout = *v;
        }
    }
    if (const auto* bios = os->child("bios")) {
        if (auto u = attr(*bios, "useserial")) {
            if (*u != "yes" && *u != "no")
                xml_fail(*bios, "Invalid value for attribute 'useserial' in element 'bios': " + quoted(*u));
            def.os.bios_useserial = *u == "yes";
        }
        if (auto t = attr(*bios, "rebootTimeout")) {
            auto v = to_int(*t);
            if (!v || *v < -1 || *v > 65535) xml_fail(*bios, "invalid value for rebootTimeout, must be in range [-1,65535]");
            def.os.bios_reboot_timeout = *v;
        }
    }
}

void parse_features(const element& root, domain_def& def) {
    const auto* f = root.child("features");
    if (!f) return;
    static constexpr std::array<std::string_view, 27> libvirt_features{
        "acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm", "pvspinlock", "capabilities",
        "pmu", "vmport", "gic", "smm", "ioapic", "hpt", "vmcoreinfo", "htm", "nested-hv", "msrs",
        "ccf-assist", "xen", "cfpc", "sbbc", "ibs", "tcg", "async-teardown"};
    for (const auto& c : f->children) {
        if (std::find(libvirt_features.begin(), libvirt_features.end(), c.name) == libvirt_features.end())
            fail(error_code::config_unsupported, c, "unexpected feature " + quoted(c.name));
        if (c.name == "acpi") def.features.acpi = true;
        else if (c.name == "apic") def.features.apic = true;
        else if (c.name == "pae") def.features.pae = true;
        else if (c.name == "viridian") def.features.viridian = true;
        else if (c.name == "privnet") def.features.privnet = true;
        else if (c.name == "hap") def.features.hap = on_off_attr(c, "state").value_or(true);
        // the rest are libvirt features virtpp's model does not carry: dropped (see docs)
    }
}

void parse_clock(const element& root, domain_def& def) {
    const auto* c = root.child("clock");
    if (!c) return;
    auto& clock = def.clock;
    auto offset = nonempty_attr(*c, "offset");
    if (!offset) offset = nonempty_attr(*c, "sync");  // the 0.3 spelling: <clock sync='localtime'/>
    if (offset) {
        auto v = detail::clock_offset_names.parse(*offset);
        if (!v) fail(error_code::config_unsupported, *c, "unknown clock offset " + quoted(*offset));
        clock.offset = *v;
    }
    switch (clock.offset) {
    case clock_offset::utc:
    case clock_offset::localtime:
        if (auto adj = nonempty_attr(*c, "adjustment")) {
            if (*adj == "reset") {
                clock.adjustment_reset = true;
            } else {
                auto v = to_signed(*adj);
                if (!v) xml_fail(*c, "unknown clock adjustment " + quoted(*adj));
                clock.basis = clock.offset == clock_offset::localtime ? clock_basis::localtime : clock_basis::utc;
                clock.offset = clock_offset::variable;
                clock.adjustment = *v;
            }
        }
        break;
    case clock_offset::variable:
        if (auto adj = nonempty_attr(*c, "adjustment")) clock.adjustment = to_signed(*adj).value_or(0);
        if (auto basis = nonempty_attr(*c, "basis")) {
            auto v = detail::clock_basis_names.parse(*basis);
            if (!v) fail(error_code::config_unsupported, *c, "unknown clock basis " + quoted(*basis));
            clock.basis = *v;
        }
        break;
    case clock_offset::timezone:
        clock.timezone = nonempty_attr(*c, "timezone");
        if (!clock.timezone)
            fail(error_code::internal_error, *c, "missing 'timezone' attribute for clock with offset='timezone'");
        break;
    case clock_offset::absolute: {
        auto start = nonempty_attr(*c, "start");
        auto v = start ? to_unsigned(*start) : std::nullopt;
        if (!v) fail(error_code::internal_error, *c, "missing 'start' attribute for clock with offset='absolute'");
        clock.start = *v;
        break;
    }
    }
    static constexpr std::array<std::string_view, 7> timer_names{"platform", "pit", "rtc", "hpet", "tsc",
                                                                 "kvmclock", "hypervclock"};
    for (const auto* t : c->children_named("timer")) {
        clock_timer_def timer;
        auto name = attr(*t, "name");
        if (!name) xml_fail(*t, "Missing required attribute 'name' in element 'timer'");
        if (std::find(timer_names.begin(), timer_names.end(), *name) == timer_names.end() && *name != "armvtimer")
            xml_fail(*t, "Invalid value for attribute 'name' in element 'timer': " + quoted(*name));
        timer.name = *name;
        timer.present = yes_no_attr(*t, "present");
        if (auto tp = attr(*t, "tickpolicy")) {
            if (*tp != "delay" && *tp != "catchup" && *tp != "merge" && *tp != "discard")
                xml_fail(*t, "Invalid value for attribute 'tickpolicy' in element 'timer': " + quoted(*tp));
            timer.tickpolicy = *tp;
        }
        if (auto tr = attr(*t, "track")) {
            if (*tr != "boot" && *tr != "guest" && *tr != "wall" && *tr != "realtime")
                xml_fail(*t, "Invalid value for attribute 'track' in element 'timer': " + quoted(*tr));
            timer.track = *tr;
        }
        clock.timers.push_back(std::move(timer));
    }
}

lifecycle_action parse_lifecycle(const element& root, std::string_view name, lifecycle_action fallback) {
    const auto* e = root.child(name);
    if (!e || e->text.empty()) return fallback;
    auto v = detail::lifecycle_names.parse(e->text);
    if (!v) fail(error_code::config_unsupported, *e, "unknown " + std::string(name) + " action: " + e->text);
    if (name != "on_crash" && (*v == lifecycle_action::coredump_destroy || *v == lifecycle_action::coredump_restart))
        fail(error_code::config_unsupported, *e,
             "Lifecycle event " + quoted(name.substr(3)) + " doesn't support " + quoted(e->text) + " action");
    return *v;
}

void parse_vcpu(const element& root, domain_def& def) {
    const auto* v = root.child("vcpu");
    if (!v) return;
    auto count = to_uint(v->text);
    if (!count) xml_fail(*v, "maximum vcpus count must be an integer");
    def.vcpu.count = *count;
    if (auto current = uint_attr(*v, "current")) {
        if (*current > *count)
            fail(error_code::invalid_arg, *v,
                 "requested vcpus is greater than max allowable vcpus for the domain: " + std::to_string(*current) +
                     " > " + std::to_string(*count));
        if (*current != *count) def.vcpu.current = *current;
    }
    if (auto placement = attr(*v, "placement")) {
        if (*placement != "static" && *placement != "auto")
            xml_fail(*v, "Invalid value for attribute 'placement' in element 'vcpu': " + quoted(*placement));
        def.vcpu.placement = *placement;
    }
    if (def.vcpu.placement != "auto")
        if (auto cpuset = attr(*v, "cpuset")) def.vcpu.cpuset = canonical_cpuset(*v, *cpuset);
    if (def.vcpu.count == 0) xml_fail(*v, "Invalid number of vcpus: 0");
}

void parse_devices(const element& root, domain_def& def) {
    const auto* devices = root.child("devices");
    if (!devices) return;
    auto& d = def.devices;
    if (const auto* emu = devices->child("emulator"); emu && !emu->text.empty()) d.emulator = emu->text;
    for (const auto& c : devices->children) {
        if (c.name == "disk") d.disks.push_back(parse_disk(c, def));
        else if (c.name == "controller") d.controllers.push_back(parse_controller(c));
        else if (c.name == "interface") d.interfaces.push_back(parse_interface(c));
        else if (c.name == "serial") d.serials.push_back(parse_chardev(c, c.name));
        else if (c.name == "parallel") d.parallels.push_back(parse_chardev(c, c.name));
        else if (c.name == "console") d.consoles.push_back(parse_chardev(c, c.name));
        else if (c.name == "input") d.inputs.push_back(parse_input(c, def));
        else if (c.name == "graphics") d.graphics.push_back(parse_graphics(c));
        else if (c.name == "sound") d.sounds.push_back(parse_sound(c));
        else if (c.name == "audio") d.audios.push_back(parse_audio(c));
        else if (c.name == "video") d.videos.push_back(parse_video(c, def));
        else if (c.name == "hostdev") d.hostdevs.push_back(parse_hostdev(c));
        else if (c.name == "memballoon" && !d.memballoon) d.memballoon = parse_memballoon(c);
    }
    // graphics need a video card: libvirt adds one (cirrus; on Xen the libxl driver's model)
    if (!d.graphics.empty() && d.videos.empty()) {
        video_def implicit;
        if (def.type == domain_virt_type::xen) implicit.model = xen_default_video_model(def);
        d.videos.push_back(implicit);
    }
    if (def.type == domain_virt_type::xen) complete_xen_videos(d.videos);
    else complete_videos(d.videos);
    // controllers without an index get the next free one of their type
    for (auto& c : d.controllers) {
        if (c.index != UINT_MAX) continue;
        unsigned next = 0;
        for (const auto& other : d.controllers)
            if (other.type == c.type && other.index != UINT_MAX) next = std::max(next, other.index + 1);
        c.index = next;
    }
    for (std::size_t i = 0; i < d.controllers.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (d.controllers[i].type == d.controllers[j].type && d.controllers[i].index == d.controllers[j].index)
                raise(error_code::xml_error, from_domain,
                      "Multiple '" + std::string(detail::controller_type_names(d.controllers[i].type)) +
                          "' controllers with index '" + std::to_string(d.controllers[i].index) + "'");
    for (auto& s : d.serials)
        if (s.target_type && s.target_type->empty()) s.target_type.reset();
    apply_console_compat(def);
    assign_ports(d.serials);
    assign_ports(d.parallels);
    assign_ports(d.consoles);
    for (auto& c : d.consoles)
        if (!c.target_type) c.target_type = "serial";
}

}  // namespace

std::string_view to_string(domain_virt_type v) noexcept { return detail::virt_type_names(v); }
std::string_view to_string(lifecycle_action v) noexcept { return detail::lifecycle_names(v); }
std::optional<domain_virt_type> domain_virt_type_from_string(std::string_view s) noexcept {
    return detail::virt_type_names.parse(s);
}
std::optional<lifecycle_action> lifecycle_action_from_string(std::string_view s) noexcept {
    return detail::lifecycle_names.parse(s);
}

domain_def parse_domain_xml_unreported(std::string_view text) {
    const element root = detail::parse_document(text, "(domain_definition)");
    if (root.name != "domain") xml_fail(root, "expecting root element of 'domain', not " + quoted(root.name));
    domain_def def;

    auto type = attr(root, "type");
    if (!type) fail(error_code::internal_error, root, "missing domain type attribute");
    auto virt = detail::virt_type_names.parse(*type);
    if (!virt) fail(error_code::config_unsupported, root, "invalid domain type " + *type);
    def.type = *virt;
    if (auto id = attr(root, "id")) {
        auto v = to_int(*id);
        if (!v || *v < -1)
            xml_fail(root, "Invalid value for attribute 'id' in element 'domain': " + quoted(*id) +
                               ". Expected non-negative integer value");
        if (*v >= 0) def.id = *v;
    }

    auto name = child_text(root, "name");
    if (!name) fail(error_code::no_name, root.child("name") ? *root.child("name") : root, "domain");
    // names become file names (<name>.xml): refused here, before any driver touches a file
    if (name->find('/') != std::string::npos) xml_fail(*root.child("name"), "name " + *name + " cannot contain '/'");
    for (char c : *name)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            char shown[8];
            std::snprintf(shown, sizeof shown, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
            auto info = make_error_info(error_code::xml_detail, error_domain::xml,
                                        std::string("invalid char in name: ") + (c == '\n' ? std::string("\n") : std::string(shown)));
            raise(info);
        }
    def.name = *name;
    if (const auto* u = root.child("uuid"); u && !u->text.empty()) {
        auto parsed = uuid::parse(u->text);
        if (!parsed) fail(error_code::internal_error, *u, "malformed uuid element");
        def.uuid = *parsed;
    }
    def.title = child_text(root, "title");
    if (def.title && def.title->find('\n') != std::string::npos)
        xml_fail(*root.child("title"), "Domain title can't contain newlines");
    def.description = child_text(root, "description");

    auto memory = parse_memory(root, "memory");
    if (!memory || *memory == 0)
        xml_fail(root.child("memory") ? *root.child("memory") : root,
                 "Memory size must be specified via <memory> or in the <numa> configuration");
    def.memory_kib = *memory;
    auto current = parse_memory(root, "currentMemory");
    def.current_memory_kib = (!current || *current == 0 || *current > *memory) ? *memory : *current;
    def.max_memory_kib = parse_memory(root, "maxMemory");
    if (const auto* mm = root.child("maxMemory")) {
        def.max_memory_slots = uint_attr(*mm, "slots");
        if (def.max_memory_kib && *def.max_memory_kib < def.memory_kib)
            xml_fail(*mm, "maximum memory size must be equal or greater than the actual memory size");
    }

    parse_vcpu(root, def);
    def.bootloader = child_text(root, "bootloader");
    def.bootloader_args = child_text(root, "bootloader_args");
    parse_os(root, def);
    parse_features(root, def);
    parse_cpu(root, def);
    for (const auto* l : root.children_named("seclabel")) {
        static constexpr std::array<std::string_view, 3> types{"dynamic", "static", "none"};
        seclabel_def label;
        label.type = enum_attr(*l, "type", types).value_or("dynamic");
        label.model = nonempty_attr(*l, "model");
        label.relabel = yes_no_attr(*l, "relabel");
        if (const auto* e = l->child("label")) label.label = e->trimmed_text();
        if (const auto* e = l->child("imagelabel")) label.imagelabel = e->trimmed_text();
        def.seclabels.push_back(std::move(label));
    }
    parse_clock(root, def);
    def.on_poweroff = parse_lifecycle(root, "on_poweroff", lifecycle_action::destroy);
    def.on_reboot = parse_lifecycle(root, "on_reboot", lifecycle_action::restart);
    def.on_crash = parse_lifecycle(root, "on_crash", lifecycle_action::destroy);
    parse_devices(root, def);
    // an HVM guest with no boot order boots from its first hard disk
    if (detail::is_hvm(def) && def.os.boot.empty()) def.os.boot.push_back(boot_device::hd);
    return def;
}

// The public entry point: an error is reported through the handlers, then thrown.
domain_def parse_domain_xml(std::string_view text) {
    return api_boundary(nullptr, [&] { return parse_domain_xml_unreported(text); });
}

device_def parse_device_xml(std::string_view snippet, std::string_view driver, error_domain domain) {
    // The snippet is checked on its own first (so syntax errors name its own lines), then read
    // inside a minimal domain by the domain parser, which holds every rule for the element.
    auto root = detail::parse_document(snippet, "(device_definition)", error_domain::domain);
    if (root.name != "disk" && root.name != "interface")
        raise(error_code::config_unsupported, domain,
              "device type '" + root.name + "' cannot be attached or detached by " + std::string(driver));
    auto body = snippet;
    if (auto pos = body.find("?>"); body.starts_with("<?xml") && pos != std::string_view::npos) body.remove_prefix(pos + 2);
    std::string wrapped = "<domain type='test'><name>virtpp-device</name><memory>1</memory><os><type>hvm</type></os><devices>";
    wrapped += body;
    wrapped += "</devices></domain>";
    auto def = parse_domain_xml_unreported(wrapped);
    device_def out;
    if (root.name == "disk" && def.devices.disks.size() == 1) out.disk = def.devices.disks.front();
    if (root.name == "interface" && def.devices.interfaces.size() == 1) out.interface = def.devices.interfaces.front();
    if (!out.disk && !out.interface)
        raise(error_code::xml_error, error_domain::domain, "the device XML holds no usable <" + root.name + "> element");
    return out;
}

}  // namespace virtpp::xml
