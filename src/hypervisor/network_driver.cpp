// The virtual network driver: definitions, persistence, and running networks (bridge, dnsmasq,
// nftables, forwarding), adopted across daemon restarts and watched through pidfds.
#include "hypervisor/network_driver.hpp"

#include "hypervisor/netlink.hpp"
#include "hypervisor/qemu_detail.hpp"
#include "hypervisor/qemu_process.hpp"

#include <virtpp/error.hpp>

#include <nftables/libnftables.h>

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <sstream>
#include <thread>

namespace virtpp::hypervisor::network {

using qemu_detail::make_dirs;
using qemu_detail::open_pidfd;
using qemu_detail::spawn_process;
using qemu_detail::spawn_request;
using qemu_detail::terminate_process;
using qemu_detail::read_file;
using qemu_detail::read_file_at;
using qemu_detail::remove_file_at;
using qemu_detail::symlink_at;
using qemu_detail::write_file_atomic_at;

namespace {

[[noreturn]] void fail(error_code code, std::string_view detail) { raise(code, error_domain::network, detail); }

// The driver's files go through the QEMU driver's openat/O_NOFOLLOW helpers: one file name
// inside its state directory, never reached through a symbolic link.
std::pair<std::string, std::string> dir_and_file(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}
void write_state(const std::string& path, std::string_view text, bool durable = true) {
    auto [dir, file] = dir_and_file(path);
    write_file_atomic_at(dir, file, text, durable);
}
std::optional<std::string> read_state(const std::string& path) {
    auto [dir, file] = dir_and_file(path);
    return read_file_at(dir, file);
}
/// Removes a state file; true when it is gone (errno set otherwise).
bool remove_state(const std::string& path) {
    auto [dir, file] = dir_and_file(path);
    return remove_file_at(dir, file);
}
/// Makes a state file readable by all (dnsmasq rereads hosts files as its own user), without
/// following a link put in its place.
void make_world_readable(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return;
    [[maybe_unused]] int rc = ::fchmod(fd, 0644);
    ::close(fd);
}
/// Replaces the autostart link DIR/FILE with one to TARGET.
void replace_link(const std::string& target, const std::string& dir, const std::string& file) {
    remove_file_at(dir, file);
    symlink_at(target, dir, file);
}

/// virFindFileInPath("dnsmasq"), as libvirt finds it: the first executable regular file named
/// dnsmasq in $PATH (a daemon started without PATH searches the usual system directories);
/// SYSTEM_ERROR naming the package when there is none.
std::string dnsmasq_binary() {
    const char* env = std::getenv("PATH");
    std::string_view dirs = env != nullptr && *env != '\0' ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    while (true) {
        auto colon = dirs.find(':');
        std::string_view dir = dirs.substr(0, colon);
        if (!dir.empty()) {
            std::string candidate = std::string(dir) + "/dnsmasq";
            struct stat st {};
            if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
                return candidate;
        }
        if (colon == std::string_view::npos) break;
        dirs.remove_prefix(colon + 1);
    }
    fail(error_code::system_error,
         "Unable to find 'dnsmasq' binary in $PATH: No such file or directory (install the dnsmasq-base package)");
}

std::string random_mac() {
    std::random_device rd;
    char buf[18];
    std::snprintf(buf, sizeof buf, "52:54:00:%02x:%02x:%02x", rd() & 0xFF, rd() & 0xFF, rd() & 0xFF);
    return buf;
}

std::string generated_header(const std::string& name) {
    return "<!--\n"
           "WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n"
           "OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n"
           "  virsh net-edit " + name + "\n"
           "or other application using the libvirt API.\n"
           "-->\n\n";
}

/// Indents every line of a document by `n` spaces (the status file nests <network>).
std::string indented(const std::string& text, int n) {
    std::string out, pad(static_cast<std::size_t>(n), ' ');
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out += pad + line + "\n";
    return out;
}

bool uses_bridge_device(const xml::network_def& def) {
    using mode = xml::network_forward_mode;
    return !def.forward || def.forward->mode == mode::nat || def.forward->mode == mode::route || def.forward->mode == mode::open;
}

std::vector<std::string> xml_files(const std::string& dir) {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (auto* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n.size() > 4 && n.ends_with(".xml")) out.push_back(n.substr(0, n.size() - 4));
        }
        ::closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
}

/// The process's command line, NULs as spaces ("" when gone).
std::string cmdline_of(pid_t pid) {
    auto text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    if (!text) return {};
    std::replace(text->begin(), text->end(), '\0', ' ');
    return *text;
}

/// True when every directory from / down to dir lets others in (o+x).
bool world_reachable(const std::string& dir) {
    std::string path;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = dir.find('/', pos + 1);
        path = dir.substr(0, pos);
        struct stat st {};
        if (path.empty()) continue;
        if (::stat(path.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)) return false;
    }
    return true;
}

void write_sysctl(const std::string& path, const std::string& value) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, value.data(), value.size()) < 0) {
        int e = errno;
        if (fd >= 0) ::close(fd);
        fail(error_code::system_error, "cannot enable " + path + ": " + std::strerror(e));
    }
    ::close(fd);
}

/// libnftables, loaded when first needed: the daemon runs (and its tools link) without it.
struct nftables_api {
    decltype(&nft_ctx_new) ctx_new = nullptr;
    decltype(&nft_ctx_free) ctx_free = nullptr;
    decltype(&nft_ctx_buffer_error) buffer_error = nullptr;
    decltype(&nft_ctx_get_error_buffer) get_error_buffer = nullptr;
    decltype(&nft_run_cmd_from_buffer) run = nullptr;
    std::string load_error;
};

const nftables_api& nftables() {
    static const nftables_api api = [] {
        nftables_api a;
        void* h = ::dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
        if (h == nullptr) {
            const char* e = ::dlerror();
            a.load_error = e ? e : "libnftables.so.1 not found";
            return a;
        }
        a.ctx_new = reinterpret_cast<decltype(a.ctx_new)>(::dlsym(h, "nft_ctx_new"));
        a.ctx_free = reinterpret_cast<decltype(a.ctx_free)>(::dlsym(h, "nft_ctx_free"));
        a.buffer_error = reinterpret_cast<decltype(a.buffer_error)>(::dlsym(h, "nft_ctx_buffer_error"));
        a.get_error_buffer = reinterpret_cast<decltype(a.get_error_buffer)>(::dlsym(h, "nft_ctx_get_error_buffer"));
        a.run = reinterpret_cast<decltype(a.run)>(::dlsym(h, "nft_run_cmd_from_buffer"));
        if (!a.ctx_new || !a.ctx_free || !a.buffer_error || !a.get_error_buffer || !a.run)
            a.load_error = "libnftables.so.1 lacks the nft_ctx API";
        return a;
    }();
    return api;
}

void run_nftables(const std::string& script) {
    const auto& api = nftables();
    if (!api.load_error.empty())
        fail(error_code::internal_error, "nftables is not available (" + api.load_error +
                                             "): install the libnftables1 package (nftables) to run virtual networks");
    nft_ctx* ctx = api.ctx_new(NFT_CTX_DEFAULT);
    if (ctx == nullptr) fail(error_code::internal_error, "cannot create an nftables context");
    api.buffer_error(ctx);
    int rc = api.run(ctx, script.c_str());
    std::string err = api.get_error_buffer(ctx) ? api.get_error_buffer(ctx) : "";
    api.ctx_free(ctx);
    if (rc != 0) fail(error_code::internal_error, "cannot apply the firewall rules of virtual networks: " + err);
}

std::string prefix_of_lease_subnet(const xml::network_def& def, const std::string& ip, unsigned& prefix) {
    for (const auto& i : def.ips) {
        if ((i.address.find(':') != std::string::npos) != (ip.find(':') != std::string::npos)) continue;
        if (netlink::subnets_overlap(i.address, ip_prefix(i), ip, ip_prefix(i))) {
            prefix = ip_prefix(i);
            return i.address;
        }
    }
    prefix = 0;
    return {};
}

}  // namespace

paths paths_for_system() {
    return {"/etc/libvirt/qemu/networks", "/etc/libvirt/qemu/networks/autostart", "/run/libvirt/network",
            "/var/lib/libvirt/dnsmasq"};
}

// ---- the driver object -----------------------------------------------------------------------

driver::driver(paths p, bool privileged, log_fn log) : paths_(std::move(p)), privileged_(privileged), log_(std::move(log)) {
    if (!log_) {
        log_ = [](const std::string& line) {
            std::time_t now = std::time(nullptr);
            std::tm tm{};
            gmtime_r(&now, &tm);
            char stamp[32];
            std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
            std::fprintf(stderr, "%s.000+0000: %d: warning : %s\n", stamp, static_cast<int>(::getpid()), line.c_str());
        };
    }
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (privileged_) {
        std::lock_guard lock(mutex_);
        load();
    }
    watcher_ = std::thread([this] { watch(); });
}

driver::~driver() {
    {
        std::lock_guard lock(mutex_);
        quitting_ = true;
    }
    wake_watcher();
    watcher_.join();
    for (auto& o : networks_)
        if (o->dnsmasq_pidfd >= 0) ::close(o->dnsmasq_pidfd);
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void driver::wake_watcher() {
    std::uint64_t one = 1;
    if (wake_fd_ >= 0) {
        [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    }
}

void driver::require_root(std::string_view what) const {
    if (!privileged_ || ::geteuid() != 0)
        fail(error_code::operation_invalid, std::string(what) +
                                                ": virtual networks need root (virtppd or the process running as root, "
                                                "connected to qemu:///system)");
}

std::shared_ptr<network_obj> driver::find_name(const std::string& name) const {
    for (const auto& o : networks_)
        if (o->current().name == name) return o;
    return nullptr;
}
std::shared_ptr<network_obj> driver::find_uuid(const virtpp::uuid& id) const {
    for (const auto& o : networks_)
        if (o->current().uuid == id) return o;
    return nullptr;
}
std::shared_ptr<network_obj> driver::get(const network_ref& ref) const {
    if (auto o = find_uuid(ref.uuid)) return o;
    fail(error_code::no_network, "no network with matching uuid '" + ref.uuid.str() + "' (" + ref.name + ")");
}

// ---- persistence -----------------------------------------------------------------------------

void driver::save_config(const xml::network_def& def) {
    make_dirs(paths_.config_dir);
    write_state(paths_.config_dir + "/" + def.name + ".xml",
                      generated_header(def.name) + xml::format_network_xml(def, {.inactive = true}));
}

void driver::save_status(const network_obj& o) {
    make_dirs(paths_.run_dir);
    std::string text = generated_header(o.live->name) + "<networkstatus>\n  <class_id bitmap='0-2'/>\n  <floor sum='0'/>\n" +
                       indented(xml::format_network_xml(*o.live), 2) + "</networkstatus>\n";
    write_state(paths_.run_dir + "/" + o.live->name + ".xml", text);
}

/// libvirt's post-parse for a network it will run: uuid, bridge name (virbrN), bridge MAC.
void driver::fill_defaults(xml::network_def& def) {
    if (!def.uuid) def.uuid = virtpp::uuid::generate();
    if (!uses_bridge_device(def)) return;
    if (!def.bridge) def.bridge = xml::network_bridge{};
    if (!def.bridge->name || def.bridge->name->find("%d") != std::string::npos) {
        std::string templ = def.bridge->name.value_or("virbr%d");
        for (int n = 0; n < 256; ++n) {
            std::string candidate = templ;
            candidate.replace(candidate.find("%d"), 2, std::to_string(n));
            bool taken = netlink::link_exists(candidate);
            for (const auto& o : networks_) {
                if (o->current().name == def.name) continue;
                for (const auto* d : {&o->config, o->live ? &*o->live : nullptr})
                    if (d && d->bridge && d->bridge->name == candidate) taken = true;
            }
            if (!taken) {
                def.bridge->name = candidate;
                break;
            }
        }
        if (!def.bridge->name || def.bridge->name->find("%d") != std::string::npos)
            fail(error_code::internal_error, "Bridge generation exceeded max id 256");
    }
    if (!def.mac) def.mac = random_mac();
}

network_ref driver::assign(xml::network_def def, bool live) {
    fill_defaults(def);
    auto by_uuid = find_uuid(*def.uuid);
    if (by_uuid && by_uuid->current().name != def.name)
        fail(error_code::operation_failed,
             "network '" + by_uuid->current().name + "' is already defined with uuid " + def.uuid->str());
    if (!by_uuid)
        if (auto same = find_name(def.name))
            fail(error_code::operation_failed, "network '" + def.name + "' already exists with uuid " + same->current().uuid->str());
    // a bridge name another network already claims
    if (def.bridge && def.bridge->name)
        for (const auto& o : networks_)
            if (o != by_uuid && o->current().bridge && o->current().bridge->name == def.bridge->name)
                fail(error_code::operation_invalid, "bridge name '" + *def.bridge->name + "' already in use by network '" +
                                                        o->current().name + "'");
    if (live) {
        if (by_uuid && by_uuid->active()) fail(error_code::operation_invalid, "network is already active as '" + def.name + "'");
        auto o = by_uuid ? by_uuid : std::make_shared<network_obj>();
        bool added = !by_uuid;
        if (added) {
            o->config = def;
            o->persistent = false;
            networks_.push_back(o);
        }
        auto saved_config = o->config;
        o->config = def;  // start_locked runs the object's config
        try {
            start_locked(*o);
        } catch (...) {
            o->config = saved_config;
            if (added) std::erase(networks_, o);
            throw;
        }
        o->config = saved_config;
        return o->ref();
    }
    if (by_uuid) {
        // keep the MAC and bridge libvirt generated the first time
        if (!def.mac && by_uuid->config.mac) def.mac = by_uuid->config.mac;
        save_config(def);
        if (by_uuid->active()) by_uuid->next = def;
        else by_uuid->config = def;
        by_uuid->persistent = true;
        return by_uuid->ref();
    }
    save_config(def);
    auto o = std::make_shared<network_obj>();
    o->config = std::move(def);
    networks_.push_back(o);
    return o->ref();
}

// ---- starting and stopping -------------------------------------------------------------------

void driver::check_startable(const xml::network_def& def) {
    require_root("cannot start network '" + def.name + "'");
    // libvirt shapes the bridge's traffic with tc at start (virNetDevBandwidthSet); virtpp has no
    // tc layer yet, and a network without its limits would be a silent lie
    if (def.bandwidth)
        fail(error_code::no_support, "network '" + def.name + "' has a <bandwidth>: virtpp cannot apply bandwidth limits (tc) yet");
    if (!uses_bridge_device(def)) {
        if (def.forward->mode == xml::network_forward_mode::bridge) {
            const std::string& br = def.bridge && def.bridge->name ? *def.bridge->name : def.forward->dev.value_or("");
            if (br.empty() || !netlink::link_exists(br))
                fail(error_code::system_error, "Cannot get interface flags on '" + br + "': No such device");
            return;
        }
        fail(error_code::config_unsupported, "forward mode '" + std::string(xml::to_string(def.forward->mode)) +
                                                 "' is not supported by virtpp's network driver");
    }
    if (needs_dnsmasq(def)) (void)dnsmasq_binary();  // refused before anything is created
    if (!nftables().load_error.empty())
        fail(error_code::internal_error, "nftables is not available (" + nftables().load_error +
                                             "): install the libnftables1 package (nftables) to run virtual networks");
    const std::string& br = *def.bridge->name;
    if (netlink::link_exists(br))
        fail(error_code::system_error, "Unable to create bridge " + br + ": an interface of that name already exists");
    // a subnet routed through another interface (networkCheckRouteCollision)
    auto routes = netlink::routes();
    for (const auto& ip : def.ips)
        for (const auto& r : routes)
            if (r.prefix > 0 && netlink::subnets_overlap(ip.address, ip_prefix(ip), r.destination, r.prefix))
                fail(error_code::internal_error, "Network is already in use by interface " + r.link);
    for (const auto& ip : def.ips)
        for (const auto& h : ip.dhcp_hosts)
            if (h.ip && !netlink::subnets_overlap(ip.address, ip_prefix(ip), *h.ip, ip_prefix(ip)))
                fail(error_code::config_unsupported, "DHCP host reservation " + *h.ip + " (" + h.mac.value_or(h.name.value_or("")) +
                                                         ") is outside the subnet " + subnet_address(ip) + "/" +
                                                         std::to_string(ip_prefix(ip)) + " of network '" + def.name + "'");
    (void)dnsmasq_config(def, files_of(paths_, def.name));  // raises for what dnsmasq cannot serve
}

void driver::start_locked(network_obj& o) {
    if (o.active()) fail(error_code::operation_invalid, "network is already active");
    xml::network_def def = o.config;
    check_startable(def);
    if (!uses_bridge_device(def)) {  // an existing host bridge: nothing of ours to set up
        o.live = def;
        save_status(o);
        return;
    }
    const std::string br = *def.bridge->name;
    bool bridge_made = false;
    try {
        netlink::create_bridge(br, {def.mac, def.mtu, def.bridge->stp, def.bridge->delay});
        bridge_made = true;
        for (const auto& ip : def.ips) netlink::add_address(br, ip.address, ip_prefix(ip));
        netlink::set_link_up(br, true);
        // static routes through the bridge (networkAddRouteToBridge): libvirt's metric 1 unless given
        for (const auto& r : def.routes) {
            unsigned prefix = r.prefix.value_or(0);
            if (r.netmask) prefix = ip_prefix(xml::network_ip{.address = r.address, .netmask = r.netmask});
            netlink::add_route(br, r.address, prefix, r.gateway, r.metric.value_or(1));
        }
        if (def.forward && (def.forward->mode == xml::network_forward_mode::nat || def.forward->mode == xml::network_forward_mode::route)) {
            bool v6 = false;
            for (const auto& ip : def.ips) v6 = v6 || ip.address.find(':') != std::string::npos;
            write_sysctl("/proc/sys/net/ipv4/ip_forward", "1\n");
            if (v6) write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1\n");
        }
        if (def.forward && def.forward->mode == xml::network_forward_mode::nat && !def.forward->nat_port_start) {
            def.forward->nat_port_start = 1024;  // the live definition shows the range in use
            def.forward->nat_port_end = 65535;
        }
        o.live = def;
        apply_firewall();
        if (needs_dnsmasq(def)) start_dnsmasq(o);
        save_status(o);
    } catch (...) {
        o.live.reset();
        stop_dnsmasq(o);
        try {
            apply_firewall();
        } catch (...) {
        }
        if (bridge_made) {
            try {
                netlink::delete_link(br);
            } catch (...) {
            }
        }
        throw;
    }
    wake_watcher();
}

void driver::stop_locked(network_obj& o) {
    if (!o.active()) fail(error_code::operation_invalid, "network '" + o.current().name + "' is not active");
    xml::network_def def = *o.live;
    stop_dnsmasq(o);
    o.live.reset();
    std::string error;
    try {
        apply_firewall();
    } catch (const std::exception& e) {
        error = e.what();
    }
    if (uses_bridge_device(def) && def.bridge && def.bridge->name) {
        try {
            netlink::set_link_up(*def.bridge->name, false);
        } catch (...) {
        }
        netlink::delete_link(*def.bridge->name);
    }
    remove_state(paths_.run_dir + "/" + def.name + ".xml");
    if (o.next) {
        o.config = std::move(*o.next);
        o.next.reset();
    }
    if (!error.empty()) log_("network '" + def.name + "' stopped, but its firewall rules stay: " + error);
}

void driver::write_dnsmasq_files(const xml::network_def& def) {
    auto f = files_of(paths_, def.name);
    make_dirs(paths_.dnsmasq_dir);
    make_dirs(paths_.run_dir);
    // generated from the live definition at every start and update: no fsync (six of them were
    // a quarter of net-start's time)
    write_state(f.conf, dnsmasq_config(def, f), false);
    write_state(f.hostsfile, dnsmasq_hostsfile(def), false);
    write_state(f.addnhosts, dnsmasq_addnhosts(def), false);
    make_world_readable(f.hostsfile);  // dnsmasq rereads them as nobody on SIGHUP
    make_world_readable(f.addnhosts);
}

void driver::start_dnsmasq(network_obj& o) {
    const auto& def = *o.live;
    auto f = files_of(paths_, def.name);
    write_dnsmasq_files(def);
    remove_state(f.pidfile);
    // dnsmasq daemonizes; its parent exits once the child serves, with the startup error if any
    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) fail(error_code::system_error, "cannot create a pipe for dnsmasq");
    spawn_request req;
    const std::string binary = dnsmasq_binary();
    req.argv = {binary, "--conf-file=" + f.conf, "--dhcp-leasefile=" + f.leases};
    // dnsmasq rereads its hosts files as its unprivileged user: when that user cannot reach them
    // (a state directory under a private 0700 root), it keeps root's rights instead
    if (!world_reachable(paths_.dnsmasq_dir)) req.argv.push_back("--user=root");
    req.log_fd = err_pipe[1];
    pid_t parent = -1;
    try {
        parent = spawn_process(req);
    } catch (...) {
        ::close(err_pipe[0]);
        ::close(err_pipe[1]);
        throw;
    }
    ::close(err_pipe[1]);
    int status = 0;
    while (::waitpid(parent, &status, 0) < 0 && errno == EINTR) {
    }
    std::string output;
    ::fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
    char buf[512];
    for (ssize_t n; (n = ::read(err_pipe[0], buf, sizeof buf)) > 0;) output.append(buf, static_cast<std::size_t>(n));
    ::close(err_pipe[0]);
    while (!output.empty() && output.back() == '\n') output.pop_back();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail(error_code::internal_error, "Child process (" + binary + " --conf-file=" + f.conf +
                                             ") unexpected exit status " + std::to_string(WEXITSTATUS(status)) + ": " + output);
    pid_t pid = -1;
    for (int i = 0; i < 200 && pid <= 0; ++i) {
        if (auto text = read_state(f.pidfile)) pid = static_cast<pid_t>(std::atoi(text->c_str()));
        if (pid <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (pid <= 0) fail(error_code::internal_error, "dnsmasq of network '" + def.name + "' wrote no pid file " + f.pidfile);
    o.dnsmasq_pid = pid;
    o.dnsmasq_pidfd = open_pidfd(pid);
}

void driver::stop_dnsmasq(network_obj& o) {
    if (o.dnsmasq_pid <= 0) return;
    pid_t pid = o.dnsmasq_pid;
    int fd = o.dnsmasq_pidfd;
    o.dnsmasq_pid = -1;
    o.dnsmasq_pidfd = -1;
    wake_watcher();
    if (fd >= 0) {
        terminate_process(pid, fd, std::chrono::milliseconds(3000));
        ::close(fd);
    }
    if (o.live) remove_state(files_of(paths_, o.live->name).pidfile);
}

void driver::apply_firewall() {
    std::vector<xml::network_def> running;
    for (const auto& o : networks_)
        if (o->live) running.push_back(*o->live);
    run_nftables(firewall_script(running));
}

// ---- loading, adopting, the default network, autostart ----------------------------------------

void driver::adopt(network_obj& o) {
    std::optional<std::string> status;
    try {
        status = read_state(paths_.run_dir + "/" + o.config.name + ".xml");
    } catch (const std::exception& e) {
        log_("ignoring the status file of network '" + o.config.name + "': " + e.what());
        return;
    }
    if (!status) return;
    auto begin = status->find("<network>");
    auto end = status->rfind("</network>");
    if (begin == std::string::npos || end == std::string::npos) return;
    xml::network_def live;
    try {
        live = xml::parse_network_xml(status->substr(begin, end + 10 - begin));
    } catch (const std::exception& e) {
        log_("ignoring the unreadable status of network '" + o.config.name + "': " + e.what());
        return;
    }
    if (uses_bridge_device(live) && (!live.bridge || !live.bridge->name || !netlink::link_exists(*live.bridge->name))) {
        remove_state(paths_.run_dir + "/" + o.config.name + ".xml");
        return;  // its bridge is gone: the network is not running any more
    }
    o.live = std::move(live);
    if (!needs_dnsmasq(*o.live)) return;
    auto f = files_of(paths_, o.config.name);
    pid_t pid = -1;
    try {
        if (auto text = read_state(f.pidfile)) pid = static_cast<pid_t>(std::atoi(text->c_str()));
    } catch (const std::exception& e) {
        log_("ignoring the pid file of network '" + o.config.name + "': " + e.what());
    }
    if (pid > 0 && cmdline_of(pid).find("--conf-file=" + f.conf) != std::string::npos) {
        o.dnsmasq_pid = pid;
        o.dnsmasq_pidfd = open_pidfd(pid);
    }
    if (o.dnsmasq_pidfd < 0) {
        log_("dnsmasq of network '" + o.config.name + "' is not running: starting it");
        o.dnsmasq_pid = -1;
        try {
            start_dnsmasq(o);
        } catch (const std::exception& e) {
            log_("cannot restart dnsmasq of network '" + o.config.name + "': " + e.what());
        }
    }
}

void driver::load() {
    make_dirs(paths_.config_dir);
    for (const auto& name : xml_files(paths_.config_dir)) {
        try {
            auto text = read_state(paths_.config_dir + "/" + name + ".xml");
            if (!text) continue;
            auto def = xml::parse_network_xml(*text);
            if (def.name != name) {
                log_("network config file '" + name + ".xml' names network '" + def.name + "': ignored");
                continue;
            }
            auto o = std::make_shared<network_obj>();
            fill_defaults(def);
            o->config = std::move(def);
            struct stat st {};
            o->autostart = ::lstat((paths_.autostart_dir + "/" + name + ".xml").c_str(), &st) == 0;
            networks_.push_back(o);
        } catch (const std::exception& e) {
            log_("ignoring network config file '" + name + ".xml': " + e.what());
        }
    }
    // transient networks left running: their status file is their only definition
    for (const auto& name : xml_files(paths_.run_dir)) {
        if (find_name(name)) continue;
        std::optional<std::string> status;
        try {
            status = read_state(paths_.run_dir + "/" + name + ".xml");
        } catch (const std::exception& e) {
            log_("ignoring the status file '" + name + ".xml': " + e.what());
            continue;
        }
        auto begin = status ? status->find("<network>") : std::string::npos;
        auto end = status ? status->rfind("</network>") : std::string::npos;
        if (begin == std::string::npos || end == std::string::npos) continue;
        try {
            auto o = std::make_shared<network_obj>();
            o->config = xml::parse_network_xml(status->substr(begin, end + 10 - begin));
            if (!o->config.uuid) continue;
            o->persistent = false;
            networks_.push_back(o);
        } catch (const std::exception&) {
        }
    }
    bool any_running = false;
    for (auto& o : networks_) {
        adopt(*o);
        any_running = any_running || o->active();
    }
    std::erase_if(networks_, [](const auto& o) { return !o->persistent && !o->active(); });
    if (any_running) {
        try {
            apply_firewall();
        } catch (const std::exception& e) {
            log_(e.what());
        }
    }
    define_default_if_none();
    for (auto& o : networks_) {
        if (!o->autostart || o->active()) continue;
        try {
            start_locked(*o);
        } catch (const std::exception& e) {
            log_("cannot autostart network '" + o->config.name + "': " + e.what());
        }
    }
}

void driver::reload() {
    if (!privileged_) return;  // an unprivileged driver has no networks of its own (as load())
    std::lock_guard lock(mutex_);
    for (const auto& name : xml_files(paths_.config_dir)) {
        try {
            auto text = read_state(paths_.config_dir + "/" + name + ".xml");
            if (!text) continue;
            auto def = xml::parse_network_xml(*text);
            if (def.name != name) {
                log_("network config file '" + name + ".xml' names network '" + def.name + "': ignored");
                continue;
            }
            auto o = find_name(name);
            if (o && !def.uuid) def.uuid = o->config.uuid;  // a file without one keeps the known UUID
            if (o && def.uuid != o->config.uuid) {
                log_("network config file '" + name + ".xml' changed the network's UUID: ignored");
                continue;
            }
            if (!o && def.uuid && find_uuid(*def.uuid)) {
                log_("network config file '" + name + ".xml' reuses another network's UUID: ignored");
                continue;
            }
            fill_defaults(def);
            if (!o) {
                o = std::make_shared<network_obj>();
                networks_.push_back(o);
            }
            if (o->active())
                o->next = std::move(def);  // a running network takes it when it stops, as a redefinition
            else
                o->config = std::move(def);
            o->persistent = true;
            struct stat st {};
            o->autostart = ::lstat((paths_.autostart_dir + "/" + name + ".xml").c_str(), &st) == 0;
        } catch (const std::exception& e) {
            log_("ignoring network config file '" + name + ".xml': " + e.what());
        }
    }
    // a network whose file is gone stays defined, as in libvirtd (its reload only adds and updates)
    for (auto& o : networks_) {
        if (!o->autostart || o->active()) continue;
        try {
            start_locked(*o);
        } catch (const std::exception& e) {
            log_("cannot autostart network '" + o->config.name + "': " + e.what());
        }
    }
}

void driver::define_default_if_none() {
    if (!networks_.empty() || ::geteuid() != 0) return;
    // With a test's state directory, the host's own network namespace is never changed: the
    // default network appears only in a namespace without hardware links (one a test made), or
    // when VIRTPP_DEFAULT_NETWORK=yes asks for it.
    const char* want = std::getenv("VIRTPP_DEFAULT_NETWORK");
    if (want && std::string_view(want) == "no") return;
    const char* root = std::getenv("VIRTPP_QEMU_STATE_DIR");
    if ((!want || std::string_view(want) != "yes") && root && *root && netlink::has_hardware_links()) return;
    auto routes = netlink::routes();
    int third = -1;
    for (int n = 122; n < 255 && third < 0; ++n) {
        std::string subnet = "192.168." + std::to_string(n) + ".0";
        bool used = false;
        for (const auto& r : routes) used = used || (r.prefix > 0 && netlink::subnets_overlap(subnet, 24, r.destination, r.prefix));
        if (!used) third = n;
    }
    if (third < 0) {
        log_("no free 192.168.N.0/24 subnet for the default network: not defined");
        return;
    }
    std::string net = "192.168." + std::to_string(third) + ".";
    std::string text = "<network>\n  <name>default</name>\n  <bridge name='virbr0'/>\n  <forward/>\n"
                       "  <ip address='" + net + "1' netmask='255.255.255.0'>\n    <dhcp>\n"
                       "      <range start='" + net + "2' end='" + net + "254'/>\n    </dhcp>\n  </ip>\n</network>\n";
    try {
        assign(xml::parse_network_xml(text), false);
        auto o = find_name("default");
        make_dirs(paths_.autostart_dir);
        replace_link(paths_.config_dir + "/default.xml", paths_.autostart_dir, "default.xml");
        o->autostart = true;
        log_("defined the default network on " + net + "0/24");
    } catch (const std::exception& e) {
        log_(std::string("cannot define the default network: ") + e.what());
    }
}

// ---- the dnsmasq watcher ---------------------------------------------------------------------

void driver::watch() {
    for (;;) {
        std::vector<pollfd> fds;
        {
            std::lock_guard lock(mutex_);
            if (quitting_) return;
            fds.push_back({wake_fd_, POLLIN, 0});
            for (const auto& o : networks_)
                if (o->active() && o->dnsmasq_pidfd >= 0) fds.push_back({o->dnsmasq_pidfd, POLLIN, 0});
        }
        int n = ::poll(fds.data(), fds.size(), -1);
        if (n < 0 && errno != EINTR) return;
        if (fds[0].revents & POLLIN) {
            std::uint64_t v = 0;
            [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
        }
        std::lock_guard lock(mutex_);
        if (quitting_) return;
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if (!(fds[i].revents & POLLIN)) continue;
            for (auto& o : networks_) {
                if (o->dnsmasq_pidfd != fds[i].fd || !o->active()) continue;
                // the fd number may have been reused by a dnsmasq started since the poll began
                pollfd again{o->dnsmasq_pidfd, POLLIN, 0};
                if (::poll(&again, 1, 0) != 1 || !(again.revents & POLLIN)) continue;
                pid_t old = o->dnsmasq_pid;
                ::close(o->dnsmasq_pidfd);
                o->dnsmasq_pidfd = -1;
                o->dnsmasq_pid = -1;
                log_("dnsmasq of network '" + o->live->name + "' (pid " + std::to_string(old) + ") exited: restarting it");
                try {
                    start_dnsmasq(*o);
                    log_("dnsmasq of network '" + o->live->name + "' restarted as pid " + std::to_string(o->dnsmasq_pid));
                } catch (const std::exception& e) {
                    log_("cannot restart dnsmasq of network '" + o->live->name + "': " + e.what());
                }
            }
        }
    }
}

// ---- the API ---------------------------------------------------------------------------------

int driver::num_of(bool active) {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count_if(networks_.begin(), networks_.end(), [&](const auto& o) { return o->active() == active; }));
}

std::vector<std::string> driver::names(bool active) {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& o : networks_)
        if (o->active() == active) out.push_back(o->current().name);
    return out;
}

std::vector<network_ref> driver::list_all(unsigned flags) {
    using namespace network_list_flags;
    if (flags & ~0x3fU)
        raise(error_code::invalid_arg, error_domain::network,
              "unsupported flags (0x" + [&] { char b[16]; std::snprintf(b, sizeof b, "%x", flags & ~0x3fU); return std::string(b); }() +
                  ") in function networkConnectListAllNetworks");
    auto pick = [&](unsigned yes, unsigned no, bool value) {
        if ((flags & (yes | no)) == 0 || (flags & (yes | no)) == (yes | no)) return true;
        return (flags & yes) ? value : !value;
    };
    std::lock_guard lock(mutex_);
    std::vector<network_ref> out;
    for (const auto& o : networks_) {
        if (!pick(active, inactive, o->active())) continue;
        if (!pick(persistent, transient, o->persistent)) continue;
        if (!pick(network_list_flags::autostart, no_autostart, o->autostart)) continue;
        out.push_back(o->ref());
    }
    return out;
}

network_ref driver::lookup_by_name(const std::string& name) {
    std::lock_guard lock(mutex_);
    if (auto o = find_name(name)) return o->ref();
    fail(error_code::no_network, "no network with matching name '" + name + "'");
}

network_ref driver::lookup_by_uuid(const virtpp::uuid& id) {
    std::lock_guard lock(mutex_);
    if (auto o = find_uuid(id)) return o->ref();
    fail(error_code::no_network, "no network with matching uuid '" + id.str() + "'");
}

network_ref driver::define(const std::string& xml) {
    auto def = xml::parse_network_xml(xml);
    std::lock_guard lock(mutex_);
    return assign(std::move(def), false);
}

network_ref driver::create_transient(const std::string& xml) {
    auto def = xml::parse_network_xml(xml);
    std::lock_guard lock(mutex_);
    return assign(std::move(def), true);
}

void driver::undefine(const network_ref& ref) {
    std::lock_guard lock(mutex_);
    auto o = get(ref);
    if (!o->persistent) fail(error_code::operation_invalid, "can't undefine transient network");
    std::string name = o->current().name;
    if (!remove_state(paths_.config_dir + "/" + name + ".xml"))
        fail(error_code::system_error, "cannot remove config file for network '" + name + "': " + std::strerror(errno));
    remove_state(paths_.autostart_dir + "/" + name + ".xml");
    o->autostart = false;
    o->next.reset();
    if (o->active()) {
        o->persistent = false;  // it runs on, as a transient network
        return;
    }
    auto f = files_of(paths_, name);
    for (const auto& file : {f.conf, f.hostsfile, f.addnhosts}) remove_state(file);
    std::erase(networks_, o);
}

void driver::start(const network_ref& ref) {
    std::lock_guard lock(mutex_);
    auto o = get(ref);
    start_locked(*o);
}

void driver::destroy(const network_ref& ref) {
    std::lock_guard lock(mutex_);
    auto o = get(ref);
    stop_locked(*o);
    if (!o->persistent) std::erase(networks_, o);
}

std::string driver::xml_desc(const network_ref& ref, unsigned flags) {
    if (flags & ~1U) {
        char b[16];
        std::snprintf(b, sizeof b, "%x", flags & ~1U);
        raise(error_code::invalid_arg, error_domain::network, std::string("unsupported flags (0x") + b + ") in function networkGetXMLDesc");
    }
    std::lock_guard lock(mutex_);
    auto o = get(ref);
    if ((flags & 1U) && o->next) return xml::format_network_xml(*o->next, {.inactive = true});
    if (flags & 1U) return xml::format_network_xml(o->config, {.inactive = true});
    return xml::format_network_xml(o->current());
}

std::string driver::bridge_name(const network_ref& ref) {
    std::lock_guard lock(mutex_);
    const auto& def = get(ref)->current();
    if (!def.bridge || !def.bridge->name)
        fail(error_code::internal_error, "network '" + def.name + "' does not have a bridge name.");
    return *def.bridge->name;
}

bool driver::get_autostart(const network_ref& ref) {
    std::lock_guard lock(mutex_);
    return get(ref)->autostart;
}

void driver::set_autostart(const network_ref& ref, bool on) {
    std::lock_guard lock(mutex_);
    auto o = get(ref);
    if (!o->persistent) fail(error_code::operation_invalid, "cannot set autostart for transient network");
    std::string name = o->current().name;
    std::string link = paths_.autostart_dir + "/" + name + ".xml";
    if (on && !o->autostart) {
        make_dirs(paths_.autostart_dir);
        replace_link(paths_.config_dir + "/" + name + ".xml", paths_.autostart_dir, name + ".xml");
    } else if (!on && o->autostart) {
        if (!remove_state(link))
            fail(error_code::system_error, "Failed to delete symlink '" + link + "': " + std::strerror(errno));
    }
    o->autostart = on;
}

bool driver::is_active(const network_ref& ref) {
    std::lock_guard lock(mutex_);
    return get(ref)->active();
}

bool driver::is_persistent(const network_ref& ref) {
    std::lock_guard lock(mutex_);
    return get(ref)->persistent;
}

void driver::update(const network_ref& ref, unsigned command, unsigned section, int parent_index, const std::string& text,
                    unsigned flags) {
    constexpr unsigned affect_live = 1, affect_config = 2;
    if (flags & ~3U) {
        char b[16];
        std::snprintf(b, sizeof b, "%x", flags & ~3U);
        raise(error_code::invalid_arg, error_domain::network, std::string("unsupported flags (0x") + b + ") in function networkUpdate");
    }
    check_update(command, section);
    std::lock_guard lock(mutex_);
    auto o = get(ref);
    bool live = (flags & affect_live) || (flags == 0 && o->active());
    bool config = (flags & affect_config) || (flags == 0 && !o->active());
    if (live && !o->active()) fail(error_code::operation_invalid, "network is not running");
    if (config && !o->persistent) fail(error_code::operation_invalid, "cannot change persistent config of a transient network");

    auto apply = [&](xml::network_def& def) { apply_update(def, command, section, parent_index, text); };
    xml::network_def new_live = o->live ? *o->live : xml::network_def{};
    xml::network_def new_config = o->next ? *o->next : o->config;
    if (live) apply(new_live);
    if (config) apply(new_config);
    if (config) {
        save_config(new_config);
        (o->next ? *o->next : o->config) = new_config;
    }
    if (live) {
        o->live = new_live;
        save_status(*o);
        constexpr unsigned section_dhcp_range = 5, section_forward_interface = 7, section_dns_txt = 11, section_dns_srv = 12;
        if (section == section_forward_interface) apply_firewall();
        if (o->dnsmasq_pid > 0) {
            if (section == section_dhcp_range || section == section_dns_txt || section == section_dns_srv) {
                // these are in dnsmasq's configuration file, which it reads only at start (libvirt
                // restarts it too)
                stop_dnsmasq(*o);
                start_dnsmasq(*o);
                wake_watcher();
            } else {
                write_dnsmasq_files(new_live);
                ::kill(o->dnsmasq_pid, SIGHUP);  // dnsmasq rereads its hosts files
            }
        }
    }
}

std::vector<lease> driver::leases(const network_ref& ref, const std::optional<std::string>& mac) {
    xml::network_def def;
    {
        std::lock_guard lock(mutex_);
        auto o = get(ref);
        def = o->current();
    }
    std::vector<lease> out;
    auto text = read_state(files_of(paths_, def.name).leases);
    if (!text) return out;
    std::istringstream in(*text);
    long long now = static_cast<long long>(std::time(nullptr));
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string expiry, hw, ip, host, client;
        if (!(fields >> expiry >> hw >> ip >> host >> client)) continue;
        if (expiry == "duid") continue;
        lease l;
        l.expiry_time = std::atoll(expiry.c_str());
        if (l.expiry_time != 0 && l.expiry_time < now) continue;
        l.iface = def.bridge && def.bridge->name ? *def.bridge->name : "";
        l.type = ip.find(':') != std::string::npos ? 1 : 0;
        l.mac = hw;
        l.ipaddr = ip;
        prefix_of_lease_subnet(def, ip, l.prefix);
        if (host != "*") l.hostname = host;
        if (client != "*") l.clientid = client;
        if (mac && *mac != l.mac) continue;
        out.push_back(std::move(l));
    }
    return out;
}

std::string driver::bridge_for_interface(const std::string& network_name) {
    std::lock_guard lock(mutex_);
    auto o = find_name(network_name);
    if (!o) fail(error_code::no_network, "no network with matching name '" + network_name + "'");
    if (!o->active()) fail(error_code::operation_invalid, "network '" + network_name + "' is not active");
    const auto& def = *o->live;
    if (def.bridge && def.bridge->name) return *def.bridge->name;
    if (def.forward && def.forward->dev) return *def.forward->dev;
    fail(error_code::internal_error, "network '" + network_name + "' has no bridge to connect a guest to");
}

pid_t driver::dnsmasq_pid(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto o = find_name(name);
    return o ? o->dnsmasq_pid : -1;
}

}  // namespace virtpp::hypervisor::network
