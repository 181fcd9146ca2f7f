// The test driver through basic_connection<hypervisor::test> and through any_connection: state
// transitions, libvirt 9.0's error codes and messages, the shared default host, host files,
// save/restore, migration and device hotplug.
#include <virtpp/any.hpp>
#include <virtpp/connection.hpp>
#include <virtpp/hypervisor/test.hpp>
#include <virtpp/xml/capabilities.hpp>
#include <virtpp/xml/domain.hpp>

#include "caught_error.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <atomic>
#include <chrono>
#include <thread>

namespace {

using namespace virtpp;
using conn_t = basic_connection<hypervisor::test>;
using test_drivers = driver_list<driver<hypervisor::test>>;

static_assert(hypervisor_policy<hypervisor::test>);

/// virDomainMigrateFlags the tests use.
namespace test_detail_flags {
constexpr unsigned persist_dest = 1U << 3;
constexpr unsigned undefine_source = 1U << 4;
}  // namespace test_detail_flags

// Every operation of op::all is provided, except the native-format conversions, jobs and the domain
// capabilities, which libvirt 9.0's test driver lacks too (virsh -c test:///default
// domxml-from-native, domjobinfo, domcapabilities: NO_SUPPORT).
template <class Op>
constexpr bool test_driver_should_support = !std::is_same_v<Op, op::connect_domain_xml_from_native> &&
                                            !std::is_same_v<Op, op::connect_domain_xml_to_native> &&
                                            !std::is_same_v<Op, op::domain_get_job_info> &&
                                            !std::is_same_v<Op, op::domain_get_job_stats> &&
                                            !std::is_same_v<Op, op::domain_abort_job> &&
                                            !std::is_same_v<Op, op::connect_get_domain_capabilities>;
template <class Tuple>
struct all_supported;
template <class... Ops>
struct all_supported<std::tuple<Ops...>> {
    static constexpr bool value = ((supports<hypervisor::test, Ops> || !test_driver_should_support<Ops>) && ...);
};
static_assert(all_supported<op::all>::value);

const std::string host_file = std::string(VIRTPP_SOURCE_DIR) + "/tests/data/testhost/host.xml";
const std::string testnode_file = std::string(VIRTPP_SHARED_DIR) + "/fixtures/libvirt/docs/testnode.xml";
constexpr std::string_view test_uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";

constexpr std::string_view default_domain_xml = R"(<domain type='test' id='1'>
  <name>test</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit='KiB'>8388608</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='i686'>hvm</type>
    <boot dev='hd'/>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/diskimage1'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </disk>
    <interface type='network'>
      <mac address='aa:bb:cc:dd:ee:ff'/>
      <source network='default'/>
      <target dev='testnet0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
    </interface>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </memballoon>
  </devices>
</domain>
)";

constexpr std::string_view default_network_xml = R"(<network>
  <name>default</name>
  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
)";

std::string small_domain(std::string_view name, std::string_view uuid = {}) {
    std::string x = "<domain type='test'><name>" + std::string(name) + "</name>";
    if (!uuid.empty()) x += "<uuid>" + std::string(uuid) + "</uuid>";
    x += "<memory>1024</memory><os><type>hvm</type></os></domain>";
    return x;
}

using virtpp_test::catch_error;

#define EXPECT_VIRT_ERROR(stmt, want_code, want_domain, want_message)        \
    do {                                                                      \
        auto got_ = catch_error([&] { stmt; });                               \
        EXPECT_EQ(got_.code, want_code);                                      \
        EXPECT_EQ(got_.domain, want_domain);                                  \
        EXPECT_EQ(got_.message, std::string(want_message));                  \
    } while (0)

struct test_driver : ::testing::Test {
    void SetUp() override { set_error_handler([](const error_info&) {}); }
    void TearDown() override { set_error_handler({}); }
};

// ---- the built-in host -------------------------------------------------------------------------

TEST_F(test_driver, default_host_identity) {
    auto c = conn_t::open("test:///default");
    EXPECT_EQ(c.type(), "TEST");
    EXPECT_EQ(c.version(), 2u);
    EXPECT_EQ(c.max_vcpus(), 32);
    EXPECT_EQ(c.max_vcpus("kvm"), 32);
    EXPECT_FALSE(c.hostname().empty());
    auto sec = c.call<op::node_get_security_model>({});
    EXPECT_EQ(sec.model, "testSecurity");
    EXPECT_EQ(sec.doi, "");
}

TEST_F(test_driver, default_node_info) {
    auto c = conn_t::open("test:///default");
    auto n = c.node_info();
    EXPECT_EQ(n.model, "i686");
    EXPECT_EQ(n.memory_kib, 3145728u);
    EXPECT_EQ(n.cpus, 16u);
    EXPECT_EQ(n.mhz, 1400u);
    EXPECT_EQ(n.nodes, 2u);
    EXPECT_EQ(n.sockets, 2u);
    EXPECT_EQ(n.cores, 2u);
    EXPECT_EQ(n.threads, 2u);
}

TEST_F(test_driver, cpu_map_and_features_as_9_0) {
    auto c = conn_t::open("test:///default");
    std::vector<bool> want{true, false, true, false, true, false, false, false};
    EXPECT_EQ(c.call<op::node_get_cpu_map>({}), want);
    EXPECT_TRUE(c.call<op::connect_supports_feature>({8}));
    EXPECT_TRUE(c.call<op::connect_supports_feature>({9}));
    EXPECT_TRUE(c.call<op::connect_supports_feature>({16}));
    EXPECT_FALSE(c.call<op::connect_supports_feature>({6}));
    EXPECT_FALSE(c.call<op::connect_supports_feature>({2}));
}

TEST_F(test_driver, capabilities_of_the_default_host) {
    auto c = conn_t::open("test:///default");
    auto caps = c.capabilities();
    EXPECT_TRUE(caps.starts_with("<capabilities>\n\n  <host>\n"));
    EXPECT_NE(caps.find("<cells num='2'>"), std::string::npos);
    EXPECT_NE(caps.find("<cpu id='15' socket_id='1' die_id='0' core_id='7' siblings='15'/>"), std::string::npos);
    EXPECT_NE(caps.find("<os_type>xen</os_type>"), std::string::npos);
    EXPECT_TRUE(caps.ends_with("</capabilities>\n"));
    std::ifstream ref(std::string(VIRTPP_SOURCE_DIR) + "/tests/data/capabilities/test-driver.xml");
    if (ref) {
        std::string want((std::istreambuf_iterator<char>(ref)), std::istreambuf_iterator<char>());
        EXPECT_EQ(caps, want);
    }
}

TEST_F(test_driver, capabilities_round_trip_through_the_typed_model) {
    for (const std::string& uri : {std::string("test:///default"), "test://" + host_file}) {
        auto caps = conn_t::open(uri).capabilities();
        auto typed = xml::parse_capabilities_xml(caps);
        EXPECT_EQ(typed.host.cpu.arch, "i686");
        EXPECT_EQ(typed.guests.size(), 2u);
        EXPECT_EQ(xml::format_capabilities_xml(typed), caps) << uri;
    }
}

TEST_F(test_driver, default_domain_xml_is_9_0s) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    EXPECT_EQ(d.id(), 1);
    EXPECT_EQ(d.uuid_string(), test_uuid);
    EXPECT_EQ(d.xml_desc(), default_domain_xml);
    std::string inactive(default_domain_xml);
    inactive.replace(inactive.find(" id='1'"), 7, "");
    EXPECT_EQ(d.xml_desc(xml_flags::inactive), inactive);
}

TEST_F(test_driver, default_domain_properties) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    auto info = d.info();
    EXPECT_EQ(info.state, domain_state::running);
    EXPECT_EQ(info.max_memory_kib, 8388608u);
    EXPECT_EQ(info.memory_kib, 2097152u);
    EXPECT_EQ(info.vcpus, 2u);
    EXPECT_GT(info.cpu_time_ns, 0u);
    EXPECT_EQ(d.state(), (domain_state_info{domain_state::running, 0}));
    EXPECT_EQ(d.os_type(), "linux");
    EXPECT_TRUE(d.is_active());
    EXPECT_TRUE(d.is_persistent());
    EXPECT_FALSE(d.autostart());
    EXPECT_EQ(d.max_memory(), 8388608u);
    EXPECT_EQ(d.max_vcpus(), 2);
    EXPECT_EQ(d.security_label(), (security_label{"libvirt-test", true}));
    EXPECT_FALSE(d.has_managed_save_image());
    EXPECT_EQ(d.call<op::domain_snapshot_num>({d.ref(), 0}), 0);
    EXPECT_TRUE(d.call<op::domain_get_messages>({d.ref(), 0}).empty());
}

TEST_F(test_driver, default_network) {
    auto c = conn_t::open("test:///default");
    EXPECT_EQ(c.num_of_networks(), 1);
    EXPECT_EQ(c.list_networks(), std::vector<std::string>{"default"});
    EXPECT_EQ(c.num_of_defined_networks(), 0);
    auto n = c.lookup_network_by_name("default");
    EXPECT_EQ(n.uuid_string(), "dd8fe884-6c02-601e-7551-cca97df1c5df");
    EXPECT_EQ(n.xml_desc(), default_network_xml);
    EXPECT_EQ(n.bridge_name(), "virbr0");
    EXPECT_TRUE(n.is_active());
    EXPECT_TRUE(n.is_persistent());
    EXPECT_FALSE(n.autostart());
    EXPECT_EQ(c.lookup_network_by_uuid_string("dd8fe884-6c02-601e-7551-cca97df1c5df"), n);
}

TEST_F(test_driver, listing) {
    auto c = conn_t::open("test:///default");
    EXPECT_EQ(c.num_of_domains(), 1);
    EXPECT_EQ(c.list_domains(), std::vector<int>{1});
    EXPECT_EQ(c.num_of_defined_domains(), 0);
    EXPECT_TRUE(c.list_defined_domains().empty());
    auto d = c.define_domain_xml(small_domain("off"));
    EXPECT_EQ(c.num_of_defined_domains(), 1);
    EXPECT_EQ(c.list_defined_domains(), std::vector<std::string>{"off"});
    EXPECT_EQ(c.list_all_domains().size(), 2u);
    EXPECT_EQ(c.list_all_domains(list_flags::active).size(), 1u);
    ASSERT_EQ(c.list_all_domains(list_flags::inactive).size(), 1u);
    EXPECT_EQ(c.list_all_domains(list_flags::inactive)[0].name(), "off");
    EXPECT_EQ(c.list_all_domains(list_flags::shutoff).size(), 1u);
    EXPECT_EQ(c.list_all_domains(list_flags::transient).size(), 0u);
    d.undefine();
}

// ---- lookups -------------------------------------------------------------------------------------

TEST_F(test_driver, lookups) {
    auto c = conn_t::open("test:///default");
    auto by_name = c.lookup_domain_by_name("test");
    EXPECT_EQ(c.lookup_domain_by_id(1), by_name);
    EXPECT_EQ(c.lookup_domain_by_uuid_string(test_uuid), by_name);
    EXPECT_EQ(c.lookup_domain_by_uuid_string("6695eb01f6a4830479aa97f2502e193f").name(), "test");
}

TEST_F(test_driver, lookup_failures_say_domain_not_found) {
    auto c = conn_t::open("test:///default");
    EXPECT_VIRT_ERROR((void)c.lookup_domain_by_name("nope"), error_code::no_domain, error_domain::test, "Domain not found");
    EXPECT_VIRT_ERROR((void)c.lookup_domain_by_id(42), error_code::no_domain, error_domain::test, "Domain not found");
    EXPECT_VIRT_ERROR((void)c.lookup_domain_by_uuid_string("6695eb01-f6a4-8304-79aa-97f2502e1930"), error_code::no_domain,
                      error_domain::test, "Domain not found");
    EXPECT_VIRT_ERROR((void)c.lookup_network_by_name("x"), error_code::no_network, error_domain::test,
                      "Network not found: no network with matching name 'x'");
    EXPECT_VIRT_ERROR((void)c.lookup_network_by_uuid_string("6695eb01-f6a4-8304-79aa-97f2502e1930"), error_code::no_network,
                      error_domain::test, "Network not found: no network with matching uuid '6695eb01-f6a4-8304-79aa-97f2502e1930'");
}

TEST_F(test_driver, stale_handle_names_uuid_and_name) {
    auto c = conn_t::open("test:///default");
    auto d = c.create_domain_xml(small_domain("gone", "dc97e77d-d581-4b83-9b42-661867150411"));
    d.destroy();
    EXPECT_VIRT_ERROR((void)d.info(), error_code::no_domain, error_domain::test,
                      "Domain not found: no domain with matching uuid 'dc97e77d-d581-4b83-9b42-661867150411' (gone)");
}

// ---- lifecycle -----------------------------------------------------------------------------------

TEST_F(test_driver, suspend_resume) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    EXPECT_VIRT_ERROR(d.resume(), error_code::internal_error, error_domain::test, "internal error: domain 'test' not paused");
    d.suspend();
    EXPECT_EQ(d.state(), (domain_state_info{domain_state::paused, 1}));
    EXPECT_VIRT_ERROR(d.suspend(), error_code::internal_error, error_domain::test, "internal error: domain 'test' not running");
    d.resume();
    EXPECT_EQ(d.state(), (domain_state_info{domain_state::running, 5}));
}

TEST_F(test_driver, invalid_transitions_of_a_shut_off_domain) {
    auto c = conn_t::open("test:///default");
    auto d = c.define_domain_xml(small_domain("a", "11111111-2222-3333-4444-555555555555"));
    EXPECT_EQ(d.id(), -1);
    EXPECT_EQ(d.state(), (domain_state_info{domain_state::shutoff, 0}));
    EXPECT_VIRT_ERROR(d.suspend(), error_code::internal_error, error_domain::test, "internal error: domain 'a' not running");
    EXPECT_VIRT_ERROR(d.resume(), error_code::internal_error, error_domain::test, "internal error: domain 'a' not paused");
    EXPECT_VIRT_ERROR(d.shutdown(), error_code::internal_error, error_domain::test, "internal error: domain 'a' not running");
    const std::string not_running = "Requested operation is not valid: domain is not running";
    EXPECT_VIRT_ERROR(d.destroy(), error_code::operation_invalid, error_domain::domain, not_running);
    EXPECT_VIRT_ERROR(d.reboot(), error_code::operation_invalid, error_domain::domain, not_running);
    EXPECT_VIRT_ERROR(d.save("/tmp/never"), error_code::operation_invalid, error_domain::domain, not_running);
    EXPECT_VIRT_ERROR(d.core_dump("/tmp/never"), error_code::operation_invalid, error_domain::domain, not_running);
    EXPECT_VIRT_ERROR((void)d.block_stats("vda"), error_code::operation_invalid, error_domain::domain, not_running);
    EXPECT_VIRT_ERROR((void)d.interface_stats("x"), error_code::operation_invalid, error_domain::domain, not_running);
    EXPECT_VIRT_ERROR((void)d.vcpus(), error_code::operation_invalid, error_domain::test,
                      "Requested operation is not valid: cannot list vcpus for an inactive domain");
    EXPECT_VIRT_ERROR(d.pin_vcpu(0, {true}), error_code::operation_invalid, error_domain::test,
                      "Requested operation is not valid: cannot pin vcpus on an inactive domain");
    EXPECT_EQ(d.security_label(), (security_label{"", false}));
    d.undefine();
}

TEST_F(test_driver, start_assigns_the_next_id) {
    auto c = conn_t::open("test:///default");
    auto d = c.define_domain_xml(small_domain("a"));
    d.create();
    EXPECT_EQ(d.id(), 2);
    EXPECT_EQ(d.state(), (domain_state_info{domain_state::running, 1}));
    EXPECT_VIRT_ERROR(d.create(), error_code::internal_error, error_domain::test, "internal error: Domain 'a' is already running");
    d.destroy();
    EXPECT_EQ(d.state(), (domain_state_info{domain_state::shutoff, 2}));
    d.create();
    EXPECT_EQ(d.id(), 3);  // ids are never reused
    EXPECT_EQ(c.lookup_domain_by_id(3).name(), "a");
    d.destroy();
    d.undefine();
}

TEST_F(test_driver, create_xml_is_transient_and_running) {
    auto c = conn_t::open("test:///default");
    auto d = c.create_domain_xml(small_domain("tr"));
    EXPECT_EQ(d.id(), 2);
    EXPECT_TRUE(d.is_active());
    EXPECT_FALSE(d.is_persistent());
    EXPECT_EQ(c.num_of_domains(), 2);
    d.shutdown();
    EXPECT_EQ(c.num_of_domains(), 1);
    EXPECT_VIRT_ERROR((void)c.lookup_domain_by_name("tr"), error_code::no_domain, error_domain::test, "Domain not found");
}

TEST_F(test_driver, shutdown_and_reboot_follow_lifecycle_actions) {
    auto c = conn_t::open("test:///default");
    auto d = c.define_domain_xml(
        "<domain type='test'><name>r</name><memory>1024</memory><os><type>hvm</type></os>"
        "<on_poweroff>restart</on_poweroff><on_reboot>destroy</on_reboot></domain>");
    d.create();
    d.shutdown();  // on_poweroff restart: still running
    EXPECT_EQ(d.state().state, domain_state::running);
    d.reboot();  // on_reboot destroy: off
    EXPECT_EQ(d.state(), (domain_state_info{domain_state::shutoff, 1}));
    d.undefine();
    auto t = c.lookup_domain_by_name("test");
    t.reboot();  // restart
    EXPECT_EQ(t.state(), (domain_state_info{domain_state::running, 1}));
    EXPECT_EQ(t.id(), 1);
}

TEST_F(test_driver, paused_domain_can_shut_down) {
    auto c = conn_t::open("test:///default");
    auto d = c.create_domain_xml(small_domain("p"));
    d.suspend();
    d.shutdown();
    EXPECT_EQ(c.num_of_domains(), 1);
}

TEST_F(test_driver, undefine_running_makes_it_transient) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    d.undefine();
    EXPECT_FALSE(d.is_persistent());
    EXPECT_TRUE(d.is_active());
    d.destroy();
    EXPECT_EQ(c.num_of_domains(), 0);
    EXPECT_EQ(c.num_of_defined_domains(), 0);
    EXPECT_VIRT_ERROR((void)c.lookup_domain_by_name("test"), error_code::no_domain, error_domain::test, "Domain not found");
}

TEST_F(test_driver, undefine_transient_running_succeeds) {
    auto c = conn_t::open("test:///default");
    auto d = c.create_domain_xml(small_domain("tr"));
    d.undefine();
    EXPECT_TRUE(d.is_active());
    d.destroy();
}

TEST_F(test_driver, duplicate_definitions_are_refused_with_9_0s_messages) {
    auto c = conn_t::open("test:///default");
    auto a = c.define_domain_xml(small_domain("a", "11111111-2222-3333-4444-555555555555"));
    EXPECT_VIRT_ERROR((void)c.define_domain_xml(small_domain("a", "11111111-2222-3333-4444-555555555556")),
                      error_code::operation_failed, error_domain::domain,
                      "operation failed: domain 'a' already exists with uuid 11111111-2222-3333-4444-555555555555");
    EXPECT_VIRT_ERROR((void)c.define_domain_xml(small_domain("b", "11111111-2222-3333-4444-555555555555")),
                      error_code::operation_failed, error_domain::domain,
                      "operation failed: domain 'a' is already defined with uuid 11111111-2222-3333-4444-555555555555");
    EXPECT_VIRT_ERROR((void)c.create_domain_xml(small_domain("test")), error_code::operation_failed, error_domain::domain,
                      "operation failed: domain 'test' already exists with uuid 6695eb01-f6a4-8304-79aa-97f2502e193f");
    EXPECT_VIRT_ERROR((void)c.create_domain_xml(small_domain("test", test_uuid)), error_code::operation_invalid,
                      error_domain::domain, "Requested operation is not valid: domain 'test' is already active");
    a.undefine();
}

TEST_F(test_driver, redefine_replaces_the_configuration_only) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    auto xml = d.xml_desc(xml_flags::inactive);
    xml.replace(xml.find("<vcpu placement='static'>2"), 26, "<vcpu placement='static'>4");
    (void)c.define_domain_xml(xml);
    EXPECT_EQ(d.info().vcpus, 2u);  // live unchanged
    EXPECT_EQ(d.vcpus_flags(affect::config), 4);
    d.destroy();
    d.create();
    EXPECT_EQ(d.info().vcpus, 4u);
}

TEST_F(test_driver, create_xml_of_a_defined_inactive_domain_keeps_its_config) {
    auto c = conn_t::open("test:///default");
    auto d = c.define_domain_xml(small_domain("a", "11111111-2222-3333-4444-555555555555"));
    auto live_xml = "<domain type='test'><name>a</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
                    "<memory>2048</memory><os><type>hvm</type></os></domain>";
    auto started = c.create_domain_xml(live_xml);
    EXPECT_TRUE(started.is_persistent());
    EXPECT_EQ(started.info().max_memory_kib, 2048u);
    started.destroy();
    EXPECT_EQ(d.info().max_memory_kib, 1024u);
    d.undefine();
}

TEST_F(test_driver, define_fills_what_9_0_fills) {
    auto c = conn_t::open("test:///default");
    auto d = c.define_domain_xml(
        "<domain type='test'><name>b</name><memory>1024</memory><os><type>hvm</type></os><devices>"
        "<interface type='network'><source network='default'/></interface></devices></domain>");
    auto x = d.xml_desc();
    EXPECT_NE(x.find("<type arch='i686'>hvm</type>"), std::string::npos);
    EXPECT_NE(x.find("<boot dev='hd'/>"), std::string::npos);
    EXPECT_NE(x.find("<mac address='52:54:00:"), std::string::npos);
    EXPECT_NE(x.find("<target dev='testnet0'/>"), std::string::npos);
    EXPECT_FALSE(d.uuid().is_nil());
    d.undefine();
}

TEST_F(test_driver, bad_xml_is_reported) {
    auto c = conn_t::open("test:///default");
    auto e = catch_error([&] { (void)c.define_domain_xml("<domain"); });
    EXPECT_EQ(e.code, error_code::xml_detail);
    e = catch_error([&] { (void)c.define_domain_xml("<domain type='test'><memory>1</memory><os><type>hvm</type></os></domain>"); });
    EXPECT_EQ(e.code, error_code::no_name);
    EXPECT_EQ(c.num_of_defined_domains(), 0);
}

// ---- flags and unsupported flags ------------------------------------------------------------------

TEST_F(test_driver, unsupported_flags_name_the_driver_function) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    EXPECT_VIRT_ERROR((void)d.state(1), error_code::invalid_arg, error_domain::test,
                      "unsupported flags (0x1) in function testDomainGetState");
    EXPECT_VIRT_ERROR((void)d.scheduler_parameters(4), error_code::invalid_arg, error_domain::test,
                      "unsupported flags (0x4) in function testDomainGetSchedulerParametersFlags");
    auto n = c.lookup_network_by_name("default");
    EXPECT_VIRT_ERROR((void)n.xml_desc(1), error_code::invalid_arg, error_domain::test,
                      "unsupported flags (0x1) in function testNetworkGetXMLDesc");
}

// ---- memory and vcpus ------------------------------------------------------------------------------

TEST_F(test_driver, set_memory_with_affect_flags) {
    auto c = conn_t::open("test:///default");
    auto d = c.define_domain_xml(small_domain("a"));
    EXPECT_VIRT_ERROR(d.set_memory(512, affect::live), error_code::operation_invalid, error_domain::domain,
                      "Requested operation is not valid: domain is not running");
    d.set_memory(512, affect::current);
    EXPECT_EQ(d.info().memory_kib, 512u);
    EXPECT_VIRT_ERROR(d.set_memory(5000, affect::current), error_code::invalid_arg, error_domain::test,
                      "invalid argument: cannot set memory higher than max memory");
    EXPECT_VIRT_ERROR(d.set_memory(1, affect::live | affect::config), error_code::invalid_arg, error_domain::domain,
                      "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive");
    d.set_max_memory(2048);
    EXPECT_EQ(d.info().max_memory_kib, 2048u);
    EXPECT_EQ(d.info().memory_kib, 512u);
    d.set_max_memory(256);  // the current memory follows the maximum down
    EXPECT_EQ(d.info().memory_kib, 256u);
    d.create();
    EXPECT_VIRT_ERROR(d.set_memory(4096, affect::live | affect::maximum), error_code::operation_invalid, error_domain::test,
                      "Requested operation is not valid: cannot resize the maximum memory on an active domain");
    d.set_memory(100, affect::config);
    EXPECT_EQ(d.info().memory_kib, 256u);
    d.destroy();
    EXPECT_EQ(d.info().memory_kib, 100u);
    d.undefine();
}

TEST_F(test_driver, set_max_memory_works_on_a_running_domain) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    d.set_max_memory(1048576);
    EXPECT_EQ(d.max_memory(), 1048576u);
    EXPECT_EQ(d.info().memory_kib, 1048576u);
    d.destroy();
    EXPECT_EQ(d.max_memory(), 1048576u);  // the configuration changed too
}

TEST_F(test_driver, transient_domains_have_no_config) {
    auto c = conn_t::open("test:///default");
    auto d = c.create_domain_xml(small_domain("tr"));
    EXPECT_VIRT_ERROR(d.set_memory(100, affect::config), error_code::operation_invalid, error_domain::domain,
                      "Requested operation is not valid: transient domains do not have any persistent config");
    d.destroy();
}

TEST_F(test_driver, set_vcpus_validates_like_9_0) {
    auto c = conn_t::open("test:///default");
    auto d = c.define_domain_xml(small_domain("a"));
    EXPECT_VIRT_ERROR(d.set_vcpus(1, affect::live), error_code::operation_invalid, error_domain::domain,
                      "Requested operation is not valid: domain is not running");
    EXPECT_VIRT_ERROR(d.set_vcpus(40, affect::current), error_code::invalid_arg, error_domain::test,
                      "invalid argument: requested cpu amount exceeds maximum supported amount (40 > 32)");
    EXPECT_VIRT_ERROR(d.set_vcpus(3, affect::current), error_code::invalid_arg, error_domain::test,
                      "invalid argument: requested cpu amount exceeds maximum (3 > 1)");
    EXPECT_VIRT_ERROR(d.set_vcpus(4, affect::maximum), error_code::invalid_arg, error_domain::domain,
                      "Flag 'VIR_DOMAIN_AFFECT_CONFIG' is required by flag 'VIR_DOMAIN_VCPU_MAXIMUM'");
    d.set_vcpus(4, affect::maximum | affect::config);
    d.set_vcpus(3, affect::current);
    EXPECT_EQ(d.vcpus_flags(affect::config), 3);
    EXPECT_EQ(d.vcpus_flags(affect::config | affect::maximum), 4);
    EXPECT_NE(d.xml_desc().find("<vcpu placement='static' current='3'>4</vcpu>"), std::string::npos);
    d.create();
    d.set_vcpus(4, affect::live);
    EXPECT_EQ(d.info().vcpus, 4u);
    EXPECT_EQ(d.vcpus().size(), 4u);
    EXPECT_VIRT_ERROR(d.set_vcpus(5, affect::live), error_code::invalid_arg, error_domain::test,
                      "invalid argument: requested cpu amount exceeds maximum (5 > 4)");
    d.destroy();
    EXPECT_EQ(d.info().vcpus, 3u);
    d.undefine();
}

TEST_F(test_driver, get_max_vcpus_needs_a_running_domain) {
    auto c = conn_t::open("test:///default");
    auto d = c.define_domain_xml(small_domain("a"));
    EXPECT_VIRT_ERROR((void)d.max_vcpus(), error_code::operation_invalid, error_domain::domain,
                      "Requested operation is not valid: domain is not running");
    d.undefine();
}

TEST_F(test_driver, vcpu_info_and_pinning) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    auto v = d.vcpus();
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].number, 0u);
    EXPECT_EQ(v[0].state, 1);
    EXPECT_EQ(v[0].cpu, 15);
    EXPECT_EQ(v[0].affinity, std::vector<bool>(16, true));
    d.pin_vcpu(1, {true, false, true});
    v = d.vcpus();
    std::vector<bool> want(16, false);
    want[0] = want[2] = true;
    EXPECT_EQ(v[1].affinity, want);
    EXPECT_EQ(v[1].cpu, 2);
    d.pin_vcpu(1, std::vector<bool>(16, false));
    EXPECT_EQ(d.vcpus()[1].cpu, -1);
    EXPECT_VIRT_ERROR(d.pin_vcpu(9, {true}), error_code::invalid_arg, error_domain::test,
                      "invalid argument: requested vcpu '9' is not present in the domain");
}

// ---- scheduler, stats, autostart --------------------------------------------------------------------

TEST_F(test_driver, fair_scheduler_weight) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    EXPECT_EQ(d.scheduler_type(), (scheduler_type{"fair", 1}));
    auto p = d.scheduler_parameters();
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].field, "weight");
    EXPECT_EQ(p[0].value, typed_param::value_type(std::uint32_t{50}));
    d.set_scheduler_parameters({{"weight", std::uint32_t{100}}});
    EXPECT_EQ(d.scheduler_parameters()[0].value, typed_param::value_type(std::uint32_t{100}));
    EXPECT_VIRT_ERROR(d.set_scheduler_parameters({{"cap", std::uint32_t{1}}}), error_code::argument_unsupported,
                      error_domain::none, "argument unsupported: parameter 'cap' not supported");
    EXPECT_VIRT_ERROR(d.set_scheduler_parameters({{"weight", std::int32_t{1}}}), error_code::invalid_arg, error_domain::none,
                      "invalid argument: invalid type 'int' for parameter 'weight', expected 'uint'");
}

TEST_F(test_driver, block_stats) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    auto s = d.block_stats("vda");
    EXPECT_GT(s.rd_req, 0);
    EXPECT_EQ(s.rd_bytes, s.rd_req / 2);
    EXPECT_GT(d.block_stats("/guest/diskimage1").wr_req, 0);
    EXPECT_VIRT_ERROR((void)d.block_stats("vdz"), error_code::invalid_arg, error_domain::test, "invalid argument: invalid path: vdz");
    EXPECT_VIRT_ERROR((void)d.block_stats(""), error_code::operation_unsupported, error_domain::test,
                      "Operation not supported: summary statistics are not supported yet");
}

TEST_F(test_driver, interface_stats) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    auto s = d.interface_stats("testnet0");
    EXPECT_GT(s.rx_bytes, 0);
    EXPECT_GT(s.tx_drop, 0);
    EXPECT_GT(d.interface_stats("AA:BB:CC:DD:EE:FF").rx_packets, 0);
    EXPECT_VIRT_ERROR((void)d.interface_stats("x"), error_code::invalid_arg, error_domain::domain,
                      "invalid argument: 'x' is not a known interface");
}

TEST_F(test_driver, autostart) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    d.set_autostart(true);
    EXPECT_TRUE(d.autostart());
    EXPECT_EQ(c.list_all_domains(list_flags::autostart).size(), 1u);
    d.set_autostart(false);
    EXPECT_FALSE(d.autostart());
}

// ---- save / restore / core dump ---------------------------------------------------------------------

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        char templ[] = "/tmp/virtpp-testdrv-XXXXXX";
        path = ::mkdtemp(templ);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

TEST_F(test_driver, save_restore_round_trip) {
    temp_dir dir;
    auto file = (dir.path / "test.sav").string();
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    d.save(file);
    EXPECT_EQ(d.id(), -1);
    EXPECT_EQ(d.state(), (domain_state_info{domain_state::shutoff, 5}));
    std::ifstream in(file, std::ios::binary);
    char magic[15];
    in.read(magic, 15);
    EXPECT_EQ(std::string(magic, 15), std::string("TestGuestMagic\0", 15));
    c.restore_domain(file);
    auto back = c.lookup_domain_by_name("test");
    EXPECT_EQ(back.id(), 2);
    EXPECT_EQ(back.state(), (domain_state_info{domain_state::running, 3}));
    auto x = back.xml_desc();
    std::string want(default_domain_xml);
    want.replace(want.find("id='1'"), 6, "id='2'");
    EXPECT_EQ(x, want);
}

TEST_F(test_driver, restore_of_a_transient_domain_recreates_it) {
    temp_dir dir;
    auto file = (dir.path / "tr.sav").string();
    auto c = conn_t::open("test:///default");
    auto d = c.create_domain_xml(small_domain("tr"));
    d.save(file);
    EXPECT_EQ(c.num_of_domains(), 1);
    c.restore_domain(file);
    EXPECT_FALSE(c.lookup_domain_by_name("tr").is_persistent());
    EXPECT_VIRT_ERROR(c.restore_domain(file), error_code::operation_invalid, error_domain::domain,
                      "Requested operation is not valid: domain 'tr' is already active");
}

TEST_F(test_driver, save_and_restore_errors_carry_errno_text) {
    temp_dir dir;
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    EXPECT_VIRT_ERROR(d.save("/nonexistent/dir/x"), error_code::system_error, error_domain::test,
                      "saving domain 'test' to '/nonexistent/dir/x': open failed: No such file or directory");
    EXPECT_TRUE(d.is_active());
    EXPECT_VIRT_ERROR(d.core_dump("/nonexistent/dir/x"), error_code::system_error, error_domain::test,
                      "domain 'test' coredump: failed to open /nonexistent/dir/x: No such file or directory");
    EXPECT_VIRT_ERROR(c.restore_domain("/nonexistent/x"), error_code::system_error, error_domain::test,
                      "cannot read domain image '/nonexistent/x': No such file or directory");
    auto garbage = (dir.path / "garbage").string();
    std::ofstream(garbage) << "hello world garbage data";
    EXPECT_VIRT_ERROR(c.restore_domain(garbage), error_code::internal_error, error_domain::test,
                      "internal error: mismatched header magic");
    auto shorty = (dir.path / "short").string();
    std::ofstream(shorty) << "hi";
    EXPECT_VIRT_ERROR(c.restore_domain(shorty), error_code::system_error, error_domain::test,
                      "incomplete save header in '" + shorty + "': Success");
    auto huge = (dir.path / "huge").string();
    {
        std::ofstream out(huge, std::ios::binary);
        out.write("TestGuestMagic", 15);
        int len = 100000;
        out.write(reinterpret_cast<const char*>(&len), sizeof len);
    }
    EXPECT_VIRT_ERROR(c.restore_domain(huge), error_code::internal_error, error_domain::test,
                      "internal error: length of metadata out of range");
}

TEST_F(test_driver, core_dump_writes_a_file_and_crash_stops) {
    temp_dir dir;
    auto file = (dir.path / "core").string();
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    d.core_dump(file);
    EXPECT_TRUE(std::filesystem::exists(file));
    EXPECT_EQ(std::filesystem::file_size(file), 15u);
    EXPECT_TRUE(d.is_active());
    d.core_dump(file, 1 /* VIR_DUMP_CRASH */);
    EXPECT_EQ(d.state(), (domain_state_info{domain_state::shutoff, 3}));
}

// ---- read-only ------------------------------------------------------------------------------------------

TEST_F(test_driver, read_only_connections_refuse_changes) {
    auto c = conn_t::open_read_only("test:///default");
    auto d = c.lookup_domain_by_name("test");
    EXPECT_EQ(d.info().state, domain_state::running);
    EXPECT_VIRT_ERROR(d.suspend(), error_code::operation_denied, error_domain::domain,
                      "operation forbidden: read only access prevents virDomainSuspend");
    EXPECT_VIRT_ERROR((void)c.define_domain_xml(small_domain("x")), error_code::operation_denied, error_domain::domain,
                      "operation forbidden: read only access prevents virDomainDefineXML");
    auto n = c.lookup_network_by_name("default");
    EXPECT_VIRT_ERROR(n.destroy(), error_code::operation_denied, error_domain::network,
                      "operation forbidden: read only access prevents virNetworkDestroy");
    EXPECT_EQ(d.state().state, domain_state::running);
}

// ---- the shared default host ------------------------------------------------------------------------------

TEST_F(test_driver, default_host_is_shared_and_starts_afresh) {
    {
        auto a = conn_t::open("test:///default");
        auto b = conn_t::open("test:///default");
        a.lookup_domain_by_name("test").suspend();
        EXPECT_EQ(b.lookup_domain_by_name("test").state().state, domain_state::paused);
        (void)b.define_domain_xml(small_domain("shared"));
        EXPECT_EQ(a.num_of_defined_domains(), 1);
    }
    auto fresh = conn_t::open("test:///default");
    EXPECT_EQ(fresh.lookup_domain_by_name("test").state().state, domain_state::running);
    EXPECT_EQ(fresh.num_of_defined_domains(), 0);
}

TEST_F(test_driver, handles_keep_the_default_host_alive) {
    std::optional<conn_t::domain_type> dom;
    {
        auto c = conn_t::open("test:///default");
        dom = c.lookup_domain_by_name("test");
        dom->suspend();
    }
    auto other = conn_t::open("test:///default");
    EXPECT_EQ(other.lookup_domain_by_name("test").state().state, domain_state::paused);
}

TEST_F(test_driver, file_hosts_are_private) {
    auto a = conn_t::open("test://" + host_file);
    auto b = conn_t::open("test://" + host_file);
    a.lookup_domain_by_name("guest-a").destroy();
    EXPECT_TRUE(b.lookup_domain_by_name("guest-a").is_active());
}

TEST_F(test_driver, open_errors) {
    EXPECT_VIRT_ERROR((void)conn_t::open("test:///"), error_code::invalid_arg, error_domain::test,
                      "invalid argument: testOpen: supply a path or use test:///default");
    auto e = catch_error([] { (void)conn_t::open("test:///nonexistent/host.xml"); });
    EXPECT_EQ(e.code, error_code::xml_error);
    EXPECT_NE(e.message.find("/nonexistent/host.xml"), std::string::npos);
    EXPECT_VIRT_ERROR((void)conn_t::open("test:///default?virtpp_delay_ms=soon"), error_code::invalid_arg, error_domain::test,
                      "invalid argument: virtpp_delay_ms must be a number of milliseconds up to 999999, not 'soon'");
}

TEST_F(test_driver, unknown_uri_parameters_are_ignored_and_delay_slows_only_its_connection) {
    auto plain = conn_t::open("test:///default?foo=bar");
    EXPECT_EQ(plain.state().delay_ms(), 0u);
    auto slow = conn_t::open("test:///default?virtpp_delay_ms=50");
    EXPECT_EQ(slow.state().delay_ms(), 50u);
    auto t0 = std::chrono::steady_clock::now();
    (void)slow.num_of_domains();
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50));
    slow.lookup_domain_by_name("test").suspend();
    EXPECT_EQ(plain.lookup_domain_by_name("test").state().state, domain_state::paused);  // same host
}

// ---- host files --------------------------------------------------------------------------------------

TEST_F(test_driver, host_file) {
    auto c = conn_t::open("test://" + host_file);
    auto n = c.node_info();
    EXPECT_EQ(n.model, "x86_64");
    EXPECT_EQ(n.cpus, 4u);
    EXPECT_EQ(n.mhz, 2000u);
    EXPECT_EQ(n.memory_kib, 4194304u);
    auto a = c.lookup_domain_by_name("guest-a");
    EXPECT_EQ(a.id(), 1);
    EXPECT_TRUE(a.is_active());
    auto b = c.lookup_domain_by_name("guest-b");
    EXPECT_FALSE(b.is_active());
    EXPECT_EQ(b.state(), (domain_state_info{domain_state::shutoff, 0}));
    EXPECT_EQ(c.lookup_network_by_name("lan").bridge_name(), "virbr5");
    EXPECT_EQ(c.capabilities().find("<topology>"), std::string::npos);
    EXPECT_EQ(a.vcpus()[0].affinity.size(), 4u);
}

TEST_F(test_driver, testnode_fixture_is_accepted) {
    auto c = conn_t::open("test://" + testnode_file);
    auto n = c.node_info();
    EXPECT_EQ(n.model, "i986");
    EXPECT_EQ(n.cpus, 50u);
    EXPECT_EQ(n.mhz, 6000u);
    EXPECT_EQ(n.nodes, 4u);
    EXPECT_EQ(n.sockets, 4u);
    EXPECT_EQ(n.cores, 4u);
    EXPECT_EQ(n.threads, 2u);
    EXPECT_EQ(n.memory_kib, 8192000u);
    EXPECT_EQ(c.num_of_domains(), 2);
    EXPECT_EQ(c.lookup_domain_by_name("fv0").id(), 1);
    EXPECT_EQ(c.lookup_domain_by_name("fc4").id(), 2);
    EXPECT_EQ(c.lookup_domain_by_name("fc4").uuid_string(), "ef861801-45b9-11cb-88e3-afbfe5370493");
    EXPECT_EQ(c.num_of_networks(), 2);
    EXPECT_EQ(c.lookup_network_by_name("private").bridge_name(), "brpriv");
    EXPECT_EQ(c.lookup_network_by_name("default").bridge_name(), "brdefault");
}

TEST_F(test_driver, bad_host_files_name_the_problem) {
    const std::string dir = std::string(VIRTPP_SOURCE_DIR) + "/tests/data/testhost/";
    EXPECT_VIRT_ERROR((void)conn_t::open("test://" + dir + "bad-cpu.xml"), error_code::xml_error, error_domain::test,
                      "XML error: invalid node cpu nodes value (line 3)");
    EXPECT_VIRT_ERROR((void)conn_t::open("test://" + dir + "bad-root.xml"), error_code::xml_error, error_domain::xml,
                      "XML error: expecting root element of 'node', not 'host'");
    EXPECT_VIRT_ERROR((void)conn_t::open("test://" + dir + "bad-ref.xml"), error_code::xml_error, error_domain::xml,
                      "XML error: failed to parse xml document '" + dir + "no-such-guest.xml'");
}

TEST_F(test_driver, host_file_test_namespace) {
    auto c = conn_t::open("test://" + std::string(VIRTPP_SOURCE_DIR) + "/tests/data/testhost/managed.xml");
    auto saved = c.lookup_domain_by_name("saved");
    EXPECT_TRUE(saved.has_managed_save_image());
    EXPECT_EQ(saved.state(), (domain_state_info{domain_state::shutoff, 0}));
    EXPECT_EQ(c.list_all_domains(list_flags::managedsave).size(), 1u);
    EXPECT_VIRT_ERROR(saved.undefine(), error_code::operation_invalid, error_domain::test,
                      "Requested operation is not valid: Refusing to undefine while domain managed save image exists");
    auto fleeting = c.lookup_domain_by_name("fleeting");
    EXPECT_EQ(fleeting.id(), 1);
    EXPECT_EQ(fleeting.state(), (domain_state_info{domain_state::paused, 0}));
    EXPECT_FALSE(fleeting.is_persistent());
    // a prefix bound to another namespace is not the test driver's
    EXPECT_TRUE(c.lookup_domain_by_name("other").is_active());
    saved.create();  // starting drops the image
    EXPECT_FALSE(saved.has_managed_save_image());
    saved.destroy();
    saved.undefine();
}

TEST_F(test_driver, host_file_runstate_rules) {
    EXPECT_VIRT_ERROR((void)conn_t::open("test://" + std::string(VIRTPP_SOURCE_DIR) + "/tests/data/testhost/bad-runstate.xml"),
                      error_code::xml_error, error_domain::test, "XML error: transient domain cannot have runstate 'shutoff'");
}

TEST_F(test_driver, list_flag_validation) {
    auto c = conn_t::open("test:///default");
    EXPECT_VIRT_ERROR((void)c.list_all_domains(1U << 16), error_code::invalid_arg, error_domain::test,
                      "unsupported flags (0x10000) in function testConnectListAllDomains");
    EXPECT_EQ(c.list_all_domains(1U << 14).size(), 0u);  // nothing has checkpoints
    EXPECT_VIRT_ERROR((void)c.list_all_networks(1U << 6), error_code::invalid_arg, error_domain::test,
                      "unsupported flags (0x40) in function testConnectListAllNetworks");
    EXPECT_EQ(c.list_all_networks(network_list_flags::active | network_list_flags::persistent).size(), 1u);
    EXPECT_EQ(c.list_all_networks(network_list_flags::inactive).size(), 0u);
}

// ---- networks -----------------------------------------------------------------------------------------

TEST_F(test_driver, network_transitions) {
    auto c = conn_t::open("test:///default");
    auto n = c.lookup_network_by_name("default");
    EXPECT_VIRT_ERROR(n.create(), error_code::operation_invalid, error_domain::test,
                      "Requested operation is not valid: Network 'default' is already running");
    EXPECT_VIRT_ERROR(n.undefine(), error_code::operation_invalid, error_domain::test,
                      "Requested operation is not valid: Network 'default' is still running");
    n.destroy();
    EXPECT_FALSE(n.is_active());
    EXPECT_EQ(c.list_defined_networks(), std::vector<std::string>{"default"});
    n.destroy();  // 9.0 lets a stopped network be destroyed again
    n.create();
    EXPECT_TRUE(n.is_active());
    n.set_autostart(true);
    EXPECT_TRUE(n.autostart());
    n.destroy();
    n.undefine();
    EXPECT_EQ(c.num_of_networks() + c.num_of_defined_networks(), 0);
}

TEST_F(test_driver, network_define_and_create) {
    auto c = conn_t::open("test:///default");
    auto n = c.define_network_xml("<network><name>n1</name><uuid>11111111-2222-3333-4444-555555555555</uuid></network>");
    EXPECT_EQ(n.xml_desc(),
              "<network>\n  <name>n1</name>\n  <uuid>11111111-2222-3333-4444-555555555555</uuid>\n"
              "  <bridge stp='on' delay='0'/>\n</network>\n");
    EXPECT_VIRT_ERROR((void)n.bridge_name(), error_code::internal_error, error_domain::test,
                      "internal error: network 'n1' does not have a bridge name.");
    EXPECT_VIRT_ERROR((void)c.define_network_xml("<network><name>n1</name><uuid>11111111-2222-3333-4444-555555555556</uuid></network>"),
                      error_code::operation_failed, error_domain::network,
                      "operation failed: network 'n1' already exists with uuid 11111111-2222-3333-4444-555555555555");
    EXPECT_VIRT_ERROR((void)c.define_network_xml("<network><name>n2</name><uuid>11111111-2222-3333-4444-555555555555</uuid></network>"),
                      error_code::operation_failed, error_domain::network,
                      "operation failed: network 'n1' is already defined with uuid 11111111-2222-3333-4444-555555555555");
    auto t = c.create_network_xml("<network><name>tr</name><bridge name='virbr7'/></network>");
    EXPECT_FALSE(t.is_persistent());
    EXPECT_TRUE(t.is_active());
    EXPECT_EQ(t.bridge_name(), "virbr7");
    EXPECT_EQ(c.list_all_networks(network_list_flags::transient).size(), 1u);
    t.destroy();
    EXPECT_VIRT_ERROR((void)c.lookup_network_by_name("tr"), error_code::no_network, error_domain::test,
                      "Network not found: no network with matching name 'tr'");
    // 9.0 finds a handle's network by name, except for is_active / is_persistent (by uuid)
    EXPECT_VIRT_ERROR((void)t.bridge_name(), error_code::no_network, error_domain::test,
                      "Network not found: no network with matching name 'tr'");
    auto e = catch_error([&] { (void)t.is_active(); });
    EXPECT_EQ(e.code, error_code::no_network);
    EXPECT_EQ(e.message, "Network not found: no network with matching uuid '" + t.uuid_string() + "'");
    n.undefine();
}

TEST_F(test_driver, network_redefine_while_running_applies_at_stop) {
    auto c = conn_t::open("test:///default");
    auto n = c.lookup_network_by_name("default");
    (void)c.define_network_xml("<network><name>default</name><uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>"
                               "<bridge name='virbr9'/></network>");
    EXPECT_EQ(n.bridge_name(), "virbr0");
    n.destroy();
    EXPECT_EQ(n.bridge_name(), "virbr9");
}

// ---- devices ---------------------------------------------------------------------------------------------

TEST_F(test_driver, attach_and_detach_disk) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    const std::string disk = "<disk type='file' device='disk'><source file='/x.img'/><target dev='vdb' bus='virtio'/></disk>";
    d.attach_device(disk);
    EXPECT_NE(d.xml_desc().find("<target dev='vdb' bus='virtio'/>"), std::string::npos);
    EXPECT_EQ(d.xml_desc(xml_flags::inactive).find("vdb"), std::string::npos);  // live only
    EXPECT_GT(d.block_stats("vdb").rd_req, 0);
    EXPECT_VIRT_ERROR(d.attach_device(disk), error_code::operation_failed, error_domain::test,
                      "operation failed: target vdb already exists");
    d.detach_device(disk);
    EXPECT_EQ(d.xml_desc().find("vdb"), std::string::npos);
    EXPECT_VIRT_ERROR(d.detach_device(disk), error_code::device_missing, error_domain::test,
                      "device not found: no target device vdb");
}

TEST_F(test_driver, attach_interface_live_and_config) {
    auto c = conn_t::open("test:///default");
    auto d = c.lookup_domain_by_name("test");
    const std::string nic = "<interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface>";
    d.attach_device(nic, affect::live | affect::config);
    EXPECT_NE(d.xml_desc().find("<target dev='testnet1'/>"), std::string::npos);
    EXPECT_NE(d.xml_desc(xml_flags::inactive).find("52:54:00:00:00:01"), std::string::npos);
    EXPECT_GT(d.interface_stats("testnet1").rx_bytes, 0);
    d.detach_device(nic, affect::config);
    EXPECT_EQ(d.xml_desc(xml_flags::inactive).find("52:54:00:00:00:01"), std::string::npos);
    EXPECT_NE(d.xml_desc().find("52:54:00:00:00:01"), std::string::npos);
}

TEST_F(test_driver, attach_refusals) {
    auto c = conn_t::open("test:///default");
    auto off = c.define_domain_xml(small_domain("off"));
    EXPECT_VIRT_ERROR(off.attach_device("<disk type='file'><source file='/y'/><target dev='vdc'/></disk>", affect::live),
                      error_code::operation_invalid, error_domain::domain, "Requested operation is not valid: domain is not running");
    off.attach_device("<disk type='file'><source file='/y'/><target dev='vdc'/></disk>", affect::current);
    EXPECT_NE(off.xml_desc().find("vdc"), std::string::npos);
    EXPECT_VIRT_ERROR(off.attach_device("<sound model='sb16'/>", affect::current), error_code::config_unsupported,
                      error_domain::test,
                      "unsupported configuration: device type 'sound' cannot be attached or detached by the test driver");
    auto e = catch_error([&] { off.attach_device("<disk", affect::current); });
    EXPECT_EQ(e.code, error_code::xml_detail);
    off.undefine();
}

// ---- migration -------------------------------------------------------------------------------------------

TEST_F(test_driver, migrate_between_two_test_hosts) {
    auto src = conn_t::open("test:///default");
    auto dst = conn_t::open("test://" + host_file);
    auto d = src.lookup_domain_by_name("test");
    auto moved = d.migrate(dst);
    EXPECT_EQ(moved.name(), "test");
    EXPECT_EQ(moved.uuid_string(), test_uuid);
    EXPECT_EQ(moved.id(), 2);  // the destination's next id
    EXPECT_EQ(moved.state(), (domain_state_info{domain_state::running, 2}));
    EXPECT_FALSE(moved.is_persistent());
    EXPECT_EQ(moved.info().memory_kib, 2097152u);
    // the source keeps the (persistent) definition, shut off as migrated
    auto left = src.lookup_domain_by_name("test");
    EXPECT_EQ(left.state(), (domain_state_info{domain_state::shutoff, 4}));
    EXPECT_EQ(src.num_of_domains(), 0);
}

TEST_F(test_driver, migrate_with_persist_undefine_and_rename) {
    auto src = conn_t::open("test:///default");
    auto dst = conn_t::open("test://" + host_file);
    auto d = src.lookup_domain_by_name("test");
    auto moved = d.migrate(dst, test_detail_flags::persist_dest | test_detail_flags::undefine_source, {.dname = "renamed"});
    EXPECT_EQ(moved.name(), "renamed");
    EXPECT_TRUE(moved.is_persistent());
    EXPECT_VIRT_ERROR((void)src.lookup_domain_by_name("test"), error_code::no_domain, error_domain::test, "Domain not found");
}

TEST_F(test_driver, migrate_of_a_stopped_domain_and_conflicts) {
    auto src = conn_t::open("test:///default");
    auto off = src.define_domain_xml(small_domain("off"));
    auto dst = conn_t::open("test://" + host_file);
    EXPECT_VIRT_ERROR((void)off.migrate(dst), error_code::operation_invalid, error_domain::domain,
                      "Requested operation is not valid: domain is not running");
    off.undefine();
    auto d = src.lookup_domain_by_name("test");
    const auto before = d.state();
    auto e = catch_error([&] { (void)d.migrate(dst, 0, {.dname = "guest-a"}); });
    EXPECT_EQ(e.code, error_code::operation_failed);
    EXPECT_EQ(e.message, "operation failed: domain 'guest-a' already exists with uuid 11111111-1111-1111-1111-111111111111");
    // migrate() cancelled the source's half when prepare failed: it runs on, and can migrate again
    EXPECT_EQ(d.state(), before);
    (void)src.call<op::domain_migrate_begin>({d.ref(), std::nullopt, 0});
    src.call<op::domain_migrate_confirm>({d.ref(), {}, 0, true});
}

TEST_F(test_driver, migration_steps_out_of_order_are_refused) {
    auto src = conn_t::open("test:///default");
    auto d = src.lookup_domain_by_name("test");
    const auto before = d.state();
    EXPECT_VIRT_ERROR(src.call<op::domain_migrate_perform>({d.ref(), std::nullopt, {}, std::nullopt, std::nullopt, 0}), error_code::operation_invalid, error_domain::test,
                      "Requested operation is not valid: domain 'test' has no migration in progress");
    EXPECT_VIRT_ERROR((void)src.call<op::domain_migrate_finish>({"test", {}, std::nullopt, std::nullopt, 0, false}), error_code::no_domain, error_domain::test,
                      "Domain not found: no domain with matching name 'test'");
    (void)src.call<op::domain_migrate_begin>({d.ref(), std::nullopt, 0});
    EXPECT_VIRT_ERROR((void)src.call<op::domain_migrate_begin>({d.ref(), std::nullopt, 0}), error_code::operation_invalid,
                      error_domain::test, "Requested operation is not valid: domain 'test' is already being migrated");
    // cancelled before perform paused it: the guest just runs on, as it was
    src.call<op::domain_migrate_confirm>({d.ref(), {}, 0, true});
    EXPECT_EQ(d.state(), before);
    // cancelled after perform: it resumes, reason "migration canceled"
    (void)src.call<op::domain_migrate_begin>({d.ref(), std::nullopt, 0});
    (void)src.call<op::domain_migrate_perform>({d.ref(), std::nullopt, {}, std::nullopt, std::nullopt, 0});
    EXPECT_EQ(d.state(), (domain_state_info{domain_state::paused, 2}));
    src.call<op::domain_migrate_confirm>({d.ref(), {}, 0, true});
    EXPECT_EQ(d.state(), (domain_state_info{domain_state::running, 6}));
}

TEST_F(test_driver, migration_cancelled_at_finish_removes_the_incoming_domain) {
    auto src = conn_t::open("test:///default");
    auto dst = conn_t::open("test://" + host_file);
    auto d = src.lookup_domain_by_name("test");
    auto begun = src.call<op::domain_migrate_begin>({d.ref(), std::nullopt, 0});
    (void)dst.call<op::domain_migrate_prepare>({begun.cookie, std::nullopt, 0, std::nullopt, 0, begun.xml});
    EXPECT_EQ(dst.lookup_domain_by_name("test").state(), (domain_state_info{domain_state::paused, 2}));
    (void)dst.call<op::domain_migrate_finish>({"test", {}, std::nullopt, std::nullopt, 0, true});
    EXPECT_VIRT_ERROR((void)dst.lookup_domain_by_name("test"), error_code::no_domain, error_domain::test, "Domain not found");
    src.call<op::domain_migrate_confirm>({d.ref(), {}, 0, true});
    EXPECT_TRUE(d.is_active());
}

// ---- any_connection ----------------------------------------------------------------------------------------

TEST_F(test_driver, any_connection_reaches_every_kind_of_operation) {
    auto c = any_connection::open<test_drivers>("test:///default");
    EXPECT_EQ(c.driver_name(), "test");
    EXPECT_EQ(c.type(), "TEST");
    EXPECT_EQ(c.node_info().cpus, 16u);
    auto d = c.lookup_domain_by_name("test");
    EXPECT_EQ(d.xml_desc(), default_domain_xml);
    d.suspend();
    EXPECT_EQ(d.info().state, domain_state::paused);
    d.resume();
    d.attach_device("<disk type='file'><source file='/z'/><target dev='vdz'/></disk>");
    EXPECT_GT(d.block_stats("vdz").rd_req, 0);
    EXPECT_EQ(d.scheduler_type().name, "fair");
    auto n = c.lookup_network_by_name("default");
    EXPECT_EQ(n.bridge_name(), "virbr0");
    auto e = c.define_domain_xml(small_domain("via-any"));
    e.create();
    EXPECT_EQ(e.id(), 2);
    EXPECT_VIRT_ERROR(e.create(), error_code::internal_error, error_domain::test,
                      "internal error: Domain 'via-any' is already running");
    e.destroy();
    e.undefine();
    auto ro = any_connection::open_read_only<test_drivers>("test:///default");
    EXPECT_VIRT_ERROR(ro.lookup_domain_by_name("test").suspend(), error_code::operation_denied, error_domain::domain,
                      "operation forbidden: read only access prevents virDomainSuspend");
}

TEST_F(test_driver, any_connection_migrates_between_test_hosts) {
    auto src = any_connection::open<test_drivers>("test:///default");
    auto dst = any_connection::open<test_drivers>("test://" + host_file);
    auto moved = src.lookup_domain_by_name("test").migrate(dst);
    EXPECT_EQ(moved.id(), 2);
    EXPECT_TRUE(moved.is_active());
    EXPECT_EQ(dst.num_of_domains(), 2);
}

TEST_F(test_driver, any_connection_shares_the_default_host_with_typed_connections) {
    auto typed = conn_t::open("test:///default");
    auto erased = any_connection::open<test_drivers>("test:///default");
    typed.lookup_domain_by_name("test").suspend();
    EXPECT_EQ(erased.lookup_domain_by_name("test").state().state, domain_state::paused);
}

// ---- threads -----------------------------------------------------------------------------------------------

TEST_F(test_driver, concurrent_lookups_and_changes) {
    auto c = conn_t::open("test:///default");
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                try {
                    auto d = c.lookup_domain_by_name("test");
                    (void)d.info();
                    (void)c.num_of_domains();
                    if (t == 0) {
                        auto x = c.create_domain_xml(small_domain("t" + std::to_string(i)));
                        x.destroy();
                    }
                } catch (const virtpp::error&) {
                    ++failures;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(c.num_of_domains(), 1);
}

TEST_F(test_driver, concurrent_opens_and_closes_of_the_default_host) {
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 100; ++i) {
                try {
                    auto c = conn_t::open("test:///default");
                    if (c.lookup_domain_by_name("test").id() < 1) ++failures;
                } catch (const virtpp::error&) {
                    ++failures;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
}

TEST_F(test_driver, migrating_a_transient_domain_moves_it) {
    auto src = conn_t::open("test:///default");
    auto dst = conn_t::open("test://" + host_file);
    auto d = src.create_domain_xml(small_domain("mover", "77777777-7777-7777-7777-777777777777"));
    auto moved = d.migrate(dst);
    EXPECT_EQ(moved.name(), "mover");
    EXPECT_EQ(moved.state().state, domain_state::running);
    EXPECT_VIRT_ERROR((void)src.lookup_domain_by_name("mover"), error_code::no_domain, error_domain::test, "Domain not found");
    EXPECT_EQ(src.num_of_domains(), 1);
    // and back again, with a fresh id on the way home
    auto home = moved.migrate(src, 1U << 5 /* VIR_MIGRATE_PAUSED */);
    EXPECT_EQ(home.id(), 3);
    EXPECT_EQ(home.state().state, domain_state::paused);
    EXPECT_EQ(dst.num_of_domains(), 1);
}
}  // namespace

namespace {
// libvirt refuses two reading APIs on read-only connections only for some arguments: the vcpu
// count from the guest agent (virDomainGetVcpusFlags with VIR_DOMAIN_VCPU_GUEST) and interface
// addresses from the agent (virDomainInterfaceAddresses, source agent). The same calls with other
// arguments are fine.
TEST(test_driver_read_only, refuses_the_agent_forms_only) {
    auto ro = conn_t::open_read_only("test:///default");
    auto dom = ro.call<op::domain_lookup_by_name>({"test"});
    EXPECT_EQ(ro.call<op::domain_get_vcpus_flags>({dom, 0}), 2);
    auto denied = [](auto&& f, std::string_view api) {
        try {
            f();
            ADD_FAILURE() << api << " was allowed";
        } catch (const virtpp::error& e) {
            EXPECT_EQ(e.code(), error_code::operation_denied);
            EXPECT_EQ(std::string(e.what()), "operation forbidden: read only access prevents " + std::string(api));
        }
    };
    denied([&] { (void)ro.call<op::domain_get_vcpus_flags>({dom, 8}); }, "virDomainGetVcpusFlags");
    EXPECT_NO_THROW((void)ro.call<op::domain_interface_addresses>({dom, 0, 0}));
    denied([&] { (void)ro.call<op::domain_interface_addresses>({dom, 1, 0}); }, "virDomainInterfaceAddresses");
}
}  // namespace
