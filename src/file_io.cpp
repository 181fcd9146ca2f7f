#include "file_io.hpp"

#include <virtpp/error.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace virtpp::file_io {

namespace {
[[noreturn]] void fail_errno(error_domain domain, std::string_view what, const std::string& path) {
    int e = errno;
    raise(error_code::system_error, domain, std::string(what) + " '" + path + "': " + std::strerror(e));
}
}  // namespace

void write_file_atomic(const std::string& path, std::string_view content, error_domain domain) {
    std::string tmp = path + ".new";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) fail_errno(domain, "cannot write", tmp);
    std::size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            ::unlink(tmp.c_str());
            fail_errno(domain, "cannot write", tmp);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        ::unlink(tmp.c_str());
        fail_errno(domain, "cannot write", tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        fail_errno(domain, "cannot rename to", path);
    }
    std::string dir = path.substr(0, path.rfind('/'));
    if (int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

std::optional<std::string> read_file(const std::string& path, error_domain domain) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        fail_errno(domain, "cannot read", path);
    }
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            fail_errno(domain, "cannot read", path);
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

std::optional<std::string> run_capture(const std::string& program, const std::vector<std::string>& args,
                                       std::string_view extra_path, std::size_t max_output) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return std::nullopt;
    std::vector<std::string> all{program};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : all) argv.push_back(s.data());
    argv.push_back(nullptr);
    // built before the fork: the child only calls what is safe after fork in a threaded program
    std::string search;
    if (!extra_path.empty()) {
        const char* path = std::getenv("PATH");
        search = std::string(path != nullptr ? path : "") + ":" + std::string(extra_path);
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        return std::nullopt;
    }
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_RDWR);
        ::dup2(devnull, 0);
        ::dup2(pipefd[1], 1);
        ::dup2(devnull, 2);
        if (!search.empty()) ::setenv("PATH", search.c_str(), 1);
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(pipefd[1]);
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(pipefd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (out.size() < max_output) out.append(buf, std::min(static_cast<std::size_t>(n), max_output - out.size()));
    }
    ::close(pipefd[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
    return out;
}

}  // namespace virtpp::file_io
