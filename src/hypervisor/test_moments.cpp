// hypervisor::test: snapshots and checkpoints ("domain moments") as libvirt 9.0's test driver
// keeps them: metadata only (a copy of the domain's definition, a name, a parent, a creation
// time), in a tree per domain with one current moment. A domain has either snapshots or
// checkpoints, never both, as in the test driver. Reverting is not implemented (NO_SUPPORT).
#include "hypervisor/test_detail.hpp"
#include "xml/tree.hpp"

#include <virtpp/error.hpp>
#include <virtpp/events.hpp>

#include <algorithm>
#include <chrono>
#include <mutex>

namespace virtpp::hypervisor {

using test_detail::domain_obj;
using test_detail::moment;
using test_detail::moment_list;

namespace {
using read_lock = std::shared_lock<std::shared_mutex>;
using write_lock = std::unique_lock<std::shared_mutex>;

/// What differs between the two kinds of moment.
struct moment_kind {
    std::string_view noun;          ///< "snapshot", "checkpoint"
    std::string_view root;          ///< the XML document's root element
    std::string_view document;      ///< how parse errors name the document
    error_code not_found;
    error_domain domain;            ///< the XML/config errors' domain
    moment_list domain_obj::*list;
};
constexpr moment_kind snapshot_kind{"snapshot", "domainsnapshot", "(domain_snapshot)", error_code::no_domain_snapshot,
                                    error_domain::domain_snapshot, &domain_obj::snapshots};
constexpr moment_kind checkpoint_kind{"checkpoint", "domaincheckpoint", "(domain_checkpoint)",
                                      error_code::no_domain_checkpoint, error_domain::domain_checkpoint,
                                      &domain_obj::checkpoints};

moment& find_moment(const moment_kind& k, domain_obj& obj, std::string_view name) {
    if (auto* m = (obj.*k.list).find(name)) return *m;
    raise(k.not_found, error_domain::test,
          "no domain " + std::string(k.noun) + " with matching name '" + std::string(name) + "'");
}

struct moment_request {
    std::optional<std::string> name;
    std::optional<std::string> description;
};

/// The parts of a <domainsnapshot>/<domaincheckpoint> a new moment takes: its name, its
/// description, and disks that must name the domain's disks. State, creation time and parent
/// are the driver's to set (they only count when redefining, which is not implemented).
moment_request parse_moment(const moment_kind& k, std::string_view text, const xml::domain_def& dom) {
    auto root = xml::detail::parse_document(text, k.document, k.domain);
    if (root.name != k.root)
        raise(error_code::xml_error, error_domain::xml,
              "expecting root element of '" + std::string(k.root) + "', not '" + root.name + "'");
    moment_request r;
    if (const auto* name = root.child("name")) {
        auto n = name->trimmed_text();
        if (!n.empty()) r.name = n;
    }
    if (const auto* d = root.child("description")) r.description = d->text;
    if (const auto* disks = root.child("disks")) {
        for (const auto* disk : disks->children_named("disk")) {
            const auto* name = disk->attr("name");
            if (name == nullptr) raise(error_code::xml_error, k.domain, "missing name from disk " + std::string(k.noun) + " element");
            bool known = std::any_of(dom.devices.disks.begin(), dom.devices.disks.end(),
                                     [&](const auto& d) { return d.target_dev == *name; });
            if (!known) raise(error_code::config_unsupported, k.domain, "no disk named '" + *name + "'");
        }
    }
    return r;
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// Adds a moment named as asked (else by its creation time), parented on the current one, and
/// makes it current.
moment& add_moment(const moment_kind& k, domain_obj& obj, moment_request req) {
    auto& list = obj.*k.list;
    moment m;
    m.creation_time = now_seconds();
    m.name = req.name.value_or(std::to_string(m.creation_time));
    if (list.find(m.name) != nullptr)
        raise(error_code::operation_failed, error_domain::domain, "domain moment " + m.name + " already exists");
    m.description = std::move(req.description);
    m.parent = list.current;
    m.state = obj.state;
    m.dom = obj.current();
    list.items.push_back(std::move(m));
    list.current = list.items.back().name;
    return list.items.back();
}

/// virDomainSnapshotDelete / virDomainCheckpointDelete: CHILDREN (1) removes the moment and its
/// descendants, CHILDREN_ONLY (4) only its descendants; otherwise its children move up to its
/// parent. A removed current moment hands "current" to its parent (or to the moment itself when
/// only its descendants went and one of them was current).
void delete_moment(const moment_kind& k, domain_obj& obj, std::string_view name, unsigned flags) {
    auto& list = obj.*k.list;
    auto& target = find_moment(k, obj, name);
    const std::string target_name = target.name;
    const std::optional<std::string> target_parent = target.parent;
    constexpr unsigned children = 1U, children_only = 4U;
    if (flags & (children | children_only)) {
        // collect every descendant by walking parent links
        std::vector<std::string> doomed{target_name};
        for (std::size_t i = 0; i < doomed.size(); ++i)
            for (const auto& m : list.items)
                if (m.parent && *m.parent == doomed[i]) doomed.push_back(m.name);
        bool current_went = false;
        auto gone = [&](const moment& m) {
            if (m.name == target_name) return false;
            return std::find(doomed.begin(), doomed.end(), m.name) != doomed.end();
        };
        for (const auto& m : list.items)
            if (gone(m) && list.current == m.name) current_went = true;
        std::erase_if(list.items, gone);
        if (current_went) list.current = target_name;
    } else {
        for (auto& m : list.items)
            if (m.parent && *m.parent == target_name) m.parent = target_parent;
    }
    if (!(flags & children_only)) {
        if (list.current == target_name) list.current = target_parent;
        std::erase_if(list.items, [&](const moment& m) { return m.name == target_name; });
    }
}

/// VIR_DOMAIN_SNAPSHOT_LIST_* / VIR_DOMAIN_CHECKPOINT_LIST_*: roots (1) and the leaves filters
/// (4 leaves, 8 no leaves) for both; snapshots also filter on metadata (2 / 16: all have it),
/// the domain state when taken (32 inactive, 64 active, 128 disk-only) and location (256
/// internal, 512 external: all are internal). Topological order is creation order here, which
/// already lists parents before children.
std::vector<const moment*> list_moments(const moment_kind& k, const domain_obj& obj, unsigned flags) {
    const auto& list = obj.*k.list;
    bool snapshots = k.list == &domain_obj::snapshots;
    auto pick = [&](unsigned yes, unsigned no, bool value) {
        if ((flags & (yes | no)) == 0 || (flags & (yes | no)) == (yes | no)) return true;
        return (flags & yes) ? value : !value;
    };
    std::vector<const moment*> out;
    for (const auto& m : list.items) {
        if ((flags & 1U) && m.parent) continue;
        if (!pick(4U, 8U, !list.has_children(m.name))) continue;
        if (snapshots) {
            if ((flags & 16U) && !(flags & 2U)) continue;  // every snapshot here has metadata
            unsigned status = flags & (32U | 64U | 128U);
            if (status != 0) {
                bool active = m.state != domain_state::shutoff;
                bool wanted = ((status & 32U) && !active) || ((status & 64U) && active);
                if (!wanted) continue;
            }
            if ((flags & (256U | 512U)) == 512U) continue;  // only external ones: none
        }
        out.push_back(&m);
    }
    return out;
}

std::string indented(const std::string& text, std::string_view by) {
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        out += by;
        out.append(text, start, end - start);
        out += '\n';
        start = end + 1;
    }
    return out;
}

std::string_view state_name(domain_state s) {
    switch (s) {
    case domain_state::running: return "running";
    case domain_state::blocked: return "blocked";
    case domain_state::paused: return "paused";
    case domain_state::shutdown: return "shutdown";
    case domain_state::crashed: return "crashed";
    case domain_state::pmsuspended: return "pmsuspended";
    case domain_state::shutoff: return "shutoff";
    default: return "nostate";
    }
}

/// libvirt's snapshot and checkpoint documents: header, then every disk of the domain, then
/// the domain's definition as it was (inactive layout) unless `with_domain` is false.
std::string moment_xml(const moment_kind& k, const moment& m, bool with_domain, bool secure) {
    using xml::detail::attr_text;
    using xml::detail::leaf_text;
    bool snapshot = k.list == &domain_obj::snapshots;
    std::string out = "<" + std::string(k.root) + ">\n";
    out += "  " + leaf_text("name", m.name) + "\n";
    if (m.description) out += "  " + leaf_text("description", *m.description) + "\n";
    if (snapshot) out += "  <state>" + std::string(state_name(m.state)) + "</state>\n";
    if (m.parent) out += "  <parent>\n    " + leaf_text("name", *m.parent) + "\n  </parent>\n";
    out += "  <creationTime>" + std::to_string(m.creation_time) + "</creationTime>\n";
    if (snapshot) out += std::string("  <memory snapshot='") + (m.state == domain_state::shutoff ? "no" : "internal") + "'/>\n";
    if (!m.dom.devices.disks.empty()) {
        out += "  <disks>\n";
        for (const auto& d : m.dom.devices.disks) {
            out += "    <disk" + attr_text("name", d.target_dev);
            if (snapshot)
                out += " snapshot='internal'/>\n";
            else
                out += " checkpoint='bitmap'" + attr_text("bitmap", m.name) + "/>\n";
        }
        out += "  </disks>\n";
    }
    if (with_domain) out += indented(xml::format_domain_xml(m.dom, {.inactive = true, .secure = secure}), "  ");
    out += "</" + std::string(k.root) + ">\n";
    return out;
}

/// The parent of the moment `name`, or the kind's not-found error ("snapshot 'x' does not have a parent").
moment& parent_moment(const moment_kind& k, domain_obj& obj, std::string_view name) {
    auto& m = find_moment(k, obj, name);
    if (!m.parent) raise(k.not_found, error_domain::test, std::string(k.noun) + " '" + m.name + "' does not have a parent");
    return find_moment(k, obj, *m.parent);
}

domain_snapshot_ref snap_ref(const domain_obj& obj, const moment& m) { return {m.name, obj.ref()}; }
domain_checkpoint_ref checkpoint_ref(const domain_obj& obj, const moment& m) { return {m.name, obj.ref()}; }
}  // namespace

// ---- snapshots --------------------------------------------------------------------------------

domain_snapshot_ref test::state::perform(op::domain_snapshot_create_xml, const op::domain_snapshot_create_xml::args& a) {
    pause();
    constexpr unsigned redefine = 1U << 0, current = 1U << 1, halt = 1U << 3, quiesce = 1U << 6, atomic = 1U << 7,
                       live = 1U << 8, validate = 1U << 9;
    test_detail::check_flags(a.flags, redefine | current | halt | quiesce | atomic | live | validate,
                             "testDomainSnapshotCreateXML");
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    if (!obj.checkpoints.items.empty())
        raise(error_code::operation_unsupported, error_domain::test, "cannot create snapshot while checkpoint exists");
    if (!obj.persistent && (a.flags & halt))
        raise(error_code::operation_invalid, error_domain::test, "cannot halt after transient domain snapshot");
    auto req = parse_moment(snapshot_kind, a.xml, obj.current());
    if (a.flags & redefine)
        raise(error_code::argument_unsupported, error_domain::test,
              "redefining snapshots (VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE) is not implemented by virtpp's test driver");
    if (a.flags & validate)  // virtpp has no schema for snapshots (docs/schemas): refused, not skipped
        raise(error_code::argument_unsupported, error_domain::test,
              "validating snapshot XML against a schema (VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE) is not implemented by virtpp");
    auto& m = add_moment(snapshot_kind, obj, std::move(req));
    auto ref = snap_ref(obj, m);
    if ((a.flags & halt) && obj.active()) impl_->stop(obj, 7 /* VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT */);
    return ref;
}

std::string test::state::perform(op::domain_snapshot_get_xml_desc, const op::domain_snapshot_get_xml_desc::args& a) {
    pause();
    test_detail::check_flags(a.flags, 1U /* SECURE */, "testDomainSnapshotGetXMLDesc");
    read_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.snap.dom);
    return moment_xml(snapshot_kind, find_moment(snapshot_kind, obj, a.snap.name), true, (a.flags & 1U) != 0);
}

domain_snapshot_ref test::state::perform(op::domain_snapshot_lookup_by_name, const op::domain_snapshot_lookup_by_name::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testDomainSnapshotLookupByName");
    read_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    return snap_ref(obj, find_moment(snapshot_kind, obj, a.name));
}

int test::state::perform(op::domain_snapshot_num, const op::domain_snapshot_num::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0x7ffU, "testDomainSnapshotNum");
    read_lock lock(impl_->mutex);
    return static_cast<int>(list_moments(snapshot_kind, impl_->domain(a.dom), a.flags).size());
}

std::vector<domain_snapshot_ref> test::state::perform(op::domain_list_all_snapshots, const op::domain_list_all_snapshots::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0x7ffU, "testDomainListAllSnapshots");
    read_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    std::vector<domain_snapshot_ref> out;
    for (const auto* m : list_moments(snapshot_kind, obj, a.flags)) out.push_back(snap_ref(obj, *m));
    return out;
}

bool test::state::perform(op::domain_has_current_snapshot, const op::domain_has_current_snapshot::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testDomainHasCurrentSnapshot");
    read_lock lock(impl_->mutex);
    return impl_->domain(a.dom).snapshots.current.has_value();
}

domain_snapshot_ref test::state::perform(op::domain_snapshot_current, const op::domain_snapshot_current::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testDomainSnapshotCurrent");
    read_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    if (!obj.snapshots.current)
        raise(error_code::no_domain_snapshot, error_domain::test, "the domain does not have a current snapshot");
    return snap_ref(obj, find_moment(snapshot_kind, obj, *obj.snapshots.current));
}

domain_snapshot_ref test::state::perform(op::domain_snapshot_get_parent, const op::domain_snapshot_get_parent::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testDomainSnapshotGetParent");
    read_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.snap.dom);
    return snap_ref(obj, parent_moment(snapshot_kind, obj, a.snap.name));
}

bool test::state::perform(op::domain_snapshot_is_current, const op::domain_snapshot_is_current::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testDomainSnapshotIsCurrent");
    read_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.snap.dom);
    auto& m = find_moment(snapshot_kind, obj, a.snap.name);
    return obj.snapshots.current == m.name;
}

bool test::state::perform(op::domain_snapshot_has_metadata, const op::domain_snapshot_has_metadata::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testDomainSnapshotHasMetadata");
    read_lock lock(impl_->mutex);
    (void)find_moment(snapshot_kind, impl_->domain(a.snap.dom), a.snap.name);
    return true;
}

void test::state::perform(op::domain_snapshot_delete, const op::domain_snapshot_delete::args& a) {
    pause();
    test_detail::check_flags(a.flags, 1U | 4U, "testDomainSnapshotDelete");
    write_lock lock(impl_->mutex);
    delete_moment(snapshot_kind, impl_->domain(a.snap.dom), a.snap.name, a.flags);
}

// ---- checkpoints ------------------------------------------------------------------------------

domain_checkpoint_ref test::state::perform(op::domain_checkpoint_create_xml, const op::domain_checkpoint_create_xml::args& a) {
    pause();
    constexpr unsigned redefine = 1U << 0, quiesce = 1U << 1;
    test_detail::check_flags(a.flags, redefine | quiesce, "testDomainCheckpointCreateXML");
    write_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    if (!obj.snapshots.items.empty())
        raise(error_code::operation_unsupported, error_domain::test, "cannot create checkpoint while snapshot exists");
    if (!obj.active())
        raise(error_code::operation_unsupported, error_domain::test, "cannot create checkpoint for inactive domain");
    auto req = parse_moment(checkpoint_kind, a.xml, obj.current());
    if (a.flags & redefine)
        raise(error_code::argument_unsupported, error_domain::test,
              "redefining checkpoints (VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE) is not implemented by virtpp's test driver");
    return checkpoint_ref(obj, add_moment(checkpoint_kind, obj, std::move(req)));
}

std::string test::state::perform(op::domain_checkpoint_get_xml_desc, const op::domain_checkpoint_get_xml_desc::args& a) {
    pause();
    constexpr unsigned secure = 1U << 0, no_domain = 1U << 1, size = 1U << 2;
    test_detail::check_flags(a.flags, secure | no_domain | size, "testDomainCheckpointGetXMLDesc");
    read_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.checkpoint.dom);
    auto& m = find_moment(checkpoint_kind, obj, a.checkpoint.name);
    if ((a.flags & size) && !obj.active())
        raise(error_code::operation_invalid, error_domain::test, "domain is not running");
    // SIZE only asks for a running domain: libvirt's test driver sets a size its formatter never prints
    return moment_xml(checkpoint_kind, m, (a.flags & no_domain) == 0, (a.flags & secure) != 0);
}

domain_checkpoint_ref test::state::perform(op::domain_checkpoint_lookup_by_name,
                                           const op::domain_checkpoint_lookup_by_name::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testDomainCheckpointLookupByName");
    read_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    return checkpoint_ref(obj, find_moment(checkpoint_kind, obj, a.name));
}

std::vector<domain_checkpoint_ref> test::state::perform(op::domain_list_all_checkpoints,
                                                        const op::domain_list_all_checkpoints::args& a) {
    pause();
    test_detail::check_flags(a.flags, 1U | 2U | 4U | 8U, "testDomainListAllCheckpoints");
    read_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.dom);
    std::vector<domain_checkpoint_ref> out;
    for (const auto* m : list_moments(checkpoint_kind, obj, a.flags & ~2U)) out.push_back(checkpoint_ref(obj, *m));
    return out;
}

domain_checkpoint_ref test::state::perform(op::domain_checkpoint_get_parent, const op::domain_checkpoint_get_parent::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testDomainCheckpointGetParent");
    read_lock lock(impl_->mutex);
    auto& obj = impl_->domain(a.checkpoint.dom);
    return checkpoint_ref(obj, parent_moment(checkpoint_kind, obj, a.checkpoint.name));
}

void test::state::perform(op::domain_checkpoint_delete, const op::domain_checkpoint_delete::args& a) {
    pause();
    constexpr unsigned children = 1U, metadata_only = 2U, children_only = 4U;
    test_detail::check_flags(a.flags, children | metadata_only | children_only, "testDomainCheckpointDelete");
    write_lock lock(impl_->mutex);
    delete_moment(checkpoint_kind, impl_->domain(a.checkpoint.dom), a.checkpoint.name, a.flags & ~metadata_only);
}

}  // namespace virtpp::hypervisor
