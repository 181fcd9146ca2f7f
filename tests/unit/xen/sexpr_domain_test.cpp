// The xend node record helpers and the converters' refusals: a GET /xend/node/ answer gives node
// info, the Xen version and xen_caps; malformed or incomplete domain records are libvirt errors
// naming what is missing, never crashes.
#include <virtpp/error.hpp>
#include <virtpp/xen/native.hpp>
#include <virtpp/xen/sexpr.hpp>
#include <virtpp/xen/sexpr_domain.hpp>
#include <virtpp/xen/xm_config.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace virtpp;

// the shape of xend 3.0.4's GET /xend/node/ answer
constexpr const char* node_record =
    "(node (host dom0.example)(release 2.6.18-xen)(version '#1 SMP')(machine x86_64)(nr_cpus 4)"
    "(nr_nodes 1)(sockets_per_node 1)(cores_per_socket 2)(threads_per_core 2)(cpu_mhz 2793)"
    "(hw_caps bfebfbff:20100800:00000000:00000140)(total_memory 4095)(free_memory 1024)"
    "(xen_major 3)(xen_minor 1)(xen_extra .2-rc1)(xen_caps 'xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32')"
    "(platform_params 'virt_start=0xffff800000000000')(xen_changeset unavailable)(cc_compiler 'gcc 4.1')"
    "(cc_compile_by root)(cc_compile_domain example)(cc_compile_date 'Mon Jan 1')(xend_config_format 4))";

TEST(XenNodeRecord, NodeInfoVersionAndCaps) {
    auto node = xen::parse_sexpr(node_record);
    auto info = xen::node_info_from_sexpr(node);
    EXPECT_EQ(info.model, "x86_64");
    EXPECT_EQ(info.cpus, 4u);
    EXPECT_EQ(info.mhz, 2793u);
    EXPECT_EQ(info.memory_kib, 4095ull * 1024);
    EXPECT_EQ(info.nodes, 1u);
    EXPECT_EQ(info.sockets, 1u);
    EXPECT_EQ(info.cores, 2u);
    EXPECT_EQ(info.threads, 2u);
    EXPECT_EQ(xen::xen_version_from_sexpr(node), 3001002u);
    EXPECT_EQ(xen::xen_caps_from_sexpr(node), "xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32");
}

TEST(XenNodeRecord, TopologyThatDoesNotMultiplyOutIsFlat) {
    auto node = xen::parse_sexpr("(node (machine i686)(nr_cpus 3)(nr_nodes 1)(sockets_per_node 2)(cores_per_socket 2)"
                                 "(threads_per_core 1)(cpu_mhz 1000)(total_memory 512))");
    auto info = xen::node_info_from_sexpr(node);
    EXPECT_EQ(info.cpus, 3u);
    EXPECT_EQ(info.sockets, 1u);
    EXPECT_EQ(info.cores, 3u);
    EXPECT_THROW((void)xen::xen_version_from_sexpr(node), virtpp::error);
    EXPECT_THROW((void)xen::node_info_from_sexpr(xen::parse_sexpr("(domain (name x))")), virtpp::error);
}

TEST(XenDomainRecord, IncompleteRecordsNameWhatIsMissing) {
    struct bad_case {
        const char* text;
        const char* says;
    };
    for (auto [text, says] : {
             bad_case{"(domain (uuid 596a5d2171f48fb2e068e2386a5c413e)(image (linux (kernel /k))))", "missing name"},
             bad_case{"(domain (name x)(image (linux (kernel /k))))", "missing uuid"},
             bad_case{"(domain (name x)(uuid nope)(image (linux (kernel /k))))", "invalid uuid"},
             bad_case{"(domain (name x)(uuid 596a5d2171f48fb2e068e2386a5c413e))", "missing kernel & bootloader"},
             bad_case{"(domain (name x)(uuid 596a5d2171f48fb2e068e2386a5c413e)(image (hvm (boot c))))", "missing HVM loader"},
             bad_case{"(domain (name x)(uuid 596a5d2171f48fb2e068e2386a5c413e)(on_crash explode)(image (linux (kernel /k))))",
                      "unknown lifecycle type explode"},
             bad_case{"(domain (name x)(uuid 596a5d2171f48fb2e068e2386a5c413e)(image (linux (kernel /k)))"
                      "(device (vbd (uname file:/x)(mode w))))",
                      "vbd has no dev"},
             bad_case{"(domain (name x)(uuid 596a5d2171f48fb2e068e2386a5c413e)(image (linux (kernel /k)))"
                      "(device (vbd (dev xvda)(uname /no/driver)(mode w))))",
                      "missing driver name"},
             bad_case{"(vm (name x))", "not a (domain ...) record"},
         }) {
        try {
            (void)xen::domain_from_sexpr_text(text, xen::xend_config_version_3_0_3);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const virtpp::error& e) {
            EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
        }
    }
}

TEST(XenDomainRecord, RoundTripThroughXendSpelling) {
    // what we send xend reads back as the same guest
    auto def = xen::domain_from_sexpr_text(
        "(domain (domid 7)(name 'rt')(uuid 596a5d2171f48fb2e068e2386a5c413e)(memory 256)(maxmem 512)(vcpus 4)"
        "(vcpu_avail 3)(on_poweroff destroy)(on_reboot restart)(on_crash restart)"
        "(image (linux (kernel /boot/vmlinuz)(ramdisk /boot/initrd)(args 'ro quiet')))"
        "(device (vbd (dev xvda)(uname 'tap:qcow:/img.qcow')(mode 'w!')))"
        "(device (vif (mac 00:16:3E:AA:BB:CC)(bridge xenbr0)(script vif-bridge)(rate 2MB/s))))",
        xen::xend_config_version_3_0_4);
    EXPECT_EQ(def.id, 7);
    EXPECT_EQ(def.memory_kib, 512u * 1024);
    EXPECT_EQ(def.current_memory_kib, 256u * 1024);
    EXPECT_EQ(def.vcpu.count, 4u);
    EXPECT_EQ(def.vcpu.current, 2u);
    ASSERT_EQ(def.devices.disks.size(), 1u);
    EXPECT_EQ(def.devices.disks[0].driver_type, "qcow");
    EXPECT_TRUE(def.devices.disks[0].shareable);
    ASSERT_EQ(def.devices.interfaces.size(), 1u);
    EXPECT_EQ(def.devices.interfaces[0].mac, "00:16:3e:aa:bb:cc");
    EXPECT_EQ(def.devices.interfaces[0].target_dev, "vif7.0");
    EXPECT_EQ(def.devices.interfaces[0].bandwidth_outbound_average, 2048u);
    auto vm = xen::domain_to_sexpr_text(def, xen::xend_config_version_3_0_4);
    EXPECT_EQ(vm,
              "(vm (name 'rt')(memory 256)(maxmem 512)(vcpus 4)(vcpu_avail 3)(uuid '596a5d21-71f4-8fb2-e068-e2386a5c413e')"
              "(on_poweroff 'destroy')(on_reboot 'restart')(on_crash 'restart')"
              "(image (linux (kernel '/boot/vmlinuz')(ramdisk '/boot/initrd')(args 'ro quiet')))(localtime 0)"
              "(device (tap (dev 'xvda')(uname 'tap:qcow:/img.qcow')(mode 'w!')))"
              "(device (vif (mac '00:16:3e:aa:bb:cc')(rate '2048KB/s')(bridge 'xenbr0')(script 'vif-bridge'))))");
}

TEST(XenDomainRecord, WhatXendCannotExpressIsRefused) {
    xml::domain_def def;
    def.type = xml::domain_virt_type::xen;
    def.name = "n";
    def.os.type = "linux";
    def.os.kernel = "/k";
    xml::interface_def nic;
    nic.type = xml::interface_type::network;
    nic.source_network = "default";
    def.devices.interfaces.push_back(nic);
    try {
        (void)xen::domain_to_sexpr_text(def, xen::xend_config_version_3_0_4);
        ADD_FAILURE();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::config_unsupported);
    }
    def.devices.interfaces.clear();
    def.os.type = "hvm";
    EXPECT_THROW((void)xen::domain_to_sexpr_text(def, xen::xend_config_version_3_0_4), virtpp::error);  // no loader
}

TEST(XenXmConfig, RequiredSettingsAndBadValuesAreNamed) {
    for (auto [text, says] : {std::pair{"uuid = \"596a5d21-71f4-8fb2-e068-e2386a5c413e\"\nkernel = \"/k\"\n", "name"},
                              std::pair{"name = \"a\"\nkernel = \"/k\"\n", "uuid"},
                              std::pair{"name = \"a\"\nuuid = \"596a5d21-71f4-8fb2-e068-e2386a5c413e\"\n", "kernel"},
                              std::pair{"name = \"a\"\nuuid = \"596a5d21-71f4-8fb2-e068-e2386a5c413e\"\nkernel = \"/k\"\nvcpus = \"x\"\n", "vcpus"},
                              std::pair{"name = \"a\"\nuuid = \"596a5d21-71f4-8fb2-e068-e2386a5c413e\"\nkernel = \"/k\"\ndisk = [ \"phy:/x\" ]\n", "disk entry"},
                              std::pair{"name = \"a\"\nuuid = \"596a5d21-71f4-8fb2-e068-e2386a5c413e\"\nkernel = \"/k\"\non_crash = \"boom\"\n", "on_crash"}}) {
        try {
            (void)xen::domain_from_xm_text(text, xen::xend_config_version_3_0_3);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const virtpp::error& e) {
            EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
        }
    }
}

TEST(XenXmConfig, WriterReadsBack) {
    xen::xm_config c;
    c.entries.push_back({"a", {std::string("plain")}});
    c.entries.push_back({"b", {std::string("has \" quote and \\ backslash")}});
    c.entries.push_back({"c", {std::string("ends with \"")}});
    c.entries.push_back({"d", {std::vector<std::string>{"x", "line\nbreak"}}});
    c.entries.push_back({"e", {std::int64_t{-42}}});
    EXPECT_EQ(xen::parse_xm_config(xen::format_xm_config(c)), c);
}

}  // namespace
