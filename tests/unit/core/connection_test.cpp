#include <virtpp/connection.hpp>

#include "unit/core/toy_policy.hpp"

#include <virtpp/any.hpp>
#include <virtpp/hypervisor/test.hpp>

#include <gtest/gtest.h>

namespace {

using namespace virtpp;

static_assert(hypervisor_policy<toy::hypervisor>);
static_assert(supports<toy::hypervisor, op::domain_suspend>);
static_assert(!supports<toy::hypervisor, op::domain_resume>);
static_assert(transport_policy<transport::local, toy::hypervisor>);

struct connection : ::testing::Test {
    std::vector<error_info> seen;
    void SetUp() override { set_error_handler([this](const error_info& e) { seen.push_back(e); }); }
    void TearDown() override { set_error_handler({}); }
};

TEST_F(connection, typed_calls_reach_the_policy) {
    auto conn = toy::connection::open("toy:///");
    EXPECT_EQ(conn.type(), "TOY");
    EXPECT_EQ(conn.version(), 3u);
    EXPECT_EQ(conn.uri(), "toy:///");
    auto dom = conn.lookup_domain_by_name("a");
    EXPECT_EQ(dom.name(), "a");
    EXPECT_EQ(dom.id(), 1);
    dom.suspend();
    EXPECT_TRUE(conn.state().suspended);
    EXPECT_TRUE(seen.empty());
}

TEST_F(connection, errors_reach_the_connection_handler_then_throw) {
    auto conn = toy::connection::open("toy:///");
    int conn_calls = 0;
    conn.errors().set_handler([&](const error_info&) { ++conn_calls; });
    try {
        (void)conn.lookup_domain_by_name("zz");
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::no_domain);
        EXPECT_EQ(std::string(e.what()), "Domain not found: no domain with matching name 'zz'");
    }
    EXPECT_EQ(conn_calls, 1);
    EXPECT_TRUE(seen.empty());  // the global handler is not asked when the connection has one
    ASSERT_TRUE(conn.errors().last_error());
    EXPECT_EQ(conn.errors().last_error()->code, error_code::no_domain);
}

TEST_F(connection, malformed_uuid_strings_are_invalid_arg_reported_through_the_connection) {
    // the toy policy has no UUID lookups, so through any_connection: the string is refused first
    auto conn = any_connection::open<driver_list<driver<toy::hypervisor>>>("toy:///");
    int conn_calls = 0;
    conn.errors().set_handler([&](const error_info&) { ++conn_calls; });
    try {
        (void)conn.lookup_domain_by_uuid_string("not-a-uuid");
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::invalid_arg);
        EXPECT_EQ(e.domain(), error_domain::domain);
        EXPECT_EQ(std::string(e.what()), "invalid argument: uuidstr in virDomainLookupByUUIDString must be a valid UUID");
    }
    try {
        (void)conn.lookup_network_by_uuid_string("zz");
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.domain(), error_domain::network);
        EXPECT_EQ(std::string(e.what()), "invalid argument: uuidstr in virNetworkLookupByUUIDString must be a valid UUID");
    }
    EXPECT_EQ(conn_calls, 2);
}

TEST_F(connection, read_only_refuses_mutating_calls) {
    auto conn = toy::connection::open_read_only("toy:///");
    EXPECT_TRUE(conn.read_only());
    auto dom = conn.lookup_domain_by_name("a");  // reading is fine
    try {
        dom.suspend();
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::operation_denied);
        EXPECT_EQ(std::string(e.what()), "operation forbidden: read only access prevents virDomainSuspend");
    }
    EXPECT_FALSE(conn.state().suspended);
    ASSERT_EQ(seen.size(), 1u);
}

TEST_F(connection, handles_keep_the_connection_alive) {
    std::optional<toy::connection::domain_type> dom;
    {
        auto conn = toy::connection::open("toy:///");
        dom = conn.lookup_domain_by_name("a");
    }
    dom->suspend();
    EXPECT_TRUE(dom->connection().state().suspended);
}

using toy_drivers = driver_list<driver<toy::hypervisor>>;

TEST_F(connection, any_connection_dispatches_by_uri_and_reports_no_support) {
    auto conn = any_connection::open<toy_drivers>("toy:///");
    EXPECT_EQ(conn.driver_name(), "toy");
    EXPECT_EQ(conn.type(), "TOY");
    auto dom = conn.lookup_domain_by_name("a");
    dom.suspend();
    try {
        dom.resume();
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::no_support);
        EXPECT_EQ(e.domain(), error_domain::domain);
        EXPECT_EQ(std::string(e.what()), "this function is not supported by the connection driver: virDomainResume");
    }
    EXPECT_THROW((void)any_connection::open<toy_drivers>("nothere:///"), virtpp::error);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back().code, error_code::no_connect);
}

TEST_F(connection, any_connection_says_whether_calls_may_block) {
    // a driver that does not say is assumed to wait; the test driver only sleeps with its delay hook
    EXPECT_TRUE(any_connection::open<toy_drivers>("toy:///").calls_may_block());
    using test_drivers = driver_list<driver<hypervisor::test>>;
    EXPECT_FALSE(any_connection::open<test_drivers>("test:///default").calls_may_block());
    EXPECT_TRUE(any_connection::open<test_drivers>("test:///default?virtpp_delay_ms=5").calls_may_block());
}

TEST_F(connection, any_connection_read_only_refuses_before_dispatch) {
    auto conn = any_connection::open_read_only<toy_drivers>("toy:///");
    auto dom = conn.lookup_domain_by_name("a");
    try {
        dom.resume();  // unsupported AND mutating: libvirt checks read-only first
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::operation_denied);
    }
}

}  // namespace
