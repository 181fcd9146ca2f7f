// The test driver's storage pool and volumes, host interface, node devices, snapshots and
// checkpoints, in process. Expected values are libvirt 9.0's test:///default (virsh -c
// test:///default pool-dumpxml default-pool, vol-create-as, iface-dumpxml eth1, nodedev-dumpxml,
// snapshot-create, checkpoint-create; tests/python/compare_objects.py compares the whole set with
// python3-libvirt, in process and over both daemons). Here: what that comparison cannot reach
// (malformed documents, the wire-free library calls, tree bookkeeping).
#include <virtpp/connection.hpp>
#include <virtpp/hypervisor/test.hpp>

#include "caught_error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace {

using namespace virtpp;
using conn_t = basic_connection<hypervisor::test>;

using virtpp_test::catch_error;

struct test_objects : ::testing::Test {
    void SetUp() override { set_error_handler([](const error_info&) {}); }
    void TearDown() override { set_error_handler({}); }
    conn_t c = conn_t::open("test:///default");
    domain_ref dom() { return c.call<op::domain_lookup_by_name>({"test"}); }
};

TEST_F(test_objects, default_pool_is_libvirts) {
    auto pool = c.call<op::storage_pool_lookup_by_name>({"default-pool"});
    EXPECT_EQ(pool.uuid.str(), "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566");
    EXPECT_EQ(c.call<op::storage_pool_lookup_by_uuid>({pool.uuid}), pool);
    auto info = c.call<op::storage_pool_get_info>({pool});
    EXPECT_EQ(info, (storage_pool_info{2, 107374182400ULL, 0, 107374182400ULL}));
    EXPECT_EQ(c.call<op::storage_pool_get_xml_desc>({pool, 0}), R"(<pool type='dir'>
  <name>default-pool</name>
  <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>
  <capacity unit='bytes'>107374182400</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>107374182400</available>
  <source>
  </source>
  <target>
    <path>/default-pool</path>
  </target>
</pool>
)");
    auto missing = catch_error([&] { c.call<op::storage_pool_lookup_by_name>({"nx"}); });
    EXPECT_EQ(missing.code, error_code::no_storage_pool);
    EXPECT_EQ(missing.message, "Storage pool not found: no storage pool with matching name 'nx'");
}

TEST_F(test_objects, volumes_are_charged_to_the_pool_and_released) {
    auto pool = c.call<op::storage_pool_lookup_by_name>({"default-pool"});
    auto vol = c.call<op::storage_vol_create_xml>(
        {pool, "<volume type='file'><name>raw.img</name><allocation unit='M'>10</allocation><capacity unit='M'>1000</capacity></volume>", 0});
    EXPECT_EQ(vol, (storage_vol_ref{"default-pool", "raw.img", "/default-pool/raw.img"}));
    EXPECT_EQ(c.call<op::storage_vol_get_info>({vol}), (storage_vol_info{0, 1048576000ULL, 10485760ULL}));
    EXPECT_EQ(c.call<op::storage_pool_get_info>({pool}).allocation, 10485760ULL);
    EXPECT_EQ(c.call<op::storage_vol_lookup_by_path>({"/default-pool/raw.img"}), vol);
    EXPECT_EQ(c.call<op::storage_pool_lookup_by_volume>({vol}), pool);
    // without <allocation> a volume is fully allocated; units of 1000 and 1024 both scale
    auto full = c.call<op::storage_vol_create_xml>({pool, "<volume><name>f</name><capacity unit='KB'>3</capacity></volume>", 0});
    EXPECT_EQ(c.call<op::storage_vol_get_info>({full}), (storage_vol_info{0, 3000, 3000}));
    EXPECT_EQ(c.call<op::storage_pool_list_all_volumes>({pool, 0}).size(), 2u);
    c.call<op::storage_vol_delete>({vol, 0});
    c.call<op::storage_vol_delete>({full, 0});
    EXPECT_EQ(c.call<op::storage_pool_get_info>({pool}).allocation, 0u);
    auto gone = catch_error([&] { c.call<op::storage_vol_get_info>({vol}); });
    EXPECT_EQ(gone.code, error_code::no_storage_vol);
}

TEST_F(test_objects, bad_volume_documents_are_named_errors) {
    auto pool = c.call<op::storage_pool_lookup_by_name>({"default-pool"});
    auto create = [&](const std::string& xml) { return catch_error([&] { c.call<op::storage_vol_create_xml>({pool, xml, 0}); }); };
    auto malformed = create("<volume>");
    EXPECT_EQ(malformed.code, error_code::xml_detail);
    EXPECT_EQ(malformed.domain, error_domain::storage);
    EXPECT_NE(malformed.message.find("(storage_volume_definition):1:"), std::string::npos) << malformed.message;
    EXPECT_EQ(create("<volume><capacity>1</capacity></volume>").message, "XML error: missing volume name element");
    EXPECT_EQ(create("<volume><name>a</name></volume>").message, "XML error: missing capacity element");
    EXPECT_EQ(create("<volume><name>a</name><capacity>-1</capacity></volume>").message, "XML error: malformed capacity element");
    EXPECT_EQ(create("<volume><name>a</name><capacity>99999999999999999999999</capacity></volume>").message,
              "XML error: malformed capacity element");
    auto overflow = create("<volume><name>a</name><capacity unit='E'>99999</capacity></volume>");
    EXPECT_EQ(overflow.code, error_code::overflow);
    EXPECT_EQ(create("<volume type='tape'><name>a</name><capacity>1</capacity></volume>").message,
              "XML error: unknown volume type 'tape'");
    EXPECT_EQ(create("<volume><name>a/b</name><capacity>1</capacity></volume>").code, error_code::xml_error);
    auto full = create("<volume><name>big</name><capacity unit='T'>1000</capacity></volume>");
    EXPECT_EQ(full.code, error_code::internal_error);
    EXPECT_EQ(full.message, "internal error: Not enough free space in pool for volume 'big'");
    EXPECT_TRUE(c.call<op::storage_pool_list_all_volumes>({pool, 0}).empty());
}

TEST_F(test_objects, interface_and_node_devices) {
    auto eth1 = c.call<op::interface_lookup_by_name>({"eth1"});
    EXPECT_EQ(eth1, (interface_ref{"eth1", "aa:bb:cc:dd:ee:ff"}));
    EXPECT_EQ(c.call<op::interface_lookup_by_mac_string>({"aa:bb:cc:dd:ee:ff"}), eth1);
    EXPECT_TRUE(c.call<op::interface_is_active>({eth1}));
    EXPECT_NE(c.call<op::interface_get_xml_desc>({eth1, 0}).find("<mtu size='1492'/>"), std::string::npos);
    EXPECT_TRUE(c.call<op::connect_list_all_interfaces>({1}).empty());  // inactive ones: none

    auto all = c.call<op::connect_list_all_node_devices>({0});
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(c.call<op::node_device_get_parent>({{"computer"}}), std::nullopt);
    EXPECT_EQ(c.call<op::node_device_get_parent>({{"scsi_host11"}}), std::optional<std::string>("scsi_host1"));
    EXPECT_EQ(c.call<op::node_list_devices>({std::string("vports"), 0}), (std::vector<std::string>{"scsi_host1", "scsi_host2"}));
    EXPECT_TRUE(c.call<op::node_list_devices>({std::string("no-such-cap"), 0}).empty());
    EXPECT_EQ(c.call<op::connect_list_all_node_devices>({1U << 10}).size(), 2u);  // CAP_VPORTS
    auto bad = catch_error([&] { c.call<op::connect_list_all_node_devices>({1U << 22}); });
    EXPECT_EQ(bad.code, error_code::invalid_arg);
    EXPECT_EQ(bad.message, "unsupported flags (0x400000) in function testConnectListAllNodeDevices");
}

TEST_F(test_objects, snapshot_tree_reparents_and_moves_current) {
    auto d = dom();
    auto a = c.call<op::domain_snapshot_create_xml>({d, "<domainsnapshot><name>a</name></domainsnapshot>", 0});
    auto b = c.call<op::domain_snapshot_create_xml>({d, "<domainsnapshot><name>b</name></domainsnapshot>", 0});
    auto x = c.call<op::domain_snapshot_create_xml>({d, "<domainsnapshot><name>x</name></domainsnapshot>", 0});
    EXPECT_EQ(c.call<op::domain_snapshot_get_parent>({x, 0}).name, "b");
    EXPECT_EQ(c.call<op::domain_snapshot_num>({d, 1 /* roots */}), 1);
    EXPECT_EQ(c.call<op::domain_snapshot_num>({d, 4 /* leaves */}), 1);
    auto xml = c.call<op::domain_snapshot_get_xml_desc>({b, 0});
    EXPECT_NE(xml.find("<parent>\n    <name>a</name>\n  </parent>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("  <domain type='test'>\n    <name>test</name>"), std::string::npos) << xml;
    // deleting b hands its child to a; deleting the current x makes its parent current
    c.call<op::domain_snapshot_delete>({b, 0});
    EXPECT_EQ(c.call<op::domain_snapshot_get_parent>({x, 0}).name, "a");
    c.call<op::domain_snapshot_delete>({x, 0});
    EXPECT_EQ(c.call<op::domain_snapshot_current>({d, 0}).name, "a");
    // CHILDREN_ONLY keeps the snapshot itself, which becomes current when a descendant was
    auto y = c.call<op::domain_snapshot_create_xml>({d, "<domainsnapshot><name>y</name></domainsnapshot>", 0});
    c.call<op::domain_snapshot_delete>({a, 4});
    EXPECT_EQ(c.call<op::domain_snapshot_num>({d, 0}), 1);
    EXPECT_EQ(c.call<op::domain_snapshot_current>({d, 0}).name, "a");
    auto gone = catch_error([&] { c.call<op::domain_snapshot_get_xml_desc>({y, 0}); });
    EXPECT_EQ(gone.code, error_code::no_domain_snapshot);
    c.call<op::domain_snapshot_delete>({a, 0});
    EXPECT_FALSE(c.call<op::domain_has_current_snapshot>({d, 0}));
    auto redefine = catch_error([&] { c.call<op::domain_snapshot_create_xml>({d, "<domainsnapshot/>", 1}); });
    EXPECT_EQ(redefine.code, error_code::argument_unsupported);
    EXPECT_EQ(c.call<op::domain_snapshot_num>({d, 0}), 0);
}

TEST_F(test_objects, halt_stops_the_domain_after_its_snapshot) {
    auto d = dom();
    auto s = c.call<op::domain_snapshot_create_xml>({d, "<domainsnapshot><name>h</name></domainsnapshot>", 1U << 3});
    auto st = c.call<op::domain_get_state>({c.call<op::domain_lookup_by_name>({"test"})});
    EXPECT_EQ(st.state, domain_state::shutoff);
    EXPECT_EQ(st.reason, 7);  // VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT
    EXPECT_NE(c.call<op::domain_snapshot_get_xml_desc>({s, 0}).find("<state>running</state>"), std::string::npos);
    auto refused = catch_error([&] { c.call<op::domain_undefine>({c.call<op::domain_lookup_by_name>({"test"}), 0}); });
    EXPECT_EQ(refused.message, "Requested operation is not valid: cannot delete inactive domain with 1 snapshots");
    c.call<op::domain_snapshot_delete>({s, 0});
    c.call<op::domain_create>({c.call<op::domain_lookup_by_name>({"test"}), 0});
}

TEST_F(test_objects, checkpoints_exclude_snapshots_and_need_a_running_domain) {
    auto d = dom();
    auto cp = c.call<op::domain_checkpoint_create_xml>({d, "<domaincheckpoint><name>c</name></domaincheckpoint>", 0});
    auto refused = catch_error([&] { c.call<op::domain_snapshot_create_xml>({d, "<domainsnapshot/>", 0}); });
    EXPECT_EQ(refused.code, error_code::operation_unsupported);
    EXPECT_EQ(refused.message, "Operation not supported: cannot create snapshot while checkpoint exists");
    auto xml = c.call<op::domain_checkpoint_get_xml_desc>({cp, 2 /* NO_DOMAIN */});
    EXPECT_NE(xml.find("<disk name='vda' checkpoint='bitmap' bitmap='c'/>"), std::string::npos) << xml;
    EXPECT_EQ(xml.find("<domain "), std::string::npos);
    auto wrong_root = catch_error([&] { c.call<op::domain_checkpoint_create_xml>({d, "<domainsnapshot/>", 0}); });
    EXPECT_EQ(wrong_root.message, "XML error: expecting root element of 'domaincheckpoint', not 'domainsnapshot'");
    c.call<op::domain_checkpoint_delete>({cp, 0});
    EXPECT_TRUE(c.call<op::domain_list_all_checkpoints>({d, 0}).empty());
}

}  // namespace
