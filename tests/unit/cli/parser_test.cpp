// The CLI's grammar, tables and help pages against virsh 9.0's behaviour.
#include "../../../tools/virtpp/command_defs.hpp"
#include "../../../tools/virtpp/help.hpp"
#include "../../../tools/virtpp/parser.hpp"
#include "../../../tools/virtpp/table.hpp"

#include <gtest/gtest.h>

namespace cli = virtpp::cli;

namespace {
struct parse_result {
    bool ok;
    std::vector<cli::parsed_command> commands;
    std::vector<std::string> errors;
};
parse_result parse(std::string_view text) {
    parse_result r;
    r.ok = cli::parse_string(cli::defs::commands, text, r.commands, [&](const std::string& m) { r.errors.push_back(m); });
    return r;
}
}  // namespace

TEST(CliParser, PositionalAndNamedOptions) {
    auto r = parse("setmem test --size=1024 --live; dominfo --domain 'a b'");
    ASSERT_TRUE(r.ok);
    ASSERT_EQ(r.commands.size(), 2U);
    EXPECT_EQ(r.commands[0].find("domain")->value, "test");
    EXPECT_EQ(r.commands[0].find("size")->value, "1024");
    EXPECT_TRUE(r.commands[0].has("live"));
    EXPECT_EQ(r.commands[1].find("domain")->value, "a b");
}

TEST(CliParser, VirshErrorMessages) {
    EXPECT_EQ(parse("bogus").errors, std::vector<std::string>{"unknown command: 'bogus'"});
    EXPECT_EQ(parse("dominfo").errors, std::vector<std::string>{"command 'dominfo' requires <domain> option"});
    EXPECT_EQ(parse("dominfo a b").errors, std::vector<std::string>{"unexpected data 'b'"});
    EXPECT_EQ(parse("list --foo").errors, std::vector<std::string>{"command 'list' doesn't support option --foo"});
    EXPECT_EQ(parse("list --all --all").errors, std::vector<std::string>{"option --all already seen"});
    EXPECT_EQ(parse("list --all=1").errors, std::vector<std::string>{"invalid '=' after option --all"});
    EXPECT_EQ(parse("setmem test --size").errors, std::vector<std::string>{"expected syntax: --size <number>"});
    EXPECT_EQ(parse("dominfo \"x").errors, std::vector<std::string>{"missing \""});
    EXPECT_EQ(parse("dominfo x\\").errors, std::vector<std::string>{"dangling \\"});
}

TEST(CliParser, HelpOptionBecomesHelpCommand) {
    auto r = parse("dominfo --help");
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.commands[0].def->name, "help");
    EXPECT_EQ(r.commands[0].find("command")->value, "dominfo");
}

TEST(CliParser, CommentsAndDoubleDash) {
    auto r = parse("# nothing\ndomname -- --odd");
    ASSERT_TRUE(r.ok);
    ASSERT_EQ(r.commands.size(), 1U);
    EXPECT_EQ(r.commands[0].find("domain")->value, "--odd");
}

TEST(CliTable, WidthsFollowContent) {
    cli::table t({"Id", "Name", "State"});
    t.add_row({"1", "test", "running"});
    EXPECT_EQ(t.str(), " Id   Name   State\n----------------------\n 1    test   running\n");
    EXPECT_EQ(t.str(false), " 1   test   running\n");
}

TEST(CliTable, ControlCharactersAreEscaped) {
    auto c = cli::encode_table_cell("a\tb");
    EXPECT_EQ(c.text, "a\\x09b");
    EXPECT_EQ(c.width, 6U);
}

TEST(CliHelp, CommandPage) {
    const auto* def = cli::find_command(cli::defs::commands, "domstate");
    ASSERT_NE(def, nullptr);
    EXPECT_EQ(cli::command_help(*def),
              "  NAME\n    domstate - domain state\n\n  SYNOPSIS\n    domstate <domain> [--reason]\n\n"
              "  DESCRIPTION\n    Returns state about a domain.\n\n  OPTIONS\n"
              "    [--domain] <string>  domain name, id or uuid\n    --reason         also print reason for the state\n\n");
}

TEST(CliParser, DebugTraceNamesEveryOption) {
    std::vector<std::string> trace;
    std::vector<cli::parsed_command> out;
    ASSERT_TRUE(cli::parse_string(cli::defs::commands, "list --all; dominfo test", out, [](const std::string&) {},
                                  [&](const std::string& m) { trace.push_back(m); }));
    EXPECT_EQ(trace, (std::vector<std::string>{"list: all(bool): (none)\n", "dominfo: domain(optdata): test\n"}));
}

TEST(CliParser, NewCommandsTakeVirshsArguments) {
    auto r = parse("schedinfo test --set weight=10 --set cap=2 --live; migrate test test:///x --tunneled --dname n;"
                   "attach-disk test '' vdb --shareable; vcpupin test 0 1-2");
    ASSERT_TRUE(r.ok) << (r.errors.empty() ? "" : r.errors[0]);
    ASSERT_EQ(r.commands.size(), 4U);
    EXPECT_EQ(r.commands[0].all("set"), (std::vector<std::string>{"weight=10", "cap=2"}));
    EXPECT_TRUE(r.commands[1].has("tunnelled"));
    EXPECT_EQ(r.commands[1].find("desturi")->value, "test:///x");
    EXPECT_EQ(r.commands[2].find("source")->value, "");
    EXPECT_EQ(r.commands[2].find("mode")->value, "shareable");
    EXPECT_EQ(r.commands[3].find("vcpu")->value, "0");
    EXPECT_EQ(r.commands[3].find("cpulist")->value, "1-2");
    EXPECT_EQ(parse("migrate test").errors, std::vector<std::string>{"command 'migrate' requires <desturi> option"});
    // weight and cap only by name: a bare word is a --set value (virsh then refuses its syntax)
    auto bare = parse("schedinfo test 5");
    ASSERT_TRUE(bare.ok);
    EXPECT_EQ(bare.commands[0].all("set"), std::vector<std::string>{"5"});
}
