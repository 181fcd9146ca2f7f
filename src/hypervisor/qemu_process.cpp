// qemu processes and tap devices.
#include "hypervisor/qemu_process.hpp"

#include "hypervisor/qemu_detail.hpp"

#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <net/if_arp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace virtpp::hypervisor::qemu_detail {
namespace {

[[noreturn]] void fail_sys(std::string_view what) {
    int e = errno;
    fail(error_code::system_error, std::string(what) + ": " + std::strerror(e));
}

}  // namespace

pid_t spawn_process(const spawn_request& req) {
    // Everything the child needs is prepared here: between fork and exec only async-signal-safe calls.
    std::vector<std::string> args = req.argv;
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    // Copies above every target number, so placing them at 3.. never overwrites a source.
    std::vector<int> high;
    for (int fd : req.fds) {
        int h = ::fcntl(fd, F_DUPFD_CLOEXEC, 64);
        if (h < 0) {
            for (int x : high) ::close(x);
            fail_sys("cannot duplicate file descriptor");
        }
        high.push_back(h);
    }
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    cpu_set_t mask;
    CPU_ZERO(&mask);
    for (int c : req.cpus)
        if (c >= 0 && c < CPU_SETSIZE) CPU_SET(c, &mask);
    pid_t pid = ::fork();
    if (pid < 0) {
        for (int x : high) ::close(x);
        ::close(devnull);
        fail_sys("cannot fork qemu");
    }
    if (pid == 0) {
        sigset_t all;
        sigemptyset(&all);
        ::sigprocmask(SIG_SETMASK, &all, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        ::setsid();  // its own session: a terminal's signals meant for the daemon do not reach guests
        ::dup2(devnull, 0);
        if (req.log_fd >= 0) {
            ::dup2(req.log_fd, 1);
            ::dup2(req.log_fd, 2);
        }
        for (std::size_t i = 0; i < high.size(); ++i) ::dup2(high[i], static_cast<int>(3 + i));
        ::syscall(SYS_close_range, 3 + high.size(), ~0U, 0);
        if (!req.cpus.empty()) ::sched_setaffinity(0, sizeof mask, &mask);
        if (req.gid) {
            if (::setgroups(0, nullptr) != 0 && errno != EPERM) ::_exit(126);
            if (::setgid(*req.gid) != 0) ::_exit(126);
        }
        if (req.uid && ::setuid(*req.uid) != 0) ::_exit(126);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    for (int x : high) ::close(x);
    ::close(devnull);
    return pid;
}

int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

bool wait_pidfd(int pidfd, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{pidfd, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
        if (r > 0) return true;
        if (r == 0) return false;
        if (errno != EINTR) return true;
    }
}

void reap_pidfd(int pidfd) {
    siginfo_t info{};
    while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG) < 0 && errno == EINTR) {
    }
}

void terminate_process(pid_t pid, int pidfd, std::chrono::milliseconds grace) {
    if (pidfd < 0) return;
    ::syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, nullptr, 0);
    if (!wait_pidfd(pidfd, grace)) {
        ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
        wait_pidfd(pidfd, std::chrono::seconds(10));
    }
    (void)pid;
    reap_pidfd(pidfd);
}

tap_device create_tap(const std::string& name) {
    int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) fail_sys("Unable to open /dev/net/tun, is tun module loaded?");
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::string want = name.empty() ? std::string("vnet%d") : name;
    if (want.size() >= IFNAMSIZ) {
        ::close(fd);
        fail(error_code::config_unsupported, "tap device name '" + want + "' is too long");
    }
    std::memcpy(ifr.ifr_name, want.c_str(), want.size() + 1);
    if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        ::close(fd);
        fail(error_code::system_error, "Unable to create tap device " + want + ": " + std::strerror(e));
    }
    tap_device tap{ifr.ifr_name, fd};
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq up{};
    std::memcpy(up.ifr_name, tap.name.c_str(), tap.name.size() + 1);
    if (s >= 0 && ::ioctl(s, SIOCGIFFLAGS, &up) == 0) {
        up.ifr_flags |= IFF_UP;
        ::ioctl(s, SIOCSIFFLAGS, &up);
    }
    if (s >= 0) ::close(s);
    return tap;
}

void set_tap_mac(const std::string& tap, const std::string& guest_mac) {
    unsigned v[6] = {};
    if (std::sscanf(guest_mac.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return;
    ifreq ifr{};
    if (tap.size() >= IFNAMSIZ) return;
    std::memcpy(ifr.ifr_name, tap.c_str(), tap.size() + 1);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    ifr.ifr_hwaddr.sa_data[0] = static_cast<char>(0xFE);
    for (int i = 1; i < 6; ++i) ifr.ifr_hwaddr.sa_data[i] = static_cast<char>(v[i]);
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail_sys("cannot open a control socket");
    if (::ioctl(s, SIOCSIFHWADDR, &ifr) < 0) {
        int e = errno;
        ::close(s);
        fail(error_code::system_error, "Cannot set interface MAC on '" + tap + "': " + std::strerror(e));
    }
    ::close(s);
}

void add_to_bridge(const std::string& tap, const std::string& bridge) {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail_sys("cannot open a control socket");
    ifreq ifr{};
    if (bridge.size() >= IFNAMSIZ) {
        ::close(s);
        fail(error_code::config_unsupported, "bridge name '" + bridge + "' is too long");
    }
    std::memcpy(ifr.ifr_name, bridge.c_str(), bridge.size() + 1);
    ifr.ifr_ifindex = static_cast<int>(::if_nametoindex(tap.c_str()));
    if (::ioctl(s, SIOCBRADDIF, &ifr) < 0) {
        int e = errno;
        ::close(s);
        fail(error_code::system_error, "Unable to add bridge " + bridge + " port " + tap + ": " + std::strerror(e));
    }
    ::close(s);
}

void run_interface_script(const std::string& script, const std::string& tap) {
    pid_t pid = ::fork();
    if (pid < 0) fail_sys("cannot fork interface script");
    if (pid == 0) {
        ::execl(script.c_str(), script.c_str(), tap.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail(error_code::internal_error, "Child process (" + script + " " + tap + ") unexpected exit status " +
                                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)));
}

std::optional<std::vector<std::int64_t>> host_interface_counters(const std::string& name) {
    if (name.empty() || name.find('/') != std::string::npos) return std::nullopt;
    static constexpr const char* fields[] = {"rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
                                             "tx_bytes", "tx_packets", "tx_errors", "tx_dropped"};
    std::vector<std::int64_t> out;
    for (const char* f : fields) {
        auto text = read_file("/sys/class/net/" + name + "/statistics/" + f);
        if (!text) return std::nullopt;
        out.push_back(std::stoll(*text));
    }
    return out;
}

}  // namespace virtpp::hypervisor::qemu_detail
