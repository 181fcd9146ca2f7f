// Domain XML -> qemu command line for the QEMU fixtures (libvirt's qemuxml2argvdata inputs and the
// seed's QEMU/KVM examples). Each expected command line is kept in tests/data/qemu/<case>.args
// (VIRTPP_UPDATE_EXPECTED=1 rewrites them); each is also booted: qemu must accept it and QMP must
// answer, so the text is checked against qemu itself and not only against itself.
#include <virtpp/connection.hpp>
#include <virtpp/hypervisor/qemu.hpp>
#include <virtpp/transport/local.hpp>
#include <virtpp/xml/domain.hpp>

#include "hypervisor/qemu_detail.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

namespace virtpp {
namespace {

namespace qd = hypervisor::qemu_detail;
namespace fs = std::filesystem;

struct argv_case {
    std::string name;
    std::string xml_path;
};

void PrintTo(const argv_case& c, std::ostream* os) { *os << c.name; }

std::vector<argv_case> cases() {
    std::string fixtures = std::string(VIRTPP_SHARED_DIR) + "/fixtures/libvirt/tests/qemuxml2argvdata/";
    std::string seed = std::string(VIRTPP_SHARED_DIR) + "/seed/examples/";
    std::vector<argv_case> out = {
        {"qemuxml2argv-minimal", fixtures + "qemuxml2argv-minimal.xml"},
        {"qemuxml2argv-net-user", fixtures + "qemuxml2argv-net-user.xml"},
        {"seed-kvm-demo2", seed + "kvm-demo2.xml"},
        {"seed-qemu-fedora-i686", seed + "qemu-fedora-i686.xml"},
    };
    for (const char* nic : {"bridge", "client", "ethernet", "mcast", "network", "server", "user"})
        out.push_back({std::string("seed-nic-") + nic, seed + "nic-" + nic + ".xml"});
    return out;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// The definition as the builder sees it: a fixed UUID where the example has none.
xml::domain_def load(const argv_case& c) {
    auto def = xml::parse_domain_xml(slurp(c.xml_path));
    if (!def.uuid) def.uuid = virtpp::uuid::from_string("00000000-0000-4000-8000-000000000001");
    return def;
}

qd::command_options fixed_options(const xml::domain_def& def) {
    qd::command_options opts;
    opts.emulator = def.devices.emulator.value_or("/usr/bin/qemu-system-x86_64");
    opts.kvm = def.type == xml::domain_virt_type::kvm;
    opts.vnc_ports = {5900};
    return opts;
}

class QemuArgv : public ::testing::TestWithParam<argv_case> {};

TEST_P(QemuArgv, MatchesTheExpectedCommandLine) {
    const auto& c = GetParam();
    auto def = load(c);
    auto text = qd::format_args(qd::build_command_line(def, fixed_options(def)).argv);
    // deterministic: the same definition gives the same command line
    EXPECT_EQ(text, qd::format_args(qd::build_command_line(load(c), fixed_options(def)).argv));
    std::string expected_path = std::string(VIRTPP_SOURCE_DIR) + "/tests/data/qemu/" + c.name + ".args";
    if (std::getenv("VIRTPP_UPDATE_EXPECTED") != nullptr) std::ofstream(expected_path) << text;
    ASSERT_TRUE(fs::exists(expected_path)) << expected_path;
    EXPECT_EQ(text, slurp(expected_path));
}

int listen_loopback(int& port) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(s, 4);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    return s;
}

TEST_P(QemuArgv, QemuAcceptsItAndQmpAnswers) {
    if (!qd::find_emulator("x86_64")) GTEST_SKIP() << "qemu-system-x86_64 is not installed";
    const auto& c = GetParam();
    auto def = load(c);
    char tmpl[] = "/tmp/vpqa-XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    ::setenv("VIRTPP_QEMU_STATE_DIR", dir.c_str(), 1);
    // What only exists on the fixture's host is replaced by local equivalents: emulator, disk
    // images, cpus, peers on the network. Taps and multicast need a network of their own (see
    // tests/scripts/qemu_tap.sh); here they become user-mode NICs with the same MAC and model.
    def.devices.emulator.reset();
    def.vcpu.cpuset.reset();
    if (def.type == xml::domain_virt_type::kvm && !qd::kvm_usable()) def.type = xml::domain_virt_type::qemu;
    int n = 0;
    for (auto& d : def.devices.disks) {
        if (!d.source) continue;
        d.type = "file";
        d.source = dir + "/disk" + std::to_string(n++) + ".img";
        std::ofstream(*d.source).put('\0');
        ASSERT_EQ(::truncate(d.source->c_str(), 1 << 20), 0);
    }
    // A fixture's fixed VNC display may be taken on this machine (another guest, another test
    // running at the same time): boot with a port the driver picks.
    for (auto& g : def.devices.graphics)
        if (g.type == xml::graphics_type::vnc) {
            g.autoport = true;
            g.port = -1;
        }
    int listener = -1;
    for (auto& i : def.devices.interfaces) {
        using xml::interface_type;
        if (i.type == interface_type::server) {
            int port = 0;
            int s = listen_loopback(port);  // find a free port, then let qemu have it
            ::close(s);
            i.source_address = "127.0.0.1";
            i.source_port = port;
        } else if (i.type == interface_type::client) {
            int port = 0;
            listener = listen_loopback(port);
            i.source_address = "127.0.0.1";
            i.source_port = port;
        } else if (i.type != interface_type::user) {
            i.type = interface_type::user;
            i.source_network.reset();
            i.source_bridge.reset();
            i.source_address.reset();
            i.source_port.reset();
            i.script.reset();
            i.target_dev.reset();
        }
    }
    set_error_handler([](const error_info&) {});
    {
        auto conn = basic_connection<hypervisor::qemu>::open("qemu:///session");
        try {
            auto dom = conn.create_domain_xml(xml::format_domain_xml(def), 1 /* paused */);
            auto state = dom.state();
            EXPECT_EQ(state.state, domain_state::paused);
            dom.resume();  // a QMP command answered
            EXPECT_EQ(dom.state().state, domain_state::running);
            EXPECT_FALSE(dom.vcpus().empty());  // and another
            dom.destroy();
        } catch (const error& e) {
            ADD_FAILURE() << e.what() << "\n" << slurp(dir + "/log/" + def.name + ".log");
        }
    }
    set_error_handler({});
    if (listener >= 0) ::close(listener);
    ::unsetenv("VIRTPP_QEMU_STATE_DIR");
    std::error_code ec;
    fs::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, QemuArgv, ::testing::ValuesIn(cases()), [](const auto& info) {
    std::string n = info.param.name;
    for (char& ch : n)
        if (ch == '-') ch = '_';
    return n;
});

}  // namespace
}  // namespace virtpp
