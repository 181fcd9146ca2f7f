// The QEMU driver: guests' definitions and lifecycles, QMP control, events, persistence and
// re-attaching to guests a previous driver left running.
#include "hypervisor/qemu_driver.hpp"

#include "hypervisor/qemu_process.hpp"
#include "xml/tree.hpp"

#include <virtpp/xml/node_info.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <map>
#include <arpa/inet.h>
#include <charconv>
#include <netinet/in.h>
#include <pwd.h>
#include <random>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace virtpp::hypervisor {

namespace json = boost::json;
using namespace qemu_detail;
using obj_ptr = std::shared_ptr<domain_obj>;

namespace {

constexpr unsigned start_paused = 1U;  // VIR_DOMAIN_START_PAUSED / VIR_DOMAIN_NONE

// ---- small helpers ---------------------------------------------------------------------------

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
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    [[maybe_unused]] auto n = ::write(fd, text.data(), text.size());
    ::close(fd);
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

[[noreturn]] void not_running() { fail(error_code::operation_invalid, "domain is not running"); }

/// The live taps, in tap-interface order, from the live definition (caller holds the driver mutex).
void refresh_taps(domain_obj& o) {
    o.taps.clear();
    if (!o.live) return;
    for (const auto& n : o.live->devices.interfaces)
        if (n.type == xml::interface_type::bridge || n.type == xml::interface_type::ethernet)
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

/// utime + stime of /proc/<pid>[/task/<tid>]/stat in ns, and the CPU it last ran on.
std::pair<std::uint64_t, int> proc_cpu(pid_t pid, std::optional<pid_t> tid = std::nullopt) {
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

/// "1-4,8-20,^3" -> the listed CPUs.
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

/// A free TCP port for VNC, from 5900 up, on the listen address.
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

// ---- the driver registry: one driver per state directory -------------------------------------

std::mutex registry_mutex;
std::map<std::string, std::weak_ptr<qemu::driver>>& registry() {
    static std::map<std::string, std::weak_ptr<qemu::driver>> r;
    return r;
}

}  // namespace

// ---- the guest operations the driver performs with the guest's job lock held ----------------

namespace qemu_detail {

struct ops {
    qemu::driver& d;

    obj_ptr find(const virtpp::uuid& id) {
        for (auto& o : d.domains)
            if (*o->current().uuid == id) return o;
        return nullptr;
    }
    obj_ptr find_name(std::string_view name) {
        for (auto& o : d.domains)
            if (o->current().name == name) return o;
        return nullptr;
    }
    obj_ptr lookup(const domain_ref& ref) {
        std::lock_guard lock(d.mutex);
        if (auto o = find(ref.uuid)) return o;
        raise(error_code::no_domain, error_domain::qemu,
              "no domain with matching uuid '" + ref.uuid.str() + "' (" + ref.name + ")");
    }

    std::string config_file(const std::string& name) const { return d.paths.config_dir + "/" + name + ".xml"; }
    std::string autostart_link(const std::string& name) const { return d.paths.autostart_dir + "/" + name + ".xml"; }
    std::string status_file(const std::string& name) const { return d.paths.run_dir + "/" + name + ".json"; }
    std::string log_file(const std::string& name) const { return d.paths.log_dir + "/" + name + ".log"; }

    // -- definitions

    /// libvirt's post-parse for the QEMU driver: type, arch, emulator, machine, uuid, MACs, balloon, console.
    void fill_defaults(xml::domain_def& def) {
        if (def.type == xml::domain_virt_type::kqemu)
            fail(error_code::config_unsupported, "kqemu acceleration is not supported: use domain type 'qemu' or 'kvm'");
        if (def.type != xml::domain_virt_type::qemu && def.type != xml::domain_virt_type::kvm)
            fail(error_code::config_unsupported, "unsupported domain type '" + std::string(xml::to_string(def.type)) +
                                                     "': the QEMU driver runs 'qemu' and 'kvm' guests");
        if (def.os.type != "hvm") fail(error_code::os_type, "no support for os type '" + def.os.type + "'");
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
        if (!def.devices.memballoon) def.devices.memballoon = xml::memballoon_def{"virtio", std::nullopt};
        if (def.devices.consoles.empty() && !def.devices.serials.empty()) {
            xml::chardev_def c = def.devices.serials.front();
            c.target_type = "serial";
            c.target_port = 0;
            c.address.reset();
            def.devices.consoles.push_back(c);
        }
    }

    /// libvirt's rules for a new definition against the existing ones (caller holds d.mutex).
    obj_ptr check_clash(const xml::domain_def& def, bool for_start) {
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

    /// The guest a start from outside its definition (restore, incoming migration) runs as: the
    /// defined one of that name and UUID, else a new transient one (created: true).
    std::pair<obj_ptr, bool> existing_or_transient(const xml::domain_def& def) {
        std::lock_guard lock(d.mutex);
        if (auto o = check_clash(def, true)) return {o, false};
        auto o = std::make_shared<domain_obj>();
        o->config = def;
        o->persistent = false;
        d.domains.push_back(o);
        return {o, true};
    }

    void save_config(const xml::domain_def& def) {
        make_dirs(d.paths.config_dir);
        xml::domain_def copy = def;
        copy.id.reset();
        write_file_atomic(config_file(def.name), xml::format_domain_xml(copy, {.inactive = true, .secure = true}));
    }

    // -- status of running guests

    void write_status(domain_obj& o) {
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
        write_file_atomic(status_file(o.live->name), json::serialize(s));
    }

    // -- starting

    std::unique_ptr<qmp_monitor> make_monitor(const obj_ptr& o, const std::string& path) {
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

    /// Starts qemu for o (job held, o inactive). incoming_fd: a restore stream to read, completely,
    /// before this returns; incoming_uri: where to listen for a migration stream (not waited for).
    void start(const obj_ptr& o, bool paused, int incoming_fd = -1, int running_reason = reason::running_booted,
               const std::string& incoming_uri = {}) {
        // An automatic VNC port is free when picked but may be taken (by another daemon's guest)
        // before qemu binds it: qemu then exits at once, before reading anything; pick again.
        for (int attempt = 1;; ++attempt) {
            try {
                start_once(o, paused, incoming_fd, running_reason, incoming_uri);
                return;
            } catch (const virtpp::error& e) {
                bool vnc_autoport = false;
                {
                    std::lock_guard lock(d.mutex);
                    for (const auto& g : o->config.devices.graphics)
                        if (g.type == xml::graphics_type::vnc && (g.autoport || g.port <= 0)) vnc_autoport = true;
                }
                if (attempt >= 3 || !vnc_autoport || e.info().message.find("Address already in use") == std::string::npos) throw;
            }
        }
    }

    void start_once(const obj_ptr& o, bool paused, int incoming_fd, int running_reason, const std::string& incoming_uri) {
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
        for (const auto& n : def.devices.interfaces)
            if (n.type == xml::interface_type::network)
                raise(error_code::no_network, error_domain::network,
                      "no network with matching name '" + n.source_network.value_or("") + "'");
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
                if (n.type != xml::interface_type::bridge && n.type != xml::interface_type::ethernet) continue;
                tap_device t = create_tap(cmd.tap_names[tap_index++]);
                taps.push_back(t);
                n.target_dev = t.name;
                if (n.type == xml::interface_type::bridge) add_to_bridge(t.name, n.source_bridge.value_or(""));
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

        auto failed = [&](const std::string& why) {
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
            // a migrated guest brings its balloon setting along
            if (incoming_uri.empty() && def.current_memory_kib && *def.current_memory_kib < def.memory_kib &&
                def.devices.memballoon && def.devices.memballoon->model == "virtio")
                shared_mon->execute("balloon", json::object{{"value", *def.current_memory_kib * 1024}});
            if (!paused) shared_mon->execute("cont");
        } catch (const virtpp::error& e) {
            shared_mon.reset();
            failed(e.info().message);
        }
        {
            std::lock_guard lock(d.mutex);
            o->monitor = shared_mon;
            o->live = def;
            refresh_taps(*o);
            o->state = paused ? domain_state::paused : domain_state::running;
            o->reason = paused ? reason::paused_user : running_reason;
        }
        write_status(*o);
    }

    // -- stopping

    /// Ends the guest's process (if still there) and forgets its runtime state (job held).
    void stop(const obj_ptr& o, domain_state final_state, int final_reason, const std::string& why) {
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
        ::unlink((d.paths.run_dir + "/" + name + ".monitor").c_str());
        ::unlink(status_file(name).c_str());
        append_log(log_file(name), now_stamp() + ": shutting down, reason=" + why + "\n");
        std::lock_guard lock(d.mutex);
        o->live.reset();
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
        if (!o->persistent) std::erase(d.domains, o);
    }

    // -- events, on the driver's event thread

    void on_event(const std::weak_ptr<domain_obj>& weak, unsigned gen, const std::string& name, const json::object& data) {
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
                std::lock_guard lock(d.mutex);
                if (running && o->state == domain_state::paused) {
                    o->state = domain_state::running;
                    o->reason = reason::running_unpaused;
                } else if (!running && o->state == domain_state::running) {
                    o->state = domain_state::paused;
                    o->reason = reason::paused_user;
                } else {
                    return;
                }
            } else if (name == "DEVICE_DELETED") {
                // the guest completed an unplug a detach stopped waiting for
                const auto* id = data.if_contains("device");
                if (id == nullptr || !id->is_string()) return;
                if (!finish_unplug(o, *mon, std::string(id->as_string()))) return;
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

    void on_exit(const std::weak_ptr<domain_obj>& weak, unsigned gen) {
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

    void apply_action(const obj_ptr& o, xml::lifecycle_action action, int shutoff_reason, const std::string& why) {
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
                if (!persistent && !o->live) std::erase(d.domains, o);
                return;
            }
            default:
                stop(o, domain_state::shutoff, shutoff_reason, why);
                return;
        }
    }

    // -- re-attaching to guests a previous driver left running

    void reattach_all() {
        DIR* dir = ::opendir(d.paths.run_dir.c_str());
        if (dir == nullptr) return;
        std::vector<std::string> files;
        while (auto* e = ::readdir(dir)) {
            std::string n = e->d_name;
            if (n.size() > 5 && n.ends_with(".json")) files.push_back(n);
        }
        ::closedir(dir);
        std::sort(files.begin(), files.end());
        for (const auto& f : files) reattach(d.paths.run_dir + "/" + f);
    }

    void reattach(const std::string& file) {
        std::optional<std::string> text;
        xml::domain_def live;
        json::object s;
        try {
            text = read_file(file);
            if (!text) return;
            s = json::parse(*text).as_object();
            live = xml::parse_domain_xml(json::value_to<std::string>(s.at("xml")));
        } catch (const std::exception&) {
            ::unlink(file.c_str());
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
            if (!o) {
                o = std::make_shared<domain_obj>();
                o->config = live;
                o->config.id.reset();
                o->persistent = false;
                d.domains.push_back(o);
            }
            o->live = live;
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

    void load_configs() {
        DIR* dir = ::opendir(d.paths.config_dir.c_str());
        if (dir == nullptr) return;
        std::vector<std::string> files;
        while (auto* e = ::readdir(dir)) {
            std::string n = e->d_name;
            if (n.size() > 4 && n.ends_with(".xml")) files.push_back(n);
        }
        ::closedir(dir);
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            try {
                auto text = read_file(d.paths.config_dir + "/" + f);
                if (!text) continue;
                auto def = xml::parse_domain_xml(*text);
                if (!def.uuid || def.name + ".xml" != f) continue;
                auto o = std::make_shared<domain_obj>();
                o->config = std::move(def);
                o->persistent = true;
                struct stat st {};
                o->autostart = ::lstat(autostart_link(o->config.name).c_str(), &st) == 0;
                std::lock_guard lock(d.mutex);
                if (!find(*o->config.uuid) && !find_name(o->config.name)) d.domains.push_back(o);
            } catch (const virtpp::error&) {
                // a broken file is skipped, as libvirt does (it logs it)
            }
        }
    }

    void autostart_all() {
        std::vector<obj_ptr> todo;
        {
            std::lock_guard lock(d.mutex);
            for (auto& o : d.domains)
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

    // -- checks on a guest taken under its job lock

    // -- hot-unplug completion (job held)

    /// Removes the device the guest let go of from the live XML and frees its backend; false
    /// when no detach was waiting for that id.
    bool finish_unplug(const obj_ptr& o, qmp_monitor& mon, const std::string& id) {
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

    std::shared_ptr<qmp_monitor> running_monitor(const obj_ptr& o) {
        std::lock_guard lock(d.mutex);
        if (!o->live || !o->monitor) not_running();
        return o->monitor;
    }
};

}  // namespace qemu_detail

// ---- the driver object ---------------------------------------------------------------------

qemu::driver::driver(bool priv, driver_paths p) : privileged(priv), paths(std::move(p)) {
    if (auto text = read_file(paths.conf_file)) config = parse_driver_config(*text, paths.conf_file);
    make_dirs(paths.config_dir);
    make_dirs(paths.run_dir);
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
        all = domains;
    }
    for (auto& o : all) std::lock_guard job(o->job);
    std::vector<std::shared_ptr<qmp_monitor>> monitors;
    {
        std::lock_guard lock(mutex);
        for (auto& o : domains) {
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
    for (auto& o : domains)
        if (o->current().name == name && o->live) return o->pid;
    return -1;
}

// ---- policy ----------------------------------------------------------------------------------

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
qemu::state::~state() {
    // An incoming migration this connection prepared and never finished has no one left to finish
    // it: its paused qemu goes, as libvirt's close callback does.
    std::vector<obj_ptr> abandoned;
    {
        std::lock_guard lock(driver_->mutex);
        for (auto& o : driver_->domains)
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

bool write_all(int fd, const void* data, std::size_t len) {
    const char* p = static_cast<const char*>(data);
    while (len > 0) {
        ssize_t n = ::write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

bool read_all(int fd, void* data, std::size_t len) {
    char* p = static_cast<char*>(data);
    while (len > 0) {
        ssize_t n = ::read(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

/// Waits for an outgoing migration stream (save) to finish; a destroy meanwhile aborts the job.
void wait_migration(qemu::driver& d, const obj_ptr& o, qmp_monitor& mon, const std::string& job) {
    auto aborted = [&] {
        fail(error_code::operation_aborted, job + " job: the domain was destroyed while the job ran");
    };
    for (;;) {
        {
            std::lock_guard lock(d.mutex);
            if (o->stopping || !o->live) aborted();
        }
        json::value st;
        try {
            st = mon.execute("query-migrate");
        } catch (const virtpp::error&) {
            aborted();
        }
        std::string status = st.as_object().contains("status") ? json::value_to<std::string>(st.at("status")) : "";
        if (status == "completed") return;
        if (status == "failed" || status == "cancelled") {
            std::lock_guard lock(d.mutex);
            if (o->stopping || !o->live) aborted();
            std::string why = st.as_object().contains("error-desc") ? json::value_to<std::string>(st.at("error-desc")) : status;
            fail(error_code::operation_failed, job + " job failed: " + why);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

/// After a failed outgoing stream (save, migration): a destroy meanwhile is the error to report;
/// otherwise the stream is cancelled when asked and a guest that was running runs on. Returns when
/// the caller should rethrow its own error.
void undo_outgoing_stream(qemu::driver& d, const obj_ptr& o, qmp_monitor& mon, const std::string& job, bool cancel,
                          bool was_running, int resumed_reason) {
    {
        std::lock_guard lock(d.mutex);
        if (o->stopping || !o->live)
            fail(error_code::operation_aborted, job + " job: the domain was destroyed while the job ran");
    }
    try {
        if (cancel) mon.execute("migrate_cancel");
        if (!was_running) return;
        mon.execute("cont");
        std::lock_guard lock(d.mutex);
        o->state = domain_state::running;
        o->reason = resumed_reason;
    } catch (const virtpp::error&) {
        // the guest is gone too; the exit event records it
    }
}

int open_for_write(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        fail(error_code::system_error, "Failed to create file '" + path + "': " + std::strerror(e));
    }
    return fd;
}

}  // namespace

#define JOB(ref)                  \
    ops g{*driver_};              \
    auto o = g.lookup(ref);       \
    std::unique_lock job(o->job)

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
    return static_cast<int>(std::count_if(driver_->domains.begin(), driver_->domains.end(), [](auto& o) { return o->active(); }));
}

std::vector<int> qemu::state::perform(op::connect_list_domains, const op::none&) {
    std::lock_guard lock(driver_->mutex);
    std::vector<int> ids;
    for (auto& o : driver_->domains)
        if (o->active()) ids.push_back(o->id());
    std::sort(ids.begin(), ids.end());
    return ids;
}

int qemu::state::perform(op::connect_num_of_defined_domains, const op::none&) {
    std::lock_guard lock(driver_->mutex);
    return static_cast<int>(std::count_if(driver_->domains.begin(), driver_->domains.end(), [](auto& o) { return !o->active(); }));
}

std::vector<std::string> qemu::state::perform(op::connect_list_defined_domains, const op::none&) {
    std::lock_guard lock(driver_->mutex);
    std::vector<std::string> names;
    for (auto& o : driver_->domains)
        if (!o->active()) names.push_back(o->config.name);
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<domain_ref> qemu::state::perform(op::connect_list_all_domains, const op::connect_list_all_domains::args& a) {
    std::lock_guard lock(driver_->mutex);
    std::vector<domain_ref> out;
    auto pick = [&](unsigned yes, unsigned no, bool v) {
        bool want_yes = (a.flags & yes) != 0, want_no = (a.flags & no) != 0;
        return (!want_yes && !want_no) || (want_yes && v) || (want_no && !v);
    };
    for (auto& o : driver_->domains) {
        bool running = o->state == domain_state::running, paused = o->state == domain_state::paused,
             shutoff = o->state == domain_state::shutoff;
        if (!pick(list_flags::active, list_flags::inactive, o->active())) continue;
        if (!pick(list_flags::persistent, list_flags::transient, o->persistent)) continue;
        if (!pick(list_flags::autostart, list_flags::no_autostart, o->autostart)) continue;
        if (!pick(list_flags::managedsave, list_flags::no_managedsave, false)) continue;
        if (!pick(list_flags::has_snapshot, list_flags::no_snapshot, false)) continue;
        unsigned state_mask = list_flags::running | list_flags::paused | list_flags::shutoff | list_flags::other;
        if ((a.flags & state_mask) != 0) {
            bool ok = ((a.flags & list_flags::running) != 0 && running) || ((a.flags & list_flags::paused) != 0 && paused) ||
                      ((a.flags & list_flags::shutoff) != 0 && shutoff) ||
                      ((a.flags & list_flags::other) != 0 && !running && !paused && !shutoff);
            if (!ok) continue;
        }
        out.push_back(o->ref());
    }
    return out;
}

// -- lookup

domain_ref qemu::state::perform(op::domain_lookup_by_id, const op::domain_lookup_by_id::args& a) {
    std::lock_guard lock(driver_->mutex);
    for (auto& o : driver_->domains)
        if (o->active() && o->id() == a.id) return o->ref();
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
    auto def = xml::parse_domain_xml(a.xml);
    g.fill_defaults(def);
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
        return o->ref();
    }
    g.save_config(def);
    std::lock_guard lock(driver_->mutex);
    if (g.check_clash(def, false)) fail(error_code::operation_failed, "domain '" + def.name + "' was defined concurrently");
    o = std::make_shared<domain_obj>();
    o->config = std::move(def);
    o->persistent = true;
    driver_->domains.push_back(o);
    return o->ref();
}

domain_ref qemu::state::perform(op::domain_create_xml, const op::domain_create_xml::args& a) {
    ops g{*driver_};
    auto def = xml::parse_domain_xml(a.xml);
    g.fill_defaults(def);
    obj_ptr o;
    {
        std::lock_guard lock(driver_->mutex);
        if (g.check_clash(def, true))
            fail(error_code::operation_failed, "domain '" + def.name + "' is already defined: start it instead");
        o = std::make_shared<domain_obj>();
        o->config = std::move(def);
        o->persistent = false;
        driver_->domains.push_back(o);
    }
    std::unique_lock job(o->job);
    try {
        g.start(o, (a.flags & start_paused) != 0);
    } catch (...) {
        std::lock_guard lock(driver_->mutex);
        std::erase(driver_->domains, o);
        throw;
    }
    std::lock_guard lock(driver_->mutex);
    return o->ref();
}

void qemu::state::perform(op::domain_undefine, const op::domain_undefine::args& a) {
    JOB(a.dom);
    std::string name;
    {
        std::lock_guard lock(driver_->mutex);
        if (!o->persistent) fail(error_code::operation_invalid, "cannot undefine transient domain");
        name = o->config.name;
    }
    if (::unlink(g.config_file(name).c_str()) != 0 && errno != ENOENT) {
        int e = errno;
        fail(error_code::system_error, "cannot remove config " + g.config_file(name) + ": " + std::strerror(e));
    }
    ::unlink(g.autostart_link(name).c_str());
    std::lock_guard lock(driver_->mutex);
    o->persistent = false;
    o->autostart = false;
    if (!o->active()) std::erase(driver_->domains, o);
}

domain_ref qemu::state::perform(op::domain_create, const op::domain_create::args& a) {
    JOB(a.dom);
    if (o->active()) fail(error_code::operation_invalid, "domain is already running");
    g.start(o, (a.flags & start_paused) != 0);
    std::lock_guard lock(driver_->mutex);
    return o->ref();
}

void qemu::state::perform(op::domain_suspend, const op::domain_suspend::args& a) {
    JOB(a.dom);
    auto mon = g.running_monitor(o);
    mon->execute("stop");
    {
        std::lock_guard lock(driver_->mutex);
        o->state = domain_state::paused;
        o->reason = reason::paused_user;
    }
    g.write_status(*o);
}

void qemu::state::perform(op::domain_resume, const op::domain_resume::args& a) {
    JOB(a.dom);
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
    }
    g.write_status(*o);
}

void qemu::state::perform(op::domain_shutdown, const op::domain_shutdown::args& a) {
    JOB(a.dom);
    auto mon = g.running_monitor(o);
    {
        std::lock_guard lock(driver_->mutex);
        if (o->state != domain_state::running) fail(error_code::operation_invalid, "domain is not running");
        o->fake_reboot = false;
    }
    mon->execute("system_powerdown");
}

void qemu::state::perform(op::domain_reboot, const op::domain_reboot::args& a) {
    JOB(a.dom);
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
    JOB(a.dom);
    auto mon = g.running_monitor(o);
    xml::domain_def def;
    bool was_running;
    {
        std::lock_guard lock(driver_->mutex);
        def = *o->live;
        was_running = o->state == domain_state::running;
        o->async_job = "domain save";
    }
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
    g.stop(o, domain_state::shutoff, reason::shutoff_saved, "saved");
}

void qemu::state::perform(op::domain_restore, const op::domain_restore::args& a) {
    ops g{*driver_};
    int fd = ::open(a.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        fail(error_code::system_error, "cannot open domain image '" + a.path + "': " + std::strerror(e));
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
        if (created) std::erase(driver_->domains, o);
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
    g.write_status(*o);
}

void qemu::state::perform(op::domain_core_dump, const op::domain_core_dump::args& a) {
    JOB(a.dom);
    auto mon = g.running_monitor(o);
    int fd = open_for_write(a.path);
    try {
        mon->execute("getfd", json::object{{"fdname", "virtpp-dump"}}, fd);
        mon->execute("dump-guest-memory", json::object{{"paging", false}, {"protocol", "fd:virtpp-dump"}},
                     -1, std::chrono::minutes(10));
    } catch (...) {
        ::close(fd);
        ::unlink(a.path.c_str());
        throw;
    }
    ::close(fd);
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
    JOB(a.dom);
    std::string name;
    {
        std::lock_guard lock(driver_->mutex);
        if (!o->persistent) fail(error_code::operation_invalid, "cannot set autostart for transient domain");
        name = o->config.name;
    }
    std::string link = g.autostart_link(name);
    if (a.autostart) {
        make_dirs(driver_->paths.autostart_dir);
        ::unlink(link.c_str());
        if (::symlink(g.config_file(name).c_str(), link.c_str()) != 0) {
            int e = errno;
            fail(error_code::system_error, "Failed to create symlink '" + link + "': " + std::strerror(e));
        }
    } else if (::unlink(link.c_str()) != 0 && errno != ENOENT) {
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
    JOB(a.dom);
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
    JOB(a.dom);
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
    JOB(a.dom);
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
    JOB(a.dom);
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
    JOB(a.dom);
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

// ---- device hot-plug: disks (virtio) and interfaces, live and/or in the definition -------------

namespace virtpp::hypervisor {
namespace {

/// A parsed device snippet: one <disk> or one <interface>.
struct device_snippet {
    std::optional<xml::disk_def> disk;
    std::optional<xml::interface_def> interface;
};

device_snippet parse_device_snippet(std::string_view snippet) {
    // checked on its own first (syntax errors name its lines), then read inside a minimal domain
    auto root = xml::detail::parse_document(snippet, "(device_definition)", error_domain::domain);
    if (root.name != "disk" && root.name != "interface")
        fail(error_code::config_unsupported, "unsupported configuration: device type '" + root.name +
                                                 "' cannot be attached or detached by virtpp's QEMU driver");
    auto body = snippet;
    if (auto pos = body.find("?>"); body.starts_with("<?xml") && pos != std::string_view::npos) body.remove_prefix(pos + 2);
    std::string wrapped = "<domain type='qemu'><name>virtpp-device</name><memory>1</memory><os><type>hvm</type></os><devices>";
    wrapped += body;
    wrapped += "</devices></domain>";
    auto def = xml::parse_domain_xml(wrapped);
    device_snippet out;
    if (root.name == "disk" && def.devices.disks.size() == 1) out.disk = def.devices.disks.front();
    if (root.name == "interface" && def.devices.interfaces.size() == 1) out.interface = def.devices.interfaces.front();
    if (!out.disk && !out.interface) raise(error_code::xml_error, error_domain::domain, "the device XML holds no usable <" + root.name + "> element");
    return out;
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
    JOB(a.dom);
    auto [live, config] = hotplug_targets(*o, a.flags);
    if (dev.interface && !dev.interface->mac) dev.interface->mac = random_mac();
    std::optional<xml::domain_def> new_config, new_live;
    {
        std::lock_guard lock(driver_->mutex);
        if (config) add_device(new_config.emplace(o->config), dev);
        if (live) add_device(new_live.emplace(*o->live), dev);
    }
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
            // as at start: the network driver is not built yet, so no network is active
            raise(error_code::no_network, error_domain::network,
                  "no network with matching name '" + dev.interface->source_network.value_or("") + "'");
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
            (dev.interface->type == xml::interface_type::bridge || dev.interface->type == xml::interface_type::ethernet)) {
            tap = create_tap(dev.interface->target_dev.value_or(""));
            if (dev.interface->type == xml::interface_type::bridge) add_to_bridge(tap->name, dev.interface->source_bridge.value_or(""));
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
        }
    }
    if (new_config) g.save_config(*new_config);
    if (live) g.write_status(*o);
}

void qemu::state::perform(op::domain_detach_device, const op::domain_detach_device::args& a) {
    auto dev = parse_device_snippet(a.xml);
    JOB(a.dom);
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
    JOB(a.dom);
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
    {
        std::lock_guard lock(driver_->mutex);
        if (port == 0) {
            for (int p = driver_->config.migration_port_min; p <= driver_->config.migration_port_max; ++p)
                if (driver_->migration_ports.count(p) == 0 && port_free(listen, p)) {
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
    }
    auto release_port = [&] {
        std::lock_guard lock(driver_->mutex);
        driver_->migration_ports.erase(port);
    };

    obj_ptr o;
    bool created = false;
    try {
        std::tie(o, created) = g.existing_or_transient(def);
    } catch (...) {
        release_port();
        throw;
    }
    std::unique_lock job(o->job);
    std::optional<xml::domain_def> saved_config;
    try {
        std::lock_guard lock(driver_->mutex);
        if (o->active()) fail(error_code::operation_invalid, "domain '" + def.name + "' is already active");
        if (!created) saved_config = o->config;
        o->config = def;  // the incoming definition is what runs
    } catch (...) {
        release_port();
        throw;
    }
    try {
        g.start(o, true, -1, reason::running_migrated, "tcp:" + uri_host(listen) + ":" + std::to_string(port));
    } catch (...) {
        std::lock_guard lock(driver_->mutex);
        driver_->migration_ports.erase(port);
        if (saved_config) o->config = std::move(*saved_config);
        if (created) std::erase(driver_->domains, o);
        throw;
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
    JOB(a.dom);
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
    JOB(a.dom);
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
    if ((a.flags & migrate_flags::undefine_source) && persistent) {
        ::unlink(g.config_file(name).c_str());
        ::unlink(g.autostart_link(name).c_str());
        std::lock_guard lock(driver_->mutex);
        o->persistent = false;
        o->autostart = false;
        std::erase(driver_->domains, o);
    }
}

}  // namespace virtpp::hypervisor
