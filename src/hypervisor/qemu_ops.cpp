// The QEMU driver's shared helpers and guest operations, declared in qemu_ops.hpp (compiled once
// here rather than inline in every operation file).
#include "hypervisor/qemu_ops.hpp"
#include "hypervisor/qemu_cpu.hpp"

namespace virtpp::hypervisor::qemu_detail {

std::string now_stamp() {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d+0000", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

void append_log(const std::string& path, const std::string& text) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return;
    try {
        append_file_at(slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1), text);
    } catch (const virtpp::error&) {
        // best effort, as before: a log line never fails an operation
    }
}

std::string random_mac() {
    static std::mutex m;
    static std::mt19937 gen{std::random_device{}()};
    std::lock_guard lock(m);
    std::uniform_int_distribution<int> byte(0, 255);
    char buf[32];
    std::snprintf(buf, sizeof buf, "52:54:00:%02x:%02x:%02x", byte(gen), byte(gen), byte(gen));
    return buf;
}

void refresh_taps(domain_obj& o) {
    o.taps.clear();
    if (!o.live) return;
    for (const auto& n : o.live->devices.interfaces)
        if (n.type == xml::interface_type::bridge || n.type == xml::interface_type::ethernet || n.type == xml::interface_type::network)
            o.taps.push_back(n.target_dev.value_or(""));
}

std::string host_arch() {
    return read_node_info().model;
}

std::string disk_device_id(const xml::domain_def& def, std::size_t index) {
    unsigned virtio = 0;
    for (std::size_t i = 0; i < def.devices.disks.size(); ++i) {
        const auto& d = def.devices.disks[i];
        std::string bus = d.target_bus.value_or(d.target_dev.starts_with("vd") ? "virtio" : d.target_dev.starts_with("fd") ? "fdc" : "ide");
        unsigned idx = d.target_dev.size() > 2 ? static_cast<unsigned>(d.target_dev[2] - 'a') : 0;
        if (i == index) {
            if (bus == "virtio") return "virtio-disk" + std::to_string(virtio);
            if (bus == "fdc") return "fdc0-0-" + std::to_string(idx);
            return "ide0-" + std::to_string(idx / 2) + "-" + std::to_string(idx % 2);
        }
        if (bus == "virtio") ++virtio;
    }
    return {};
}

std::pair<std::uint64_t, int> proc_cpu(pid_t pid, std::optional<pid_t> tid) {
    std::string path = "/proc/" + std::to_string(pid) + (tid ? "/task/" + std::to_string(*tid) : "") + "/stat";
    std::optional<std::string> text;
    try {
        text = read_file(path);
    } catch (const virtpp::error&) {
        return {0, -1};
    }
    if (!text) return {0, -1};
    auto close = text->rfind(')');
    if (close == std::string::npos) return {0, -1};
    std::vector<std::string> f;  // f[0] is field 3 (state)
    std::size_t pos = close + 2;
    while (pos < text->size()) {
        auto sp = text->find(' ', pos);
        if (sp == std::string::npos) sp = text->size();
        f.push_back(text->substr(pos, sp - pos));
        pos = sp + 1;
    }
    if (f.size() < 37) return {0, -1};
    long hz = ::sysconf(_SC_CLK_TCK);
    std::uint64_t ticks = std::stoull(f[11]) + std::stoull(f[12]);  // fields 14, 15
    return {ticks * 1000000000ULL / static_cast<std::uint64_t>(hz > 0 ? hz : 100), std::stoi(f[36])};  // field 39
}

std::vector<bool> affinity_of(pid_t tid, unsigned host_cpus) {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<bool> out(host_cpus, false);
    if (::sched_getaffinity(tid, sizeof set, &set) != 0) return std::vector<bool>(host_cpus, true);
    for (unsigned i = 0; i < host_cpus; ++i) out[i] = CPU_ISSET(i, &set) != 0;
    return out;
}

std::vector<int> parse_cpuset(const std::string& text) {
    std::vector<int> on;
    std::vector<int> off;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto comma = text.find(',', pos);
        if (comma == std::string::npos) comma = text.size();
        std::string part = text.substr(pos, comma - pos);
        pos = comma + 1;
        bool neg = !part.empty() && part[0] == '^';
        if (neg) part.erase(0, 1);
        int lo = 0, hi = 0;
        if (std::sscanf(part.c_str(), "%d-%d", &lo, &hi) == 2) {
        } else if (std::sscanf(part.c_str(), "%d", &lo) == 1) {
            hi = lo;
        } else {
            fail(error_code::invalid_arg, "invalid cpuset '" + text + "'");
        }
        for (int c = lo; c <= hi && c < 4096; ++c) (neg ? off : on).push_back(c);
    }
    std::erase_if(on, [&](int c) { return std::find(off.begin(), off.end(), c) != off.end(); });
    return on;
}

unsigned host_cpu_count() {
    long n = ::sysconf(_SC_NPROCESSORS_CONF);
    return n > 0 ? static_cast<unsigned>(n) : 1U;
}

int free_vnc_port(const std::string& listen) {
    for (int port = 5900; port < 65536; ++port) {
        int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) break;
        int one = 1;
        ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = listen == "0.0.0.0" ? htonl(INADDR_ANY) : htonl(INADDR_LOOPBACK);
        bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(s);
        if (ok) return port;
    }
    fail(error_code::internal_error, "Unable to find an unused port for VNC");
}

obj_ptr ops::lookup(const domain_ref& ref) {
    std::lock_guard lock(d.mutex);
    if (auto o = find(ref.uuid)) return o;
    raise(error_code::no_domain, error_domain::qemu,
          "no domain with matching uuid '" + ref.uuid.str() + "' (" + ref.name + ")");
}

void ops::fill_defaults(xml::domain_def& def, std::string_view source_xml) {
    if (def.type == xml::domain_virt_type::kqemu)
        fail(error_code::config_unsupported, "kqemu acceleration is not supported: use domain type 'qemu' or 'kvm'");
    if (def.type != xml::domain_virt_type::qemu && def.type != xml::domain_virt_type::kvm)
        fail(error_code::config_unsupported, "unsupported domain type '" + std::string(xml::to_string(def.type)) +
                                                 "': the QEMU driver runs 'qemu' and 'kvm' guests");
    if (def.os.type != "hvm") fail(error_code::os_type, "no support for os type '" + def.os.type + "'");
    // the name makes the guest's file names: checked before any file is touched (the XML
    // parser already refused '/' and control characters)
    if (def.name.size() > max_domain_name)
        fail(error_code::invalid_arg, "domain name is " + std::to_string(def.name.size()) + " bytes long, longer than the " +
                                          std::to_string(max_domain_name) + " its file names allow");
    check_state_file_name(def.name + ".monitor");
    if (!def.uuid) def.uuid = virtpp::uuid::generate();
    if (!def.os.arch) def.os.arch = host_arch();
    if (!def.devices.emulator) {
        auto found = find_emulator(*def.os.arch);
        if (!found) fail(error_code::internal_error, "No emulator found for arch '" + *def.os.arch + "'");
        def.devices.emulator = *found;
    }
    const std::string& emu = *def.devices.emulator;
    struct stat st {};
    if (::stat(emu.c_str(), &st) != 0) {
        int e = errno;
        fail(error_code::system_error, "Cannot check QEMU binary " + emu + ": " + std::strerror(e));
    }
    auto machines = machine_types(emu, d.paths.cache_dir);
    if (!def.os.machine) {
        for (const auto& m : machines)
            if (m.is_default) def.os.machine = m.alias_of.value_or(m.name);
        if (!def.os.machine) fail(error_code::internal_error, "Emulator '" + emu + "' has no default machine type");
    } else {
        bool known = false;
        for (const auto& m : machines) {
            if (m.name == *def.os.machine) {
                known = true;
                if (m.alias_of) def.os.machine = *m.alias_of;
                break;
            }
        }
        if (!known)
            fail(error_code::config_unsupported,
                 "Emulator '" + emu + "' does not support machine type '" + *def.os.machine + "'");
    }
    for (auto& n : def.devices.interfaces)
        if (!n.mac) n.mac = random_mac();
    if (!def.devices.memballoon) def.devices.memballoon = xml::memballoon_def{.model = "virtio"};
    if (def.devices.consoles.empty() && !def.devices.serials.empty()) {
        xml::chardev_def c = def.devices.serials.front();
        c.target_type = "serial";
        c.target_port = 0;
        c.address.reset();
        def.devices.consoles.push_back(c);
    }
    complete_pc_devices(def, source_xml);
}

obj_ptr ops::check_clash(const xml::domain_def& def, bool for_start) {
    auto same_uuid = find(*def.uuid);
    if (same_uuid) {
        if (same_uuid->current().name != def.name)
            fail(error_code::operation_failed, "domain '" + same_uuid->current().name + "' is already defined with uuid " + def.uuid->str());
        if (for_start && same_uuid->active())
            fail(error_code::operation_invalid, "domain '" + def.name + "' is already active");
        return same_uuid;
    }
    if (auto same_name = find_name(def.name))
        fail(error_code::operation_failed, "domain '" + def.name + "' already exists with uuid " + same_name->current().uuid->str());
    return nullptr;
}

std::pair<obj_ptr, bool> ops::existing_or_transient(const xml::domain_def& def) {
    std::lock_guard lock(d.mutex);
    if (auto o = check_clash(def, true)) return {o, false};
    auto o = std::make_shared<domain_obj>();
    o->config = def;
    o->persistent = false;
    d.domains.add(o);
    return {o, true};
}

void ops::save_config(const xml::domain_def& def) {
    make_dirs(d.paths.config_dir);
    xml::domain_def copy = def;
    copy.id.reset();
    write_file_atomic_at(d.paths.config_dir, def.name + ".xml", xml::format_domain_xml(copy, {.inactive = true, .secure = true}));
}

void ops::write_status(domain_obj& o) {
    if (!o.live) return;
    json::object s;
    s["pid"] = o.pid;
    s["monitor"] = o.monitor_path;
    s["state"] = static_cast<int>(o.state);
    s["reason"] = o.reason;
    json::array taps;
    for (const auto& t : o.taps) taps.emplace_back(t);
    s["taps"] = std::move(taps);
    if (o.migration == domain_obj::migration_stage::incoming) s["migration"] = "incoming";
    s["xml"] = xml::format_domain_xml(*o.live, {.inactive = false, .secure = true});
    make_dirs(d.paths.run_dir);
    write_file_atomic_at(d.paths.run_dir, o.live->name + ".json", json::serialize(s));
}

std::unique_ptr<qmp_monitor> ops::make_monitor(const obj_ptr& o, const std::string& path) {
    std::weak_ptr<domain_obj> weak = o;
    unsigned gen;
    {
        std::lock_guard lock(d.mutex);
        gen = o->generation;
    }
    qemu::driver* drv = &d;
    return qmp_monitor::connect(
        path,
        [drv, weak, gen](const std::string& name, const json::object& data) {
            // a detach waits for this with the guest's job held: tell it here, not on the event thread
            if (name == "DEVICE_DELETED") {
                if (const auto* id = data.if_contains("device"); id != nullptr && id->is_string())
                    if (auto o = weak.lock()) {
                        std::lock_guard lock(drv->mutex);
                        o->deleted_devices.insert(std::string(id->as_string()));
                        drv->device_deleted.notify_all();
                    }
            }
            drv->post([drv, weak, gen, name, data] { ops{*drv}.on_event(weak, gen, name, data); });
        },
        [drv, weak, gen] { drv->post([drv, weak, gen] { ops{*drv}.on_exit(weak, gen); }); });
}

void ops::start_once(const obj_ptr& o, bool paused, int incoming_fd, int running_reason, const std::string& incoming_uri) {
    xml::domain_def def;
    {
        std::lock_guard lock(d.mutex);
        def = o->config;
    }
    if (def.type == xml::domain_virt_type::kvm && !kvm_usable())
        fail(error_code::config_unsupported,
             "Domain requires KVM, but it is not available. Check that virtualization is enabled in the host BIOS, "
             "and host configuration is setup to load the kvm modules.");
    for (const auto& disk : def.devices.disks) {
        if (!disk.source) continue;
        struct stat st {};
        if (::stat(disk.source->c_str(), &st) != 0) {
            int e = errno;
            fail(error_code::system_error, "Cannot access storage file '" + *disk.source + "': " + std::strerror(e));
        }
    }
    // a network interface joins its running network's bridge (libvirt's error when it is not running)
    for (auto& n : def.devices.interfaces)
        if (n.type == xml::interface_type::network) n.source_bridge = d.networks->bridge_for_interface(n.source_network.value_or(""));
    {
        std::lock_guard lock(d.mutex);
        def.id = d.next_id++;
    }
    command_options opts;
    opts.emulator = *def.devices.emulator;
    opts.kvm = def.type == xml::domain_virt_type::kvm;
    opts.vnc_listen = d.config.vnc_listen;
    opts.incoming = incoming_fd >= 0 || !incoming_uri.empty();
    for (auto& g : def.devices.graphics) {
        if (g.type != xml::graphics_type::vnc) continue;
        if (g.autoport || g.port <= 0) {
            std::string listen = !g.listens.empty() && g.listens.front().address ? *g.listens.front().address : d.config.vnc_listen;
            int port = free_vnc_port(listen);
            opts.vnc_ports.push_back(port);
            g.port = port;  // the live XML shows the port taken
            g.autoport = true;
        }
    }
    command_line cmd = build_command_line(def, opts);

    // Taps first: a failure here leaves nothing behind (the fds close and the taps vanish).
    std::vector<tap_device> taps;
    auto close_taps = [&] {
        for (auto& t : taps) ::close(t.fd);
    };
    try {
        std::size_t tap_index = 0;
        for (auto& n : def.devices.interfaces) {
            if (n.type != xml::interface_type::bridge && n.type != xml::interface_type::ethernet &&
                n.type != xml::interface_type::network)
                continue;
            tap_device t = create_tap(cmd.tap_names[tap_index++]);
            taps.push_back(t);
            n.target_dev = t.name;
            if (n.type == xml::interface_type::bridge || n.type == xml::interface_type::network) {
                if (n.mac) set_tap_mac(t.name, *n.mac);
                add_to_bridge(t.name, n.source_bridge.value_or(""));
            }
            if (n.type == xml::interface_type::ethernet && n.script) run_interface_script(*n.script, t.name);
        }
    } catch (...) {
        close_taps();
        throw;
    }

    make_dirs(d.paths.run_dir);
    make_dirs(d.paths.log_dir);
    std::string mon_path = d.paths.run_dir + "/" + def.name + ".monitor";
    sockaddr_un addr{};
    if (mon_path.size() >= sizeof addr.sun_path) {
        close_taps();
        fail(error_code::internal_error, "monitor socket path '" + mon_path + "' is too long for a unix socket");
    }
    ::unlink(mon_path.c_str());
    int listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, mon_path.c_str(), mon_path.size() + 1);
    if (listen_fd < 0 || ::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd, 1) != 0) {
        int e = errno;
        if (listen_fd >= 0) ::close(listen_fd);
        close_taps();
        fail(error_code::system_error, "Failed to create monitor socket '" + mon_path + "': " + std::strerror(e));
    }

    std::string log_path = log_file(def.name);
    std::string cmd_text;
    for (const auto& a : cmd.argv) cmd_text += (cmd_text.empty() ? "" : " ") + a;
    append_log(log_path, now_stamp() + ": starting up\nLC_ALL=C " + cmd_text + "\n");
    struct stat log_st {};
    auto log_start = ::stat(log_path.c_str(), &log_st) == 0 ? log_st.st_size : -1;
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);

    spawn_request req;
    req.argv = cmd.argv;
    req.fds.push_back(listen_fd);
    for (auto& t : taps) req.fds.push_back(t.fd);
    int incoming_qemu_fd = -1;
    if (incoming_fd >= 0) {
        incoming_qemu_fd = 3 + static_cast<int>(req.fds.size());
        req.fds.push_back(incoming_fd);
    }
    req.log_fd = log_fd;
    if (d.config.user != "root" || d.config.group != "root") {
        if (passwd* pw = ::getpwnam(d.config.user.c_str())) req.uid = pw->pw_uid;
        else fail(error_code::internal_error, "Failed to find user record for name '" + d.config.user + "'");
        if (group* gr = ::getgrnam(d.config.group.c_str())) req.gid = gr->gr_gid;
        else fail(error_code::internal_error, "Failed to find group record for name '" + d.config.group + "'");
    }
    if (def.vcpu.cpuset) {
        unsigned n = host_cpu_count();
        for (int c : parse_cpuset(*def.vcpu.cpuset))
            if (c < static_cast<int>(n)) req.cpus.push_back(c);
        if (req.cpus.empty()) fail(error_code::invalid_arg, "cpuset '" + *def.vcpu.cpuset + "' names no CPU of this host");
    }

    pid_t pid = -1;
    try {
        pid = spawn_process(req);
    } catch (...) {
        ::close(listen_fd);
        ::close(log_fd);
        close_taps();
        throw;
    }
    ::close(log_fd);
    close_taps();
    int pidfd = open_pidfd(pid);

    // Ends the process that did not make it; returns what qemu wrote to its log meanwhile.
    auto abandon = [&]() -> std::string {
        terminate_process(pid, pidfd, std::chrono::milliseconds(500));
        if (pidfd >= 0) ::close(pidfd);
        ::unlink(mon_path.c_str());
        std::string tail;
        if (auto text = read_file(log_path); text && log_start >= 0 && static_cast<std::size_t>(log_start) <= text->size())
            tail = text->substr(static_cast<std::size_t>(log_start));
        while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
        append_log(log_path, now_stamp() + ": shutting down, reason=failed\n");
        std::lock_guard lock(d.mutex);
        o->monitor.reset();
        o->pid = -1;
        o->pidfd = -1;
        ++o->generation;
        return tail;
    };
    auto failed = [&](const std::string& why) {
        auto tail = abandon();
        fail(error_code::internal_error,
             "QEMU unexpectedly closed the monitor (vm='" + def.name + "'): " + (tail.empty() ? why : tail));
    };

    {
        std::lock_guard lock(d.mutex);
        o->pid = pid;
        o->pidfd = pidfd;
        o->monitor_path = mon_path;
        o->stopping = false;
        o->fake_reboot = false;
        ++o->generation;
    }
    // qemu holds its own copy of the listening socket: ours can go. If qemu dies before it
    // greets, the connection is reset and connect() reports it.
    ::close(listen_fd);
    std::unique_ptr<qmp_monitor> mon;
    std::string connect_error;
    try {
        mon = make_monitor(o, mon_path);
    } catch (const virtpp::error& e) {
        connect_error = e.info().message;
    }
    if (!mon) failed(connect_error);
    std::shared_ptr<qmp_monitor> shared_mon(std::move(mon));
    try {
        // pty paths of serial ports and consoles, for the live XML
        auto chardevs = shared_mon->execute("query-chardev");
        for (const auto& c : chardevs.as_array()) {
            std::string label = json::value_to<std::string>(c.at("label"));
            std::string file = json::value_to<std::string>(c.at("filename"));
            if (!label.starts_with("charserial") || !file.starts_with("pty:")) continue;
            std::size_t idx = std::stoul(label.substr(10));
            std::string tty = file.substr(4);
            if (idx < def.devices.serials.size()) def.devices.serials[idx].path = tty;
            if (idx == 0)
                for (auto& con : def.devices.consoles)
                    if (con.type == xml::chardev_type::pty && (!con.target_type || *con.target_type == "serial")) con.path = tty;
        }
        // the CPU the guest really got (libvirt's qemuProcessUpdateAndVerifyCPU)
        update_live_guest_cpu(*shared_mon, def);
        if (incoming_qemu_fd >= 0) {
            shared_mon->execute("migrate-incoming", json::object{{"uri", "fd:" + std::to_string(incoming_qemu_fd)}});
            for (int i = 0; i < 6000; ++i) {
                auto st = shared_mon->execute("query-migrate");
                std::string status = st.as_object().contains("status") ? json::value_to<std::string>(st.at("status")) : "";
                if (status == "completed") break;
                if (status == "failed" || status == "cancelled") fail(error_code::operation_failed, "restoring the saved state failed");
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        }
        if (!incoming_uri.empty()) shared_mon->execute("migrate-incoming", json::object{{"uri", incoming_uri}});
        // the guest's memory statistics every <stats period> seconds (libvirt's qom-set at start)
        if (def.devices.memballoon && def.devices.memballoon->model == "virtio" && def.devices.memballoon->period > 0)
            shared_mon->execute("qom-set", json::object{{"path", qemu_detail::balloon_qom_path},
                                                        {"property", "guest-stats-polling-interval"},
                                                        {"value", def.devices.memballoon->period}});
        // a migrated guest brings its balloon setting along
        if (incoming_uri.empty() && def.current_memory_kib && *def.current_memory_kib < def.memory_kib &&
            def.devices.memballoon && def.devices.memballoon->model == "virtio")
            shared_mon->execute("balloon", json::object{{"value", *def.current_memory_kib * 1024}});
        // the running definition's current memory is what the balloon holds now (libvirt refreshes
        // it from query-balloon at start: a guest without a balloon driver keeps all of it)
        if (def.devices.memballoon && def.devices.memballoon->model == "virtio") {
            try {
                def.current_memory_kib = shared_mon->execute("query-balloon").at("actual").to_number<std::uint64_t>() / 1024;
            } catch (const virtpp::error&) {
                // no answer: the definition's value stands
            }
        }
        if (!paused) shared_mon->execute("cont");
    } catch (const virtpp::error& e) {
        // a command qemu refused while it runs: its answer is the reason (e.g. an incoming
        // migration's port taken); a monitor that went away: qemu's own last words are
        bool refused_while_running = shared_mon->alive();
        shared_mon.reset();
        if (!refused_while_running) failed(e.info().message);
        (void)abandon();
        throw;
    }
    complete_live_definition(def, d.config.vnc_listen, req.uid.value_or(0), req.gid.value_or(0));
    {
        std::lock_guard lock(d.mutex);
        o->monitor = shared_mon;
        o->live = def;
        d.domains.note_id(*o);
        refresh_taps(*o);
        o->state = paused ? domain_state::paused : domain_state::running;
        o->reason = paused ? reason::paused_user : running_reason;
        // the running reasons booted, migrated, restored are the STARTED details plus one
        d.emit_lifecycle(*o, domain_lifecycle::started, running_reason - 1);
        if (paused) d.emit_lifecycle(*o, domain_lifecycle::suspended, domain_lifecycle::suspended_detail::paused);
    }
    write_status(*o);
}

void ops::stop(const obj_ptr& o, domain_state final_state, int final_reason, const std::string& why) {
    std::shared_ptr<qmp_monitor> mon;
    pid_t pid;
    int pidfd;
    std::string name;
    {
        std::lock_guard lock(d.mutex);
        if (!o->live) return;
        o->stopping = true;
        mon = std::move(o->monitor);
        pid = o->pid;
        pidfd = o->pidfd;
        name = o->live->name;
        ++o->generation;
    }
    if (mon) mon->detach();
    mon.reset();
    terminate_process(pid, pidfd, std::chrono::seconds(3));
    if (pidfd >= 0) ::close(pidfd);
    remove_file_at(d.paths.run_dir, name + ".monitor");
    remove_file_at(d.paths.run_dir, name + ".json");
    append_log(log_file(name), now_stamp() + ": shutting down, reason=" + why + "\n");
    std::lock_guard lock(d.mutex);
    o->live.reset();
    d.domains.note_id(*o);
    o->pid = -1;
    o->pidfd = -1;
    o->taps.clear();
    // a migration into this guest ends with it
    if (o->migration_port >= 0) d.migration_ports.erase(o->migration_port);
    o->migration_port = -1;
    o->migration = domain_obj::migration_stage::none;
    o->migration_owner = nullptr;
    if (o->config_before_migration) o->config = std::move(*o->config_before_migration);
    o->config_before_migration.reset();
    o->state = final_state;
    o->reason = final_reason;
    o->fake_reboot = false;
    // shutoff reasons shutdown, destroyed, crashed, migrated, saved, failed: STOPPED's details plus one
    if (final_state == domain_state::shutoff && final_reason >= reason::shutoff_shutdown)
        d.emit_lifecycle(*o, domain_lifecycle::stopped, final_reason - 1);
    if (!o->persistent) d.domains.remove(*o);
}

void ops::on_event(const std::weak_ptr<domain_obj>& weak, unsigned gen, const std::string& name, const json::object& data) {
    auto o = weak.lock();
    if (!o) return;
    std::unique_lock job(o->job);
    std::shared_ptr<qmp_monitor> mon;
    xml::lifecycle_action on_poweroff, on_crash;
    bool fake_reboot;
    {
        std::lock_guard lock(d.mutex);
        if (d.closing || o->generation != gen || !o->live || o->stopping || !o->monitor) return;
        mon = o->monitor;
        on_poweroff = o->live->on_poweroff;
        on_crash = o->live->on_crash;
        fake_reboot = o->fake_reboot;
    }
    try {
        if (name == "SHUTDOWN") {
            append_log(log_file(o->live->name), now_stamp() + ": event SHUTDOWN " + json::serialize(data) + "\n");
            std::string why;
            if (const auto* r = data.if_contains("reason"); r != nullptr && r->is_string()) why = std::string(r->as_string());
            if (!fake_reboot && why != "guest-reset") {
                // libvirt's detail: who asked for the power-off
                int detail = why == "guest-shutdown" ? domain_lifecycle::shutdown_detail::guest
                             : why.starts_with("host-") ? domain_lifecycle::shutdown_detail::host
                                                        : domain_lifecycle::shutdown_detail::finished;
                std::lock_guard lock(d.mutex);
                d.emit_lifecycle(*o, domain_lifecycle::shutdown, detail);
            }
            if (fake_reboot) {
                // virDomainReboot through ACPI: the guest shut down; reset it and carry on
                mon->execute("system_reset");
                mon->execute("cont");
                std::lock_guard lock(d.mutex);
                o->fake_reboot = false;
                o->state = domain_state::running;
                o->reason = reason::running_booted;
            } else if (why == "guest-reset") {
                // -no-reboot turned a reboot into a shutdown: on_reboot is destroy
                stop(o, domain_state::shutoff, reason::shutoff_shutdown, "shutdown");
                return;
            } else {
                apply_action(o, on_poweroff, reason::shutoff_shutdown, "shutdown");
                return;
            }
        } else if (name == "STOP" || name == "RESUME") {
            // Events trail the commands that caused them: ask qemu where it is now rather
            // than replaying an old transition over a newer one.
            auto st = mon->execute("query-status");
            bool running = st.at("running").as_bool();
            const auto* status = st.is_object() ? st.as_object().if_contains("status") : nullptr;
            // a qemu told to quit (destroy) stops its vCPUs on the way out: that is no pause
            bool paused = !running && status != nullptr && status->is_string() && status->as_string() == "paused";
            std::lock_guard lock(d.mutex);
            if (o->stopping || o->generation != gen) return;
            if (running && o->state == domain_state::paused) {
                o->state = domain_state::running;
                o->reason = reason::running_unpaused;
                d.emit_lifecycle(*o, domain_lifecycle::resumed, domain_lifecycle::resumed_detail::unpaused);
            } else if (paused && o->state == domain_state::running) {
                o->state = domain_state::paused;
                o->reason = reason::paused_user;
                d.emit_lifecycle(*o, domain_lifecycle::suspended, domain_lifecycle::suspended_detail::paused);
            } else {
                return;
            }
        } else if (name == "DEVICE_DELETED") {
            // the guest completed an unplug a detach stopped waiting for
            const auto* id = data.if_contains("device");
            if (id == nullptr || !id->is_string()) return;
            if (!finish_unplug(o, *mon, std::string(id->as_string()))) return;
            domain_event e;
            e.id = domain_event_id::device_removed;
            e.device_alias = std::string(id->as_string());
            std::lock_guard lock(d.mutex);
            e.dom = o->ref();
            d.emit(std::move(e));
        } else if (name == "RESET") {
            domain_event e;
            e.id = domain_event_id::reboot;
            std::lock_guard lock(d.mutex);
            e.dom = o->ref();
            d.emit(std::move(e));
            return;
        } else if (name == "RTC_CHANGE") {
            // the guest set its clock: the offset from the host's, in seconds
            domain_event e;
            e.id = domain_event_id::rtc_change;
            if (const auto* off = data.if_contains("offset"); off != nullptr && off->is_number())
                e.rtc_offset = off->to_number<std::int64_t>();
            std::lock_guard lock(d.mutex);
            e.dom = o->ref();
            d.emit(std::move(e));
            return;
        } else if (name == "DEVICE_TRAY_MOVED") {
            // a removable disk's tray: libvirt names the disk by its alias (the qdev id)
            const auto* id = data.if_contains("id");
            if (id == nullptr || !id->is_string() || id->as_string().empty()) id = data.if_contains("device");
            const auto* open = data.if_contains("tray-open");
            if (id == nullptr || !id->is_string() || open == nullptr || !open->is_bool()) return;
            std::string alias(id->as_string());
            if (auto slash = alias.rfind('/'); slash != std::string::npos) alias.erase(0, slash + 1);
            domain_event e;
            e.id = domain_event_id::tray_change;
            e.device_alias = alias;
            e.reason = open->as_bool() ? 0 : 1;  // VIR_DOMAIN_EVENT_TRAY_CHANGE_OPEN / _CLOSE
            std::lock_guard lock(d.mutex);
            e.dom = o->ref();
            d.emit(std::move(e));
            return;
        } else if (name == "BALLOON_CHANGE") {
            const auto* actual = data.if_contains("actual");
            if (actual == nullptr || !actual->is_number()) return;
            domain_event e;
            e.id = domain_event_id::balloon_change;
            e.balloon_actual_kib = actual->to_number<std::uint64_t>() / 1024;
            std::lock_guard lock(d.mutex);
            o->live->current_memory_kib = e.balloon_actual_kib;
            e.dom = o->ref();
            d.emit(std::move(e));
        } else if (name == "SUSPEND" || name == "SUSPEND_DISK") {
            // S3 (memory) or S4 (disk) in the guest: libvirt's pmsuspend or pmsuspend-disk event,
            // then the lifecycle change from running (after S4 qemu powers the guest off, which
            // the SHUTDOWN/exit handling records)
            bool disk = name == "SUSPEND_DISK";
            domain_event e;
            e.id = disk ? domain_event_id::pmsuspend_disk : domain_event_id::pmsuspend;
            std::lock_guard lock(d.mutex);
            e.dom = o->ref();
            d.emit(std::move(e));
            if (o->state == domain_state::running) {
                o->state = domain_state::pmsuspended;
                o->reason = 0;  // VIR_DOMAIN_PMSUSPENDED_UNKNOWN
                d.emit_lifecycle(*o, domain_lifecycle::pmsuspended, disk ? 1 : 0 /* disk : memory */);
            }
        } else if (name == "WAKEUP") {
            domain_event e;
            e.id = domain_event_id::pmwakeup;
            std::lock_guard lock(d.mutex);
            e.dom = o->ref();
            d.emit(std::move(e));
            if (o->state == domain_state::pmsuspended) {
                o->state = domain_state::running;
                o->reason = 8;  // VIR_DOMAIN_RUNNING_WAKEUP
                d.emit_lifecycle(*o, domain_lifecycle::started, domain_lifecycle::started_detail::wakeup);
            }
        } else if (name == "GUEST_PANICKED") {
            apply_action(o, on_crash, reason::shutoff_crashed, "crashed");
            return;
        } else {
            return;
        }
    } catch (const virtpp::error&) {
        return;  // the monitor went away: the exit event that follows handles it
    }
    write_status(*o);
}

void ops::on_exit(const std::weak_ptr<domain_obj>& weak, unsigned gen) {
    auto o = weak.lock();
    if (!o) return;
    std::unique_lock job(o->job);
    xml::lifecycle_action on_crash;
    bool incoming;
    {
        std::lock_guard lock(d.mutex);
        if (d.closing || o->generation != gen || !o->live || o->stopping) return;
        on_crash = o->live->on_crash;
        incoming = o->migration == domain_obj::migration_stage::incoming;
    }
    // an incoming migration that qemu gave up on: the guest never ran here
    if (incoming) {
        stop(o, domain_state::shutoff, reason::shutoff_failed, "failed");
        return;
    }
    // qemu went away without being asked to: the guest crashed
    apply_action(o, on_crash, reason::shutoff_crashed, "crashed");
}

void ops::apply_action(const obj_ptr& o, xml::lifecycle_action action, int shutoff_reason, const std::string& why) {
    using xml::lifecycle_action;
    bool crashed = shutoff_reason == reason::shutoff_crashed;
    switch (action) {
        case lifecycle_action::preserve: {
            bool alive;
            {
                std::lock_guard lock(d.mutex);
                alive = o->monitor && o->monitor->alive();
                if (alive) {
                    o->state = crashed ? domain_state::crashed : domain_state::shutdown;
                    o->reason = crashed ? reason::crashed_panicked : reason::shutdown_user;
                }
            }
            if (alive) {
                write_status(*o);
                return;
            }
            stop(o, domain_state::shutoff, shutoff_reason, why);
            return;
        }
        case lifecycle_action::restart:
        case lifecycle_action::rename_restart:
        case lifecycle_action::coredump_restart: {
            bool persistent;
            {
                std::lock_guard lock(d.mutex);
                persistent = o->persistent;
                if (!persistent) o->persistent = true;  // keep the object through the restart
            }
            stop(o, domain_state::shutoff, shutoff_reason, why);
            try {
                start(o, false);
            } catch (const virtpp::error&) {
                // the restart failed: the guest stays off
            }
            std::lock_guard lock(d.mutex);
            o->persistent = persistent;
            if (!persistent && !o->live) d.domains.remove(*o);
            return;
        }
        default:
            stop(o, domain_state::shutoff, shutoff_reason, why);
            return;
    }
}

std::vector<std::string> ops::files_ending(const std::string& dir_path, std::string_view suffix) {
    std::vector<std::string> files;
    DIR* dir = ::opendir(dir_path.c_str());
    if (dir == nullptr) return files;
    while (auto* e = ::readdir(dir)) {
        std::string n = e->d_name;
        if (n.size() > suffix.size() && n.ends_with(suffix)) files.push_back(n);
    }
    ::closedir(dir);
    std::sort(files.begin(), files.end());
    return files;
}

void ops::reattach_all() {
    for (const auto& f : files_ending(d.paths.run_dir, ".json")) reattach(f);
}

void ops::reattach(const std::string& file) {
    std::optional<std::string> text;
    xml::domain_def live;
    json::object s;
    try {
        text = read_file_at(d.paths.run_dir, file);
        if (!text) return;
        s = json::parse(*text).as_object();
        live = xml::parse_domain_xml(json::value_to<std::string>(s.at("xml")));
        unsigned uid = 0, gid = 0;
        if (passwd* pw = ::getpwnam(d.config.user.c_str())) uid = pw->pw_uid;
        if (group* gr = ::getgrnam(d.config.group.c_str())) gid = gr->gr_gid;
        complete_live_definition(live, d.config.vnc_listen, uid, gid);
    } catch (const std::exception&) {
        remove_file_at(d.paths.run_dir, file);
        return;
    }
    pid_t pid = static_cast<pid_t>(s.at("pid").to_number<std::int64_t>());
    int pidfd = pid > 0 ? open_pidfd(pid) : -1;
    // the pid must still be this guest's qemu, not a reused number
    auto cmdline = pidfd >= 0 ? read_file("/proc/" + std::to_string(pid) + "/cmdline") : std::nullopt;
    bool ours = cmdline && cmdline->find("guest=" + live.name + ",") != std::string::npos;
    obj_ptr o;
    {
        std::lock_guard lock(d.mutex);
        o = find(*live.uuid);
        if (!o && find_name(live.name)) {
            // another guest (another UUID) holds the name: this status is not one of ours to adopt
            if (pidfd >= 0) ::close(pidfd);
            return;
        }
        if (!o) {
            o = std::make_shared<domain_obj>();
            o->config = live;
            o->config.id.reset();
            o->persistent = false;
            d.domains.add(o);
        }
        o->live = live;
        d.domains.note_id(*o);
        o->pid = pid;
        o->pidfd = pidfd;
        o->monitor_path = json::value_to<std::string>(s.at("monitor"));
        o->state = static_cast<domain_state>(s.at("state").to_number<int>());
        o->reason = s.at("reason").to_number<int>();
        for (const auto& t : s.at("taps").as_array()) o->taps.push_back(json::value_to<std::string>(t));
        ++o->generation;
        if (live.id) d.next_id = std::max(d.next_id, *live.id + 1);
    }
    std::unique_lock job(o->job);
    // an incoming migration cannot outlive the daemon: the client that would finish it is gone
    bool incoming = s.contains("migration") && s.at("migration") == "incoming";
    if (!ours || incoming) {
        if (ours) {
            terminate_process(pid, pidfd, std::chrono::seconds(3));
            append_log(log_file(live.name), now_stamp() + ": incoming migration abandoned by the daemon's restart\n");
        }
        if (pidfd >= 0) ::close(pidfd);
        {
            std::lock_guard lock(d.mutex);
            o->pidfd = -1;
            o->pid = -1;
        }
        stop(o, domain_state::shutoff, incoming ? reason::shutoff_failed : reason::shutoff_unknown, incoming ? "failed" : "crashed");
        return;
    }
    try {
        auto mon = std::shared_ptr<qmp_monitor>(make_monitor(o, o->monitor_path));
        {
            std::lock_guard lock(d.mutex);
            o->monitor = mon;
        }
        auto st = o->monitor->execute("query-status");
        std::string status = json::value_to<std::string>(st.at("status"));
        std::lock_guard lock(d.mutex);
        if (status == "running") {
            o->state = domain_state::running;
        } else if (status == "shutdown") {
            o->state = domain_state::shutdown;
        } else if (o->state == domain_state::running) {
            o->state = domain_state::paused;
            o->reason = reason::paused_user;
        }
    } catch (const virtpp::error&) {
        stop(o, domain_state::shutoff, reason::shutoff_crashed, "crashed");
        return;
    }
    append_log(log_file(live.name), now_stamp() + ": driver re-attached (pid " + std::to_string(pid) + ")\n");
}

void ops::load_configs() {
    for (const auto& f : files_ending(d.paths.config_dir, ".xml")) {
        try {
            auto text = read_file_at(d.paths.config_dir, f);
            if (!text) continue;
            auto def = xml::parse_domain_xml(*text);
            if (!def.uuid || def.name + ".xml" != f) continue;
            auto o = std::make_shared<domain_obj>();
            o->config = std::move(def);
            o->persistent = true;
            struct stat st {};
            o->autostart = ::lstat(autostart_link(o->config.name).c_str(), &st) == 0;
            std::lock_guard lock(d.mutex);
            if (!find(*o->config.uuid) && !find_name(o->config.name)) d.domains.add(o);
        } catch (const virtpp::error&) {
            // a broken file is skipped, as libvirt does (it logs it)
        }
    }
}

void ops::autostart_all() {
    std::vector<obj_ptr> todo;
    {
        std::lock_guard lock(d.mutex);
        for (auto& o : d.domains.owners())
            if (o->autostart && !o->active()) todo.push_back(o);
    }
    for (auto& o : todo) {
        std::unique_lock job(o->job);
        try {
            if (!o->active()) start(o, false);
        } catch (const virtpp::error& e) {
            append_log(log_file(o->config.name), now_stamp() + ": autostart failed: " + e.info().message + "\n");
        }
    }
}

bool ops::finish_unplug(const obj_ptr& o, qmp_monitor& mon, const std::string& id) {
    domain_obj::pending_unplug p;
    {
        std::lock_guard lock(d.mutex);
        o->deleted_devices.erase(id);
        auto it = o->unplugs.find(id);
        if (it == o->unplugs.end()) return false;
        p = std::move(it->second);
        o->unplugs.erase(it);
    }
    for (const auto& b : p.backend) {
        try {
            if (p.target.empty())
                mon.execute("netdev_del", {{"id", b}});
            else
                mon.execute("blockdev-del", {{"node-name", b}});
        } catch (const virtpp::error&) {
            // already gone with the device (qemu drops auto-created nodes itself)
        }
    }
    std::lock_guard lock(d.mutex);
    if (!o->live) return true;
    auto& disks = o->live->devices.disks;
    auto& nets = o->live->devices.interfaces;
    if (!p.target.empty())
        std::erase_if(disks, [&](const xml::disk_def& x) { return x.target_dev == p.target; });
    else
        std::erase_if(nets, [&](const xml::interface_def& x) { return x.mac && *x.mac == p.mac; });
    refresh_taps(*o);
    return true;
}

std::shared_ptr<qmp_monitor> ops::running_monitor(const obj_ptr& o) {
    std::lock_guard lock(d.mutex);
    if (!o->live || !o->monitor) not_running();
    return o->monitor;
}

void wait_migration(qemu::driver& d, const obj_ptr& o, qmp_monitor& mon, const std::string& job) {
    auto aborted = [&] {
        fail(error_code::operation_aborted, job + " job: the domain was destroyed while the job ran");
    };
    bool cancel_sent = false;
    for (;;) {
        bool cancel = false;
        {
            std::lock_guard lock(d.mutex);
            if (o->stopping || !o->live) aborted();
            cancel = !cancel_sent && o->running_job && o->running_job->abort_requested;
        }
        if (cancel) {
            try {
                mon.execute("migrate_cancel");
            } catch (const virtpp::error&) {
                aborted();
            }
            cancel_sent = true;
        }
        json::value st;
        try {
            st = mon.execute("query-migrate");
        } catch (const virtpp::error&) {
            aborted();
        }
        std::string status = st.as_object().contains("status") ? json::value_to<std::string>(st.at("status")) : "";
        {
            std::lock_guard lock(d.mutex);
            if (o->running_job) record_migration_sample(*o->running_job, st);
        }
        if (status == "completed") return;
        if (status == "failed" || status == "cancelled") {
            std::lock_guard lock(d.mutex);
            if (o->stopping || !o->live) aborted();
            if (cancel_sent) fail(error_code::operation_aborted, "job '" + job + "' canceled by client");
            std::string why = st.as_object().contains("error-desc") ? json::value_to<std::string>(st.at("error-desc")) : status;
            fail(error_code::operation_failed, job + " job failed: " + why);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void set_file_stream_rate(qemu::driver& d, qmp_monitor& mon) {
    constexpr std::uint64_t mib = 1024 * 1024;
    std::uint64_t limit = d.config.save_max_bandwidth;
    std::uint64_t bytes_per_s = limit > 0 ? limit * mib : (INT64_MAX / mib) * mib;
    mon.execute("migrate-set-parameters", json::object{{"max-bandwidth", bytes_per_s}});
}

}  // namespace virtpp::hypervisor::qemu_detail
