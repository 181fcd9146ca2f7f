// The QEMU driver's domain events with a real qemu (TCG, no OS): lifecycle from the API, the
// power-off qemu reports (SHUTDOWN, then the exit), with libvirt's numbers.
#include "unit/hypervisor/qemu_test_support.hpp"

#include <virtpp/events.hpp>

#include <chrono>
#include <csignal>
#include <mutex>
#include <thread>

namespace virtpp {
namespace {

using namespace qemu_test;

class QemuEvents : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_qemu()) GTEST_SKIP() << "qemu-system-x86_64 is not installed";
    }
    std::optional<state_dir> dir_{std::in_place};
};

struct recorder {
    std::mutex m;
    std::vector<std::string> seen;
    void operator()(const event& e) {
        const auto* d = std::get_if<domain_event>(&e);
        if (d == nullptr) return;
        std::lock_guard lock(m);
        seen.push_back(std::string(domain_event_id::name(d->id)) +
                       (d->id == domain_event_id::lifecycle ? " " + std::to_string(d->event) + " " + std::to_string(d->detail) : ""));
    }
    /// Waits (10 s at most) until `n` events came; returns them.
    std::vector<std::string> wait_for(std::size_t n) {
        for (int i = 0; i < 1000; ++i) {
            {
                std::lock_guard lock(m);
                if (seen.size() >= n) return seen;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        std::lock_guard lock(m);
        return seen;
    }
};

TEST_F(QemuEvents, LifecycleThroughTheApiAsLibvirtNumbersIt) {
    auto conn = connection::open("qemu:///session");
    auto rec = std::make_shared<recorder>();
    auto sub = conn.subscribe_events([rec](const event& e) { (*rec)(e); });
    auto dom = conn.define_domain_xml(bare_guest("ev1"));
    dom.create();
    dom.suspend();
    dom.resume();
    dom.destroy();
    dom.undefine();
    // defined added, started booted, suspended paused, resumed unpaused, stopped destroyed, undefined removed
    EXPECT_EQ(rec->wait_for(6), (std::vector<std::string>{"lifecycle 0 0", "lifecycle 2 0", "lifecycle 3 0", "lifecycle 4 0",
                                                          "lifecycle 5 1", "lifecycle 1 0"}));
}

TEST_F(QemuEvents, AGuestPowerOffIsShutdownThenStopped) {
    auto conn = connection::open("qemu:///session");
    auto rec = std::make_shared<recorder>();
    auto sub = conn.subscribe_events([rec](const event& e) { (*rec)(e); });
    auto dom = conn.create_domain_xml(bare_guest("ev2"));
    // a signal to qemu is a power-off qemu reports as SHUTDOWN (reason host-signal), then it exits
    ASSERT_GT(conn.state().shared_driver().guest_pid("ev2"), 0);
    ::kill(conn.state().shared_driver().guest_pid("ev2"), SIGTERM);  // SHUTDOWN reason host-signal
    auto seen = rec->wait_for(3);
    ASSERT_GE(seen.size(), 3U);
    EXPECT_EQ(seen[0], "lifecycle 2 0");
    EXPECT_EQ(seen[1], "lifecycle 6 2");  // shutdown, host request
    EXPECT_EQ(seen[2], "lifecycle 5 0");  // stopped, shutdown
}

}  // namespace
}  // namespace virtpp
