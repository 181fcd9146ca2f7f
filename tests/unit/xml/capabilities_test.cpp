// The typed <capabilities> document: the seed's form and libvirt 9.0's, formatted in 9.0's layout.
#include <virtpp/xml/capabilities.hpp>

#include <virtpp/error.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace virtpp;
using namespace virtpp::xml;

struct capabilities_xml : ::testing::Test {
    void SetUp() override { set_error_handler([](const error_info&) {}); }
    void TearDown() override { set_error_handler({}); }
};

// The seed's example (docs "Discovering virtualization capabilities").
constexpr const char* seed_example = R"(<capabilities>
<host>
<cpu>
<arch>x86_64</arch>
<features>
<vmx/>
</features>
</cpu>
</host>
<!-- xen-3.0-x86_64 -->
<guest>
<os_type>xen</os_type>
<arch name="x86_64">
<wordsize>64</wordsize>
<domain type="xen"></domain>
<emulator>/usr/lib64/xen/bin/qemu-dm</emulator>
</arch>
<features>
</features>
</guest>
<!-- hvm-3.0-x86_32 -->
<guest>
<os_type>hvm</os_type>
<arch name="i686">
<wordsize>32</wordsize>
<domain type="xen"></domain>
<emulator>/usr/lib/xen/bin/qemu-dm</emulator>
<machine>pc</machine>
<machine>isapc</machine>
<loader>/usr/lib/xen/boot/hvmloader</loader>
</arch>
<features>
</features>
</guest>
</capabilities>)";

TEST_F(capabilities_xml, every_element_of_the_seed_example_is_a_typed_field) {
    auto caps = parse_capabilities_xml(seed_example);
    EXPECT_EQ(caps.host.cpu.arch, "x86_64");
    EXPECT_EQ(caps.host.cpu.feature_flags, std::vector<std::string>{"vmx"});
    ASSERT_EQ(caps.guests.size(), 2u);
    const auto& xen = caps.guests[0];
    EXPECT_EQ(xen.os_type, "xen");
    EXPECT_EQ(xen.arch.name, "x86_64");
    EXPECT_EQ(xen.arch.wordsize, 64u);
    EXPECT_EQ(xen.arch.emulator, "/usr/lib64/xen/bin/qemu-dm");
    ASSERT_EQ(xen.arch.domains.size(), 1u);
    EXPECT_EQ(xen.arch.domains[0].type, "xen");
    EXPECT_TRUE(xen.features.empty());
    const auto& hvm = caps.guests[1];
    EXPECT_EQ(hvm.os_type, "hvm");
    EXPECT_EQ(hvm.arch.name, "i686");
    EXPECT_EQ(hvm.arch.wordsize, 32u);
    EXPECT_EQ(hvm.arch.loader, "/usr/lib/xen/boot/hvmloader");
    ASSERT_EQ(hvm.arch.machines.size(), 2u);
    EXPECT_EQ(hvm.arch.machines[0].name, "pc");
    EXPECT_EQ(hvm.arch.machines[1].name, "isapc");
}

TEST_F(capabilities_xml, seed_example_formats_in_libvirt_9_layout) {
    EXPECT_EQ(format_capabilities_xml(parse_capabilities_xml(seed_example)),
              "<capabilities>\n\n"
              "  <host>\n"
              "    <cpu>\n"
              "      <arch>x86_64</arch>\n"
              "      <features>\n"
              "        <vmx/>\n"
              "      </features>\n"
              "    </cpu>\n"
              "    <power_management/>\n"
              "    <iommu support='no'/>\n"
              "  </host>\n\n"
              "  <guest>\n"
              "    <os_type>xen</os_type>\n"
              "    <arch name='x86_64'>\n"
              "      <wordsize>64</wordsize>\n"
              "      <emulator>/usr/lib64/xen/bin/qemu-dm</emulator>\n"
              "      <domain type='xen'/>\n"
              "    </arch>\n"
              "  </guest>\n\n"
              "  <guest>\n"
              "    <os_type>hvm</os_type>\n"
              "    <arch name='i686'>\n"
              "      <wordsize>32</wordsize>\n"
              "      <emulator>/usr/lib/xen/bin/qemu-dm</emulator>\n"
              "      <loader>/usr/lib/xen/boot/hvmloader</loader>\n"
              "      <machine>pc</machine>\n"
              "      <machine>isapc</machine>\n"
              "      <domain type='xen'/>\n"
              "    </arch>\n"
              "  </guest>\n\n"
              "</capabilities>\n");
}

TEST_F(capabilities_xml, guest_features_with_default_and_toggle_in_libvirts_order) {
    auto caps = parse_capabilities_xml(R"(<capabilities><guest><os_type>hvm</os_type>
<arch name='x86_64'><wordsize>64</wordsize></arch>
<features><apic default='off' toggle='no'/><acpi default='on' toggle='yes'/><ia64_be/><pae/><bogus/></features>
</guest></capabilities>)");
    ASSERT_EQ(caps.guests.size(), 1u);
    const auto& f = caps.guests[0].features;
    ASSERT_EQ(f.size(), 4u);
    EXPECT_EQ(f[0].kind, guest_feature_kind::pae);
    EXPECT_EQ(f[1].kind, guest_feature_kind::ia64_be);
    EXPECT_EQ(f[2].kind, guest_feature_kind::acpi);
    EXPECT_EQ(f[2].default_on, true);
    EXPECT_EQ(f[2].toggle, true);
    EXPECT_EQ(f[3].kind, guest_feature_kind::apic);
    EXPECT_EQ(f[3].default_on, false);
    auto text = format_capabilities_xml(caps);
    EXPECT_NE(text.find("      <pae/>\n      <ia64_be/>\n      <acpi default='on' toggle='yes'/>\n"
                        "      <apic default='off' toggle='no'/>\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("bogus"), std::string::npos);
    // A document with no host data omits <host> as libvirt does.
    EXPECT_EQ(text.find("<host>"), std::string::npos);
}

TEST_F(capabilities_xml, host_cpu_model_form_and_machines_with_attributes) {
    auto caps = parse_capabilities_xml(R"(<capabilities><host><uuid>a25c794c34ad11b2a85cb030533115b8</uuid><cpu>
<arch>x86_64</arch><model>Haswell</model><vendor>Intel</vendor>
<topology sockets='1' cores='4' threads='2'/><feature name='vmx'/><pages unit='MiB' size='2'/></cpu>
<migration_features><live/><uri_transports><uri_transport>tcp</uri_transport></uri_transports></migration_features>
</host>
<guest><os_type>hvm</os_type><arch name='x86_64'><wordsize>64</wordsize>
<machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>
<domain type='kvm'><emulator>/usr/bin/kvm</emulator><machine maxCpus='255'>pc</machine></domain>
</arch></guest></capabilities>)");
    EXPECT_EQ(caps.host.uuid->str(), "a25c794c-34ad-11b2-a85c-b030533115b8");
    EXPECT_EQ(caps.host.cpu.model, "Haswell");
    ASSERT_TRUE(caps.host.cpu.topology);
    EXPECT_EQ(caps.host.cpu.topology->dies, 1u);  // older documents omit dies
    EXPECT_EQ(caps.host.cpu.page_sizes_kib, std::vector<std::uint64_t>{2048});
    ASSERT_TRUE(caps.host.migration);
    EXPECT_TRUE(caps.host.migration->live);
    const auto& arch = caps.guests[0].arch;
    EXPECT_EQ(arch.machines[0].canonical, "pc-q35-7.2");
    EXPECT_EQ(arch.machines[0].max_cpus, 288u);
    ASSERT_EQ(arch.domains.size(), 1u);
    EXPECT_EQ(arch.domains[0].emulator, "/usr/bin/kvm");
    EXPECT_EQ(arch.domains[0].machines[0].name, "pc");
    auto text = format_capabilities_xml(caps);
    EXPECT_NE(text.find("<topology sockets='1' dies='1' cores='4' threads='2'/>"), std::string::npos);
    EXPECT_NE(text.find("<pages unit='KiB' size='2048'/>"), std::string::npos);
    EXPECT_NE(text.find("      <domain type='kvm'>\n        <emulator>/usr/bin/kvm</emulator>\n"
                        "        <machine maxCpus='255'>pc</machine>\n      </domain>\n"),
              std::string::npos)
        << text;
}

TEST_F(capabilities_xml, a_struct_built_in_code_formats_and_parses_back) {
    capabilities caps;
    caps.host.cpu.arch = "aarch64";
    caps.host.power_management = {power_target::suspend_mem};
    caps.host.security_models.push_back({"none", "0", {}});
    guest_capabilities g;
    g.os_type = "hvm";
    g.arch.name = "aarch64";
    g.arch.wordsize = 64;
    g.arch.emulator = "/usr/bin/qemu-system-aarch64";
    g.arch.machines.push_back({"virt", "virt-7.2", 512u, false});
    g.arch.domains.push_back({"qemu", std::nullopt, std::nullopt, {}});
    g.features.push_back({guest_feature_kind::acpi, true, true});
    caps.guests.push_back(g);
    EXPECT_EQ(parse_capabilities_xml(format_capabilities_xml(caps)), caps);
}

struct bad_case {
    const char* xml;
    error_code code;
    const char* must_mention;
    int line;
};

class capabilities_xml_errors : public capabilities_xml, public ::testing::WithParamInterface<bad_case> {};

TEST_P(capabilities_xml_errors, raise_an_xml_error_naming_the_problem_and_line) {
    const auto& c = GetParam();
    try {
        (void)parse_capabilities_xml(c.xml);
        FAIL() << "accepted: " << c.xml;
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), c.code) << e.what();
        EXPECT_EQ(e.domain(), error_domain::capabilities) << e.what();
        EXPECT_NE(std::string(e.what()).find(c.must_mention), std::string::npos) << e.what();
        if (c.line > 0) {
            EXPECT_NE(std::string(e.what()).find("(line " + std::to_string(c.line) + ")"), std::string::npos) << e.what();
            EXPECT_EQ(e.info().int1, c.line);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    corpus, capabilities_xml_errors,
    ::testing::Values(
        bad_case{"<caps>\n</caps>", error_code::xml_error, "expecting root element of 'capabilities', not 'caps'", 1},
        bad_case{"<capabilities>\n<guest><arch name='x'><wordsize>32</wordsize></arch></guest></capabilities>",
                 error_code::xml_error, "missing <os_type> in <guest>", 2},
        bad_case{"<capabilities><guest><os_type>hvm</os_type>\n<arch><wordsize>32</wordsize></arch></guest></capabilities>",
                 error_code::xml_error, "'name' in element 'arch'", 2},
        bad_case{"<capabilities><guest><os_type>hvm</os_type>\n<arch name='i686'></arch></guest></capabilities>",
                 error_code::xml_error, "missing <wordsize> in <arch>", 2},
        bad_case{"<capabilities><guest><os_type>hvm</os_type><arch name='i686'>\n<wordsize>big</wordsize></arch></guest></capabilities>",
                 error_code::xml_error, "Invalid value 'big' in element 'wordsize'", 2},
        bad_case{"<capabilities><guest><os_type>hvm</os_type><arch name='i686'><wordsize>32</wordsize>\n<domain/></arch></guest></capabilities>",
                 error_code::xml_error, "'type' in element 'domain'", 2},
        bad_case{"<capabilities><guest><os_type>hvm</os_type><arch name='i686'><wordsize>32</wordsize>\n<machine maxCpus='-1'>pc</machine></arch></guest></capabilities>",
                 error_code::xml_error, "attribute 'maxCpus' in element 'machine'", 2},
        bad_case{"<capabilities><guest><os_type>hvm</os_type><arch name='i686'><wordsize>32</wordsize></arch><features>\n<acpi default='maybe'/></features></guest></capabilities>",
                 error_code::xml_error, "attribute 'default' in element 'acpi': 'maybe'", 2},
        bad_case{"<capabilities><host>\n<uuid>not-a-uuid</uuid></host></capabilities>", error_code::xml_error,
                 "malformed uuid element", 2},
        bad_case{"<capabilities><host><cpu>\n<topology sockets='1' threads='1'/></cpu></host></capabilities>",
                 error_code::xml_error, "'cores' in element 'topology'", 2},
        bad_case{"<capabilities><host>\n<iommu support='perhaps'/></host></capabilities>", error_code::xml_error,
                 "attribute 'support' in element 'iommu'", 2},
        bad_case{"<capabilities><host><power_management>\n<suspend_everything/></power_management></host></capabilities>",
                 error_code::xml_error, "unknown power management target 'suspend_everything'", 2},
        bad_case{"<capabilities><host><topology><cells num='1'>\n<cell><cpus num='0'/></cell></cells></topology></host></capabilities>",
                 error_code::xml_error, "'id' in element 'cell'", 2},
        bad_case{"<capabilities><host><cpu>\n<pages unit='parsec' size='4'/></cpu></host></capabilities>",
                 error_code::xml_error, "unknown suffix 'parsec'", 2},
        bad_case{"<capabilities><host>\n<secmodel><doi>0</doi></secmodel></host></capabilities>", error_code::xml_error,
                 "missing <model> in <secmodel>", 2},
        bad_case{"<capabilities>\n<host></capabilities>", error_code::xml_detail, "(capabilities):2:", 0},
        bad_case{"   ", error_code::xml_detail, "Document is empty", 0}));

}  // namespace
