// The QEMU driver: guests' definitions and lifecycles, QMP control, events, persistence and
// re-attaching to guests a previous driver left running.
#include "hypervisor/fd_io.hpp"
#include "hypervisor/qemu_ops.hpp"
#include "hypervisor/smbios.hpp"

#include <virtpp/xml/schema.hpp>

namespace virtpp::hypervisor {


// ---- the driver object ---------------------------------------------------------------------

qemu::driver::driver(bool priv, driver_paths p) : privileged(priv), paths(std::move(p)) {
    if (auto text = read_file(paths.conf_file)) config = parse_driver_config(*text, paths.conf_file);
    make_dirs(paths.config_dir);
    make_dirs(paths.run_dir);
    // libvirt's system layout beside the QEMU driver's; under a state root (or a session's
    // directories) the networks' files stay with the driver's own
    networks = std::make_unique<network::driver>(
        paths.config_dir == "/etc/libvirt/qemu"
            ? network::paths_for_system()
            : network::paths{paths.config_dir + "/networks", paths.config_dir + "/networks/autostart",
                             paths.run_dir + "/network", paths.cache_dir + "/dnsmasq"},
        privileged);
    worker_ = std::thread([this] { event_loop(); });
    ops o{*this};
    o.load_configs();
    o.reattach_all();
    o.autostart_all();
}

qemu::driver::~driver() {
    // Guests keep running: no event handler may act from here on (one in flight finishes
    // first: it holds the guest's job lock), then the monitors go (no command is sent), then
    // the event thread.
    closing = true;
    std::vector<std::shared_ptr<qemu_detail::domain_obj>> all;
    {
        std::lock_guard lock(mutex);
        for (const auto& o : domains.owners()) all.push_back(o);
    }
    for (auto& o : all) std::lock_guard job(o->job);
    std::vector<std::shared_ptr<qmp_monitor>> monitors;
    {
        std::lock_guard lock(mutex);
        for (auto& o : domains.owners()) {
            if (o->monitor) monitors.push_back(std::move(o->monitor));
            if (o->pidfd >= 0) ::close(o->pidfd);
            o->pidfd = -1;
        }
    }
    for (auto& m : monitors) m->detach();
    {
        std::lock_guard lock(queue_mutex_);
        quitting_ = true;
        queue_.clear();
    }
    queue_cv_.notify_all();
    worker_.join();
}

void qemu::driver::post(std::function<void()> fn) {
    {
        std::lock_guard lock(queue_mutex_);
        if (quitting_) return;
        queue_.push_back(std::move(fn));
    }
    queue_cv_.notify_one();
}

void qemu::driver::emit(event e) {
    events.queue(std::move(e));
    post([this] { events.deliver(); });
}

void qemu::driver::event_loop() {
    for (;;) {
        std::function<void()> fn;
        {
            std::unique_lock lock(queue_mutex_);
            queue_cv_.wait(lock, [&] { return quitting_ || !queue_.empty(); });
            if (quitting_) return;
            fn = std::move(queue_.front());
            queue_.pop_front();
        }
        fn();
    }
}

pid_t qemu::driver::guest_pid(std::string_view name) {
    std::lock_guard lock(mutex);
    auto o = domains.find_by_name(name);
    return o && o->live ? o->pid : -1;
}

// ---- policy ----------------------------------------------------------------------------------

std::optional<std::string> qemu::probe_uri() { return std::string(::geteuid() == 0 ? "qemu:///system" : "qemu:///session"); }

bool qemu::accepts(const virtpp::uri& u) {
    return u.kind() == virtpp::uri::form::standard && u.driver() == "qemu" && !u.is_remote();
}

std::shared_ptr<qemu::state> qemu::open(const virtpp::uri& u, unsigned /*flags*/) {
    bool privileged;
    if (u.path() == "/system") {
        if (::geteuid() != 0)
            raise(error_code::internal_error, error_domain::qemu, "unexpected qemu URI path '/system', try qemu:///session");
        privileged = true;
    } else if (u.path() == "/session") {
        privileged = false;
    } else {
        raise(error_code::internal_error, error_domain::qemu,
              "unexpected qemu URI path '" + u.path() + "', try " + (::geteuid() == 0 ? "qemu:///system" : "qemu:///session"));
    }
    auto paths = paths_for(privileged);
    std::lock_guard lock(registry_mutex);
    auto& slot = registry()[paths.config_dir];
    auto d = slot.lock();
    if (!d) {
        d = std::make_shared<qemu::driver>(privileged, paths);
        slot = d;
    }
    return std::make_shared<state>(d);
}

qemu::state::state(std::shared_ptr<qemu::driver> d) : driver_(std::move(d)) {}

event_subscription qemu::state::subscribe_events(event_handler handler) { return driver_->events.subscribe(std::move(handler)); }
qemu::state::~state() {
    // An incoming migration this connection prepared and never finished has no one left to finish
    // it: its paused qemu goes, as libvirt's close callback does.
    std::vector<obj_ptr> abandoned;
    {
        std::lock_guard lock(driver_->mutex);
        for (auto& o : driver_->domains.owners())
            if (o->migration == domain_obj::migration_stage::incoming && o->migration_owner == this) abandoned.push_back(o);
    }
    ops g{*driver_};
    for (auto& o : abandoned) {
        std::unique_lock job(o->job);
        {
            std::lock_guard lock(driver_->mutex);
            if (o->migration != domain_obj::migration_stage::incoming || o->migration_owner != this) continue;
        }
        try {
            g.stop(o, domain_state::shutoff, reason::shutoff_failed, "failed");
        } catch (const virtpp::error&) {
            // nothing more to do from a destructor: the process is ended or already gone
        }
    }
}

// ---- operations ------------------------------------------------------------------------------

namespace {

constexpr char save_magic[] = "LibvirtQemudSave";
constexpr char save_partial[] = "LibvirtQemudPart";
constexpr std::uint32_t save_version = 2;

/// libvirt's save image header (qemu_saveimage.h): magic, version, XML length, was_running,
/// compressed, cookie offset, 14 unused words; native byte order.
struct save_header {
    char magic[16];
    std::uint32_t version;
    std::uint32_t data_len;
    std::uint32_t was_running;
    std::uint32_t compressed;
    std::uint32_t cookie_offset;
    std::uint32_t unused[14];
};
static_assert(sizeof(save_header) == 92);

int open_for_write(const std::string& path) {
    int fd = open_regular_file(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC);
    if (fd < 0) {
        int e = errno;
        const char* why = open_failure_text(e);
        fail(error_code::system_error, "Failed to create file '" + path + "': " + (why ? why : std::strerror(e)));
    }
    return fd;
}
}  // namespace

// -- connection and node

std::string qemu::state::perform(op::connect_get_type, const op::none&) { return "QEMU"; }

std::uint64_t qemu::state::perform(op::connect_get_version, const op::none&) {
    auto emu = find_emulator(read_node_info().model);
    if (!emu) emu = find_emulator("x86_64");
    if (!emu) fail(error_code::internal_error, "Cannot find any QEMU binary");
    return emulator_version(*emu, driver_->paths.cache_dir);
}

std::string qemu::state::perform(op::connect_get_hostname, const op::none&) {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) fail(error_code::system_error, "failed to determine host name");
    return name;
}

int qemu::state::perform(op::connect_get_max_vcpus, const op::connect_get_max_vcpus::args& a) {
    if (a.type && *a.type != "qemu" && *a.type != "kvm")
        fail(error_code::invalid_arg, "unknown type '" + *a.type + "'");
    return 255;
}

std::string qemu::state::perform(op::connect_get_sysinfo, const op::connect_get_sysinfo::args& a) {
    if (a.flags != 0) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "%x", a.flags);
        raise(error_code::invalid_arg, error_domain::qemu,
              std::string("unsupported flags (0x") + hex + ") in function qemuConnectGetSysinfo");
    }
    const auto& sysinfo = smbios::host_sysinfo();
    if (!sysinfo) raise(error_code::config_unsupported, error_domain::qemu, "Host SMBIOS information is not available");
    return *sysinfo;
}

std::string qemu::state::perform(op::connect_get_capabilities, const op::none&) {
    {
        std::lock_guard lock(driver_->mutex);
        if (driver_->capabilities_xml) return *driver_->capabilities_xml;
    }
    auto text = xml::format_capabilities_xml(probe_capabilities(driver_->paths.cache_dir));
    std::lock_guard lock(driver_->mutex);
    driver_->capabilities_xml = text;
    return text;
}

node_info qemu::state::perform(op::node_get_info, const op::none&) { return read_node_info(); }

security_model qemu::state::perform(op::node_get_security_model, const op::none&) { return {}; }

std::vector<bool> qemu::state::perform(op::node_get_cpu_map, const op::none&) {
    return std::vector<bool>(host_cpu_count(), true);
}

// -- listing

int qemu::state::perform(op::connect_num_of_domains, const op::none&) {
    std::lock_guard lock(driver_->mutex);
    return static_cast<int>(driver_->domains.count_if([](const domain_obj& o) { return o.active(); }));
}

std::vector<int> qemu::state::perform(op::connect_list_domains, const op::none&) {
    std::lock_guard lock(driver_->mutex);
    std::vector<int> ids;
    for (auto& o : driver_->domains.owners())
        if (o->active()) ids.push_back(o->id());
    std::sort(ids.begin(), ids.end());
    return ids;
}

int qemu::state::perform(op::connect_num_of_defined_domains, const op::none&) {
    std::lock_guard lock(driver_->mutex);
    return static_cast<int>(driver_->domains.count_if([](const domain_obj& o) { return !o.active(); }));
}

std::vector<std::string> qemu::state::perform(op::connect_list_defined_domains, const op::none&) {
    std::lock_guard lock(driver_->mutex);
    std::vector<std::string> names;
    for (auto& o : driver_->domains.owners())
        if (!o->active()) names.push_back(o->config.name);
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<domain_ref> qemu::state::perform(op::connect_list_all_domains, const op::connect_list_all_domains::args& a) {
    std::lock_guard lock(driver_->mutex);
    std::vector<domain_ref> out;
    for (auto& o : driver_->domains.owners()) {
        detail::domain_list_facts facts{.active = o->active(), .persistent = o->persistent, .managed_save = false,
                                        .autostart = o->autostart, .has_snapshot = false, .has_checkpoint = false,
                                        .state = o->state};
        if (!detail::matches_list_flags(a.flags, facts)) continue;
        out.push_back(o->ref());
    }
    return out;
}

// -- lookup

domain_ref qemu::state::perform(op::domain_lookup_by_id, const op::domain_lookup_by_id::args& a) {
    std::lock_guard lock(driver_->mutex);
    if (auto o = driver_->domains.find_by_id(a.id)) return o->ref();
    raise(error_code::no_domain, error_domain::qemu, "no domain with matching id " + std::to_string(a.id));
}

domain_ref qemu::state::perform(op::domain_lookup_by_name, const op::domain_lookup_by_name::args& a) {
    std::lock_guard lock(driver_->mutex);
    if (auto o = ops{*driver_}.find_name(a.name)) return o->ref();
    raise(error_code::no_domain, error_domain::qemu, "no domain with matching name '" + a.name + "'");
}

domain_ref qemu::state::perform(op::domain_lookup_by_uuid, const op::domain_lookup_by_uuid::args& a) {
    std::lock_guard lock(driver_->mutex);
    if (auto o = ops{*driver_}.find(a.uuid)) return o->ref();
    raise(error_code::no_domain, error_domain::qemu, "no domain with matching uuid '" + a.uuid.str() + "'");
}

// -- definitions and lifecycle

domain_ref qemu::state::perform(op::domain_define_xml, const op::domain_define_xml::args& a) {
    ops g{*driver_};
    if (a.flags & (1U << 0)) xml::validate_document(a.xml, xml::document_kind::domain);  // VIR_DOMAIN_DEFINE_VALIDATE
    auto def = xml::parse_domain_xml(a.xml);
    g.fill_defaults(def, a.xml);
    obj_ptr o;
    {
        std::lock_guard lock(driver_->mutex);
        o = g.check_clash(def, false);
    }
    if (o) {
        std::unique_lock job(o->job);
        g.save_config(def);
        std::lock_guard lock(driver_->mutex);
        o->config = def;
        o->persistent = true;
        driver_->emit_lifecycle(*o, domain_lifecycle::defined, domain_lifecycle::defined_detail::updated);
        return o->ref();
    }
    g.save_config(def);
    std::lock_guard lock(driver_->mutex);
    if (g.check_clash(def, false)) fail(error_code::operation_failed, "domain '" + def.name + "' was defined concurrently");
    o = std::make_shared<domain_obj>();
    o->config = std::move(def);
    o->persistent = true;
    driver_->domains.add(o);
    driver_->emit_lifecycle(*o, domain_lifecycle::defined, domain_lifecycle::defined_detail::added);
    return o->ref();
}

domain_ref qemu::state::perform(op::domain_create_xml, const op::domain_create_xml::args& a) {
    ops g{*driver_};
    if (a.flags & (1U << 4)) xml::validate_document(a.xml, xml::document_kind::domain);  // VIR_DOMAIN_START_VALIDATE
    auto def = xml::parse_domain_xml(a.xml);
    g.fill_defaults(def, a.xml);
    obj_ptr o;
    {
        std::lock_guard lock(driver_->mutex);
        if (g.check_clash(def, true))
            fail(error_code::operation_failed, "domain '" + def.name + "' is already defined: start it instead");
        o = std::make_shared<domain_obj>();
        o->config = std::move(def);
        o->persistent = false;
        driver_->domains.add(o);
    }
    std::unique_lock job(o->job);
    try {
        g.start(o, (a.flags & start_paused) != 0);
    } catch (...) {
        std::lock_guard lock(driver_->mutex);
        driver_->domains.remove(*o);
        throw;
    }
    std::lock_guard lock(driver_->mutex);
    return o->ref();
}

void qemu::state::perform(op::domain_undefine, const op::domain_undefine::args& a) {
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    std::string name;
    {
        std::lock_guard lock(driver_->mutex);
        if (!o->persistent) fail(error_code::operation_invalid, "cannot undefine transient domain");
        name = o->config.name;
    }
    if (!remove_file_at(driver_->paths.config_dir, name + ".xml")) {
        int e = errno;
        fail(error_code::system_error, "cannot remove config " + g.config_file(name) + ": " + std::strerror(e));
    }
    remove_file_at(driver_->paths.autostart_dir, name + ".xml");
    std::lock_guard lock(driver_->mutex);
    driver_->emit_lifecycle(*o, domain_lifecycle::undefined, domain_lifecycle::undefined_detail::removed);
    o->persistent = false;
    o->autostart = false;
    if (!o->active()) driver_->domains.remove(*o);
}

domain_ref qemu::state::perform(op::domain_create, const op::domain_create::args& a) {
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    if (o->active()) fail(error_code::operation_invalid, "domain is already running");
    g.start(o, (a.flags & start_paused) != 0);
    std::lock_guard lock(driver_->mutex);
    return o->ref();
}

void qemu::state::perform(op::domain_suspend, const op::domain_suspend::args& a) {
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    auto mon = g.running_monitor(o);
    mon->execute("stop");
    {
        std::lock_guard lock(driver_->mutex);
        if (o->state != domain_state::paused)
            driver_->emit_lifecycle(*o, domain_lifecycle::suspended, domain_lifecycle::suspended_detail::paused);
        o->state = domain_state::paused;
        o->reason = reason::paused_user;
    }
    g.write_status(*o);
}

void qemu::state::perform(op::domain_resume, const op::domain_resume::args& a) {
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    auto mon = g.running_monitor(o);
    {
        std::lock_guard lock(driver_->mutex);
        if (o->state == domain_state::running) fail(error_code::operation_invalid, "domain is already running");
        if (o->state == domain_state::crashed) fail(error_code::operation_invalid, "domain has crashed and cannot be resumed");
    }
    mon->execute("cont");
    {
        std::lock_guard lock(driver_->mutex);
        o->state = domain_state::running;
        o->reason = reason::running_unpaused;
        driver_->emit_lifecycle(*o, domain_lifecycle::resumed, domain_lifecycle::resumed_detail::unpaused);
    }
    g.write_status(*o);
}

void qemu::state::perform(op::domain_shutdown, const op::domain_shutdown::args& a) {
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    auto mon = g.running_monitor(o);
    {
        std::lock_guard lock(driver_->mutex);
        if (o->state != domain_state::running) fail(error_code::operation_invalid, "domain is not running");
        o->fake_reboot = false;
    }
    mon->execute("system_powerdown");
}

void qemu::state::perform(op::domain_reboot, const op::domain_reboot::args& a) {
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    auto mon = g.running_monitor(o);
    bool acpi;
    {
        std::lock_guard lock(driver_->mutex);
        if (o->state != domain_state::running) fail(error_code::operation_invalid, "domain is not running");
        acpi = o->live->features.acpi;
        o->fake_reboot = acpi;
    }
    // With ACPI the guest shuts down cleanly and the SHUTDOWN event resets it; without, a hard reset.
    mon->execute(acpi ? "system_powerdown" : "system_reset");
}

void qemu::state::perform(op::domain_destroy, const op::domain_destroy::args& a) {
    ops g{*driver_};
    auto o = g.lookup(a.dom);
    pid_t pid;
    int pidfd;
    {
        std::lock_guard lock(driver_->mutex);
        if (!o->live) not_running();
        o->stopping = true;  // a job in progress (save) sees this and aborts
        pid = o->pid;
        pidfd = o->pidfd;
    }
    // Kill first, without the job lock, so a long job cannot hold the destroy back.
    terminate_process(pid, pidfd, std::chrono::seconds(3));
    std::unique_lock job(o->job);
    g.stop(o, domain_state::shutoff, reason::shutoff_destroyed, "destroyed");
}

void qemu::state::perform(op::domain_save, const op::domain_save::args& a) {
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    auto mon = g.running_monitor(o);
    xml::domain_def def;
    bool was_running;
    {
        std::lock_guard lock(driver_->mutex);
        def = *o->live;
        was_running = o->state == domain_state::running;
        o->async_job = "domain save";
    }
    job_scope tracked(*driver_, o, job_operation::save, "domain save", job_stats_kind::save_dump);
    def.id.reset();
    std::string xml_text = xml::format_domain_xml(def, {.inactive = true, .secure = true});
    int fd = open_for_write(a.path);
    auto cleanup = [&] {
        ::close(fd);
        ::unlink(a.path.c_str());
    };
    save_header h{};
    std::memcpy(h.magic, save_partial, sizeof h.magic);
    h.version = save_version;
    h.data_len = static_cast<std::uint32_t>(xml_text.size() + 1);
    h.was_running = was_running ? 1 : 0;
    std::string payload = xml_text;
    payload.push_back('\0');
    if (!write_all(fd, &h, sizeof h) || !write_all(fd, payload.data(), payload.size())) {
        int e = errno;
        cleanup();
        fail(error_code::system_error, "failed to write save header to '" + a.path + "': " + std::strerror(e));
    }
    try {
        if (was_running) {
            mon->execute("stop");
            std::lock_guard lock(driver_->mutex);
            o->state = domain_state::paused;
            o->reason = reason::paused_save;
        }
        set_file_stream_rate(*driver_, *mon);
        mon->execute("getfd", json::object{{"fdname", "virtpp-save"}}, fd);
        mon->execute("migrate", json::object{{"uri", "fd:virtpp-save"}});
        wait_migration(*driver_, o, *mon, "domain save");
    } catch (...) {
        cleanup();
        undo_outgoing_stream(*driver_, o, *mon, "domain save", false, was_running, reason::running_unpaused);
        throw;
    }
    // the image is complete: mark it so, then end the guest
    std::memcpy(h.magic, save_magic, sizeof h.magic);
    bool ok = ::pwrite(fd, &h, sizeof h, 0) == static_cast<ssize_t>(sizeof h) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
        ::unlink(a.path.c_str());
        fail(error_code::system_error, "failed to finish save image '" + a.path + "'");
    }
    tracked.complete(true);  // job-completed comes before the stopped-saved event, as in libvirt
    g.stop(o, domain_state::shutoff, reason::shutoff_saved, "saved");
}

void qemu::state::perform(op::domain_restore, const op::domain_restore::args& a) {
    ops g{*driver_};
    int fd = open_regular_file(a.path.c_str(), O_RDONLY);
    if (fd < 0) {
        int e = errno;
        const char* why = open_failure_text(e);
        fail(error_code::system_error, "cannot open domain image '" + a.path + "': " + (why ? why : std::strerror(e)));
    }
    struct fd_guard {
        int fd;
        ~fd_guard() { ::close(fd); }
    } guard{fd};
    save_header h{};
    if (!read_all(fd, &h, sizeof h)) fail(error_code::operation_failed, "failed to read qemu header");
    if (std::memcmp(h.magic, save_magic, sizeof h.magic) != 0) {
        if (std::memcmp(h.magic, save_partial, sizeof h.magic) == 0)
            fail(error_code::operation_failed, "save image is incomplete");
        fail(error_code::invalid_arg, "image magic is incorrect");
    }
    if (h.version > save_version)
        fail(error_code::operation_failed, "image version is not supported (" + std::to_string(h.version) + " > 2)");
    if (h.compressed != 0) fail(error_code::operation_failed, "compressed save images are not supported");
    if (h.data_len == 0 || h.data_len > 10 * 1024 * 1024) fail(error_code::operation_failed, "invalid XML length in save image");
    std::string xml_text(h.data_len, '\0');
    if (!read_all(fd, xml_text.data(), xml_text.size())) fail(error_code::operation_failed, "failed to read domain XML");
    xml_text.resize(std::strlen(xml_text.c_str()));
    auto def = xml::parse_domain_xml(xml_text);
    g.fill_defaults(def);
    auto [o, created] = g.existing_or_transient(def);
    std::unique_lock job(o->job);
    if (o->active()) fail(error_code::operation_invalid, "domain '" + def.name + "' is already active");
    job_scope tracked(*driver_, o, job_operation::restore, "start", job_stats_kind::restore);
    tracked.update([&](job_record& r) {
        struct stat st {};
        r.restore_fd = fd;
        r.restore_total = ::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
        r.abort_refusal = "cannot abort VM start; use virDomainDestroy instead";
    });
    xml::domain_def saved_config = o->config;
    {
        std::lock_guard lock(driver_->mutex);
        o->config = def;  // the saved definition is what runs; a persistent config is kept below
    }
    try {
        g.start(o, true, fd, reason::running_restored);
    } catch (...) {
        std::lock_guard lock(driver_->mutex);
        o->config = saved_config;
        if (created) driver_->domains.remove(*o);
        throw;
    }
    {
        std::lock_guard lock(driver_->mutex);
        if (!created) o->config = saved_config;
    }
    if (h.was_running != 0) {
        auto mon = g.running_monitor(o);
        mon->execute("cont");
        std::lock_guard lock(driver_->mutex);
        o->state = domain_state::running;
        o->reason = reason::running_restored;
    }
    tracked.complete();
    g.write_status(*o);
}

void qemu::state::perform(op::domain_core_dump, const op::domain_core_dump::args& a) {
    // VIR_DUMP_* flags
    constexpr unsigned crash = 1U << 0, live = 1U << 1, bypass_cache = 1U << 2, reset = 1U << 3, memory_only = 1U << 4;
    if (a.flags & ~(crash | live | bypass_cache | reset | memory_only))
        fail(error_code::invalid_arg, "unsupported flags in function qemuDomainCoreDumpWithFormat");
    if ((a.flags & crash) && (a.flags & reset)) fail(error_code::invalid_arg, "crash and reset flags are mutually exclusive");
    if ((a.flags & memory_only) && (a.flags & (live | bypass_cache)))
        fail(error_code::operation_invalid, "live and bypass-cache are not supported with memory-only dump");
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    auto mon = g.running_monitor(o);
    bool was_running;
    {
        std::lock_guard lock(driver_->mutex);
        was_running = o->state == domain_state::running;
    }
    job_scope tracked(*driver_, o, job_operation::dump, "domain core dump",
                      (a.flags & memory_only) ? job_stats_kind::memory_dump : job_stats_kind::save_dump);
    if (a.flags & memory_only) tracked.update([](job_record& r) { r.abort_refusal = "cannot abort memory-only dump"; });
    int fd = open_for_write(a.path);
    auto discard = [&] {
        ::close(fd);
        ::unlink(a.path.c_str());
    };
    bool paused_here = false;
    try {
        // as libvirt: the guest's CPUs stop for a dump that is not live
        if (was_running && !(a.flags & live)) {
            mon->execute("stop");
            paused_here = true;
            std::lock_guard lock(driver_->mutex);
            o->state = domain_state::paused;
            o->reason = reason::paused_dump;
        }
        mon->execute("getfd", json::object{{"fdname", "virtpp-dump"}}, fd);
        if (a.flags & memory_only) {
            // an ELF core of guest memory, written by qemu in the background; query-dump says how far
            mon->execute("dump-guest-memory", json::object{{"paging", false}, {"protocol", "fd:virtpp-dump"}, {"detach", true}});
            for (;;) {
                {
                    std::lock_guard lock(driver_->mutex);
                    if (o->stopping || !o->live)
                        fail(error_code::operation_aborted, "domain core dump job: the domain was destroyed while the job ran");
                }
                auto st = mon->execute("query-dump");
                tracked.update([&](job_record& r) { record_dump_sample(r, st); });
                std::string status = st.as_object().contains("status") ? json::value_to<std::string>(st.at("status")) : "";
                if (status == "completed") break;
                if (status == "failed") fail(error_code::operation_failed, "memory-only dump failed");
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        } else {
            // the guest's whole state as a migration stream, as libvirt dumps it
            set_file_stream_rate(*driver_, *mon);
            mon->execute("migrate", json::object{{"uri", "fd:virtpp-dump"}});
            wait_migration(*driver_, o, *mon, "domain core dump");
        }
        if (::fsync(fd) != 0 && errno != EINVAL) {
            int e = errno;
            fail(error_code::system_error, "unable to save file " + a.path + ": " + std::strerror(e));
        }
    } catch (...) {
        discard();
        undo_outgoing_stream(*driver_, o, *mon, "domain core dump", false, paused_here || (was_running && !(a.flags & memory_only)),
                             reason::running_unpaused);
        throw;
    }
    ::close(fd);
    tracked.complete((a.flags & memory_only) == 0);  // libvirt announces only the migration-stream dump
    if (a.flags & crash) {
        g.stop(o, domain_state::shutoff, reason::shutoff_crashed, "crashed");
        return;
    }
    if (a.flags & reset) mon->execute("system_reset");
    // a completed migration stream leaves qemu paused (postmigrate) even when it ran live
    if (paused_here || (was_running && !(a.flags & memory_only))) {
        mon->execute("cont");
        std::lock_guard lock(driver_->mutex);
        o->state = domain_state::running;
        o->reason = reason::running_unpaused;
    }
}

bool qemu::state::perform(op::domain_has_managed_save_image, const op::domain_has_managed_save_image::args& a) {
    ops g{*driver_};
    auto o = g.lookup(a.dom);
    struct stat st {};
    return ::stat((driver_->paths.save_dir + "/" + o->config.name + ".save").c_str(), &st) == 0;
}

// -- properties

domain_info qemu::state::perform(op::domain_get_info, const op::domain_get_info::args& a) {
    ops g{*driver_};
    auto o = g.lookup(a.dom);
    domain_info info;
    std::shared_ptr<qmp_monitor> mon;
    pid_t pid;
    {
        std::lock_guard lock(driver_->mutex);
        const auto& def = o->current();
        info.state = o->state;
        info.max_memory_kib = def.memory_kib;
        info.memory_kib = def.current_memory_kib.value_or(def.memory_kib);
        info.vcpus = def.vcpu.current.value_or(def.vcpu.count);
        mon = o->monitor;
        pid = o->pid;
    }
    if (mon && pid > 0) {
        info.cpu_time_ns = proc_cpu(pid).first;
        try {
            auto b = mon->execute("query-balloon");
            info.memory_kib = b.at("actual").to_number<std::uint64_t>() / 1024;
        } catch (const virtpp::error&) {
            // no balloon: the configured size is the answer
        }
    }
    return info;
}

domain_state_info qemu::state::perform(op::domain_get_state, const op::domain_get_state::args& a) {
    auto o = ops{*driver_}.lookup(a.dom);
    std::lock_guard lock(driver_->mutex);
    return {o->state, o->reason};
}

std::string qemu::state::perform(op::domain_get_os_type, const op::domain_get_os_type::args& a) {
    auto o = ops{*driver_}.lookup(a.dom);
    std::lock_guard lock(driver_->mutex);
    return o->current().os.type;
}

std::string qemu::state::perform(op::domain_get_xml_desc, const op::domain_get_xml_desc::args& a) {
    auto o = ops{*driver_}.lookup(a.dom);
    std::lock_guard lock(driver_->mutex);
    bool inactive = (a.flags & xml_flags::inactive) != 0;
    const auto& def = inactive ? o->config : o->current();
    return xml::format_domain_xml(def, {.inactive = inactive || !o->active(), .secure = (a.flags & xml_flags::secure) != 0});
}

bool qemu::state::perform(op::domain_is_active, const op::domain_is_active::args& a) {
    auto o = ops{*driver_}.lookup(a.dom);
    std::lock_guard lock(driver_->mutex);
    return o->active();
}

bool qemu::state::perform(op::domain_is_persistent, const op::domain_is_persistent::args& a) {
    auto o = ops{*driver_}.lookup(a.dom);
    std::lock_guard lock(driver_->mutex);
    return o->persistent;
}

bool qemu::state::perform(op::domain_get_autostart, const op::domain_get_autostart::args& a) {
    auto o = ops{*driver_}.lookup(a.dom);
    std::lock_guard lock(driver_->mutex);
    return o->autostart;
}

void qemu::state::perform(op::domain_set_autostart, const op::domain_set_autostart::args& a) {
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    std::string name;
    {
        std::lock_guard lock(driver_->mutex);
        if (!o->persistent) fail(error_code::operation_invalid, "cannot set autostart for transient domain");
        name = o->config.name;
    }
    std::string link = g.autostart_link(name);
    if (a.autostart) {
        make_dirs(driver_->paths.autostart_dir);
        remove_file_at(driver_->paths.autostart_dir, name + ".xml");
        symlink_at(g.config_file(name), driver_->paths.autostart_dir, name + ".xml");
    } else if (!remove_file_at(driver_->paths.autostart_dir, name + ".xml")) {
        int e = errno;
        fail(error_code::system_error, "Failed to delete symlink '" + link + "': " + std::strerror(e));
    }
    std::lock_guard lock(driver_->mutex);
    o->autostart = a.autostart;
}

std::uint64_t qemu::state::perform(op::domain_get_max_memory, const op::domain_get_max_memory::args& a) {
    auto o = ops{*driver_}.lookup(a.dom);
    std::lock_guard lock(driver_->mutex);
    return o->current().memory_kib;
}

void qemu::state::perform(op::domain_set_max_memory, const op::domain_set_max_memory::args& a) {
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    {
        std::lock_guard lock(driver_->mutex);
        if (o->active()) fail(error_code::operation_invalid, "cannot resize the maximum memory on an active domain");
        if (a.kib == 0) fail(error_code::invalid_arg, "memory size must be greater than zero");
        o->config.memory_kib = a.kib;
        if (o->config.current_memory_kib && *o->config.current_memory_kib > a.kib) o->config.current_memory_kib = a.kib;
    }
    if (o->persistent) g.save_config(o->config);
}

void qemu::state::perform(op::domain_set_memory, const op::domain_set_memory::args& a) {
    if ((a.flags & affect::maximum) != 0) {
        perform(op::domain_set_max_memory{}, {a.dom, a.kib});
        return;
    }
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    bool live, config;
    {
        std::lock_guard lock(driver_->mutex);
        live = (a.flags & affect::live) != 0 || (a.flags == affect::current && o->active());
        config = (a.flags & affect::config) != 0 || (a.flags == affect::current && !o->active());
        if (live && !o->active()) not_running();
        if (config && !o->persistent) fail(error_code::operation_invalid, "cannot change persistent config of a transient domain");
        if (a.kib > o->current().memory_kib) fail(error_code::invalid_arg, "cannot set memory higher than max memory");
    }
    if (live) {
        auto mon = g.running_monitor(o);
        {
            std::lock_guard lock(driver_->mutex);
            if (!o->live->devices.memballoon || o->live->devices.memballoon->model != "virtio")
                fail(error_code::operation_invalid, "Unable to change memory of active domain without the balloon device");
        }
        mon->execute("balloon", json::object{{"value", a.kib * 1024}});
        std::lock_guard lock(driver_->mutex);
        o->live->current_memory_kib = a.kib;
    }
    if (config) {
        {
            std::lock_guard lock(driver_->mutex);
            o->config.current_memory_kib = a.kib;
        }
        g.save_config(o->config);
    }
    if (live) g.write_status(*o);
}

int qemu::state::perform(op::domain_get_max_vcpus, const op::domain_get_max_vcpus::args& a) {
    auto o = ops{*driver_}.lookup(a.dom);
    std::lock_guard lock(driver_->mutex);
    if (!o->active()) not_running();
    return static_cast<int>(o->live->vcpu.count);
}

int qemu::state::perform(op::domain_get_vcpus_flags, const op::domain_get_vcpus_flags::args& a) {
    auto o = ops{*driver_}.lookup(a.dom);
    std::lock_guard lock(driver_->mutex);
    bool live = (a.flags & affect::live) != 0 || ((a.flags & affect::config) == 0 && o->active());
    if (live && !o->active()) not_running();
    const auto& def = live ? *o->live : o->config;
    if ((a.flags & affect::maximum) != 0) return static_cast<int>(def.vcpu.count);
    return static_cast<int>(def.vcpu.current.value_or(def.vcpu.count));
}

namespace {
/// The vcpu threads of a running guest: index -> thread id.
std::vector<std::pair<unsigned, pid_t>> vcpu_threads(qmp_monitor& mon) {
    std::vector<std::pair<unsigned, pid_t>> out;
    auto cpus = mon.execute("query-cpus-fast");
    for (const auto& c : cpus.as_array())
        out.emplace_back(c.at("cpu-index").to_number<unsigned>(), c.at("thread-id").to_number<pid_t>());
    std::sort(out.begin(), out.end());
    return out;
}
}  // namespace

void qemu::state::perform(op::domain_pin_vcpu, const op::domain_pin_vcpu::args& a) {
    // the running guest's threads only: the definition has no <cputune> in the model yet
    if ((a.flags & ~affect::live) != 0)
        raise(error_code::operation_unsupported, error_domain::qemu,
              "pinning vcpus in the persistent definition is not supported yet");
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    auto mon = g.running_monitor(o);
    cpu_set_t set;
    CPU_ZERO(&set);
    bool any = false;
    for (std::size_t i = 0; i < a.cpumap.size() && i < CPU_SETSIZE; ++i)
        if (a.cpumap[i] && i < host_cpu_count()) {
            CPU_SET(i, &set);
            any = true;
        }
    if (!any) fail(error_code::invalid_arg, "Empty cpu list for pinning");
    for (auto [index, tid] : vcpu_threads(*mon)) {
        if (index != a.vcpu) continue;
        if (::sched_setaffinity(tid, sizeof set, &set) != 0) {
            int e = errno;
            fail(error_code::system_error, "cannot set CPU affinity on process " + std::to_string(tid) + ": " + std::strerror(e));
        }
        return;
    }
    fail(error_code::invalid_arg, "vcpu " + std::to_string(a.vcpu) + " is out of range of live cpu count");
}

std::vector<vcpu_info> qemu::state::perform(op::domain_get_vcpus, const op::domain_get_vcpus::args& a) {
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    auto mon = g.running_monitor(o);
    pid_t pid;
    {
        std::lock_guard lock(driver_->mutex);
        pid = o->pid;
    }
    unsigned cpus = host_cpu_count();
    std::vector<vcpu_info> out;
    for (auto [index, tid] : vcpu_threads(*mon)) {
        auto [time, cpu] = proc_cpu(pid, tid);
        vcpu_info v;
        v.number = index;
        v.state = 1;
        v.cpu_time_ns = time;
        v.cpu = cpu;
        v.affinity = affinity_of(tid, cpus);
        out.push_back(std::move(v));
    }
    return out;
}

block_stats qemu::state::perform(op::domain_block_stats, const op::domain_block_stats::args& a) {
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    auto mon = g.running_monitor(o);
    std::string id;
    {
        std::lock_guard lock(driver_->mutex);
        const auto& disks = o->live->devices.disks;
        for (std::size_t i = 0; i < disks.size(); ++i)
            if (disks[i].target_dev == a.path || (disks[i].source && *disks[i].source == a.path)) id = disk_device_id(*o->live, i);
    }
    if (id.empty()) fail(error_code::invalid_arg, "invalid path: " + a.path);
    auto all = mon->execute("query-blockstats");
    for (const auto& entry : all.as_array()) {
        const auto& e = entry.as_object();
        std::string qdev = e.contains("qdev") ? json::value_to<std::string>(e.at("qdev")) : "";
        if (qdev != id && qdev.find("/" + id + "/") == std::string::npos && !qdev.ends_with("/" + id)) continue;
        const auto& s = e.at("stats").as_object();
        block_stats b;
        b.rd_req = s.at("rd_operations").to_number<std::int64_t>();
        b.rd_bytes = s.at("rd_bytes").to_number<std::int64_t>();
        b.wr_req = s.at("wr_operations").to_number<std::int64_t>();
        b.wr_bytes = s.at("wr_bytes").to_number<std::int64_t>();
        return b;
    }
    fail(error_code::internal_error, "cannot find statistics for device '" + a.path + "'");
}

interface_stats qemu::state::perform(op::domain_interface_stats, const op::domain_interface_stats::args& a) {
    ops g{*driver_};
    auto o = g.lookup(a.dom);
    std::string tap;
    {
        std::lock_guard lock(driver_->mutex);
        if (!o->active()) not_running();
        for (const auto& n : o->live->devices.interfaces)
            if ((n.target_dev && *n.target_dev == a.path) || (n.mac && *n.mac == a.path)) tap = n.target_dev.value_or("");
    }
    if (tap.empty()) fail(error_code::invalid_arg, "invalid path, '" + a.path + "' is not a known interface");
    auto c = host_interface_counters(tap);
    if (!c) fail(error_code::internal_error, "cannot read statistics of interface '" + tap + "'");
    // a tap's receive is the guest's transmit
    interface_stats s;
    s.rx_bytes = (*c)[4], s.rx_packets = (*c)[5], s.rx_errs = (*c)[6], s.rx_drop = (*c)[7];
    s.tx_bytes = (*c)[0], s.tx_packets = (*c)[1], s.tx_errs = (*c)[2], s.tx_drop = (*c)[3];
    return s;
}

security_label qemu::state::perform(op::domain_get_security_label, const op::domain_get_security_label::args& a) {
    (void)ops{*driver_}.lookup(a.dom);
    return {};
}

}  // namespace virtpp::hypervisor

// ---- SIGHUP ---------------------------------------------------------------------------------

namespace virtpp::hypervisor {

void qemu::state::reload() {
    ops g{*driver_};
    for (const auto& f : ops::files_ending(driver_->paths.config_dir, ".xml")) {
        xml::domain_def def;
        try {
            auto text = read_file_at(driver_->paths.config_dir, f);
            if (!text) continue;
            def = xml::parse_domain_xml(*text);
        } catch (const virtpp::error&) {
            continue;  // a broken file is skipped, as at start-up
        }
        if (!def.uuid || def.name + ".xml" != f) continue;
        struct stat st {};
        bool autostart = ::lstat(g.autostart_link(def.name).c_str(), &st) == 0;
        obj_ptr o;
        {
            std::lock_guard lock(driver_->mutex);
            o = g.find_name(def.name);
            if (!o) {
                if (g.find(*def.uuid)) continue;  // the UUID is another guest's: left out
                o = std::make_shared<domain_obj>();
                o->config = std::move(def);
                o->persistent = true;
                o->autostart = autostart;
                driver_->domains.add(o);
                driver_->emit_lifecycle(*o, domain_lifecycle::defined, domain_lifecycle::defined_detail::added);
                continue;
            }
        }
        // a known guest: its persistent definition follows the file (a running guest's live
        // definition is untouched; the new one applies from its next start)
        std::unique_lock job(o->job);
        std::lock_guard lock(driver_->mutex);
        if (*o->current().uuid != *def.uuid) continue;
        o->config = std::move(def);
        o->persistent = true;
        o->autostart = autostart;
    }
    // a guest whose file is gone stays defined, as in libvirtd (its reload only adds and updates)
    if (driver_->networks) driver_->networks->reload();
}

}  // namespace virtpp::hypervisor
