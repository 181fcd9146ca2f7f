#include <virtpp/xml/domain.hpp>

#include <virtpp/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace {

using namespace virtpp::xml;

struct silent_errors {
    silent_errors() { virtpp::set_error_handler([](const virtpp::error_info&) {}); }
    ~silent_errors() { virtpp::set_error_handler({}); }
};

std::string canonical(std::string_view xml, domain_format_flags flags = {}) {
    return format_domain_xml(parse_domain_xml(xml), flags);
}

constexpr std::string_view minimal_hvm = R"(<domain type='kvm'>
  <name>demo</name>
  <memory>131072</memory>
  <os><type>hvm</type></os>
</domain>)";

TEST(DomainXml, MinimalHvmGetsLibvirtParserDefaults) {
    EXPECT_EQ(canonical(minimal_hvm), R"(<domain type='kvm'>
  <name>demo</name>
  <memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type>hvm</type>
    <boot dev='hd'/>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
  </devices>
</domain>
)");
}

TEST(DomainXml, TypedFieldsAreFilled) {
    auto def = parse_domain_xml(R"(<domain type='qemu' id='7'>
  <name>QEmu-fedora-i686</name>
  <uuid>c7a5fdbdcdaf9455926ad65c16db1809</uuid>
  <memory unit='MiB'>214</memory>
  <currentMemory>219200</currentMemory>
  <vcpu cpuset='3,1-2,^2'>2</vcpu>
  <os><type arch='i686' machine='pc'>hvm</type><boot dev='cdrom'/><boot dev='hd'/></os>
  <features><pae/><acpi/></features>
  <clock sync='localtime'/>
  <on_crash>rename-restart</on_crash>
  <devices>
    <emulator>/usr/bin/qemu</emulator>
    <disk type='file' device='cdrom'><source file='/b.iso'/><target dev='hdc'/></disk>
    <interface type='mcast'><source address='230.0.0.1' port='5558'/><mac address='AA:00:00:00:00:11'/></interface>
    <console type='pty'/>
    <graphics type='vnc' port='-1' listen='127.0.0.1'/>
    <input type='tablet' bus='usb'/>
  </devices>
</domain>)");
    EXPECT_EQ(def.type, domain_virt_type::qemu);
    EXPECT_EQ(def.id, 7);
    EXPECT_EQ(def.uuid->str(), "c7a5fdbd-cdaf-9455-926a-d65c16db1809");
    EXPECT_EQ(def.memory_kib, 214u * 1024);
    EXPECT_EQ(def.current_memory_kib, 214u * 1024);  // above the maximum: clamped as libvirt does
    EXPECT_EQ(def.vcpu.count, 2u);
    EXPECT_EQ(def.vcpu.cpuset, "1,3");
    EXPECT_EQ(def.os.arch, "i686");
    ASSERT_EQ(def.os.boot.size(), 2u);
    EXPECT_EQ(def.os.boot[0], boot_device::cdrom);
    EXPECT_TRUE(def.features.pae && def.features.acpi && !def.features.apic);
    EXPECT_EQ(def.clock.offset, clock_offset::localtime);
    EXPECT_EQ(def.on_crash, lifecycle_action::rename_restart);
    ASSERT_EQ(def.devices.disks.size(), 1u);
    EXPECT_TRUE(def.devices.disks[0].readonly);
    EXPECT_EQ(def.devices.disks[0].target_bus, "ide");
    EXPECT_EQ(def.devices.interfaces[0].mac, "aa:00:00:00:00:11");
    EXPECT_EQ(def.devices.interfaces[0].source_port, 5558);
    // an HVM console of a serial target becomes serial 0 plus an alias console
    ASSERT_EQ(def.devices.serials.size(), 1u);
    ASSERT_EQ(def.devices.consoles.size(), 1u);
    EXPECT_TRUE(def.devices.graphics[0].autoport);
    EXPECT_EQ(def.devices.graphics[0].listens.at(0).address, "127.0.0.1");
}

TEST(DomainXml, MemoryUnitsScaleLikeLibvirt) {
    auto kib = [](std::string_view unit, std::string_view count) {
        std::string xml = "<domain type='test'><name>m</name><memory unit='" + std::string(unit) + "'>" +
                          std::string(count) + "</memory><os><type>hvm</type></os></domain>";
        return parse_domain_xml(xml).memory_kib;
    };
    EXPECT_EQ(kib("KiB", "1000"), 1000u);
    EXPECT_EQ(kib("k", "1000"), 1000u);
    EXPECT_EQ(kib("KB", "1000"), 977u);  // 1,000,000 bytes rounded up to KiB
    EXPECT_EQ(kib("b", "1"), 1u);
    EXPECT_EQ(kib("bytes", "2048"), 2u);
    EXPECT_EQ(kib("M", "2"), 2048u);
    EXPECT_EQ(kib("MB", "1"), 977u);
    EXPECT_EQ(kib("GiB", "1"), 1048576u);
    EXPECT_EQ(kib("g", "1"), 1048576u);
    EXPECT_EQ(kib("TiB", "1"), 1073741824u);
    EXPECT_EQ(kib("", "512"), 512u);
}

TEST(DomainXml, SameDocumentWrittenDifferentlyFormatsTheSame) {
    std::string a = R"(<domain type='xen'><name>fv0</name><uuid>4dea22b31d52d8f32516782e98ab3fa0</uuid>
<os><type>hvm</type><loader>/usr/lib/xen/boot/hvmloader</loader><boot dev='hd'/></os>
<memory>524288</memory><vcpu>1</vcpu><on_crash>restart</on_crash>
<features><pae/><acpi/><apic/></features><clock sync="localtime"/>
<devices><disk type='file'><source file='/root/fv0'/><target dev='hda'/></disk></devices></domain>)";
    std::string b = R"(<?xml version="1.0"?>
<domain type="xen">
    <uuid>4DEA22B3-1D52-D8F3-2516-782E98AB3FA0</uuid>
    <name>fv0</name>
    <memory unit="KiB">524288</memory>
    <on_crash>restart</on_crash>
    <vcpu placement="static">1</vcpu>
    <clock offset="localtime"/>
    <features><apic/><acpi/><pae/></features>
    <os>
        <boot dev="hd"/>
        <loader type="rom">/usr/lib/xen/boot/hvmloader</loader>
        <type>hvm</type>
    </os>
    <devices>
        <disk device="disk" type="file">
            <target bus="ide" dev="hda"/>
            <source file="/root/fv0"/>
        </disk>
    </devices>
</domain>)";
    EXPECT_EQ(canonical(a), canonical(b));
    EXPECT_EQ(canonical(canonical(a)), canonical(a));
}

TEST(DomainXml, InactiveDropsRuntimeParts) {
    constexpr std::string_view running = R"(<domain type='xen' id='18'><name>fc4</name><memory>131072</memory>
<os><type>linux</type><kernel>/boot/vmlinuz</kernel></os>
<devices><interface type='bridge'><source bridge='xenbr0'/><target dev='vif18.0'/></interface>
<console tty='/dev/pts/5'/><graphics type='vnc' port='5904' autoport='yes' passwd='s3cret'/></devices></domain>)";
    auto live = canonical(running);
    EXPECT_NE(live.find("<domain type='xen' id='18'>"), std::string::npos);
    EXPECT_NE(live.find("<console type='pty' tty='/dev/pts/5'>"), std::string::npos);
    EXPECT_NE(live.find("<target dev='vif18.0'/>"), std::string::npos);
    EXPECT_NE(live.find("port='5904' autoport='yes'"), std::string::npos);
    EXPECT_EQ(live.find("passwd"), std::string::npos);
    domain_format_flags inactive;
    inactive.inactive = true;
    auto config = canonical(running, inactive);
    EXPECT_NE(config.find("<domain type='xen'>"), std::string::npos);
    EXPECT_EQ(config.find("pts"), std::string::npos);
    EXPECT_EQ(config.find("vif18.0"), std::string::npos);
    EXPECT_NE(config.find("port='-1' autoport='yes'"), std::string::npos);
    domain_format_flags secure;
    secure.secure = true;
    EXPECT_NE(canonical(running, secure).find("passwd='s3cret'"), std::string::npos);
}

TEST(DomainXml, DriversCanEditTheAggregate) {
    auto def = parse_domain_xml(minimal_hvm);
    def.id = 3;
    def.memory_kib = 262144;
    def.vcpu.count = 4;
    disk_def disk;
    disk.source = "/var/lib/a.img";
    disk.target_dev = "vda";
    disk.target_bus = "virtio";
    def.devices.disks.push_back(disk);
    auto xml = format_domain_xml(def);
    EXPECT_NE(xml.find("<domain type='kvm' id='3'>"), std::string::npos);
    EXPECT_NE(xml.find("<currentMemory unit='KiB'>131072</currentMemory>"), std::string::npos);
    EXPECT_NE(xml.find("<vcpu placement='static'>4</vcpu>"), std::string::npos);
    EXPECT_NE(xml.find("<target dev='vda' bus='virtio'/>"), std::string::npos);
    EXPECT_EQ(format_domain_xml(parse_domain_xml(xml)), xml);
}

TEST(DomainXml, StringTables) {
    EXPECT_EQ(to_string(lifecycle_action::rename_restart), "rename-restart");
    EXPECT_EQ(lifecycle_action_from_string("preserve"), lifecycle_action::preserve);
    EXPECT_EQ(domain_virt_type_from_string("kvm"), domain_virt_type::kvm);
    EXPECT_FALSE(domain_virt_type_from_string("bogus"));
    EXPECT_EQ(to_string(domain_virt_type::test), "test");
}

struct bad_case {
    const char* label;
    std::string xml;
    virtpp::error_code code;
    const char* mentions;
};

std::string wrap(std::string_view inside, std::string_view type = "test") {
    return "<domain type='" + std::string(type) + "'>\n" + std::string(inside) + "\n</domain>";
}
constexpr std::string_view base = "<name>x</name><memory>1024</memory><os><type>hvm</type></os>";

class DomainXmlBad : public ::testing::TestWithParam<bad_case> {};

TEST_P(DomainXmlBad, RaisesLibvirtsCodeNamingTheProblem) {
    silent_errors quiet;
    const auto& c = GetParam();
    try {
        (void)parse_domain_xml(c.xml);
        FAIL() << c.label << ": parsed";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), c.code) << c.label << ": " << e.what();
        EXPECT_NE(std::string(e.what()).find(c.mentions), std::string::npos) << c.label << ": " << e.what();
    }
}

using virtpp::error_code;
INSTANTIATE_TEST_SUITE_P(
    Corpus, DomainXmlBad,
    ::testing::Values(
        bad_case{"missing name", wrap("<memory>1024</memory><os><type>hvm</type></os>"), error_code::no_name, "missing name"},
        bad_case{"empty name", wrap("<name></name><memory>1024</memory><os><type>hvm</type></os>"), error_code::no_name, "line 2"},
        bad_case{"bad uuid", wrap(std::string(base) + "<uuid>not-a-uuid</uuid>"), error_code::internal_error, "malformed uuid element"},
        bad_case{"short uuid", wrap(std::string(base) + "<uuid>4dea22b31d52d8f32516782e98ab3f</uuid>"), error_code::internal_error, "uuid"},
        bad_case{"memory not numeric", wrap("<name>x</name><memory>lots</memory><os><type>hvm</type></os>"), error_code::xml_error, "memory"},
        bad_case{"memory negative", wrap("<name>x</name><memory>-5</memory><os><type>hvm</type></os>"), error_code::xml_error, "memory"},
        bad_case{"memory missing", wrap("<name>x</name><os><type>hvm</type></os>"), error_code::xml_error, "Memory size must be specified"},
        bad_case{"memory unit unknown", wrap("<name>x</name><memory unit='parsecs'>1</memory><os><type>hvm</type></os>"), error_code::invalid_arg, "unknown suffix"},
        bad_case{"memory overflow", wrap("<name>x</name><memory unit='EiB'>100</memory><os><type>hvm</type></os>"), error_code::overflow, "too large"},
        bad_case{"unknown domain type", wrap(base, "vmwarez"), error_code::config_unsupported, "invalid domain type vmwarez"},
        bad_case{"missing domain type", "<domain><name>x</name></domain>", error_code::internal_error, "missing domain type"},
        bad_case{"unknown on_crash", wrap(std::string(base) + "<on_crash>explode</on_crash>"), error_code::config_unsupported, "on_crash"},
        bad_case{"coredump on reboot", wrap(std::string(base) + "<on_reboot>coredump-restart</on_reboot>"), error_code::config_unsupported, "reboot"},
        bad_case{"unknown os type", wrap("<name>x</name><memory>1024</memory><os><type>dos</type></os>"), error_code::config_unsupported, "unknown OS type"},
        bad_case{"missing os type", wrap("<name>x</name><memory>1024</memory><os/>"), error_code::xml_error, "os <type>"},
        bad_case{"vcpu not numeric", wrap(std::string(base) + "<vcpu>two</vcpu>"), error_code::xml_error, "vcpus count"},
        bad_case{"unknown clock offset", wrap(std::string(base) + "<clock offset='mars'/>"), error_code::config_unsupported, "clock offset"},
        bad_case{"unknown feature", wrap(std::string(base) + "<features><warp/></features>"), error_code::config_unsupported, "warp"},
        bad_case{"boot dev unknown", wrap("<name>x</name><memory>1024</memory><os><type>hvm</type><boot dev='tape'/></os>"), error_code::xml_error, "dev"},
        bad_case{"bad mac", wrap(std::string(base) + "<devices><interface type='user'><mac address='zz:00'/></interface></devices>"), error_code::xml_error, "mac address"},
        bad_case{"network without source", wrap(std::string(base) + "<devices><interface type='network'/></devices>"), error_code::internal_error, "network"},
        bad_case{"disk without target", wrap(std::string(base) + "<devices><disk type='file'><source file='/a'/></disk></devices>"), error_code::xml_error, "target"},
        bad_case{"unknown input", wrap(std::string(base) + "<devices><input type='joystick'/></devices>"), error_code::config_unsupported, "joystick"},
        bad_case{"vnc port garbage", wrap(std::string(base) + "<devices><graphics type='vnc' port='x'/></devices>"), error_code::internal_error, "vnc port"},
        bad_case{"bad cpuset", wrap(std::string(base) + "<vcpu cpuset='1-'>2</vcpu>"), error_code::invalid_arg, "bitmap"},
        bad_case{"wrong root", "<network><name>x</name></network>", error_code::xml_error, "expecting root element"},
        bad_case{"malformed xml", "<domain type='test'><name>x</nam></domain>", error_code::xml_detail, "(domain_definition):1:"}));

// ---- <cpu>, <audio>, <video> and the serial target model, as libvirt 9.0's test driver prints them
// (virsh -c test:///default define + dumpxml --inactive of the same document)
TEST(DomainXml, CpuAudioVideoAndSerialModelAsLibvirt) {
    const std::string input = R"(<domain type='test'><name>vd4</name><uuid>2f0a5b8e-1c3d-4e5f-8a9b-0c1d2e3f4a5b</uuid><memory>1024</memory><vcpu>2</vcpu><os><type>hvm</type></os>
<cpu mode='custom' match='exact'><model>qemu64</model><feature policy='require' name='sse4.2'/><topology sockets='1' cores='2' threads='1'/></cpu>
<devices><serial type='pty'><target type='isa-serial'><model name='isa-serial'/></target></serial><graphics type='vnc'/><audio id='1' type='none'/><video><model type='vga'/></video><video><model type='cirrus' vram='9216'/></video><video><model type='qxl'/></video></devices></domain>)";
    const std::string libvirt = R"(<domain type='test'>
  <name>vd4</name>
  <uuid>2f0a5b8e-1c3d-4e5f-8a9b-0c1d2e3f4a5b</uuid>
  <memory unit='KiB'>1024</memory>
  <currentMemory unit='KiB'>1024</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='i686'>hvm</type>
    <boot dev='hd'/>
  </os>
  <cpu mode='custom' match='exact'>
    <model fallback='allow'>qemu64</model>
    <topology sockets='1' dies='1' cores='2' threads='1'/>
    <feature policy='require' name='sse4.2'/>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='pty'>
      <target type='isa-serial' port='0'>
        <model name='isa-serial'/>
      </target>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <graphics type='vnc' port='-1' autoport='yes'>
      <listen type='address'/>
    </graphics>
    <audio id='1' type='none'/>
    <video>
      <model type='vga' vram='16384' heads='1' primary='yes'/>
    </video>
    <video>
      <model type='cirrus' vram='16384' heads='1'/>
    </video>
    <video>
      <model type='qxl' ram='65536' vram='65536' heads='1'/>
    </video>
  </devices>
</domain>
)";
    auto def = parse_domain_xml(input);
    def.os.arch = "i686";  // what the test driver's post-parse adds
    def.os.boot = {boot_device::hd};
    EXPECT_EQ(format_domain_xml(def, {.inactive = true}), libvirt);
    // graphics without a video card get libvirt's cirrus one; 'none' must stand alone
    auto implicit = parse_domain_xml("<domain type='test'><name>g</name><memory>1</memory><os><type>hvm</type></os>"
                                     "<devices><graphics type='vnc'/></devices></domain>");
    ASSERT_EQ(implicit.devices.videos.size(), 1u);
    EXPECT_EQ(implicit.devices.videos[0].model, "cirrus");
    EXPECT_TRUE(implicit.devices.videos[0].primary);
    try {
        (void)parse_domain_xml("<domain type='test'><name>n</name><memory>1</memory><os><type>hvm</type></os><devices>"
                               "<video><model type='none'/></video><video><model type='vga'/></video></devices></domain>");
        ADD_FAILURE() << "two video cards with 'none' were accepted";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), virtpp::error_code::config_unsupported);
    }
}

}  // namespace
