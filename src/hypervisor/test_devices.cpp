// hypervisor::test: what 9.0's test driver refuses but the seed describes — device hotplug and
// migration between two test hosts in one process — done for real on the in-memory state.
#include "hypervisor/test_detail.hpp"
#include "xml/tree.hpp"

#include <virtpp/error.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <mutex>

namespace virtpp::hypervisor {

using test_detail::domain_obj;
using test_detail::migration_stage;
namespace reason = test_detail::reason;
namespace migrate_flags = test_detail::migrate_flags;

using test_detail::check_flags;

namespace {
using write_lock = std::unique_lock<std::shared_mutex>;

using device = xml::device_def;

device parse_device(std::string_view snippet) { return xml::parse_device_xml(snippet, "the test driver", error_domain::test); }

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

void attach_to(xml::domain_def& def, const device& dev, bool live) {
    if (dev.disk) {
        for (const auto& d : def.devices.disks)
            if (d.target_dev == dev.disk->target_dev)
                raise(error_code::operation_failed, error_domain::test, "target " + d.target_dev + " already exists");
        def.devices.disks.push_back(*dev.disk);
        return;
    }
    auto net = *dev.interface;
    if (net.mac) {
        for (const auto& n : def.devices.interfaces)
            if (n.mac && lower(*n.mac) == lower(*net.mac))
                raise(error_code::operation_failed, error_domain::test,
                      "interface with MAC address " + *net.mac + " already exists");
    } else {
        char buf[18];
        auto u = virtpp::uuid::generate().bytes();
        std::snprintf(buf, sizeof buf, "52:54:00:%02x:%02x:%02x", u[0], u[1], u[2]);
        net.mac = buf;
    }
    if (live && !net.target_dev) {
        for (int i = 0;; ++i) {
            std::string name = "testnet" + std::to_string(i);
            if (std::none_of(def.devices.interfaces.begin(), def.devices.interfaces.end(),
                             [&](const xml::interface_def& o) { return o.target_dev == name; })) {
                net.target_dev = name;
                break;
            }
        }
    }
    def.devices.interfaces.push_back(std::move(net));
}

void detach_from(xml::domain_def& def, const device& dev) {
    if (dev.disk) {
        auto& disks = def.devices.disks;
        auto it = std::find_if(disks.begin(), disks.end(),
                               [&](const xml::disk_def& d) { return d.target_dev == dev.disk->target_dev; });
        if (it == disks.end())
            raise(error_code::device_missing, error_domain::test, "no target device " + dev.disk->target_dev);
        disks.erase(it);
        return;
    }
    auto& nets = def.devices.interfaces;
    const auto& want = *dev.interface;
    auto matches = [&](const xml::interface_def& n) {
        if (want.mac) return n.mac && lower(*n.mac) == lower(*want.mac);
        return want.target_dev && n.target_dev == want.target_dev;
    };
    auto count = std::count_if(nets.begin(), nets.end(), matches);
    if (count == 0) {
        if (want.mac)
            raise(error_code::device_missing, error_domain::test, "no device matching MAC address " + *want.mac + " found");
        raise(error_code::device_missing, error_domain::test, "no matching network device was found");
    }
    if (count > 1 || (!want.mac && !want.target_dev))
        raise(error_code::operation_failed, error_domain::test, "multiple matching devices found");
    nets.erase(std::find_if(nets.begin(), nets.end(), matches));
}

/// Where a hotplug request applies (the AFFECT_* flags, both allowed).
std::pair<bool, bool> hotplug_targets(const domain_obj& obj, unsigned flags) {
    bool live = (flags & affect::live) != 0, config = (flags & affect::config) != 0;
    if (!live && !config) (obj.active() ? live : config) = true;
    if (live && !obj.active()) raise(error_code::operation_invalid, error_domain::domain, "domain is not running");
    if (config && !obj.persistent)
        raise(error_code::operation_invalid, error_domain::domain, "transient domains do not have any persistent config");
    return {live, config};
}
}  // namespace

void test::state::perform(op::domain_attach_device, const op::domain_attach_device::args& a) {
    pause();
    check_flags(a.flags, affect::live | affect::config, "testDomainAttachDeviceFlags");
    auto dev = parse_device(a.xml);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    auto [live, config] = hotplug_targets(obj, a.flags);
    // both copies are checked before either changes
    std::optional<xml::domain_def> new_live, new_config;
    if (live) attach_to(new_live.emplace(*obj.live), dev, true);
    if (config) attach_to(new_config.emplace(obj.config), dev, false);
    if (new_live) obj.live = std::move(*new_live);
    if (new_config) obj.config = std::move(*new_config);
}

void test::state::perform(op::domain_detach_device, const op::domain_detach_device::args& a) {
    pause();
    check_flags(a.flags, affect::live | affect::config, "testDomainDetachDeviceFlags");
    auto dev = parse_device(a.xml);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    auto [live, config] = hotplug_targets(obj, a.flags);
    std::optional<xml::domain_def> new_live, new_config;
    if (live) detach_from(new_live.emplace(*obj.live), dev);
    if (config) detach_from(new_config.emplace(obj.config), dev);
    if (new_live) obj.live = std::move(*new_live);
    if (new_config) obj.config = std::move(*new_config);
}

// ---- migration: begin/perform/confirm on the source, prepare/finish on the destination ---------

op::domain_migrate_begin::result test::state::perform(op::domain_migrate_begin, const op::domain_migrate_begin::args& a) {
    pause();
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    if (!obj.active()) raise(error_code::operation_invalid, error_domain::domain, "domain is not running");
    if (obj.migration != migration_stage::none)
        raise(error_code::operation_invalid, error_domain::test,
              "domain '" + a.dom.name + "' is already being migrated");
    obj.migration = migration_stage::begun;
    return {{}, xml::format_domain_xml(*obj.live, {.inactive = true, .secure = true})};
}

op::domain_migrate_prepare::result test::state::perform(op::domain_migrate_prepare, const op::domain_migrate_prepare::args& a) {
    pause();
    auto def = xml::parse_domain_xml(a.xml);
    if (a.dname) def.name = *a.dname;
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    if (!def.uuid) def.uuid = virtpp::uuid::generate();
    def.id.reset();
    auto* existing = impl_->check_domain_conflicts(def, true);
    if (existing == nullptr) {
        auto obj = std::make_unique<domain_obj>();
        obj->config = def;
        existing = &impl_->add_domain(std::move(obj));
    }
    existing->live = std::move(def);
    impl_->start(*existing, reason::running_migrated);
    // the incoming guest waits, paused, for its memory
    existing->state = domain_state::paused;
    existing->reason = reason::paused_migration;
    existing->migration = migration_stage::incoming;
    return {};  // the guest moves in memory: no URI, no cookie
}

op::migrate_cookie test::state::perform(op::domain_migrate_perform, const op::domain_migrate_perform::args& a) {
    pause();
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    if (obj.migration != migration_stage::begun)
        raise(error_code::operation_invalid, error_domain::test,
              "domain '" + a.dom.name + "' has no migration in progress");
    obj.migration = migration_stage::performed;
    obj.state = domain_state::paused;
    obj.reason = reason::paused_migration;
    return {};
}

op::domain_migrate_finish::result test::state::perform(op::domain_migrate_finish, const op::domain_migrate_finish::args& a) {
    pause();
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto* obj = impl_->find_domain_by_name(a.name);
    if (obj == nullptr || obj->migration != migration_stage::incoming)
        raise(error_code::no_domain, error_domain::test, "no domain with matching name '" + a.name + "'");
    if (a.cancelled) {
        auto ref = obj->ref();
        ref.id = -1;
        impl_->stop(*obj, reason::shutoff_migrated);
        return {ref, {}};
    }
    obj->migration = migration_stage::none;
    if (a.flags & migrate_flags::paused) {
        obj->reason = reason::paused_user;
    } else {
        obj->state = domain_state::running;
        obj->reason = reason::running_migrated;
        impl_->queue_event(*obj, domain_lifecycle::resumed, domain_lifecycle::resumed_detail::migrated);
    }
    if (a.flags & migrate_flags::persist_dest) {
        obj->persistent = true;
        obj->config = *obj->live;
        obj->config.id.reset();
    }
    return {obj->ref(), {}};
}

void test::state::perform(op::domain_migrate_confirm, const op::domain_migrate_confirm::args& a) {
    pause();
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    if (obj.migration == migration_stage::none || obj.migration == migration_stage::incoming)
        raise(error_code::operation_invalid, error_domain::test,
              "domain '" + a.dom.name + "' has no migration in progress");
    if (a.cancelled) {
        // a migration that got as far as perform paused the guest: it runs on here
        if (obj.migration == migration_stage::performed) {
            obj.state = domain_state::running;
            obj.reason = reason::running_migration_canceled;
        }
        obj.migration = migration_stage::none;
        return;
    }
    if (a.flags & migrate_flags::undefine_source) obj.persistent = false;
    impl_->stop(obj, reason::shutoff_migrated);  // gone from the source unless it stays defined there
}

}  // namespace virtpp::hypervisor
