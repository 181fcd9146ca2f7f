// The QEMU driver with a real Linux guest (tests/guest/build.sh: Debian's kernel + busybox, TCG):
// ACPI shutdown, reboot, guest-initiated power-off with on_poweroff, and save/restore with the
// serial console still answering. Skipped until the guest is built (tests/scripts/qemu_guest.sh
// builds it and runs these).
#include "unit/hypervisor/qemu_test_support.hpp"

#include <chrono>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <thread>
#include <unistd.h>

namespace virtpp {
namespace {

using namespace qemu_test;
namespace reason = hypervisor::qemu_detail::reason;
constexpr std::string_view ready = "VIRTPP-GUEST-READY";

std::string guest_dir() {
    if (const char* d = std::getenv("VIRTPP_QEMU_GUEST_DIR"); d != nullptr && *d != '\0') return d;
    return std::string(VIRTPP_BINARY_DIR) + "/qemu-guest";
}

std::string tiny_guest(const std::string& name, const std::string& on_poweroff = "destroy",
                       const std::string& on_reboot = "restart",
                       const std::string& serial = "<serial type='pty'><target port='0'/></serial>") {
    std::string dir = guest_dir();
    return "<domain type='qemu'><name>" + name + "</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64'>hvm</type><kernel>" + dir + "/vmlinux</kernel><initrd>" + dir +
           "/initrd.img</initrd><cmdline>console=ttyS0 quiet panic=-1</cmdline></os>"
           "<features><acpi/><apic/></features>"
           "<on_poweroff>" + on_poweroff + "</on_poweroff><on_reboot>" + on_reboot + "</on_reboot>"
           "<devices>" + serial + "</devices></domain>";
}

/// The guest's serial console, through the pty the driver reports in the live XML.
class serial_console {
public:
    /// A unix-socket serial port (the guest's qemu listens on path).
    struct unix_socket {
        std::string path;
    };
    explicit serial_console(const unix_socket& s) {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", s.path.c_str());
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    explicit serial_console(const std::string& pty) {
        fd_ = ::open(pty.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd_ >= 0) {
            termios t{};
            ::tcgetattr(fd_, &t);
            ::cfmakeraw(&t);
            ::tcsetattr(fd_, TCSANOW, &t);
        }
    }
    ~serial_console() {
        if (fd_ >= 0) ::close(fd_);
    }
    serial_console(const serial_console&) = delete;
    serial_console& operator=(const serial_console&) = delete;
    [[nodiscard]] bool ok() const { return fd_ >= 0; }

    /// Reads until text appears (true) or the time is up (false).
    bool wait_for(std::string_view text, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
        auto end = std::chrono::steady_clock::now() + limit;
        for (;;) {
            if (seen_.find(text) != std::string::npos) {
                seen_.erase(0, seen_.find(text) + text.size());
                return true;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
            if (left <= 0) return false;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
            char buf[4096];
            ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n > 0) seen_.append(buf, static_cast<std::size_t>(n));
            else std::this_thread::sleep_for(std::chrono::milliseconds(10));  // hung up while qemu has no reader
        }
    }
    void send(std::string_view line) {
        std::string text(line);
        text += "\n";
        [[maybe_unused]] auto n = ::write(fd_, text.data(), text.size());
    }
    /// Sends a command until its answer comes: qemu drops a pty's output until it notices the
    /// reader (it looks about once a second), and a shell may not be reading yet.
    bool answers(const std::string& command, const std::string& answer) {
        for (int i = 0; i < 20; ++i) {
            send(command);
            if (wait_for(answer, std::chrono::seconds(1))) return true;
        }
        return false;
    }
    bool answers(const std::string& token) { return answers("echo " + token + "-$((6*7))", token + "-42"); }

private:
    int fd_ = -1;
    std::string seen_;
};

std::string pty_of(const connection::domain_type& dom) {
    auto def = xml::parse_domain_xml(dom.xml_desc());
    return def.devices.serials.empty() ? std::string() : def.devices.serials.front().path.value_or("");
}

template <class F>
bool eventually(F&& f, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return f();
}

class QemuGuest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_qemu()) GTEST_SKIP() << "qemu-system-x86_64 is not installed";
        if (::access((guest_dir() + "/vmlinux").c_str(), R_OK) != 0)
            GTEST_SKIP() << "the tiny guest is not built (tests/guest/build.sh " << guest_dir() << ")";
    }
    /// Starts a guest paused, connects to its console, lets it run and waits for it to be ready.
    std::unique_ptr<serial_console> boot(connection::domain_type& dom) {
        dom.create(1);
        auto console = std::make_unique<serial_console>(pty_of(dom));
        EXPECT_TRUE(console->ok());
        dom.resume();
        EXPECT_TRUE(console->wait_for(ready)) << "the guest did not come up";
        return console;
    }
    state_dir dir_;
};

TEST_F(QemuGuest, AcpiShutdownPowersTheGuestOff) {
    auto conn = connection::open("qemu:///session");
    auto dom = conn.define_domain_xml(tiny_guest("tiny-shutdown"));
    auto console = boot(dom);
    EXPECT_TRUE(console->answers("hello"));
    dom.shutdown();
    ASSERT_TRUE(eventually([&] { return !dom.is_active(); }, std::chrono::seconds(20)));
    EXPECT_EQ(dom.state(), (domain_state_info{domain_state::shutoff, reason::shutoff_shutdown}));
}

TEST_F(QemuGuest, GuestPowerOffAppliesOnPoweroffRestart) {
    auto conn = connection::open("qemu:///session");
    auto dom = conn.define_domain_xml(tiny_guest("tiny-restart", "restart"));
    auto console = boot(dom);
    pid_t first = conn.state().shared_driver().guest_pid("tiny-restart");
    console->send("poweroff -f");
    ASSERT_TRUE(eventually([&] {
        pid_t now = conn.state().shared_driver().guest_pid("tiny-restart");
        return now > 0 && now != first;
    }, std::chrono::seconds(20)));
    EXPECT_EQ(dom.state().state, domain_state::running);
    dom.destroy();
}

TEST_F(QemuGuest, GuestPowerOffWithOnPoweroffDestroyStopsIt) {
    auto conn = connection::open("qemu:///session");
    auto dom = conn.create_domain_xml(tiny_guest("tiny-poweroff"), 1);
    serial_console console(pty_of(dom));
    dom.resume();
    ASSERT_TRUE(console.wait_for(ready));
    console.send("poweroff -f");
    ASSERT_TRUE(eventually([&] { return conn.num_of_domains() == 0; }, std::chrono::seconds(20)));
}

TEST_F(QemuGuest, RebootGoesThroughTheGuestAndKeepsTheProcess) {
    auto conn = connection::open("qemu:///session");
    auto dom = conn.define_domain_xml(tiny_guest("tiny-reboot"));
    auto console = boot(dom);
    pid_t pid = conn.state().shared_driver().guest_pid("tiny-reboot");
    dom.reboot();
    EXPECT_TRUE(console->wait_for(ready)) << "the guest did not come back";
    EXPECT_EQ(conn.state().shared_driver().guest_pid("tiny-reboot"), pid);
    EXPECT_EQ(dom.state().state, domain_state::running);
    EXPECT_TRUE(console->answers("again"));
    dom.destroy();
}

TEST_F(QemuGuest, SaveAndRestoreKeepTheConsoleAnswering) {
    // The console is a unix socket here: qemu notices a socket's client at once (a pty's only
    // on its next once-a-second look, and a restored guest's transmitter stalls until then).
    auto conn = connection::open("qemu:///session");
    std::string sock = dir_.path() + "/tiny-save.serial";
    auto dom = conn.define_domain_xml(tiny_guest("tiny-save", "destroy", "restart",
                                                 "<serial type='unix'><source mode='bind' path='" + sock +
                                                     "'/><target port='0'/></serial>"));
    dom.create(1);
    auto console = std::make_unique<serial_console>(serial_console::unix_socket{sock});
    ASSERT_TRUE(console->ok());
    dom.resume();
    ASSERT_TRUE(console->wait_for(ready));
    ASSERT_TRUE(console->answers("before"));
    // the guest is idle at the save (its echo written): the state holds no half-sent output
    ASSERT_TRUE(console->answers("X=remembered; echo set-$X", "set-remembered"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::string image = dir_.path() + "/tiny.save";
    dom.save(image);
    console.reset();
    EXPECT_FALSE(dom.is_active());
    conn.restore_domain(image);
    ASSERT_TRUE(dom.is_active());
    serial_console after(serial_console::unix_socket{sock});
    ASSERT_TRUE(after.ok());
    EXPECT_TRUE(after.answers("echo value-$X", "value-remembered"));
    dom.destroy();
}

TEST_F(QemuGuest, HotPluggedDevicesAreSeenAndUnpluggedByTheGuest) {
    auto conn = connection::open("qemu:///session");
    auto dom = conn.define_domain_xml(tiny_guest("tiny-plug"));
    auto console = boot(dom);
    std::string image = dir_.path() + "/plug.img";
    ASSERT_EQ(::close(::open(image.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600)), 0);
    ASSERT_EQ(::truncate(image.c_str(), 1 << 20), 0);
    dom.attach_device("<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='" + image +
                      "'/><target dev='vdb' bus='virtio'/></disk>");
    dom.attach_device("<interface type='user'><mac address='52:54:00:00:00:51'/><model type='virtio'/></interface>");
    // the guest found both on its PCI bus, in the slots the live XML gives them
    auto live = xml::parse_domain_xml(dom.xml_desc());
    ASSERT_EQ(live.devices.disks.size(), 1U);
    ASSERT_EQ(live.devices.interfaces.size(), 1U);
    std::vector<std::string> slots;
    for (const auto& addr : {live.devices.disks[0].address, live.devices.interfaces[0].address}) {
        ASSERT_TRUE(addr && addr->slot);
        char dev[64];
        std::snprintf(dev, sizeof dev, "/sys/bus/pci/devices/0000:00:%02x.0", *addr->slot);
        slots.emplace_back(dev);
    }
    for (const auto& dev : slots)
        EXPECT_TRUE(eventually([&] { return console->answers("test -e " + dev + " && echo plugged-in", "plugged-in"); },
                               std::chrono::seconds(10)))
            << "the guest did not see " << dev;
    auto t0 = std::chrono::steady_clock::now();
    dom.detach_device("<disk type='file' device='disk'><source file='" + image + "'/><target dev='vdb' bus='virtio'/></disk>");
    dom.detach_device("<interface type='user'><mac address='52:54:00:00:00:51'/></interface>");
    auto took = std::chrono::steady_clock::now() - t0;
    // the guest ejected them (DEVICE_DELETED came within libvirt's 5 s wait): gone from the live XML
    auto def = xml::parse_domain_xml(dom.xml_desc());
    EXPECT_TRUE(def.devices.disks.empty());
    EXPECT_TRUE(def.devices.interfaces.empty());
    EXPECT_LT(took, std::chrono::seconds(10)) << "a detach waited out its 5 s: the guest did not eject the device";
    for (const auto& dev : slots) EXPECT_TRUE(console->answers("test -e " + dev + " || echo unplugged", "unplugged")) << dev;
    dom.destroy();
}

}  // namespace
}  // namespace virtpp
