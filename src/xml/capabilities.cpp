// <capabilities> documents. libvirt 9.0 only formats them (virCapabilitiesFormatXML); the parser
// here reads both the seed's layout (guest <domain> before <emulator>, empty <features>) and 9.0's,
// so clients can read what any libvirt returns and drivers can round-trip it.
#include <virtpp/xml/capabilities.hpp>

#include "tree.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace virtpp::xml {

namespace {

using detail::element;

constexpr error_domain caps_domain = error_domain::capabilities;

[[noreturn]] void fail(const element& where, const std::string& what) {
    detail::raise_xml_error(where, what, caps_domain);
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

template <class Int>
std::optional<Int> parse_decimal(std::string_view text) {
    Int value{};
    if (text.empty() || text.front() == '+') return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

template <class Int>
std::optional<Int> number_attr(const element& e, std::string_view name) {
    const auto* v = e.attr(name);
    if (!v) return std::nullopt;
    auto parsed = parse_decimal<Int>(*v);
    if (!parsed)
        fail(e, "Invalid value for attribute " + quoted(name) + " in element " + quoted(e.name) + ": " + quoted(*v) +
                    ". Expected integer value");
    return parsed;
}

template <class Int>
Int required_number_attr(const element& e, std::string_view name) {
    auto v = number_attr<Int>(e, name);
    if (!v) fail(e, "Missing required attribute " + quoted(name) + " in element " + quoted(e.name));
    return *v;
}

template <class Int>
Int number_text(const element& e) {
    auto text = e.trimmed_text();
    auto parsed = parse_decimal<Int>(text);
    if (!parsed) fail(e, "Invalid value " + quoted(text) + " in element " + quoted(e.name) + ". Expected integer value");
    return *parsed;
}

std::string required_attr(const element& e, std::string_view name) {
    const auto* v = e.attr(name);
    if (!v || v->empty()) fail(e, "Missing required attribute " + quoted(name) + " in element " + quoted(e.name));
    return *v;
}

std::string required_text(const element& e) {
    auto text = e.trimmed_text();
    if (text.empty()) fail(e, "Missing text in element " + quoted(e.name));
    return text;
}

std::optional<bool> bool_attr(const element& e, std::string_view name, std::string_view yes, std::string_view no) {
    const auto* v = e.attr(name);
    if (!v) return std::nullopt;
    if (*v == yes) return true;
    if (*v == no) return false;
    fail(e, "Invalid value for attribute " + quoted(name) + " in element " + quoted(e.name) + ": " + quoted(*v) + ".");
}

// Sizes carry unit='KiB' in libvirt's output; other units scale to KiB as virScaleInteger does.
std::uint64_t to_kib(const element& e, std::uint64_t value) {
    const auto* unit = e.attr("unit");
    if (!unit || *unit == "KiB" || *unit == "k" || *unit == "K") return value;
    std::uint64_t factor = 0;
    if (*unit == "MiB" || *unit == "M" || *unit == "m") factor = 1024;
    else if (*unit == "GiB" || *unit == "G" || *unit == "g") factor = 1024ULL * 1024;
    else if (*unit == "TiB" || *unit == "T" || *unit == "t") factor = 1024ULL * 1024 * 1024;
    else fail(e, "unknown suffix " + quoted(*unit) + " in element " + quoted(e.name));
    if (value > UINT64_MAX / factor) fail(e, "value too large in element " + quoted(e.name));
    return value * factor;
}

constexpr std::array<std::string_view, 3> power_target_names = {"suspend_mem", "suspend_disk", "suspend_hybrid"};
constexpr std::array<std::string_view, 9> guest_feature_names = {
    "pae", "nonpae", "ia64_be", "acpi", "apic", "cpuselection", "deviceboot", "disksnapshot", "hap"};

host_cpu parse_host_cpu(const element& cpu) {
    host_cpu out;
    for (const auto& c : cpu.children) {
        if (c.name == "arch") {
            out.arch = required_text(c);
        } else if (c.name == "features") {
            for (const auto& f : c.children) out.feature_flags.push_back(f.name);
        } else if (c.name == "model") {
            out.model = required_text(c);
        } else if (c.name == "vendor") {
            out.vendor = required_text(c);
        } else if (c.name == "microcode") {
            out.microcode_version = required_number_attr<unsigned>(c, "version");
        } else if (c.name == "signature") {
            out.signature = cpu_signature{required_number_attr<unsigned>(c, "family"),
                                          required_number_attr<unsigned>(c, "model"),
                                          required_number_attr<unsigned>(c, "stepping")};
        } else if (c.name == "counter") {
            cpu_counter counter;
            counter.name = required_attr(c, "name");
            counter.frequency = required_number_attr<std::uint64_t>(c, "frequency");
            counter.scaling = bool_attr(c, "scaling", "yes", "no");
            out.counter = counter;
        } else if (c.name == "topology") {
            cpu_topology t;
            t.sockets = required_number_attr<unsigned>(c, "sockets");
            t.dies = number_attr<unsigned>(c, "dies").value_or(1);
            t.cores = required_number_attr<unsigned>(c, "cores");
            t.threads = required_number_attr<unsigned>(c, "threads");
            out.topology = t;
        } else if (c.name == "maxphysaddr") {
            out.max_phys_addr = cpu_max_phys_addr{required_attr(c, "mode"), number_attr<int>(c, "bits")};
        } else if (c.name == "feature") {
            out.features.push_back(required_attr(c, "name"));
        } else if (c.name == "pages") {
            out.page_sizes_kib.push_back(to_kib(c, required_number_attr<std::uint64_t>(c, "size")));
        }
    }
    return out;
}

numa_cell parse_cell(const element& e) {
    numa_cell cell;
    cell.id = required_number_attr<unsigned>(e, "id");
    for (const auto& c : e.children) {
        if (c.name == "memory") {
            cell.memory_kib = to_kib(c, number_text<std::uint64_t>(c));
        } else if (c.name == "pages") {
            cell.pages.push_back({to_kib(c, required_number_attr<std::uint64_t>(c, "size")), number_text<std::uint64_t>(c)});
        } else if (c.name == "distances") {
            for (const auto* s : c.children_named("sibling"))
                cell.distances.push_back(
                    {required_number_attr<unsigned>(*s, "id"), required_number_attr<unsigned>(*s, "value")});
        } else if (c.name == "cpus") {
            for (const auto* cpu : c.children_named("cpu")) {
                numa_cell_cpu entry;
                entry.id = required_number_attr<unsigned>(*cpu, "id");
                entry.socket_id = number_attr<unsigned>(*cpu, "socket_id");
                entry.die_id = number_attr<unsigned>(*cpu, "die_id");
                entry.core_id = number_attr<unsigned>(*cpu, "core_id");
                if (const auto* s = cpu->attr("siblings")) entry.siblings = *s;
                // libvirt writes the location as one unit, present only with the siblings list.
                if (entry.siblings) {
                    if (!entry.socket_id) entry.socket_id = 0;
                    if (!entry.die_id) entry.die_id = 0;
                    if (!entry.core_id) entry.core_id = 0;
                } else {
                    entry.socket_id.reset();
                    entry.die_id.reset();
                    entry.core_id.reset();
                }
                cell.cpus.push_back(entry);
            }
        }
    }
    return cell;
}

host_capabilities parse_host(const element& host) {
    host_capabilities out;
    for (const auto& c : host.children) {
        if (c.name == "uuid") {
            auto parsed = uuid::parse(c.text);
            if (!parsed) fail(c, "malformed uuid element");
            out.uuid = *parsed;
        } else if (c.name == "cpu") {
            out.cpu = parse_host_cpu(c);
        } else if (c.name == "power_management") {
            for (const auto& t : c.children) {
                auto it = std::find(power_target_names.begin(), power_target_names.end(), t.name);
                if (it == power_target_names.end()) fail(t, "unknown power management target " + quoted(t.name));
                auto target = static_cast<power_target>(it - power_target_names.begin());
                if (std::find(out.power_management.begin(), out.power_management.end(), target) ==
                    out.power_management.end())
                    out.power_management.push_back(target);
            }
            std::sort(out.power_management.begin(), out.power_management.end());
        } else if (c.name == "iommu") {
            out.iommu = bool_attr(c, "support", "yes", "no").value_or(false);
        } else if (c.name == "migration_features") {
            migration_features m;
            m.live = c.child("live") != nullptr;
            if (const auto* transports = c.child("uri_transports"))
                for (const auto* t : transports->children_named("uri_transport")) m.uri_transports.push_back(required_text(*t));
            out.migration = m;
        } else if (c.name == "netprefix") {
            out.netprefix = required_text(c);
        } else if (c.name == "topology") {
            std::vector<numa_cell> cells;
            if (const auto* cs = c.child("cells"))
                for (const auto* cell : cs->children_named("cell")) cells.push_back(parse_cell(*cell));
            out.numa_cells = std::move(cells);
        } else if (c.name == "secmodel") {
            security_model m;
            const auto* model = c.child("model");
            if (!model) fail(c, "missing <model> in <secmodel>");
            m.model = required_text(*model);
            if (const auto* doi = c.child("doi")) m.doi = doi->trimmed_text();
            for (const auto* label : c.children_named("baselabel"))
                m.base_labels.push_back({required_attr(*label, "type"), label->trimmed_text()});
            out.security_models.push_back(std::move(m));
        }
    }
    return out;
}

guest_machine parse_machine(const element& e) {
    guest_machine m;
    m.name = required_text(e);
    if (const auto* canonical = e.attr("canonical")) m.canonical = *canonical;
    m.max_cpus = number_attr<unsigned>(e, "maxCpus");
    if (m.max_cpus == 0u) m.max_cpus.reset();  // libvirt formats only a positive count
    m.deprecated = bool_attr(e, "deprecated", "yes", "no").value_or(false);
    return m;
}

guest_capabilities parse_guest(const element& guest) {
    guest_capabilities out;
    const auto* os_type = guest.child("os_type");
    if (!os_type) fail(guest, "missing <os_type> in <guest>");
    out.os_type = required_text(*os_type);
    const auto* arch = guest.child("arch");
    if (!arch) fail(guest, "missing <arch> in <guest>");
    out.arch.name = required_attr(*arch, "name");
    const auto* wordsize = arch->child("wordsize");
    if (!wordsize) fail(*arch, "missing <wordsize> in <arch>");
    out.arch.wordsize = number_text<unsigned>(*wordsize);
    for (const auto& c : arch->children) {
        if (c.name == "emulator") {
            out.arch.emulator = required_text(c);
        } else if (c.name == "loader") {
            out.arch.loader = required_text(c);
        } else if (c.name == "machine") {
            out.arch.machines.push_back(parse_machine(c));
        } else if (c.name == "domain") {
            guest_domain d;
            d.type = required_attr(c, "type");
            for (const auto& dc : c.children) {
                if (dc.name == "emulator") d.emulator = required_text(dc);
                else if (dc.name == "loader") d.loader = required_text(dc);
                else if (dc.name == "machine") d.machines.push_back(parse_machine(dc));
            }
            out.arch.domains.push_back(std::move(d));
        }
    }
    if (const auto* features = guest.child("features")) {
        for (const auto& f : features->children) {
            auto it = std::find(guest_feature_names.begin(), guest_feature_names.end(), f.name);
            if (it == guest_feature_names.end()) continue;  // a feature libvirt does not know is dropped
            guest_feature feature;
            feature.kind = static_cast<guest_feature_kind>(it - guest_feature_names.begin());
            feature.default_on = bool_attr(f, "default", "on", "off");
            feature.toggle = bool_attr(f, "toggle", "yes", "no");
            auto same = std::find_if(out.features.begin(), out.features.end(),
                                     [&](const guest_feature& g) { return g.kind == feature.kind; });
            if (same != out.features.end()) *same = feature;
            else out.features.push_back(feature);
        }
        std::sort(out.features.begin(), out.features.end(),
                  [](const guest_feature& a, const guest_feature& b) { return a.kind < b.kind; });
    }
    return out;
}

// Line-based layout: libvirt separates host and guests with blank lines, which the shared tree
// writer does not do.
using detail::lines;

std::string attr(std::string_view key, std::string_view value) { return detail::attr_text(key, value); }
std::string attr(std::string_view key, std::uint64_t value) { return attr(key, std::to_string(value)); }
std::string leaf(std::string_view name, std::string_view text) { return detail::leaf_text(name, text); }

void format_machine(lines& out, int depth, const guest_machine& m, bool with_deprecated) {
    std::string line = "<machine";
    if (m.canonical) line += attr("canonical", *m.canonical);
    if (m.max_cpus && *m.max_cpus > 0) line += attr("maxCpus", std::uint64_t{*m.max_cpus});
    if (with_deprecated && m.deprecated) line += " deprecated='yes'";
    out.add(depth, line + ">" + detail::escape(m.name) + "</machine>");
}

void format_host(lines& out, const host_capabilities& host) {
    if (!host.uuid && !host.cpu.arch && host.power_management.empty() && !host.iommu) return;
    out.add(1, "<host>");
    if (host.uuid) out.add(2, leaf("uuid", host.uuid->str()));
    out.add(2, "<cpu>");
    const auto& cpu = host.cpu;
    if (cpu.arch) out.add(3, leaf("arch", *cpu.arch));
    if (!cpu.feature_flags.empty()) {
        out.add(3, "<features>");
        for (const auto& f : cpu.feature_flags) out.add(4, "<" + f + "/>");
        out.add(3, "</features>");
    }
    if (cpu.model) out.add(3, leaf("model", *cpu.model));
    if (cpu.vendor) out.add(3, leaf("vendor", *cpu.vendor));
    if (cpu.microcode_version && *cpu.microcode_version > 0)
        out.add(3, "<microcode" + attr("version", std::uint64_t{*cpu.microcode_version}) + "/>");
    if (cpu.signature && cpu.signature->family > 0)
        out.add(3, "<signature" + attr("family", std::uint64_t{cpu.signature->family}) +
                       attr("model", std::uint64_t{cpu.signature->model}) +
                       attr("stepping", std::uint64_t{cpu.signature->stepping}) + "/>");
    if (cpu.counter) {
        std::string line = "<counter" + attr("name", cpu.counter->name) + attr("frequency", cpu.counter->frequency);
        if (cpu.counter->scaling) line += attr("scaling", *cpu.counter->scaling ? "yes" : "no");
        out.add(3, line + "/>");
    }
    if (const auto& t = cpu.topology; t && t->sockets && t->dies && t->cores && t->threads)
        out.add(3, "<topology" + attr("sockets", std::uint64_t{t->sockets}) + attr("dies", std::uint64_t{t->dies}) +
                       attr("cores", std::uint64_t{t->cores}) + attr("threads", std::uint64_t{t->threads}) + "/>");
    if (cpu.max_phys_addr) {
        std::string line = "<maxphysaddr" + attr("mode", cpu.max_phys_addr->mode);
        if (cpu.max_phys_addr->bits && *cpu.max_phys_addr->bits != -1)
            line += attr("bits", std::to_string(*cpu.max_phys_addr->bits));
        out.add(3, line + "/>");
    }
    for (const auto& f : cpu.features) out.add(3, "<feature" + attr("name", f) + "/>");
    for (auto size : cpu.page_sizes_kib) out.add(3, "<pages unit='KiB'" + attr("size", size) + "/>");
    out.add(2, "</cpu>");

    if (host.power_management.empty()) {
        out.add(2, "<power_management/>");
    } else {
        auto targets = host.power_management;
        std::sort(targets.begin(), targets.end());
        targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
        out.add(2, "<power_management>");
        for (auto t : targets) out.add(3, "<" + std::string(to_string(t)) + "/>");
        out.add(2, "</power_management>");
    }
    out.add(2, std::string("<iommu support='") + (host.iommu ? "yes" : "no") + "'/>");

    if (host.migration) {
        out.add(2, "<migration_features>");
        if (host.migration->live) out.add(3, "<live/>");
        if (!host.migration->uri_transports.empty()) {
            out.add(3, "<uri_transports>");
            for (const auto& t : host.migration->uri_transports) out.add(4, leaf("uri_transport", t));
            out.add(3, "</uri_transports>");
        }
        out.add(2, "</migration_features>");
    }
    if (host.netprefix) out.add(2, leaf("netprefix", *host.netprefix));

    if (host.numa_cells) {
        out.add(2, "<topology>");
        out.add(3, "<cells" + attr("num", std::uint64_t{host.numa_cells->size()}) + ">");
        for (const auto& cell : *host.numa_cells) {
            out.add(4, "<cell" + attr("id", std::uint64_t{cell.id}) + ">");
            if (cell.memory_kib && *cell.memory_kib > 0)
                out.add(5, "<memory unit='KiB'>" + std::to_string(*cell.memory_kib) + "</memory>");
            for (const auto& p : cell.pages)
                out.add(5, "<pages unit='KiB'" + attr("size", p.size_kib) + ">" + std::to_string(p.available) + "</pages>");
            bool any_distance = std::any_of(cell.distances.begin(), cell.distances.end(),
                                            [](const numa_distance& d) { return d.value != 0; });
            if (any_distance) {
                out.add(5, "<distances>");
                for (const auto& d : cell.distances)
                    if (d.value != 0)
                        out.add(6, "<sibling" + attr("id", std::uint64_t{d.cell_id}) + attr("value", std::uint64_t{d.value}) +
                                       "/>");
                out.add(5, "</distances>");
            }
            auto cpus_start = "<cpus" + attr("num", std::uint64_t{cell.cpus.size()});
            if (cell.cpus.empty()) {
                out.add(5, cpus_start + "/>");
            } else {
                out.add(5, cpus_start + ">");
                for (const auto& c : cell.cpus) {
                    std::string line = "<cpu" + attr("id", std::uint64_t{c.id});
                    if (c.siblings)
                        line += attr("socket_id", std::uint64_t{c.socket_id.value_or(0)}) +
                                attr("die_id", std::uint64_t{c.die_id.value_or(0)}) +
                                attr("core_id", std::uint64_t{c.core_id.value_or(0)}) + attr("siblings", *c.siblings);
                    out.add(6, line + "/>");
                }
                out.add(5, "</cpus>");
            }
            out.add(4, "</cell>");
        }
        out.add(3, "</cells>");
        out.add(2, "</topology>");
    }

    for (const auto& m : host.security_models) {
        out.add(2, "<secmodel>");
        out.add(3, leaf("model", m.model));
        out.add(3, leaf("doi", m.doi));
        for (const auto& l : m.base_labels) out.add(3, "<baselabel" + attr("type", l.type) + ">" + detail::escape(l.label) + "</baselabel>");
        out.add(2, "</secmodel>");
    }
    out.add(1, "</host>");
    out.blank();
}

void format_guest(lines& out, const guest_capabilities& guest) {
    out.add(1, "<guest>");
    out.add(2, leaf("os_type", guest.os_type));
    out.add(2, "<arch" + attr("name", guest.arch.name) + ">");
    out.add(3, "<wordsize>" + std::to_string(guest.arch.wordsize) + "</wordsize>");
    if (guest.arch.emulator) out.add(3, leaf("emulator", *guest.arch.emulator));
    if (guest.arch.loader) out.add(3, leaf("loader", *guest.arch.loader));
    for (const auto& m : guest.arch.machines) format_machine(out, 3, m, true);
    for (const auto& d : guest.arch.domains) {
        auto start = "<domain" + attr("type", d.type);
        if (!d.emulator && !d.loader && d.machines.empty()) {
            out.add(3, start + "/>");
            continue;
        }
        out.add(3, start + ">");
        if (d.emulator) out.add(4, leaf("emulator", *d.emulator));
        if (d.loader) out.add(4, leaf("loader", *d.loader));
        // libvirt 9.0 does not write deprecated='yes' for per-domain machines.
        for (const auto& m : d.machines) format_machine(out, 4, m, false);
        out.add(3, "</domain>");
    }
    out.add(2, "</arch>");
    if (!guest.features.empty()) {
        auto features = guest.features;
        std::stable_sort(features.begin(), features.end(),
                         [](const guest_feature& a, const guest_feature& b) { return a.kind < b.kind; });
        out.add(2, "<features>");
        for (std::size_t i = 0; i < features.size(); ++i) {
            if (i > 0 && features[i].kind == features[i - 1].kind) continue;
            const auto& f = features[i];
            std::string line = "<" + std::string(to_string(f.kind));
            if (f.default_on) line += attr("default", *f.default_on ? "on" : "off");
            if (f.toggle) line += attr("toggle", *f.toggle ? "yes" : "no");
            out.add(3, line + "/>");
        }
        out.add(2, "</features>");
    }
    out.add(1, "</guest>");
    out.blank();
}

}  // namespace

std::string_view to_string(power_target target) noexcept { return power_target_names[static_cast<std::size_t>(target)]; }

std::string_view to_string(guest_feature_kind kind) noexcept {
    return guest_feature_names[static_cast<std::size_t>(kind)];
}

capabilities parse_capabilities_xml_unreported(std::string_view xml) {
    auto root = detail::parse_document(xml, "(capabilities)", caps_domain);
    if (root.name != "capabilities") fail(root, "expecting root element of 'capabilities', not " + quoted(root.name));
    capabilities caps;
    if (const auto* host = root.child("host")) caps.host = parse_host(*host);
    for (const auto* guest : root.children_named("guest")) caps.guests.push_back(parse_guest(*guest));
    return caps;
}

std::string format_capabilities_xml(const capabilities& caps) {
    lines out;
    out.add(0, "<capabilities>");
    out.blank();
    format_host(out, caps.host);
    for (const auto& g : caps.guests) format_guest(out, g);
    out.add(0, "</capabilities>");
    return std::move(out.out_);
}

// The public entry point: an error is reported through the handlers, then thrown.
capabilities parse_capabilities_xml(std::string_view xml) {
    return api_boundary(nullptr, [&] { return parse_capabilities_xml_unreported(xml); });
}

}  // namespace virtpp::xml
