// QEMU option injection (issue 14): a comma in a value placed into a QEMU option list must not
// start an option of its own. One test per option kind: the exploit value goes in, and the
// argument qemu gets keeps it whole (doubled commas, a JSON string) or the value is refused.
#include "hypervisor/qemu_detail.hpp"

#include <virtpp/xml/domain.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>

namespace virtpp {
namespace {

namespace qd = hypervisor::qemu_detail;
namespace json = boost::json;

xml::domain_def guest(const std::string& devices, const std::string& name = "g", const std::string& machine = "pc") {
    return xml::parse_domain_xml("<domain type='qemu'><name>" + name + "</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>"
                                 "<memory>131072</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='" + machine +
                                 "'>hvm</type></os><devices>" + devices + "</devices></domain>");
}

std::vector<std::string> argv_of(const xml::domain_def& def) {
    qd::command_options opts;
    opts.emulator = "/usr/bin/qemu-system-x86_64";
    opts.vnc_ports = {5901};
    return qd::build_command_line(def, opts).argv;
}

std::vector<std::string> values_of(const std::vector<std::string>& argv, const std::string& flag) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i + 1 < argv.size(); ++i)
        if (argv[i] == flag) out.push_back(argv[i + 1]);
    return out;
}

/// Splits a QEMU option list as QEMU does: ",," is a comma inside a value.
std::vector<std::string> qemu_opts_split(const std::string& list) {
    std::vector<std::string> out(1);
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (list[i] == ',' && i + 1 < list.size() && list[i + 1] == ',') {
            out.back() += ',';
            ++i;
        } else if (list[i] == ',') {
            out.emplace_back();
        } else {
            out.back() += list[i];
        }
    }
    return out;
}

TEST(QemuEscape, TheHelperDoublesCommasOnly) {
    EXPECT_EQ(qd::escape_option_value("plain"), "plain");
    EXPECT_EQ(qd::escape_option_value("a,b"), "a,,b");
    EXPECT_EQ(qd::escape_option_value(",,"), ",,,,");
    EXPECT_EQ(qd::escape_option_value(""), "");
}

TEST(QemuEscape, Name) {
    auto name = values_of(argv_of(guest("", "evil,debug-threads=off,process=x")), "-name");
    ASSERT_EQ(name.size(), 1U);
    EXPECT_EQ(name[0], "guest=evil,,debug-threads=off,,process=x,debug-threads=on");
    EXPECT_EQ(qemu_opts_split(name[0]),
              (std::vector<std::string>{"guest=evil,debug-threads=off,process=x", "debug-threads=on"}));
}

TEST(QemuEscape, Machine) {
    auto m = values_of(argv_of(guest("", "g", "pc,memory-backend=x")), "-machine");
    ASSERT_EQ(m.size(), 1U);
    EXPECT_EQ(qemu_opts_split(m[0]).front(), "pc,memory-backend=x");
}

TEST(QemuEscape, Chardev) {
    auto a = argv_of(guest("<serial type='file'><source path='/tmp/x,server=on,wait=off'/><target port='0'/></serial>"
                           "<serial type='tcp'><source mode='connect' host='127.0.0.1,ipv6=on' service='4555,x=y'/><target port='1'/></serial>"));
    auto c = values_of(a, "-chardev");
    ASSERT_EQ(c.size(), 3U);  // the monitor and the two serial ports
    EXPECT_EQ(c[1], "file,id=charserial0,path=/tmp/x,,server=on,,wait=off");
    EXPECT_EQ(qemu_opts_split(c[1]), (std::vector<std::string>{"file", "id=charserial0", "path=/tmp/x,server=on,wait=off"}));
    auto tcp = qemu_opts_split(c[2]);
    EXPECT_EQ(tcp[2], "host=127.0.0.1,ipv6=on");
    EXPECT_EQ(tcp[3], "port=4555,x=y");
}

TEST(QemuEscape, Vnc) {
    auto a = argv_of(guest("<graphics type='vnc' port='-1' listen='127.0.0.1,password=off,websocket=5700'/>"));
    auto v = values_of(a, "-vnc");
    ASSERT_EQ(v.size(), 1U);
    EXPECT_EQ(qemu_opts_split(v[0]), (std::vector<std::string>{"127.0.0.1,password=off,websocket=5700:1", "audiodev=audio1"}));
}

TEST(QemuEscape, KeymapIsRefusedNotPassed) {
    try {
        (void)argv_of(guest("<graphics type='vnc' port='-1' keymap='de,sasl=on'/>"));
        FAIL() << "accepted";
    } catch (const error& e) {
        EXPECT_EQ(e.info().code, error_code::config_unsupported);
        EXPECT_NE(e.info().message.find("invalid VNC keymap"), std::string::npos);
    }
    EXPECT_EQ(values_of(argv_of(guest("<graphics type='vnc' port='-1' keymap='en-us'/>")), "-k"),
              (std::vector<std::string>{"en-us"}));
}

/// Every JSON argument of FLAG parses as one object; returns them.
std::vector<json::object> json_args(const std::vector<std::string>& argv, const std::string& flag) {
    std::vector<json::object> out;
    for (const auto& v : values_of(argv, flag)) {
        json::value parsed = json::parse(v);
        EXPECT_TRUE(parsed.is_object()) << v;
        out.push_back(parsed.as_object());
    }
    return out;
}

TEST(QemuEscape, DriveAndBlockdev) {
    auto a = argv_of(guest("<disk type='file' device='disk'><source file='/tmp/d.img,file.driver=ssh,read-only=off'/>"
                           "<target dev='vda' bus='virtio'/></disk>"));
    EXPECT_TRUE(values_of(a, "-drive").empty());  // no option-list form at all
    auto b = json_args(a, "-blockdev");
    ASSERT_EQ(b.size(), 2U);
    EXPECT_EQ(b[0].at("filename").as_string(), "/tmp/d.img,file.driver=ssh,read-only=off");
    EXPECT_FALSE(b[0].contains("file.driver"));
}

TEST(QemuEscape, Netdev) {
    auto a = argv_of(guest("<interface type='server'><source address='127.0.0.1,fd=3' port='5559'/></interface>"));
    auto n = json_args(a, "-netdev");
    ASSERT_EQ(n.size(), 1U);
    EXPECT_EQ(n[0].size(), 3U);  // type, listen, id: nothing injected
    EXPECT_EQ(n[0].at("listen").as_string(), "127.0.0.1,fd=3:5559");
}

TEST(QemuEscape, Device) {
    auto a = argv_of(guest("<disk type='file' device='disk'><source file='/tmp/a,b'/><target dev='hda' bus='ide'/></disk>"
                           "<interface type='user'><mac address='52:54:00:00:00:01'/></interface>"
                           "<serial type='file'><source path='/tmp/s,t'/><target port='0'/></serial>"));
    auto devices = json_args(a, "-device");
    ASSERT_FALSE(devices.empty());
    for (const auto& d : devices)
        for (const auto& [key, value] : d) {
            EXPECT_EQ(std::string_view(key).find(','), std::string_view::npos);
            if (value.is_string()) {
                EXPECT_EQ(std::string_view(value.as_string()).find("/tmp/"), std::string_view::npos)
                    << "a path reached -device: " << json::serialize(d);
            }
        }
}

}  // namespace
}  // namespace virtpp
