// The virtual network driver's dnsmasq files and XML against libvirtd 9.0's network driver: for
// each definition under tests/data/network-driver (and the batch-2 networkxml2confdata fixtures), the
// <name>.libvirtd.* files are what libvirtd 9.0 wrote / virsh printed when it ran that network
// (captured in a private mount + network namespace); virtpp must produce the same bytes.
#include "hypervisor/network_driver.hpp"

#include <virtpp/error.hpp>
#include <virtpp/xml/network.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using namespace virtpp;
namespace fs = std::filesystem;
namespace net = virtpp::hypervisor::network;

const fs::path data_dir = fs::path(VIRTPP_SOURCE_DIR) / "tests/data/network-driver";
const fs::path fixtures = fs::path(VIRTPP_SHARED_DIR) / "fixtures-batch2/libvirt/tests/networkxml2confdata";

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    EXPECT_TRUE(in.good()) << "cannot read " << p;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// What the driver holds after define + start: the parsed definition (libvirtd generated the
/// bridge MAC and uuid; the live XML it printed gives them back).
xml::network_def running_def(const fs::path& input, const fs::path& live) {
    auto def = xml::parse_network_xml(slurp(input));
    if (fs::exists(live)) {
        auto printed = xml::parse_network_xml(slurp(live));
        def.uuid = printed.uuid;
        def.mac = printed.mac;
        def.bridge = printed.bridge;
    }
    return def;
}

class DnsmasqConf : public ::testing::TestWithParam<std::string> {};

TEST_P(DnsmasqConf, SameFilesAsLibvirtd) {
    const std::string name = GetParam();
    auto def = running_def(data_dir / (name + ".xml"), data_dir / (name + ".libvirtd.live.xml"));
    auto files = net::files_of(net::paths_for_system(), def.name);
    EXPECT_EQ(net::dnsmasq_config(def, files), slurp(data_dir / (name + ".libvirtd.conf")));
    if (fs::exists(data_dir / (name + ".libvirtd.hostsfile"))) {
        EXPECT_EQ(net::dnsmasq_hostsfile(def), slurp(data_dir / (name + ".libvirtd.hostsfile")));
    }
    if (fs::exists(data_dir / (name + ".libvirtd.addnhosts"))) {
        EXPECT_EQ(net::dnsmasq_addnhosts(def), slurp(data_dir / (name + ".libvirtd.addnhosts")));
    }
}

TEST_P(DnsmasqConf, XmlAsVirshPrintsIt) {
    const std::string name = GetParam();
    if (!fs::exists(data_dir / (name + ".libvirtd.inactive.xml"))) GTEST_SKIP() << "no XML captured for " << name;
    auto inactive = slurp(data_dir / (name + ".libvirtd.inactive.xml"));
    auto live = slurp(data_dir / (name + ".libvirtd.live.xml"));
    // virsh adds one newline after the document
    EXPECT_EQ(xml::format_network_xml(xml::parse_network_xml(inactive), {.inactive = true}) + "\n", inactive);
    EXPECT_EQ(xml::format_network_xml(xml::parse_network_xml(live)) + "\n", live);
}

INSTANTIATE_TEST_SUITE_P(Libvirtd90, DnsmasqConf, ::testing::Values("private", "iso6", "nodns", "dnsfull", "route"));

// The fixture nat-network.xml (libvirt's own test input) as libvirtd 9.0 runs it: its <option>
// elements are not part of 9.0's schema and are dropped, as 9.0 drops them.
TEST(DnsmasqConfFixture, NatNetwork) {
    auto def = xml::parse_network_xml(slurp(fixtures / "nat-network.xml"));
    auto files = net::files_of(net::paths_for_system(), def.name);
    EXPECT_EQ(net::dnsmasq_config(def, files), slurp(data_dir / "nat-network.libvirtd.conf"));
    EXPECT_EQ(net::dnsmasq_hostsfile(def), "00:16:3e:77:e2:ed,192.168.122.10,a.example.com\n"
                                           "00:16:3e:3e:a9:1a,192.168.122.11,b.example.com\n");
}

// The fixture isolated-network.xml: libvirtd 9.0's file differs from the (older) fixture .conf
// only where 9.0 changed the format (bind-dynamic, netmask, dhcp-authoritative, pid-file, RA).
TEST(DnsmasqConfFixture, IsolatedNetwork) {
    auto def = xml::parse_network_xml(slurp(fixtures / "isolated-network.xml"));
    auto conf = net::dnsmasq_config(def, net::files_of(net::paths_for_system(), def.name));
    EXPECT_NE(conf.find("dhcp-option=3\nno-resolv\nra-param=*,0,0\n"), std::string::npos) << conf;
    EXPECT_NE(conf.find("dhcp-range=192.168.152.2,192.168.152.254,255.255.255.0\n"), std::string::npos) << conf;
    EXPECT_NE(conf.find("dhcp-lease-max=253\n"), std::string::npos) << conf;
}

TEST(DnsmasqConfFixture, TwoIPv4DhcpBlocksRefused) {
    auto def = xml::parse_network_xml(
        "<network><name>two</name><bridge name='b0'/>"
        "<ip address='10.0.0.1' netmask='255.255.255.0'><dhcp><range start='10.0.0.2' end='10.0.0.9'/></dhcp></ip>"
        "<ip address='10.0.1.1' netmask='255.255.255.0'><dhcp><range start='10.0.1.2' end='10.0.1.9'/></dhcp></ip>"
        "</network>");
    try {
        (void)net::dnsmasq_config(def, net::files_of(net::paths_for_system(), def.name));
        FAIL() << "accepted";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.info().code, error_code::config_unsupported);
        EXPECT_NE(std::string(e.what()).find("multiple DHCP definitions"), std::string::npos);
    }
}

TEST(NetworkFirewall, NatRulesReplaceTheTableAtomically) {
    auto def = xml::parse_network_xml(slurp(fixtures / "nat-network.xml"));
    auto script = net::firewall_script({def});
    EXPECT_EQ(script.rfind("table inet virtpp\ndelete table inet virtpp\ntable inet virtpp {\n", 0), 0U) << script;
    EXPECT_NE(script.find("    iifname \"virbr0\" oifname \"eth1\" ip saddr 192.168.122.0/24 accept\n"), std::string::npos) << script;
    EXPECT_NE(script.find("    oifname \"eth1\" ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 meta l4proto tcp masquerade to :1024-65535\n"),
              std::string::npos)
        << script;
    EXPECT_NE(script.find("    iifname \"eth1\" oifname \"virbr0\" ip daddr 192.168.122.0/24 ct state related,established accept\n"),
              std::string::npos)
        << script;
    // libvirt routes a nat network's IPv6 subnets: no masquerade for them
    EXPECT_EQ(script.find("ip6 saddr 2001:db8:ac10:fe01::/64 ip6 daddr"), std::string::npos) << script;
    EXPECT_EQ(net::firewall_script({}), "table inet virtpp\ndelete table inet virtpp\n");
}

TEST(NetworkFirewall, IsolatedRejectsForwarding) {
    auto def = xml::parse_network_xml(slurp(fixtures / "isolated-network.xml"));
    auto script = net::firewall_script({def});
    EXPECT_NE(script.find("    iifname \"virbr2\" oifname \"virbr2\" accept\n"), std::string::npos) << script;
    EXPECT_NE(script.find("    oifname \"virbr2\" reject\n"), std::string::npos) << script;
    EXPECT_NE(script.find("    iifname \"virbr2\" reject\n"), std::string::npos) << script;
    EXPECT_EQ(script.find("masquerade"), std::string::npos) << script;
}

TEST(NetworkUpdate, DhcpAndDnsHosts) {
    auto def = xml::parse_network_xml(slurp(data_dir / "route.xml"));
    net::apply_update(def, 3, 4, -1, "<host mac='52:54:00:00:00:06' name='g6' ip='192.168.152.6'/>");
    ASSERT_EQ(def.ips[0].dhcp_hosts.size(), 2U);
    EXPECT_EQ(def.ips[0].dhcp_hosts[1].ip, "192.168.152.6");
    EXPECT_THROW(net::apply_update(def, 3, 4, -1, "<host mac='52:54:00:00:00:07' ip='10.9.9.9'/>"), virtpp::error);
    EXPECT_THROW(net::apply_update(def, 3, 4, -1, "<host mac='52:54:00:00:00:06' ip='192.168.152.7'/>"), virtpp::error);
    net::apply_update(def, 2, 4, -1, "<host mac='52:54:00:00:00:06' name='g6' ip='192.168.152.6'/>");
    EXPECT_EQ(def.ips[0].dhcp_hosts.size(), 1U);
    net::apply_update(def, 4, 10, -1, "<host ip='192.168.152.9'><hostname>db</hostname></host>");
    ASSERT_EQ(def.dns.hosts.size(), 2U);
    EXPECT_EQ(def.dns.hosts[0].hostnames[0], "db");
    net::apply_update(def, 2, 10, -1, "<host ip='192.168.152.9'><hostname>db</hostname></host>");
    EXPECT_EQ(def.dns.hosts.size(), 1U);
    EXPECT_THROW(net::apply_update(def, 3, 7, -1, "<txt name='x' value='y'/>"), virtpp::error);
}

// libvirtd 9.0's messages for refused updates (virsh net-update against its test driver)
TEST(NetworkUpdate, ErrorsAsLibvirt) {
    auto def = xml::parse_network_xml(slurp(data_dir / "route.xml"));
    const std::string n = def.name;
    auto refusal = [&](unsigned command, unsigned section, const std::string& text) -> std::pair<error_code, std::string> {
        try {
            net::apply_update(def, command, section, -1, text);
        } catch (const virtpp::error& e) {
            return {e.info().code, e.info().message};
        }
        return {error_code::ok, "accepted"};
    };
    EXPECT_EQ(refusal(3, 4, "<host/>"), std::make_pair(error_code::xml_error, "XML error: Static host definition in IPv4 network '" + n +
                                                                                  "' must have mac or name attribute"));
    EXPECT_EQ(refusal(3, 4, "<foo mac='52:54:00:00:00:01' ip='192.168.152.5'/>"),
              std::make_pair(error_code::xml_error,
                             "XML error: unexpected element <foo>, expecting <host>, while updating network '" + n + "'"));
    EXPECT_EQ(refusal(2, 10, "<host ip='1.2.3.4'><hostname>a</hostname></host>"),
              std::make_pair(error_code::operation_invalid,
                             "Requested operation is not valid: couldn't locate a matching DNS HOST record in network " + n));
    EXPECT_EQ(refusal(1, 10, "<host ip='1.2.3.4'><hostname>a</hostname></host>").first, error_code::operation_unsupported);
    net::apply_update(def, 3, 4, -1, "<host mac='52:54:00:00:00:01' ip='192.168.152.50'/>");
    EXPECT_EQ(refusal(3, 4, "<host mac='52:54:00:00:00:01' ip='192.168.152.60'/>"),
              std::make_pair(error_code::operation_invalid,
                             "Requested operation is not valid: there is an existing dhcp host entry in network '" + n +
                                 "' that matches \"<host mac='52:54:00:00:00:01' name='(null)' ip='192.168.152.60'/>\""));
}


// the sections beyond hosts, with libvirt 9.0's matching (compared live with libvirtd by
// script.network_libvirtd_oracle; these pin the rules without a daemon)
TEST(NetworkUpdate, RangesRecordsPortgroupsAndPartialDeletes) {
    auto def = xml::parse_network_xml(slurp(data_dir / "upd.xml"));
    auto& ip = def.ips[0];
    net::apply_update(def, 4, 5, -1, "<range start='192.168.150.200' end='192.168.150.210'/>");
    ASSERT_EQ(ip.dhcp_ranges.size(), 2U);
    EXPECT_EQ(ip.dhcp_ranges[0].start, "192.168.150.200");
    EXPECT_THROW(net::apply_update(def, 3, 5, -1, "<range start='192.168.150.200' end='192.168.150.210'/>"), virtpp::error);
    EXPECT_THROW(net::apply_update(def, 1, 5, -1, "<range start='192.168.150.200' end='192.168.150.210'/>"), virtpp::error);
    net::apply_update(def, 2, 5, -1, "<range start='192.168.150.200' end='192.168.150.210'/>");
    EXPECT_EQ(ip.dhcp_ranges.size(), 1U);
    // TXT: by name; a delete needs no value
    net::apply_update(def, 3, 11, -1, "<txt name='t2' value='two'/>");
    EXPECT_EQ(def.dns.txts.back().value, "two");
    net::apply_update(def, 2, 11, -1, "<txt name='t1'/>");
    ASSERT_EQ(def.dns.txts.size(), 1U);
    EXPECT_EQ(def.dns.txts[0].name, "t2");
    // SRV: a delete by the fields given; an add clashing on them is refused
    net::apply_update(def, 3, 12, -1, "<srv service='ldap' protocol='tcp' target='l.test' port='389' priority='1' weight='2'/>");
    EXPECT_THROW(net::apply_update(def, 3, 12, -1, "<srv service='ldap' protocol='tcp'/>"), virtpp::error);
    EXPECT_THROW(net::apply_update(def, 3, 12, -1, "<srv service='x' protocol='udp' port='5'/>"), virtpp::error);
    net::apply_update(def, 2, 12, -1, "<srv service='www'/>");
    ASSERT_EQ(def.dns.srvs.size(), 1U);
    EXPECT_EQ(def.dns.srvs[0].port, 389U);
    // a DHCP host deleted by its name alone, then by its address alone
    net::apply_update(def, 3, 4, -1, "<host mac='52:54:00:00:00:77' name='h7' ip='192.168.150.77'/>");
    net::apply_update(def, 2, 4, -1, "<host name='h7'/>");
    EXPECT_EQ(ip.dhcp_hosts.size(), 1U);
    net::apply_update(def, 2, 4, -1, "<host ip='192.168.150.5'/>");
    EXPECT_TRUE(ip.dhcp_hosts.empty());
    // portgroups: by name, one default
    net::apply_update(def, 3, 9, -1, "<portgroup name='eng' default='yes'/>");
    EXPECT_THROW(net::apply_update(def, 4, 9, -1, "<portgroup name='ops' default='yes'/>"), virtpp::error);
    net::apply_update(def, 1, 9, -1, "<portgroup name='eng'><bandwidth><outbound average='7'/></bandwidth></portgroup>");
    ASSERT_EQ(def.portgroups.size(), 1U);
    EXPECT_FALSE(def.portgroups[0].is_default);
    EXPECT_EQ(def.portgroups[0].bandwidth->outbound->average, 7U);
    net::apply_update(def, 2, 9, -1, "<portgroup name='eng'/>");
    EXPECT_TRUE(def.portgroups.empty());
    // what libvirt cannot update either, and the dnsmasq line of an SRV record with a target
    EXPECT_THROW(net::apply_update(def, 3, 1, -1, "<bridge name='x'/>"), virtpp::error);
    auto conf = net::dnsmasq_config(def, net::files_of(net::paths{}, def.name));
    EXPECT_NE(conf.find("srv-host=_ldap._tcp,l.test,389,1,2\n"), std::string::npos) << conf;
}

TEST(NetworkXml, BandwidthAndPortgroupsRoundTrip) {
    auto def = xml::parse_network_xml(slurp(data_dir / "pg.xml"));
    ASSERT_EQ(def.portgroups.size(), 4U);
    EXPECT_TRUE(def.portgroups[0].is_default);  // default='YES': any case
    EXPECT_FALSE(def.portgroups[3].bandwidth);  // <bandwidth/> without rates is none
    auto text = xml::format_network_xml(def);
    EXPECT_NE(text.find("  <portgroup name='engineering' default='yes'>\n    <bandwidth>\n"
                        "      <inbound average='1000' peak='5000' burst='5120'/>\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(xml::parse_network_xml(text), def);
    EXPECT_THROW((void)xml::parse_network_xml("<network><name>b</name><bandwidth><inbound peak='5'/></bandwidth></network>"),
                 virtpp::error);
}

}  // namespace
