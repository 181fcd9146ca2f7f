// The user daemon of session URIs: which socket, and starting virtppd when nobody listens there.
#include "rpc/session_autostart.hpp"

#include <virtpp/error.hpp>
#include <virtpp/runtime_dirs.hpp>

#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

extern char** environ;

namespace virtpp::rpc {

namespace {

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return (v != nullptr) ? std::string(v) : std::string();
}


/// One connect() attempt; the errno of the failure, 0 when connected (fd then owned by out).
int try_connect(const std::string& path, int& out) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno;
    int rc;
    do {
        rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        out = fd;
        return 0;
    }
    int err = errno;
    ::close(fd);
    return err;
}

/// Starts the daemon detached (its own session, stdio on /dev/null) and reaps the intermediate
/// child, as libvirt's virCommandDaemonize does; the daemon then outlives this client.
void spawn_daemon(const std::string& program, int timeout, const std::string& runtime_base) {
    std::string timeout_arg = "--timeout=" + std::to_string(timeout);
    // The daemon must find the same runtime directory: glib's fallback, made explicit.
    std::vector<std::string> env_store;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e)
        if (std::strncmp(*e, "XDG_RUNTIME_DIR=", 16) != 0) env_store.emplace_back(*e);
    env_store.push_back("XDG_RUNTIME_DIR=" + runtime_base);
    std::vector<char*> envp;
    for (auto& s : env_store) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<char*> argv{const_cast<char*>(program.c_str()), timeout_arg.data(), nullptr};

    pid_t pid = ::fork();
    if (pid < 0) raise(error_code::system_error, error_domain::rpc, std::string("cannot fork child process: ") + std::strerror(errno));
    if (pid == 0) {
        ::setsid();
        if (::fork() != 0) ::_exit(0);
        int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) {
            ::dup2(null, STDIN_FILENO);
            ::dup2(null, STDOUT_FILENO);
            ::dup2(null, STDERR_FILENO);
            if (null > STDERR_FILENO) ::close(null);
        }
        if (::chdir("/") != 0) ::_exit(127);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

}  // namespace

std::optional<user_daemon> user_daemon_for(const virtpp::uri& u, unsigned /*flags*/) {
    if (::geteuid() == 0 || u.socket_path() || u.has_host()) return std::nullopt;
    // the default URI of a user: the session daemon, which then probes (libvirt's remote driver
    // connects a user's virConnectOpen(NULL) to the session daemon, starting it when needed)
    if (u.kind() != virtpp::uri::form::standard && !u.is_default()) return std::nullopt;
    bool session = u.is_default() || u.path() == "/session" || u.scheme().rfind("test+", 0) == 0;
    if (!session) return std::nullopt;
    user_daemon d;
    d.runtime_dir = virtpp::user_runtime_base() + "/libvirt";
    d.socket = d.runtime_dir + "/libvirt-sock";  // the user daemon has no read-only socket
    auto autostart = env_or_empty("LIBVIRT_AUTOSTART");
    d.autostart = autostart != "0";
    return d;
}

std::string session_daemon_path() {
    if (auto p = env_or_empty("VIRTPPD_PATH"); !p.empty()) return p;
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto beside = self.parent_path() / "virtppd";
        if (::access(beside.c_str(), X_OK) == 0) return beside.string();
    }
    for (auto path = env_or_empty("PATH"); !path.empty();) {
        auto colon = path.find(':');
        std::string dir = path.substr(0, colon);
        path = colon == std::string::npos ? std::string() : path.substr(colon + 1);
        if (dir.empty()) continue;
        std::string candidate = dir + "/virtppd";
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    raise(error_code::internal_error, error_domain::rpc, "Unable to find 'virtppd' binary in $PATH: No such file or directory");
}

int session_daemon_timeout() {
    auto text = env_or_empty("VIRTPP_SESSION_DAEMON_TIMEOUT");
    if (text.empty()) return 120;
    char* end = nullptr;
    long v = std::strtol(text.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > 1000000)
        raise(error_code::invalid_arg, error_domain::rpc, "VIRTPP_SESSION_DAEMON_TIMEOUT must be a number of seconds, not '" + text + "'");
    return static_cast<int>(v);
}

std::unique_ptr<fd_stream> connect_user_daemon(const user_daemon& d) {
    if (d.socket.size() >= sizeof(sockaddr_un{}.sun_path))
        raise(error_code::internal_error, error_domain::rpc, "Path " + d.socket + " too long for unix socket");
    int fd = -1;
    int err = try_connect(d.socket, fd);
    if (err == 0) return std::make_unique<fd_stream>(fd);
    if (!d.autostart || (err != ENOENT && err != ECONNREFUSED))
        raise_system(err, "Failed to connect socket to '" + d.socket + "'");

    // Only one client starts the daemon: the others wait on the lock, then find it listening.
    std::error_code ec;
    std::filesystem::create_directories(d.runtime_dir, ec);
    if (ec) raise_system(ec.value(), "Cannot create user runtime directory '" + d.runtime_dir + "'");
    ::chmod(d.runtime_dir.c_str(), 0700);
    std::string program = session_daemon_path();
    int timeout = session_daemon_timeout();
    std::string lock_path = d.runtime_dir + "/" + std::filesystem::path(program).filename().string() + ".lock";
    int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) raise_system(errno, "Unable to create lock '" + lock_path + "'");
    struct flock lk {};
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    lk.l_len = 1;
    while (::fcntl(lock_fd, F_SETLKW, &lk) < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        ::close(lock_fd);
        raise_system(e, "Unable to lock '" + lock_path + "'");
    }
    auto release = [&] {
        ::unlink(lock_path.c_str());
        ::close(lock_fd);
    };

    bool launched = false;
    for (int retries = 500; retries > 0; --retries) {
        err = try_connect(d.socket, fd);
        if (err == 0) {
            release();
            return std::make_unique<fd_stream>(fd);
        }
        if (err != ENOENT && err != ECONNREFUSED) break;
        if (!launched) {
            try {
                spawn_daemon(program, timeout, virtpp::user_runtime_base());
            } catch (...) {
                release();
                throw;
            }
            launched = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    release();
    raise_system(err, "Failed to connect socket to '" + d.socket + "'");
}

}  // namespace virtpp::rpc
