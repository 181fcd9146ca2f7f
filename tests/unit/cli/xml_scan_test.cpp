// The scanner detach-disk / detach-interface use to pick a device out of a domain's XML, and the
// libxml2-style text virsh hands back for it.
#include "../../../tools/virtpp/xml_scan.hpp"

#include <gtest/gtest.h>

namespace cli = virtpp::cli;

namespace {
constexpr std::string_view domain_xml =
    "<domain type='test'>\n"
    "  <name>a&apos;b</name>\n"
    "  <!-- a comment -->\n"
    "  <devices>\n"
    "    <disk type='file' device='disk'>\n"
    "      <source file='/x/&quot;q&quot;.img'/>\n"
    "      <backingStore type='file'>\n"
    "        <format type='raw'/>\n"
    "      </backingStore>\n"
    "      <target dev='vda' bus='virtio'/>\n"
    "    </disk>\n"
    "    <interface type='network'>\n"
    "      <mac address='aa:bb:cc:dd:ee:ff'/>\n"
    "      <source network='it&apos;s'/>\n"
    "    </interface>\n"
    "  </devices>\n"
    "</domain>\n";
}  // namespace

TEST(CliXmlScan, ElementsAttributesAndSpans) {
    auto root = cli::scan_xml(domain_xml);
    ASSERT_TRUE(root);
    EXPECT_EQ(root->name, "domain");
    const auto* devices = root->child("devices");
    ASSERT_NE(devices, nullptr);
    ASSERT_EQ(devices->children.size(), 2U);
    const auto& disk = devices->children[0];
    EXPECT_EQ(*disk.child("source")->attr("file"), "/x/\"q\".img");
    EXPECT_EQ(*disk.child("target")->attr("dev"), "vda");
    EXPECT_EQ(*devices->children[1].child("source")->attr("network"), "it's");
    EXPECT_EQ(domain_xml.substr(disk.begin, 5), "<disk");
    EXPECT_EQ(domain_xml.substr(disk.end - 7, 7), "</disk>");
}

TEST(CliXmlScan, NodeTextIsLibxml2Style) {
    auto root = cli::scan_xml(domain_xml);
    ASSERT_TRUE(root);
    const auto& disk = root->child("devices")->children[0];
    // double quotes; the backing chain dropped with the whitespace around it kept, as xmlUnlinkNode does
    EXPECT_EQ(cli::node_text(domain_xml, disk, {disk.child("backingStore")}),
              "<disk type=\"file\" device=\"disk\">\n"
              "      <source file=\"/x/&quot;q&quot;.img\"/>\n"
              "      \n"
              "      <target dev=\"vda\" bus=\"virtio\"/>\n"
              "    </disk>");
    EXPECT_EQ(cli::node_text(domain_xml, root->child("devices")->children[1]),
              "<interface type=\"network\">\n"
              "      <mac address=\"aa:bb:cc:dd:ee:ff\"/>\n"
              "      <source network=\"it's\"/>\n"
              "    </interface>");
}

TEST(CliXmlScan, MalformedTextIsRefusedNotTrusted) {
    for (std::string_view bad : {"", "<", "<a", "<a b='1>", "<a></b>", "<a b=1/>", "<a b='&bogus;'/>", "<a b='&#99999999999;'/>",
                                 "<a><b></a>", "text"})
        EXPECT_FALSE(cli::scan_xml(bad)) << bad;
    std::string deep;
    for (int i = 0; i < 200; ++i) deep += "<a>";
    EXPECT_FALSE(cli::scan_xml(deep));
}
