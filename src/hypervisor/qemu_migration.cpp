// The QEMU driver: migration between two drivers with libvirt's v3 steps.
#include "hypervisor/qemu_ops.hpp"

namespace virtpp::hypervisor {

// ---- migration: libvirt's v3 steps between two drivers (usually two daemons) -----------------
//
// Source: begin hands out the definition, perform streams the guest to the URI prepare chose
// (QMP migrate; the guest ends paused), confirm ends it there (or lets it run on when cancelled).
// Destination: prepare starts qemu listening (-incoming defer, migrate-incoming tcp:...), finish
// waits for the stream to complete and lets the guest run (or ends it when cancelled).

namespace {

/// What a migration URI names: tcp://host[:port] or qemu's tcp:host[:port] (host may be [v6]).
struct migration_target {
    std::string host;
    int port = 0;  ///< 0: not given
};

migration_target parse_migration_uri(const std::string& text) {
    std::string_view rest = text;
    if (rest.starts_with("tcp://")) rest.remove_prefix(6);
    else if (rest.starts_with("tcp:")) rest.remove_prefix(4);
    else fail(error_code::argument_unsupported, "unsupported scheme in migration URI " + text);
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    migration_target t;
    std::string_view port_text;
    if (rest.starts_with('[')) {
        auto close = rest.find(']');
        if (close == std::string_view::npos) fail(error_code::invalid_arg, "malformed IPv6 address in migration URI " + text);
        t.host = std::string(rest.substr(0, close + 1));
        rest.remove_prefix(close + 1);
        if (rest.starts_with(':')) port_text = rest.substr(1);
        else if (!rest.empty()) fail(error_code::invalid_arg, "malformed migration URI " + text);
    } else {
        auto colon = rest.rfind(':');
        t.host = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
    }
    if (t.host.empty()) fail(error_code::invalid_arg, "migration URI " + text + " names no host");
    if (!port_text.empty()) {
        auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), t.port);
        if (ec != std::errc() || ptr != port_text.data() + port_text.size() || t.port <= 0 || t.port > 65535)
            fail(error_code::invalid_arg, "invalid port in migration URI " + text);
    }
    return t;
}

/// A listen address in qemu's URI form: IPv6 literals in brackets.
std::string uri_host(const std::string& host) {
    return host.find(':') != std::string::npos && !host.starts_with('[') ? "[" + host + "]" : host;
}

/// True when a TCP port is free to listen on at addr (v4 or v6 literal; names bind to any).
bool port_free(const std::string& addr, int port) {
    std::string bare = addr.starts_with('[') ? addr.substr(1, addr.size() - 2) : addr;
    bool v6 = bare.find(':') != std::string::npos;
    int s = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return false;
    int one = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bool ok;
    if (v6) {
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET6, bare.c_str(), &a.sin6_addr) != 1) a.sin6_addr = in6addr_any;
        ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    } else {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET, bare.c_str(), &a.sin_addr) != 1) a.sin_addr.s_addr = htonl(INADDR_ANY);
        ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    ::close(s);
    return ok;
}

std::string local_hostname() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) fail(error_code::system_error, "failed to determine host name");
    return name;
}

/// The cookie each side sends: which driver it comes from (libvirt's <qemu-migration> shape).
op::migrate_cookie make_cookie(const qemu::driver& d, const xml::domain_def& def) {
    std::string text = "<qemu-migration>\n";
    for (const auto& [key, value] : {std::pair<std::string_view, std::string>{"name", def.name}, {"uuid", def.uuid->str()},
                                     {"hostname", local_hostname()}, {"hostuuid", d.instance.str()}})
        text += "  " + xml::detail::leaf_text(key, value) + "\n";
    text += "</qemu-migration>\n";
    op::migrate_cookie c(text.begin(), text.end());
    c.push_back(0);  // libvirt's cookies are C strings, NUL included
    return c;
}

/// Refuses a migration whose other end is this very driver. An empty or foreign cookie is no bar.
void check_cookie_peer(const qemu::driver& d, const op::migrate_cookie& cookie) {
    if (cookie.empty()) return;
    std::string text(cookie.begin(), cookie.end());
    text.resize(std::strlen(text.c_str()));
    xml::detail::element root;
    try {
        root = xml::detail::parse_document(text, "(qemu_migration_cookie)", error_domain::qemu);
    } catch (const virtpp::error&) {
        return;  // not ours: another implementation's cookie says nothing we check
    }
    const auto* host_uuid = root.child("hostuuid");
    if (root.name != "qemu-migration" || host_uuid == nullptr) return;
    if (host_uuid->trimmed_text() == d.instance.str()) {
        const auto* host = root.child("hostname");
        fail(error_code::internal_error,
             "Attempt to migrate guest to the same host " + (host != nullptr ? host->trimmed_text() : host_uuid->trimmed_text()));
    }
}

void refuse_unsupported_migration(unsigned flags, const std::optional<std::string>& dconnuri) {
    if (flags & migrate_flags::tunnelled)
        fail(error_code::no_support, "tunnelled migration is not supported by virtpp's QEMU driver");
    if (dconnuri)
        fail(error_code::no_support,
             "peer-to-peer migration (the source daemon connecting to " + *dconnuri + ") is not supported by virtpp's QEMU driver");
    if (flags & migrate_flags::offline) fail(error_code::argument_unsupported, "offline migration is not supported");
}

}  // namespace

bool qemu::state::perform(op::connect_supports_feature, const op::connect_supports_feature::args& a) {
    // MIGRATION_V3 (6), FD_PASSING (8), TYPED_PARAM_STRING (9), NETWORK_UPDATE_HAS_CORRECT_ORDER (16)
    return a.feature == 6 || a.feature == 8 || a.feature == 9 || a.feature == 16;
}

op::domain_migrate_begin::result qemu::state::perform(op::domain_migrate_begin, const op::domain_migrate_begin::args& a) {
    guest_job job(*driver_, a.dom);
    auto& o = job.o;
    refuse_unsupported_migration(a.flags, std::nullopt);
    xml::domain_def def;
    {
        std::lock_guard lock(driver_->mutex);
        if (!o->live) not_running();
        if (o->migration != domain_obj::migration_stage::none)
            fail(error_code::operation_invalid, "domain '" + o->live->name + "' is already being migrated");
        def = *o->live;
    }
    if (a.xmlin) {
        // the caller's definition for the destination: the same guest, maybe renamed or retuned
        auto in = xml::parse_domain_xml(*a.xmlin);
        if (in.uuid && *in.uuid != *def.uuid)
            fail(error_code::invalid_arg, "target domain uuid " + in.uuid->str() + " does not match source " + def.uuid->str());
        in.uuid = def.uuid;
        def = std::move(in);
    }
    def.id.reset();
    return {make_cookie(*driver_, def), xml::format_domain_xml(def, {.inactive = true, .secure = true})};
}

op::domain_migrate_prepare::result qemu::state::perform(op::domain_migrate_prepare, const op::domain_migrate_prepare::args& a) {
    ops g{*driver_};
    refuse_unsupported_migration(a.flags, std::nullopt);
    check_cookie_peer(*driver_, a.cookie);
    auto def = xml::parse_domain_xml(a.xml);
    if (a.dname) def.name = *a.dname;
    def.id.reset();
    g.fill_defaults(def);

    // where qemu listens, and the URI the source is told to send to
    std::string host = driver_->config.migration_host.empty() ? local_hostname() : driver_->config.migration_host;
    int port = 0;
    if (a.uri_in) {
        auto t = parse_migration_uri(*a.uri_in);
        host = t.host;
        port = t.port;
    }
    const std::string listen = driver_->config.migration_address;
    const bool port_given = port != 0;
    std::set<int> tried;  // ports another process took between our look and qemu's bind
    bool reserved = false;
    auto reserve_port = [&] {
        std::lock_guard lock(driver_->mutex);
        if (!port_given) {
            port = 0;
            for (int p = driver_->config.migration_port_min; p <= driver_->config.migration_port_max; ++p)
                if (driver_->migration_ports.count(p) == 0 && tried.count(p) == 0 && port_free(listen, p)) {
                    port = p;
                    break;
                }
            if (port == 0)
                fail(error_code::internal_error, "Unable to find an unused port in range 'migration' (" +
                                                     std::to_string(driver_->config.migration_port_min) + "-" +
                                                     std::to_string(driver_->config.migration_port_max) + ")");
        } else if (driver_->migration_ports.count(port) != 0) {
            fail(error_code::operation_invalid, "port " + std::to_string(port) + " is taken by another incoming migration");
        }
        driver_->migration_ports.insert(port);
        reserved = true;
    };

    auto [o, created] = g.existing_or_transient(def);
    std::unique_lock job(o->job);
    std::optional<xml::domain_def> saved_config;
    {
        std::lock_guard lock(driver_->mutex);
        if (o->active()) {
            if (created) driver_->domains.remove(*o);
            fail(error_code::operation_invalid, "domain '" + def.name + "' is already active");
        }
        if (!created) saved_config = o->config;
        o->config = def;  // the incoming definition is what runs
    }
    for (int attempt = 1;; ++attempt) {
        try {
            reserve_port();
            g.start(o, true, -1, reason::running_migrated, "tcp:" + uri_host(listen) + ":" + std::to_string(port));
            break;
        } catch (const virtpp::error& e) {
            std::lock_guard lock(driver_->mutex);
            if (reserved) driver_->migration_ports.erase(port);
            reserved = false;
            bool taken = e.info().message.find("Address already in use") != std::string::npos;
            if (taken && !port_given && attempt < 3) {
                tried.insert(port);
                continue;
            }
            if (saved_config) o->config = std::move(*saved_config);
            if (created) driver_->domains.remove(*o);
            throw;
        }
    }
    {
        std::lock_guard lock(driver_->mutex);
        o->migration = domain_obj::migration_stage::incoming;
        o->migration_owner = this;
        o->migration_port = port;
        o->config_before_migration = std::move(saved_config);
        o->state = domain_state::paused;
        o->reason = reason::paused_migration;
    }
    g.write_status(*o);
    return {make_cookie(*driver_, def), "tcp:" + uri_host(host) + ":" + std::to_string(port)};
}

op::migrate_cookie qemu::state::perform(op::domain_migrate_perform, const op::domain_migrate_perform::args& a) {
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    refuse_unsupported_migration(a.flags, a.dconnuri);
    check_cookie_peer(*driver_, a.cookie);
    if (!a.uri) fail(error_code::invalid_arg, "migration URI is missing: the destination named none");
    auto target = parse_migration_uri(*a.uri);
    if (target.port == 0) fail(error_code::invalid_arg, "migration URI " + *a.uri + " names no port");
    auto mon = g.running_monitor(o);
    bool was_running;
    xml::domain_def def;
    {
        std::lock_guard lock(driver_->mutex);
        if (o->migration != domain_obj::migration_stage::none)
            fail(error_code::operation_invalid, "domain '" + o->live->name + "' is already being migrated");
        was_running = o->state == domain_state::running;
        def = *o->live;
        o->async_job = "migration out";
    }
    job_scope tracked(*driver_, o, job_operation::migration_out, "migration out", job_stats_kind::migration);
    auto end_job = [&] {
        std::lock_guard lock(driver_->mutex);
        o->async_job.clear();
    };
    try {
        // libvirt lifts qemu's 32 MiB/s default unless the caller set a limit
        constexpr std::uint64_t mib = 1024 * 1024;
        std::uint64_t bytes_per_s = a.bandwidth > 0 ? a.bandwidth * mib : (INT64_MAX / mib) * mib;
        mon->execute("migrate-set-parameters", json::object{{"max-bandwidth", bytes_per_s}});
        if (was_running && !(a.flags & migrate_flags::live)) {
            mon->execute("stop");
            std::lock_guard lock(driver_->mutex);
            o->state = domain_state::paused;
            o->reason = reason::paused_migration;
        }
        mon->execute("migrate", json::object{{"uri", "tcp:" + uri_host(target.host) + ":" + std::to_string(target.port)}});
        wait_migration(*driver_, o, *mon, "migration out");
        tracked.complete();
    } catch (...) {
        end_job();
        undo_outgoing_stream(*driver_, o, *mon, "migration out", true, was_running, reason::running_migration_canceled);
        throw;
    }
    end_job();
    {
        std::lock_guard lock(driver_->mutex);
        o->migration = domain_obj::migration_stage::outgoing_done;
        o->state = domain_state::paused;
        o->reason = reason::paused_migration;
    }
    g.write_status(*o);
    return make_cookie(*driver_, def);
}

op::domain_migrate_finish::result qemu::state::perform(op::domain_migrate_finish, const op::domain_migrate_finish::args& a) {
    ops g{*driver_};
    obj_ptr o;
    {
        std::lock_guard lock(driver_->mutex);
        o = g.find_name(a.name);
    }
    auto no_incoming = [&] { fail(error_code::no_domain, "no domain with matching name '" + a.name + "'"); };
    if (!o) no_incoming();
    std::unique_lock job(o->job);
    std::shared_ptr<qmp_monitor> mon;
    {
        std::lock_guard lock(driver_->mutex);
        if (o->migration != domain_obj::migration_stage::incoming || !o->live) no_incoming();
        mon = o->monitor;
    }
    if (a.cancelled) {
        g.stop(o, domain_state::shutoff, reason::shutoff_failed, "failed");
        fail(error_code::migrate_finish_ok, "");
    }
    // perform has seen the stream end on the source; the destination may trail it by a moment
    std::string failure = mon ? "" : "qemu went away";
    try {
        for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30); mon;) {
            auto st = mon->execute("query-migrate");
            std::string status = st.as_object().contains("status") ? json::value_to<std::string>(st.at("status")) : "";
            if (status == "completed") break;
            if (status == "failed" || status == "cancelled") {
                failure = st.as_object().contains("error-desc") ? json::value_to<std::string>(st.at("error-desc")) : status;
                break;
            }
            if (std::chrono::steady_clock::now() > deadline) {
                failure = "the migration stream did not complete";
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (failure.empty() && !(a.flags & migrate_flags::paused)) mon->execute("cont");
    } catch (const virtpp::error& e) {
        failure = e.info().message;
    }
    if (!failure.empty()) {
        g.stop(o, domain_state::shutoff, reason::shutoff_failed, "failed");
        fail(error_code::operation_failed, "migration in job: " + failure);
    }
    bool persist = (a.flags & migrate_flags::persist_dest) != 0;
    xml::domain_def config;
    {
        std::lock_guard lock(driver_->mutex);
        o->migration = domain_obj::migration_stage::none;
        o->migration_owner = nullptr;
        driver_->migration_ports.erase(o->migration_port);
        o->migration_port = -1;
        if (persist) {
            o->persistent = true;
            o->config_before_migration.reset();
        } else if (o->config_before_migration) {
            o->config = std::move(*o->config_before_migration);  // the guest's definition here stays as it was
            o->config_before_migration.reset();
        }
        config = o->config;
        bool paused = (a.flags & migrate_flags::paused) != 0;
        o->state = paused ? domain_state::paused : domain_state::running;
        o->reason = paused ? reason::paused_user : reason::running_migrated;
    }
    if (persist) g.save_config(config);
    g.write_status(*o);
    std::lock_guard lock(driver_->mutex);
    return {o->ref(), make_cookie(*driver_, config)};
}

void qemu::state::perform(op::domain_migrate_confirm, const op::domain_migrate_confirm::args& a) {
    guest_job job(*driver_, a.dom);
    auto& g = job.g;
    auto& o = job.o;
    bool done;
    {
        std::lock_guard lock(driver_->mutex);
        done = o->live && o->migration == domain_obj::migration_stage::outgoing_done;
        o->migration = domain_obj::migration_stage::none;
    }
    if (a.cancelled) {
        // the destination did not take the guest: it carries on here, running unless it was
        // paused when the migration began (the client then sets VIR_MIGRATE_PAUSED)
        if (!done) return;
        if (a.flags & migrate_flags::paused) {
            {
                std::lock_guard lock(driver_->mutex);
                o->reason = reason::paused_user;
            }
            g.write_status(*o);
            return;
        }
        g.running_monitor(o)->execute("cont");
        {
            std::lock_guard lock(driver_->mutex);
            o->state = domain_state::running;
            o->reason = reason::running_migration_canceled;
        }
        g.write_status(*o);
        return;
    }
    if (!done) fail(error_code::operation_invalid, "domain '" + a.dom.name + "' has no completed outgoing migration");
    std::string name;
    bool persistent;
    {
        std::lock_guard lock(driver_->mutex);
        name = o->config.name;
        persistent = o->persistent;
    }
    g.stop(o, domain_state::shutoff, reason::shutoff_migrated, "migrated");
    // libvirt announces the finished migration job after the stopped-migrated event
    std::optional<job_stats> completed;
    {
        std::lock_guard lock(driver_->mutex);
        completed = o->completed_job;
    }
    if (completed) qemu_detail::job_scope::announce_completed(*driver_, *o, *completed);
    if ((a.flags & migrate_flags::undefine_source) && persistent) {
        ::unlink(g.config_file(name).c_str());
        ::unlink(g.autostart_link(name).c_str());
        std::lock_guard lock(driver_->mutex);
        o->persistent = false;
        o->autostart = false;
        driver_->domains.remove(*o);
    }
}

}  // namespace virtpp::hypervisor

