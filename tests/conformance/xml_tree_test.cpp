// The internal XML reader and writer every typed format stands on.
#include "xml/tree.hpp"

#include <gtest/gtest.h>

namespace {

using namespace virtpp;
using namespace virtpp::xml::detail;

struct xml_tree : ::testing::Test {
    void SetUp() override { set_error_handler([](const error_info&) {}); }
    void TearDown() override { set_error_handler({}); }
};

TEST_F(xml_tree, reads_elements_attributes_text_and_lines) {
    auto root = parse_document("<domain type=\"xen\">\n  <name>fc4</name>\n  <os><type>linux</type></os>\n</domain>",
                               "(domain_definition)");
    EXPECT_EQ(root.name, "domain");
    ASSERT_NE(root.attr("type"), nullptr);
    EXPECT_EQ(*root.attr("type"), "xen");
    ASSERT_NE(root.child("name"), nullptr);
    EXPECT_EQ(root.child("name")->text, "fc4");
    EXPECT_EQ(root.child("name")->line, 2);
    EXPECT_EQ(root.child("os")->child("type")->line, 3);
}

TEST_F(xml_tree, malformed_input_names_line_and_problem) {
    try {
        (void)parse_document("<domain>\n  <name>x</nam>\n</domain>", "(domain_definition)");
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::xml_detail);
        EXPECT_EQ(e.info().int1, 2);
        EXPECT_NE(std::string(e.what()).find("(domain_definition):2:"), std::string::npos) << e.what();
    }
    EXPECT_THROW((void)parse_document("", "(x)"), virtpp::error);
    EXPECT_THROW((void)parse_document("<a>", "(x)"), virtpp::error);
    EXPECT_THROW((void)parse_document("<a/><b/>", "(x)"), virtpp::error);
}

TEST_F(xml_tree, never_fetches_external_entities) {
    const char* doc =
        "<!DOCTYPE d [<!ENTITY e SYSTEM \"http://127.0.0.1:9/x\">]>\n<d>&e;</d>";
    EXPECT_THROW((void)parse_document(doc, "(x)"), virtpp::error);
    const char* file_doc = "<!DOCTYPE d [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n<d>&e;</d>";
    try {
        auto root = parse_document(file_doc, "(x)");
        FAIL() << "external entity was loaded: " << root.text;
    } catch (const virtpp::error& e) {
        EXPECT_NE(std::string(e.what()).find("external"), std::string::npos) << e.what();
    }
    const char* dtd_doc = "<!DOCTYPE d SYSTEM \"http://127.0.0.1:9/d.dtd\">\n<d/>";
    EXPECT_NO_THROW((void)parse_document(dtd_doc, "(x)"));  // external DTD is not loaded at all
}

TEST_F(xml_tree, bounds_entity_expansion) {
    std::string doc = "<!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\">";
    std::string prev = "a";
    for (char c = 'b'; c <= 'j'; ++c) {
        doc += "<!ENTITY ";
        doc += c;
        doc += " \"";
        for (int i = 0; i < 10; ++i) doc += "&" + prev + ";";
        doc += "\">";
        prev = std::string(1, c);
    }
    doc += "]><d>&j;</d>";
    EXPECT_THROW((void)parse_document(doc, "(x)"), virtpp::error);
}

TEST_F(xml_tree, writer_uses_libvirt_layout) {
    writer w;
    w.open("domain").attr("type", "test");
    w.leaf("name", "a<b'c");
    w.open("os").open("type").attr("arch", "i686").text("hvm").close().open("boot").attr("dev", "hd").close().close();
    w.open("devices").close();
    auto out = std::move(w).str();
    EXPECT_EQ(out,
              "<domain type='test'>\n"
              "  <name>a&lt;b&apos;c</name>\n"
              "  <os>\n"
              "    <type arch='i686'>hvm</type>\n"
              "    <boot dev='hd'/>\n"
              "  </os>\n"
              "  <devices/>\n"
              "</domain>\n");
}

TEST_F(xml_tree, white_space_in_values_survives_a_round_trip) {
    writer w;
    w.open("a").attr("v", "x\ny\tz\r").text("line1\r\nline2").close();
    auto out = std::move(w).str();
    EXPECT_EQ(out, "<a v='x&#10;y&#9;z&#13;'>line1&#13;\nline2</a>\n");
    auto back = parse_document(out, "(x)");
    EXPECT_EQ(*back.attr("v"), "x\ny\tz\r");
    EXPECT_EQ(back.text, "line1\r\nline2");
}

}  // namespace
