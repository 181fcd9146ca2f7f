// Snapshot and checkpoint commands (virsh's "snapshot" and "checkpoint" groups), on the
// library's domain_snapshot_* and domain_checkpoint_* operations. Where virsh asks the driver
// for a snapshot's children (virDomainSnapshotNumChildren, ...ListAllChildren), which are not
// among the library's operations, the children are worked out from the full list and each
// entry's parent: the same answer, from the operations that exist.
#include "command_util.hpp"
#include "shell.hpp"
#include "table.hpp"
#include "tree_print.hpp"
#include "xml_scan.hpp"

#include <virtpp/ops.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <map>
#include <strings.h>

namespace virtpp::cli {

namespace {

// virDomainSnapshotCreateFlags
constexpr unsigned snap_create_redefine = 1U << 0, snap_create_current = 1U << 1, snap_create_no_metadata = 1U << 2,
                   snap_create_halt = 1U << 3, snap_create_disk_only = 1U << 4, snap_create_reuse_ext = 1U << 5,
                   snap_create_quiesce = 1U << 6, snap_create_atomic = 1U << 7, snap_create_live = 1U << 8,
                   snap_create_validate = 1U << 9;
// virDomainSnapshotListFlags (bit 0 is ROOTS for a domain's list, DESCENDANTS for a snapshot's children)
constexpr unsigned snap_list_roots = 1U << 0, snap_list_descendants = 1U << 0, snap_list_metadata = 1U << 1,
                   snap_list_leaves = 1U << 2, snap_list_no_leaves = 1U << 3, snap_list_no_metadata = 1U << 4,
                   snap_list_inactive = 1U << 5, snap_list_active = 1U << 6, snap_list_disk_only = 1U << 7,
                   snap_list_internal = 1U << 8, snap_list_external = 1U << 9, snap_list_topological = 1U << 10;
// virDomainSnapshotDeleteFlags
constexpr unsigned snap_delete_children = 1U << 0, snap_delete_metadata_only = 1U << 1,
                   snap_delete_children_only = 1U << 2;
constexpr unsigned xml_secure = 1U << 0;  // VIR_DOMAIN_XML_SECURE, VIR_DOMAIN_CHECKPOINT_XML_SECURE
// virDomainCheckpointCreateFlags, ...XMLFlags, ...ListFlags, ...DeleteFlags
constexpr unsigned chk_create_redefine = 1U << 0, chk_create_quiesce = 1U << 1, chk_create_redefine_validate = 1U << 2;
constexpr unsigned chk_xml_no_domain = 1U << 1, chk_xml_size = 1U << 2;
constexpr unsigned chk_list_roots = 1U << 0, chk_list_descendants = 1U << 0, chk_list_topological = 1U << 1,
                   chk_list_leaves = 1U << 2, chk_list_no_leaves = 1U << 3;
constexpr unsigned chk_delete_children = 1U << 0, chk_delete_metadata_only = 1U << 1,
                   chk_delete_children_only = 1U << 2;

/// virBufferEscapeString's escaping of a value placed in XML text or an attribute.
std::string xml_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '&': out += "&amp;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default: out += c;
        }
    }
    return out;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

/// The text inside an element the scanner found (entities resolved); empty for <x/>.
std::string element_text(std::string_view xml, const scanned_element& el) {
    const auto open_end = xml.find('>', el.begin);
    if (open_end == std::string_view::npos || open_end >= el.end || xml[open_end - 1] == '/') return "";
    const auto close = xml.rfind("</", el.end);
    if (close == std::string_view::npos || close <= open_end) return "";
    return detail::resolve_entities(xml.substr(open_end + 1, close - open_end - 1)).value_or("");
}

/// What the list and info commands read from a snapshot's or checkpoint's XML.
struct moment_xml {
    std::optional<std::string> state, parent, creation_time;
    bool has_memory = false, external = false;
};

std::optional<moment_xml> read_moment(const std::string& xml) {
    auto root = scan_xml(xml);
    if (!root) return std::nullopt;
    moment_xml m;
    if (const auto* e = root->child("state")) m.state = element_text(xml, *e);
    if (const auto* p = root->child("parent"))
        if (const auto* n = p->child("name")) m.parent = element_text(xml, *n);
    if (const auto* e = root->child("creationTime")) m.creation_time = element_text(xml, *e);
    if (const auto* mem = root->child("memory")) {
        m.has_memory = true;
        if (const auto* s = mem->attr("snapshot"); s != nullptr && *s == "external") m.external = true;
    }
    if (const auto* disks = root->child("disks"))
        for (const auto& d : disks->children)
            if (const auto* s = d.attr("snapshot"); d.name == "disk" && s != nullptr && *s == "external") m.external = true;
    return m;
}

/// g_date_time_format(local, "%Y-%m-%d %H:%M:%S %z") of a creationTime; nullopt when it is no number.
std::optional<std::string> creation_time_text(const std::string& seconds) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(seconds.c_str(), &end, 10);
    if (seconds.empty() || *end != '\0' || errno != 0) return std::nullopt;
    const auto t = static_cast<std::time_t>(v);
    std::tm tm{};
    if (localtime_r(&t, &tm) == nullptr) return std::nullopt;
    char buf[64];
    if (std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z", &tm) == 0) return std::nullopt;
    return std::string(buf);
}

/// The descendants (or, with `all_levels` false, the children) of `name` in a parent map.
std::vector<std::string> descendants_of(const std::string& name, const std::vector<std::string>& order,
                                        const std::map<std::string, std::optional<std::string>>& parent_of,
                                        bool all_levels) {
    std::vector<std::string> out;
    for (const auto& n : order) {
        auto p = parent_of.at(n);
        while (p) {
            if (*p == name) {
                out.push_back(n);
                break;
            }
            if (!all_levels) break;
            auto it = parent_of.find(*p);
            p = it == parent_of.end() ? std::nullopt : it->second;
        }
    }
    return out;
}

// ---- snapshots

/// virshGetSnapshotParent: the parent's name, none for a root; nullopt (after reporting) on failure.
std::optional<std::optional<std::string>> snapshot_parent(shell& sh, any_domain& dom, const domain_snapshot_ref& snap) {
    try {
        return std::optional<std::string>(dom.call<op::domain_snapshot_get_parent>({snap, 0}).name);
    } catch (const virtpp::error& e) {
        if (e.code() == error_code::no_domain_snapshot) {
            sh.reset_last_error();
            return std::optional<std::string>();
        }
    }
    // virsh's fallback for servers without virDomainSnapshotGetParent: the parent named in the XML
    try {
        const std::string xml = dom.call<op::domain_snapshot_get_xml_desc>({snap, 0});
        if (auto m = read_moment(xml)) {
            sh.reset_last_error();
            return m->parent;
        }
    } catch (const virtpp::error&) {
    }
    sh.report_last_error();
    sh.error("unable to determine if snapshot has parent");
    return std::nullopt;
}

/// virshLookupSnapshot: the snapshot named by `arg`, or with --current the current one.
std::optional<domain_snapshot_ref> lookup_snapshot(shell& sh, const parsed_command& cmd, std::string_view arg,
                                                   bool exclusive, any_domain& dom) {
    const bool current = cmd.has("current");
    std::optional<std::string> name;
    if (!sh.opt_string(cmd, arg, name)) return std::nullopt;
    if (exclusive && current && name) {
        sh.error("--" + std::string(arg) + " and --current are mutually exclusive");
        return std::nullopt;
    }
    if (!name && !current) {
        sh.error("--" + std::string(arg) + " or --current is required");
        return std::nullopt;
    }
    try {
        if (name) return dom.call<op::domain_snapshot_lookup_by_name>({dom.ref(), *name, 0});
        return dom.call<op::domain_snapshot_current>({dom.ref(), 0});
    } catch (const virtpp::error&) {
        sh.report_last_error();
        return std::nullopt;
    }
}

/// virshSnapshotCreate, with virsh's retry without --validate and its emulation of --halt.
bool create_snapshot(shell& sh, any_domain& dom, const std::string& xml, unsigned flags,
                     const std::optional<std::string>& from) {
    std::optional<domain_snapshot_ref> snap;
    std::optional<error_code> failure;
    auto attempt = [&] {
        try {
            snap = dom.call<op::domain_snapshot_create_xml>({dom.ref(), xml, flags});
            failure.reset();
        } catch (const virtpp::error& e) {
            failure = e.code();
        }
    };
    attempt();
    if (!snap && failure == error_code::no_support && !from) {
        flags &= ~snap_create_validate;
        attempt();
    }
    bool halt = false;
    if (!snap && failure == error_code::invalid_arg && (flags & snap_create_halt) != 0) {
        sh.reset_last_error();
        bool persistent = false;
        try {
            persistent = dom.is_persistent();
        } catch (const virtpp::error&) {
            sh.report_last_error();
            return false;
        }
        if (!persistent) {
            sh.error("cannot halt after snapshot of transient domain");
            return false;
        }
        try {
            halt = dom.is_active();
        } catch (const virtpp::error&) {
        }
        flags &= ~snap_create_halt;
        attempt();
    }
    if (!snap) return false;
    if (halt) {
        try {
            dom.destroy();
        } catch (const virtpp::error&) {
            sh.report_last_error();
            return false;
        }
    }
    if (from) sh.print_extra("Domain snapshot " + snap->name + " created from '" + *from + "'");
    else sh.print_extra("Domain snapshot " + snap->name + " created");
    return true;
}

unsigned snapshot_create_flags(const parsed_command& cmd) {
    unsigned flags = 0;
    if (cmd.has("redefine")) flags |= snap_create_redefine;
    if (cmd.has("current")) flags |= snap_create_current;
    if (cmd.has("no-metadata")) flags |= snap_create_no_metadata;
    if (cmd.has("halt")) flags |= snap_create_halt;
    if (cmd.has("disk-only")) flags |= snap_create_disk_only;
    if (cmd.has("reuse-external")) flags |= snap_create_reuse_ext;
    if (cmd.has("quiesce")) flags |= snap_create_quiesce;
    if (cmd.has("atomic")) flags |= snap_create_atomic;
    if (cmd.has("live")) flags |= snap_create_live;
    if (cmd.has("validate")) flags |= snap_create_validate;
    return flags;
}

bool cmd_snapshot_create(shell& sh, const parsed_command& cmd) {
    const unsigned flags = snapshot_create_flags(cmd);
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::optional<std::string> from;
    if (!sh.opt_string(cmd, "xmlfile", from)) return false;
    std::string xml = "<domainsnapshot/>";
    if (from && !sh.read_file(*from, xml)) return false;
    return create_snapshot(sh, *dom, xml, flags, from);
}

/// virshParseSnapshotMemspec: "[file=]name[,snapshot=type]" as a <memory/> element.
bool memspec_xml(shell& sh, const std::string& spec, std::string& out) {
    std::optional<std::string> snapshot, file;
    for (const auto& w : comma_words(spec)) {
        if (!snapshot && starts_with(w, "snapshot=")) snapshot = w.substr(9);
        else if (!file && starts_with(w, "file=")) file = w.substr(5);
        else if (!file && !w.empty() && w[0] == '/') file = w;
        else {
            sh.error("unable to parse memspec: " + spec);
            return false;
        }
    }
    out += "  <memory";
    if (snapshot) out += " snapshot='" + xml_escape(*snapshot) + "'";
    if (file) out += " file='" + xml_escape(*file) + "'";
    out += "/>\n";
    return true;
}

/// virshParseSnapshotDiskspec: "disk[,snapshot=type][,driver=type][,stype=type][,file=name]".
bool snapshot_diskspec_xml(shell& sh, const std::string& spec, std::string& out) {
    const auto words = comma_words(spec);
    std::optional<std::string> snapshot, driver, stype, file;
    auto fail = [&] {
        sh.error("unable to parse diskspec: " + spec);
        return false;
    };
    for (std::size_t i = 1; i < words.size(); ++i) {
        const auto& w = words[i];
        if (!snapshot && starts_with(w, "snapshot=")) snapshot = w.substr(9);
        else if (!driver && starts_with(w, "driver=")) driver = w.substr(7);
        else if (!stype && starts_with(w, "stype=")) stype = w.substr(6);
        else if (!file && starts_with(w, "file=")) file = w.substr(5);
        else return fail();
    }
    std::string disk = "    <disk name='" + xml_escape(words[0]) + "'";
    if (snapshot) disk += " snapshot='" + *snapshot + "'";
    bool is_file = true;
    if (stype) {
        if (*stype == "block") {
            is_file = false;
        } else if (*stype != "file") {
            sh.error("Unknown storage type: '" + *stype + "'");
            return fail();
        }
        disk += " type='" + *stype + "'";
    }
    if (driver || file) {
        disk += ">\n";
        if (driver) disk += "      <driver type='" + *driver + "'/>\n";
        if (file) disk += std::string("      <source ") + (is_file ? "file" : "dev") + "='" + xml_escape(*file) + "'/>\n";
        disk += "    </disk>\n";
    } else {
        disk += "/>\n";
    }
    out += disk;
    return true;
}

bool cmd_snapshot_create_as(shell& sh, const parsed_command& cmd) {
    const unsigned flags = snapshot_create_flags(cmd);
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::optional<std::string> name, desc, memspec;
    if (!sh.opt_string(cmd, "name", name) || !sh.opt_string(cmd, "description", desc)) return false;
    std::string xml = "<domainsnapshot>\n";
    if (name) xml += "  <name>" + xml_escape(*name) + "</name>\n";
    if (desc) xml += "  <description>" + xml_escape(*desc) + "</description>\n";
    if (!sh.opt_string(cmd, "memspec", memspec)) return false;
    if (memspec && !memspec_xml(sh, *memspec, xml)) return false;
    if (cmd.has("diskspec")) {
        xml += "  <disks>\n";
        for (const auto& spec : cmd.all("diskspec"))
            if (!snapshot_diskspec_xml(sh, spec, xml)) return false;
        xml += "  </disks>\n";
    }
    xml += "</domainsnapshot>\n";
    if (cmd.has("print-xml")) {
        sh.print(xml + "\n");
        return true;
    }
    return create_snapshot(sh, *dom, xml, flags, std::nullopt);
}

bool cmd_snapshot_current(shell& sh, const parsed_command& cmd) {
    unsigned flags = cmd.has("security-info") ? xml_secure : 0U;
    if (!exclusive_options(sh, cmd, "name", "snapshotname")) return false;
    std::string domname;
    auto dom = sh.domain(cmd, &domname);
    if (!dom) return false;
    std::optional<std::string> snapshotname;
    if (!sh.opt_string(cmd, "snapshotname", snapshotname)) return false;
    try {
        if (snapshotname) {
            // virsh makes a snapshot current by redefining it with its own XML
            flags = snap_create_redefine | snap_create_current;
            const auto snap = dom->call<op::domain_snapshot_lookup_by_name>({dom->ref(), *snapshotname, 0});
            const std::string xml = dom->call<op::domain_snapshot_get_xml_desc>({snap, xml_secure});
            if (xml.find("<state>disk-snapshot</state>") != std::string::npos) flags |= snap_create_disk_only;
            (void)dom->call<op::domain_snapshot_create_xml>({dom->ref(), xml, flags});
            sh.print_extra("Snapshot " + *snapshotname + " set as current");
            return true;
        }
        if (!dom->call<op::domain_has_current_snapshot>({dom->ref(), 0})) {
            sh.error("domain '" + domname + "' has no current snapshot");
            sh.report_last_error();
            return false;
        }
        const auto snap = dom->call<op::domain_snapshot_current>({dom->ref(), 0});
        if (cmd.has("name")) sh.print(snap.name);
        else sh.print(dom->call<op::domain_snapshot_get_xml_desc>({snap, flags}));
        return true;
    } catch (const virtpp::error&) {
        sh.report_last_error();
        return false;
    }
}

/// Every snapshot of the domain with its parent, in the list's order (for counts and --from).
bool snapshot_family(shell& sh, any_domain& dom, std::vector<std::string>& order,
                     std::map<std::string, std::optional<std::string>>& parent_of) {
    std::vector<domain_snapshot_ref> all;
    try {
        all = dom.call<op::domain_list_all_snapshots>({dom.ref(), 0});
    } catch (const virtpp::error&) {
        return false;
    }
    for (const auto& s : all) {
        auto parent = snapshot_parent(sh, dom, s);
        if (!parent) return false;
        order.push_back(s.name);
        parent_of[s.name] = *parent;
    }
    return true;
}

bool cmd_snapshot_info(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    auto snap = lookup_snapshot(sh, cmd, "snapshotname", true, *dom);
    if (!snap) return false;
    sh.print(field("Name:", snap->name));
    sh.print(field("Domain:", dom->name()));
    bool current = false;
    try {
        current = dom->call<op::domain_snapshot_is_current>({*snap, 0});
    } catch (const virtpp::error&) {
        sh.reset_last_error();
    }
    sh.print(field("Current:", current ? "yes" : "no"));
    std::string xml;
    try {
        xml = dom->call<op::domain_snapshot_get_xml_desc>({*snap, 0});
    } catch (const virtpp::error&) {
        return false;
    }
    auto m = read_moment(xml);
    if (!m || !m->state) {
        sh.error("unexpected problem reading snapshot xml");
        return false;
    }
    sh.print(field("State:", *m->state));
    const bool external = m->has_memory ? m->external : *m->state == "disk-snapshot";
    sh.print(field("Location:", external ? "external" : "internal"));
    sh.print(field("Parent:", m->parent.value_or("-")));
    std::vector<std::string> order;
    std::map<std::string, std::optional<std::string>> parent_of;
    if (!snapshot_family(sh, *dom, order, parent_of)) return false;
    sh.print(field("Children:", std::to_string(descendants_of(snap->name, order, parent_of, false).size())));
    sh.print(field("Descendants:", std::to_string(descendants_of(snap->name, order, parent_of, true).size())));
    try {
        sh.print(field("Metadata:", dom->call<op::domain_snapshot_has_metadata>({*snap, 0}) ? "yes" : "no"));
    } catch (const virtpp::error&) {
        sh.reset_last_error();
    }
    return true;
}

bool cmd_snapshot_dumpxml(shell& sh, const parsed_command& cmd) {
    const unsigned flags = cmd.has("security-info") ? xml_secure : 0U;
    std::optional<std::string> name;
    if (!sh.opt_string(cmd, "snapshotname", name)) return false;
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    if (cmd.has("xpath")) {
        sh.error("--xpath is not supported by virtpp");
        return false;
    }
    std::string xml;
    try {
        const auto snap = dom->call<op::domain_snapshot_lookup_by_name>({dom->ref(), *name, 0});
        xml = dom->call<op::domain_snapshot_get_xml_desc>({snap, flags});
    } catch (const virtpp::error&) {
        return false;
    }
    sh.print(xml);
    return true;
}

bool cmd_snapshot_parent(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    auto snap = lookup_snapshot(sh, cmd, "snapshotname", true, *dom);
    if (!snap) return false;
    auto parent = snapshot_parent(sh, *dom, *snap);
    if (!parent) return false;
    if (!*parent) {
        sh.error("snapshot '" + snap->name + "' has no parent");
        return false;
    }
    sh.print(**parent);
    return true;
}

bool cmd_snapshot_delete(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    auto snap = lookup_snapshot(sh, cmd, "snapshotname", true, *dom);
    if (!snap) return false;
    unsigned flags = 0;
    if (cmd.has("children")) flags |= snap_delete_children;
    if (cmd.has("children-only")) flags |= snap_delete_children_only;
    if (cmd.has("metadata")) flags |= snap_delete_metadata_only;
    if (!attempt_call(sh, [&] { dom->call<op::domain_snapshot_delete>({*snap, flags}); },
                      "Failed to delete snapshot " + snap->name))
        return false;
    if ((flags & snap_delete_children_only) != 0) sh.print_extra("Domain snapshot " + snap->name + " children deleted\n");
    else sh.print_extra("Domain snapshot " + snap->name + " deleted\n");
    return true;
}

/// A snapshot or checkpoint list as virsh collects it: names in the driver's order, then by
/// name unless topological; with `from`, only its children (or descendants).
template <class Ref>
std::vector<Ref> sorted_by_name(std::vector<Ref> list, bool topological) {
    if (!topological)
        std::stable_sort(list.begin(), list.end(),
                         [](const Ref& a, const Ref& b) { return strcasecmp(a.name.c_str(), b.name.c_str()) < 0; });
    return list;
}

/// The list as a forest (vshTreePrint), sorted by name first unless topological.
template <class Ref>
void print_sorted_forest(shell& sh, const std::vector<Ref>& list, const std::vector<std::optional<std::string>>& parents,
                         bool topological) {
    std::vector<std::size_t> idx(list.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    if (!topological)
        std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
            return strcasecmp(list[a].name.c_str(), list[b].name.c_str()) < 0;
        });
    std::vector<std::string> names;
    std::vector<std::optional<std::string>> sorted_parents;
    for (auto i : idx) {
        names.push_back(list[i].name);
        sorted_parents.push_back(parents[i]);
    }
    print_forest(sh, names, sorted_parents);
}

/// Keeps the entries of `list` that are children (descendants) of `from`.
template <class Ref, class ParentOf>
bool keep_children(std::vector<Ref>& list, const std::vector<Ref>& everything, const std::string& from,
                   bool all_levels, ParentOf parent_lookup) {
    std::vector<std::string> order;
    std::map<std::string, std::optional<std::string>> parent_of;
    for (const auto& r : everything) {
        auto p = parent_lookup(r);
        if (!p) return false;
        order.push_back(r.name);
        parent_of[r.name] = *p;
    }
    const auto keep = descendants_of(from, order, parent_of, all_levels);
    std::erase_if(list, [&](const Ref& r) { return std::find(keep.begin(), keep.end(), r.name) == keep.end(); });
    return true;
}

bool cmd_snapshot_list(shell& sh, const parsed_command& cmd) {
    const bool tree = cmd.has("tree"), by_name = cmd.has("name"), from = cmd.has("from"), parent = cmd.has("parent"),
               roots = cmd.has("roots"), current = cmd.has("current");
    if (!exclusive_options(sh, cmd, "tree", "name") || !exclusive_options(sh, cmd, "parent", "roots") ||
        !exclusive_options(sh, cmd, "parent", "tree") || !exclusive_options(sh, cmd, "roots", "tree") ||
        !exclusive_options(sh, cmd, "roots", "from") || !exclusive_options(sh, cmd, "roots", "current"))
        return false;
    unsigned flags = 0;
    static constexpr std::pair<std::string_view, unsigned> filters[] = {
        {"leaves", snap_list_leaves},     {"no-leaves", snap_list_no_leaves}, {"inactive", snap_list_inactive},
        {"active", snap_list_active},     {"disk-only", snap_list_disk_only}, {"internal", snap_list_internal},
        {"external", snap_list_external},
    };
    for (const auto& [option, bit] : filters) {
        if (!cmd.has(option)) continue;
        if (tree) {
            sh.error("--" + std::string(option) + " and --tree are mutually exclusive");
            return false;
        }
        flags |= bit;
    }
    if (cmd.has("topological")) flags |= snap_list_topological;
    if (roots) flags |= snap_list_roots;
    if (cmd.has("metadata")) flags |= snap_list_metadata;
    if (cmd.has("no-metadata")) flags |= snap_list_no_metadata;
    if (cmd.has("descendants")) {
        if (!from && !current) {
            sh.error("--descendants requires either --from or --current");
            return false;
        }
        flags |= snap_list_descendants;
    }
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::optional<domain_snapshot_ref> start;
    if (from || current) {
        start = lookup_snapshot(sh, cmd, "from", true, *dom);
        if (!start) return false;
    }
    std::vector<domain_snapshot_ref> list;
    try {
        // a snapshot's children: the domain's list (bit 0 means descendants there, not roots), then filtered
        list = dom->call<op::domain_list_all_snapshots>({dom->ref(), start ? flags & ~snap_list_descendants : flags});
        if (start) {
            const auto everything = dom->call<op::domain_list_all_snapshots>({dom->ref(), 0});
            if (!keep_children(list, everything, start->name, (flags & snap_list_descendants) != 0,
                               [&](const domain_snapshot_ref& s) { return snapshot_parent(sh, *dom, s); }))
                return false;
        }
    } catch (const virtpp::error&) {
        return false;
    }
    if (tree) {
        std::vector<std::optional<std::string>> parents;
        for (const auto& s : list) {
            auto p = snapshot_parent(sh, *dom, s);
            if (!p) return false;
            parents.push_back(*p);
        }
        // --tree --from: the starting snapshot heads the tree
        if (start) {
            list.push_back(*start);
            parents.emplace_back();
        }
        print_sorted_forest(sh, list, parents, (flags & snap_list_topological) != 0);
        return true;
    }
    list = sorted_by_name(std::move(list), (flags & snap_list_topological) != 0);
    if (by_name) {
        for (const auto& s : list) sh.print(s.name + "\n");
        return true;
    }
    table t = parent ? table({"Name", "Creation Time", "State", "Parent"}) : table({"Name", "Creation Time", "State"});
    for (const auto& s : list) {
        std::string xml;
        try {
            xml = dom->call<op::domain_snapshot_get_xml_desc>({s, 0});
        } catch (const virtpp::error&) {
            continue;
        }
        auto m = read_moment(xml);
        if (!m || !m->state || !m->creation_time) continue;
        auto when = creation_time_text(*m->creation_time);
        if (!when) continue;
        if (parent) t.add_row({s.name, *when, *m->state, m->parent.value_or("")});
        else t.add_row({s.name, *when, *m->state});
    }
    sh.print(t.str(!sh.quiet));
    return true;
}

// ---- checkpoints

/// virshGetCheckpointParent: the parent's name, none for a root; nullopt (after reporting) on failure.
std::optional<std::optional<std::string>> checkpoint_parent(shell& sh, any_domain& dom,
                                                            const domain_checkpoint_ref& chk) {
    try {
        return std::optional<std::string>(dom.call<op::domain_checkpoint_get_parent>({chk, 0}).name);
    } catch (const virtpp::error& e) {
        if (e.code() == error_code::no_domain_checkpoint) {
            sh.reset_last_error();
            return std::optional<std::string>();
        }
    }
    sh.report_last_error();
    sh.error("unable to determine if checkpoint has parent");
    return std::nullopt;
}

/// virshLookupCheckpoint: the checkpoint named by `arg`.
std::optional<domain_checkpoint_ref> lookup_checkpoint(shell& sh, const parsed_command& cmd, std::string_view arg,
                                                       any_domain& dom) {
    std::optional<std::string> name;
    if (!sh.opt_string(cmd, arg, name)) return std::nullopt;
    if (!name) {
        sh.error("--" + std::string(arg) + " is required");
        return std::nullopt;
    }
    try {
        return dom.call<op::domain_checkpoint_lookup_by_name>({dom.ref(), *name, 0});
    } catch (const virtpp::error&) {
        sh.report_last_error();
        return std::nullopt;
    }
}

bool create_checkpoint(shell& sh, any_domain& dom, const std::string& xml, unsigned flags,
                       const std::optional<std::string>& from) {
    domain_checkpoint_ref chk;
    try {
        chk = dom.call<op::domain_checkpoint_create_xml>({dom.ref(), xml, flags});
    } catch (const virtpp::error&) {
        return false;
    }
    if (from) sh.print_extra("Domain checkpoint " + chk.name + " created from '" + *from + "'");
    else sh.print_extra("Domain checkpoint " + chk.name + " created");
    return true;
}

bool cmd_checkpoint_create(shell& sh, const parsed_command& cmd) {
    if (!require_option(sh, cmd, "redefine-validate", "redefine")) return false;
    unsigned flags = 0;
    if (cmd.has("redefine")) flags |= chk_create_redefine;
    if (cmd.has("redefine-validate")) flags |= chk_create_redefine_validate;
    if (cmd.has("quiesce")) flags |= chk_create_quiesce;
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::optional<std::string> from;
    if (!sh.opt_string(cmd, "xmlfile", from)) return false;
    std::string xml = "<domaincheckpoint/>";
    if (from && !sh.read_file(*from, xml)) return false;
    return create_checkpoint(sh, *dom, xml, flags, from);
}

bool cmd_checkpoint_create_as(shell& sh, const parsed_command& cmd) {
    const unsigned flags = cmd.has("quiesce") ? chk_create_quiesce : 0U;
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::optional<std::string> name, desc;
    if (!sh.opt_string(cmd, "name", name) || !sh.opt_string(cmd, "description", desc)) return false;
    std::string xml = "<domaincheckpoint>\n";
    if (name) xml += "  <name>" + xml_escape(*name) + "</name>\n";
    if (desc) xml += "  <description>" + xml_escape(*desc) + "</description>\n";
    if (cmd.has("diskspec")) {
        xml += "  <disks>\n";
        for (const auto& spec : cmd.all("diskspec")) {
            // virshParseCheckpointDiskspec: "disk[,checkpoint=type][,bitmap=name]"
            const auto words = comma_words(spec);
            std::optional<std::string> checkpoint, bitmap;
            for (std::size_t i = 1; i < words.size(); ++i) {
                if (!checkpoint && starts_with(words[i], "checkpoint=")) checkpoint = words[i].substr(11);
                else if (!bitmap && starts_with(words[i], "bitmap=")) bitmap = words[i].substr(7);
                else {
                    sh.error("unable to parse diskspec: " + spec);
                    return false;
                }
            }
            xml += "    <disk name='" + xml_escape(words[0]) + "'";
            if (checkpoint) xml += " checkpoint='" + *checkpoint + "'";
            if (bitmap) xml += " bitmap='" + *bitmap + "'";
            xml += "/>\n";
        }
        xml += "  </disks>\n";
    }
    xml += "</domaincheckpoint>\n";
    if (cmd.has("print-xml")) {
        sh.print(xml + "\n");
        return true;
    }
    return create_checkpoint(sh, *dom, xml, flags, std::nullopt);
}

/// Every checkpoint of the domain with its parent, in the list's order.
bool checkpoint_family(shell& sh, any_domain& dom, std::vector<std::string>& order,
                       std::map<std::string, std::optional<std::string>>& parent_of) {
    std::vector<domain_checkpoint_ref> all;
    try {
        all = dom.call<op::domain_list_all_checkpoints>({dom.ref(), 0});
    } catch (const virtpp::error&) {
        return false;
    }
    for (const auto& c : all) {
        auto parent = checkpoint_parent(sh, dom, c);
        if (!parent) return false;
        order.push_back(c.name);
        parent_of[c.name] = *parent;
    }
    return true;
}

bool cmd_checkpoint_info(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    auto chk = lookup_checkpoint(sh, cmd, "checkpointname", *dom);
    if (!chk) return false;
    sh.print(field("Name:", chk->name));
    sh.print(field("Domain:", dom->name()));
    auto parent = checkpoint_parent(sh, *dom, *chk);
    if (!parent) {
        sh.error("unexpected problem querying checkpoint state");
        return false;
    }
    sh.print(field("Parent:", parent->value_or("-")));
    std::vector<std::string> order;
    std::map<std::string, std::optional<std::string>> parent_of;
    if (!checkpoint_family(sh, *dom, order, parent_of)) return false;
    sh.print(field("Children:", std::to_string(descendants_of(chk->name, order, parent_of, false).size())));
    sh.print(field("Descendants:", std::to_string(descendants_of(chk->name, order, parent_of, true).size())));
    return true;
}

bool cmd_checkpoint_dumpxml(shell& sh, const parsed_command& cmd) {
    unsigned flags = 0;
    if (cmd.has("security-info")) flags |= xml_secure;
    if (cmd.has("no-domain")) flags |= chk_xml_no_domain;
    if (cmd.has("size")) flags |= chk_xml_size;
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    if (cmd.has("xpath")) {
        sh.error("--xpath is not supported by virtpp");
        return false;
    }
    auto chk = lookup_checkpoint(sh, cmd, "checkpointname", *dom);
    if (!chk) return false;
    std::string xml;
    try {
        xml = dom->call<op::domain_checkpoint_get_xml_desc>({*chk, flags});
    } catch (const virtpp::error&) {
        return false;
    }
    sh.print(xml);
    return true;
}

bool cmd_checkpoint_parent(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    auto chk = lookup_checkpoint(sh, cmd, "checkpointname", *dom);
    if (!chk) return false;
    auto parent = checkpoint_parent(sh, *dom, *chk);
    if (!parent) return false;
    if (!*parent) {
        sh.error("checkpoint '" + chk->name + "' has no parent");
        return false;
    }
    sh.print(**parent);
    return true;
}

bool cmd_checkpoint_delete(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    auto chk = lookup_checkpoint(sh, cmd, "checkpointname", *dom);
    if (!chk) return false;
    unsigned flags = 0;
    if (cmd.has("children")) flags |= chk_delete_children;
    if (cmd.has("children-only")) flags |= chk_delete_children_only;
    if (cmd.has("metadata")) flags |= chk_delete_metadata_only;
    if (!attempt_call(sh, [&] { dom->call<op::domain_checkpoint_delete>({*chk, flags}); },
                      "Failed to delete checkpoint " + chk->name))
        return false;
    if ((flags & chk_delete_children_only) != 0)
        sh.print_extra("Domain checkpoint " + chk->name + " children deleted\n");
    else
        sh.print_extra("Domain checkpoint " + chk->name + " deleted\n");
    return true;
}

bool cmd_checkpoint_list(shell& sh, const parsed_command& cmd) {
    const bool tree = cmd.has("tree"), by_name = cmd.has("name"), from = cmd.has("from"), parent = cmd.has("parent"),
               roots = cmd.has("roots");
    if (!exclusive_options(sh, cmd, "tree", "name") || !exclusive_options(sh, cmd, "parent", "roots") ||
        !exclusive_options(sh, cmd, "parent", "tree") || !exclusive_options(sh, cmd, "roots", "tree") ||
        !exclusive_options(sh, cmd, "roots", "from"))
        return false;
    unsigned flags = 0;
    for (const auto& [option, bit] : {std::pair<std::string_view, unsigned>{"leaves", chk_list_leaves},
                                      std::pair<std::string_view, unsigned>{"no-leaves", chk_list_no_leaves}}) {
        if (!cmd.has(option)) continue;
        if (tree) {
            sh.error("--" + std::string(option) + " and --tree are mutually exclusive");
            return false;
        }
        flags |= bit;
    }
    const bool topological = cmd.has("topological");
    if (topological) flags |= chk_list_topological;
    if (roots) flags |= chk_list_roots;
    if (cmd.has("descendants")) {
        if (!from) {
            sh.error("--descendants requires --from");
            return false;
        }
        flags |= chk_list_descendants;
    }
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::optional<domain_checkpoint_ref> start;
    if (from) {
        start = lookup_checkpoint(sh, cmd, "from", *dom);
        if (!start) return false;
    }
    std::vector<domain_checkpoint_ref> list;
    try {
        list = dom->call<op::domain_list_all_checkpoints>({dom->ref(), start ? flags & ~chk_list_descendants : flags});
        if (start) {
            const auto everything = dom->call<op::domain_list_all_checkpoints>({dom->ref(), 0});
            if (!keep_children(list, everything, start->name, (flags & chk_list_descendants) != 0,
                               [&](const domain_checkpoint_ref& c) { return checkpoint_parent(sh, *dom, c); }))
                return false;
        }
    } catch (const virtpp::error&) {
        sh.error("unexpected problem querying checkpoints");
        return false;
    }
    if (tree) {
        std::vector<std::optional<std::string>> parents;
        for (const auto& c : list) {
            auto p = checkpoint_parent(sh, *dom, c);
            if (!p) return false;
            parents.push_back(*p);
        }
        if (start) {
            list.push_back(*start);
            parents.emplace_back();
        }
        print_sorted_forest(sh, list, parents, topological);
        return true;
    }
    list = sorted_by_name(std::move(list), topological);
    if (by_name) {
        for (const auto& c : list) sh.print(c.name + "\n");
        return true;
    }
    table t = parent ? table({"Name", "Creation Time", "Parent"}) : table({"Name", "Creation Time"});
    for (const auto& c : list) {
        std::string xml;
        try {
            xml = dom->call<op::domain_checkpoint_get_xml_desc>({c, 0});
        } catch (const virtpp::error&) {
            continue;
        }
        auto m = read_moment(xml);
        if (!m || !m->creation_time) continue;
        auto when = creation_time_text(*m->creation_time);
        if (!when) continue;
        if (parent) t.add_row({c.name, *when, m->parent.value_or("")});
        else t.add_row({c.name, *when});
    }
    sh.print(t.str(!sh.quiet));
    return true;
}

constexpr handler_entry handlers[] = {
    {"snapshot-create", cmd_snapshot_create},     {"snapshot-create-as", cmd_snapshot_create_as},
    {"snapshot-current", cmd_snapshot_current},   {"snapshot-delete", cmd_snapshot_delete},
    {"snapshot-dumpxml", cmd_snapshot_dumpxml},   {"snapshot-info", cmd_snapshot_info},
    {"snapshot-list", cmd_snapshot_list},         {"snapshot-parent", cmd_snapshot_parent},
    {"checkpoint-create", cmd_checkpoint_create}, {"checkpoint-create-as", cmd_checkpoint_create_as},
    {"checkpoint-delete", cmd_checkpoint_delete}, {"checkpoint-dumpxml", cmd_checkpoint_dumpxml},
    {"checkpoint-info", cmd_checkpoint_info},     {"checkpoint-list", cmd_checkpoint_list},
    {"checkpoint-parent", cmd_checkpoint_parent},
};

}  // namespace

std::span<const handler_entry> snapshot_handlers() { return handlers; }

}  // namespace virtpp::cli
