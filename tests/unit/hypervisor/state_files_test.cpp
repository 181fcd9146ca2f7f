// Names and state files (issue 14): a domain or network name is checked as libvirt checks it
// before any file is touched, and the QEMU driver's files are opened relative to their state
// directory without following links. Each finding: the exploit, then the refusal.
#include "unit/hypervisor/qemu_test_support.hpp"

#include <virtpp/xml/network.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace virtpp {
namespace {

using namespace qemu_test;
namespace qd = hypervisor::qemu_detail;

std::string domain_named(const std::string& name) {
    return "<domain type='qemu'><name>" + name + "</name><memory>65536</memory><os><type>hvm</type></os></domain>";
}

error_info error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const error& e) {
        return e.info();
    }
    ADD_FAILURE() << "no error";
    return {};
}

TEST(StateFiles, DomainNamesAreCheckedAsLibvirtChecksThem) {
    // libvirt 9.0: "XML error: name a/b cannot contain '/'" (VIR_ERR_XML_ERROR, domain)
    auto slash = error_of([] { (void)xml::parse_domain_xml(domain_named("../../x")); });
    EXPECT_EQ(slash.code, error_code::xml_error);
    EXPECT_EQ(slash.domain, error_domain::domain);
    EXPECT_NE(slash.message.find("name ../../x cannot contain '/'"), std::string::npos) << slash.message;
    // libvirt 9.0: "invalid char in name: \n" (VIR_ERR_XML_DETAIL, XML); other control characters too
    auto newline = error_of([] { (void)xml::parse_domain_xml(domain_named("a&#10;b")); });
    EXPECT_EQ(newline.code, error_code::xml_detail);
    EXPECT_EQ(newline.message, "invalid char in name: \n");
    auto tab = error_of([] { (void)xml::parse_domain_xml(domain_named("a&#9;b")); });
    EXPECT_EQ(tab.code, error_code::xml_detail);
    EXPECT_EQ(tab.message, "invalid char in name: \\x09");
    // what libvirt accepts still parses
    EXPECT_EQ(xml::parse_domain_xml(domain_named("a,b")).name, "a,b");
    EXPECT_EQ(xml::parse_domain_xml(domain_named("..")).name, "..");
}

TEST(StateFiles, NetworkNamesToo) {
    auto slash = error_of([] { (void)xml::parse_network_xml("<network><name>../x</name></network>"); });
    EXPECT_EQ(slash.code, error_code::xml_detail);
    EXPECT_NE(slash.message.find("invalid char in name: /"), std::string::npos);
    auto newline = error_of([] { (void)xml::parse_network_xml("<network><name>a&#10;b</name></network>"); });
    EXPECT_EQ(newline.code, error_code::xml_detail);
}

class StateFileIo : public ::testing::Test {
protected:
    void SetUp() override {
        root = std::filesystem::temp_directory_path() / ("virtpp-statefiles-" + std::to_string(::getpid()));
        std::filesystem::create_directories(root / "state");
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(root, ec);
    }
    std::filesystem::path root;
};

TEST_F(StateFileIo, FileNamesAreSingleComponents) {
    for (const char* bad : {"", ".", "..", "../x.xml", "a/b.xml"})
        EXPECT_THROW(qd::check_state_file_name(bad), error) << bad;
    EXPECT_THROW(qd::check_state_file_name(std::string(256, 'x')), error);
    EXPECT_NO_THROW(qd::check_state_file_name("a,b.xml"));
    auto dir = (root / "state").string();
    EXPECT_THROW(qd::write_file_atomic_at(dir, "../escaped.xml", "x"), error);
    EXPECT_FALSE(std::filesystem::exists(root / "escaped.xml"));
}

TEST_F(StateFileIo, LinksPlantedInTheStateDirectoryAreNotFollowed) {
    auto dir = (root / "state").string();
    auto outside = root / "outside";
    std::ofstream(outside) << "untouched";
    // the exploit: whoever can write the directory plants the temporary name as a link
    std::filesystem::create_symlink(outside, root / "state" / "g.xml.new");
    EXPECT_THROW(qd::write_file_atomic_at(dir, "g.xml", "<domain/>"), error);
    std::filesystem::remove(root / "state" / "g.xml.new");
    // a link in place of the file itself is replaced, never written through
    std::filesystem::create_symlink(outside, root / "state" / "g.xml");
    qd::write_file_atomic_at(dir, "g.xml", "<domain/>");
    EXPECT_FALSE(std::filesystem::is_symlink(root / "state" / "g.xml"));
    EXPECT_EQ(*qd::read_file_at(dir, "g.xml"), "<domain/>");
    // reading and appending do not follow links either
    std::filesystem::create_symlink(outside, root / "state" / "g.log");
    qd::append_file_at(dir, "g.log", "appended");
    std::filesystem::create_symlink(outside, root / "state" / "h.json");
    EXPECT_THROW((void)qd::read_file_at(dir, "h.json"), error);
    std::ifstream in(outside);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, "untouched");
    EXPECT_FALSE(qd::read_file_at(dir, "missing.xml").has_value());
}

TEST(StateFilesQemu, NothingIsWrittenOutsideTheStateDirectory) {
    if (!have_qemu()) GTEST_SKIP() << "qemu-system-x86_64 is not installed";
    state_dir dir;
    auto conn = connection::open("qemu:///session");
    auto before = std::filesystem::exists(std::filesystem::path(dir.path()).parent_path() / "x.xml");
    auto e = error_of([&] { (void)conn.define_domain_xml(domain_named("../../x")); });
    EXPECT_EQ(e.code, error_code::xml_error);
    EXPECT_EQ(std::filesystem::exists(std::filesystem::path(dir.path()).parent_path() / "x.xml"), before);
    auto long_name = error_of([&] { (void)conn.define_domain_xml(domain_named(std::string(300, 'n'))); });
    EXPECT_EQ(long_name.code, error_code::invalid_arg);
    EXPECT_NE(long_name.message.find("longer than"), std::string::npos) << long_name.message;
    // a comma is a legal name: its file is <name>.xml in the state directory, and it goes away
    auto dom = conn.define_domain_xml(domain_named("a,b"));
    EXPECT_TRUE(qd::read_file_at(dir.path() + "/qemu", "a,b.xml").has_value());
    dom.set_autostart(true);
    EXPECT_TRUE(std::filesystem::is_symlink(dir.path() + "/qemu/autostart/a,b.xml"));
    dom.set_autostart(false);
    dom.undefine();
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/qemu/a,b.xml"));
}

}  // namespace
}  // namespace virtpp
