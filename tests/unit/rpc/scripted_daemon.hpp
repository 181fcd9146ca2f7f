// A daemon played by a test on a socketpair: reads framed messages and lets the test answer
// them (client session tests, async call tests).
#pragma once

#include "rpc/client_detail.hpp"

#include <virtpp/rpc/procedures.hpp>
#include <virtpp/transport/remote.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace virtpp::test_support {

using namespace virtpp::rpc;
using namespace std::chrono_literals;

struct message {
    header head;
    std::vector<std::uint8_t> body;
};

/// A daemon played by the test: reads framed messages, lets `handle` answer them.
class scripted_daemon {
public:
    using handler = std::function<void(scripted_daemon&, const message&)>;

    explicit scripted_daemon(handler h) : handle_(std::move(h)) {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        client_fd_ = sv[0];
        fd_ = sv[1];
        thread_ = std::thread([this] { run(); });
    }
    ~scripted_daemon() {
        hang_up();
        if (thread_.joinable()) thread_.join();
    }

    std::unique_ptr<client_stream> client_end() { return std::make_unique<fd_stream>(client_fd_); }

    void send(const header& h, std::span<const std::uint8_t> body) {
        auto bytes = frame(h, body);
        std::lock_guard lock(write_mutex_);
        if (fd_ >= 0) (void)!::write(fd_, bytes.data(), bytes.size());
    }
    template <class T>
    void reply(const message& m, const T& ret) {
        header h = m.head;
        h.type = message_type::reply;
        send(h, xdr::to_bytes(ret));
    }
    void reply_error(const message& m, const remote_error& e) {
        header h = m.head;
        h.type = message_type::reply;
        h.status = message_status::error;
        send(h, xdr::to_bytes(e));
    }
    void send_raw(const std::vector<std::uint8_t>& bytes) {
        std::lock_guard lock(write_mutex_);
        (void)!::write(fd_, bytes.data(), bytes.size());
    }
    void hang_up() {
        std::lock_guard lock(write_mutex_);
        if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    }

    std::vector<message> received() {
        std::lock_guard lock(mutex_);
        return log_;
    }
    /// Waits until `pred(log)` holds (or two seconds pass).
    bool wait_for(const std::function<bool(const std::vector<message>&)>& pred) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, 5s, [&] { return pred(log_); });
    }

private:
    void run() {
        std::vector<std::uint8_t> buf;
        std::uint8_t chunk[4096];
        for (;;) {
            auto n = ::read(fd_, chunk, sizeof chunk);
            if (n <= 0) break;
            buf.insert(buf.end(), chunk, chunk + n);
            while (buf.size() >= 4) {
                std::uint32_t len = (std::uint32_t(buf[0]) << 24) | (std::uint32_t(buf[1]) << 16) | (std::uint32_t(buf[2]) << 8) | buf[3];
                if (buf.size() < len) break;
                message m{decode_header({buf.data() + 4, len - 4}), {buf.begin() + 28, buf.begin() + len}};
                buf.erase(buf.begin(), buf.begin() + len);
                {
                    std::lock_guard lock(mutex_);
                    log_.push_back(m);
                }
                cv_.notify_all();
                handle_(*this, m);
            }
        }
        std::lock_guard lock(write_mutex_);
        ::close(fd_);
        fd_ = -1;
    }

    handler handle_;
    int fd_ = -1;
    int client_fd_ = -1;
    std::thread thread_;
    std::mutex write_mutex_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<message> log_;
};

/// Answers the set-up calls as libvirtd does (auth none, keepalive supported, open ok).
inline bool answer_setup(scripted_daemon& d, const message& m, bool keepalive = true) {
    if (m.head.prog != remote_program) return true;
    switch (m.head.proc) {
    case session::auth_list: d.reply(m, session::auth_list_ret{{{0}}}); return true;
    case proc::connect_supports_feature::number: d.reply(m, std::int32_t{keepalive ? 1 : 0}); return true;
    case session::connect_open:
    case session::connect_close: d.reply(m, xdr::none{}); return true;
    default: return false;
    }
}

}  // namespace virtpp::test_support
