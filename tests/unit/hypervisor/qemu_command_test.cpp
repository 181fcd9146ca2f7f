// The QEMU command-line builder and the driver's configuration file, without running qemu.
#include "hypervisor/qemu_detail.hpp"

#include <virtpp/xml/domain.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

namespace virtpp {
namespace {

namespace qd = hypervisor::qemu_detail;

xml::domain_def guest(const std::string& devices, const std::string& type = "qemu", const std::string& extra = "") {
    return xml::parse_domain_xml("<domain type='" + type + "'><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>"
                                 "<memory>131072</memory><vcpu>2</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>" +
                                 extra + "<devices>" + devices + "</devices></domain>");
}

std::vector<std::string> argv_of(const xml::domain_def& def, qd::command_options opts = {}) {
    if (opts.emulator.empty()) opts.emulator = "/usr/bin/qemu-system-x86_64";
    if (opts.vnc_ports.empty()) opts.vnc_ports = {5901};
    return qd::build_command_line(def, opts).argv;
}

bool has_pair(const std::vector<std::string>& argv, const std::string& flag, const std::string& value) {
    for (std::size_t i = 0; i + 1 < argv.size(); ++i)
        if (argv[i] == flag && argv[i + 1] == value) return true;
    return false;
}

bool has(const std::vector<std::string>& argv, const std::string& arg) {
    return std::find(argv.begin(), argv.end(), arg) != argv.end();
}

TEST(QemuCommand, BasicsFollowQemu72Syntax) {
    auto a = argv_of(guest(""));
    EXPECT_EQ(a[0], "/usr/bin/qemu-system-x86_64");
    EXPECT_TRUE(has_pair(a, "-machine", "pc,usb=off,dump-guest-core=off"));
    EXPECT_TRUE(has_pair(a, "-accel", "tcg"));
    EXPECT_TRUE(has_pair(a, "-m", "128"));
    EXPECT_TRUE(has_pair(a, "-smp", "2,sockets=2,cores=1,threads=1"));
    EXPECT_TRUE(has_pair(a, "-chardev", "socket,id=charmonitor,fd=3,server=on,wait=off"));
    EXPECT_TRUE(has(a, "-no-user-config"));
    EXPECT_TRUE(has(a, "-nodefaults"));
    EXPECT_TRUE(has(a, "-no-shutdown"));
    EXPECT_TRUE(has(a, "-no-acpi"));
    EXPECT_TRUE(has_pair(a, "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"));
    EXPECT_TRUE(has_pair(a, "-display", "none"));
    EXPECT_EQ(argv_of(guest("")), a);  // deterministic
}

TEST(QemuCommand, KvmAndKqemu) {
    qd::command_options kvm;
    kvm.kvm = true;
    EXPECT_TRUE(has_pair(argv_of(guest("", "kvm"), kvm), "-accel", "kvm"));
    try {
        (void)argv_of(guest("", "kqemu"));
        ADD_FAILURE();
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::config_unsupported);
        EXPECT_EQ(e.domain(), error_domain::qemu);
        EXPECT_NE(std::string(e.what()).find("kqemu"), std::string::npos);
    }
}

TEST(QemuCommand, DirectKernelBootClockFeaturesAndLifecycle) {
    auto def = guest("", "qemu",
                     "<features><acpi/></features><clock offset='localtime'/><on_reboot>destroy</on_reboot>");
    def.os.kernel = "/k";
    def.os.initrd = "/i";
    def.os.cmdline = "console=ttyS0";
    auto a = argv_of(def);
    EXPECT_TRUE(has_pair(a, "-kernel", "/k"));
    EXPECT_TRUE(has_pair(a, "-initrd", "/i"));
    EXPECT_TRUE(has_pair(a, "-append", "console=ttyS0"));
    EXPECT_TRUE(has_pair(a, "-rtc", "base=localtime"));
    EXPECT_FALSE(has(a, "-no-acpi"));
    EXPECT_TRUE(has(a, "-no-reboot"));
}

TEST(QemuCommand, DisksOnIdeFloppyAndVirtioWithBootOrder) {
    auto def = guest("<disk type='file' device='cdrom'><source file='/cd.iso'/><target dev='hdc'/><readonly/></disk>"
                     "<disk type='block' device='disk'><source dev='/dev/sdz'/><target dev='hda'/></disk>"
                     "<disk type='file' device='floppy'><source file='/fd.img'/><target dev='fda'/></disk>"
                     "<disk type='file' device='disk'><source file='/v.qcow2'/><driver name='qemu' type='qcow2'/><target dev='vdb' bus='virtio'/></disk>",
                     "qemu", "");
    def.os.boot = {xml::boot_device::cdrom, xml::boot_device::hd};
    auto a = argv_of(def);
    // storage numbered as libvirt numbers it: from the last disk to the first
    EXPECT_TRUE(has_pair(a, "-device", R"({"driver":"ide-cd","bus":"ide.1","unit":0,"drive":"libvirt-4-format","id":"ide0-1-0","bootindex":1})"));
    EXPECT_TRUE(has_pair(a, "-device", R"({"driver":"ide-hd","bus":"ide.0","unit":0,"drive":"libvirt-3-format","id":"ide0-0-0","bootindex":2})"));
    EXPECT_TRUE(has_pair(a, "-blockdev", R"({"driver":"host_device","filename":"/dev/sdz","node-name":"libvirt-3-storage","read-only":false})"));
    EXPECT_TRUE(has_pair(a, "-blockdev", R"({"driver":"file","filename":"/cd.iso","node-name":"libvirt-4-storage","read-only":true})"));
    EXPECT_TRUE(has_pair(a, "-device", R"({"driver":"floppy","unit":0,"drive":"libvirt-2-format","id":"fdc0-0-0"})"));
    EXPECT_TRUE(has_pair(a, "-blockdev", R"({"node-name":"libvirt-1-format","read-only":false,"driver":"qcow2","file":"libvirt-1-storage"})"));
    EXPECT_TRUE(has_pair(a, "-device", R"({"driver":"virtio-blk-pci","bus":"pci.0","addr":"0x3","drive":"libvirt-1-format","id":"virtio-disk0"})"));
}

TEST(QemuCommand, AllSevenInterfaceKinds) {
    auto def = guest("<interface type='user'><mac address='52:54:00:00:00:01'/></interface>"
                     "<interface type='network'><source network='default'/></interface>"
                     "<interface type='bridge'><source bridge='br0'/><target dev='vnet7'/></interface>"
                     "<interface type='ethernet'><script path='/etc/qemu-ifup'/></interface>"
                     "<interface type='mcast'><source address='230.0.0.1' port='5558'/></interface>"
                     "<interface type='server'><source address='127.0.0.1' port='5559'/></interface>"
                     "<interface type='client'><source address='127.0.0.1' port='5559'/><model type='virtio'/></interface>");
    auto cmd = qd::build_command_line(def, {.emulator = "/q"});
    auto& a = cmd.argv;
    EXPECT_TRUE(has_pair(a, "-netdev", R"({"type":"user","id":"hostnet0"})"));
    EXPECT_TRUE(has_pair(a, "-device", R"({"driver":"rtl8139","netdev":"hostnet0","id":"net0","mac":"52:54:00:00:00:01","bus":"pci.0","addr":"0x3"})"));
    EXPECT_TRUE(has_pair(a, "-netdev", R"({"type":"tap","fd":"4","id":"hostnet1"})"));
    EXPECT_TRUE(has_pair(a, "-netdev", R"({"type":"tap","fd":"5","id":"hostnet2"})"));
    EXPECT_TRUE(has_pair(a, "-netdev", R"({"type":"tap","fd":"6","id":"hostnet3"})"));
    EXPECT_TRUE(has_pair(a, "-netdev", R"({"type":"socket","mcast":"230.0.0.1:5558","id":"hostnet4"})"));
    EXPECT_TRUE(has_pair(a, "-netdev", R"({"type":"socket","listen":"127.0.0.1:5559","id":"hostnet5"})"));
    EXPECT_TRUE(has_pair(a, "-netdev", R"({"type":"socket","connect":"127.0.0.1:5559","id":"hostnet6"})"));
    EXPECT_TRUE(has_pair(a, "-device", R"({"driver":"virtio-net-pci","netdev":"hostnet6","id":"net6","bus":"pci.0","addr":"0x9"})"));
    EXPECT_EQ(cmd.tap_names, (std::vector<std::string>{"", "vnet7", ""}));
}

TEST(QemuCommand, GraphicsSerialAndInputs) {
    auto a = argv_of(guest("<serial type='pty'><target port='0'/></serial><input type='tablet' bus='usb'/>"
                           "<input type='mouse' bus='ps2'/><graphics type='vnc' port='-1' listen='0.0.0.0' keymap='de'/>"));
    EXPECT_TRUE(has_pair(a, "-chardev", "pty,id=charserial0"));
    EXPECT_TRUE(has_pair(a, "-device", R"({"driver":"isa-serial","chardev":"charserial0","id":"serial0","index":0})"));
    EXPECT_TRUE(has_pair(a, "-device", R"({"driver":"usb-tablet","id":"input0","bus":"usb.0","port":"1"})"));
    EXPECT_TRUE(has_pair(a, "-vnc", "0.0.0.0:1,audiodev=audio1"));
    EXPECT_TRUE(has_pair(a, "-k", "de"));
    auto fixed = argv_of(guest("<graphics type='vnc' port='5907' autoport='no'/>"));
    EXPECT_TRUE(has_pair(fixed, "-vnc", "127.0.0.1:7,audiodev=audio1"));
    auto sdl = argv_of(guest("<graphics type='sdl'/>"));
    EXPECT_TRUE(has_pair(sdl, "-display", "sdl"));
}

TEST(QemuCommand, ArgsFilesQuoteWhatTheShellWould) {
    EXPECT_EQ(qd::format_args({"/q", "-name", "guest=a b", "-S"}), "/q \\\n-name 'guest=a b' \\\n-S\n");
}

TEST(QemuConfig, ReadsTheSubsetItKnows) {
    auto c = qd::parse_driver_config("# comment\nuser = \"qemu\"\ngroup=\"kvm\"  # why\nvnc_listen = \"0.0.0.0\"\nother = 1\n", "qemu.conf");
    EXPECT_EQ(c.user, "qemu");
    EXPECT_EQ(c.group, "kvm");
    EXPECT_EQ(c.vnc_listen, "0.0.0.0");
    auto d = qd::parse_driver_config("", "qemu.conf");
    EXPECT_EQ(d.user, "root");
    try {
        (void)qd::parse_driver_config("user qemu\n", "qemu.conf");
        ADD_FAILURE();
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::conf_syntax);
        EXPECT_NE(std::string(e.what()).find("qemu.conf:1"), std::string::npos);
    }
}

TEST(QemuConfig, MigrationKeys) {
    auto d = qd::parse_driver_config("", "qemu.conf");
    EXPECT_EQ(d.migration_address, "0.0.0.0");
    EXPECT_EQ(d.migration_host, "");
    EXPECT_EQ(d.migration_port_min, 49152);
    EXPECT_EQ(d.migration_port_max, 49215);
    auto c = qd::parse_driver_config("migration_address = \"127.0.0.1\"\nmigration_host = \"dest.example\"\n"
                                     "migration_port_min = 50000\nmigration_port_max = 50010\n", "qemu.conf");
    EXPECT_EQ(c.migration_address, "127.0.0.1");
    EXPECT_EQ(c.migration_host, "dest.example");
    EXPECT_EQ(c.migration_port_min, 50000);
    EXPECT_EQ(c.migration_port_max, 50010);
    for (const char* bad : {"migration_port_min = 0\n", "migration_port_max = 70000\n", "migration_port_min = \"x\"\n",
                            "migration_port_min = 60000\nmigration_port_max = 50000\n"}) {
        try {
            (void)qd::parse_driver_config(bad, "qemu.conf");
            ADD_FAILURE() << bad;
        } catch (const error& e) {
            EXPECT_EQ(e.code(), error_code::conf_syntax) << bad;
            EXPECT_NE(std::string(e.what()).find("migration_port_m"), std::string::npos) << e.what();
        }
    }
}

TEST(QemuPaths, SystemSessionAndInjectedRoots) {
    std::optional<std::string> xdg;
    if (const char* v = std::getenv("XDG_CONFIG_HOME")) xdg = v;
    ::unsetenv("VIRTPP_QEMU_STATE_DIR");
    auto sys = qd::paths_for(true);
    EXPECT_EQ(sys.config_dir, "/etc/libvirt/qemu");
    EXPECT_EQ(sys.run_dir, "/run/libvirt/qemu");
    ::setenv("XDG_CONFIG_HOME", "/tmp/xdg-config", 1);
    EXPECT_EQ(qd::paths_for(false).config_dir, "/tmp/xdg-config/libvirt/qemu");
    EXPECT_EQ(qd::paths_for(false).conf_file, "/tmp/xdg-config/libvirt/qemu.conf");
    if (xdg) ::setenv("XDG_CONFIG_HOME", xdg->c_str(), 1);
    else ::unsetenv("XDG_CONFIG_HOME");
    ::setenv("VIRTPP_QEMU_STATE_DIR", "/tmp/root", 1);
    EXPECT_EQ(qd::paths_for(true).config_dir, "/tmp/root/qemu");
    ::unsetenv("VIRTPP_QEMU_STATE_DIR");
}

}  // namespace
}  // namespace virtpp
