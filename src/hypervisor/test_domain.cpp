// hypervisor::test: domains. Lifecycle, properties, save/restore, devices and migration, with the
// state transitions and error codes/messages of libvirt 9.0's test driver (see docs/test-driver.md
// for where this driver does more than 9.0's).
#include "hypervisor/disk_order.hpp"
#include "hypervisor/fd_io.hpp"
#include "hypervisor/test_detail.hpp"
#include "hypervisor/network_driver.hpp"
#include "xml/tree.hpp"

#include <virtpp/error.hpp>
#include <virtpp/xml/schema.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <random>
#include <unistd.h>
#include <string_view>
#include <utility>

namespace virtpp::hypervisor {

using test_detail::domain_obj;
using test_detail::migration_stage;
namespace reason = test_detail::reason;
namespace migrate_flags = test_detail::migrate_flags;

using test_detail::check_flags;

namespace {

using read_lock = std::shared_lock<std::shared_mutex>;
using write_lock = std::unique_lock<std::shared_mutex>;

/// virDomainObjCheckActive
void check_active(const domain_obj& obj) {
    if (!obj.active()) raise(error_code::operation_invalid, error_domain::domain, "domain is not running");
}

std::uint64_t real_time_us() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::uint64_t current_memory(const xml::domain_def& def) { return def.current_memory_kib.value_or(def.memory_kib); }
unsigned online_vcpus(const xml::domain_def& def) { return def.vcpu.current.value_or(def.vcpu.count); }
void set_online_vcpus(xml::domain_def& def, unsigned n) {
    if (n == def.vcpu.count) def.vcpu.current.reset();
    else def.vcpu.current = n;
}

/// Which definitions an AFFECT_* request touches (virDomainObjUpdateModificationImpact).
struct affected {
    bool live = false;
    bool config = false;
};
affected resolve_affect(const domain_obj& obj, unsigned flags) {
    affected out{(flags & affect::live) != 0, (flags & affect::config) != 0};
    if (!out.live && !out.config) {
        if (obj.active()) out.live = true;
        else out.config = true;
    }
    if (out.live && !obj.active()) raise(error_code::operation_invalid, error_domain::domain, "domain is not running");
    if (out.config && !obj.persistent)
        raise(error_code::operation_invalid, error_domain::domain, "transient domains do not have any persistent config");
    return out;
}
/// virDomainObjGetOneDef: exactly one definition.
template <class Obj>  // domain_obj or const domain_obj
auto& one_def(Obj& obj, unsigned flags, bool* is_live = nullptr) {
    if ((flags & affect::live) && (flags & affect::config))
        test_detail::raise_verbatim(error_code::invalid_arg, error_domain::domain, "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive");
    auto which = resolve_affect(obj, flags);
    if (is_live) *is_live = which.live;
    return which.live ? *obj.live : obj.config;
}

std::string random_mac() {
    static std::mutex m;
    static std::mt19937 gen(std::random_device{}());
    std::lock_guard lock(m);
    std::uniform_int_distribution<int> byte(0, 255);
    char buf[18];
    std::snprintf(buf, sizeof buf, "52:54:00:%02x:%02x:%02x", byte(gen), byte(gen), byte(gen));
    return buf;
}

/// The test driver names interfaces without a target testnet0, testnet1, ... (first free name).
void name_interfaces(xml::domain_def& def) {
    for (auto& net : def.devices.interfaces) {
        if (net.target_dev) continue;
        for (int i = 0;; ++i) {
            std::string name = "testnet" + std::to_string(i);
            bool used = std::any_of(def.devices.interfaces.begin(), def.devices.interfaces.end(),
                                    [&](const xml::interface_def& o) { return o.target_dev == name; });
            if (!used) {
                net.target_dev = name;
                break;
            }
        }
    }
}

/// virDiskNameToIndex: the index a target name encodes ("hda" 0, "sdb" 1, "vdaa" 26; trailing
/// partition digits allowed), nullopt when it has no known prefix or no letters.
std::optional<unsigned> disk_index(std::string_view dev) {
    static constexpr std::string_view prefixes[] = {"fd", "hd", "vd", "sd", "xvd", "ubd"};
    bool known = false;
    for (auto prefix : prefixes) {
        if (dev.starts_with(prefix)) {
            dev.remove_prefix(prefix.size());
            known = true;
            break;
        }
    }
    if (!known) return std::nullopt;
    unsigned idx = 0;
    std::size_t letters = 0;
    while (letters < dev.size() && dev[letters] >= 'a' && dev[letters] <= 'z') {
        idx = (idx + (letters == 0 ? 0 : 1)) * 26 + static_cast<unsigned>(dev[letters] - 'a');
        if (idx > 100000) return std::nullopt;  // no sane disk count; keeps the arithmetic small
        ++letters;
    }
    if (letters == 0) return std::nullopt;
    for (std::size_t i = letters; i < dev.size(); ++i)
        if (dev[i] < '0' || dev[i] > '9') return std::nullopt;
    return idx;
}

/// virDomainDiskDefAssignAddress for the test driver: a drive address from the target name for
/// IDE (2 units a bus, 2 buses a controller), SCSI (7 units a controller: no wide SCSI), SATA (6)
/// and floppy (2) disks that have none.
void assign_drive_addresses(xml::domain_def& def) {
    for (auto& disk : def.devices.disks) {
        if (disk.address || !disk.target_bus) continue;
        auto idx = disk_index(disk.target_dev);
        if (!idx) continue;
        xml::device_address a;
        a.type = xml::address_type::drive;
        a.target = 0;
        const std::string& bus = *disk.target_bus;
        if (bus == "ide") {
            a.controller = *idx / 4, a.bus = (*idx % 4) / 2, a.unit = *idx % 2;
        } else if (bus == "scsi") {
            a.controller = *idx / 7, a.bus = 0, a.unit = *idx % 7;
        } else if (bus == "sata") {
            a.controller = *idx / 6, a.bus = 0, a.unit = *idx % 6;
        } else if (bus == "fdc") {
            a.controller = *idx / 2, a.bus = 0, a.unit = *idx % 2;
        } else {
            continue;
        }
        disk.address = a;
    }
}

/// virDomainDefAddImplicitControllers for disks: every controller a disk's drive address names
/// (indexes 0 to the highest used) exists; the missing ones are appended as libvirt adds them —
/// SCSI, then floppy, IDE, SATA, each by index.
void add_implicit_disk_controllers(xml::domain_def& def) {
    using xml::controller_type;
    static constexpr std::pair<controller_type, std::string_view> kinds[] = {
        {controller_type::scsi, "scsi"}, {controller_type::fdc, "fdc"}, {controller_type::ide, "ide"}, {controller_type::sata, "sata"}};
    auto& controllers = def.devices.controllers;
    for (const auto& kind : kinds) {
        const controller_type type = kind.first;  // not a structured binding: lambdas capture it below
        const std::string_view bus = kind.second;
        std::optional<unsigned> highest;
        for (const auto& disk : def.devices.disks)
            if (disk.target_bus == bus && disk.address && disk.address->type == xml::address_type::drive)
                highest = std::max(highest.value_or(0), disk.address->controller.value_or(0));
        if (!highest) continue;
        for (unsigned index = 0; index <= *highest; ++index) {
            bool present = std::any_of(controllers.begin(), controllers.end(), [&](const xml::controller_def& c) {
                return c.type == type && c.index == index;
            });
            if (present) continue;
            xml::controller_def c;
            c.type = type;
            c.index = index;
            controllers.push_back(std::move(c));
        }
    }
}

/// What the test driver's post-parse fills in a definition. source_xml: the definition as
/// written, for libvirt's disk order (detail::order_disks_as_parsed).
void fill_defaults(xml::domain_def& def, std::string_view source_xml = {}) {
    def.id.reset();  // parsed as inactive: a runtime id in the XML means nothing
    if (!def.uuid) def.uuid = virtpp::uuid::generate();
    if (!def.os.arch) def.os.arch = "i686";
    if (def.os.type == "hvm" && def.os.boot.empty() && !def.os.kernel) def.os.boot.push_back(xml::boot_device::hd);
    for (auto& net : def.devices.interfaces)
        if (!net.mac) net.mac = random_mac();
    name_interfaces(def);
    detail::order_disks_as_parsed(def, source_xml, [](const xml::disk_def& d) -> long {
        auto i = disk_index(d.target_dev);
        return i ? static_cast<long>(*i) : -1;
    });
    assign_drive_addresses(def);
    add_implicit_disk_controllers(def);
}

bool parse_mac(std::string_view text, std::string& normalised) {
    if (text.size() != 17) return false;
    normalised.clear();
    for (std::size_t i = 0; i < 17; ++i) {
        char c = text[i];
        if (i % 3 == 2) {
            if (c != ':') return false;
            normalised += ':';
        } else {
            if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
            normalised += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    return true;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

// ---- impl helpers ----------------------------------------------------------------------------

domain_obj& test::state::impl::domain(const domain_ref& ref) const {
    if (auto* d = domains.find_by_uuid(ref.uuid)) return *d;
    raise(error_code::no_domain, error_domain::test,
          "no domain with matching uuid '" + ref.uuid.str() + "' (" + ref.name + ")");
}

domain_obj* test::state::impl::find_domain_by_name(std::string_view name) const {
    return domains.find_by_name(name);
}

domain_obj& test::state::impl::add_domain(std::unique_ptr<domain_obj> obj) {
    return domains.add(std::move(obj));
}

void test::state::impl::remove_domain(const domain_obj& obj) {
    domains.remove(obj);
}

domain_obj* test::state::impl::check_domain_conflicts(const xml::domain_def& def, bool starting) const {
    if (auto* found = domains.find_by_uuid(*def.uuid)) {
        auto& existing = *found;
        if (existing.current().name != def.name)
            raise(error_code::operation_failed, error_domain::domain,
                  "domain '" + existing.current().name + "' is already defined with uuid " + def.uuid->str());
        if (starting) {
            if (existing.active())
                raise(error_code::operation_invalid, error_domain::domain,
                      "domain '" + existing.current().name + "' is already active");
            if (!existing.persistent)
                raise(error_code::operation_invalid, error_domain::domain,
                      "domain '" + existing.current().name + "' is already being started");
        }
        return &existing;
    }
    if (auto* same_name = find_domain_by_name(def.name))
        raise(error_code::operation_failed, error_domain::domain,
              "domain '" + def.name + "' already exists with uuid " + same_name->current().uuid->str());
    return nullptr;
}

xml::domain_def test::state::impl::parse_domain(std::string_view xml) const {
    auto def = xml::parse_domain_xml(xml);
    fill_defaults(def, xml);
    return def;
}

void test::state::impl::start(domain_obj& obj, int why) {
    if (!obj.live) obj.live = obj.config;
    obj.live->id = next_id++;
    domains.note_id(obj);
    obj.state = domain_state::running;
    obj.reason = why;
    obj.managed_save = false;
    obj.vcpu_affinity.assign(online_vcpus(*obj.live), {});
    obj.migration = migration_stage::none;
    // the running reasons booted, migrated, restored are the STARTED details plus one
    queue_event(obj, domain_lifecycle::started, why - 1);
}

void test::state::impl::stop(domain_obj& obj, int why) {
    obj.live.reset();
    domains.note_id(obj);
    obj.state = domain_state::shutoff;
    obj.reason = why;
    obj.vcpu_affinity.clear();
    obj.migration = migration_stage::none;
    // the shutoff reasons shutdown, destroyed, crashed, migrated, saved are the STOPPED details plus one
    queue_event(obj, domain_lifecycle::stopped, why - 1);
    if (!obj.persistent) remove_domain(obj);
}

void test::state::impl::queue_event(const domain_obj& obj, int event, int detail) {
    events.queue(lifecycle_event(obj.ref(), event, detail));
}

void test::state::impl::queue_event(const test_detail::network_obj& obj, int event) {
    network_event e;
    e.net = obj.ref();
    e.event = event;
    events.queue(std::move(e));
}

event_subscription test::state::subscribe_events(event_handler handler) { return impl_->events.subscribe(std::move(handler)); }

// ---- listing -----------------------------------------------------------------------------------

int test::state::perform(op::connect_num_of_domains, const op::none&) {
    pause();
    read_lock lock(impl_->mutex);
    return static_cast<int>(impl_->domains.count_if([](const domain_obj& d) { return d.active(); }));
}
std::vector<int> test::state::perform(op::connect_list_domains, const op::none&) {
    pause();
    read_lock lock(impl_->mutex);
    std::vector<int> ids;
    for (const auto& d : impl_->domains.owners())
        if (d->active()) ids.push_back(d->id());
    std::sort(ids.begin(), ids.end());
    return ids;
}
int test::state::perform(op::connect_num_of_defined_domains, const op::none&) {
    pause();
    read_lock lock(impl_->mutex);
    return static_cast<int>(impl_->domains.count_if([](const domain_obj& d) { return !d.active(); }));
}
std::vector<std::string> test::state::perform(op::connect_list_defined_domains, const op::none&) {
    pause();
    read_lock lock(impl_->mutex);
    std::vector<std::string> names;
    for (const auto& d : impl_->domains.owners())
        if (!d->active()) names.push_back(d->config.name);
    return names;
}
std::vector<domain_ref> test::state::perform(op::connect_list_all_domains, const op::connect_list_all_domains::args& a) {
    pause();
    using namespace list_flags;
    check_flags(a.flags, 0xffffU, "testConnectListAllDomains");  // checkpoint filters: none have checkpoints
    read_lock lock(impl_->mutex);
    std::vector<domain_ref> out;
    for (const auto& d : impl_->domains.owners()) {
        detail::domain_list_facts facts{.active = d->active(), .persistent = d->persistent,
                                        .managed_save = d->managed_save, .autostart = d->autostart,
                                        .has_snapshot = !d->snapshots.items.empty(),
                                        .has_checkpoint = !d->checkpoints.items.empty(), .state = d->state};
        if (!detail::matches_list_flags(a.flags, facts)) continue;
        out.push_back(d->ref());
    }
    return out;
}

// ---- lookup ------------------------------------------------------------------------------------

domain_ref test::state::perform(op::domain_lookup_by_id, const op::domain_lookup_by_id::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    if (auto* d = impl_->domains.find_by_id(a.id)) return d->ref();
    raise(error_code::no_domain, error_domain::test, "");
}
domain_ref test::state::perform(op::domain_lookup_by_name, const op::domain_lookup_by_name::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    if (auto* d = impl_->find_domain_by_name(a.name)) return d->ref();
    raise(error_code::no_domain, error_domain::test, "");
}
domain_ref test::state::perform(op::domain_lookup_by_uuid, const op::domain_lookup_by_uuid::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    if (auto* d = impl_->domains.find_by_uuid(a.uuid)) return d->ref();
    raise(error_code::no_domain, error_domain::test, "");
}

// ---- lifecycle ---------------------------------------------------------------------------------

domain_ref test::state::perform(op::domain_create_xml, const op::domain_create_xml::args& a) {
    pause();
    check_flags(a.flags, 1U << 4 /* VIR_DOMAIN_START_VALIDATE */, "testDomainCreateXML");
    if (a.flags & (1U << 4)) xml::validate_document(a.xml, xml::document_kind::domain);
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto def = impl_->parse_domain(a.xml);
    auto* existing = impl_->check_domain_conflicts(def, true);
    if (existing == nullptr) {
        auto obj = std::make_unique<domain_obj>();
        obj->config = def;
        existing = &impl_->add_domain(std::move(obj));
    }
    existing->live = std::move(def);  // a persistent domain keeps its configuration for later
    impl_->start(*existing, reason::running_booted);
    return existing->ref();
}

domain_ref test::state::perform(op::domain_define_xml, const op::domain_define_xml::args& a) {
    pause();
    check_flags(a.flags, 1U << 0 /* VIR_DOMAIN_DEFINE_VALIDATE */, "testDomainDefineXMLFlags");
    if (a.flags & (1U << 0)) xml::validate_document(a.xml, xml::document_kind::domain);
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto def = impl_->parse_domain(a.xml);
    if (def.name.find('\n') != std::string::npos)
        raise(error_code::xml_error, error_domain::domain, "name " + def.name + " cannot contain '\\n'");
    auto* existing = impl_->check_domain_conflicts(def, false);
    bool updated = false;
    if (existing == nullptr) {
        auto obj = std::make_unique<domain_obj>();
        obj->config = std::move(def);
        existing = &impl_->add_domain(std::move(obj));
    } else {
        existing->config = std::move(def);
        updated = true;
    }
    existing->persistent = true;
    impl_->queue_event(*existing, domain_lifecycle::defined,
                       updated ? domain_lifecycle::defined_detail::updated : domain_lifecycle::defined_detail::added);
    return existing->ref();
}

void test::state::perform(op::domain_undefine, const op::domain_undefine::args& a) {
    pause();
    check_flags(a.flags, 1U | 2U, "testDomainUndefineFlags");
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    if (obj.managed_save && !(a.flags & 1U))
        raise(error_code::operation_invalid, error_domain::test, "Refusing to undefine while domain managed save image exists");
    if (!obj.active() && !obj.snapshots.items.empty() && !(a.flags & 2U))
        raise(error_code::operation_invalid, error_domain::test,
              "cannot delete inactive domain with " + std::to_string(obj.snapshots.items.size()) + " snapshots");
    obj.managed_save = false;
    impl_->queue_event(obj, domain_lifecycle::undefined, domain_lifecycle::undefined_detail::removed);
    if (obj.active()) obj.persistent = false;  // it lives on as a transient domain
    else impl_->remove_domain(obj);
}

domain_ref test::state::perform(op::domain_create, const op::domain_create::args& a) {
    pause();
    check_flags(a.flags, 0, "testDomainCreateWithFlags");
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    if (obj.state != domain_state::shutoff)
        raise(error_code::internal_error, error_domain::test, "Domain '" + a.dom.name + "' is already running");
    impl_->start(obj, reason::running_booted);
    return obj.ref();
}

void test::state::perform(op::domain_suspend, const op::domain_suspend::args& a) {
    pause();
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    if (obj.state == domain_state::shutoff || obj.state == domain_state::paused)
        raise(error_code::internal_error, error_domain::test, "domain '" + a.dom.name + "' not running");
    obj.state = domain_state::paused;
    obj.reason = reason::paused_user;
    impl_->queue_event(obj, domain_lifecycle::suspended, domain_lifecycle::suspended_detail::paused);
}

void test::state::perform(op::domain_resume, const op::domain_resume::args& a) {
    pause();
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    if (obj.state != domain_state::paused)
        raise(error_code::internal_error, error_domain::test, "domain '" + a.dom.name + "' not paused");
    obj.state = domain_state::running;
    obj.reason = reason::running_unpaused;
    impl_->queue_event(obj, domain_lifecycle::resumed, domain_lifecycle::resumed_detail::unpaused);
}

namespace {
/// What on_poweroff / on_reboot make of a guest that goes down: restart keeps it running.
bool action_keeps_running(xml::lifecycle_action action) {
    return action == xml::lifecycle_action::restart || action == xml::lifecycle_action::rename_restart;
}
}  // namespace

void test::state::perform(op::domain_shutdown, const op::domain_shutdown::args& a) {
    pause();
    check_flags(a.flags, 0, "testDomainShutdownFlags");
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    if (obj.state == domain_state::shutoff)
        raise(error_code::internal_error, error_domain::test, "domain '" + a.dom.name + "' not running");
    if (action_keeps_running(obj.live->on_poweroff)) {
        obj.state = domain_state::running;
        obj.reason = reason::running_booted;
    } else {
        impl_->stop(obj, reason::shutoff_shutdown);
    }
}

void test::state::perform(op::domain_reboot, const op::domain_reboot::args& a) {
    pause();
    check_flags(a.flags, 0x3f, "testDomainReboot");
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    check_active(obj);
    if (action_keeps_running(obj.live->on_reboot)) {
        obj.state = domain_state::running;
        obj.reason = reason::running_booted;
    } else {
        impl_->stop(obj, reason::shutoff_shutdown);
    }
}

void test::state::perform(op::domain_destroy, const op::domain_destroy::args& a) {
    pause();
    check_flags(a.flags, 1U /* VIR_DOMAIN_DESTROY_GRACEFUL */, "testDomainDestroyFlags");
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    check_active(obj);
    impl_->stop(obj, reason::shutoff_destroyed);
}

// ---- save, restore, core dump ------------------------------------------------------------------

namespace {
// 9.0's image: the magic with its NUL, the XML length as a native int, the XML.
constexpr char save_magic[] = "TestGuestMagic";
constexpr int save_xml_limit = 8192;

struct fd_guard {
    int fd = -1;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};

[[noreturn]] void raise_system(int err, const std::string& what) {
    const char* why = open_failure_text(err);
    raise(error_code::system_error, error_domain::test, what + ": " + (why ? std::string(why) : test_detail::errno_text(err)));
}

void write_save_image(const std::string& path, const std::string& name, const std::string& xml) {
    std::string where = "saving domain '" + name + "' to '" + path + "'";
    fd_guard f{open_regular_file(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY)};
    if (f.fd < 0) raise_system(errno, where + ": open failed");
    int len = static_cast<int>(xml.size());
    if (!write_all(f.fd, save_magic, sizeof save_magic) || !write_all(f.fd, &len, sizeof len) ||
        !write_all(f.fd, xml.data(), xml.size())) {
        int err = errno;
        ::unlink(path.c_str());
        raise_system(err, where + ": write failed");
    }
    int fd = f.fd;
    f.fd = -1;
    if (::close(fd) != 0) {
        int err = errno;
        ::unlink(path.c_str());
        raise_system(err, where + ": write failed");
    }
}

std::string read_save_image(const std::string& path) {
    fd_guard f{open_regular_file(path.c_str(), O_RDONLY)};
    if (f.fd < 0) raise_system(errno, "cannot read domain image '" + path + "'");
    char magic[sizeof save_magic];
    if (!read_all(f.fd, magic, sizeof magic)) raise_system(errno, "incomplete save header in '" + path + "'");
    if (std::memcmp(magic, save_magic, sizeof magic) != 0)
        raise(error_code::internal_error, error_domain::test, "mismatched header magic");
    int len = 0;
    if (!read_all(f.fd, &len, sizeof len)) raise_system(errno, "failed to read metadata length in '" + path + "'");
    if (len < 1 || len > save_xml_limit)
        raise(error_code::internal_error, error_domain::test, "length of metadata out of range");
    std::string xml(static_cast<std::size_t>(len), '\0');
    if (!read_all(f.fd, xml.data(), xml.size())) raise_system(errno, "incomplete metadata in '" + path + "'");
    return xml;
}
}  // namespace

void test::state::perform(op::domain_save, const op::domain_save::args& a) {
    pause();
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    check_active(obj);
    write_save_image(a.path, a.dom.name, xml::format_domain_xml(*obj.live, {.inactive = false, .secure = true}));
    impl_->stop(obj, reason::shutoff_saved);
}

void test::state::perform(op::domain_restore, const op::domain_restore::args& a) {
    pause();
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto def = impl_->parse_domain(read_save_image(a.path));
    auto* existing = impl_->check_domain_conflicts(def, true);
    if (existing == nullptr) {
        auto obj = std::make_unique<domain_obj>();
        obj->config = def;
        existing = &impl_->add_domain(std::move(obj));
    }
    existing->live = std::move(def);
    impl_->start(*existing, reason::running_restored);
}

void test::state::perform(op::domain_core_dump, const op::domain_core_dump::args& a) {
    pause();
    check_flags(a.flags, 1U /* VIR_DUMP_CRASH */, "testDomainCoreDumpWithFormat");
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    check_active(obj);
    std::string prefix = "domain '" + a.dom.name + "' coredump: ";
    fd_guard f{open_regular_file(a.path.c_str(), O_CREAT | O_TRUNC | O_WRONLY)};
    if (f.fd < 0) raise_system(errno, prefix + "failed to open " + a.path);
    if (!write_all(f.fd, save_magic, sizeof save_magic)) raise_system(errno, prefix + "failed to write header to " + a.path);
    int fd = f.fd;
    f.fd = -1;
    if (::close(fd) != 0) raise_system(errno, prefix + "write failed: " + a.path);
    if (a.flags & 1U) impl_->stop(obj, reason::shutoff_crashed);
}

bool test::state::perform(op::domain_has_managed_save_image, const op::domain_has_managed_save_image::args& a) {
    pause();
    check_flags(a.flags, 0, "testDomainHasManagedSaveImage");
    read_lock lock(impl_->mutex);
    return impl_->domain(a.dom).managed_save;
}

// ---- properties --------------------------------------------------------------------------------

domain_info test::state::perform(op::domain_get_info, const op::domain_get_info::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    const auto& obj = impl_->domain(a.dom);
    const auto& def = obj.current();
    return {obj.state, def.memory_kib, current_memory(def), online_vcpus(def), real_time_us() * 1000};
}

domain_state_info test::state::perform(op::domain_get_state, const op::domain_get_state::args& a) {
    pause();
    check_flags(a.flags, 0, "testDomainGetState");
    read_lock lock(impl_->mutex);
    const auto& obj = impl_->domain(a.dom);
    return {obj.state, obj.reason};
}

std::string test::state::perform(op::domain_get_os_type, const op::domain_get_os_type::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    (void)impl_->domain(a.dom);  // the domain must exist; 9.0 answers "linux" for every guest
    return "linux";
}

std::string test::state::perform(op::domain_get_xml_desc, const op::domain_get_xml_desc::args& a) {
    pause();
    check_flags(a.flags, xml_flags::secure | xml_flags::inactive | xml_flags::migratable, "testDomainGetXMLDesc");
    read_lock lock(impl_->mutex);
    const auto& obj = impl_->domain(a.dom);
    bool inactive = (a.flags & xml_flags::inactive) != 0;
    const auto& def = (inactive && obj.persistent) ? obj.config : obj.current();
    return xml::format_domain_xml(def, {.inactive = inactive, .secure = (a.flags & xml_flags::secure) != 0});
}

bool test::state::perform(op::domain_is_active, const op::domain_is_active::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return impl_->domain(a.dom).active();
}
bool test::state::perform(op::domain_is_persistent, const op::domain_is_persistent::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return impl_->domain(a.dom).persistent;
}
bool test::state::perform(op::domain_get_autostart, const op::domain_get_autostart::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return impl_->domain(a.dom).autostart;
}
void test::state::perform(op::domain_set_autostart, const op::domain_set_autostart::args& a) {
    pause();
    write_lock lock(impl_->mutex);
    impl_->domain(a.dom).autostart = a.autostart;
}

std::uint64_t test::state::perform(op::domain_get_max_memory, const op::domain_get_max_memory::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return impl_->domain(a.dom).current().memory_kib;
}

namespace {
void set_maximum_memory(xml::domain_def& def, std::uint64_t kib) {
    if (def.max_memory_kib && *def.max_memory_kib != 0 && *def.max_memory_kib < kib)
        raise(error_code::operation_invalid, error_domain::test,
              "cannot set initial memory size greater than the maximum memory size");
    def.memory_kib = kib;
    if (current_memory(def) > kib) def.current_memory_kib = kib;
}
}  // namespace

void test::state::perform(op::domain_set_max_memory, const op::domain_set_max_memory::args& a) {
    pause();
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    // Unlike 9.0 (which refuses on a running guest), the seed's virDomainSetMaxMemory works on a
    // running domain: both the live and the persistent definition change.
    if (obj.live) {
        auto live = *obj.live;
        set_maximum_memory(live, a.kib);
        if (obj.persistent) set_maximum_memory(obj.config, a.kib);
        *obj.live = std::move(live);
    } else {
        set_maximum_memory(obj.config, a.kib);
    }
}

void test::state::perform(op::domain_set_memory, const op::domain_set_memory::args& a) {
    pause();
    check_flags(a.flags, affect::live | affect::config | affect::maximum, "testDomainSetMemoryFlags");
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    bool live = false;
    auto& def = one_def(obj, a.flags, &live);
    if (a.flags & affect::maximum) {
        if (live)
            raise(error_code::operation_invalid, error_domain::test, "cannot resize the maximum memory on an active domain");
        set_maximum_memory(def, a.kib);
    } else {
        if (a.kib > def.memory_kib)
            raise(error_code::invalid_arg, error_domain::test, "cannot set memory higher than max memory");
        def.current_memory_kib = a.kib;
    }
}

int test::state::perform(op::domain_get_max_vcpus, const op::domain_get_max_vcpus::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    // 9.0 asks for the live maximum, so an inactive domain answers "domain is not running"
    return static_cast<int>(one_def(std::as_const(impl_->domain(a.dom)), affect::live | affect::maximum).vcpu.count);
}

void test::state::perform(op::domain_set_vcpus, const op::domain_set_vcpus::args& a) {
    pause();
    if ((a.flags & affect::maximum) && !(a.flags & affect::config))
        test_detail::raise_verbatim(error_code::invalid_arg, error_domain::domain, "Flag 'VIR_DOMAIN_AFFECT_CONFIG' is required by flag 'VIR_DOMAIN_VCPU_MAXIMUM'");
    if (a.count == 0)
        raise(error_code::invalid_arg, error_domain::domain, "nvcpus in virDomainSetVcpusFlags must not be zero");
    check_flags(a.flags, affect::live | affect::config | affect::maximum, "testDomainSetVcpusFlags");
    constexpr unsigned max_supported = 32;
    if (a.count > max_supported)
        raise(error_code::invalid_arg, error_domain::test,
              "requested cpu amount exceeds maximum supported amount (" + std::to_string(a.count) + " > " +
                  std::to_string(max_supported) + ")");
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    auto which = resolve_affect(obj, a.flags);
    auto exceeds = [&](unsigned max) {
        raise(error_code::invalid_arg, error_domain::test,
              "requested cpu amount exceeds maximum (" + std::to_string(a.count) + " > " + std::to_string(max) + ")");
    };
    if (which.live && obj.live->vcpu.count < a.count) exceeds(obj.live->vcpu.count);
    if (which.config && !(a.flags & affect::maximum) && obj.config.vcpu.count < a.count) exceeds(obj.config.vcpu.count);
    if (which.live) {
        set_online_vcpus(*obj.live, a.count);
        obj.vcpu_affinity.resize(a.count);
    }
    if (which.config) {
        if (a.flags & affect::maximum) {
            unsigned online = std::min(online_vcpus(obj.config), a.count);
            obj.config.vcpu.count = a.count;
            set_online_vcpus(obj.config, online);
        } else {
            set_online_vcpus(obj.config, a.count);
        }
    }
}

int test::state::perform(op::domain_get_vcpus_flags, const op::domain_get_vcpus_flags::args& a) {
    pause();
    check_flags(a.flags, affect::live | affect::config | affect::maximum, "testDomainGetVcpusFlags");
    read_lock lock(impl_->mutex);
    const auto& def = one_def(std::as_const(impl_->domain(a.dom)), a.flags);
    return static_cast<int>((a.flags & affect::maximum) ? def.vcpu.count : online_vcpus(def));
}

void test::state::perform(op::domain_pin_vcpu, const op::domain_pin_vcpu::args& a) {
    pause();
    check_flags(a.flags, 0, "testDomainPinVcpuFlags");  // 9.0's test driver pins the current state only
    if (a.cpumap.empty())
        raise(error_code::invalid_arg, error_domain::domain, "maplen in virDomainPinVcpu must be greater than zero");
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    if (!obj.active())
        raise(error_code::operation_invalid, error_domain::test, "cannot pin vcpus on an inactive domain");
    if (a.vcpu >= obj.vcpu_affinity.size())
        raise(error_code::invalid_arg, error_domain::test,
              "requested vcpu '" + std::to_string(a.vcpu) + "' is not present in the domain");
    const auto& n = impl_->host.node;
    std::size_t host_cpus = static_cast<std::size_t>(n.nodes) * n.sockets * n.cores * n.threads;
    auto map = a.cpumap;
    // the C API passes whole bytes; bits past the map read as clear
    map.resize(std::max<std::size_t>(host_cpus, 1), false);
    map.resize(host_cpus);
    obj.vcpu_affinity[a.vcpu] = std::move(map);
}

std::vector<vcpu_info> test::state::perform(op::domain_get_vcpus, const op::domain_get_vcpus::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    const auto& obj = impl_->domain(a.dom);
    if (!obj.active())
        raise(error_code::operation_invalid, error_domain::test, "cannot list vcpus for an inactive domain");
    const auto& n = impl_->host.node;
    std::size_t host_cpus = static_cast<std::size_t>(n.nodes) * n.sockets * n.cores * n.threads;
    std::uint64_t base = real_time_us();
    std::vector<vcpu_info> out;
    std::size_t count = obj.vcpu_affinity.size();
    if (a.maxinfo > 0) count = std::min(count, static_cast<std::size_t>(a.maxinfo));
    for (std::size_t i = 0; i < count; ++i) {
        vcpu_info v;
        v.number = static_cast<unsigned>(i);
        v.state = 1;  // VIR_VCPU_RUNNING
        v.cpu_time_ns = base / 10;  // 9.0's fake, increasing time
        v.affinity = obj.vcpu_affinity[i].empty() ? std::vector<bool>(host_cpus, true) : obj.vcpu_affinity[i];
        v.cpu = -1;
        for (std::size_t c = v.affinity.size(); c-- > 0;)
            if (v.affinity[c]) {
                v.cpu = static_cast<int>(c);
                break;
            }
        out.push_back(std::move(v));
    }
    return out;
}

scheduler_type test::state::perform(op::domain_get_scheduler_type, const op::domain_get_scheduler_type::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    (void)impl_->domain(a.dom);
    return {"fair", 1};
}

std::vector<typed_param> test::state::perform(op::domain_get_scheduler_parameters,
                                              const op::domain_get_scheduler_parameters::args& a) {
    pause();
    check_flags(a.flags, 0, "testDomainGetSchedulerParametersFlags");
    read_lock lock(impl_->mutex);
    return {{"weight", std::uint32_t{impl_->domain(a.dom).scheduler_weight}}};
}

void test::state::perform(op::domain_set_scheduler_parameters, const op::domain_set_scheduler_parameters::args& a) {
    pause();
    check_flags(a.flags, 0, "testDomainSetSchedulerParametersFlags");
    static constexpr std::string_view type_names[] = {"int", "uint", "llong", "ullong", "double", "boolean", "string"};
    for (const auto& p : a.params) {
        if (p.field != "weight")
            raise(error_code::argument_unsupported, error_domain::none, "parameter '" + p.field + "' not supported");
        if (!std::holds_alternative<std::uint32_t>(p.value))
            raise(error_code::invalid_arg, error_domain::none,
                  "invalid type '" + std::string(type_names[p.value.index()]) + "' for parameter 'weight', expected 'uint'");
    }
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    // 9.0 accepts the weight and forgets it; this driver keeps it
    for (const auto& p : a.params) obj.scheduler_weight = std::get<std::uint32_t>(p.value);
}

block_stats test::state::perform(op::domain_block_stats, const op::domain_block_stats::args& a) {
    pause();
    if (a.path.empty())
        raise(error_code::operation_unsupported, error_domain::test, "summary statistics are not supported yet");
    read_lock lock(impl_->mutex);
    const auto& obj = impl_->domain(a.dom);
    check_active(obj);
    const auto& disks = obj.live->devices.disks;
    bool known = std::any_of(disks.begin(), disks.end(),
                             [&](const xml::disk_def& d) { return d.target_dev == a.path || d.source == a.path; });
    if (!known) raise(error_code::invalid_arg, error_domain::test, "invalid path: " + a.path);
    auto base = static_cast<std::int64_t>(real_time_us());
    return {base / 10, base / 20, base / 30, base / 40, base / (1000LL * 1000LL * 2)};
}

std::vector<domain_interface> test::state::perform(op::domain_interface_addresses, const op::domain_interface_addresses::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testDomainInterfaceAddresses");
    read_lock lock(impl_->mutex);
    if (a.source > 2)  // lease, agent, arp
        raise(error_code::argument_unsupported, error_domain::test,
              "Unknown IP address data source " + std::to_string(a.source));
    const auto& obj = impl_->domain(a.dom);
    check_active(obj);
    // libvirt 9.0's test driver makes the addresses up, whatever the source: one per interface,
    // from its network's first <ip> (DHCP range start, else its address) plus an offset the
    // domain id and the interface's index give, or 192.168.0.(index + 1)/24 off a network
    std::vector<domain_interface> out;
    const auto& nets = obj.live->devices.interfaces;
    for (std::size_t i = 0; i < nets.size(); ++i) {
        const auto& n = nets[i];
        domain_interface iface;
        iface.name = n.target_dev;
        iface.hwaddr = n.mac.value_or("00:00:00:00:00:00");
        domain_interface_address addr;
        if (n.type == xml::interface_type::network) {
            const std::string net_name = n.source_network.value_or("");
            const test_detail::network_obj* net = impl_->find_network_by_name(net_name);
            if (net == nullptr)
                raise(error_code::no_network, error_domain::test, "no network with matching name '" + net_name + "'");
            const auto& def = net->current();
            if (def.ips.empty())
                raise(error_code::operation_invalid, error_domain::test, "network '" + net_name + "' has no IP address");
            const auto& ip = def.ips.front();
            addr.prefix = network::ip_prefix(ip);
            const std::string& base = ip.dhcp_ranges.empty() ? ip.address : ip.dhcp_ranges.front().start;
            const unsigned offset = static_cast<unsigned>(20 * (obj.id() - 1) + static_cast<int>(i) + 1);
            const bool v6 = ip.family == std::string("ipv6");
            std::array<unsigned char, 16> bytes{};
            inet_pton(v6 ? AF_INET6 : AF_INET, base.c_str(), bytes.data());
            if (v6) {
                bytes[15] = static_cast<unsigned char>(bytes[15] + offset);  // the last byte only, wrapping
            } else {
                std::uint32_t host_order = (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
                                           (std::uint32_t{bytes[2]} << 8) | bytes[3];
                host_order += offset;
                for (int k = 0; k < 4; ++k) bytes[static_cast<std::size_t>(k)] = static_cast<unsigned char>(host_order >> (24 - 8 * k));
            }
            char text[INET6_ADDRSTRLEN] = {};
            inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text);
            addr.type = v6 ? 1 : 0;
            addr.addr = text;
        } else {
            addr.type = 0;
            addr.prefix = 24;
            addr.addr = "192.168.0." + std::to_string(i + 1);
        }
        iface.addrs.push_back(std::move(addr));
        out.push_back(std::move(iface));
    }
    return out;
}

interface_stats test::state::perform(op::domain_interface_stats, const op::domain_interface_stats::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    const auto& obj = impl_->domain(a.dom);
    check_active(obj);
    const auto& nets = obj.live->devices.interfaces;
    std::string mac;
    bool by_mac = parse_mac(a.path, mac);
    bool known = std::any_of(nets.begin(), nets.end(), [&](const xml::interface_def& n) {
        return by_mac ? (n.mac && lower(*n.mac) == mac) : n.target_dev == a.path;
    });
    if (!known) raise(error_code::invalid_arg, error_domain::domain, "'" + a.path + "' is not a known interface");
    auto base = static_cast<std::int64_t>(real_time_us());
    interface_stats s;
    s.rx_bytes = base / 10;
    s.rx_packets = base / 100;
    s.rx_errs = base / (1000LL * 1000LL * 1);
    s.rx_drop = base / (1000LL * 1000LL * 2);
    s.tx_bytes = base / 20;
    s.tx_packets = base / 110;
    s.tx_errs = base / (1000LL * 1000LL * 3);
    s.tx_drop = base / (1000LL * 1000LL * 4);
    return s;
}

security_label test::state::perform(op::domain_get_security_label, const op::domain_get_security_label::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    if (impl_->domain(a.dom).active()) return {"libvirt-test", true};
    return {"", false};
}

std::vector<std::string> test::state::perform(op::domain_get_messages, const op::domain_get_messages::args& a) {
    pause();
    check_flags(a.flags, 3U, "testDomainGetMessages");
    read_lock lock(impl_->mutex);
    (void)impl_->domain(a.dom);
    return {};
}

}  // namespace virtpp::hypervisor
