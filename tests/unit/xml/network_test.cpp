// The typed <network> definition: parse, format in libvirt 9.0's layout, and libvirt's errors.
#include <virtpp/xml/network.hpp>

#include <virtpp/error.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace virtpp;
using namespace virtpp::xml;

struct network_xml : ::testing::Test {
    void SetUp() override { set_error_handler([](const error_info&) {}); }
    void TearDown() override { set_error_handler({}); }
};

TEST_F(network_xml, parses_the_test_driver_default_network) {
    auto def = parse_network_xml(R"(<network>
  <name>default</name>
  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>)");
    EXPECT_EQ(def.name, "default");
    ASSERT_TRUE(def.uuid);
    EXPECT_EQ(def.uuid->str(), "dd8fe884-6c02-601e-7551-cca97df1c5df");
    ASSERT_TRUE(def.forward);
    EXPECT_EQ(def.forward->mode, network_forward_mode::nat);
    EXPECT_FALSE(def.forward->dev);
    ASSERT_TRUE(def.bridge);
    EXPECT_EQ(def.bridge->name, "virbr0");
    EXPECT_TRUE(def.bridge->stp);
    EXPECT_EQ(def.bridge->delay, 0u);
    ASSERT_EQ(def.ips.size(), 1u);
    EXPECT_EQ(def.ips[0].address, "192.168.122.1");
    EXPECT_EQ(def.ips[0].netmask, "255.255.255.0");
    ASSERT_EQ(def.ips[0].dhcp_ranges.size(), 1u);
    EXPECT_EQ(def.ips[0].dhcp_ranges[0].start, "192.168.122.2");
    EXPECT_EQ(def.ips[0].dhcp_ranges[0].end, "192.168.122.254");
}

TEST_F(network_xml, formats_forward_dev_as_first_interface_and_default_mode_nat) {
    auto def = parse_network_xml(
        "<network><name>n</name><forward dev='eth0'/><ip address='10.0.0.1' prefix='8'/></network>");
    ASSERT_TRUE(def.forward);
    EXPECT_EQ(def.forward->mode, network_forward_mode::nat);
    EXPECT_EQ(def.forward->dev, "eth0");
    EXPECT_EQ(def.forward->interfaces, std::vector<std::string>{"eth0"});
    EXPECT_EQ(format_network_xml(def), "<network>\n"
                                       "  <name>n</name>\n"
                                       "  <forward dev='eth0' mode='nat'>\n"
                                       "    <interface dev='eth0'/>\n"
                                       "  </forward>\n"
                                       "  <bridge stp='on' delay='0'/>\n"
                                       "  <ip address='10.0.0.1' prefix='8'>\n"
                                       "  </ip>\n"
                                       "</network>\n");
}

TEST_F(network_xml, canonicalizes_addresses_and_bridge_mac_like_libvirt) {
    auto def = parse_network_xml(R"(<network><name>n</name>
  <mac address='52:54:0:AB:cd:1'/>
  <ip address='1.2.3'/>
  <ip family='ipv6' address='2001:DB8:0:0::1' prefix='64'/>
</network>)");
    EXPECT_EQ(def.mac, "52:54:00:ab:cd:01");
    EXPECT_EQ(def.ips[0].address, "1.2.0.3");
    EXPECT_EQ(def.ips[1].address, "2001:db8::1");
}

TEST_F(network_xml, dhcp_ranges_come_before_hosts_whatever_the_input_order) {
    auto def = parse_network_xml(R"(<network><name>n</name><ip address='10.1.1.1' netmask='255.255.255.0'><dhcp>
      <host mac='00:16:3e:77:e2:ed' name='a' ip='10.1.1.10'/>
      <range start='10.1.1.100' end='10.1.1.200'/>
    </dhcp></ip></network>)");
    auto text = format_network_xml(def);
    EXPECT_LT(text.find("<range"), text.find("<host"));
    EXPECT_NE(text.find("<host mac='00:16:3e:77:e2:ed' name='a' ip='10.1.1.10'/>"), std::string::npos);
}

TEST_F(network_xml, isolated_network_still_formats_bridge_settings) {
    auto def = parse_network_xml("<network><name>iso</name></network>");
    ASSERT_TRUE(def.bridge);
    EXPECT_FALSE(def.bridge->name);
    EXPECT_EQ(format_network_xml(def), "<network>\n  <name>iso</name>\n  <bridge stp='on' delay='0'/>\n</network>\n");
}

TEST_F(network_xml, bridge_mode_formats_only_the_bridge_name) {
    auto def = parse_network_xml("<network><name>b</name><forward mode='bridge'/><bridge name='br0'/></network>");
    EXPECT_EQ(format_network_xml(def), "<network>\n  <name>b</name>\n  <forward mode='bridge'/>\n  <bridge name='br0'/>\n</network>\n");
}

TEST_F(network_xml, domain_name_and_local_only) {
    auto def = parse_network_xml("<network><name>d</name><domain name='example.com' localOnly='yes'/></network>");
    ASSERT_TRUE(def.domain);
    EXPECT_EQ(def.domain->name, "example.com");
    EXPECT_EQ(def.domain->local_only, true);
    EXPECT_NE(format_network_xml(def).find("<domain name='example.com' localOnly='yes'/>"), std::string::npos);
}

TEST_F(network_xml, a_struct_built_in_code_formats_and_parses_back) {
    network_def def;
    def.name = "built";
    def.uuid = uuid::from_string("004b96e12d78c30f5aa5f03c87d21e69");
    def.forward = network_forward{network_forward_mode::route, std::nullopt, {}};
    def.bridge = network_bridge{"virbr7", false, 3};
    network_ip ip;
    ip.address = "172.16.0.1";
    ip.netmask = "255.255.0.0";
    ip.dhcp_ranges.push_back({"172.16.0.10", "172.16.0.99"});
    ip.dhcp_hosts.push_back({"52:54:00:00:00:01", std::nullopt, "h", "172.16.0.5"});
    def.ips.push_back(ip);
    auto text = format_network_xml(def);
    EXPECT_EQ(parse_network_xml(text), def);
}

TEST_F(network_xml, forward_mode_names_round_trip) {
    for (auto mode : {network_forward_mode::nat, network_forward_mode::route, network_forward_mode::open,
                      network_forward_mode::bridge, network_forward_mode::private_, network_forward_mode::vepa,
                      network_forward_mode::passthrough, network_forward_mode::hostdev})
        EXPECT_EQ(network_forward_mode_from_string(to_string(mode)), mode);
    EXPECT_EQ(to_string(network_forward_mode::private_), "private");
    EXPECT_FALSE(network_forward_mode_from_string("tunnel"));
}

// ---- negative corpus: libvirt's code, the element/attribute named, and the line -------------

struct bad_case {
    const char* xml;
    error_code code;
    const char* must_mention;
    int line;
};

class network_xml_errors : public network_xml, public ::testing::WithParamInterface<bad_case> {};

TEST_P(network_xml_errors, raise_libvirts_code_naming_the_problem_and_line) {
    const auto& c = GetParam();
    try {
        (void)parse_network_xml(c.xml);
        FAIL() << "accepted: " << c.xml;
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), c.code) << e.what();
        EXPECT_EQ(e.domain(), error_domain::network) << e.what();
        EXPECT_NE(std::string(e.what()).find(c.must_mention), std::string::npos) << e.what();
        if (c.line > 0) {
            EXPECT_NE(std::string(e.what()).find("line " + std::to_string(c.line)), std::string::npos) << e.what();
            EXPECT_EQ(e.info().int1, c.line);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    corpus, network_xml_errors,
    ::testing::Values(
        bad_case{"<network>\n<name>x</name>\n<uuid>zz</uuid></network>", error_code::internal_error, "malformed uuid element", 3},
        bad_case{"<network>\n<uuid>004b96e12d78c30f5aa5f03c87d21e69</uuid></network>", error_code::no_name, "missing name", 1},
        bad_case{"<network><name>x</name>\n<forward mode='foo'/></network>", error_code::config_unsupported,
                 "unknown forwarding type 'foo'", 2},
        bad_case{"<network><name>x</name>\n<forward mode='nat'/></network>", error_code::xml_error,
                 "nat forwarding requested, but no IP address provided for network 'x'", 2},
        bad_case{"<network><name>x</name>\n<bridge delay='x'/></network>", error_code::xml_error,
                 "Invalid delay value in network 'x'", 2},
        bad_case{"<network><name>x</name>\n\n<ip/></network>", error_code::xml_error,
                 "Missing required address attribute in network 'x'", 3},
        bad_case{"<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp>\n<range start='10.0.0.9' end='10.0.0.2'/></dhcp></ip></network>",
                 error_code::internal_error, "range 10.0.0.9 - 10.0.0.2 is reversed", 2},
        bad_case{"<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp>\n<range start='10.0.1.9' end='10.0.1.20'/></dhcp></ip></network>",
                 error_code::internal_error, "is not entirely within network 10.0.0.1/24", 2},
        bad_case{"<network>\n<name>x/y</name></network>", error_code::xml_detail, "invalid char in name: /", 2},
        bad_case{"<network><name>x</name>\n<mac address='01:00:00:00:00:00'/></network>", error_code::xml_error,
                 "Invalid multicast bridge mac address '01:00:00:00:00:00'", 2},
        bad_case{"<network><name>x</name>\n<mac address='52:54:00:zz:00:00'/></network>", error_code::xml_error,
                 "Invalid bridge mac address", 2},
        bad_case{"<network><name>x</name>\n<ip address='10.0.0.1' family='ipx'/></network>", error_code::xml_error,
                 "Unrecognized family 'ipx'", 2},
        bad_case{"<network><name>x</name>\n<ip address='10.0.0.1' prefix='abc'/></network>", error_code::xml_error,
                 "Invalid value for attribute 'prefix' in element 'ip': 'abc'", 2},
        bad_case{"<network><name>x</name>\n<ip address='10.0.0.1' prefix='33'/></network>", error_code::config_unsupported,
                 "Invalid IPv4 prefix '33'", 2},
        bad_case{"<network><name>x</name>\n<ip address='10.0.0.1' netmask='255.0.0.0' prefix='8'/></network>",
                 error_code::config_unsupported, "cannot have both a prefix and a netmask", 2},
        bad_case{"<network><name>x</name>\n<ip address='bogus'/></network>", error_code::xml_error,
                 "Invalid address 'bogus' in network 'x'", 2},
        bad_case{"<network><name>x</name>\n<domain name='a' localOnly='maybe'/></network>", error_code::xml_error,
                 "Invalid value for attribute 'localOnly' in element 'domain': 'maybe'", 2},
        bad_case{"<netw>\n<name>x</name></netw>", error_code::xml_error, "expecting root element of 'network', not 'netw'", 1},
        bad_case{"<network><name>x</name><ip address='10.0.0.1' prefix='8'><dhcp>\n<host mac='00:16:3e:00:00:01'/></dhcp></ip></network>",
                 error_code::xml_error, "Missing IP address in static host definition", 2},
        bad_case{"<network><name>x</name><ip address='10.0.0.1' prefix='8'><dhcp>\n<host ip='10.0.0.3'/></dhcp></ip></network>",
                 error_code::xml_error, "must have mac or name attribute", 2},
        bad_case{"<network><name>x</name><forward dev='eth0' mode='passthrough'>\n<interface dev='eth1'/></forward></network>",
                 error_code::xml_error, "<forward dev='eth0'> must match first <interface dev='eth1'/>", 2},
        bad_case{"<network><name>x</name><forward mode='private'/>\n<bridge name='br0'/></network>", error_code::xml_error,
                 "bridge name not allowed in private mode (network 'x')", 2},
        bad_case{"<network><name>x</name><forward mode='bridge'/>\n<bridge name='br0' stp='on'/></network>",
                 error_code::xml_error, "bridge delay/stp/zone options only allowed", 2},
        bad_case{"<network><name>x</name>\n<ip address='10.0.0.1' prefix='8'/>\n<forward mode='route'><interface dev='a'/><interface dev='b'/></forward></network>",
                 error_code::xml_error, "multiple forwarding interfaces specified for network 'x'", 3},
        bad_case{"<network>\n<name>x</nam></network>", error_code::xml_detail, "(network_definition):2:", 0},
        bad_case{"", error_code::xml_detail, "Document is empty", 0}));

}  // namespace
