// The xend part of the Xen driver: each operation is one or two HTTP exchanges with xend, in the
// requests libvirt 0.3.x's xend driver made (see docs/xen.md for the table).
#include <virtpp/error.hpp>
#include <virtpp/hypervisor/first_of.hpp>
#include <virtpp/xen/capabilities.hpp>
#include <virtpp/xen/part_xend.hpp>
#include <virtpp/xen/sexpr.hpp>
#include <virtpp/xen/sexpr_domain.hpp>
#include <virtpp/xml/domain.hpp>

#include "hypervisor/xen_parts.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <fstream>
#include <sstream>
#include <variant>

namespace virtpp::xen {

struct xend::state::record {
    std::string name;
    int id = -1;
    virtpp::uuid uuid;
    sexpr full;
    [[nodiscard]] bool active() const noexcept { return id >= 0; }
    [[nodiscard]] domain_ref ref() const { return {name, uuid, id}; }
};

namespace {

/// The domain part of a path: bytes outside [A-Za-z0-9-_.~:@+] %-encoded.
std::string path_segment(std::string_view name) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : name) {
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     std::string_view("-_.~:@+").find(static_cast<char>(c)) != std::string_view::npos;
        if (plain) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xF];
        }
    }
    return out;
}

sexpr parse_reply(std::string_view body, std::string_view what) {
    try {
        return parse_sexpr(body);
    } catch (const virtpp::error& e) {
        raise(error_code::sexpr_serial, error_domain::xend,
              "xend's reply to " + std::string(what) + " is not an S-expression: " + e.info().message);
    }
}

std::optional<long long> to_integer(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    long long v = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc{} || end != text->data() + text->size()) return std::nullopt;
    return v;
}

/// The record's fields the driver needs; a record without a usable name or uuid is refused.
xend::state::record make_record(sexpr full, std::string_view source) {
    xend::state::record r;
    auto name = full.value("domain/name");
    if (!name || name->empty())
        raise(error_code::internal_error, error_domain::xend, "xend's domain record from " + std::string(source) + " has no name");
    r.name = *name;
    // Some xend versions give Domain-0 no uuid: it is the all-zero one then. A uuid that is
    // there but malformed is an error.
    if (auto uuid_text = full.value("domain/uuid")) {
        auto parsed = virtpp::uuid::parse(*uuid_text);
        if (!parsed)
            raise(error_code::internal_error, error_domain::xend,
                  "xend's record of domain '" + r.name + "' has an invalid uuid '" + *uuid_text + "'");
        r.uuid = *parsed;
    }
    if (auto id = to_integer(full.value("domain/domid")); id && *id >= 0 && *id <= 0x7fffffff) r.id = static_cast<int>(*id);
    r.full = std::move(full);
    return r;
}

std::uint64_t number_or_zero(const sexpr& s, std::string_view path) {
    auto v = to_integer(s.value(path));
    return v && *v > 0 ? static_cast<std::uint64_t>(*v) : 0;
}

}  // namespace

std::shared_ptr<xend::state> xend::open(context& ctx) {
    xend_client client(ctx.xend, ctx.xend_deadline);
    auto node = parse_reply(client.get_sexpr("/xend/node/"), "GET /xend/node/");
    auto format = to_integer(node.value("node/xend_config_format"));
    ctx.xend_config_version = format && *format > 0 && *format < 100 ? static_cast<int>(*format) : 1;
    return std::make_shared<state>(ctx, std::move(client));
}

xend::state::state(context& ctx, xend_client client) : ctx_(ctx), client_(std::move(client)) {}

bool xend::state::manages_inactive() const noexcept { return ctx_.xend_config_version >= xend_config_version_3_0_4; }

xend::state::record xend::state::fetch(const std::string& name) const {
    std::string path = "/xend/domain/" + path_segment(name) + "?detail=1";
    std::string body;
    try {
        body = client_.get_sexpr(path);
    } catch (const virtpp::error& e) {
        // With xend older than 3.0.4 an inactive domain is an xm file: the next part may know it.
        if (e.info().code == error_code::no_domain && !manages_inactive())
            throw hypervisor::part_declined("xend does not know '" + name + "'");
        throw;
    }
    return make_record(parse_reply(body, "GET " + path), path);
}

std::vector<xend::state::record> xend::state::fetch_all(bool inactive) const {
    std::string path = inactive ? "/xend/domain?detail=1&state=halted" : "/xend/domain?detail=1";
    auto root = parse_reply(client_.get_sexpr(path), "GET " + path);
    std::vector<record> out;
    auto take = [&](const sexpr& s) {
        auto r = make_record(s, path);
        // xend of some versions ignores state=; keep what the listing asked for.
        if (r.active() == inactive) return;
        if (std::none_of(out.begin(), out.end(), [&](const record& o) { return o.name == r.name; }))
            out.push_back(std::move(r));
    };
    if (root.head() == "domain") {
        take(root);
    } else {
        for (const auto& item : root.items()) {
            if (item.is_list() && item.head() == "domain") {
                take(item);
            } else if (item.is_atom() && !item.text().empty()) {
                // an xend that lists names only (as before detail=1): one GET per domain, as
                // libvirt 0.3's first xend driver did
                auto r = fetch(item.text());
                if (r.active() != inactive &&
                    std::none_of(out.begin(), out.end(), [&](const record& o) { return o.name == r.name; }))
                    out.push_back(std::move(r));
            }
        }
    }
    return out;
}

void xend::state::domain_op(const domain_ref& dom, std::vector<form_field> fields) const {
    client_.post_op("/xend/domain/" + path_segment(dom.name), fields);
}

// ---- connection and node --------------------------------------------------------------------

std::uint64_t xend::state::perform(op::connect_get_version, const op::none&) {
    return xen_version_from_sexpr(parse_reply(client_.get_sexpr("/xend/node/"), "GET /xend/node/"));
}

std::string xend::state::perform(op::connect_get_hostname, const op::none&) {
    if (!ctx_.local_host) {
        auto node = parse_reply(client_.get_sexpr("/xend/node/"), "GET /xend/node/");
        if (auto host = node.value("node/host"); host && !host->empty()) return *host;
    }
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) raise(error_code::system_error, error_domain::xen, "gethostname failed");
    return buf;
}

std::string xend::state::perform(op::connect_get_capabilities, const op::none&) {
    auto node = parse_reply(client_.get_sexpr("/xend/node/"), "GET /xend/node/");
    xen_caps_input in;
    in.hostarch = node.value("node/machine").value_or("");
    in.xen_caps = xen_caps_from_sexpr(node);
    if (ctx_.local_host) {
        std::ifstream cpuinfo("/proc/cpuinfo");
        std::ostringstream text;
        text << cpuinfo.rdbuf();
        in.cpuinfo = text.str();
    }
    return xen_capabilities_xml(in);
}

node_info xend::state::perform(op::node_get_info, const op::none&) {
    return node_info_from_sexpr(parse_reply(client_.get_sexpr("/xend/node/"), "GET /xend/node/"));
}

// ---- listing ----------------------------------------------------------------------------------

int xend::state::perform(op::connect_num_of_domains, const op::none&) {
    return static_cast<int>(fetch_all(false).size());
}

std::vector<int> xend::state::perform(op::connect_list_domains, const op::none&) {
    std::vector<int> ids;
    for (const auto& r : fetch_all(false)) ids.push_back(r.id);
    return ids;
}

int xend::state::perform(op::connect_num_of_defined_domains, const op::none& a) {
    return static_cast<int>(perform(op::connect_list_defined_domains{}, a).size());
}

std::vector<std::string> xend::state::perform(op::connect_list_defined_domains, const op::none&) {
    if (!manages_inactive()) throw hypervisor::part_declined("xend older than 3.0.4 keeps no inactive domains");
    std::vector<std::string> names;
    for (const auto& r : fetch_all(true)) names.push_back(r.name);
    return names;
}

std::vector<domain_ref> xend::state::perform(op::connect_list_all_domains, const op::connect_list_all_domains::args& a) {
    auto all = fetch_all(false);
    if (manages_inactive()) {
        auto inactive = fetch_all(true);
        for (auto& r : inactive)
            if (std::none_of(all.begin(), all.end(), [&](const record& o) { return o.name == r.name; }))
                all.push_back(std::move(r));
    }
    // With xend older than 3.0.4, inactive domains are xm files: listed as shut off, persistent.
    std::vector<domain_ref> elsewhere;
    if (!manages_inactive() && ctx_.defined_elsewhere) elsewhere = ctx_.defined_elsewhere();
    auto pick = [&](unsigned yes, unsigned no, bool v) {
        bool want_yes = (a.flags & yes) != 0, want_no = (a.flags & no) != 0;
        return (!want_yes && !want_no) || (want_yes && v) || (want_no && !v);
    };
    std::vector<domain_ref> out;
    for (const auto& r : all) {
        auto info = domain_info_from_record(r.full, ctx_.xend_config_version);
        bool running = info.state == domain_state::running || info.state == domain_state::blocked;
        bool paused = info.state == domain_state::paused, shutoff = !r.active();
        if (!pick(list_flags::active, list_flags::inactive, r.active())) continue;
        if (!pick(list_flags::persistent, list_flags::transient, manages_inactive())) continue;
        if (!pick(list_flags::autostart, list_flags::no_autostart, false)) continue;
        if (!pick(list_flags::managedsave, list_flags::no_managedsave, false)) continue;
        if (!pick(list_flags::has_snapshot, list_flags::no_snapshot, false)) continue;
        unsigned state_mask = list_flags::running | list_flags::paused | list_flags::shutoff | list_flags::other;
        if ((a.flags & state_mask) != 0) {
            bool ok = ((a.flags & list_flags::running) != 0 && running) || ((a.flags & list_flags::paused) != 0 && paused) ||
                      ((a.flags & list_flags::shutoff) != 0 && shutoff) ||
                      ((a.flags & list_flags::other) != 0 && !running && !paused && !shutoff);
            if (!ok) continue;
        }
        out.push_back(r.ref());
    }
    bool want_inactive = pick(list_flags::active, list_flags::inactive, false) &&
                         pick(list_flags::persistent, list_flags::transient, true) &&
                         pick(list_flags::autostart, list_flags::no_autostart, false) &&
                         pick(list_flags::managedsave, list_flags::no_managedsave, false) &&
                         pick(list_flags::has_snapshot, list_flags::no_snapshot, false) &&
                         ((a.flags & (list_flags::running | list_flags::paused | list_flags::shutoff | list_flags::other)) == 0 ||
                          (a.flags & list_flags::shutoff) != 0);
    if (want_inactive)
        for (auto& ref : elsewhere)
            if (std::none_of(out.begin(), out.end(), [&](const domain_ref& o) { return o.name == ref.name; }))
                out.push_back(std::move(ref));
    return out;
}

// ---- lookup -----------------------------------------------------------------------------------

domain_ref xend::state::perform(op::domain_lookup_by_id, const op::domain_lookup_by_id::args& a) {
    for (const auto& r : fetch_all(false))
        if (r.id == a.id) return r.ref();
    raise(error_code::no_domain, error_domain::xen, "no domain with matching id " + std::to_string(a.id));
}

domain_ref xend::state::perform(op::domain_lookup_by_name, const op::domain_lookup_by_name::args& a) {
    return fetch(a.name).ref();
}

domain_ref xend::state::perform(op::domain_lookup_by_uuid, const op::domain_lookup_by_uuid::args& a) {
    for (const auto& r : fetch_all(false))
        if (r.uuid == a.uuid) return r.ref();
    if (manages_inactive()) {
        for (const auto& r : fetch_all(true))
            if (r.uuid == a.uuid) return r.ref();
        raise(error_code::no_domain, error_domain::xen, "no domain with matching uuid '" + a.uuid.str() + "'");
    }
    throw hypervisor::part_declined("no running domain has uuid " + a.uuid.str());
}

// ---- lifecycle --------------------------------------------------------------------------------

domain_ref xend::state::perform(op::domain_create_xml, const op::domain_create_xml::args& a) {
    auto def = xml::parse_domain_xml(a.xml);
    client_.post_op("/xend/domain", {{"op", "create"}, {"config", domain_to_sexpr_text(def, ctx_.xend_config_version)}});
    // xend creates the domain paused; libvirt looked it up and unpaused it.
    record r;
    try {
        r = fetch(def.name);
        client_.post_op("/xend/domain/" + path_segment(r.name), {{"op", "unpause"}});
    } catch (...) {
        try {
            client_.post_op("/xend/domain/" + path_segment(def.name), {{"op", "destroy"}});
        } catch (const virtpp::error&) {  // the first error is the one to report
        }
        throw;
    }
    return r.ref();
}

domain_ref xend::state::perform(op::domain_define_xml, const op::domain_define_xml::args& a) {
    if (!manages_inactive()) throw hypervisor::part_declined("xend older than 3.0.4 cannot define domains");
    auto def = xml::parse_domain_xml(a.xml);
    client_.post_op("/xend/domain", {{"op", "new"}, {"config", domain_to_sexpr_text(def, ctx_.xend_config_version)}});
    return fetch(def.name).ref();
}

void xend::state::perform(op::domain_undefine, const op::domain_undefine::args& a) {
    if (!manages_inactive()) throw hypervisor::part_declined("xend older than 3.0.4 keeps no definitions");
    domain_op(a.dom, {{"op", "delete"}});
}

domain_ref xend::state::perform(op::domain_create, const op::domain_create::args& a) {
    if (!manages_inactive()) throw hypervisor::part_declined("xend older than 3.0.4 cannot start a definition");
    domain_op(a.dom, {{"op", "start"}});
    return fetch(a.dom.name).ref();
}

void xend::state::perform(op::domain_suspend, const op::domain_suspend::args& a) { domain_op(a.dom, {{"op", "pause"}}); }
void xend::state::perform(op::domain_resume, const op::domain_resume::args& a) { domain_op(a.dom, {{"op", "unpause"}}); }
void xend::state::perform(op::domain_shutdown, const op::domain_shutdown::args& a) {
    domain_op(a.dom, {{"op", "shutdown"}, {"reason", "halt"}});
}
void xend::state::perform(op::domain_reboot, const op::domain_reboot::args& a) {
    domain_op(a.dom, {{"op", "shutdown"}, {"reason", "reboot"}});
}
void xend::state::perform(op::domain_destroy, const op::domain_destroy::args& a) { domain_op(a.dom, {{"op", "destroy"}}); }
void xend::state::perform(op::domain_save, const op::domain_save::args& a) {
    domain_op(a.dom, {{"op", "save"}, {"file", a.path}});
}
void xend::state::perform(op::domain_restore, const op::domain_restore::args& a) {
    client_.post_op("/xend/domain", {{"op", "restore"}, {"file", a.path}});
}
void xend::state::perform(op::domain_core_dump, const op::domain_core_dump::args& a) {
    constexpr unsigned dump_crash = 1, dump_live = 2;  // VIR_DUMP_CRASH, VIR_DUMP_LIVE
    domain_op(a.dom, {{"op", "dump"},
                      {"file", a.path},
                      {"live", (a.flags & dump_live) ? "1" : "0"},
                      {"crash", (a.flags & dump_crash) ? "1" : "0"}});
}

// ---- properties -------------------------------------------------------------------------------

domain_info xend::state::perform(op::domain_get_info, const op::domain_get_info::args& a) {
    return domain_info_from_record(fetch(a.dom.name).full, ctx_.xend_config_version);
}

domain_state_info xend::state::perform(op::domain_get_state, const op::domain_get_state::args& a) {
    return {domain_info_from_record(fetch(a.dom.name).full, ctx_.xend_config_version).state, 0};
}

std::string xend::state::perform(op::domain_get_os_type, const op::domain_get_os_type::args& a) {
    return fetch(a.dom.name).full.find("domain/image/hvm") ? "hvm" : "linux";
}

std::string xend::state::perform(op::domain_get_xml_desc, const op::domain_get_xml_desc::args& a) {
    auto r = fetch(a.dom.name);
    sexpr_runtime runtime;
    if (r.active() && ctx_.runtime_of) runtime = ctx_.runtime_of(r.id);
    auto def = domain_from_sexpr(r.full, ctx_.xend_config_version, runtime);
    constexpr unsigned xml_secure = 1, xml_inactive = 2;  // VIR_DOMAIN_XML_SECURE, VIR_DOMAIN_XML_INACTIVE
    return xml::format_domain_xml(def, {.inactive = (a.flags & xml_inactive) != 0 || !r.active(),
                                        .secure = (a.flags & xml_secure) != 0});
}

bool xend::state::perform(op::domain_is_active, const op::domain_is_active::args& a) { return fetch(a.dom.name).active(); }

bool xend::state::perform(op::domain_is_persistent, const op::domain_is_persistent::args& a) {
    if (!manages_inactive()) throw hypervisor::part_declined("with xend older than 3.0.4 a definition is an xm file");
    (void)fetch(a.dom.name);  // NO_DOMAIN when xend does not know it
    return true;
}

bool xend::state::perform(op::domain_get_autostart, const op::domain_get_autostart::args& a) {
    if (!manages_inactive()) throw hypervisor::part_declined("xend older than 3.0.4 does not start domains itself");
    return fetch(a.dom.name).full.value("domain/on_xend_start") == "start";
}

std::uint64_t xend::state::perform(op::domain_get_max_memory, const op::domain_get_max_memory::args& a) {
    return domain_info_from_record(fetch(a.dom.name).full, ctx_.xend_config_version).max_memory_kib;
}

void xend::state::perform(op::domain_set_max_memory, const op::domain_set_max_memory::args& a) {
    domain_op(a.dom, {{"op", "maxmem_set"}, {"memory", std::to_string(a.kib >> 10)}});
}

void xend::state::perform(op::domain_set_memory, const op::domain_set_memory::args& a) {
    if (a.flags & affect::maximum) {  // virsh setmaxmem
        domain_op(a.dom, {{"op", "maxmem_set"}, {"memory", std::to_string(a.kib >> 10)}});
        return;
    }
    domain_op(a.dom, {{"op", "mem_target_set"}, {"target", std::to_string(a.kib >> 10)}});
}

int xend::state::perform(op::domain_get_max_vcpus, const op::domain_get_max_vcpus::args& a) {
    return static_cast<int>(domain_info_from_record(fetch(a.dom.name).full, ctx_.xend_config_version).vcpus);
}

void xend::state::perform(op::domain_set_vcpus, const op::domain_set_vcpus::args& a) {
    if (a.count == 0) raise(error_code::invalid_arg, error_domain::xen, "a domain needs at least one vcpu");
    if (a.flags & affect::maximum)
        raise(error_code::no_support, error_domain::xen, "xend cannot change a domain's maximum vcpus (setvcpus --maximum)");
    domain_op(a.dom, {{"op", "set_vcpus"}, {"vcpus", std::to_string(a.count)}});
}

int xend::state::perform(op::domain_get_vcpus_flags, const op::domain_get_vcpus_flags::args& a) {
    auto r = fetch(a.dom.name);
    constexpr unsigned vcpu_maximum = 4;  // VIR_DOMAIN_VCPU_MAXIMUM
    auto all = number_or_zero(r.full, "domain/vcpus");
    if ((a.flags & vcpu_maximum) == 0) {
        if (auto online = to_integer(r.full.value("domain/online_vcpus")); online && *online > 0)
            return static_cast<int>(*online);
    }
    return static_cast<int>(all);
}

void xend::state::perform(op::domain_pin_vcpu, const op::domain_pin_vcpu::args& a) {
    std::string map = "[";
    for (std::size_t cpu = 0; cpu < a.cpumap.size(); ++cpu)
        if (a.cpumap[cpu]) map += (map.size() > 1 ? "," : "") + std::to_string(cpu);
    map += "]";
    if (map == "[]") raise(error_code::invalid_arg, error_domain::xen, "the CPU map of vcpu " + std::to_string(a.vcpu) + " is empty");
    domain_op(a.dom, {{"op", "pincpu"}, {"vcpu", std::to_string(a.vcpu)}, {"cpumap", map}});
}

// ---- autostart ---------------------------------------------------------------------------------

void xend::state::perform(op::domain_set_autostart, const op::domain_set_autostart::args& a) {
    if (!manages_inactive())
        raise(error_code::no_support, error_domain::xen, "xend older than 3.0.4 does not start domains itself (no on_xend_start)");
    auto r = fetch(a.dom.name);
    // as libvirt: the record with on_xend_start changed goes back to xend as a new definition
    sexpr updated = r.full;
    auto& items = updated.items();
    auto it = std::find_if(items.begin(), items.end(), [](const sexpr& s) { return s.head() == "on_xend_start"; });
    sexpr setting = sexpr::pair("on_xend_start", a.autostart ? "start" : "ignore");
    if (it != items.end()) *it = std::move(setting);
    else updated.push(std::move(setting));
    client_.post_op("/xend/domain", {{"op", "new"}, {"config", format_sexpr(updated)}});
}

// ---- the credit scheduler ----------------------------------------------------------------------

namespace {

/// The record's (cpu_weight N) / (cpu_cap N), which xend 3.1's credit scheduler reports.
std::uint32_t credit_value(const sexpr& full, std::string_view key, const std::string& name) {
    auto v = to_integer(full.value("domain/" + std::string(key)));
    if (!v || *v < 0 || *v > 0xffffffffLL)
        raise(error_code::internal_error, error_domain::xend,
              "xend's record of domain '" + name + "' lacks a valid " + std::string(key));
    return static_cast<std::uint32_t>(*v);
}

void check_scheduler_flags(unsigned flags, std::string_view api) {
    if (flags & ~affect::live)
        raise(error_code::no_support, error_domain::xen,
              std::string(api) + ": xend's scheduler parameters are those of the running domain only (no --config)");
}

}  // namespace

scheduler_type xend::state::perform(op::domain_get_scheduler_type, const op::domain_get_scheduler_type::args& a) {
    (void)fetch(a.dom.name);  // NO_DOMAIN for a domain xend does not know
    auto node = parse_reply(client_.get_sexpr("/xend/node/"), "GET /xend/node/");
    auto scheduler = node.value("node/xen_scheduler");
    if (!scheduler)
        raise(error_code::internal_error, error_domain::xend, "xend's node information lacks the scheduler name (xen_scheduler)");
    if (*scheduler == "credit") return {"credit", 2};
    if (*scheduler == "sedf") return {"sedf", 0};  // libvirt offered no sedf parameters either
    raise(error_code::internal_error, error_domain::xend, "unknown Xen scheduler '" + *scheduler + "'");
}

std::vector<typed_param> xend::state::perform(op::domain_get_scheduler_parameters,
                                              const op::domain_get_scheduler_parameters::args& a) {
    check_scheduler_flags(a.flags, "virDomainGetSchedulerParametersFlags");
    auto type = perform(op::domain_get_scheduler_type{}, op::domain_get_scheduler_type::args{a.dom});
    if (type.name != "credit")
        raise(error_code::no_support, error_domain::xen, "xend's scheduler parameters are the credit scheduler's; this Xen runs " + type.name);
    auto r = fetch(a.dom.name);
    return {{"weight", credit_value(r.full, "cpu_weight", r.name)}, {"cap", credit_value(r.full, "cpu_cap", r.name)}};
}

void xend::state::perform(op::domain_set_scheduler_parameters, const op::domain_set_scheduler_parameters::args& a) {
    check_scheduler_flags(a.flags, "virDomainSetSchedulerParametersFlags");
    static constexpr std::string_view type_names[] = {"int", "uint", "llong", "ullong", "double", "boolean", "string"};
    for (const auto& p : a.params) {
        if (p.field != "weight" && p.field != "cap")
            raise(error_code::invalid_arg, error_domain::xen, "parameter '" + p.field + "' not supported by the credit scheduler");
        if (!std::holds_alternative<std::uint32_t>(p.value))
            raise(error_code::invalid_arg, error_domain::xen,
                  "invalid type '" + std::string(type_names[p.value.index()]) + "' for parameter '" + p.field + "', expected 'uint'");
    }
    auto current = perform(op::domain_get_scheduler_parameters{}, op::domain_get_scheduler_parameters::args{a.dom, a.flags});
    std::uint32_t weight = std::get<std::uint32_t>(current[0].value), cap = std::get<std::uint32_t>(current[1].value);
    // as libvirt: a parameter not given keeps its current value
    for (const auto& p : a.params) (p.field == "weight" ? weight : cap) = std::get<std::uint32_t>(p.value);
    if (weight == 0 || weight > 65535)
        raise(error_code::invalid_arg, error_domain::xen, "credit scheduler weight " + std::to_string(weight) + " is out of range (1-65535)");
    domain_op(a.dom, {{"op", "domain_sched_credit_set"}, {"weight", std::to_string(weight)}, {"cap", std::to_string(cap)}});
}

// ---- devices -----------------------------------------------------------------------------------

namespace {

/// Xen's device number of a block device name (blkif's blkdev_name_to_number): xvdX 202, sdX 8,
/// hda/hdb 3, hdc/hdd 22 (major << 8, then 16 minors a disk, 64 an IDE unit), a number as it is.
std::optional<unsigned> block_device_number(std::string_view name) {
    if (auto colon = name.find(':'); colon != std::string_view::npos) name = name.substr(0, colon);  // hda:cdrom
    if (name.rfind("ioemu:", 0) == 0) name.remove_prefix(6);
    if (!name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }) && name.size() < 9)
        return static_cast<unsigned>(std::stoul(std::string(name)));
    auto letter_and_partition = [](std::string_view rest, unsigned letters) -> std::optional<std::pair<unsigned, unsigned>> {
        if (rest.empty() || rest[0] < 'a' || rest[0] >= static_cast<char>('a' + letters)) return std::nullopt;
        unsigned part = 0;
        for (char c : rest.substr(1)) {
            if (c < '0' || c > '9' || part > 15) return std::nullopt;
            part = part * 10 + static_cast<unsigned>(c - '0');
        }
        if (part > 15) return std::nullopt;
        return std::pair{static_cast<unsigned>(rest[0] - 'a'), part};
    };
    if (name.rfind("xvd", 0) == 0)
        if (auto lp = letter_and_partition(name.substr(3), 16)) return (202U << 8) + lp->first * 16 + lp->second;
    if (name.rfind("sd", 0) == 0)
        if (auto lp = letter_and_partition(name.substr(2), 16)) return (8U << 8) + lp->first * 16 + lp->second;
    if (name.rfind("hd", 0) == 0)
        if (auto lp = letter_and_partition(name.substr(2), 4); lp && lp->second < 64)
            return ((lp->first < 2 ? 3U : 22U) << 8) + (lp->first % 2) * 64 + lp->second;
    return std::nullopt;
}

bool same_mac(std::string_view x, std::string_view y) {
    return x.size() == y.size() &&
           std::equal(x.begin(), x.end(), y.begin(), [](char p, char q) { return std::tolower(static_cast<unsigned char>(p)) == std::tolower(static_cast<unsigned char>(q)); });
}

/// --config alone (an inactive definition's devices) is not what xend's device ops change.
void check_hotplug_flags(unsigned flags, std::string_view api) {
    if (flags & ~(affect::live | affect::config))
        raise(error_code::invalid_arg, error_domain::xen, std::string(api) + ": unsupported flags (0x" + [&] {
                  char buf[16];
                  std::snprintf(buf, sizeof buf, "%x", flags & ~(affect::live | affect::config));
                  return std::string(buf);
              }() + ")");
    if ((flags & affect::config) && !(flags & affect::live))
        raise(error_code::no_support, error_domain::xen,
              std::string(api) + ": xend changes the devices of running domains only (--config without --live)");
}

}  // namespace

void xend::state::perform(op::domain_attach_device, const op::domain_attach_device::args& a) {
    check_hotplug_flags(a.flags, "virDomainAttachDeviceFlags");
    auto dev = xml::parse_device_xml(a.xml, "Xen", error_domain::xen);
    auto r = fetch(a.dom.name);
    if (!r.active()) raise(error_code::operation_invalid, error_domain::xen, "domain '" + r.name + "' is not running");
    bool hvm = r.full.find("domain/image/hvm") != nullptr;
    sexpr device = dev.disk ? disk_to_sexpr(*dev.disk, hvm, ctx_.xend_config_version)
                            : interface_to_sexpr(*dev.interface, hvm, ctx_.xend_config_version);
    // xend takes the device's own list, without libvirt's (device ...) wrapper
    const sexpr& config = device.items().size() == 2 ? device.items()[1] : device;
    domain_op(a.dom, {{"op", "device_create"}, {"config", format_sexpr(config)}});
}

void xend::state::perform(op::domain_detach_device, const op::domain_detach_device::args& a) {
    check_hotplug_flags(a.flags, "virDomainDetachDeviceFlags");
    auto dev = xml::parse_device_xml(a.xml, "Xen", error_domain::xen);
    auto r = fetch(a.dom.name);
    if (!r.active()) raise(error_code::operation_invalid, error_domain::xen, "domain '" + r.name + "' is not running");
    std::string type, id;
    if (dev.disk) {
        auto number = block_device_number(dev.disk->target_dev);
        if (!number)
            raise(error_code::invalid_arg, error_domain::xen, "cannot tell Xen's device number of disk target '" + dev.disk->target_dev + "'");
        std::string driver = dev.disk->driver_name.value_or("");
        type = driver == "tap" || driver == "tap2" ? driver : "vbd";
        id = std::to_string(*number);
    } else {
        // Xen numbers a domain's vifs in the order they were created, which is the record's order
        if (!dev.interface->mac)
            raise(error_code::invalid_arg, error_domain::xen, "detaching an interface needs its <mac address=.../>");
        int index = 0;
        bool found = false;
        for (const auto* d : r.full.children("device")) {
            for (const auto& item : d->items()) {
                if (item.head() != "vif") continue;
                if (same_mac(item.value("vif/mac").value_or(""), *dev.interface->mac)) {
                    found = true;
                    break;
                }
                ++index;
            }
            if (found) break;
        }
        if (!found)
            raise(error_code::operation_failed, error_domain::xen,
                  "domain '" + r.name + "' has no interface with MAC address " + *dev.interface->mac);
        type = "vif";
        id = std::to_string(index);
    }
    domain_op(a.dom, {{"op", "device_destroy"}, {"type", type}, {"dev", id}});
}

// ---- migration ---------------------------------------------------------------------------------

namespace {

constexpr std::uint16_t xend_relocation_port = 8002;

/// What xend's op=migrate can do: live or not, to a host; nothing else (libvirt's Xen driver
/// refused the rest the same way).
void check_migration(unsigned flags, const std::optional<std::string>& dname, std::uint64_t bandwidth) {
    if (dname) raise(error_code::no_support, error_domain::xen, "Xen does not support renaming domains during migration");
    if (bandwidth) raise(error_code::no_support, error_domain::xen, "Xen does not support bandwidth limits during migration");
    if (flags & migrate_flags::paused)
        raise(error_code::no_support, error_domain::xen, "xend cannot migrate a domain and leave it paused (--suspend, or a paused domain)");
    unsigned unsupported = flags & ~migrate_flags::live;
    if (unsupported) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "0x%x", unsupported);
        raise(error_code::no_support, error_domain::xen, std::string("xend's migration does not support the flags ") + buf +
                                                             " (only --live)");
    }
}

/// "xenmigr://host[:port]/" or a bare host name -> host and port (8002, xend's relocation port).
std::pair<std::string, std::uint16_t> migration_target(std::string_view uri) {
    auto sep = uri.find("//");
    if (sep == std::string_view::npos) {
        if (uri.empty() || uri.find_first_of("/ ") != std::string_view::npos)
            raise(error_code::invalid_arg, error_domain::xen, "invalid migration URI '" + std::string(uri) + "'");
        return {std::string(uri), xend_relocation_port};
    }
    if (uri.substr(0, sep) != "xenmigr:")
        raise(error_code::invalid_arg, error_domain::xen,
              "only xenmigr:// migrations are supported by Xen (not '" + std::string(uri) + "')");
    std::string_view rest = uri.substr(sep + 2);
    rest = rest.substr(0, rest.find('/'));
    std::string_view host = rest, port_text;
    if (!rest.empty() && rest[0] == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos) raise(error_code::invalid_arg, error_domain::xen, "invalid migration URI '" + std::string(uri) + "'");
        host = rest.substr(1, close - 1);
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':') raise(error_code::invalid_arg, error_domain::xen, "invalid migration URI '" + std::string(uri) + "'");
            port_text = rest.substr(close + 2);
        }
    } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port_text = rest.substr(colon + 1);
    }
    if (host.empty()) raise(error_code::invalid_arg, error_domain::xen, "a hostname must be specified in the migration URI '" + std::string(uri) + "'");
    std::uint16_t port = xend_relocation_port;
    if (!port_text.empty()) {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 || value > 65535)
            raise(error_code::invalid_arg, error_domain::xen, "invalid port in migration URI '" + std::string(uri) + "'");
        port = static_cast<std::uint16_t>(value);
    }
    return {std::string(host), port};
}

}  // namespace

op::domain_migrate_begin::result xend::state::perform(op::domain_migrate_begin, const op::domain_migrate_begin::args& a) {
    check_migration(a.flags, a.dname, a.bandwidth);
    if (a.xmlin) raise(error_code::no_support, error_domain::xen, "xend migrates a domain as it is: no destination XML");
    auto r = fetch(a.dom.name);
    if (!r.active()) raise(error_code::operation_invalid, error_domain::xen, "domain '" + r.name + "' is not running");
    auto def = domain_from_sexpr(r.full, ctx_.xend_config_version);
    return {{}, xml::format_domain_xml(def, {.inactive = true, .secure = true})};
}

op::domain_migrate_prepare::result xend::state::perform(op::domain_migrate_prepare, const op::domain_migrate_prepare::args& a) {
    check_migration(a.flags, a.dname, a.bandwidth);
    op::domain_migrate_prepare::result out;
    if (a.uri_in) return out;
    // Without a URI the source's xend sends the guest to this host's relocation port (libvirt
    // named the host by its hostname; a TCP xend is named as the connection named it).
    std::string host = !ctx_.xend.is_unix() && !ctx_.local_host ? ctx_.xend.host : perform(op::connect_get_hostname{}, op::none{});
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    out.uri_out = "xenmigr://" + host + "/";
    return out;
}

op::migrate_cookie xend::state::perform(op::domain_migrate_perform, const op::domain_migrate_perform::args& a) {
    check_migration(a.flags, a.dname, a.bandwidth);
    if (!a.uri) raise(error_code::invalid_arg, error_domain::xen, "xend needs a migration URI (xenmigr://host[:port]/)");
    auto [host, port] = migration_target(*a.uri);
    domain_op(a.dom, {{"op", "migrate"},
                      {"destination", host},
                      {"live", (a.flags & migrate_flags::live) ? "1" : "0"},
                      {"port", std::to_string(port)},
                      {"resource", "0"}});
    return {};
}

op::domain_migrate_finish::result xend::state::perform(op::domain_migrate_finish, const op::domain_migrate_finish::args& a) {
    // The destination xend received the guest by itself: nothing to undo when cancelled.
    if (a.cancelled) return {domain_ref{a.name, {}, -1}, {}};
    auto r = fetch(a.name);
    if (!r.active())
        raise(error_code::operation_failed, error_domain::xen, "domain '" + a.name + "' did not arrive running on the destination xend");
    return {r.ref(), {}};
}

void xend::state::perform(op::domain_migrate_confirm, const op::domain_migrate_confirm::args&) {
    // op=migrate was the whole of the source's side: xend already removed the guest (or, on
    // failure, kept it running); there is nothing left to confirm or undo.
}

// ---- shared with the other parts --------------------------------------------------------------

domain_info domain_info_from_record(const sexpr& full, int xend_config_version) {
    domain_info info;
    if (auto flags = full.value("domain/state"); flags && flags->find_first_not_of('-') != std::string::npos) {
        auto has = [&](char c) { return flags->find(c) != std::string::npos; };
        if (has('c')) info.state = domain_state::crashed;
        else if (has('s') || has('d')) info.state = domain_state::shutdown;
        else if (has('p')) info.state = domain_state::paused;
        else if (has('b')) info.state = domain_state::blocked;
        else if (has('r')) info.state = domain_state::running;
    } else {
        // Inactive domains have no state; xend 3.0.4 and later manage them: they are shut off.
        info.state = xend_config_version >= xend_config_version_3_0_4 || !full.value("domain/domid")
                         ? domain_state::shutoff
                         : domain_state::nostate;
    }
    info.memory_kib = number_or_zero(full, "domain/memory") << 10;
    info.max_memory_kib = number_or_zero(full, "domain/maxmem") << 10;
    if (info.max_memory_kib == 0) info.max_memory_kib = info.memory_kib;
    info.vcpus = static_cast<unsigned>(number_or_zero(full, "domain/vcpus"));
    if (auto t = full.value("domain/cpu_time")) {
        char* end = nullptr;
        double seconds = std::strtod(t->c_str(), &end);
        if (end && *end == '\0' && std::isfinite(seconds) && seconds > 0 && seconds < 1e10)
            info.cpu_time_ns = static_cast<std::uint64_t>(seconds * 1e9);
    }
    return info;
}

}  // namespace virtpp::xen
