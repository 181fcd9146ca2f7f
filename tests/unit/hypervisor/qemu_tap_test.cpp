// Tap-backed interfaces (bridge, ethernet with its script): the driver makes the taps, enslaves
// them, runs the script, and reads their counters. Needs a network namespace of its own:
// tests/scripts/qemu_tap.sh makes one (unshare -n) with a bridge br0 and runs these there.
#include "unit/hypervisor/qemu_test_support.hpp"

#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace virtpp {
namespace {

using namespace qemu_test;
using hypervisor::qemu_detail::read_file;

class QemuTap : public ::testing::Test {
protected:
    void SetUp() override {
        if (std::getenv("VIRTPP_QEMU_NETNS") == nullptr) GTEST_SKIP() << "runs in tests/scripts/qemu_tap.sh's namespace";
        if (!have_qemu()) GTEST_SKIP() << "qemu-system-x86_64 is not installed";
    }
    state_dir dir_;
};

TEST_F(QemuTap, BridgeInterfacesGetATapEnslavedToTheBridge) {
    auto conn = connection::open("qemu:///session");
    auto dom = conn.create_domain_xml(bare_guest("tap1", "qemu",
                                                 "<interface type='bridge'><source bridge='br0'/><target dev='vnet7'/>"
                                                 "<mac address='52:54:00:00:00:07'/></interface>"
                                                 "<interface type='bridge'><source bridge='br0'/></interface>"));
    EXPECT_TRUE(std::filesystem::exists("/sys/class/net/br0/brif/vnet7"));
    auto def = xml::parse_domain_xml(dom.xml_desc());
    ASSERT_EQ(def.devices.interfaces.size(), 2U);
    EXPECT_EQ(def.devices.interfaces[0].target_dev, "vnet7");
    ASSERT_TRUE(def.devices.interfaces[1].target_dev);
    std::string second = *def.devices.interfaces[1].target_dev;
    EXPECT_TRUE(second.starts_with("vnet"));
    EXPECT_TRUE(std::filesystem::exists("/sys/class/net/br0/brif/" + second));
    auto stats = dom.interface_stats("vnet7");
    EXPECT_GE(stats.rx_bytes, 0);
    EXPECT_GE(stats.tx_packets, 0);
    dom.destroy();
    // the taps go with qemu
    EXPECT_FALSE(std::filesystem::exists("/sys/class/net/vnet7"));
    EXPECT_FALSE(std::filesystem::exists("/sys/class/net/" + second));
}

TEST_F(QemuTap, EthernetInterfacesRunTheirScriptWithTheTapName) {
    std::string script = dir_.path() + "/ifup";
    std::string seen = dir_.path() + "/ifup.seen";
    std::ofstream(script) << "#!/bin/sh\necho \"$1\" > " << seen << "\nip link set \"$1\" master br0\n";
    ::chmod(script.c_str(), 0755);
    auto conn = connection::open("qemu:///session");
    auto dom = conn.create_domain_xml(bare_guest("tap2", "qemu",
                                                 "<interface type='ethernet'><target dev='vnet9'/><script path='" + script +
                                                     "'/></interface>"));
    EXPECT_EQ(read_file(seen).value_or(""), "vnet9\n");
    EXPECT_TRUE(std::filesystem::exists("/sys/class/net/br0/brif/vnet9"));
    dom.destroy();
}

TEST_F(QemuTap, AMissingBridgeIsAClearErrorAndLeavesNothing) {
    auto conn = connection::open("qemu:///session");
    quiet_errors quiet;
    try {
        (void)conn.create_domain_xml(bare_guest("tap3", "qemu",
                                                "<interface type='bridge'><source bridge='nobr0'/><target dev='vnet5'/></interface>"));
        ADD_FAILURE() << "started without its bridge";
    } catch (const error& e) {
        EXPECT_NE(std::string(e.what()).find("nobr0"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists("/sys/class/net/vnet5"));
    EXPECT_EQ(conn.num_of_domains(), 0);
}

TEST_F(QemuTap, TapInterfacesHotPlugIntoARunningGuest) {
    std::string script = dir_.path() + "/ifup";
    std::string seen = dir_.path() + "/ifup.seen";
    std::ofstream(script) << "#!/bin/sh\necho \"$1\" > " << seen << "\n";
    ::chmod(script.c_str(), 0755);
    auto conn = connection::open("qemu:///session");
    auto dom = conn.create_domain_xml(bare_guest("tap4", "qemu", "", "<features><acpi/></features>"));

    dom.attach_device("<interface type='bridge'><source bridge='br0'/><mac address='52:54:00:00:00:41'/></interface>");
    auto def = xml::parse_domain_xml(dom.xml_desc());
    ASSERT_EQ(def.devices.interfaces.size(), 1U);
    ASSERT_TRUE(def.devices.interfaces[0].target_dev);
    std::string tap = *def.devices.interfaces[0].target_dev;
    EXPECT_TRUE(std::filesystem::exists("/sys/class/net/br0/brif/" + tap)) << tap;
    EXPECT_GE(dom.interface_stats(tap).rx_packets, 0);

    dom.attach_device("<interface type='ethernet'><target dev='vnet42'/><script path='" + script +
                      "'/><mac address='52:54:00:00:00:42'/></interface>");
    EXPECT_EQ(read_file(seen).value_or(""), "vnet42\n");
    EXPECT_TRUE(std::filesystem::exists("/sys/class/net/vnet42"));
    // qemu has both NICs, with their MACs
    def = xml::parse_domain_xml(dom.xml_desc());
    EXPECT_EQ(def.devices.interfaces.size(), 2U);

    {
        // a missing bridge: a clear error, no tap left, nothing added
        quiet_errors quiet;
        try {
            dom.attach_device("<interface type='bridge'><source bridge='nobr1'/><target dev='vnet43'/></interface>");
            ADD_FAILURE() << "attached without its bridge";
        } catch (const error& e) {
            EXPECT_NE(std::string(e.what()).find("nobr1"), std::string::npos) << e.what();
        }
        EXPECT_FALSE(std::filesystem::exists("/sys/class/net/vnet43"));
        EXPECT_EQ(xml::parse_domain_xml(dom.xml_desc()).devices.interfaces.size(), 2U);
        // a virtual network: none is active (the network driver is not built)
        try {
            dom.attach_device("<interface type='network'><source network='default'/></interface>");
            ADD_FAILURE() << "attached to a network that does not exist";
        } catch (const error& e) {
            EXPECT_EQ(e.code(), error_code::no_network);
        }
    }
    dom.destroy();
    EXPECT_FALSE(std::filesystem::exists("/sys/class/net/" + tap));
    EXPECT_FALSE(std::filesystem::exists("/sys/class/net/vnet42"));
}

}  // namespace
}  // namespace virtpp
