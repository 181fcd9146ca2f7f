// The commands that run over a stream: console (an interactive session on the guest's serial
// console, left with ^]) and screenshot (an image of the guest's display saved to a file).
#include "command_util.hpp"
#include "shell.hpp"

#include <virtpp/stream.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

namespace virtpp::cli {

namespace {

/// virsh's default escape: Ctrl + ]
constexpr std::uint8_t escape_char = 0x1d;

/// Waits until a non-blocking stream can go on (`events`), or 50 ms for a stream without a descriptor.
void wait_stream(const virtpp::stream& st, short events) {
    pollfd p{st.poll_fd(), events, 0};
    (void)::poll(&p, p.fd >= 0 ? 1 : 0, p.fd >= 0 ? -1 : 50);
}

/// Writes all of data to the stream (a non-blocking one waits for room).
void send_all(virtpp::stream& st, std::span<const std::uint8_t> data) {
    while (!data.empty()) {
        auto n = st.send(data);
        if (n == virtpp::stream::would_block) {
            wait_stream(st, POLLOUT);
            continue;
        }
        data = data.subspan(static_cast<std::size_t>(n));
    }
}

bool write_fd_all(int fd, const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
        auto w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

/// The terminal in raw mode for the session's length (as virsh's vshTTYMakeRaw), restored after.
class raw_terminal {
public:
    raw_terminal() {
        if (::isatty(STDIN_FILENO) == 0 || ::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
        termios raw = saved_;
        ::cfmakeraw(&raw);
        active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0;
    }
    ~raw_terminal() {
        if (active_) (void)::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
    }
    raw_terminal(const raw_terminal&) = delete;
    raw_terminal& operator=(const raw_terminal&) = delete;

private:
    termios saved_{};
    bool active_ = false;
};

bool cmd_console(shell& sh, const parsed_command& cmd) {
    std::string name;
    auto dom = sh.domain(cmd, &name);
    if (!dom) return false;
    std::optional<std::string> dev_name;
    if (!sh.opt_string(cmd, "devname", dev_name)) return false;
    unsigned flags = 0;
    if (cmd.has("force")) flags |= console_flags::force;
    if (cmd.has("safe")) flags |= console_flags::safe;

    // as virsh: the greeting comes first, the open's error (if any) after it
    sh.print_extra("Connected to domain '" + name + "'\n");
    sh.print_extra("Escape character is ^] (Ctrl + ])\n");
    std::fflush(stdout);
    std::shared_ptr<virtpp::stream> st;
    try {
        st = virtpp::open_console(dom->connection(), dom->ref(), dev_name, flags);
    } catch (const virtpp::error&) {
        return false;  // the library's error ("Active console session exists for this domain", ...)
    }

    int stop_pipe[2];
    if (::pipe2(stop_pipe, O_CLOEXEC) < 0) {
        st->abort();
        sh.error(std::string("cannot create pipe: ") + std::strerror(errno));
        return false;
    }
    std::optional<error_info> failure;  // written by the guest side before it signals stop_pipe
    bool ok = true;
    {
        raw_terminal terminal;
        // the guest's side: stream to stdout until its end, an error, or the session's end
        std::atomic<bool> leaving{false};
        std::thread guest_side([&] {
            std::uint8_t buf[16384];
            try {
                for (;;) {
                    auto n = st->recv(buf);
                    if (n == virtpp::stream::would_block) {
                        if (leaving) break;
                        wait_stream(*st, POLLIN);
                        continue;
                    }
                    if (n <= 0) break;
                    if (!write_fd_all(STDOUT_FILENO, buf, static_cast<std::size_t>(n))) break;
                }
            } catch (const virtpp::error& e) {
                if (!leaving) failure = e.info();
            }
            char b = 0;
            [[maybe_unused]] auto w = ::write(stop_pipe[1], &b, 1);
        });
        // the user's side: stdin to the stream until ^] (or the end of stdin)
        bool escaped = false;
        for (bool guest_ended = false; !guest_ended && !escaped;) {
            pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                break;
            }
            if (fds[1].revents != 0) {
                guest_ended = true;
                break;
            }
            if (fds[0].revents == 0) continue;
            std::uint8_t in[1024];
            auto n = ::read(STDIN_FILENO, in, sizeof in);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                escaped = true;  // stdin closed: leave as with ^]
                break;
            }
            std::size_t keep = static_cast<std::size_t>(n);
            for (std::size_t i = 0; i < keep; ++i)
                if (in[i] == escape_char) {
                    keep = i;
                    escaped = true;
                }
            try {
                send_all(*st, std::span<const std::uint8_t>(in, keep));
            } catch (const virtpp::error& e) {
                failure = e.info();
                break;
            }
        }
        leaving = true;
        try {
            st->finish();  // ends the guest side's recv too
        } catch (const virtpp::error& e) {
            if (!failure && !escaped) failure = e.info();
        }
        guest_side.join();
    }
    ::close(stop_pipe[0]);
    ::close(stop_pipe[1]);
    sh.print_extra("\n");
    if (failure) {
        sh.set_pending_error(failure->code, failure->message);
        ok = false;
    }
    return ok;
}

/// virshGenFileName: <domain>-<YYYY-MM-DD-HH:MM:SS><ext>.
std::string generated_file_name(const std::string& domain, const std::string& mime) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d-%H:%M:%S", &tm);
    std::string ext = mime == "image/x-portable-pixmap" ? ".ppm" : mime == "image/png" ? ".png" : "";
    return domain + "-" + stamp + ext;
}

bool cmd_screenshot(shell& sh, const parsed_command& cmd) {
    std::string name;
    std::optional<std::string> file;
    std::optional<unsigned> screen;
    if (!sh.opt_string(cmd, "file", file) || !sh.opt_uint(cmd, "screen", screen)) return false;
    auto dom = sh.domain(cmd, &name);
    if (!dom) return false;
    screenshot_data shot;
    try {
        shot = virtpp::take_screenshot(dom->connection(), dom->ref(), screen.value_or(0), 0);
    } catch (const virtpp::error&) {
        sh.error("could not take a screenshot of " + name);
        return false;
    }
    bool generated = !file;
    std::string path = file ? *file : generated_file_name(name, shot.mime);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST) fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        shot.data->abort();
        sh.error("cannot create file " + path);
        return false;
    }
    bool ok = true;
    try {
        std::uint8_t buf[65536];
        for (;;) {
            auto n = shot.data->recv(buf);
            if (n == virtpp::stream::would_block) {
                wait_stream(*shot.data, POLLIN);
                continue;
            }
            if (n == 0) break;
            if (!write_fd_all(fd, buf, static_cast<std::size_t>(n))) {
                int err = errno;
                shot.data->abort();
                sh.set_pending_error(error_code::system_error, "cannot write to " + path + ": " + std::strerror(err));
                ok = false;
                break;
            }
        }
        if (ok) shot.data->finish();
    } catch (const virtpp::error&) {
        ok = false;
    }
    if (::close(fd) != 0 && ok) {
        sh.error("cannot close file " + path);
        ok = false;
    }
    if (!ok) {
        sh.error("could not receive data from domain '" + name + "'");
        if (generated) ::unlink(path.c_str());
        return false;
    }
    sh.print_extra("Screenshot saved to " + path + ", with type of " + shot.mime);
    sh.print("\n");
    return true;
}

constexpr handler_entry handlers[] = {
    {"console", cmd_console},
    {"screenshot", cmd_screenshot},
};

}  // namespace

std::span<const handler_entry> stream_handlers() { return handlers; }

}  // namespace virtpp::cli
