// The QEMU driver: device hot-plug — disks (virtio) and interfaces into a running guest and/or
// its definition.
#include "hypervisor/qemu_ops.hpp"

#include <set>

namespace virtpp::hypervisor {
namespace {

using device_snippet = xml::device_def;

device_snippet parse_device_snippet(std::string_view snippet) {
    return xml::parse_device_xml(snippet, "virtpp's QEMU driver", error_domain::qemu);
}

std::string lower_mac(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_virtio_disk(const xml::disk_def& d) {
    return d.target_bus ? *d.target_bus == "virtio" : d.target_dev.starts_with("vd");
}

/// Adds the device to a definition (checks clashes as libvirt's qemuDomainAttachDeviceConfig).
void add_device(xml::domain_def& def, const device_snippet& dev) {
    if (dev.disk) {
        for (const auto& d : def.devices.disks)
            if (d.target_dev == dev.disk->target_dev) fail(error_code::operation_invalid, "target " + d.target_dev + " already exists");
        def.devices.disks.push_back(*dev.disk);
        return;
    }
    for (const auto& n : def.devices.interfaces)
        if (n.mac && lower_mac(*n.mac) == lower_mac(*dev.interface->mac))
            fail(error_code::operation_failed, "interface with MAC address " + *n.mac + " already exists");
    def.devices.interfaces.push_back(*dev.interface);
}

/// The index of the device in a definition, as libvirt matches it: disks by target, interfaces
/// by MAC (or the only interface when the snippet names none).
std::size_t find_device(const xml::domain_def& def, const device_snippet& dev) {
    if (dev.disk) {
        for (std::size_t i = 0; i < def.devices.disks.size(); ++i)
            if (def.devices.disks[i].target_dev == dev.disk->target_dev) return i;
        fail(error_code::device_missing, "disk " + dev.disk->target_dev + " not found");
    }
    const auto& want = *dev.interface;
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < def.devices.interfaces.size(); ++i) {
        const auto& n = def.devices.interfaces[i];
        if (want.mac && !(n.mac && lower_mac(*n.mac) == lower_mac(*want.mac))) continue;
        if (found) fail(error_code::operation_failed, "multiple devices matching MAC address " + want.mac.value_or("") + " found");
        found = i;
    }
    if (!found) {
        if (want.mac) fail(error_code::device_missing, "no device matching MAC address " + *want.mac + " found");
        fail(error_code::device_missing, "no matching network device was found");
    }
    return *found;
}

/// libvirt's AFFECT_* rules: current means live when running, else config.
std::pair<bool, bool> hotplug_targets(const domain_obj& o, unsigned flags) {
    if ((flags & ~(affect::live | affect::config)) != 0)
        raise(error_code::invalid_arg, error_domain::qemu, "unsupported flags (0x" + [&] {
            char b[16];
            std::snprintf(b, sizeof b, "%x", flags & ~(affect::live | affect::config));
            return std::string(b);
        }() + ") in function qemuDomainAttachDeviceFlags");
    bool live = (flags & affect::live) != 0, config = (flags & affect::config) != 0;
    if (!live && !config) (o.active() ? live : config) = true;
    if (live && !o.active()) fail(error_code::operation_invalid, "domain is not running");
    if (config && !o.persistent) fail(error_code::operation_invalid, "cannot modify device on transient domain");
    return {live, config};
}

/// The -blockdev/-netdev/-device arguments the command-line builder gives this one device (so a
/// hot-plugged device is exactly what a cold-plugged one would be), with ids renamed.
std::vector<std::pair<std::string, json::object>> device_arguments(const xml::domain_def& live, const device_snippet& dev) {
    xml::domain_def tmp = live;
    tmp.devices.disks.clear();
    tmp.devices.interfaces.clear();
    tmp.devices.serials.clear();
    tmp.devices.consoles.clear();
    tmp.devices.parallels.clear();
    tmp.devices.inputs.clear();
    tmp.devices.graphics.clear();
    tmp.devices.memballoon = xml::memballoon_def{"none", std::nullopt};
    tmp.os.boot.clear();
    if (dev.disk) tmp.devices.disks.push_back(*dev.disk);
    if (dev.interface) tmp.devices.interfaces.push_back(*dev.interface);
    command_options opts;
    opts.emulator = *live.devices.emulator;
    auto argv = build_command_line(tmp, opts).argv;
    std::vector<std::pair<std::string, json::object>> out;
    for (std::size_t i = 1; i + 1 < argv.size(); ++i) {
        const auto& flag = argv[i];
        if (flag != "-blockdev" && flag != "-netdev" && flag != "-device") continue;
        auto v = json::parse(argv[i + 1]);
        if (!v.is_object()) continue;
        auto& obj = v.as_object();
        bool ours = flag != "-device" || obj.contains("drive") || obj.contains("netdev");
        if (ours) out.emplace_back(flag, std::move(obj));
    }
    return out;
}

}  // namespace

void qemu::state::perform(op::domain_attach_device, const op::domain_attach_device::args& a) {
    auto dev = parse_device_snippet(a.xml);
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    auto [live, config] = hotplug_targets(*o, a.flags);
    if (dev.interface && !dev.interface->mac) dev.interface->mac = random_mac();
    std::optional<xml::domain_def> new_config, new_live;
    {
        std::lock_guard lock(driver_->mutex);
        if (config) add_device(new_config.emplace(o->config), dev);
        if (live) add_device(new_live.emplace(*o->live), dev);
    }
    std::string added_alias;  // the live device's id, for libvirt's device-added event
    if (live) {
        if (dev.disk) {
            if (!is_virtio_disk(*dev.disk))
                fail(error_code::config_unsupported, "disk bus '" + dev.disk->target_bus.value_or(dev.disk->target_dev.substr(0, 2) == "hd" ? "ide" : "unknown") +
                                                         "' cannot be hotplugged.");
            if (!dev.disk->source) fail(error_code::no_source, "virtio disk '" + dev.disk->target_dev + "' needs a source");
            struct stat st {};
            if (::stat(dev.disk->source->c_str(), &st) != 0) {
                int e = errno;
                fail(error_code::system_error, "Cannot access storage file '" + *dev.disk->source + "': " + std::strerror(e));
            }
        } else if (dev.interface->type == xml::interface_type::network) {
            // as at start: the running network's bridge, or libvirt's error
            auto bridge = driver_->networks->bridge_for_interface(dev.interface->source_network.value_or(""));
            dev.interface->source_bridge = bridge;
            new_live->devices.interfaces.back().source_bridge = bridge;
        }
        auto mon = g.running_monitor(o);
        // free ids, node names and a PCI slot, from what qemu has now
        std::set<std::string> ids;
        auto reply1 = mon->execute("qom-list", {{"path", "/machine/peripheral"}});
        for (const auto& c : reply1.as_array())
            ids.insert(json::value_to<std::string>(c.at("name")));
        std::set<unsigned> slots{0, 1, 2};
        auto reply2 = mon->execute("query-pci");
        for (const auto& bus : reply2.as_array())
            if (bus.at("bus").to_number<int>() == 0)
                for (const auto& pd : bus.at("devices").as_array()) slots.insert(pd.at("slot").to_number<unsigned>());
        unsigned slot = 3;
        while (slots.count(slot) != 0) ++slot;
        if (slot > 31) fail(error_code::internal_error, "No more available PCI slots");
        xml::device_address addr;
        addr.type = xml::address_type::pci;
        addr.domain = 0, addr.bus = 0, addr.slot = slot, addr.function = 0;
        auto& added = dev.disk ? new_live->devices.disks.back().address : new_live->devices.interfaces.back().address;
        if (added && added->type == xml::address_type::pci && added->slot) {
            if (slots.count(*added->slot) != 0) fail(error_code::operation_failed, "PCI slot " + std::to_string(*added->slot) + " is in use");
        } else {
            added = addr;
        }
        // a tap-backed interface: the tap is made here (enslaved, or its script run) and handed
        // to qemu over the monitor; closing our copy at the end leaves qemu's
        std::optional<tap_device> tap;
        struct tap_closer {
            std::optional<tap_device>& t;
            ~tap_closer() {
                if (t) ::close(t->fd);
            }
        } close_tap{tap};
        if (dev.interface &&
            (dev.interface->type == xml::interface_type::bridge || dev.interface->type == xml::interface_type::ethernet ||
             dev.interface->type == xml::interface_type::network)) {
            tap = create_tap(dev.interface->target_dev.value_or(""));
            if (dev.interface->type != xml::interface_type::ethernet) {
                if (dev.interface->mac) set_tap_mac(tap->name, *dev.interface->mac);
                add_to_bridge(tap->name, dev.interface->source_bridge.value_or(""));
            }
            if (dev.interface->type == xml::interface_type::ethernet && dev.interface->script)
                run_interface_script(*dev.interface->script, tap->name);
            new_live->devices.interfaces.back().target_dev = tap->name;
        }
        device_snippet placed = dev;
        if (placed.disk) placed.disk->address = added;
        if (placed.interface) placed.interface->address = added;
        auto args = device_arguments(*new_live, placed);

        std::string id, backend_prefix;
        if (dev.disk) {
            std::set<std::string> nodes;
            auto reply3 = mon->execute("query-named-block-nodes");
            for (const auto& n : reply3.as_array())
                nodes.insert(json::value_to<std::string>(n.at("node-name")));
            unsigned k = 0;
            while (ids.count("virtio-disk" + std::to_string(k)) != 0) ++k;
            id = "virtio-disk" + std::to_string(k);
            unsigned n = 1;
            while (nodes.count("libvirt-" + std::to_string(n) + "-format") != 0 || nodes.count("libvirt-" + std::to_string(n) + "-storage") != 0) ++n;
            backend_prefix = "libvirt-" + std::to_string(n);
        } else {
            unsigned k = 0;
            while (ids.count("net" + std::to_string(k)) != 0) ++k;
            id = "net" + std::to_string(k);
            backend_prefix = "hostnet" + std::to_string(k);
        }
        // the live definition names the device as qemu does
        (dev.disk ? new_live->devices.disks.back().alias : new_live->devices.interfaces.back().alias) = id;
        std::vector<std::pair<std::string, std::string>> undo;  // (command, id) in reverse order
        try {
            for (auto& [flag, obj] : args) {
                if (flag == "-blockdev") {
                    std::string node = json::value_to<std::string>(obj.at("node-name"));
                    std::string kind = node.ends_with("-format") ? "-format" : "-storage";
                    obj["node-name"] = backend_prefix + kind;
                    if (obj.contains("file")) obj["file"] = backend_prefix + "-storage";
                    mon->execute("blockdev-add", obj);
                    undo.emplace_back("blockdev-del", backend_prefix + kind);
                } else if (flag == "-netdev") {
                    obj["id"] = backend_prefix;
                    if (tap) {
                        std::string fd_name = backend_prefix + "-fd";
                        mon->execute("getfd", {{"fdname", fd_name}}, tap->fd);
                        obj["fd"] = fd_name;  // netdev_add takes the named fd from the monitor
                        try {
                            mon->execute("netdev_add", obj);
                        } catch (const virtpp::error&) {
                            try {
                                mon->execute("closefd", {{"fdname", fd_name}});
                            } catch (const virtpp::error&) {
                            }
                            throw;
                        }
                    } else {
                        mon->execute("netdev_add", obj);
                    }
                    undo.emplace_back("netdev_del", backend_prefix);
                } else {
                    obj["id"] = id;
                    if (obj.contains("drive")) obj["drive"] = backend_prefix + "-format";
                    if (obj.contains("netdev")) obj["netdev"] = backend_prefix;
                    obj.erase("bootindex");
                    mon->execute("device_add", obj);
                    added_alias = id;
                }
            }
        } catch (const virtpp::error&) {
            for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
                try {
                    mon->execute(it->first, {{it->first == "netdev_del" ? "id" : "node-name", it->second}});
                } catch (const virtpp::error&) {
                }
            }
            throw;
        }
    }
    {
        std::lock_guard lock(driver_->mutex);
        if (new_config) o->config = *new_config;
        if (new_live) {
            o->live = std::move(*new_live);
            refresh_taps(*o);
            if (!added_alias.empty()) {
                domain_event e;
                e.id = domain_event_id::device_added;
                e.dom = o->ref();
                e.device_alias = added_alias;
                driver_->emit(std::move(e));
            }
        }
    }
    if (new_config) g.save_config(*new_config);
    if (live) g.write_status(*o);
}

void qemu::state::perform(op::domain_detach_device, const op::domain_detach_device::args& a) {
    auto dev = parse_device_snippet(a.xml);
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    auto [live, config] = hotplug_targets(*o, a.flags);
    std::optional<xml::domain_def> new_config;
    std::optional<std::size_t> live_index;
    {
        std::lock_guard lock(driver_->mutex);
        if (config) {
            auto& c = new_config.emplace(o->config);
            auto i = find_device(c, dev);
            if (dev.disk) c.devices.disks.erase(c.devices.disks.begin() + static_cast<std::ptrdiff_t>(i));
            else c.devices.interfaces.erase(c.devices.interfaces.begin() + static_cast<std::ptrdiff_t>(i));
        }
        if (live) live_index = find_device(*o->live, dev);
    }
    if (live) {
        auto mon = g.running_monitor(o);
        domain_obj::pending_unplug p;
        std::string id;
        if (dev.disk) {
            xml::disk_def disk;
            {
                std::lock_guard lock(driver_->mutex);
                disk = o->live->devices.disks[*live_index];
            }
            if (!is_virtio_disk(disk)) fail(error_code::operation_failed, "This type of disk cannot be hot unplugged");
            p.target = disk.target_dev;
            // the device whose backend reads this disk's source
            auto reply4 = mon->execute("query-block");
            for (const auto& b : reply4.as_array()) {
                const auto& bo = b.as_object();
                const auto* ins = bo.if_contains("inserted");
                const auto* qdev = bo.if_contains("qdev");
                if (ins == nullptr || qdev == nullptr || !disk.source) continue;
                if (json::value_to<std::string>(ins->at("file")) != *disk.source) continue;
                std::string path = json::value_to<std::string>(*qdev);
                constexpr std::string_view prefix = "/machine/peripheral/";
                if (path.starts_with(prefix)) id = path.substr(prefix.size(), path.find('/', prefix.size()) - prefix.size());
                std::string format = json::value_to<std::string>(ins->at("node-name"));
                p.backend.push_back(format);
                if (format.ends_with("-format")) p.backend.push_back(format.substr(0, format.size() - 7) + "-storage");
                break;
            }
            if (id.empty()) fail(error_code::operation_failed, "disk " + disk.target_dev + " has no device in the running guest");
        } else {
            std::string mac;
            {
                std::lock_guard lock(driver_->mutex);
                mac = lower_mac(o->live->devices.interfaces[*live_index].mac.value_or(""));
            }
            p.mac = mac;
            auto reply5 = mon->execute("qom-list", {{"path", "/machine/peripheral"}});
            for (const auto& c : reply5.as_array()) {
                std::string name = json::value_to<std::string>(c.at("name"));
                if (!name.starts_with("net")) continue;
                auto m = mon->execute("qom-get", {{"path", "/machine/peripheral/" + name}, {"property", "mac"}});
                if (!m.is_string() || lower_mac(std::string(m.as_string())) != mac) continue;
                id = name;
                auto nd = mon->execute("qom-get", {{"path", "/machine/peripheral/" + name}, {"property", "netdev"}});
                if (nd.is_string() && !nd.as_string().empty()) p.backend.emplace_back(nd.as_string());
                break;
            }
            if (id.empty()) fail(error_code::operation_failed, "interface " + mac + " has no device in the running guest");
        }
        {
            std::lock_guard lock(driver_->mutex);
            o->unplugs[id] = p;
        }
        mon->execute("device_del", {{"id", id}});
        // libvirt waits 5 s for the guest; after that the request stands and DEVICE_DELETED finishes it
        bool gone;
        {
            std::unique_lock lock(driver_->mutex);
            gone = driver_->device_deleted.wait_for(lock, std::chrono::seconds(5), [&] { return o->deleted_devices.count(id) != 0; });
        }
        if (gone) g.finish_unplug(o, *mon, id);
    }
    if (new_config) {
        {
            std::lock_guard lock(driver_->mutex);
            o->config = *new_config;
        }
        g.save_config(*new_config);
    }
    if (live) g.write_status(*o);
}

}  // namespace virtpp::hypervisor
