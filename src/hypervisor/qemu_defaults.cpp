// libvirt 9.0's post-parse completion of an i440fx guest, as far as virtpp's domain model goes:
//   - controllers: usb (piix3-uhci at 00:01.2) unless one is given, pci-root, then one per disk
//     bus in use (scsi lsilogic, fdc, ide at 00:01.1, sata ahci), in libvirt's order;
//   - disks in the order libvirt's parser keeps them;
//   - drive addresses for ide (4 per controller, 2 buses of 2 units), scsi (7 units), sata (6)
//     and floppy disks, from the target name;
//   - <driver name='qemu' type='raw'/> on disks that have neither;
//   - PS/2 mouse and keyboard;
//   - the default CPU (custom qemu64, check none), an audio backend of type none, a cirrus video
//     card for guests with graphics, ISA serial ports (target and model isa-serial);
//   - the NIC model rtl8139 when none is given;
//   - USB inputs on ports 1, 2, ... of the first USB controller;
//   - PCI slots on bus 0 in libvirt's order: interfaces, sound cards, controllers, virtio disks,
//     the memballoon, secondary video cards, virtio inputs; slot 1 is the PIIX3, slot 2 the
//     primary video card.
#include "hypervisor/qemu_defaults.hpp"

#include "hypervisor/disk_order.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <cstddef>
#include <set>
#include <vector>
#include <string>

namespace virtpp::hypervisor::qemu_detail {
namespace {

using xml::address_type;
using xml::controller_type;
using xml::device_address;

bool is_pc_machine(const xml::domain_def& def) {
    if (!def.os.arch || (*def.os.arch != "x86_64" && *def.os.arch != "i686")) return false;
    if (!def.os.machine) return false;
    const std::string& m = *def.os.machine;
    return m == "pc" || m.rfind("pc-i440fx-", 0) == 0 || m.rfind("pc-0.", 0) == 0 || m.rfind("pc-1.", 0) == 0;
}

/// hda -> 0, sdb -> 1, fdb -> 1: the index of a target name after its two-letter prefix.
std::optional<unsigned> target_index(const std::string& dev) {
    if (dev.size() < 3) return std::nullopt;
    unsigned idx = 0;
    for (char c : dev.substr(2)) {
        if (c < 'a' || c > 'z') return std::nullopt;
        idx = idx * 26 + static_cast<unsigned>(c - 'a' + 1);
        if (idx > 100000) return std::nullopt;
    }
    return idx - 1;
}

std::string bus_of(const xml::disk_def& d) {
    if (d.target_bus) return *d.target_bus;
    if (d.target_dev.rfind("vd", 0) == 0) return "virtio";
    if (d.target_dev.rfind("sd", 0) == 0) return "scsi";
    if (d.target_dev.rfind("fd", 0) == 0) return "fdc";
    return "ide";
}

device_address drive_address(unsigned controller, unsigned bus, unsigned unit) {
    device_address a;
    a.type = address_type::drive;
    a.controller = controller;
    a.bus = bus;
    a.target = 0;
    a.unit = unit;
    return a;
}

device_address pci_address(unsigned slot, unsigned function = 0) {
    device_address a;
    a.type = address_type::pci;
    a.domain = 0;
    a.bus = 0;
    a.slot = slot;
    a.function = function;
    return a;
}

bool has_controller(const xml::domain_def& def, controller_type type, unsigned index) {
    return std::any_of(def.devices.controllers.begin(), def.devices.controllers.end(),
                       [&](const xml::controller_def& c) { return c.type == type && c.index == index; });
}

void add_controller(xml::domain_def& def, controller_type type, unsigned index, std::optional<std::string> model,
                    std::optional<device_address> address) {
    if (has_controller(def, type, index)) return;
    xml::controller_def c;
    c.type = type;
    c.index = index;
    c.model = std::move(model);
    c.address = std::move(address);
    // after the last controller of its type, else at the end (libvirt keeps them grouped)
    auto& list = def.devices.controllers;
    auto last_same = std::find_if(list.rbegin(), list.rend(), [&](const xml::controller_def& x) { return x.type == type; });
    list.insert(last_same == list.rend() ? list.end() : last_same.base(), std::move(c));
}

}  // namespace

void complete_pc_devices(xml::domain_def& def, std::string_view source_xml) {
    if (def.cpu && def.cpu->topology) {  // QEMU's validation, at define as in libvirt (the test driver has none)
        const auto& t = *def.cpu->topology;
        if (static_cast<unsigned long long>(t.sockets) * t.dies * t.cores * t.threads != def.vcpu.count)
            raise(error_code::xml_error, error_domain::qemu, "CPU topology doesn't match maximum vcpu count");
    }
    if (!is_pc_machine(def)) return;
    auto& dev = def.devices;

    // disks in libvirt's order, set as it parses them
    detail::order_disks_as_parsed(def, source_xml, [](const xml::disk_def& d) -> long {
        auto i = target_index(d.target_dev);
        return i ? static_cast<long>(*i) : -1;
    });

    // drive addresses, and the disk controllers they need
    std::set<unsigned> scsi, fdc, ide, sata;
    for (auto& d : dev.disks) {
        std::string bus = bus_of(d);
        if (!d.driver_name && !d.driver_type) {
            d.driver_name = "qemu";
            d.driver_type = "raw";  // an empty cdrom too
        }
        if (d.address) {
            if (d.address->type == address_type::drive) {
                unsigned c = d.address->controller.value_or(0);
                (bus == "scsi" ? scsi : bus == "fdc" ? fdc : bus == "sata" ? sata : ide).insert(c);
            }
            continue;
        }
        auto idx = target_index(d.target_dev);
        if (!idx) continue;
        if (bus == "ide") {
            d.address = drive_address(*idx / 4, (*idx % 4) / 2, *idx % 2);
            ide.insert(*idx / 4);
        } else if (bus == "scsi") {
            d.address = drive_address(*idx / 7, 0, *idx % 7);
            scsi.insert(*idx / 7);
        } else if (bus == "sata") {
            d.address = drive_address(*idx / 6, 0, *idx % 6);
            sata.insert(*idx / 6);
        } else if (bus == "fdc") {
            d.address = drive_address(0, 0, *idx);
            fdc.insert(0);
        }
    }

    // the default USB controller and the PCI root, then the disk controllers (libvirt's order)
    bool any_usb = std::any_of(dev.controllers.begin(), dev.controllers.end(),
                               [](const xml::controller_def& c) { return c.type == controller_type::usb; });
    if (!any_usb) add_controller(def, controller_type::usb, 0, "piix3-uhci", pci_address(1, 2));
    if (!has_controller(def, controller_type::pci, 0)) add_controller(def, controller_type::pci, 0, "pci-root", std::nullopt);
    for (unsigned c : scsi) add_controller(def, controller_type::scsi, c, "lsilogic", std::nullopt);
    for (unsigned c : fdc) add_controller(def, controller_type::fdc, c, std::nullopt, std::nullopt);
    for (unsigned c : ide) add_controller(def, controller_type::ide, c, std::nullopt, c == 0 ? std::optional(pci_address(1, 1)) : std::nullopt);
    for (unsigned c : sata) add_controller(def, controller_type::sata, c, std::nullopt, std::nullopt);
    for (auto& c : dev.controllers) {
        if (c.type == controller_type::usb && c.index == 0 && !c.model) c.model = "piix3-uhci";
        if (c.type == controller_type::usb && c.index == 0 && c.model == "piix3-uhci" && !c.address) c.address = pci_address(1, 2);
        if (c.type == controller_type::ide && c.index == 0 && !c.address) c.address = pci_address(1, 1);
    }

    // PS/2 mouse and keyboard, built into the machine
    auto has_input = [&](xml::input_type t) {
        return std::any_of(dev.inputs.begin(), dev.inputs.end(), [&](const xml::input_def& i) {
            return i.type == t && i.bus.value_or(xml::input_bus::ps2) == xml::input_bus::ps2;
        });
    };
    for (auto& i : dev.inputs)
        if (!i.bus) i.bus = xml::input_bus::ps2;
    if (!has_input(xml::input_type::mouse)) dev.inputs.push_back({xml::input_type::mouse, xml::input_bus::ps2, std::nullopt});
    if (!has_input(xml::input_type::keyboard)) dev.inputs.push_back({xml::input_type::keyboard, xml::input_bus::ps2, std::nullopt});

    for (auto& n : dev.interfaces)
        if (!n.model) n.model = "rtl8139";

    // the CPU: the machine's default model (qemu64) when none is given; a custom or host CPU
    // is not checked against the host (check='none'), a host-passthrough one stays migratable
    if (!def.cpu) {
        xml::cpu_def cpu;
        cpu.mode = "custom";
        cpu.match = "exact";
        cpu.check = "none";
        cpu.model = "qemu64";
        cpu.fallback = "forbid";
        def.cpu = cpu;
    } else if (!def.cpu->check && (def.cpu->mode == "custom" || def.cpu->mode == "host-passthrough" || def.cpu->mode == "maximum")) {
        def.cpu->check = "none";
        if (def.cpu->mode != "custom" && !def.cpu->migratable) def.cpu->migratable = "on";
    }

    // one audio backend, 'none', when the guest names none; a video card for graphics
    if (dev.audios.empty()) dev.audios.push_back({1, "none"});
    if (!dev.graphics.empty() && dev.videos.empty()) {
        xml::video_def video;  // cirrus, libvirt's default on i440fx
        video.vram = 16384;
        video.heads = 1;
        video.primary = true;
        dev.videos.push_back(video);
    }

    // serial ports are ISA serial ports on this machine
    for (auto& c : dev.serials) {
        if (!c.target_type || *c.target_type == "isa") c.target_type = "isa-serial";
        if (*c.target_type == "isa-serial" && !c.target_model) c.target_model = "isa-serial";
    }

    // USB inputs on the first controller's ports 1, 2, ... (the command line counts them alike)
    unsigned usb_port = 1;
    for (auto& i : dev.inputs)
        if (i.bus == xml::input_bus::usb && !i.address) {
            device_address a;
            a.type = address_type::usb;
            a.bus = 0;
            a.port = std::to_string(usb_port++);
            i.address = a;
        }

    // PCI slots on bus 0
    std::set<unsigned> used{1};
    // slot 2 is the primary video card's
    if (!dev.videos.empty() && dev.videos.front().model != "none" && !dev.videos.front().address)
        dev.videos.front().address = pci_address(2);
    auto note = [&](const std::optional<device_address>& a) {
        if (a && a->type == address_type::pci && a->slot && a->bus.value_or(0) == 0) used.insert(*a->slot);
    };
    for (const auto& d : dev.disks) note(d.address);
    for (const auto& c : dev.controllers) note(c.address);
    for (const auto& n : dev.interfaces) note(n.address);
    for (const auto& i : dev.inputs) note(i.address);
    for (const auto& s : dev.sounds) note(s.address);
    for (const auto& v : dev.videos) note(v.address);
    if (dev.memballoon) note(dev.memballoon->address);
    unsigned next = 1;
    auto assign = [&](std::optional<device_address>& a) {
        if (a) return;
        while (next <= 31 && used.count(next) != 0) ++next;
        if (next > 31) return;  // left to the command line, which reports the shortage
        used.insert(next);
        a = pci_address(next);
    };
    for (auto& n : dev.interfaces) assign(n.address);
    for (auto& s : dev.sounds)
        if (s.model != "pcspk" && s.model != "sb16") assign(s.address);  // those two are ISA
    for (auto& c : dev.controllers)
        if (c.type == controller_type::scsi || c.type == controller_type::sata ||
            (c.type == controller_type::usb && c.model != "none" && c.model != "piix3-uhci") ||
            c.type == controller_type::virtio_serial)
            assign(c.address);
    for (auto& d : dev.disks)
        if (bus_of(d) == "virtio") assign(d.address);
    if (dev.memballoon && dev.memballoon->model == "virtio") assign(dev.memballoon->address);
    for (auto& v : dev.videos)
        if (v.model != "none") assign(v.address);  // secondary cards, after the balloon as libvirt orders them
    for (auto& i : dev.inputs)
        if (i.bus == xml::input_bus::virtio) assign(i.address);
}

}  // namespace virtpp::hypervisor::qemu_detail
