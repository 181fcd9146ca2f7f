// virConf text as parse_conf reads it (src/daemon/conf_parser.cpp, Spirit X3): the values and
// their lines, and each refusal's message and line, as the hand-written reader before it gave
// them (libvirtd.conf, libvirt.conf and the tests of virtppd's configuration rely on the text).
#include <virtpp/rpc/server.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace virtpp::daemon;

std::string refusal(std::string_view text) {
    try {
        (void)parse_conf(text, "t.conf");
    } catch (const config_error& e) {
        return e.what();
    }
    return "accepted";
}

TEST(ConfParser, ValuesTheirKindsAndLines) {
    auto entries = parse_conf("# head\n\na = 1 ; b='x'\n  c = \"y\"  # note\n"
                              "d = [ \"p\",\n  # inside\n  'q', [ -3, +4 ], ]\ne = \"\"\"two\nlines\"\"\"\nf=[]",
                              "t.conf");
    ASSERT_EQ(entries.size(), 6U);
    EXPECT_EQ(entries[0].key, "a");
    EXPECT_EQ(std::get<long long>(entries[0].value.data), 1);
    EXPECT_EQ(entries[0].value.line, 3);
    EXPECT_EQ(std::get<std::string>(entries[1].value.data), "x");
    EXPECT_EQ(entries[1].value.line, 3);
    EXPECT_EQ(std::get<std::string>(entries[2].value.data), "y");
    EXPECT_EQ(entries[2].value.line, 4);
    const auto& list = std::get<std::vector<conf_value>>(entries[3].value.data);
    ASSERT_EQ(list.size(), 3U);
    EXPECT_EQ(std::get<std::string>(list[0].data), "p");
    EXPECT_EQ(list[0].line, 5);
    EXPECT_EQ(std::get<std::string>(list[1].data), "q");
    EXPECT_EQ(list[1].line, 7);
    const auto& inner = std::get<std::vector<conf_value>>(list[2].data);
    ASSERT_EQ(inner.size(), 2U);
    EXPECT_EQ(std::get<long long>(inner[0].data), -3);
    EXPECT_EQ(std::get<long long>(inner[1].data), 4);
    EXPECT_EQ(std::get<std::string>(entries[4].value.data), "two\nlines");
    EXPECT_EQ(entries[4].value.line, 8);
    EXPECT_EQ(entries[5].key, "f");
    EXPECT_EQ(entries[5].value.line, 10);
    EXPECT_TRUE(std::get<std::vector<conf_value>>(entries[5].value.data).empty());
    EXPECT_EQ(std::get<long long>(parse_conf("n = 9223372036854775807", "t.conf")[0].value.data),
              9223372036854775807LL);
}

TEST(ConfParser, EveryRefusalNamesItsLine) {
    EXPECT_EQ(refusal("a = 1\n= 2\n"), "t.conf:2: expecting a name");
    EXPECT_EQ(refusal("a = 1 ;; b = 2"), "t.conf:1: expecting a name");
    EXPECT_EQ(refusal("\n\nkey_1 2"), "t.conf:3: expecting an assignment after 'key_1'");
    EXPECT_EQ(refusal("a ="), "t.conf:1: expecting a value");
    EXPECT_EQ(refusal("a = x"), "t.conf:1: expecting a value");
    EXPECT_EQ(refusal("a = [1,\n\n ,]"), "t.conf:3: expecting a value");
    EXPECT_EQ(refusal("a = [1\n\n 2]"), "t.conf:3: list is not closed with ]");
    EXPECT_EQ(refusal("a = [\n"), "t.conf:2: list is not closed with ]");
    EXPECT_EQ(refusal("a = -"), "t.conf:1: unterminated number");
    EXPECT_EQ(refusal("a = 9223372036854775808"), "t.conf:1: number out of range");
    EXPECT_EQ(refusal("a = -9223372036854775808"), "t.conf:1: number out of range");
    EXPECT_EQ(refusal("a = 'x\n'"), "t.conf:1: unterminated string");
    EXPECT_EQ(refusal("a = 1\nb = \"\"\"x\n\ny"), "t.conf:2: unterminated string");
    EXPECT_EQ(refusal("a = 12abc"), "t.conf:1: expecting a separator");
    EXPECT_EQ(refusal("a = 1\n\nb = \"x\" \"y\""), "t.conf:3: expecting a separator");
    EXPECT_EQ(refusal("a = " + std::string(17, '[')), "t.conf:1: lists nested deeper than 16 levels");
    EXPECT_EQ(refusal("a = " + std::string(16, '[') + std::string(16, ']')), "accepted");
    EXPECT_EQ(refusal("  \t\n# only a comment"), "accepted");
}

}  // namespace
