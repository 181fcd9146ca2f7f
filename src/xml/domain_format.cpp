// Writing domain_def in libvirt 9.0's canonical layout (element and attribute order of
// virDomainDefFormatInternal and the device formatters it calls).
#include "xml/domain_detail.hpp"
#include "xml/tree.hpp"

#include <cstdio>

namespace virtpp::xml {

namespace {

using detail::writer;

std::string hex(unsigned value, int width) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%0*x", width, value);
    return buf;
}

void write_pci_fields(writer& w, const device_address& a) {
    w.attr("domain", hex(a.domain.value_or(0), 4))
        .attr("bus", hex(a.bus.value_or(0), 2))
        .attr("slot", hex(a.slot.value_or(0), 2))
        .attr("function", "0x" + std::to_string(a.function.value_or(0)));
}

/// <alias name='...'/>, the driver's device name, written in live definitions before the address.
void write_alias(writer& w, const std::optional<std::string>& alias) {
    if (alias) w.open("alias").attr("name", *alias).close();
}

void write_address(writer& w, const std::optional<device_address>& address) {
    if (!address) return;
    const auto& a = *address;
    w.open("address").attr("type", detail::address_type_names(a.type));
    switch (a.type) {
    case address_type::pci:
        if (a.domain.value_or(0) || a.bus.value_or(0) || a.slot.value_or(0) || a.function.value_or(0))
            write_pci_fields(w, a);
        if (a.multifunction) w.attr("multifunction", *a.multifunction ? "on" : "off");
        break;
    case address_type::drive:
        w.attr("controller", a.controller.value_or(0))
            .attr("bus", a.bus.value_or(0))
            .attr("target", a.target.value_or(0))
            .attr("unit", a.unit.value_or(0));
        break;
    case address_type::virtio_serial:
        w.attr("controller", a.controller.value_or(0)).attr("bus", a.bus.value_or(0)).attr("port", a.port.value_or("0"));
        break;
    case address_type::ccid:
        w.attr("controller", a.controller.value_or(0)).attr("slot", a.slot.value_or(0));
        break;
    case address_type::usb:
        w.attr("bus", a.bus.value_or(0)).attr_opt("port", a.port);
        break;
    }
    w.close();
}

void write_disk(writer& w, const disk_def& d) {
    w.open("disk").attr("type", d.type).attr("device", d.device);
    if (d.driver_name || d.driver_type || d.driver_cache) {
        w.open("driver").attr_opt("name", d.driver_name).attr_opt("type", d.driver_type).attr_opt("cache", d.driver_cache);
        w.close();
    }
    if (d.source) {
        w.open("source").attr(d.type == "block" ? "dev" : "file", *d.source);
        if (d.source_index) w.attr("index", std::to_string(*d.source_index));
        w.close();
    }
    if (d.backing_store_terminated) w.open("backingStore").close();
    w.open("target").attr("dev", d.target_dev).attr("bus", d.target_bus.value_or("ide")).close();
    if (d.readonly || d.device == "cdrom") w.open("readonly").close();
    if (d.shareable) w.open("shareable").close();
    write_alias(w, d.alias);
    write_address(w, d.address);
    w.close();
}

void write_controller(writer& w, const controller_def& c) {
    w.open("controller").attr("type", detail::controller_type_names(c.type)).attr("index", c.index);
    w.attr_opt("model", c.model);
    write_alias(w, c.alias);
    write_address(w, c.address);
    w.close();
}

void write_interface(writer& w, const interface_def& n, domain_format_flags flags) {
    w.open("interface").attr("type", detail::interface_type_names(n.type));
    if (n.mac) w.open("mac").attr("address", *n.mac).close();
    switch (n.type) {
    case interface_type::network:
        // live: the bridge the network gave it, as libvirt shows
        if (n.source_network) w.open("source").attr("network", *n.source_network).attr_opt("bridge", n.source_bridge).close();
        break;
    case interface_type::bridge:
        if (n.source_bridge) w.open("source").attr("bridge", *n.source_bridge).close();
        break;
    case interface_type::mcast:
    case interface_type::server:
    case interface_type::client:
        w.open("source").attr_opt("address", n.source_address).attr("port", n.source_port.value_or(0)).close();
        break;
    case interface_type::user:
    case interface_type::ethernet:
        break;
    }
    if (n.bandwidth_inbound_average || n.bandwidth_outbound_average) {
        w.open("bandwidth");
        if (n.bandwidth_inbound_average) w.open("inbound").attr("average", *n.bandwidth_inbound_average).close();
        if (n.bandwidth_outbound_average) w.open("outbound").attr("average", *n.bandwidth_outbound_average).close();
        w.close();
    }
    for (const auto& ip : n.ip_addresses)
        w.open("ip").attr("address", ip).attr("family", ip.find(':') == std::string::npos ? "ipv4" : "ipv6").close();
    if (n.script) w.open("script").attr("path", *n.script).close();
    if (n.target_dev && !(flags.inactive && detail::is_generated_ifname(*n.target_dev)))
        w.open("target").attr("dev", *n.target_dev).close();
    if (n.model) w.open("model").attr("type", *n.model).close();
    write_alias(w, n.alias);
    write_address(w, n.address);
    w.close();
}

/// serial / parallel / console
void write_chardev(writer& w, std::string_view kind, const chardev_def& s, domain_format_flags flags) {
    w.open(kind).attr("type", detail::chardev_type_names(s.type));
    const bool show_pty_path = s.type == chardev_type::pty && s.path && !flags.inactive;
    // libvirt keeps the 0.3 <console tty='...'> attribute for a running guest's first pty console
    if (kind == "console" && show_pty_path && s.target_port == 0) w.attr("tty", *s.path);
    switch (s.type) {
    case chardev_type::pty:
    case chardev_type::dev:
    case chardev_type::file:
    case chardev_type::pipe:
        if (s.type != chardev_type::pty || show_pty_path) w.open("source").attr_opt("path", s.path).close();
        break;
    case chardev_type::udp:
        if (s.bind_host || s.bind_service)
            w.open("source").attr("mode", "bind").attr_opt("host", s.bind_host).attr_opt("service", s.bind_service).close();
        if (s.host || s.service)
            w.open("source").attr("mode", "connect").attr_opt("host", s.host).attr_opt("service", s.service).close();
        break;
    case chardev_type::tcp:
        w.open("source").attr("mode", s.listen ? "bind" : "connect").attr_opt("host", s.host).attr_opt("service", s.service).close();
        w.open("protocol").attr("type", s.protocol).close();
        break;
    case chardev_type::unix_socket:
        if (s.path) w.open("source").attr("mode", s.listen ? "bind" : "connect").attr("path", *s.path).close();
        break;
    case chardev_type::null:
    case chardev_type::vc:
    case chardev_type::stdio:
        break;
    }
    w.open("target");
    if (kind == "console") {
        w.attr("type", s.target_type.value_or("serial")).attr("port", s.target_port);
    } else if (kind == "serial") {
        if (s.target_type) w.attr("type", *s.target_type);
        w.attr("port", s.target_port);
        if (s.target_model) w.open("model").attr("name", *s.target_model).close();
    } else {
        w.attr("port", s.target_port);
    }
    w.close();
    write_alias(w, s.alias);
    write_address(w, s.address);
    w.close();
}

void write_graphics(writer& w, const graphics_def& g, domain_format_flags flags) {
    w.open("graphics").attr("type", detail::graphics_type_names(g.type));
    if (g.type == graphics_type::sdl) {
        w.attr_opt("display", g.display).attr_opt("xauth", g.xauth);
        if (g.fullscreen.value_or(false)) w.attr("fullscreen", "yes");
        w.close();
        return;
    }
    const graphics_listen_def* first = g.listens.empty() ? nullptr : &g.listens.front();
    if (first && first->type == "socket") {
        w.attr_opt("socket", first->socket);
    } else if (!first || first->type == "address" || first->type == "network") {
        if (g.port && (!g.autoport || !flags.inactive)) w.attr("port", g.port);
        else if (g.autoport) w.attr("port", -1);
        w.attr("autoport", g.autoport ? "yes" : "no");
        if (first && first->address && !(first->type == "network" && flags.inactive))
            w.attr("listen", *first->address);
    }
    w.attr_opt("keymap", g.keymap);
    if (flags.secure) w.attr_opt("passwd", g.passwd);
    for (const auto& l : g.listens) {
        w.open("listen").attr("type", l.type);
        if (l.address && (l.type == "address" || (l.type == "network" && !flags.inactive))) w.attr("address", *l.address);
        if (l.type == "network") w.attr_opt("network", l.network);
        if (l.type == "socket") w.attr_opt("socket", l.socket);
        w.close();
    }
    w.close();
}

void write_clock(writer& w, const clock_def& c) {
    w.open("clock").attr("offset", detail::clock_offset_names(c.offset));
    switch (c.offset) {
    case clock_offset::utc:
    case clock_offset::localtime:
        if (c.adjustment_reset) w.attr("adjustment", "reset");
        break;
    case clock_offset::variable:
        w.attr("adjustment", static_cast<std::int64_t>(c.adjustment.value_or(0)))
            .attr("basis", detail::clock_basis_names(c.basis));
        break;
    case clock_offset::timezone:
        w.attr_opt("timezone", c.timezone);
        break;
    case clock_offset::absolute:
        w.attr("start", static_cast<std::uint64_t>(c.start.value_or(0)));
        break;
    }
    for (const auto& t : c.timers) {
        w.open("timer").attr("name", t.name);
        if (t.present) w.attr("present", *t.present ? "yes" : "no");
        w.attr_opt("tickpolicy", t.tickpolicy).attr_opt("track", t.track);
        w.close();
    }
    w.close();
}

void write_os(writer& w, const domain_def& def) {
    const auto& os = def.os;
    w.open("os");
    w.open("type").attr_opt("arch", os.arch).attr_opt("machine", os.machine).text(os.type).close();
    if (os.loader || os.loader_type) {
        w.open("loader").attr_opt("type", os.loader_type);
        if (os.loader) w.text(*os.loader);
        w.close();
    }
    if (os.kernel) w.leaf("kernel", *os.kernel);
    if (os.initrd) w.leaf("initrd", *os.initrd);
    if (os.cmdline) w.leaf("cmdline", *os.cmdline);
    if (os.root) w.leaf("root", *os.root);
    if (!def.bootloader)
        for (auto dev : os.boot) w.open("boot").attr("dev", detail::boot_names(dev)).close();
    if (os.bootmenu || os.bootmenu_timeout) {
        w.open("bootmenu");
        if (os.bootmenu) w.attr("enable", *os.bootmenu ? "yes" : "no");
        if (os.bootmenu_timeout) w.attr("timeout", std::to_string(*os.bootmenu_timeout));
        w.close();
    }
    if (os.bios_useserial || os.bios_reboot_timeout) {
        w.open("bios");
        if (os.bios_useserial) w.attr("useserial", *os.bios_useserial ? "yes" : "no");
        if (os.bios_reboot_timeout) w.attr("rebootTimeout", std::to_string(*os.bios_reboot_timeout));
        w.close();
    }
    w.close();
}

void write_features(writer& w, const features_def& f) {
    if (!(f.acpi || f.apic || f.pae || f.hap || f.viridian || f.privnet)) return;
    w.open("features");
    if (f.acpi) w.open("acpi").close();
    if (f.apic) w.open("apic").close();
    if (f.pae) w.open("pae").close();
    if (f.hap) w.open("hap").attr("state", *f.hap ? "on" : "off").close();
    if (f.viridian) w.open("viridian").close();
    if (f.privnet) w.open("privnet").close();
    w.close();
}

void write_cpu(writer& w, const cpu_def& c) {
    w.open("cpu");
    if (c.mode) w.attr("mode", *c.mode);
    if (c.match && c.mode == "custom") w.attr("match", *c.match);
    if (c.check) w.attr("check", *c.check);
    if (c.migratable) w.attr("migratable", *c.migratable);
    if (c.model) {
        w.open("model");
        if (c.fallback) w.attr("fallback", *c.fallback);
        w.text(*c.model).close();
    }
    if (c.vendor) w.leaf("vendor", *c.vendor);
    if (c.topology)
        w.open("topology")
            .attr("sockets", c.topology->sockets)
            .attr("dies", c.topology->dies)
            .attr("cores", c.topology->cores)
            .attr("threads", c.topology->threads)
            .close();
    for (const auto& f : c.features) w.open("feature").attr("policy", f.policy).attr("name", f.name).close();
    w.close();
}

}  // namespace

std::string format_domain_xml(const domain_def& def, domain_format_flags flags) {
    writer w;
    w.open("domain").attr("type", detail::virt_type_names(def.type));
    if (def.id && !flags.inactive) w.attr("id", *def.id);
    w.leaf("name", def.name);
    if (def.uuid) w.leaf("uuid", def.uuid->str());
    if (def.title) w.leaf("title", *def.title);
    if (def.description) w.leaf("description", *def.description);
    if (def.max_memory_kib) {
        w.open("maxMemory");
        if (def.max_memory_slots) w.attr("slots", *def.max_memory_slots);
        w.attr("unit", "KiB").text(std::to_string(*def.max_memory_kib)).close();
    }
    w.open("memory").attr("unit", "KiB").text(std::to_string(def.memory_kib)).close();
    // libvirt's invariant: the balloon target is set and never above the maximum
    std::uint64_t current = def.current_memory_kib.value_or(0);
    if (current == 0 || current > def.memory_kib) current = def.memory_kib;
    w.open("currentMemory").attr("unit", "KiB").text(std::to_string(current)).close();
    w.open("vcpu").attr("placement", def.vcpu.placement);
    if (def.vcpu.cpuset && def.vcpu.placement != "auto") w.attr("cpuset", *def.vcpu.cpuset);
    if (def.vcpu.current && *def.vcpu.current < def.vcpu.count) w.attr("current", *def.vcpu.current);
    w.text(std::to_string(def.vcpu.count)).close();
    if (def.bootloader) {
        w.leaf("bootloader", *def.bootloader);
        if (def.bootloader_args) w.leaf("bootloader_args", *def.bootloader_args);
    }
    write_os(w, def);
    write_features(w, def.features);
    if (def.cpu) write_cpu(w, *def.cpu);
    write_clock(w, def.clock);
    w.leaf("on_poweroff", detail::lifecycle_names(def.on_poweroff));
    w.leaf("on_reboot", detail::lifecycle_names(def.on_reboot));
    w.leaf("on_crash", detail::lifecycle_names(def.on_crash));

    const auto& d = def.devices;
    const bool no_devices = !d.emulator && d.disks.empty() && d.controllers.empty() && d.interfaces.empty() &&
                            d.serials.empty() && d.parallels.empty() && d.consoles.empty() && d.inputs.empty() &&
                            d.graphics.empty() && d.sounds.empty() && d.audios.empty() && d.videos.empty() &&
                            d.hostdevs.empty() && !d.memballoon;
    w.open("devices");
    if (d.emulator) w.leaf("emulator", *d.emulator);
    for (const auto& disk : d.disks) write_disk(w, disk);
    for (const auto& c : d.controllers) write_controller(w, c);
    for (const auto& n : d.interfaces) write_interface(w, n, flags);
    for (const auto& s : d.serials) write_chardev(w, "serial", s, flags);
    for (const auto& p : d.parallels) write_chardev(w, "parallel", p, flags);
    for (std::size_t n = 0; n < d.consoles.size(); ++n) {
        // an HVM console aliasing serial n prints that port's source and port
        if (detail::console_aliases_serial(def, n)) {
            chardev_def alias = d.serials[n];
            alias.target_type = "serial";
            write_chardev(w, "console", alias, flags);
        } else {
            write_chardev(w, "console", d.consoles[n], flags);
        }
    }
    for (const auto& in : d.inputs) {
        w.open("input").attr("type", detail::input_type_names(in.type));
        if (in.bus) w.attr("bus", detail::input_bus_names(*in.bus));
        write_alias(w, in.alias);
        write_address(w, in.address);
        w.close();
    }
    for (const auto& g : d.graphics) write_graphics(w, g, flags);
    for (const auto& s : d.sounds) {
        w.open("sound").attr("model", s.model);
        write_alias(w, s.alias);
        write_address(w, s.address);
        w.close();
    }
    for (const auto& a : d.audios) w.open("audio").attr("id", a.id).attr("type", a.type).close();
    for (const auto& v : d.videos) {
        w.open("video").open("model").attr("type", v.model);
        if (v.ram) w.attr("ram", *v.ram);
        if (v.vram) w.attr("vram", *v.vram);
        if (v.heads) w.attr("heads", *v.heads);
        if (v.primary) w.attr("primary", "yes");
        w.close();
        write_alias(w, v.alias);
        write_address(w, v.address);
        w.close();
    }
    for (const auto& h : d.hostdevs) {
        w.open("hostdev").attr("mode", h.mode).attr("type", h.type).attr("managed", h.managed ? "yes" : "no");
        w.open("source").open("address");
        write_pci_fields(w, h.source);
        w.close().close();
        write_alias(w, h.alias);
        write_address(w, h.address);
        w.close();
    }
    if (d.memballoon) {
        w.open("memballoon").attr("model", d.memballoon->model);
        if (d.memballoon->autodeflate) w.attr("autodeflate", *d.memballoon->autodeflate ? "on" : "off");
        if (d.memballoon->free_page_reporting)
            w.attr("freePageReporting", *d.memballoon->free_page_reporting ? "on" : "off");
        if (d.memballoon->period) w.open("stats").attr("period", std::to_string(d.memballoon->period)).close();
        write_alias(w, d.memballoon->alias);
        write_address(w, d.memballoon->address);
        w.close();
    }
    // libvirt always writes <devices>, even empty, as an open/close pair
    if (no_devices) w.raw_lines("");
    w.close();
    for (const auto& l : def.seclabels) {
        w.open("seclabel").attr("type", l.type);
        if (l.model) w.attr("model", *l.model);
        if (l.relabel) w.attr("relabel", *l.relabel ? "yes" : "no");
        if (l.label) w.leaf("label", *l.label);
        if (l.imagelabel) w.leaf("imagelabel", *l.imagelabel);
        w.close();
    }
    w.close();
    return std::move(w).str();
}

}  // namespace virtpp::xml
