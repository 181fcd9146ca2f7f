// Domain definition -> qemu 7.2 command line. Pure: everything the result depends on is in the
// definition and command_options, so the conformance test can pin it down byte for byte.
#include "hypervisor/qemu_detail.hpp"
#include "xml/domain_detail.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <set>

namespace virtpp::hypervisor::qemu_detail {
namespace {

namespace json = boost::json;

std::string hex(unsigned v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    do {
        out.insert(out.begin(), digits[v % 16]);
        v /= 16;
    } while (v != 0);
    return "0x" + out;
}

/// Hands out PCI slots on bus 0: explicit <address type='pci'> slots are kept, the rest get the
/// lowest free slot from 3 up (1 is the PIIX3 bridge, 2 the video card).
class pci_slots {
public:
    explicit pci_slots(const xml::domain_def& def) {
        auto note = [&](const std::optional<xml::device_address>& a) {
            if (a && a->type == xml::address_type::pci && a->slot) used_.insert(*a->slot);
        };
        for (const auto& d : def.devices.disks) note(d.address);
        for (const auto& n : def.devices.interfaces) note(n.address);
        for (const auto& i : def.devices.inputs) note(i.address);
        if (def.devices.memballoon) note(def.devices.memballoon->address);
        for (const auto& v : def.devices.videos) note(v.address);
    }
    std::string take(const std::optional<xml::device_address>& explicit_address) {
        if (explicit_address && explicit_address->type == xml::address_type::pci && explicit_address->slot) {
            std::string addr = hex(*explicit_address->slot);
            if (explicit_address->function && *explicit_address->function != 0)
                addr += "." + hex(*explicit_address->function);
            return addr;
        }
        while (used_.count(next_) != 0) ++next_;
        if (next_ > 31) fail(error_code::internal_error, "No more available PCI slots");
        used_.insert(next_);
        return hex(next_++);
    }

private:
    std::set<unsigned> used_{1, 2};
    unsigned next_ = 3;
};

std::string device_json(const json::object& o) { return json::serialize(o); }

/// hda -> 0, hdb -> 1, vdc -> 2, fdb -> 1; nullopt when the name has no index letters.
std::optional<unsigned> disk_index(std::string_view target, std::string_view prefix) {
    if (target.size() <= prefix.size() || target.substr(0, prefix.size()) != prefix) return std::nullopt;
    unsigned idx = 0;
    for (char c : target.substr(prefix.size())) {
        if (c < 'a' || c > 'z') return std::nullopt;
        idx = idx * 26 + static_cast<unsigned>(c - 'a' + 1);
        if (idx > 100000) return std::nullopt;
    }
    return idx - 1;
}

std::string disk_bus_of(const xml::disk_def& d) {
    if (d.target_bus) return *d.target_bus;
    if (d.target_dev.starts_with("fd")) return "fdc";
    if (d.target_dev.starts_with("vd")) return "virtio";
    if (d.target_dev.starts_with("sd")) return "scsi";
    return "ide";
}

std::string nic_model(const xml::interface_def& n) { return n.model ? *n.model : std::string("rtl8139"); }

std::string nic_driver(const std::string& model) {
    if (model == "virtio") return "virtio-net-pci";
    static constexpr std::array known{"rtl8139", "e1000", "e1000e", "ne2k_pci", "pcnet", "i82551", "i82557b",
                                      "i82559er", "vmxnet3"};
    for (const char* k : known)
        if (model == k) return model;
    fail(error_code::config_unsupported, "unsupported network model '" + model + "'");
}

std::string socket_endpoint(const xml::interface_def& n, std::string_view kind) {
    if (!n.source_port) fail(error_code::config_unsupported, "interface of type '" + std::string(kind) + "' needs a source port");
    std::string host = n.source_address.value_or(kind == "server" ? "" : "127.0.0.1");
    return host + ":" + std::to_string(*n.source_port);
}

std::string chardev_backend(const xml::chardev_def& c, const std::string& id) {
    auto esc = [](const std::optional<std::string>& v, std::string_view fallback) {
        return escape_option_value(v ? std::string_view(*v) : fallback);
    };
    switch (c.type) {
        case xml::chardev_type::pty: return "pty,id=" + id;
        case xml::chardev_type::null: return "null,id=" + id;
        case xml::chardev_type::vc: return "vc,id=" + id;
        case xml::chardev_type::stdio: return "stdio,id=" + id;
        case xml::chardev_type::file: return "file,id=" + id + ",path=" + esc(c.path, "");
        case xml::chardev_type::pipe: return "pipe,id=" + id + ",path=" + esc(c.path, "");
        case xml::chardev_type::dev: return "tty,id=" + id + ",path=" + esc(c.path, "");
        case xml::chardev_type::unix_socket:
            return "socket,id=" + id + ",path=" + esc(c.path, "") + (c.listen ? ",server=on,wait=off" : "");
        case xml::chardev_type::tcp:
            return "socket,id=" + id + ",host=" + esc(c.host, "127.0.0.1") + ",port=" + esc(c.service, "0") +
                   (c.protocol == "telnet" ? ",telnet=on" : "") + (c.listen ? ",server=on,wait=off" : "");
        case xml::chardev_type::udp:
            return "udp,id=" + id + ",host=" + esc(c.host, "127.0.0.1") + ",port=" + esc(c.service, "0") +
                   ",localaddr=" + esc(c.bind_host, "") + ",localport=" + esc(c.bind_service, "0");
    }
    fail(error_code::config_unsupported, "unsupported character device type");
}

std::string mib(std::uint64_t kib) { return std::to_string((kib + 1023) / 1024); }

}  // namespace

std::string escape_option_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        out += c;
        if (c == ',') out += ',';
    }
    return out;
}

void check_keymap(std::string_view keymap) {
    bool ok = !keymap.empty() && std::all_of(keymap.begin(), keymap.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    if (!ok) fail(error_code::config_unsupported, "invalid VNC keymap: only letters, digits, '_' and '-' are allowed");
}

command_line build_command_line(const xml::domain_def& def, const command_options& opts) {
    using xml::domain_virt_type;
    if (def.type == domain_virt_type::kqemu)
        fail(error_code::config_unsupported, "kqemu acceleration is not supported by this QEMU: use type 'qemu' or 'kvm'");
    if (def.type != domain_virt_type::qemu && def.type != domain_virt_type::kvm)
        fail(error_code::config_unsupported,
             "unsupported domain type '" + std::string(xml::to_string(def.type)) + "' for the QEMU driver");
    if (def.os.type != "hvm") fail(error_code::os_type, "no support for os type '" + def.os.type + "'");
    if (!def.uuid) fail(error_code::internal_error, "domain has no UUID");

    command_line out;
    auto& a = out.argv;
    auto arg = [&](std::string flag, std::optional<std::string> value = std::nullopt) {
        a.push_back(std::move(flag));
        if (value) a.push_back(std::move(*value));
    };

    arg(opts.emulator);
    arg("-name", "guest=" + escape_option_value(def.name) + ",debug-threads=on");
    arg("-S");
    // <bios useserial='yes'/>: SeaBIOS writes to the serial port (its sercon, switched on by graphics=off)
    arg("-machine", escape_option_value(def.os.machine.value_or("pc")) + ",usb=off,dump-guest-core=off" +
                        (def.os.bios_useserial.value_or(false) ? ",graphics=off" : ""));
    arg("-accel", opts.kvm ? "kvm" : "tcg");
    arg("-m", mib(def.memory_kib));
    if (def.cpu) {
        // the default model (custom qemu64 without features) is QEMU's own: no -cpu, as libvirt
        const auto& c = *def.cpu;
        std::string model;
        if (c.mode == "host-passthrough" || c.mode == "host-model") {
            if (!opts.kvm)
                fail(error_code::config_unsupported, "CPU mode '" + *c.mode + "' for " + def.os.arch.value_or("x86_64") +
                                                         " qemu domain on " + def.os.arch.value_or("x86_64") +
                                                         " host is not supported by hypervisor");
            model = "host";
        } else if (c.mode == "maximum") {
            model = "max";
        } else if (c.model && (*c.model != "qemu64" || !c.features.empty())) {
            model = *c.model;
        }
        if (!model.empty()) {
            std::string cpu = escape_option_value(model);
            for (const auto& f : c.features)
                cpu += "," + escape_option_value(f.name) + (f.policy == "disable" || f.policy == "forbid" ? "=off" : "=on");
            arg("-cpu", cpu);
        }
    }
    unsigned max_cpus = std::max(1U, def.vcpu.count);
    unsigned cur_cpus = def.vcpu.current ? std::min(*def.vcpu.current, max_cpus) : max_cpus;
    std::string topology = ",sockets=" + std::to_string(max_cpus) + ",cores=1,threads=1";
    if (def.cpu && def.cpu->topology) {
        const auto& t = *def.cpu->topology;
        if (static_cast<unsigned long long>(t.sockets) * t.dies * t.cores * t.threads != max_cpus)
            fail(error_code::xml_error, "CPU topology doesn't match maximum vcpu count");
        topology = ",sockets=" + std::to_string(t.sockets) + (t.dies > 1 ? ",dies=" + std::to_string(t.dies) : "") +
                   ",cores=" + std::to_string(t.cores) + ",threads=" + std::to_string(t.threads);
    }
    arg("-smp", std::to_string(cur_cpus) + (cur_cpus != max_cpus ? ",maxcpus=" + std::to_string(max_cpus) : "") + topology);
    arg("-uuid", def.uuid->str());
    arg("-no-user-config");
    arg("-nodefaults");
    arg("-chardev", "socket,id=charmonitor,fd=" + std::to_string(opts.monitor_fd) + ",server=on,wait=off");
    arg("-mon", "chardev=charmonitor,id=monitor,mode=control");
    switch (def.clock.offset) {
        case xml::clock_offset::utc: arg("-rtc", "base=utc"); break;
        case xml::clock_offset::localtime: arg("-rtc", "base=localtime"); break;
        default: fail(error_code::config_unsupported, "unsupported clock offset for the QEMU driver (use utc or localtime)");
    }
    arg("-no-shutdown");
    if (def.on_reboot == xml::lifecycle_action::destroy) arg("-no-reboot");
    if (!def.features.acpi) arg("-no-acpi");
    if (def.os.kernel) arg("-kernel", *def.os.kernel);
    if (def.os.initrd) arg("-initrd", *def.os.initrd);
    if (def.os.cmdline) arg("-append", *def.os.cmdline);
    {
        // libvirt's order: menu, reboot-timeout, splash-time (the menu's timeout), strict
        std::string boot;
        if (def.os.bootmenu) boot += *def.os.bootmenu ? "menu=on," : "menu=off,";
        if (def.os.bios_reboot_timeout) boot += "reboot-timeout=" + std::to_string(*def.os.bios_reboot_timeout) + ",";
        if (def.os.bootmenu_timeout) boot += "splash-time=" + std::to_string(*def.os.bootmenu_timeout) + ",";
        arg("-boot", boot + "strict=on");
    }

    // Boot order: each <boot dev> gives the next bootindex to the first device of its kind.
    std::optional<unsigned> boot_fd, boot_cd, boot_hd, boot_net;
    unsigned next_boot = 1;
    for (auto b : def.os.boot) {
        auto& slot = b == xml::boot_device::fd ? boot_fd : b == xml::boot_device::cdrom ? boot_cd
                         : b == xml::boot_device::hd ? boot_hd : boot_net;
        if (!slot) slot = next_boot++;
    }

    pci_slots slots(def);
    bool usb = true;
    for (const auto& c : def.devices.controllers)
        if (c.type == xml::controller_type::usb && c.model == "none") usb = false;
    if (usb) a.insert(a.end(), {"-device", R"({"driver":"piix3-usb-uhci","id":"usb","bus":"pci.0","addr":"0x1.0x2"})"});

    // Disks: a storage node, a format node on it, and the guest device.
    unsigned node = 0, virtio_disks = 0;
    bool first_hd = true, first_cd = true;
    for (const auto& d : def.devices.disks) {
        std::string bus = disk_bus_of(d);
        std::string drive;
        node = disk_storage_index(def, static_cast<std::size_t>(&d - def.devices.disks.data()));
        bool ro = d.readonly || d.device == "cdrom";
        if (d.type != "file" && d.type != "block")
            fail(error_code::config_unsupported, "unsupported disk type '" + d.type + "' for disk '" + d.target_dev + "'");
        if (d.source) {
            std::string base = "libvirt-" + std::to_string(node);
            json::object storage;
            storage["driver"] = d.type == "block" ? (d.device == "cdrom" ? "host_cdrom" : "host_device") : "file";
            storage["filename"] = *d.source;
            storage["node-name"] = base + "-storage";
            storage["read-only"] = ro;
            json::object format;
            format["node-name"] = base + "-format";
            format["read-only"] = ro;
            format["driver"] = d.driver_type && *d.driver_type != "aio" ? *d.driver_type : std::string("raw");
            format["file"] = base + "-storage";
            arg("-blockdev", device_json(storage));
            arg("-blockdev", device_json(format));
            drive = base + "-format";
        }
        json::object dev;
        // 0 = none (boot indexes start at 1); a plain integer, as g++ 12 misreads an optional here
        unsigned bootindex = 0;
        if (d.device == "cdrom" && first_cd) { bootindex = boot_cd.value_or(0); first_cd = false; }
        if (d.device == "disk" && first_hd) { bootindex = boot_hd.value_or(0); first_hd = false; }
        if (bus == "ide") {
            auto idx = disk_index(d.target_dev, "hd");
            if (!idx || *idx > 3) fail(error_code::config_unsupported, "unsupported IDE disk target '" + d.target_dev + "'");
            if (d.device == "disk" && d.readonly) fail(error_code::config_unsupported, "readonly ide disks are not supported");
            if (d.device != "disk" && d.device != "cdrom")
                fail(error_code::config_unsupported, "unsupported device '" + d.device + "' on the IDE bus");
            unsigned b = *idx / 2, u = *idx % 2;
            dev["driver"] = d.device == "cdrom" ? "ide-cd" : "ide-hd";
            dev["bus"] = "ide." + std::to_string(b);
            dev["unit"] = u;
            if (!drive.empty()) dev["drive"] = drive;
            dev["id"] = "ide0-" + std::to_string(b) + "-" + std::to_string(u);
        } else if (bus == "fdc") {
            auto idx = disk_index(d.target_dev, "fd");
            if (!idx || *idx > 1) fail(error_code::config_unsupported, "unsupported floppy target '" + d.target_dev + "'");
            dev["driver"] = "floppy";
            dev["unit"] = *idx;
            if (!drive.empty()) dev["drive"] = drive;
            dev["id"] = "fdc0-0-" + std::to_string(*idx);
            bootindex = 0;
            if (d.device == "floppy" && boot_fd) { bootindex = *boot_fd; boot_fd.reset(); }
        } else if (bus == "virtio") {
            if (d.device != "disk") fail(error_code::config_unsupported, "virtio disks must be of device 'disk'");
            if (drive.empty()) fail(error_code::no_source, "virtio disk '" + d.target_dev + "' needs a source");
            dev["driver"] = "virtio-blk-pci";
            dev["bus"] = "pci.0";
            dev["addr"] = slots.take(d.address);
            dev["drive"] = drive;
            dev["id"] = "virtio-disk" + std::to_string(virtio_disks++);
        } else {
            fail(error_code::config_unsupported, "unsupported disk bus '" + bus + "' for disk '" + d.target_dev + "'");
        }
        if (bootindex != 0) dev["bootindex"] = bootindex;
        arg("-device", device_json(dev));
    }

    // Interfaces: -netdev backend + NIC; tap kinds take an fd the driver opened.
    int tap_fd = opts.first_tap_fd;
    for (std::size_t i = 0; i < def.devices.interfaces.size(); ++i) {
        const auto& n = def.devices.interfaces[i];
        std::string id = std::to_string(i);
        json::object netdev;
        switch (n.type) {
            case xml::interface_type::user: netdev["type"] = "user"; break;
            case xml::interface_type::network:
            case xml::interface_type::bridge:
            case xml::interface_type::ethernet:
                netdev["type"] = "tap";
                netdev["fd"] = std::to_string(tap_fd++);
                out.tap_names.push_back(n.target_dev.value_or(""));
                break;
            case xml::interface_type::mcast: netdev["type"] = "socket"; netdev["mcast"] = socket_endpoint(n, "mcast"); break;
            case xml::interface_type::server: netdev["type"] = "socket"; netdev["listen"] = socket_endpoint(n, "server"); break;
            case xml::interface_type::client: netdev["type"] = "socket"; netdev["connect"] = socket_endpoint(n, "client"); break;
        }
        netdev["id"] = "hostnet" + id;
        arg("-netdev", device_json(netdev));
        json::object nic;
        nic["driver"] = nic_driver(nic_model(n));
        nic["netdev"] = "hostnet" + id;
        nic["id"] = "net" + id;
        if (n.mac) nic["mac"] = *n.mac;
        nic["bus"] = "pci.0";
        nic["addr"] = slots.take(n.address);
        if (boot_net) { nic["bootindex"] = *boot_net; boot_net.reset(); }
        arg("-device", device_json(nic));
    }

    // Serial ports; a console of type serial with no <serial> is serial0 (as libvirt does).
    std::vector<xml::chardev_def> serials = def.devices.serials;
    if (serials.empty())
        for (const auto& c : def.devices.consoles)
            if (!c.target_type || *c.target_type == "serial") { serials.push_back(c); break; }
    for (std::size_t i = 0; i < serials.size(); ++i) {
        std::string id = "charserial" + std::to_string(i);
        arg("-chardev", chardev_backend(serials[i], id));
        json::object dev;
        dev["driver"] = "isa-serial";
        dev["chardev"] = id;
        dev["id"] = "serial" + std::to_string(i);
        dev["index"] = static_cast<unsigned>(serials[i].target_port);
        arg("-device", device_json(dev));
    }
    for (std::size_t i = 0; i < def.devices.parallels.size(); ++i) {
        std::string id = "charparallel" + std::to_string(i);
        arg("-chardev", chardev_backend(def.devices.parallels[i], id));
        arg("-device", R"({"driver":"isa-parallel","chardev":")" + id + R"(","id":"parallel)" + std::to_string(i) + "\"}");
    }

    // Inputs: PS/2 is built into the machine; USB and virtio ones are devices.
    unsigned usb_port = 1;
    for (std::size_t i = 0; i < def.devices.inputs.size(); ++i) {
        const auto& in = def.devices.inputs[i];
        auto bus = in.bus.value_or(xml::input_bus::ps2);
        if (bus == xml::input_bus::ps2) {
            if (in.type == xml::input_type::tablet) fail(error_code::config_unsupported, "tablet input is not supported on the ps2 bus");
            continue;
        }
        json::object dev;
        if (bus == xml::input_bus::usb) {
            if (!usb) fail(error_code::config_unsupported, "USB input needs a USB controller");
            dev["driver"] = in.type == xml::input_type::tablet ? "usb-tablet" : in.type == xml::input_type::mouse ? "usb-mouse" : "usb-kbd";
            dev["id"] = "input" + std::to_string(i);
            dev["bus"] = "usb.0";
            // the port the definition names (the QEMU driver fills it in at define), else the next
            if (in.address && in.address->type == xml::address_type::usb && in.address->port)
                dev["port"] = *in.address->port;
            else
                dev["port"] = std::to_string(usb_port++);
        } else if (bus == xml::input_bus::virtio) {
            dev["driver"] = in.type == xml::input_type::tablet ? "virtio-tablet-pci" : in.type == xml::input_type::mouse ? "virtio-mouse-pci" : "virtio-keyboard-pci";
            dev["id"] = "input" + std::to_string(i);
            dev["bus"] = "pci.0";
            dev["addr"] = slots.take(in.address);
        } else {
            fail(error_code::config_unsupported, "unsupported input bus 'xen' for the QEMU driver");
        }
        arg("-device", device_json(dev));
    }

    // Graphics and the video card they need.
    bool has_graphics = false;
    std::size_t vnc_seen = 0;
    for (const auto& g : def.devices.graphics) {
        if (has_graphics) fail(error_code::config_unsupported, "only one graphics device is supported");
        has_graphics = true;
        if (g.type == xml::graphics_type::vnc) {
            arg("-audiodev", R"({"id":"audio1","driver":"none"})");
            int port = g.port;
            if (g.autoport || port <= 0) {
                if (vnc_seen >= opts.vnc_ports.size()) fail(error_code::internal_error, "no VNC port was reserved");
                port = opts.vnc_ports[vnc_seen];
            }
            ++vnc_seen;
            if (port < 5900 || port > 65535) fail(error_code::config_unsupported, "VNC port " + std::to_string(port) + " is out of range");
            std::string listen = opts.vnc_listen;
            if (!g.listens.empty() && g.listens.front().address) listen = *g.listens.front().address;
            if (listen.find(':') != std::string::npos) listen = "[" + listen + "]";
            arg("-vnc", escape_option_value(listen) + ":" + std::to_string(port - 5900) + ",audiodev=audio1");
            if (g.keymap) {
                check_keymap(*g.keymap);  // -k takes the value whole: refused, not escaped
                arg("-k", *g.keymap);
            }
        } else {
            arg("-display", std::string("sdl") + (g.fullscreen.value_or(false) ? ",full-screen=on" : ""));
        }
    }
    if (!has_graphics) arg("-display", "none");
    // Video cards: the primary one as the VGA-compatible variant of its model.
    for (std::size_t i = 0; i < def.devices.videos.size(); ++i) {
        const auto& v = def.devices.videos[i];
        if (v.model == "none") continue;
        json::object dev;
        if (v.model == "cirrus") dev["driver"] = "cirrus-vga";
        else if (v.model == "vga") dev["driver"] = "VGA";
        else if (v.model == "vmvga") dev["driver"] = "vmware-svga";
        else if (v.model == "virtio") dev["driver"] = v.primary ? "virtio-vga" : "virtio-gpu-pci";
        else if (v.model == "qxl") dev["driver"] = v.primary ? "qxl-vga" : "qxl";
        else if (v.model == "bochs") dev["driver"] = "bochs-display";
        else fail(error_code::config_unsupported, "video type '" + v.model + "' is not supported by the QEMU driver");
        dev["id"] = "video" + std::to_string(i);
        if (v.model == "vga" || v.model == "vmvga") dev["vgamem_mb"] = v.vram.value_or(16384) / 1024;
        if (v.model == "qxl") {
            dev["ram_size"] = static_cast<std::uint64_t>(v.ram.value_or(65536)) * 1024;
            dev["vram_size"] = static_cast<std::uint64_t>(v.vram.value_or(65536)) * 1024;
        }
        if (v.model == "virtio" && v.heads.value_or(1) > 1) dev["max_outputs"] = *v.heads;
        dev["bus"] = "pci.0";
        // slot 2 is kept for the primary card (pci_slots never hands it out)
        dev["addr"] = (v.primary && !v.address) ? std::string("0x2") : slots.take(v.address);
        arg("-device", device_json(dev));
    }

    if (!def.devices.memballoon || def.devices.memballoon->model == "virtio") {
        json::object dev;
        dev["driver"] = "virtio-balloon-pci";
        dev["id"] = "balloon0";
        dev["bus"] = "pci.0";
        dev["addr"] = slots.take(def.devices.memballoon ? def.devices.memballoon->address : std::nullopt);
        if (def.devices.memballoon && def.devices.memballoon->autodeflate)
            dev["deflate-on-oom"] = *def.devices.memballoon->autodeflate;
        if (def.devices.memballoon && def.devices.memballoon->free_page_reporting)
            dev["free-page-reporting"] = *def.devices.memballoon->free_page_reporting;
        arg("-device", device_json(dev));
    } else if (def.devices.memballoon->model != "none") {
        fail(error_code::config_unsupported, "unsupported memballoon model '" + def.devices.memballoon->model + "'");
    }
    if (opts.incoming) arg("-incoming", "defer");
    arg("-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    arg("-msg", "timestamp=on");
    return out;
}

std::string format_args(const std::vector<std::string>& argv) {
    auto quote = [](const std::string& s) {
        bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("-_./=:,+@%").find(c) != std::string_view::npos;
        });
        if (plain) return s;
        std::string q = "'";
        for (char c : s) {
            if (c == '\'') q += "'\\''";
            else q += c;
        }
        return q + "'";
    };
    std::string out;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        // a flag and its value share a line, as libvirt's .args files do
        out += quote(argv[i]);
        bool flag_with_value = argv[i].size() > 1 && argv[i][0] == '-' && i + 1 < argv.size() && argv[i + 1][0] != '-';
        if (flag_with_value) out += " " + quote(argv[++i]);
        out += i + 1 < argv.size() ? " \\\n" : "\n";
    }
    return out;
}

unsigned disk_storage_index(const xml::domain_def& def, std::size_t i) {
    if (def.devices.disks[i].source_index) return *def.devices.disks[i].source_index;
    return static_cast<unsigned>(def.devices.disks.size() - i);
}

void complete_live_definition(xml::domain_def& def, const std::string& vnc_listen, unsigned uid, unsigned gid) {
    auto& dev = def.devices;
    // each source's storage number, its chain's end, and no format for an empty drive (as libvirt)
    for (std::size_t i = 0; i < dev.disks.size(); ++i) {
        auto& d = dev.disks[i];
        if (d.source) {
            d.source_index = disk_storage_index(def, i);
            d.backing_store_terminated = true;
        } else if (d.driver_type == "raw") {
            d.driver_type.reset();
        }
    }
    auto target_index = [](const std::string& target, std::size_t prefix) -> std::optional<unsigned> {
        if (target.size() <= prefix) return std::nullopt;
        unsigned v = 0;
        for (std::size_t i = prefix; i < target.size(); ++i) {
            char c = target[i];
            if (c < 'a' || c > 'z') return std::nullopt;
            v = v * 26 + static_cast<unsigned>(c - 'a') + (i + 1 < target.size() ? 1U : 0U);
        }
        return v;
    };
    for (auto& d : dev.disks) {
        if (d.alias) continue;
        std::string bus = disk_bus_of(d);
        if (d.address && d.address->type == xml::address_type::drive) {
            auto c = d.address->controller.value_or(0), b = d.address->bus.value_or(0), u = d.address->unit.value_or(0);
            if (bus == "ide" || bus == "sata" || bus == "fdc")
                d.alias = bus + std::to_string(c) + "-" + std::to_string(b) + "-" + std::to_string(u);
            else if (bus == "scsi")
                d.alias = "scsi" + std::to_string(c) + "-" + std::to_string(b) + "-" +
                          std::to_string(d.address->target.value_or(0)) + "-" + std::to_string(u);
        } else if (bus == "virtio") {
            if (auto i = target_index(d.target_dev, 2)) d.alias = "virtio-disk" + std::to_string(*i);
        }
    }
    for (auto& c : dev.controllers) {
        if (c.alias) continue;
        auto type = std::string(xml::detail::controller_type_names(c.type));
        if (c.type == xml::controller_type::pci) c.alias = "pci." + std::to_string(c.index);
        else if (c.type == xml::controller_type::ide && c.index == 0) c.alias = "ide";
        else if (c.type == xml::controller_type::usb && c.index == 0) c.alias = "usb";
        else c.alias = type + std::to_string(c.index);
    }
    for (std::size_t i = 0; i < dev.interfaces.size(); ++i)
        if (!dev.interfaces[i].alias) dev.interfaces[i].alias = "net" + std::to_string(i);
    for (std::size_t i = 0; i < dev.serials.size(); ++i)
        if (!dev.serials[i].alias) dev.serials[i].alias = "serial" + std::to_string(i);
    for (std::size_t i = 0; i < dev.parallels.size(); ++i)
        if (!dev.parallels[i].alias) dev.parallels[i].alias = "parallel" + std::to_string(i);
    for (std::size_t i = 0; i < dev.consoles.size(); ++i)
        if (!dev.consoles[i].alias) dev.consoles[i].alias = "console" + std::to_string(i);
    for (std::size_t i = 0; i < dev.inputs.size(); ++i)
        if (!dev.inputs[i].alias) dev.inputs[i].alias = "input" + std::to_string(i);
    for (std::size_t i = 0; i < dev.sounds.size(); ++i)
        if (!dev.sounds[i].alias) dev.sounds[i].alias = "sound" + std::to_string(i);
    for (std::size_t i = 0; i < dev.videos.size(); ++i)
        if (!dev.videos[i].alias && dev.videos[i].model != "none") dev.videos[i].alias = "video" + std::to_string(i);
    for (std::size_t i = 0; i < dev.hostdevs.size(); ++i)
        if (!dev.hostdevs[i].alias) dev.hostdevs[i].alias = "hostdev" + std::to_string(i);
    if (dev.memballoon && dev.memballoon->model != "none" && !dev.memballoon->alias) dev.memballoon->alias = "balloon0";
    // a VNC server listens where qemu.conf says unless the definition names an address
    for (auto& g : dev.graphics) {
        if (g.type != xml::graphics_type::vnc) continue;
        if (g.listens.empty()) g.listens.push_back({});
        auto& l = g.listens.front();
        if (l.type == "address" && !l.address) l.address = vnc_listen;
    }
    bool has_dac = std::any_of(def.seclabels.begin(), def.seclabels.end(),
                               [](const xml::seclabel_def& l) { return l.model == "dac"; });
    if (!has_dac) {
        xml::seclabel_def dac;
        dac.model = "dac";
        dac.relabel = true;
        dac.label = dac.imagelabel = "+" + std::to_string(uid) + ":+" + std::to_string(gid);
        def.seclabels.push_back(dac);
    }
}

}  // namespace virtpp::hypervisor::qemu_detail
