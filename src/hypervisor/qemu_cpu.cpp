// The running guest's CPU as libvirt 9.0 records it (see qemu_cpu.hpp).
#include "qemu_cpu.hpp"

#include "qemu_detail.hpp"
#include "qemu_monitor.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <set>
#include <string>

namespace virtpp::hypervisor::qemu_detail {

namespace json = boost::json;

std::vector<cpuid_word> parse_feature_words(const json::value& v) {
    std::vector<cpuid_word> words;
    if (!v.is_array()) return words;
    for (const auto& e : v.as_array()) {
        if (!e.is_object()) continue;
        const auto& o = e.as_object();
        const auto* reg = o.if_contains("cpuid-register");
        const auto* eax = o.if_contains("cpuid-input-eax");
        const auto* bits = o.if_contains("features");
        if (!reg || !reg->is_string() || !eax || !eax->is_number() || !bits || !bits->is_number()) continue;
        std::string r(reg->as_string());
        if (r.size() != 3 || r[0] != 'E' || r[2] != 'X' || (r[1] < 'A' || r[1] > 'D')) continue;
        cpuid_word w;
        w.reg = static_cast<char>(r[1] - 'A' + 'a');
        w.eax_in = static_cast<std::uint32_t>(eax->to_number<std::uint64_t>());
        if (const auto* ecx = o.if_contains("cpuid-input-ecx"); ecx && ecx->is_number())
            w.ecx_in = static_cast<std::uint32_t>(ecx->to_number<std::uint64_t>());
        w.bits = static_cast<std::uint32_t>(bits->to_number<std::uint64_t>());
        words.push_back(w);
    }
    return words;
}

namespace {

bool has(const std::vector<cpuid_word>& words, const x86_cpu_feature& f) {
    return std::any_of(words.begin(), words.end(), [&](const cpuid_word& w) {
        return w.eax_in == f.eax_in && w.ecx_in == f.ecx_in && w.reg == f.reg && (w.bits & f.mask) == f.mask;
    });
}

/// virCPUDefUpdateFeature: an existing feature takes the policy, a new one is appended.
void update_feature(xml::cpu_def& cpu, const std::string& name, const std::string& policy) {
    for (auto& f : cpu.features)
        if (f.name == name) {
            f.policy = policy;
            return;
        }
    cpu.features.push_back({policy, name});
}

}  // namespace

bool update_live_cpu(xml::cpu_def& cpu, const std::vector<cpuid_word>& enabled, const std::vector<cpuid_word>& disabled) {
    if (cpu.mode.value_or("custom") != "custom" || !cpu.model) return false;
    // a CPU already verified (the running definition a save image or a migration carries) is
    // kept as it is: libvirt re-verifies its saved original instead, with the same outcome
    if (cpu.check == std::optional<std::string>("full")) return false;
    const auto& models = x86_cpu_models();
    auto model = std::find_if(models.begin(), models.end(), [&](const x86_cpu_model& m) { return *cpu.model == m.name; });
    if (model == models.end()) return false;
    // the model as the definition asks for it (x86ModelFromCPU): its features, plus the required
    // and forced ones, minus the disabled and forbidden ones
    std::set<std::string> wanted(model->features.begin(), model->features.end());
    for (const auto& f : cpu.features) {
        if (f.policy == "require" || f.policy == "force") wanted.insert(f.name);
        else if (f.policy == "disable" || f.policy == "forbid") wanted.erase(f.name);
    }
    for (const auto& f : x86_cpu_features()) {
        if (f.msr) continue;  // qemu's feature words carry CPUID bits only
        const bool expected = wanted.count(f.name) != 0;
        const bool on = has(enabled, f);
        if (!expected && on) update_feature(cpu, f.name, "require");
        if (has(disabled, f) || (expected && !on)) update_feature(cpu, f.name, "disable");
    }
    // virCPUx86DisableRemovedFeatures
    for (const char* name : model->removed)
        if (std::none_of(cpu.features.begin(), cpu.features.end(), [&](const xml::cpu_feature& f) { return f.name == name; }))
            cpu.features.push_back({"disable", name});
    cpu.check = "full";
    // qemuProcessUpdateGuestCPU: the model is what qemu was given, no fallback to another
    cpu.fallback = "forbid";
    return true;
}

void update_live_guest_cpu(qmp_monitor& mon, xml::domain_def& def) {
    if (!def.cpu) return;
    const auto arch = def.os.arch.value_or("x86_64");
    if (arch != "x86_64" && arch != "i686") return;
    std::string path = "/machine/unattached/device[0]";
    auto cpus = mon.execute("query-cpus-fast");
    if (cpus.is_array() && !cpus.as_array().empty() && cpus.as_array()[0].is_object())
        if (const auto* p = cpus.as_array()[0].as_object().if_contains("qom-path"); p && p->is_string()) path = std::string(p->as_string());
    auto enabled = parse_feature_words(mon.execute("qom-get", json::object{{"path", path}, {"property", "feature-words"}}));
    auto disabled = parse_feature_words(mon.execute("qom-get", json::object{{"path", path}, {"property", "filtered-features"}}));
    if (enabled.empty()) return;  // nothing to go by: the definition stays as given
    update_live_cpu(*def.cpu, enabled, disabled);
}

}  // namespace virtpp::hypervisor::qemu_detail
