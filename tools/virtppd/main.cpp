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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

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
                 argv0, "/etc/libvirt/libvirtd.conf (root) or $XDG_CONFIG_HOME/libvirt/libvirtd.conf",
                 virtpp::daemon::default_unix_sock_dir().c_str(), virtpp::daemon::default_unix_sock_dir().c_str(),
                 "/run/virtppd.pid (root) or $XDG_RUNTIME_DIR/libvirt/virtppd.pid");
}

std::string default_config_path() {
    if (::geteuid() == 0) return "/etc/libvirt/libvirtd.conf";
    if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x != '\0') return std::string(x) + "/libvirt/libvirtd.conf";
    if (const char* h = std::getenv("HOME"); h != nullptr) return std::string(h) + "/.config/libvirt/libvirtd.conf";
    return "/etc/libvirt/libvirtd.conf";
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

std::optional<std::string> option_value(int& i, int argc, char** argv, const std::string& arg, const char* shortopt,
                                        const char* longopt) {
    std::string s(arg);
    if (s == shortopt || s == longopt) {
        if (i + 1 >= argc) {
            std::fprintf(stderr, "%s: option '%s' requires an argument\n", argv[0], s.c_str());
            std::exit(EXIT_FAILURE);
        }
        return std::string(argv[++i]);
    }
    std::string eq = std::string(longopt) + "=";
    if (s.rfind(eq, 0) == 0) return s.substr(eq.size());
    if (s.size() > 2 && s.rfind(shortopt, 0) == 0 && s[1] != '-') return s.substr(2);
    return std::nullopt;
}

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
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            usage(stdout, argv[0]);
            return EXIT_SUCCESS;
        } else if (a == "-V" || a == "--version") {
            std::printf("virtppd (virtpp) %s\n", VIRTPP_VERSION_STRING);
            return EXIT_SUCCESS;
        } else if (a == "-v" || a == "--verbose") {
            verbose = true;
        } else if (a == "-d" || a == "--daemon") {
            daemon = true;
        } else if (a == "-l" || a == "--listen") {
            listen = true;
        } else if (auto v = option_value(i, argc, argv, a, "-t", "--timeout")) {
            char* end = nullptr;
            errno = 0;
            long t = std::strtol(v->c_str(), &end, 10);
            if (v->empty() || *end != '\0' || errno != 0 || t < 0 || t > 1000000) {
                std::fprintf(stderr, "%s: Invalid value for timeout\n", argv[0]);
                return EXIT_FAILURE;
            }
            timeout = static_cast<int>(t);
        } else if (auto f = option_value(i, argc, argv, a, "-f", "--config")) {
            config_path = *f;
        } else if (auto p = option_value(i, argc, argv, a, "-p", "--pid-file")) {
            pid_path = *p;
        } else {
            std::fprintf(stderr, "%s: unrecognized option '%s'\n", argv[0], a.c_str());
            usage(stderr, argv[0]);
            return EXIT_FAILURE;
        }
    }

    virtpp::daemon::daemon_config config;
    try {
        if (config_path) {
            config = virtpp::daemon::read_config_file(std::filesystem::absolute(*config_path).string());
        } else if (auto def = default_config_path(); ::access(def.c_str(), R_OK) == 0) {
            config = virtpp::daemon::read_config_file(def);
        }
    } catch (const virtpp::daemon::config_error& e) {
        std::fprintf(stderr, "%s: error: Unable to load configuration file: %s\n", argv[0], e.what());
        return EXIT_FAILURE;
    }

    // connections, refusals and protocol errors are info/warning lines; -v shows each call too
    int level = verbose ? 1 : std::min<int>(static_cast<int>(config.log_level), 2);
    std::unique_ptr<virtpp::daemon::logger> log;
    try {
        auto& out = config.log_outputs;
        if (auto pos = out.find(":file:"); pos != std::string::npos)
            log = std::make_unique<virtpp::daemon::logger>(level, out.substr(pos + 6, out.find(' ', pos) - (pos + 6)));
        else
            log = std::make_unique<virtpp::daemon::logger>(level);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: error: %s\n", argv[0], e.what());
        return EXIT_FAILURE;
    }
    for (const auto& key : config.ignored_keys) log->write(3, "configuration key '" + key + "' is accepted but virtppd does not act on it yet");

    if (!pid_path && daemon) pid_path = default_pid_path();
    if (pid_path) pid_path = std::filesystem::absolute(*pid_path).string();

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
    qemu_holder qemu_driver(*log);
    options.open = [&qemu_driver](const std::string& name, unsigned flags) {
        auto conn = virtpp::any_connection::open<drivers>(name, flags);
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
    {
        std::optional<idle_watch> idle;
        if (timeout > 0) idle.emplace(*srv, &qemu_driver, timeout, *log);
        srv->run();
    }
    srv.reset();
    qemu_driver.release();
    if (pid_path) ::unlink(pid_path->c_str());
    log->write(2, "virtppd stopped");
    return EXIT_SUCCESS;
}
