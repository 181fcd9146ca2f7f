// The test driver's post-parse for disks against libvirt 9.0's: a definition with IDE (a cdrom
// on the second bus, a disk on the second controller), SCSI (one with its own address on
// controller 3), SATA, floppy and virtio disks is defined, and the <devices> of its dumpxml must
// be exactly what libvirtd's test driver printed for it (tests/data/test-driver-disks.*): drive
// addresses, disks ordered by bus and target, implicit controllers appended in libvirt's order.
#include <virtpp/connection.hpp>
#include <virtpp/hypervisor/test.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(TestDriverPostParse, DiskAddressesOrderAndControllersMatchLibvirt) {
    const std::string dir = std::string(VIRTPP_SOURCE_DIR) + "/tests/data/";
    auto xml = read_text(dir + "test-driver-disks.xml");
    auto want = read_text(dir + "test-driver-disks.libvirt-devices.xml");
    ASSERT_FALSE(xml.empty());
    ASSERT_FALSE(want.empty());
    auto conn = virtpp::basic_connection<virtpp::hypervisor::test>::open("test:///default");
    auto dom = conn.define_domain_xml(xml);
    auto got = dom.xml_desc(virtpp::xml_flags::inactive);
    auto from = got.find("  <devices>\n");
    auto to = got.find("  </devices>\n");
    ASSERT_NE(from, std::string::npos);
    ASSERT_NE(to, std::string::npos);
    EXPECT_EQ(got.substr(from, to + 13 - from), want);
    // defining the dumped XML again (as edit does) changes nothing
    (void)conn.define_domain_xml(got);
    got = dom.xml_desc(virtpp::xml_flags::inactive);
    EXPECT_EQ(got.substr(got.find("  <devices>\n"), got.find("  </devices>\n") + 13 - got.find("  <devices>\n")), want);
}

// define --validate (VIR_DOMAIN_DEFINE_VALIDATE) checks the XML against the schema first: an
// attribute the schema does not know is refused with XML_INVALID_SCHEMA and nothing is defined;
// without the flag the same XML defines (the parser ignores what it does not know, as libvirt).
TEST(TestDriverPostParse, DefineValidateChecksTheSchema) {
    auto conn = virtpp::basic_connection<virtpp::hypervisor::test>::open("test:///default");
    const std::string xml =
        "<domain type='test' bogus='1'><name>val1</name><memory>8192</memory><os><type>hvm</type></os></domain>";
    try {
        (void)conn.call<virtpp::op::domain_define_xml>({xml, 1U});
        ADD_FAILURE() << "an invalid definition was accepted with VALIDATE";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), virtpp::error_code::xml_invalid_schema);
        EXPECT_NE(e.info().message.find("bogus"), std::string::npos) << e.info().message;
    }
    EXPECT_THROW((void)conn.lookup_domain_by_name("val1"), virtpp::error);
    EXPECT_EQ(conn.call<virtpp::op::domain_define_xml>({xml, 0U}).name, "val1");
    // create with VIR_DOMAIN_START_VALIDATE likewise
    const std::string transient =
        "<domain type='test' bogus='1'><name>val2</name><memory>8192</memory><os><type>hvm</type></os></domain>";
    EXPECT_THROW((void)conn.create_domain_xml(transient, 1U << 4), virtpp::error);
    EXPECT_THROW((void)conn.lookup_domain_by_name("val2"), virtpp::error);
}

}  // namespace
