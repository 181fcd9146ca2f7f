// The running CPU update (libvirt 9.0's virCPUx86UpdateLive over qemu's feature words).
#include "hypervisor/qemu_cpu.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using namespace virtpp;
using namespace virtpp::hypervisor::qemu_detail;

/// CPUID words with the bits of the named features of libvirt's map set.
std::vector<cpuid_word> words_of(const std::vector<std::string>& names) {
    std::vector<cpuid_word> words;
    for (const auto& name : names) {
        const auto& all = x86_cpu_features();
        auto f = std::find_if(all.begin(), all.end(), [&](const x86_cpu_feature& x) { return name == x.name; });
        EXPECT_NE(f, all.end()) << name;
        if (f == all.end()) continue;
        auto w = std::find_if(words.begin(), words.end(), [&](const cpuid_word& x) {
            return x.eax_in == f->eax_in && x.ecx_in == f->ecx_in && x.reg == f->reg;
        });
        if (w == words.end()) words.push_back({f->eax_in, f->ecx_in, f->reg, f->mask});
        else w->bits |= f->mask;
    }
    return words;
}

std::vector<std::string> model_features(const std::string& model) {
    for (const auto& m : x86_cpu_models())
        if (model == m.name) return {m.features.begin(), m.features.end()};
    ADD_FAILURE() << model;
    return {};
}

std::string features_text(const xml::cpu_def& cpu) {
    std::string s;
    for (const auto& f : cpu.features) s += f.policy + ":" + f.name + " ";
    return s;
}

TEST(qemu_cpu, feature_words_parse_as_qemu_sends_them) {
    auto v = boost::json::parse(R"([{"cpuid-register":"EDX","cpuid-input-eax":1,"features":2},
        {"cpuid-register":"EBX","cpuid-input-ecx":0,"cpuid-input-eax":7,"features":4294967295},
        {"cpuid-register":"EQX","cpuid-input-eax":1,"features":1}, 7, {"features":1}])");
    auto w = parse_feature_words(v);
    ASSERT_EQ(w.size(), 2u);
    EXPECT_EQ(w[0].reg, 'd');
    EXPECT_EQ(w[0].eax_in, 1u);
    EXPECT_EQ(w[0].bits, 2u);
    EXPECT_EQ(w[1].reg, 'b');
    EXPECT_EQ(w[1].eax_in, 7u);
    EXPECT_EQ(w[1].bits, 0xffffffffu);
    EXPECT_TRUE(parse_feature_words(boost::json::value("x")).empty());
}

// what libvirtd 9.0 showed for core2duo (vmx disabled by the definition) under TCG on qemu 7.2:
// TCG has no vme, and adds acpi, ss, cx16, hypervisor and lahf_lm
TEST(qemu_cpu, core2duo_under_tcg_matches_libvirtd) {
    xml::cpu_def cpu;
    cpu.mode = "custom";
    cpu.match = "exact";
    cpu.check = "none";
    cpu.model = "core2duo";
    cpu.fallback = "allow";
    cpu.features.push_back({"disable", "vmx"});
    auto on = model_features("core2duo");
    std::erase(on, std::string("vme"));
    for (const char* extra : {"acpi", "ss", "cx16", "hypervisor", "lahf_lm"}) on.push_back(extra);
    ASSERT_TRUE(update_live_cpu(cpu, words_of(on), words_of({"vme"})));
    EXPECT_EQ(cpu.check, std::optional<std::string>("full"));
    EXPECT_EQ(cpu.fallback, std::optional<std::string>("forbid"));
    EXPECT_EQ(features_text(cpu),
              "disable:vmx disable:vme require:acpi require:ss require:cx16 require:hypervisor require:lahf_lm ");
}

TEST(qemu_cpu, qemu64_and_the_required_features_stay_quiet) {
    xml::cpu_def cpu;
    cpu.model = "qemu64";
    cpu.features.push_back({"require", "lahf_lm"});
    auto on = model_features("qemu64");
    on.push_back("lahf_lm");
    on.push_back("hypervisor");
    ASSERT_TRUE(update_live_cpu(cpu, words_of(on), {}));
    EXPECT_EQ(features_text(cpu), "require:lahf_lm require:hypervisor ");
    // a model feature qemu did not give is disabled, one the definition forbade stays forbidden
    xml::cpu_def forbid;
    forbid.model = "qemu64";
    forbid.features.push_back({"forbid", "svm"});
    auto less = model_features("qemu64");
    std::erase(less, std::string("svm"));
    std::erase(less, std::string("nx"));
    ASSERT_TRUE(update_live_cpu(forbid, words_of(less), {}));
    EXPECT_EQ(features_text(forbid), "forbid:svm disable:nx ");
}

TEST(qemu_cpu, removed_model_features_are_disabled) {
    xml::cpu_def cpu;
    cpu.model = "EPYC";
    ASSERT_TRUE(update_live_cpu(cpu, words_of(model_features("EPYC")), {}));
    EXPECT_EQ(features_text(cpu), "disable:monitor ");
}

TEST(qemu_cpu, left_alone_when_libvirt_would_leave_it) {
    auto on = words_of(model_features("qemu64"));
    xml::cpu_def host;
    host.mode = "host-passthrough";
    EXPECT_FALSE(update_live_cpu(host, on, {}));
    xml::cpu_def no_model;
    EXPECT_FALSE(update_live_cpu(no_model, on, {}));
    xml::cpu_def unknown;
    unknown.model = "no-such-model";
    EXPECT_FALSE(update_live_cpu(unknown, on, {}));
    EXPECT_TRUE(unknown.features.empty());
    // an already verified CPU (a save image's running definition) is kept
    xml::cpu_def verified;
    verified.model = "core2duo";
    verified.check = "full";
    verified.features.push_back({"disable", "vme"});
    EXPECT_FALSE(update_live_cpu(verified, on, words_of({"vme"})));
    EXPECT_EQ(features_text(verified), "disable:vme ");
}

}  // namespace
