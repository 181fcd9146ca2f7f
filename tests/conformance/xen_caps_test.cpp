// libvirt's xencapstest fixtures: the capabilities of a Xen host from its capability string,
// /proc/cpuinfo and architecture, byte for byte.
#include <virtpp/xen/capabilities.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(XenCapabilities, EveryFixtureMatchesByteForByte) {
    const fs::path dir = fs::path(VIRTPP_SHARED_DIR) / "fixtures-batch2" / "libvirt" / "tests" / "xencapsdata";
    if (!fs::exists(dir)) GTEST_SKIP() << "no fixtures";
    int compared = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".caps") continue;
        auto stem = entry.path().stem().string();  // xen-<hostarch>[-pae][-hvm] / xen-ia64-be...
        SCOPED_TRACE(stem);
        std::string hostarch = stem.substr(4);
        hostarch = hostarch.substr(0, hostarch.find('-'));
        auto base = entry.path().parent_path() / stem;
        // libvirt's xencapstest shares one cpuinfo between a host's PV and HVM cases
        std::string cpuinfo;
        for (auto candidate : {base.string() + ".cpuinfo", base.string() + "-hvm.cpuinfo"})
            if (fs::exists(candidate)) {
                cpuinfo = read_file(candidate);
                break;
            }
        virtpp::xen::xen_caps_input in{hostarch, read_file(base.string() + ".caps"), cpuinfo};
        EXPECT_EQ(virtpp::xen::xen_capabilities_xml(in), read_file(base.string() + ".xml"));
        ++compared;
    }
    EXPECT_EQ(compared, 10);
}

TEST(XenCapabilities, UnknownTokensAreIgnored) {
    auto xml = virtpp::xen::xen_capabilities_xml({"x86_64", "xen-3.0-x86_64 bogus hvm-9-x86_64", ""});
    EXPECT_NE(xml.find("<os_type>xen</os_type>"), std::string::npos);
    EXPECT_EQ(xml.find("<os_type>hvm</os_type>"), std::string::npos);
}

}  // namespace
