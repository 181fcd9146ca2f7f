// Domain definitions <-> xend S-expressions (see include/virtpp/xen/sexpr_domain.hpp). The field
// names, units (MiB in xend, KiB in XML) and device spellings are those libvirt's xen_sxpr used
// with each xend generation.
#include <virtpp/error.hpp>
#include <virtpp/xen/sexpr_domain.hpp>

#include "xen/xen_detail.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace virtpp::xen {

using xml::chardev_def;
using xml::chardev_type;
using xml::domain_def;

std::string join_continuations(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {
            ++i;
            continue;
        }
        out += text[i];
    }
    return out;
}

namespace detail {

[[noreturn]] void incomplete(std::string_view what) {
    raise(error_code::internal_error, error_domain::sexpr, "domain information incomplete, " + std::string(what));
}

std::optional<std::int64_t> to_integer(std::string_view s) {
    // xend writes some integers as floats ("1.0"); the integral part is what counts
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p == s.data()) return std::nullopt;
    return v;
}

std::optional<chardev_def> parse_chardev(std::string_view value, std::string_view what) {
    chardev_def c;
    auto fail = [&] {
        raise(error_code::internal_error, error_domain::sexpr,
              "unknown " + std::string(what) + " type " + std::string(value));
    };
    auto prefix = [&](std::string_view p) {
        if (value.substr(0, p.size()) != p) return false;
        value.remove_prefix(p.size());
        return true;
    };
    if (value.empty() || value == "none") return std::nullopt;
    if (value == "null") {
        c.type = chardev_type::null;
    } else if (value == "vc") {
        c.type = chardev_type::vc;
    } else if (value == "pty") {
        c.type = chardev_type::pty;
    } else if (value == "stdio") {
        c.type = chardev_type::stdio;
    } else if (value.front() == '/') {
        c.type = chardev_type::dev;
        c.path = std::string(value);
    } else if (prefix("file:")) {
        c.type = chardev_type::file;
        c.path = std::string(value);
    } else if (prefix("pipe:")) {
        c.type = chardev_type::pipe;
        c.path = std::string(value);
    } else if (value.substr(0, 4) == "tcp:" || value.substr(0, 7) == "telnet:") {
        c.type = chardev_type::tcp;
        if (prefix("telnet:"))
            c.protocol = "telnet";
        else
            prefix("tcp:");
        auto comma = value.find(',');
        auto options = comma == std::string_view::npos ? std::string_view{} : value.substr(comma);
        auto address = value.substr(0, comma);
        auto colon = address.rfind(':');
        if (colon == std::string_view::npos) fail();
        if (colon > 0) c.host = std::string(address.substr(0, colon));
        c.service = std::string(address.substr(colon + 1));
        c.listen = options.find(",server") != std::string_view::npos;
    } else if (prefix("udp:")) {
        c.type = chardev_type::udp;
        auto at = value.find('@');
        auto connect = value.substr(0, at);
        auto colon = connect.rfind(':');
        if (colon == std::string_view::npos) fail();
        if (colon > 0) c.host = std::string(connect.substr(0, colon));
        c.service = std::string(connect.substr(colon + 1));
        if (at != std::string_view::npos) {
            auto bind = value.substr(at + 1);
            auto bcolon = bind.rfind(':');
            if (bcolon == std::string_view::npos) fail();
            if (bcolon > 0) c.bind_host = std::string(bind.substr(0, bcolon));
            c.bind_service = std::string(bind.substr(bcolon + 1));
        }
    } else if (prefix("unix:")) {
        c.type = chardev_type::unix_socket;
        auto comma = value.find(',');
        c.path = std::string(value.substr(0, comma));
        c.listen = comma != std::string_view::npos && value.substr(comma).find(",server") != std::string_view::npos;
    } else {
        fail();
    }
    return c;
}

std::string format_chardev(const chardev_def& c) {
    auto hostport = [](const std::optional<std::string>& h, const std::optional<std::string>& s) {
        return h.value_or("") + ":" + s.value_or("");
    };
    switch (c.type) {
    case chardev_type::null: return "null";
    case chardev_type::vc: return "vc";
    case chardev_type::pty: return "pty";
    case chardev_type::stdio: return "stdio";
    case chardev_type::dev: return c.path.value_or("");
    case chardev_type::file: return "file:" + c.path.value_or("");
    case chardev_type::pipe: return "pipe:" + c.path.value_or("");
    case chardev_type::tcp:
        return (c.protocol == "telnet" ? "telnet:" : "tcp:") + hostport(c.host, c.service) +
               (c.listen ? ",server,nowait" : "");
    case chardev_type::udp: {
        std::string s = "udp:" + hostport(c.host, c.service);
        if (c.bind_host || c.bind_service) s += "@" + hostport(c.bind_host, c.bind_service);
        return s;
    }
    case chardev_type::unix_socket: return "unix:" + c.path.value_or("") + (c.listen ? ",server,nowait" : "");
    }
    return {};
}

void add_display_inputs(xml::domain_def& def, bool hvm) {
    if (def.devices.graphics.empty()) return;
    auto bus = hvm ? xml::input_bus::ps2 : xml::input_bus::xen;
    def.devices.inputs.push_back({xml::input_type::mouse, bus, {}});
    def.devices.inputs.push_back({xml::input_type::keyboard, bus, {}});
}

void add_display_video(xml::domain_def& def, bool hvm) {
    if (def.devices.graphics.empty() || !def.devices.videos.empty()) return;
    xml::video_def v;
    if (!hvm) {
        v.model = "xen";  // the PV framebuffer; its 4 MiB is the generic default the parser fills
    } else if (def.os.arch && def.os.arch->starts_with("ppc64")) {
        v.model = "vga";
        v.vram = 16384;
    } else {
        v.model = "cirrus";
        v.vram = 8192;
    }
    def.devices.videos.push_back(v);
}

}  // namespace detail

namespace {

using detail::incomplete;
using detail::to_integer;

std::optional<std::string> nonempty(std::optional<std::string> v) {
    if (v && v->empty()) return std::nullopt;
    return v;
}

std::int64_t integer(const sexpr& root, std::string_view path, std::int64_t fallback = 0) {
    auto v = root.value(path);
    if (!v) return fallback;
    return to_integer(*v).value_or(fallback);
}

xml::lifecycle_action lifecycle(const sexpr& root, std::string_view path, xml::lifecycle_action fallback) {
    auto v = root.value(path);
    if (!v) return fallback;
    auto action = xml::lifecycle_action_from_string(*v);
    if (!action) raise(error_code::internal_error, error_domain::sexpr, "unknown lifecycle type " + *v);
    return *action;
}

void parse_os(domain_def& def, const sexpr& root, bool hvm) {
    std::string image = hvm ? "domain/image/hvm/" : "domain/image/linux/";
    if (hvm) {
        def.os.loader = nonempty(root.value("domain/image/hvm/loader"));
        if (!def.os.loader) {
            // xend before 3.1 named the HVM loader "kernel"
            def.os.loader = nonempty(root.value("domain/image/hvm/kernel"));
            if (!def.os.loader) incomplete("missing HVM loader");
        } else {
            def.os.kernel = nonempty(root.value(image + "kernel"));
            def.os.initrd = nonempty(root.value(image + "ramdisk"));
            def.os.cmdline = nonempty(root.value(image + "args"));
            def.os.root = nonempty(root.value(image + "root"));
        }
    } else {
        def.os.kernel = nonempty(root.value(image + "kernel"));
        def.os.initrd = nonempty(root.value(image + "ramdisk"));
        def.os.cmdline = nonempty(root.value(image + "args"));
        def.os.root = nonempty(root.value(image + "root"));
    }
    if (hvm && def.os.kernel && def.os.loader && *def.os.kernel == *def.os.loader) def.os.kernel.reset();

    if (hvm && !def.os.kernel) {
        std::string boot = root.value("domain/image/hvm/boot").value_or("c");
        for (char c : boot) {
            switch (c) {
            case 'a': def.os.boot.push_back(xml::boot_device::fd); break;
            case 'c': def.os.boot.push_back(xml::boot_device::hd); break;
            case 'd': def.os.boot.push_back(xml::boot_device::cdrom); break;
            case 'n': def.os.boot.push_back(xml::boot_device::network); break;
            default: break;
            }
        }
        if (def.os.boot.empty()) def.os.boot.push_back(xml::boot_device::hd);
    } else if (!hvm && !def.os.kernel && !def.bootloader) {
        incomplete("missing kernel & bootloader");
    }
}

void parse_disks(domain_def& def, const sexpr& root, bool hvm, int version) {
    for (const sexpr* device : root.children("device")) {
        if (device->items().size() < 2) continue;
        const sexpr& node = device->items()[1];
        auto kind = node.head();
        if (kind != "vbd" && kind != "tap" && kind != "tap2") continue;
        std::string base = "device/" + std::string(kind) + "/";
        sexpr wrapped = sexpr::list({sexpr::atom("device"), node});
        auto uname = wrapped.value(base + "uname");
        auto dev = wrapped.value(base + "dev");
        auto mode = wrapped.value(base + "mode");
        if (!dev) incomplete(std::string(kind) + " has no dev");

        xml::disk_def disk;
        std::string dst = *dev;
        if (dst.rfind("ioemu:", 0) == 0) dst.erase(0, 6);
        if (auto colon = dst.find(':'); colon != std::string::npos) {
            if (dst.substr(colon) == ":cdrom") disk.device = "cdrom";
            dst.erase(colon);
        }
        if (!uname) {
            // an empty HVM CD-ROM drive has no uname
            if (!(hvm && disk.device == "cdrom")) incomplete(std::string(kind) + " has no src");
        } else if (!uname->empty()) {
            auto colon = uname->find(':');
            if (colon == std::string::npos)
                raise(error_code::internal_error, error_domain::sexpr,
                      "cannot parse vbd filename, missing driver name: " + *uname);
            std::string driver = uname->substr(0, colon);
            std::string path = uname->substr(colon + 1);
            disk.driver_name = driver;
            if (driver == "tap" || driver == "tap2") {
                auto second = path.find(':');
                if (second == std::string::npos)
                    raise(error_code::internal_error, error_domain::sexpr,
                          "cannot parse vbd filename, missing driver type: " + *uname);
                std::string type = path.substr(0, second);
                disk.driver_type = type == "aio" ? "raw" : type;
                path.erase(0, second + 1);
            }
            disk.type = driver == "phy" ? "block" : "file";
            if (!path.empty()) disk.source = path;
        }
        // xend 3.0.2 lists the HVM CD-ROM in the image as well; that one wins
        if (hvm && version == xend_config_version_3_0_2 && dst == "hdc") continue;
        disk.target_dev = dst;
        if (dst.rfind("hd", 0) == 0)
            disk.target_bus = "ide";
        else if (dst.rfind("sd", 0) == 0)
            disk.target_bus = "scsi";
        else if (dst.rfind("fd", 0) == 0)
            disk.target_bus = "fdc";
        else
            disk.target_bus = "xen";
        if (disk.device == "cdrom" || (mode && (*mode == "r" || *mode == "ro"))) disk.readonly = true;
        if (mode && (*mode == "w!" || *mode == "!")) disk.shareable = true;
        def.devices.disks.push_back(std::move(disk));
    }
}

void parse_nets(domain_def& def, const sexpr& root) {
    int index = 0;
    for (const sexpr* device : root.children("device")) {
        if (device->items().size() < 2 || device->items()[1].head() != "vif") continue;
        sexpr wrapped = sexpr::list({sexpr::atom("device"), device->items()[1]});
        xml::interface_def nic;
        auto bridge = nonempty(wrapped.value("device/vif/bridge"));
        auto script = nonempty(wrapped.value("device/vif/script"));
        if (bridge) {
            nic.type = xml::interface_type::bridge;
            nic.source_bridge = bridge;
        } else {
            nic.type = xml::interface_type::ethernet;
        }
        nic.script = script;
        if (auto ifname = nonempty(wrapped.value("device/vif/vifname")))
            nic.target_dev = ifname;
        else if (def.id && *def.id > 0)
            nic.target_dev = "vif" + std::to_string(*def.id) + "." + std::to_string(index);
        if (auto mac = nonempty(wrapped.value("device/vif/mac"))) {
            std::string lower = *mac;
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            nic.mac = lower;
        }
        if (auto ip = nonempty(wrapped.value("device/vif/ip"))) nic.ip_addresses.push_back(*ip);
        if (auto model = nonempty(wrapped.value("device/vif/model")))
            nic.model = model;
        else if (wrapped.value("device/vif/type") == std::optional<std::string>("netfront"))
            nic.model = "netfront";
        if (auto rate = nonempty(wrapped.value("device/vif/rate"))) {
            // "<n><K|M|G>B/s[@interval]" in kilobytes per second
            std::uint64_t amount = 0;
            auto [p, ec] = std::from_chars(rate->data(), rate->data() + rate->size(), amount);
            if (ec == std::errc{} && p != rate->data() + rate->size()) {
                std::uint64_t scale = *p == 'M' ? 1024 : *p == 'G' ? 1024 * 1024 : 1;
                nic.bandwidth_outbound_average = amount * scale;
            }
        }
        def.devices.interfaces.push_back(std::move(nic));
        ++index;
    }
}

void parse_pci(domain_def& def, const sexpr& root) {
    for (const sexpr* device : root.children("device")) {
        if (device->items().size() < 2 || device->items()[1].head() != "pci") continue;
        for (const sexpr* dev : device->items()[1].children("dev")) {
            auto field = [&](std::string_view name) -> unsigned {
                auto v = dev->value("dev/" + std::string(name));
                if (!v) incomplete("pci device has no " + std::string(name));
                return static_cast<unsigned>(std::strtoul(v->c_str(), nullptr, 0));
            };
            xml::hostdev_def h;
            h.source.type = xml::address_type::pci;
            h.source.domain = field("domain");
            h.source.bus = field("bus");
            h.source.slot = field("slot");
            h.source.function = field("func");
            def.devices.hostdevs.push_back(std::move(h));
        }
    }
}

xml::graphics_def vnc_graphics(const sexpr& s, std::string_view base, const domain_def& def, int version,
                               const sexpr_runtime& runtime) {
    xml::graphics_def g;
    g.type = xml::graphics_type::vnc;
    auto val = [&](std::string_view key) { return nonempty(s.value(std::string(base) + std::string(key))); };
    bool unused = val("vncunused") == std::optional<std::string>("1");
    g.port = -1;
    if (runtime.vnc_port) {
        g.port = *runtime.vnc_port;
    } else if (auto display = val("vncdisplay")) {
        g.port = 5900 + static_cast<int>(to_integer(*display).value_or(0));
    } else if (version < xend_config_version_3_0_3 && def.id && *def.id > 0) {
        // xend 3.0.2 put display N on port 5900 + domid
        g.port = 5900 + *def.id;
    }
    if (unused || g.port == -1) {
        g.autoport = true;
        g.port = -1;
    }
    if (auto listen = val("vnclisten")) g.listens.push_back({"address", *listen, {}, {}});
    g.keymap = val("keymap");
    g.passwd = val("vncpasswd");
    return g;
}

void parse_graphics(domain_def& def, const sexpr& root, bool hvm, int version, const sexpr_runtime& runtime) {
    // the image-level (old) configuration: HVM guests, and PV guests before xend 3.0.4
    if (hvm || version < xend_config_version_3_0_4) {
        std::string base = hvm ? "domain/image/hvm/" : "domain/image/linux/";
        if (integer(root, base + "vnc") != 0) {
            def.devices.graphics.push_back(vnc_graphics(root, base, def, version, runtime));
        } else if (integer(root, base + "sdl") != 0) {
            xml::graphics_def g;
            g.type = xml::graphics_type::sdl;
            g.display = nonempty(root.value(base + "display"));
            g.xauth = nonempty(root.value(base + "xauthority"));
            def.devices.graphics.push_back(std::move(g));
        }
    }
    if (!def.devices.graphics.empty()) return;
    // (device (vfb ...)): xend 3.0.4's framebuffer
    for (const sexpr* device : root.children("device")) {
        if (device->items().size() < 2 || device->items()[1].head() != "vfb") continue;
        sexpr wrapped = sexpr::list({sexpr::atom("device"), device->items()[1]});
        auto type = nonempty(wrapped.value("device/vfb/type"));
        bool vnc = type == std::optional<std::string>("vnc") || integer(wrapped, "device/vfb/vnc") != 0;
        bool sdl = type == std::optional<std::string>("sdl") || integer(wrapped, "device/vfb/sdl") != 0;
        if (vnc) {
            def.devices.graphics.push_back(vnc_graphics(wrapped, "device/vfb/", def, version, runtime));
        } else if (sdl) {
            xml::graphics_def g;
            g.type = xml::graphics_type::sdl;
            g.display = nonempty(wrapped.value("device/vfb/display"));
            g.xauth = nonempty(wrapped.value("device/vfb/xauthority"));
            def.devices.graphics.push_back(std::move(g));
        }
        break;
    }
}

void parse_chardevs(std::vector<chardev_def>& out, const sexpr& root, std::string_view path, std::string_view what) {
    const sexpr* node = root.find(path);
    if (!node || node->items().size() < 2) return;
    const sexpr& value = node->items()[1];
    if (value.is_atom()) {
        if (auto c = detail::parse_chardev(value.text(), what)) out.push_back(std::move(*c));
        return;
    }
    // (serial (/dev/ttyS0 /dev/ttyS1)): one entry per port, "none" keeps the port unused
    int port = 0;
    for (const auto& item : value.items()) {
        if (item.is_atom()) {
            if (auto c = detail::parse_chardev(item.text(), what)) {
                c->target_port = port;
                out.push_back(std::move(*c));
            }
        }
        ++port;
    }
}

}  // namespace

xml::domain_def domain_from_sexpr(const sexpr& root, int version, const sexpr_runtime& runtime) {
    if (root.head() != "domain") incomplete("the S-expression is not a (domain ...) record");
    domain_def def;
    def.type = xml::domain_virt_type::xen;
    if (auto domid = root.value("domain/domid")) {
        auto id = to_integer(*domid);
        if (!id) raise(error_code::internal_error, error_domain::sexpr, "domid '" + *domid + "' is not a number");
        def.id = static_cast<int>(*id);
    }
    auto name = root.value("domain/name");
    if (!name || name->empty()) incomplete("missing name");
    def.name = *name;
    auto uuid = root.value("domain/uuid");
    if (!uuid) incomplete("missing uuid");
    def.uuid = virtpp::uuid::parse(*uuid);
    if (!def.uuid) raise(error_code::internal_error, error_domain::sexpr, "invalid uuid '" + *uuid + "'");

    def.bootloader = nonempty(root.value("domain/bootloader"));
    if (def.bootloader) def.bootloader_args = nonempty(root.value("domain/bootloader_args"));

    const bool hvm = root.find("domain/image/hvm") != nullptr;
    def.os.type = hvm ? "hvm" : "linux";
    if (root.find("domain/image")) parse_os(def, root, hvm);
    else if (!def.bootloader) incomplete("missing kernel & bootloader");

    std::uint64_t max_mib = static_cast<std::uint64_t>(std::max<std::int64_t>(0, integer(root, "domain/maxmem")));
    std::uint64_t cur_mib = static_cast<std::uint64_t>(std::max<std::int64_t>(0, integer(root, "domain/memory")));
    if (max_mib == 0) max_mib = cur_mib;
    if (cur_mib == 0 || cur_mib > max_mib) cur_mib = max_mib;
    def.memory_kib = max_mib << 10;
    def.current_memory_kib = cur_mib << 10;

    auto cpus = root.value("domain/cpus");
    if (cpus && !cpus->empty()) def.vcpu.cpuset = *cpus;
    def.vcpu.count = static_cast<unsigned>(std::max<std::int64_t>(1, integer(root, "domain/vcpus", 1)));
    if (auto avail = root.value("domain/vcpu_avail")) {
        auto bits = static_cast<unsigned>(__builtin_popcountll(static_cast<unsigned long long>(to_integer(*avail).value_or(0))));
        if (bits && bits < def.vcpu.count) def.vcpu.current = bits;
    }

    if (hvm) {
        def.features.acpi = integer(root, "domain/image/hvm/acpi") != 0;
        def.features.apic = integer(root, "domain/image/hvm/apic") != 0;
        def.features.pae = integer(root, "domain/image/hvm/pae") != 0;
        if (root.value("domain/image/hvm/hap")) def.features.hap = integer(root, "domain/image/hvm/hap") != 0;
        def.features.viridian = integer(root, "domain/image/hvm/viridian") != 0;
        if (auto hpet = root.value("domain/image/hvm/hpet"))
            def.clock.timers.push_back({"hpet", to_integer(*hpet).value_or(0) != 0, {}, {}});
    }
    bool localtime = hvm ? (integer(root, "domain/image/hvm/localtime") != 0 || integer(root, "domain/localtime") != 0)
                         : integer(root, "domain/localtime") != 0;
    def.clock.offset = localtime ? xml::clock_offset::localtime : xml::clock_offset::utc;
    def.clock.adjustment_reset = true;

    def.on_poweroff = lifecycle(root, "domain/on_poweroff", xml::lifecycle_action::destroy);
    def.on_reboot = lifecycle(root, "domain/on_reboot", xml::lifecycle_action::restart);
    def.on_crash = lifecycle(root, "domain/on_crash", xml::lifecycle_action::destroy);

    def.devices.emulator = nonempty(root.value(hvm ? "domain/image/hvm/device_model" : "domain/image/linux/device_model"));

    parse_disks(def, root, hvm, version);
    if (hvm) {
        // xend 3.0.2 carries the CD-ROM in the image; later ones a vbd for hdc, when there is one
        bool cdrom_vbd = std::any_of(def.devices.disks.begin(), def.devices.disks.end(),
                                     [](const xml::disk_def& d) { return d.target_dev == "hdc"; });
        if (version == xend_config_version_3_0_2 || !cdrom_vbd) {
            if (auto cdrom = nonempty(root.value("domain/image/hvm/cdrom"))) {
                xml::disk_def d;
                d.device = "cdrom";
                d.driver_name = "file";
                d.source = *cdrom;
                d.target_dev = "hdc";
                d.target_bus = "ide";
                d.readonly = true;
                def.devices.disks.push_back(std::move(d));
            }
        }
        for (std::string_view fd : {"fda", "fdb"}) {
            if (auto path = nonempty(root.value("domain/image/hvm/" + std::string(fd)))) {
                xml::disk_def d;
                d.device = "floppy";
                d.driver_name = "file";
                d.source = *path;
                d.target_dev = std::string(fd);
                d.target_bus = "fdc";
                def.devices.disks.push_back(std::move(d));
            }
        }
    }
    parse_nets(def, root);
    parse_pci(def, root);
    parse_graphics(def, root, hvm, version, runtime);

    if (hvm) {
        if (auto usb = nonempty(root.value("domain/image/hvm/usbdevice"))) {
            if (*usb == "mouse") def.devices.inputs.push_back({xml::input_type::mouse, xml::input_bus::usb, {}});
            else if (*usb == "tablet") def.devices.inputs.push_back({xml::input_type::tablet, xml::input_bus::usb, {}});
        }
        parse_chardevs(def.devices.serials, root, "domain/image/hvm/serial", "serial");
        parse_chardevs(def.devices.parallels, root, "domain/image/hvm/parallel", "parallel");
        if (!def.devices.serials.empty()) {
            chardev_def console;
            console.type = def.devices.serials.front().type;
            console.target_type = "serial";
            console.target_port = def.devices.serials.front().target_port;
            def.devices.consoles.push_back(console);
        }
        if (runtime.console_tty && !def.devices.serials.empty() && def.devices.serials.front().type == chardev_type::pty)
            def.devices.serials.front().path = runtime.console_tty;
        if (auto sound = nonempty(root.value("domain/image/hvm/soundhw"))) {
            std::string_view list = *sound;
            if (list == "all") {
                def.devices.sounds.push_back({"sb16", {}});
                def.devices.sounds.push_back({"es1370", {}});
            } else {
                while (!list.empty()) {
                    auto comma = list.find(',');
                    auto model = list.substr(0, comma);
                    if (model != "sb16" && model != "es1370" && model != "pcspk" && model != "ac97" && model != "ich6")
                        raise(error_code::internal_error, error_domain::sexpr, "unknown sound model " + std::string(model));
                    def.devices.sounds.push_back({std::string(model), {}});
                    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
                }
            }
        }
    } else {
        chardev_def console;
        console.type = chardev_type::pty;
        console.target_type = "xen";
        console.path = runtime.console_tty;
        def.devices.consoles.push_back(console);
    }
    detail::add_display_inputs(def, hvm);
    detail::add_display_video(def, hvm);
    return def;
}

xml::domain_def domain_from_sexpr_text(std::string_view text, int version, const sexpr_runtime& runtime) {
    sexpr_limits limits;
    limits.lenient = true;  // as libvirt's reader: xend records and libvirt's fixtures rely on it
    return domain_from_sexpr(parse_sexpr(join_continuations(text), limits), version, runtime);
}

std::string domain_xml_from_sexpr_text(std::string_view text, int version, const sexpr_runtime& runtime,
                                       xml::domain_format_flags flags) {
    xml::domain_format_flags secure = flags;
    secure.secure = true;
    auto once = xml::format_domain_xml(domain_from_sexpr_text(text, version, runtime), secure);
    return xml::format_domain_xml(xml::parse_domain_xml(once), flags);
}

virtpp::node_info node_info_from_sexpr(const sexpr& node) {
    if (node.head() != "node") raise(error_code::internal_error, error_domain::sexpr, "xend node record is not a (node ...) list");
    auto num = [&](std::string_view key) {
        return static_cast<unsigned>(std::max<std::int64_t>(0, integer(node, "node/" + std::string(key))));
    };
    virtpp::node_info info;
    info.model = node.value("node/machine").value_or("");
    info.memory_kib = static_cast<std::uint64_t>(num("total_memory")) << 10;
    info.cpus = num("nr_cpus");
    info.mhz = num("cpu_mhz");
    info.nodes = std::max(1u, num("nr_nodes"));
    info.sockets = std::max(1u, num("sockets_per_node"));
    info.cores = std::max(1u, num("cores_per_socket"));
    info.threads = std::max(1u, num("threads_per_core"));
    // libvirt's rule: when the topology does not multiply out, report it flat
    if (info.nodes * info.sockets * info.cores * info.threads != info.cpus) {
        info.nodes = 1;
        info.sockets = 1;
        info.cores = info.cpus;
        info.threads = 1;
    }
    return info;
}

std::string xen_caps_from_sexpr(const sexpr& node) {
    return node.value("node/xen_caps").value_or("");
}

std::uint64_t xen_version_from_sexpr(const sexpr& node) {
    auto major = integer(node, "node/xen_major", -1);
    auto minor = integer(node, "node/xen_minor", -1);
    if (major < 0 || minor < 0) raise(error_code::internal_error, error_domain::sexpr, "xend node record has no xen_major/xen_minor");
    std::int64_t release = 0;
    if (auto extra = node.value("node/xen_extra")) {
        // ".1-rc2" -> 1
        std::string_view e = *extra;
        if (!e.empty() && e.front() == '.') e.remove_prefix(1);
        release = to_integer(e).value_or(0);
    }
    return static_cast<std::uint64_t>(major * 1000000 + minor * 1000 + release);
}

}  // namespace virtpp::xen
