// Network and capabilities XML against libvirt 9.0: byte-identical output to what virsh printed
// for the same inputs (saved under tests/data), fixed points, order-independence, and no element,
// attribute or text of the seed/fixture inputs lost on the way through.
#include <virtpp/xml/capabilities.hpp>
#include <virtpp/xml/network.hpp>

#include "xml/tree.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>

namespace {

using namespace virtpp;
using namespace virtpp::xml;
namespace fs = std::filesystem;
namespace xd = virtpp::xml::detail;

const fs::path data_dir = fs::path(VIRTPP_SOURCE_DIR) / "tests/data";
const fs::path fixtures = fs::path(VIRTPP_SHARED_DIR) / "fixtures/libvirt";

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    EXPECT_TRUE(in.good()) << p;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct conformance : ::testing::Test {
    void SetUp() override { set_error_handler([](const error_info&) {}); }
    void TearDown() override { set_error_handler({}); }
};

std::string net_roundtrip(const std::string& xml) { return format_network_xml(parse_network_xml(xml)); }
std::string caps_roundtrip(const std::string& xml) { return format_capabilities_xml(parse_capabilities_xml(xml)); }

// ---- same bytes as virsh ---------------------------------------------------------------------

struct oracle_case {
    fs::path input;
    fs::path expected;
};

TEST_F(conformance, network_output_matches_virsh_net_dumpxml) {
    const oracle_case cases[] = {
        {data_dir / "network/test-driver-default.xml", data_dir / "network/test-driver-default.xml"},
        {data_dir / "network/full-input.xml", data_dir / "network/full-expected.xml"},
        {fixtures / "docs/testnetdef.xml", data_dir / "network/testnetdef-expected.xml"},
        {fixtures / "docs/testnetpriv.xml", data_dir / "network/testnetpriv-expected.xml"},
        {fixtures / "qemud/default-network.xml", data_dir / "network/default-network-expected-nouuid.xml"},
        {data_dir / "network/isolated-ipv6.xml", data_dir / "network/isolated-ipv6.xml"},
        {data_dir / "network/route.xml", data_dir / "network/route.xml"},
        {data_dir / "network/bridge.xml", data_dir / "network/bridge.xml"},
        {data_dir / "network/passthrough.xml", data_dir / "network/passthrough.xml"},
        {data_dir / "network/hostdev.xml", data_dir / "network/hostdev.xml"},
    };
    for (const auto& c : cases) EXPECT_EQ(net_roundtrip(slurp(c.input)), slurp(c.expected)) << c.input;
}

TEST_F(conformance, capabilities_output_matches_virsh_capabilities) {
    // test-driver.xml is `virsh -c test:///default capabilities`; kvm-host.xml is written in 9.0's layout.
    for (const auto* name : {"capabilities/test-driver.xml", "capabilities/kvm-host.xml"}) {
        auto text = slurp(data_dir / name);
        EXPECT_EQ(caps_roundtrip(text), text) << name;
    }
}

// ---- fixed points ------------------------------------------------------------------------------

std::vector<fs::path> network_inputs() {
    std::vector<fs::path> out = {fixtures / "docs/testnetdef.xml", fixtures / "docs/testnetpriv.xml",
                                 fixtures / "qemud/default-network.xml"};
    for (const auto& e : fs::directory_iterator(data_dir / "network")) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<fs::path> capabilities_inputs() {
    std::vector<fs::path> out = {fs::path(VIRTPP_SHARED_DIR) / "seed/examples/capabilities-xen.xml"};
    for (const auto& e : fs::directory_iterator(data_dir / "capabilities")) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

TEST_F(conformance, format_of_parse_is_a_fixed_point) {
    for (const auto& p : network_inputs()) {
        auto once = net_roundtrip(slurp(p));
        EXPECT_EQ(net_roundtrip(once), once) << p;
        EXPECT_EQ(parse_network_xml(once), parse_network_xml(slurp(p))) << p;
    }
    for (const auto& p : capabilities_inputs()) {
        auto once = caps_roundtrip(slurp(p));
        EXPECT_EQ(caps_roundtrip(once), once) << p;
        EXPECT_EQ(parse_capabilities_xml(once), parse_capabilities_xml(slurp(p))) << p;
    }
}

// ---- order-independence: the same document written differently --------------------------------

using xd::element;

// Writes `e` differently: double quotes, no indentation, attributes reversed, and the groups of
// differently named children in reverse order (children sharing a name keep their order: that
// order is meaningful). Elements whose children are a list of flags keep their order entirely.
void rewrite(const element& e, std::string& out) {
    out += "<" + e.name;
    for (auto it = e.attributes.rbegin(); it != e.attributes.rend(); ++it) {
        std::string v = xd::escape(it->second);
        out += " " + it->first + "=\"" + v + "\"";
    }
    out += ">";
    out += xd::escape(e.trimmed_text());
    std::vector<const element*> order;
    bool keep_order = e.name == "features";
    if (keep_order) {
        for (const auto& c : e.children) order.push_back(&c);
    } else {
        std::vector<std::string> names;
        for (const auto& c : e.children)
            if (std::find(names.begin(), names.end(), c.name) == names.end()) names.push_back(c.name);
        std::reverse(names.begin(), names.end());
        for (const auto& n : names)
            for (const auto& c : e.children)
                if (c.name == n) order.push_back(&c);
    }
    for (const auto* c : order) rewrite(*c, out);
    out += "</" + e.name + ">";
}

std::string rewritten(const std::string& xml) {
    std::string out = "<?xml version=\"1.0\"?>\n<!-- written differently -->\n";
    rewrite(xd::parse_document(xml, "(test)"), out);
    return out;
}

TEST_F(conformance, the_same_document_written_differently_formats_to_the_same_bytes) {
    for (const auto& p : network_inputs()) {
        auto text = slurp(p);
        EXPECT_EQ(net_roundtrip(rewritten(text)), net_roundtrip(text)) << p;
    }
    for (const auto& p : capabilities_inputs()) {
        auto text = slurp(p);
        EXPECT_EQ(caps_roundtrip(rewritten(text)), caps_roundtrip(text)) << p;
    }
}

// ---- nothing lost --------------------------------------------------------------------------------

// Every element path, attribute value and text of a document, with UUIDs in one spelling.
std::set<std::string> facts(const element& root) {
    std::set<std::string> out;
    std::function<void(const element&, const std::string&)> walk = [&](const element& e, const std::string& parent) {
        auto path = parent + "/" + e.name;
        auto text = e.trimmed_text();
        if (e.name == "uuid") text = uuid::from_string(text).str();
        // An empty <features></features> states nothing; libvirt writes none.
        if (!(e.name == "features" && e.children.empty())) out.insert(path);
        for (const auto& [k, v] : e.attributes) out.insert(path + "@" + k + "=" + v);
        if (!text.empty()) out.insert(path + "=" + text);
        for (const auto& c : e.children) walk(c, path);
    };
    walk(root, "");
    return out;
}

void expect_nothing_lost(const std::string& input, const std::string& output, const fs::path& name) {
    auto in = facts(xd::parse_document(input, "(input)"));
    auto out = facts(xd::parse_document(output, "(output)"));
    for (const auto& f : in) EXPECT_TRUE(out.count(f)) << name << ": lost " << f << "\n" << output;
}

TEST_F(conformance, no_element_attribute_or_text_of_the_seed_and_fixtures_is_lost) {
    for (const auto& p : {fixtures / "docs/testnetdef.xml", fixtures / "docs/testnetpriv.xml",
                          fixtures / "qemud/default-network.xml", data_dir / "network/full-expected.xml"}) {
        auto text = slurp(p);
        expect_nothing_lost(text, net_roundtrip(text), p);
    }
    for (const auto& p : capabilities_inputs()) {
        auto text = slurp(p);
        expect_nothing_lost(text, caps_roundtrip(text), p);
    }
}

}  // namespace
