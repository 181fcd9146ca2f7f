// The QMP client against a scripted monitor on a unix socket: greeting and capabilities, replies
// matched by the id the client sends (a late reply to a timed-out command is dropped), events and
// the socket closing handed to the handlers, a line over the limit ending the monitor, detach
// stopping every handler, a descriptor passed with a command, and many monitors on the one I/O
// thread.
#include "hypervisor/qemu_monitor.hpp"

#include <virtpp/error.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace qd = virtpp::hypervisor::qemu_detail;
namespace json = boost::json;
using namespace std::chrono_literals;

/// A one-client QMP peer: greets, then answers each command line through `answer` (which may
/// write anything, or nothing) on its own thread.
class fake_qmp {
public:
    using responder = std::function<void(fake_qmp&, const json::object& command, int passed_fd)>;

    explicit fake_qmp(responder answer) : answer_(std::move(answer)) {
        dir_ = std::filesystem::temp_directory_path() / ("qmp-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
        std::filesystem::create_directories(dir_);
        path_ = (dir_ / "mon.sock").string();
        listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strcpy(addr.sun_path, path_.c_str());
        EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(listen_fd_, 1), 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~fake_qmp() {
        hang_up();
        ::shutdown(listen_fd_, SHUT_RDWR);
        if (thread_.joinable()) thread_.join();
        ::close(listen_fd_);
        std::filesystem::remove_all(dir_);
    }
    [[nodiscard]] const std::string& path() const { return path_; }

    void send(const std::string& text) {
        std::lock_guard lock(write_mutex_);
        // MSG_NOSIGNAL: the client may have hung up (detach), which must not kill the test with SIGPIPE
        if (client_ >= 0) (void)!::send(client_, text.data(), text.size(), MSG_NOSIGNAL);
    }
    void reply(const json::object& command, const json::value& ret) {
        json::object r{{"return", ret}};
        if (const auto* id = command.if_contains("id")) r["id"] = *id;
        send(json::serialize(r) + "\n");
    }
    void hang_up() {
        std::lock_guard lock(write_mutex_);
        if (client_ >= 0) ::shutdown(client_, SHUT_RDWR);
    }
    std::atomic<int> commands{0};

private:
    static std::atomic<int>& counter() {
        static std::atomic<int> c{0};
        return c;
    }
    void serve() {
        int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        {
            std::lock_guard lock(write_mutex_);
            client_ = c;
        }
        send(R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}})" "\n");
        std::string buffer;
        for (;;) {
            char chunk[4096];
            iovec iov{chunk, sizeof chunk};
            alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
            msghdr msg{};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            ssize_t n = ::recvmsg(c, &msg, 0);
            if (n <= 0) break;
            int passed = -1;
            for (cmsghdr* h = CMSG_FIRSTHDR(&msg); h != nullptr; h = CMSG_NXTHDR(&msg, h))
                if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) std::memcpy(&passed, CMSG_DATA(h), sizeof(int));
            buffer.append(chunk, static_cast<std::size_t>(n));
            std::size_t nl;
            while ((nl = buffer.find('\n')) != std::string::npos) {
                auto line = buffer.substr(0, nl);
                buffer.erase(0, nl + 1);
                auto command = json::parse(line).as_object();
                ++commands;
                if (command.at("execute") == "qmp_capabilities")
                    reply(command, json::object{});
                else
                    answer_(*this, command, passed);
                if (passed >= 0) ::close(passed);
                passed = -1;
            }
        }
        std::lock_guard lock(write_mutex_);
        ::close(c);
        client_ = -1;
    }

    responder answer_;
    std::filesystem::path dir_;
    std::string path_;
    int listen_fd_ = -1;
    int client_ = -1;
    std::mutex write_mutex_;
    std::thread thread_;
};

TEST(qmp_monitor, greets_and_answers_by_id) {
    std::vector<std::string> ids;
    fake_qmp peer([&](fake_qmp& p, const json::object& c, int) {
        ids.push_back(json::value_to<std::string>(c.at("id")));
        if (c.at("execute") == "query-status") p.reply(c, json::object{{"status", "running"}});
        if (c.at("execute") == "nope")
            p.send(R"({"error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}, "id": )" +
                   json::serialize(c.at("id")) + "}\n");
    });
    auto mon = qd::qmp_monitor::connect(peer.path(), nullptr, nullptr);
    EXPECT_EQ(mon->execute("query-status").at("status"), "running");
    try {
        (void)mon->execute("nope");
        ADD_FAILURE() << "an error reply was taken as success";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(std::string(e.info().message), "internal error: unable to execute QEMU command 'nope': The command nope has not been found");
    }
    ASSERT_EQ(ids.size(), 2U);
    EXPECT_NE(ids[0], ids[1]);
    EXPECT_TRUE(mon->alive());
}

TEST(qmp_monitor, a_late_reply_is_not_the_next_commands) {
    json::object held;
    std::mutex m;
    fake_qmp peer([&](fake_qmp& p, const json::object& c, int) {
        if (c.at("execute") == "slow") {
            std::lock_guard lock(m);
            held = c;  // answered only after the next command arrives
            return;
        }
        {
            std::lock_guard lock(m);
            p.reply(held, json::value("stale"));
        }
        p.reply(c, json::value("fresh"));
    });
    auto mon = qd::qmp_monitor::connect(peer.path(), nullptr, nullptr);
    EXPECT_THROW((void)mon->execute("slow", {}, -1, 200ms), virtpp::error);
    EXPECT_EQ(mon->execute("next"), "fresh");
}

TEST(qmp_monitor, events_then_close_reach_the_handlers) {
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::string> seen;
    bool closed = false;
    fake_qmp peer([&](fake_qmp& p, const json::object& c, int) {
        p.send(R"({"event": "STOP", "data": {}, "timestamp": {"seconds": 1, "microseconds": 2}})" "\n");
        p.send(R"({"event": "RESUME"})" "\n");
        p.reply(c, json::object{});
    });
    auto mon = qd::qmp_monitor::connect(
        peer.path(),
        [&](const std::string& name, const json::object&) {
            std::lock_guard lock(m);
            seen.push_back(name);
            cv.notify_all();
        },
        [&] {
            std::lock_guard lock(m);
            closed = true;
            cv.notify_all();
        });
    (void)mon->execute("cont");
    peer.hang_up();
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return closed; }));
    EXPECT_EQ(seen, (std::vector<std::string>{"STOP", "RESUME"}));
    lock.unlock();
    EXPECT_FALSE(mon->alive());
    try {
        (void)mon->execute("cont");
        ADD_FAILURE() << "a command on a closed monitor succeeded";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(std::string(e.info().message), "operation failed: domain is not running");
    }
}

TEST(qmp_monitor, an_endless_line_ends_the_monitor) {
    std::atomic<bool> closed{false};
    fake_qmp peer([&](fake_qmp& p, const json::object&, int) {
        std::string chunk(1 << 20, ' ');
        for (std::size_t sent = 0; sent <= qd::qmp_max_line; sent += chunk.size()) p.send(chunk);
    });
    auto mon = qd::qmp_monitor::connect(peer.path(), nullptr, [&] { closed = true; });
    EXPECT_THROW((void)mon->execute("flood", {}, -1, 20s), virtpp::error);
    for (int i = 0; i < 200 && !closed; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(closed);
    EXPECT_FALSE(mon->alive());
}

TEST(qmp_monitor, detach_stops_the_handlers_and_passes_descriptors_before) {
    std::atomic<int> events{0};
    std::atomic<bool> closed{false};
    std::atomic<bool> got_fd{false};
    fake_qmp peer([&](fake_qmp& p, const json::object& c, int fd) {
        if (c.at("execute") == "getfd") got_fd = fd >= 0;
        p.reply(c, json::object{});
    });
    auto mon = qd::qmp_monitor::connect(peer.path(), [&](const std::string&, const json::object&) { ++events; },
                                        [&] { closed = true; });
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    (void)mon->execute("getfd", json::object{{"fdname", "x"}}, pipe_fds[1]);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    EXPECT_TRUE(got_fd);
    mon->detach();
    peer.send(R"({"event": "STOP"})" "\n");
    peer.hang_up();
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(events, 0);
    EXPECT_FALSE(closed) << "a detached monitor reported qemu's exit";
    EXPECT_FALSE(mon->alive());
}

TEST(qmp_monitor, many_monitors_share_one_reader) {
    std::vector<std::unique_ptr<fake_qmp>> peers;
    std::vector<std::unique_ptr<qd::qmp_monitor>> mons;
    for (int i = 0; i < 16; ++i) {
        peers.push_back(std::make_unique<fake_qmp>([i](fake_qmp& p, const json::object& c, int) { p.reply(c, json::value(i)); }));
        mons.push_back(qd::qmp_monitor::connect(peers.back()->path(), nullptr, nullptr));
    }
    std::vector<std::thread> callers;
    std::atomic<int> right{0};
    for (int i = 0; i < 16; ++i)
        callers.emplace_back([&, i] {
            for (int k = 0; k < 20; ++k)
                if (mons[static_cast<std::size_t>(i)]->execute("which") == i) ++right;
        });
    for (auto& t : callers) t.join();
    EXPECT_EQ(right, 16 * 20);
}

}  // namespace
