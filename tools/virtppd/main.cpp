// virtppd: the virtpp daemon. Serves libvirt's remote protocol (stock virsh, python3-libvirt and
// Sys::Virt talk to it) for every driver compiled in, with libvirtd 9.0's options and
// configuration file. See docs/daemon.md.
#include <virtpp/any.hpp>
#include <virtpp/hypervisor/qemu.hpp>
#include <virtpp/hypervisor/test.hpp>
#include <virtpp/hypervisor/xen.hpp>
#include <virtpp/rpc/server.hpp>
#include <virtpp/version.hpp>

#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace {

using drivers = virtpp::driver_list<virtpp::driver<virtpp::hypervisor::test>, virtpp::driver<virtpp::hypervisor::qemu>,
                                    virtpp::driver<virtpp::hypervisor::xen>>;

/// The QEMU driver of this daemon (qemu:///system as root, qemu:///session otherwise), held for
/// the daemon's life once loaded, as libvirtd's state drivers are: guests' events (power-off,
/// crash, on_poweroff restart) are handled while no client is connected, and a restarted daemon
/// re-attaches to the guests that kept running. It is loaded at start-up when there is state to
/// take over (so autostart guests start with the daemon), else by the first qemu:// connection,
/// so that a root daemon serving only test:/// does not create /etc/libvirt/qemu.
class qemu_holder {
public:
    explicit qemu_holder(virtpp::daemon::logger& log) : log_(log) {}

    static const char* own_uri() { return ::geteuid() == 0 ? "qemu:///system" : "qemu:///session"; }

    static bool has_state() {
        if (const char* dir = std::getenv("VIRTPP_QEMU_STATE_DIR"); dir != nullptr && *dir != '\0') return true;
        if (::geteuid() != 0) return true;  // the user's own directories: libvirt's session daemon makes them too
        return ::access("/etc/libvirt/qemu", F_OK) == 0 || ::access("/run/libvirt/qemu", F_OK) == 0;
    }

    void load() {
        std::lock_guard lock(mutex_);
        if (state_ || failed_) return;
        try {
            state_ = virtpp::hypervisor::qemu::open(virtpp::uri::parse(own_uri()), 0);
        } catch (const std::exception& e) {
            failed_ = true;
            log_.write(3, std::string("QEMU driver (") + own_uri() + ") not loaded: " + e.what());
        }
    }

    /// Running guests, 0 before the driver is loaded.
    int running_guests() {
        std::shared_ptr<virtpp::hypervisor::qemu::state> s;
        {
            std::lock_guard lock(mutex_);
            s = state_;
        }
        if (!s) return 0;
        try {
            return s->perform(virtpp::op::connect_num_of_domains{}, {});
        } catch (const std::exception&) {
            return 0;
        }
    }

    /// SIGHUP: the loaded driver reads its guest and network definitions again (one not loaded
    /// yet reads them when it loads).
    void reload() {
        std::shared_ptr<virtpp::hypervisor::qemu::state> s;
        {
            std::lock_guard lock(mutex_);
            s = state_;
        }
        if (!s) return;
        try {
            s->reload();
            log_.write(2, std::string("SIGHUP: ") + own_uri() + " definitions reloaded");
        } catch (const std::exception& e) {
            log_.write(4, std::string("SIGHUP: ") + own_uri() + " definitions not reloaded: " + e.what());
        }
    }

    /// Guests keep running: dropping the driver only detaches from them.
    void release() {
        std::lock_guard lock(mutex_);
        state_.reset();
    }

private:
    virtpp::daemon::logger& log_;
    std::mutex mutex_;
    std::shared_ptr<virtpp::hypervisor::qemu::state> state_;
    bool failed_ = false;
};

/// -t: exit once there has been no client and no running guest for the timeout (libvirt's
/// daemons are held up by the QEMU driver while it has running guests).
class idle_watch {
public:
    idle_watch(virtpp::daemon::server& srv, qemu_holder* qemu, int timeout, virtpp::daemon::logger& log)
        : thread_([this, &srv, qemu, timeout, &log] { watch(srv, qemu, timeout, log); }) {}
    ~idle_watch() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    idle_watch(const idle_watch&) = delete;
    idle_watch& operator=(const idle_watch&) = delete;

private:
    void watch(virtpp::daemon::server& srv, qemu_holder* qemu, int timeout, virtpp::daemon::logger& log) {
        using clock = std::chrono::steady_clock;
        auto idle_since = clock::now();
        std::unique_lock lock(mutex_);
        while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return done_; })) {
            int guests = qemu->running_guests();
            if (srv.client_count() != 0 || guests != 0) {
                idle_since = clock::now();
                continue;
            }
            if (clock::now() - idle_since >= std::chrono::seconds(timeout)) {
                log.write(2, "no clients and no running guests for " + std::to_string(timeout) + " seconds: exiting");
                srv.stop();
                return;
            }
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

void usage(std::FILE* out, const char* argv0) {
    std::fprintf(out,
                 "\nUsage:\n  %s [options]\n\n"
                 "Options:\n"
                 "  -h | --help            Display program help\n"
                 "  -v | --verbose         Verbose messages\n"
                 "  -d | --daemon          Run as a daemon & write PID file\n"
                 "  -l | --listen          Listen for TCP/IP connections\n"
                 "  -t | --timeout <secs>  Exit after timeout period\n"
                 "  -f | --config <file>   Configuration file\n"
                 "  -V | --version         Display version information\n"
                 "  -p | --pid-file <file> Change name of PID file\n\n"
                 "virtpp management daemon (libvirt remote protocol):\n\n"
                 "  Default paths:\n\n"
                 "    Configuration file (unless overridden by -f):\n      %s\n\n"
                 "    Sockets:\n      %s/libvirt-sock\n      %s/libvirt-sock-ro\n\n"
                 "    TLS:\n      CA certificate: /etc/pki/CA/cacert.pem\n"
                 "      Server certificate: /etc/pki/libvirt/servercert.pem\n"
                 "      Server private key: /etc/pki/libvirt/private/serverkey.pem\n\n"
                 "    PID file (unless overridden by -p):\n      %s\n\n",
                 argv0, VIRTPP_SYSCONFDIR "/virtpp/virtppd.conf, else /etc/libvirt/libvirtd.conf (root)\n"
                 "      $XDG_CONFIG_HOME/virtpp/virtppd.conf, else $XDG_CONFIG_HOME/libvirt/libvirtd.conf",
                 virtpp::daemon::default_unix_sock_dir().c_str(), virtpp::daemon::default_unix_sock_dir().c_str(),
                 "/run/virtppd.pid (root) or $XDG_RUNTIME_DIR/libvirt/virtppd.pid");
}

/// The package's own file (SYSCONFDIR/virtpp/virtppd.conf, or the user's virtpp/virtppd.conf)
/// when it exists, else libvirtd's, so that an installed virtppd never edits libvirt's files.
std::string default_config_path() {
    std::string user_dir;
    if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x != '\0') user_dir = x;
    else if (const char* h = std::getenv("HOME"); h != nullptr) user_dir = std::string(h) + "/.config";
    bool root = ::geteuid() == 0 || user_dir.empty();
    std::string own = root ? std::string(VIRTPP_SYSCONFDIR) + "/virtpp/virtppd.conf" : user_dir + "/virtpp/virtppd.conf";
    if (::access(own.c_str(), F_OK) == 0) return own;
    return root ? "/etc/libvirt/libvirtd.conf" : user_dir + "/libvirt/libvirtd.conf";
}

std::string default_pid_path() {
    if (::geteuid() == 0) return "/run/virtppd.pid";
    return virtpp::daemon::user_runtime_base() + "/libvirt/virtppd.pid";  // beside the sockets, as libvirtd's
}

/// Written to a temporary file in the same directory, then renamed: readers never see half a pid.
bool write_pid_file(const std::string& path, std::string& why) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);  // a fresh runtime directory
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        why = "cannot create " + tmp + ": " + std::strerror(errno);
        return false;
    }
    std::string text = std::to_string(::getpid()) + "\n";
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ok = (::close(fd) == 0) && ok;
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        why = "cannot write " + path + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    return true;
}

template <class... Ds>
std::string driver_names(virtpp::driver_list<Ds...>) {
    std::string names;
    ((names += " " + std::string(Ds::hypervisor::name)), ...);
    return names;
}

/// -V: the version and every driver compiled in; the remote driver is the daemon's own server.
void print_version() {
    std::printf("virtppd (virtpp) %s\n\n", VIRTPP_VERSION_STRING);
    std::printf("Compiled with support for:\n");
    std::printf(" Hypervisors:%s\n", driver_names(drivers{}).c_str());
    std::printf(" Remote: Remote (libvirt RPC program 0x20008086 v1 on unix, tcp and tls sockets; systemd socket activation)\n");
    std::printf(" Logging: stderr file syslog journald\n");
}

/// log_filters, which the library's configuration reader accepts without keeping.
std::string read_log_filters(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& entry : virtpp::daemon::parse_conf(text.str(), path))
        if (entry.key == "log_filters")
            if (const auto* v = std::get_if<std::string>(&entry.value.data)) return *v;
    return {};
}

/// Journal sockets exist where systemd runs.
bool journal_available() { return ::access(virtpp::daemon::journal_socket_path().c_str(), W_OK) == 0; }

/// True when systemd connected stderr to the journal (JOURNAL_STREAM names stderr's device:inode).
bool stderr_is_journal() {
    const char* env = std::getenv("JOURNAL_STREAM");
    struct stat st{};
    if (env == nullptr || ::fstat(STDERR_FILENO, &st) != 0) return false;
    return std::string(env) == std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

/// Without log_outputs: a daemon (-d) logs to the journal where systemd runs, else to syslog —
/// never nowhere; in the foreground to stderr, or to the journal when stderr is the journal.
std::string default_log_output(int level, bool daemon) {
    std::string l = std::to_string(level);
    if (daemon) return journal_available() ? l + ":journald" : l + ":syslog:virtppd";
    if (stderr_is_journal() && journal_available()) return l + ":journald";
    return l + ":stderr";
}

/// sd_notify(3) over $NOTIFY_SOCKET ("@name" is an abstract socket), written here so virtppd
/// needs no libsystemd. Nothing happens when the variable is unset.
void notify_systemd(const std::string& state) {
    // read once: the variable is removed from the environment after READY, for child processes
    static const std::string socket_path = std::getenv("NOTIFY_SOCKET") != nullptr ? std::getenv("NOTIFY_SOCKET") : "";
    const char* path = socket_path.c_str();
    if (path[0] != '/' && path[0] != '@') return;
    sockaddr_un addr{};
    std::size_t len = std::strlen(path);
    if (len >= sizeof addr.sun_path) return;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path, len);
    if (path[0] == '@') addr.sun_path[0] = '\0';
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    (void)::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
                   static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
    ::close(fd);
}

/// sd_listen_fds(3): the listening unix sockets systemd passed (fds 3.., LISTEN_PID our pid). The
/// read-only one is the one whose path ends in "-ro" (or is named so in LISTEN_FDNAMES). The
/// variables are removed so that processes the daemon starts do not take them for theirs.
std::vector<virtpp::daemon::activated_socket> activated_sockets(std::string& why) {
    std::vector<virtpp::daemon::activated_socket> out;
    const char* pid = std::getenv("LISTEN_PID");
    const char* fds = std::getenv("LISTEN_FDS");
    std::string names = std::getenv("LISTEN_FDNAMES") != nullptr ? std::getenv("LISTEN_FDNAMES") : "";
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    if (pid == nullptr || fds == nullptr) return out;
    if (std::string(pid) != std::to_string(::getpid())) return out;  // meant for another process
    char* end = nullptr;
    long n = std::strtol(fds, &end, 10);
    if (*fds == '\0' || *end != '\0' || n < 0 || n > 16) {
        why = std::string("LISTEN_FDS='") + fds + "' is not a number of sockets";
        return out;
    }
    std::vector<std::string> fd_names;
    for (std::size_t start = 0; start <= names.size();) {
        auto colon = names.find(':', start);
        if (colon == std::string::npos) colon = names.size();
        fd_names.push_back(names.substr(start, colon - start));
        start = colon + 1;
    }
    for (int i = 0; i < n; ++i) {
        int fd = 3 + i;  // SD_LISTEN_FDS_START
        sockaddr_un addr{};
        socklen_t len = sizeof addr;
        int type = 0, listening = 0;
        socklen_t optlen = sizeof type;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || addr.sun_family != AF_UNIX ||
            ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &optlen) != 0 || type != SOCK_STREAM ||
            (optlen = sizeof listening, ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen)) != 0 || !listening) {
            why = "socket activation: fd " + std::to_string(fd) + " is not a listening unix stream socket";
            out.clear();
            return out;
        }
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        virtpp::daemon::activated_socket a;
        a.fd = fd;
        std::size_t path_len = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
        a.path = std::string(addr.sun_path, strnlen(addr.sun_path, path_len));
        std::string name = static_cast<std::size_t>(i) < fd_names.size() ? fd_names[static_cast<std::size_t>(i)] : "";
        a.read_only = a.path.ends_with("-ro") || name.ends_with("-ro.socket") || name.ends_with("-ro");
        out.push_back(std::move(a));
    }
    return out;
}

/// SIGHUP reloads the configuration (as libvirtd's SIGHUP reloads, instead of ending the
/// daemon). The handler only writes a byte to a pipe; this thread does the work.
class reload_watch {
public:
    explicit reload_watch(std::function<void()> reload) : reload_(std::move(reload)) {
        if (::pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
        signal_pipe_ = pipe_[1];
        struct sigaction sa{};
        sa.sa_handler = [](int) {
            int saved = errno;
            (void)!::write(signal_pipe_, "h", 1);
            errno = saved;
        };
        ::sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        ::sigaction(SIGHUP, &sa, nullptr);
        thread_ = std::thread([this] { watch(); });
    }
    ~reload_watch() {
        std::signal(SIGHUP, SIG_IGN);  // from now on a SIGHUP neither reloads nor kills a stopping daemon
        stop_ = true;
        (void)!::write(pipe_[1], "q", 1);
        thread_.join();
        ::close(pipe_[0]);
        ::close(pipe_[1]);
    }
    reload_watch(const reload_watch&) = delete;
    reload_watch& operator=(const reload_watch&) = delete;

private:
    void watch() {
        while (!stop_) {
            pollfd p{pipe_[0], POLLIN, 0};
            if (::poll(&p, 1, -1) < 0) continue;
            char buf[16];
            ssize_t n = ::read(pipe_[0], buf, sizeof buf);
            if (stop_) return;
            if (n > 0 && std::memchr(buf, 'h', static_cast<std::size_t>(n)) != nullptr) reload_();
        }
    }

    static inline int signal_pipe_ = -1;
    std::function<void()> reload_;
    int pipe_[2] = {-1, -1};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

/// -d: detach; the parent exits once the child reports it is serving (or why it is not).
int daemonize(int& ready_fd) {
    int fds[2];
    if (::pipe(fds) != 0) return -1;
    pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid > 0) {
        ::close(fds[1]);
        char status = 1;
        if (::read(fds[0], &status, 1) != 1) status = 1;
        ::waitpid(pid, nullptr, WNOHANG);
        std::_Exit(status == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
    }
    ::close(fds[0]);
    ::setsid();
    pid = ::fork();
    if (pid < 0) std::_Exit(EXIT_FAILURE);
    if (pid > 0) std::_Exit(EXIT_SUCCESS);  // the grandchild serves; the reader waits on the pipe
    if (::chdir("/") != 0) std::_Exit(EXIT_FAILURE);
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
        ::dup2(null, STDIN_FILENO);
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);  // as libvirtd -d: log to a file (log_outputs) to keep the lines
        ::close(null);
    }
    ready_fd = fds[1];
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    bool verbose = false, daemon = false, listen = false;
    int timeout = 0;
    std::optional<std::string> config_path, pid_path;
    // libvirtd's parser: getopt_long, so short options combine (-ld, -vt 1, -t1)
    static const option long_options[] = {
        {"verbose", no_argument, nullptr, 'v'},   {"daemon", no_argument, nullptr, 'd'},
        {"listen", no_argument, nullptr, 'l'},    {"config", required_argument, nullptr, 'f'},
        {"timeout", required_argument, nullptr, 't'}, {"pid-file", required_argument, nullptr, 'p'},
        {"version", no_argument, nullptr, 'V'},   {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    int arg = 0;
    while ((arg = getopt_long(argc, argv, "hvdlt:f:Vp:", long_options, nullptr)) != -1) {
        switch (arg) {
        case 'h': usage(stdout, argv[0]); return EXIT_SUCCESS;
        case 'V': print_version(); return EXIT_SUCCESS;
        case 'v': verbose = true; break;
        case 'd': daemon = true; break;
        case 'l': listen = true; break;
        case 't': {
            char* end = nullptr;
            errno = 0;
            long t = std::strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || errno != 0 || t < 0 || t > 1000000) {
                std::fprintf(stderr, "%s: Invalid value for timeout\n", argv[0]);
                return EXIT_FAILURE;
            }
            timeout = static_cast<int>(t);
            break;
        }
        case 'f': config_path = optarg; break;
        case 'p': pid_path = optarg; break;
        default:  // getopt_long printed what is wrong
            usage(stderr, argv[0]);
            return EXIT_FAILURE;
        }
    }
    if (optind != argc) {
        std::fprintf(stderr, "%s: unexpected, non-option, command line arguments\n", argv[0]);
        return EXIT_FAILURE;
    }

    if (config_path) config_path = std::filesystem::absolute(*config_path).string();
    else if (auto def = default_config_path(); ::access(def.c_str(), R_OK) == 0) config_path = def;
    virtpp::daemon::daemon_config config;
    std::string log_filters;
    try {
        if (config_path) {
            config = virtpp::daemon::read_config_file(*config_path);
            log_filters = read_log_filters(*config_path);
        }
    } catch (const virtpp::daemon::config_error& e) {
        std::fprintf(stderr, "%s: error: Unable to load configuration file: %s\n", argv[0], e.what());
        return EXIT_FAILURE;
    }

    // -v: info lines (libvirtd's verbose), and every call when log_level asks for debug
    int level = static_cast<int>(config.log_level);
    if (verbose) level = 1;
    auto log = std::make_unique<virtpp::daemon::logger>(level);
    try {
        log->configure(level, log_filters, config.log_outputs.empty() ? default_log_output(level, daemon) : config.log_outputs);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: error: %s\n", argv[0], e.what());
        return EXIT_FAILURE;
    }
    for (const auto& key : config.ignored_keys)
        if (key != "log_filters")  // read here, beside the library's configuration
            log->write(3, "configuration key '" + key + "' is accepted but virtppd does not act on it yet");
    for (const auto& warning : config.warnings) log->write(3, warning);

    if (!pid_path && daemon) pid_path = default_pid_path();
    if (pid_path) pid_path = std::filesystem::absolute(*pid_path).string();

    std::string activation_error;
    auto activated = activated_sockets(activation_error);
    if (!activation_error.empty()) {
        log->write(4, activation_error);
        std::fprintf(stderr, "%s: error: %s\n", argv[0], activation_error.c_str());
        return EXIT_FAILURE;
    }

    int ready_fd = -1;
    if (daemon && daemonize(ready_fd) != 0) {
        std::fprintf(stderr, "%s: error: cannot fork into the background: %s\n", argv[0], std::strerror(errno));
        return EXIT_FAILURE;
    }
    auto report_ready = [&](bool ok) {
        if (ready_fd < 0) return;
        char status = ok ? 0 : 1;
        (void)!::write(ready_fd, &status, 1);
        ::close(ready_fd);
        ready_fd = -1;
    };

    std::signal(SIGPIPE, SIG_IGN);
    virtpp::set_error_handler([&log](const virtpp::error_info& e) { log->write(1, "driver error: " + e.message); });

    virtpp::daemon::server_options options;
    options.config = config;
    options.listen = listen;
    options.timeout_seconds = 0;  // the idle_watch below also counts running guests
    options.log = log.get();
    options.activated = std::move(activated);
    qemu_holder qemu_driver(*log);
    options.open = [&qemu_driver](const std::string& name, unsigned flags) {
        // a client's virConnectOpen(NULL): the daemon's own default (libvirt.conf, then the
        // drivers' probe), opened by its name so that the connection reports the URI it took
        std::string chosen = name;
        if (chosen.empty()) {
            chosen = virtpp::resolve_connect_name("");
            if (chosen.empty()) chosen = virtpp::hypervisor::qemu::probe_uri().value_or("");
        }
        auto conn = virtpp::any_connection::open<drivers>(chosen, flags);
        if (conn.driver_name() == virtpp::hypervisor::qemu::name) qemu_driver.load();
        return conn;
    };

    std::unique_ptr<virtpp::daemon::server> srv;
    try {
        srv = std::make_unique<virtpp::daemon::server>(std::move(options));
    } catch (const std::exception& e) {
        log->write(4, std::string("cannot start: ") + e.what());
        if (!daemon) std::fprintf(stderr, "%s: error: %s\n", argv[0], e.what());
        report_ready(false);
        return EXIT_FAILURE;
    }
    if (pid_path) {
        std::string why;
        if (!write_pid_file(*pid_path, why)) {
            log->write(4, why);
            if (!daemon) std::fprintf(stderr, "%s: error: %s\n", argv[0], why.c_str());
            report_ready(false);
            return EXIT_FAILURE;
        }
    }
    if (qemu_holder::has_state()) qemu_driver.load();
    log->write(2, std::string("virtppd ") + VIRTPP_VERSION_STRING + " (libvirt API 9.0.0) started");
    report_ready(true);
    notify_systemd("READY=1\nMAINPID=" + std::to_string(::getpid()) + "\nSTATUS=serving");
    ::unsetenv("NOTIFY_SOCKET");  // the QEMU processes the daemon starts are not the service
    {
        // SIGHUP: the configuration file is read again; its log settings take effect (listeners,
        // TLS and limits stay as they are, as in libvirtd), and the drivers' definitions are
        // read again from disk (libvirtd's virStateReload)
        reload_watch reloader([&] {
            notify_systemd("RELOADING=1");
            if (!config_path) {
                log->write(2, "SIGHUP: no configuration file to reload");
            } else {
                try {
                    auto fresh = virtpp::daemon::read_config_file(*config_path);
                    int fresh_level = verbose ? 1 : static_cast<int>(fresh.log_level);
                    log->configure(fresh_level, read_log_filters(*config_path),
                                   fresh.log_outputs.empty() ? default_log_output(fresh_level, daemon) : fresh.log_outputs);
                    log->write(2, "SIGHUP: configuration reloaded from " + *config_path);
                } catch (const std::exception& e) {
                    log->write(4, "SIGHUP: configuration not reloaded, the previous one stays: " + std::string(e.what()));
                }
            }
            qemu_driver.reload();
            notify_systemd("READY=1");
        });
        std::optional<idle_watch> idle;
        if (timeout > 0) idle.emplace(*srv, &qemu_driver, timeout, *log);
        srv->run();
    }
    notify_systemd("STOPPING=1");
    srv.reset();
    qemu_driver.release();
    if (pid_path) ::unlink(pid_path->c_str());
    log->write(2, "virtppd stopped");
    return EXIT_SUCCESS;
}
