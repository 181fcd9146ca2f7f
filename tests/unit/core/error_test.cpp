#include <virtpp/error.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace {

using namespace virtpp;

struct silence : ::testing::Test {
    void SetUp() override { set_error_handler([](const error_info&) {}); }
    void TearDown() override { set_error_handler({}); reset_last_error(); }
};

TEST(error, numbers_are_libvirts) {
    EXPECT_EQ(static_cast<int>(error_code::no_support), 3);
    EXPECT_EQ(static_cast<int>(error_code::xml_error), 27);
    EXPECT_EQ(static_cast<int>(error_code::no_domain), 42);
    EXPECT_EQ(static_cast<int>(error_code::operation_invalid), 55);
    EXPECT_EQ(static_cast<int>(error_code::operation_denied), 29);
    EXPECT_EQ(static_cast<int>(error_domain::test), 12);
    EXPECT_EQ(static_cast<int>(error_domain::remote), 13);
    EXPECT_EQ(static_cast<int>(error_domain::domain), 20);
}

TEST(error, messages_follow_libvirt) {
    EXPECT_EQ(format_error_message(error_code::no_domain), "Domain not found");
    EXPECT_EQ(format_error_message(error_code::no_domain, "no domain with matching name 'x'"),
              "Domain not found: no domain with matching name 'x'");
    EXPECT_EQ(format_error_message(error_code::unknown_host, "foo"), "unknown host foo");
    EXPECT_EQ(error_domain_name(error_domain::test), "Test Driver");
    EXPECT_EQ(error_domain_name(error_domain::domain), "Domain Config");
    EXPECT_EQ(error_domain_name(static_cast<error_domain>(9999)), "Unknown");
}

TEST(error, default_handler_text) {
    auto info = make_error_info(error_code::no_domain, error_domain::test, "no domain with matching name 'x'");
    EXPECT_EQ(default_error_text(info),
              "libvirt: Test Driver error : Domain not found: no domain with matching name 'x'\n");
    info.domain_name = "x";
    EXPECT_EQ(default_error_text(info),
              "libvirt: Test Driver error x: Domain not found: no domain with matching name 'x'\n");
}

TEST_F(silence, connection_handler_wins_then_global_and_last_error_is_kept) {
    int global_calls = 0, conn_calls = 0;
    set_error_handler([&](const error_info&) { ++global_calls; });
    error_sink conn;
    conn.set_handler([&](const error_info&) { ++conn_calls; });
    EXPECT_THROW(api_boundary(&conn, [] { raise(error_code::no_domain, error_domain::test, "a"); }), virtpp::error);
    EXPECT_EQ(conn_calls, 1);
    EXPECT_EQ(global_calls, 0);
    ASSERT_TRUE(conn.last_error());
    EXPECT_EQ(conn.last_error()->code, error_code::no_domain);
    ASSERT_TRUE(last_error());
    EXPECT_EQ(last_error()->message, "Domain not found: a");
    conn.reset_last_error();
    EXPECT_FALSE(conn.last_error());
    report(make_error_info(error_code::internal_error, error_domain::none, "b"));
    EXPECT_EQ(global_calls, 1);
    EXPECT_EQ(last_error()->code, error_code::internal_error);
    reset_last_error();
    EXPECT_FALSE(last_error());
}

TEST_F(silence, nested_boundaries_report_once) {
    int calls = 0;
    set_error_handler([&](const error_info&) { ++calls; });
    EXPECT_THROW(api_boundary(nullptr, [] {
                     return api_boundary(nullptr, []() -> int { raise(error_code::no_domain, error_domain::test, "x"); });
                 }),
                 virtpp::error);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(api_boundary(nullptr, [] { return 7; }), 7);
    EXPECT_THROW(raise(error_code::internal_error, error_domain::none, "not reported"), virtpp::error);
    EXPECT_EQ(calls, 1);
}

TEST_F(silence, last_error_is_per_thread) {
    report(make_error_info(error_code::internal_error, error_domain::none, "main"));
    std::optional<error_info> seen_in_thread = error_info{};
    std::thread([&] { seen_in_thread = last_error(); }).join();
    EXPECT_FALSE(seen_in_thread);
    EXPECT_TRUE(last_error());
}

}  // namespace
