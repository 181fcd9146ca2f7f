#include <virtpp/uuid.hpp>

#include <virtpp/error.hpp>

#include <gtest/gtest.h>

#include <unordered_set>

namespace {

using virtpp::uuid;

TEST(uuid, parses_dashed_and_plain_forms_to_the_same_value) {
    auto dashed = uuid::parse("4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
    auto plain = uuid::parse("4dea22b31d52d8f32516782e98ab3fa0");
    ASSERT_TRUE(dashed && plain);
    EXPECT_EQ(*dashed, *plain);
    EXPECT_EQ(plain->str(), "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
    // libvirt accepts dashes and blanks anywhere between pairs
    EXPECT_EQ(*uuid::parse("-4dea22b3--1d52 d8f3-2516-782e98ab3fa0"), *dashed);
    EXPECT_EQ(uuid::parse("  4DEA22B31D52D8F32516782E98AB3FA0\n")->str(), "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
}

TEST(uuid, rejects_malformed) {
    for (const char* bad : {"", "4dea22b3", "4dea22b3-1d52-d8f3-2516-782e98ab3fa", "4dea22b3-1d52-d8f3-2516-782e98ab3fa0x",
                            "zdea22b3-1d52-d8f3-2516-782e98ab3fa0", "4dea22b3-1d52-d8f3-2516-782e98ab3fa-0"})
        EXPECT_FALSE(uuid::parse(bad)) << bad;
    virtpp::set_error_handler([](const virtpp::error_info&) {});
    EXPECT_THROW((void)uuid::from_string("nope"), virtpp::error);
    virtpp::set_error_handler({});
}

TEST(uuid, generates_distinct_version4_values_and_hashes) {
    std::unordered_set<uuid> seen;
    for (int i = 0; i < 100; ++i) {
        auto u = uuid::generate();
        EXPECT_EQ(u.bytes()[6] >> 4, 4);
        EXPECT_EQ(u.bytes()[8] & 0xC0, 0x80);
        EXPECT_TRUE(seen.insert(u).second);
    }
    EXPECT_TRUE(uuid().is_nil());
    EXPECT_LT(*uuid::parse("00000000000000000000000000000001"), *uuid::parse("00000000000000000000000000000002"));
}

}  // namespace
