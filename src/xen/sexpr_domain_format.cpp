// Domain definition -> the (vm ...) S-expression xend's op=create / op=new take, in the field
// order libvirt's xen_sxpr wrote (see include/virtpp/xen/sexpr_domain.hpp).
#include <virtpp/error.hpp>
#include <virtpp/xen/sexpr_domain.hpp>

#include "xen/xen_detail.hpp"

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <vector>

namespace virtpp::xen {

namespace {

using xml::domain_def;

std::string mib(std::uint64_t kib) { return std::to_string(kib >> 10); }

std::string strip_ioemu(std::string dev) {
    if (dev.rfind("ioemu:", 0) == 0) dev.erase(0, 6);
    return dev;
}

void vnc_fields(sexpr& out, const xml::graphics_def& g) {
    out.push(sexpr::pair("vnc", "1"));
    if (g.autoport || g.port == -1) {
        out.push(sexpr::pair("vncunused", "1"));
    } else if (g.port >= 5900) {
        out.push(sexpr::pair("vncunused", "0"));
        out.push(sexpr::pair("vncdisplay", std::to_string(g.port - 5900)));
    }
    if (!g.listens.empty() && g.listens.front().address) out.push(sexpr::quoted_pair("vnclisten", *g.listens.front().address));
    if (g.passwd) out.push(sexpr::quoted_pair("vncpasswd", *g.passwd));
    if (g.keymap) out.push(sexpr::quoted_pair("keymap", *g.keymap));
}

void sdl_fields(sexpr& out, const xml::graphics_def& g) {
    out.push(sexpr::pair("sdl", "1"));
    if (g.display) out.push(sexpr::quoted_pair("display", *g.display));
    if (g.xauth) out.push(sexpr::quoted_pair("xauthority", *g.xauth));
}

void graphics_fields(sexpr& out, const xml::graphics_def& g, int version) {
    // xend 3.0.2 chose the display itself (5900 + domid): only the switch is sent
    if (g.type == xml::graphics_type::vnc && version < xend_config_version_3_0_3) out.push(sexpr::pair("vnc", "1"));
    else if (g.type == xml::graphics_type::vnc) vnc_fields(out, g);
    else sdl_fields(out, g);
}

/// libvirt keeps disks ordered by bus, then by target name (hda before hdc, xvda before xvdb).
std::vector<xml::disk_def> ordered_disks(std::vector<xml::disk_def> disks) {
    auto key = [](const xml::disk_def& d) {
        std::string dev = strip_ioemu(d.target_dev);
        return std::make_tuple(d.target_bus.value_or(""), dev.size(), dev);
    };
    std::stable_sort(disks.begin(), disks.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
    return disks;
}

std::string chardev_list(const std::vector<xml::chardev_def>& devs) {
    return devs.empty() ? "none" : detail::format_chardev(devs.front());
}

bool is_cdrom_in_image(const xml::disk_def& d, bool hvm, int version) {
    return hvm && version == xend_config_version_3_0_2 && d.device == "cdrom" && strip_ioemu(d.target_dev) == "hdc";
}

}  // namespace

sexpr disk_to_sexpr(const xml::disk_def& disk, bool hvm, int version) {
    if (disk.type != "file" && disk.type != "block")
        raise(error_code::config_unsupported, error_domain::sexpr, "unsupported disk type '" + disk.type + "' for xend");
    std::string driver = disk.driver_name.value_or(disk.type == "block" ? "phy" : "file");
    std::string kind = driver == "tap" || driver == "tap2" ? driver : "vbd";
    sexpr node = sexpr::list({sexpr::atom(kind)});
    std::string dev = strip_ioemu(disk.target_dev);
    if (hvm) {
        if (version == xend_config_version_3_0_2) dev = "ioemu:" + dev;
        else dev += disk.device == "cdrom" ? ":cdrom" : ":disk";
    } else if (disk.device == "cdrom") {
        dev += ":cdrom";
    }
    node.push(sexpr::quoted_pair("dev", dev));
    if (disk.source) {
        std::string uname = driver + ":";
        if (driver == "tap" || driver == "tap2") {
            std::string type = disk.driver_type.value_or("aio");
            uname += (type == "raw" ? "aio" : type) + ":";
        }
        node.push(sexpr::quoted_pair("uname", uname + *disk.source));
    }
    node.push(sexpr::quoted_pair("mode", disk.readonly ? "r" : disk.shareable ? "w!" : "w"));
    return sexpr::list({sexpr::atom("device"), node});
}

sexpr interface_to_sexpr(const xml::interface_def& nic, bool hvm, int version) {
    sexpr node = sexpr::list({sexpr::atom("vif")});
    if (nic.mac) node.push(sexpr::quoted_pair("mac", *nic.mac));
    if (nic.bandwidth_outbound_average)
        node.push(sexpr::quoted_pair("rate", std::to_string(*nic.bandwidth_outbound_average) + "KB/s"));
    switch (nic.type) {
    case xml::interface_type::bridge:
        node.push(sexpr::quoted_pair("bridge", nic.source_bridge.value_or("")));
        node.push(sexpr::quoted_pair("script", nic.script.value_or("vif-bridge")));
        break;
    case xml::interface_type::ethernet:
        if (nic.script) node.push(sexpr::quoted_pair("script", *nic.script));
        break;
    case xml::interface_type::network:
        raise(error_code::config_unsupported, error_domain::sexpr,
              "interface type 'network' needs the network driver's bridge; give type='bridge'");
    default:
        raise(error_code::config_unsupported, error_domain::sexpr, "unsupported interface type for xend");
    }
    for (const auto& ip : nic.ip_addresses) node.push(sexpr::quoted_pair("ip", ip));
    if (nic.target_dev && nic.target_dev->rfind("vif", 0) != 0) node.push(sexpr::quoted_pair("vifname", *nic.target_dev));
    if (nic.model && *nic.model == "netfront") {
        node.push(sexpr::pair("type", "netfront"));
    } else {
        if (nic.model) node.push(sexpr::quoted_pair("model", *nic.model));
        if (hvm && version <= xend_config_version_3_0_4) node.push(sexpr::pair("type", "ioemu"));
    }
    return sexpr::list({sexpr::atom("device"), node});
}

sexpr domain_to_sexpr(const domain_def& def, int version) {
    const bool hvm = def.os.type == "hvm";
    sexpr vm = sexpr::list({sexpr::atom("vm")});
    vm.push(sexpr::quoted_pair("name", def.name));
    std::uint64_t current = def.current_memory_kib.value_or(def.memory_kib);
    if (current == 0 || current > def.memory_kib) current = def.memory_kib;
    vm.push(sexpr::pair("memory", mib(current)));
    vm.push(sexpr::pair("maxmem", mib(def.memory_kib)));
    vm.push(sexpr::pair("vcpus", std::to_string(def.vcpu.count)));
    if (def.vcpu.current && *def.vcpu.current < def.vcpu.count && *def.vcpu.current < 64)
        vm.push(sexpr::pair("vcpu_avail", std::to_string((1ULL << *def.vcpu.current) - 1)));
    if (def.vcpu.cpuset) vm.push(sexpr::quoted_pair("cpus", *def.vcpu.cpuset));
    if (def.uuid) vm.push(sexpr::quoted_pair("uuid", def.uuid->str()));
    if (def.bootloader) {
        vm.push(sexpr::quoted_pair("bootloader", *def.bootloader));
        if (def.bootloader_args) vm.push(sexpr::quoted_pair("bootloader_args", *def.bootloader_args));
    }
    vm.push(sexpr::quoted_pair("on_poweroff", std::string(xml::to_string(def.on_poweroff))));
    vm.push(sexpr::quoted_pair("on_reboot", std::string(xml::to_string(def.on_reboot))));
    vm.push(sexpr::quoted_pair("on_crash", std::string(xml::to_string(def.on_crash))));

    const auto& d = def.devices;
    if (hvm) {
        sexpr image = sexpr::list({sexpr::atom("hvm")});
        if (!def.os.loader) raise(error_code::internal_error, error_domain::sexpr, "no HVM domain loader");
        if (def.os.kernel) {
            image.push(sexpr::quoted_pair("kernel", *def.os.kernel));
            if (def.os.initrd) image.push(sexpr::quoted_pair("ramdisk", *def.os.initrd));
            if (def.os.cmdline) image.push(sexpr::quoted_pair("args", *def.os.cmdline));
            image.push(sexpr::quoted_pair("loader", *def.os.loader));
        } else {
            image.push(sexpr::quoted_pair("kernel", *def.os.loader));
        }
        image.push(sexpr::pair("vcpus", std::to_string(def.vcpu.count)));
        std::string boot;
        for (auto b : def.os.boot) {
            switch (b) {
            case xml::boot_device::fd: boot += 'a'; break;
            case xml::boot_device::hd: boot += 'c'; break;
            case xml::boot_device::cdrom: boot += 'd'; break;
            case xml::boot_device::network: boot += 'n'; break;
            }
        }
        image.push(sexpr::pair("boot", boot.empty() ? "c" : boot));
        for (const auto& disk : d.disks) {
            if (is_cdrom_in_image(disk, hvm, version) && disk.source) image.push(sexpr::quoted_pair("cdrom", *disk.source));
            if (disk.device == "floppy" && disk.source) image.push(sexpr::quoted_pair(strip_ioemu(disk.target_dev), *disk.source));
        }
        if (def.features.acpi) image.push(sexpr::pair("acpi", "1"));
        if (def.features.apic) image.push(sexpr::pair("apic", "1"));
        if (def.features.pae) image.push(sexpr::pair("pae", "1"));
        if (def.features.hap) image.push(sexpr::pair("hap", *def.features.hap ? "1" : "0"));
        if (def.features.viridian) image.push(sexpr::pair("viridian", "1"));
        image.push(sexpr::pair("usb", "1"));
        for (const auto& in : d.inputs) {
            if (in.bus != xml::input_bus::usb) continue;
            image.push(sexpr::pair("usbdevice", in.type == xml::input_type::tablet ? "tablet" : "mouse"));
        }
        image.push(sexpr::pair("parallel", chardev_list(d.parallels)));
        if (d.serials.size() > 1 || (d.serials.size() == 1 && d.serials.front().target_port != 0)) {
            // one entry per port up to the highest, "none" for gaps
            int highest = 0;
            for (const auto& s : d.serials) highest = std::max(highest, s.target_port);
            sexpr ports = sexpr::list();
            for (int port = 0; port <= highest; ++port) {
                std::string value = "none";
                for (const auto& s : d.serials)
                    if (s.target_port == port) value = detail::format_chardev(s);
                ports.push(sexpr::atom(value));
            }
            image.push(sexpr::list({sexpr::atom("serial"), ports}));
        } else {
            image.push(sexpr::pair("serial", chardev_list(d.serials)));
        }
        if (!d.sounds.empty()) {
            std::string models;
            for (const auto& s : d.sounds) models += (models.empty() ? "" : ",") + s.model;
            image.push(sexpr::quoted_pair("soundhw", models));
        }
        if (d.emulator) image.push(sexpr::quoted_pair("device_model", *d.emulator));
        for (const auto& t : def.clock.timers)
            if (t.name == "hpet" && t.present) image.push(sexpr::pair("hpet", *t.present ? "1" : "0"));
        if (!d.graphics.empty()) graphics_fields(image, d.graphics.front(), version);
        vm.push(sexpr::list({sexpr::atom("image"), image}));
    } else if (def.os.kernel || def.os.cmdline || !def.bootloader) {
        sexpr image = sexpr::list({sexpr::atom("linux")});
        // with a bootloader, the kernel and ramdisk come from the guest's disk
        if (def.os.kernel && !def.bootloader) image.push(sexpr::quoted_pair("kernel", *def.os.kernel));
        if (def.os.initrd && !def.bootloader) image.push(sexpr::quoted_pair("ramdisk", *def.os.initrd));
        if (def.os.root) image.push(sexpr::quoted_pair("root", *def.os.root));
        if (def.os.cmdline) image.push(sexpr::quoted_pair("args", *def.os.cmdline));
        // xend before 3.0.4 took the PV framebuffer in the image
        if (version < xend_config_version_3_0_4 && !d.graphics.empty()) graphics_fields(image, d.graphics.front(), version);
        vm.push(sexpr::list({sexpr::atom("image"), image}));
    }
    vm.push(sexpr::pair("localtime", def.clock.offset == xml::clock_offset::localtime ? "1" : "0"));

    for (const auto& disk : ordered_disks(d.disks)) {
        if (is_cdrom_in_image(disk, hvm, version)) continue;
        if (hvm && disk.device == "floppy") continue;
        if (hvm && disk.device == "cdrom" && !disk.source && version == xend_config_version_3_0_2) continue;
        vm.push(disk_to_sexpr(disk, hvm, version));
    }
    for (const auto& nic : d.interfaces) vm.push(interface_to_sexpr(nic, hvm, version));
    if (!d.hostdevs.empty()) {
        sexpr pci = sexpr::list({sexpr::atom("pci")});
        auto hex = [](unsigned v, int width) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "0x%0*x", width, v);
            return std::string(buf);
        };
        for (const auto& h : d.hostdevs) {
            pci.push(sexpr::list({sexpr::atom("dev"), sexpr::pair("domain", hex(h.source.domain.value_or(0), 4)),
                                  sexpr::pair("bus", hex(h.source.bus.value_or(0), 2)),
                                  sexpr::pair("slot", hex(h.source.slot.value_or(0), 2)),
                                  sexpr::pair("func", hex(h.source.function.value_or(0), 1))}));
        }
        vm.push(sexpr::list({sexpr::atom("device"), pci}));
    }
    if (!hvm && version >= xend_config_version_3_0_4 && !d.graphics.empty()) {
        vm.push(sexpr::list({sexpr::atom("device"), sexpr::list({sexpr::atom("vkbd")})}));
        sexpr vfb = sexpr::list({sexpr::atom("vfb")});
        const auto& g = d.graphics.front();
        vfb.push(sexpr::pair("type", g.type == xml::graphics_type::vnc ? "vnc" : "sdl"));
        if (g.type == xml::graphics_type::vnc) {
            if (g.autoport || g.port == -1) {
                vfb.push(sexpr::pair("vncunused", "1"));
            } else if (g.port >= 5900) {
                vfb.push(sexpr::pair("vncunused", "0"));
                vfb.push(sexpr::pair("vncdisplay", std::to_string(g.port - 5900)));
            }
            if (!g.listens.empty() && g.listens.front().address) vfb.push(sexpr::quoted_pair("vnclisten", *g.listens.front().address));
            if (g.passwd) vfb.push(sexpr::quoted_pair("vncpasswd", *g.passwd));
            if (g.keymap) vfb.push(sexpr::quoted_pair("keymap", *g.keymap));
        } else {
            if (g.display) vfb.push(sexpr::quoted_pair("display", *g.display));
            if (g.xauth) vfb.push(sexpr::quoted_pair("xauthority", *g.xauth));
        }
        vm.push(sexpr::list({sexpr::atom("device"), vfb}));
    }
    return vm;
}

std::string domain_to_sexpr_text(const domain_def& def, int version) {
    return format_sexpr(domain_to_sexpr(def, version));
}

}  // namespace virtpp::xen
