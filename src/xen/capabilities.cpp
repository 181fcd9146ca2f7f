// Xen host capabilities (see include/virtpp/xen/capabilities.hpp): one guest per (os type, arch)
// of Xen's capability string, host CPU flags vmx/svm from /proc/cpuinfo, in the layout libvirt's
// Xen driver wrote (blank lines between host and guests).
#include <virtpp/error.hpp>
#include <virtpp/xen/capabilities.hpp>

#include <regex>
#include <sstream>

namespace virtpp::xen {

namespace {

struct guest_entry {
    std::string os_type;  // "xen" or "hvm"
    std::string arch;
    unsigned wordsize = 0;
    bool pae = false, nonpae = false, ia64_be = false;
};

std::vector<guest_entry> guests_of(std::string_view caps) {
    static const std::regex token("(xen|hvm)-[0-9]+\\.[0-9]+-(x86_32|x86_64|ia64|powerpc64)(p|be)?");
    std::vector<guest_entry> out;
    std::istringstream words{std::string(caps)};
    std::string word;
    while (words >> word) {
        std::smatch m;
        if (!std::regex_match(word, m, token)) continue;  // tokens of other hypervisors are not ours
        std::string arch = m[2] == "x86_32" ? "i686" : m[2] == "powerpc64" ? "ppc64" : std::string(m[2]);
        unsigned wordsize = m[2] == "x86_32" ? 32 : 64;
        guest_entry* g = nullptr;
        for (auto& e : out)
            if (e.os_type == m[1] && e.arch == arch) g = &e;
        if (!g) {
            out.push_back({m[1], arch, wordsize});
            g = &out.back();
        }
        if (m[3] == "p") g->pae = true;
        else if (m[3] == "be") g->ia64_be = true;
        else if (arch == "i686") g->nonpae = true;
    }
    return out;
}

std::vector<std::string> host_flags(std::string_view cpuinfo) {
    std::vector<std::string> out;
    std::istringstream lines{std::string(cpuinfo)};
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("flags", 0) != 0) continue;
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::istringstream words(line.substr(colon + 1));
        std::string w;
        bool vmx = false, svm = false;
        while (words >> w) {
            vmx = vmx || w == "vmx";
            svm = svm || w == "svm";
        }
        if (vmx) out.push_back("vmx");
        if (svm) out.push_back("svm");
        break;  // the first CPU speaks for the host
    }
    return out;
}

std::string emulator_for(const std::string& hostarch) {
    return hostarch == "x86_64" ? "/usr/lib64/xen/bin/qemu-dm" : "/usr/lib/xen/bin/qemu-dm";
}

}  // namespace

xml::capabilities xen_capabilities(const xen_caps_input& input) {
    xml::capabilities caps;
    caps.host.cpu.arch = input.hostarch;
    caps.host.cpu.feature_flags = host_flags(input.cpuinfo);
    caps.host.migration = xml::migration_features{true, {"xenmigr"}};
    for (const auto& g : guests_of(input.xen_caps)) {
        xml::guest_capabilities guest;
        guest.os_type = g.os_type;
        guest.arch.name = g.arch;
        guest.arch.wordsize = g.wordsize;
        guest.arch.emulator = emulator_for(input.hostarch);
        if (g.os_type == "hvm") guest.arch.loader = "/usr/lib/xen/boot/hvmloader";
        guest.arch.machines.push_back({g.os_type == "hvm" ? "xenfv" : "xenpv", {}, {}, false});
        guest.arch.domains.push_back({"xen", {}, {}, {}});
        if (g.pae) guest.features.push_back({xml::guest_feature_kind::pae, {}, {}});
        if (g.nonpae) guest.features.push_back({xml::guest_feature_kind::nonpae, {}, {}});
        if (g.ia64_be) guest.features.push_back({xml::guest_feature_kind::ia64_be, {}, {}});
        if (g.os_type == "hvm") {
            guest.features.push_back({xml::guest_feature_kind::acpi, true, true});
            guest.features.push_back({xml::guest_feature_kind::apic, true, true});
        }
        caps.guests.push_back(std::move(guest));
    }
    return caps;
}

std::string xen_capabilities_xml(const xen_caps_input& input) {
    auto caps = xen_capabilities(input);
    std::string out = "<capabilities>\n\n  <host>\n    <cpu>\n      <arch>" + *caps.host.cpu.arch + "</arch>\n";
    if (!caps.host.cpu.feature_flags.empty()) {
        out += "      <features>\n";
        for (const auto& f : caps.host.cpu.feature_flags) out += "        <" + f + "/>\n";
        out += "      </features>\n";
    }
    out += "    </cpu>\n    <power_management/>\n    <migration_features>\n      <live/>\n"
           "      <uri_transports>\n        <uri_transport>xenmigr</uri_transport>\n      </uri_transports>\n"
           "    </migration_features>\n  </host>\n\n";
    for (const auto& g : caps.guests) {
        out += "  <guest>\n    <os_type>" + g.os_type + "</os_type>\n    <arch name='" + g.arch.name + "'>\n";
        out += "      <wordsize>" + std::to_string(g.arch.wordsize) + "</wordsize>\n";
        out += "      <emulator>" + *g.arch.emulator + "</emulator>\n";
        if (g.arch.loader) out += "      <loader>" + *g.arch.loader + "</loader>\n";
        for (const auto& m : g.arch.machines) out += "      <machine>" + m.name + "</machine>\n";
        for (const auto& d : g.arch.domains) out += "      <domain type='" + d.type + "'/>\n";
        out += "    </arch>\n";
        if (!g.features.empty()) {
            out += "    <features>\n";
            for (const auto& f : g.features) {
                out += "      <" + std::string(xml::to_string(f.kind));
                if (f.default_on) out += std::string(" default='") + (*f.default_on ? "on" : "off") + "'";
                if (f.toggle) out += std::string(" toggle='") + (*f.toggle ? "yes" : "no") + "'";
                out += "/>\n";
            }
            out += "    </features>\n";
        }
        out += "  </guest>\n\n";
    }
    out += "</capabilities>\n";
    return out;
}

}  // namespace virtpp::xen
