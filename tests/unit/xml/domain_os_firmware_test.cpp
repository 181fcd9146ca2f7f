// <os>'s firmware switches the QEMU driver acts on: <bootmenu> and <bios>, parsed, checked and
// written back in libvirt's order (after <boot>).
#include <virtpp/error.hpp>
#include <virtpp/xml/domain.hpp>

#include <gtest/gtest.h>

namespace {

using namespace virtpp::xml;

std::string with_os(std::string_view inner) {
    return "<domain type='qemu'><name>fw</name><memory>32768</memory><os><type>hvm</type>" + std::string(inner) +
           "</os></domain>";
}

TEST(DomainOsFirmware, BootmenuAndBiosRoundTripAfterBoot) {
    auto def = parse_domain_xml(with_os("<bios useserial='yes' rebootTimeout='0'/><bootmenu enable='yes' timeout='3000'/><boot dev='hd'/>"));
    EXPECT_EQ(def.os.bios_useserial, true);
    EXPECT_EQ(def.os.bios_reboot_timeout, 0);
    EXPECT_EQ(def.os.bootmenu, true);
    EXPECT_EQ(def.os.bootmenu_timeout, 3000);
    auto xml = format_domain_xml(def, {});
    auto boot = xml.find("<boot dev='hd'/>"), menu = xml.find("<bootmenu enable='yes' timeout='3000'/>"),
         bios = xml.find("<bios useserial='yes' rebootTimeout='0'/>");
    ASSERT_NE(boot, std::string::npos);
    ASSERT_NE(menu, std::string::npos);
    ASSERT_NE(bios, std::string::npos);
    EXPECT_LT(boot, menu);
    EXPECT_LT(menu, bios);
}

TEST(DomainOsFirmware, AbsentMeansUnset) {
    auto def = parse_domain_xml(with_os(""));
    EXPECT_FALSE(def.os.bios_useserial);
    EXPECT_FALSE(def.os.bootmenu);
    auto xml = format_domain_xml(def, {});
    EXPECT_EQ(xml.find("<bios"), std::string::npos);
    EXPECT_EQ(xml.find("<bootmenu"), std::string::npos);
}

TEST(DomainOsFirmware, BadValuesAreRefusedNamingTheAttribute) {
    virtpp::set_error_handler([](const virtpp::error_info&) {});
    auto message = [](std::string_view inner) {
        try {
            (void)parse_domain_xml(with_os(inner));
        } catch (const virtpp::error& e) {
            return e.info().message;
        }
        return std::string("accepted");
    };
    EXPECT_NE(message("<bios useserial='maybe'/>").find("Invalid value for attribute 'useserial' in element 'bios': 'maybe'"), std::string::npos);
    EXPECT_NE(message("<bios rebootTimeout='-2'/>").find("rebootTimeout, must be in range [-1,65535]"), std::string::npos);
    EXPECT_NE(message("<bootmenu enable='on'/>").find("Invalid value for attribute 'enable' in element 'bootmenu': 'on'"), std::string::npos);
    EXPECT_NE(message("<bootmenu enable='yes' timeout='70000'/>").find("boot menu timeout, must be in range [0,65535]"), std::string::npos);
    virtpp::set_error_handler({});
}

}  // namespace
