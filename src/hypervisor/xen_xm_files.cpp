// The xm-files part: inactive domains as xm configuration files, for xend older than 3.0.4.
#include <virtpp/error.hpp>
#include <virtpp/hypervisor/first_of.hpp>
#include <virtpp/xen/part_xm_files.hpp>
#include <virtpp/xen/sexpr.hpp>
#include <virtpp/xen/sexpr_domain.hpp>
#include <virtpp/xen/xend_client.hpp>
#include <virtpp/xen/xm_config.hpp>

#include "file_io.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace virtpp::xen {

namespace {

/// Files in /etc/xen that are not domain configurations (libvirt 0.3.2 skipped the same).
bool is_config_candidate(const std::string& name) {
    if (name.empty() || name[0] == '.' || name.back() == '~') return false;
    if (name.starts_with("xend-config") || name.starts_with("xend-pci") || name.starts_with("xmexample") ||
        name.starts_with("qemu-ifup") || name == "scripts" || name == "auto" || name == "README")
        return false;
    if (name.ends_with(".rpmsave") || name.ends_with(".rpmnew") || name.ends_with(".new") || name.ends_with(".sxp"))
        return false;
    return true;
}

/// Names of the domains xend runs (GET /xend/domain), so running ones are not listed as defined.
std::vector<std::string> running_names(const context& ctx) {
    std::vector<std::string> names;
    try {
        xend_client client(ctx.xend, ctx.xend_deadline);
        auto root = parse_sexpr(client.get_sexpr("/xend/domain"));
        if (root.is_atom()) names.push_back(root.text());
        for (const auto& item : root.items())
            if (item.is_atom()) names.push_back(item.text());
    } catch (const virtpp::error&) {
        // No xend: nothing runs that we could know of.
    }
    return names;
}

}  // namespace

std::shared_ptr<xm_files::state> xm_files::open(context& ctx) {
    if (!ctx.local_host) throw hypervisor::part_declined("xm files are only read on the Xen host itself");
    struct stat st{};
    if (::stat(ctx.xm_config_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw hypervisor::part_declined("no xm configuration directory " + ctx.xm_config_dir);
    auto part = std::make_shared<state>(ctx);
    std::weak_ptr<state> weak = part;
    ctx.defined_elsewhere = [weak]() {
        std::vector<domain_ref> out;
        if (auto s = weak.lock()) {
            try {
                for (const auto& name : s->perform(op::connect_list_defined_domains{}, op::none{}))
                    out.push_back(s->perform(op::domain_lookup_by_name{}, {name}));
            } catch (const hypervisor::part_declined&) {  // xend manages inactive domains itself
            }
        }
        return out;
    };
    return part;
}

xm_files::state::state(context& ctx) : ctx_(ctx) {}

void xm_files::state::require_old_xend() const {
    if (ctx_.xend_config_version >= xend_config_version_3_0_4)
        throw hypervisor::part_declined("xend 3.0.4 or later keeps inactive domains itself");
}

std::vector<xm_files::state::entry> xm_files::state::definitions() const {
    std::vector<entry> out;
    DIR* dir = ::opendir(ctx_.xm_config_dir.c_str());
    if (!dir) return out;
    std::vector<std::string> files;
    while (auto* e = ::readdir(dir))
        if (is_config_candidate(e->d_name)) files.emplace_back(e->d_name);
    ::closedir(dir);
    std::sort(files.begin(), files.end());
    int version = ctx_.xend_config_version > 0 ? ctx_.xend_config_version : xend_config_version_3_0_3;
    for (const auto& f : files) {
        std::string path = ctx_.xm_config_dir + "/" + f;
        struct stat st{};
        if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 1024 * 1024) continue;
        auto text = file_io::read_file(path, error_domain::xenxm);
        if (!text) continue;
        try {
            out.push_back({path, domain_from_xm_text(*text, version)});
        } catch (const virtpp::error&) {
            // Not a domain configuration we can read: skipped, as libvirt's XM driver did.
        }
    }
    return out;
}

std::optional<xm_files::state::entry> xm_files::state::find(const std::string& name) const {
    for (auto& e : definitions())
        if (e.def.name == name) return std::move(e);
    return std::nullopt;
}

std::vector<std::string> xm_files::state::perform(op::connect_list_defined_domains, const op::none&) {
    require_old_xend();
    auto running = running_names(ctx_);
    std::vector<std::string> names;
    for (const auto& e : definitions())
        if (std::find(running.begin(), running.end(), e.def.name) == running.end()) names.push_back(e.def.name);
    return names;
}

int xm_files::state::perform(op::connect_num_of_defined_domains, const op::none& a) {
    return static_cast<int>(perform(op::connect_list_defined_domains{}, a).size());
}

domain_ref xm_files::state::perform(op::domain_lookup_by_name, const op::domain_lookup_by_name::args& a) {
    require_old_xend();
    auto e = find(a.name);
    if (!e) raise(error_code::no_domain, error_domain::xenxm, "no domain with matching name '" + a.name + "'");
    return {e->def.name, e->def.uuid.value_or(virtpp::uuid{}), -1};
}

domain_ref xm_files::state::perform(op::domain_lookup_by_uuid, const op::domain_lookup_by_uuid::args& a) {
    require_old_xend();
    for (const auto& e : definitions())
        if (e.def.uuid && *e.def.uuid == a.uuid) return {e.def.name, *e.def.uuid, -1};
    raise(error_code::no_domain, error_domain::xenxm, "no domain with matching uuid '" + a.uuid.str() + "'");
}

void xm_files::state::write(const xml::domain_def& def, const std::string& file) const {
    int version = ctx_.xend_config_version > 0 ? ctx_.xend_config_version : xend_config_version_3_0_3;
    file_io::write_file_atomic(file, domain_to_xm_text(def, version), error_domain::xenxm);
}

domain_ref xm_files::state::perform(op::domain_define_xml, const op::domain_define_xml::args& a) {
    require_old_xend();
    auto def = xml::parse_domain_xml(a.xml);
    if (def.name.empty() || def.name.find('/') != std::string::npos || def.name[0] == '.')
        raise(error_code::invalid_arg, error_domain::xenxm, "domain name '" + def.name + "' cannot be a file name");
    if (!def.uuid) def.uuid = virtpp::uuid::generate();
    auto existing = find(def.name);
    if (!existing) {
        for (const auto& e : definitions())
            if (e.def.uuid && *e.def.uuid == *def.uuid)
                raise(error_code::operation_failed, error_domain::xenxm,
                      "domain '" + e.def.name + "' is already defined with uuid " + def.uuid->str());
    }
    write(def, existing ? existing->file : ctx_.xm_config_dir + "/" + def.name);
    return {def.name, *def.uuid, -1};
}

void xm_files::state::perform(op::domain_undefine, const op::domain_undefine::args& a) {
    require_old_xend();
    if (a.dom.id >= 0) raise(error_code::operation_invalid, error_domain::xenxm, "domain '" + a.dom.name + "' is running");
    auto e = find(a.dom.name);
    if (!e) raise(error_code::no_domain, error_domain::xenxm, "no domain with matching name '" + a.dom.name + "'");
    if (::unlink(e->file.c_str()) != 0)
        raise(error_code::system_error, error_domain::xenxm, "cannot remove " + e->file + ": " + std::strerror(errno));
}

domain_ref xm_files::state::perform(op::domain_create, const op::domain_create::args& a) {
    require_old_xend();
    if (a.dom.id >= 0) raise(error_code::operation_invalid, error_domain::xenxm, "domain is already running");
    auto e = find(a.dom.name);
    if (!e) raise(error_code::no_domain, error_domain::xenxm, "no domain with matching name '" + a.dom.name + "'");
    xend_client client(ctx_.xend, ctx_.xend_deadline);
    client.post_op("/xend/domain", {{"op", "create"}, {"config", domain_to_sexpr_text(e->def, ctx_.xend_config_version)}});
    auto record = parse_sexpr(client.get_sexpr("/xend/domain/" + e->def.name + "?detail=1"));
    client.post_op("/xend/domain/" + e->def.name, {{"op", "unpause"}});
    int id = -1;
    if (auto text = record.value("domain/domid")) id = std::atoi(text->c_str());
    return {e->def.name, e->def.uuid.value_or(virtpp::uuid{}), id};
}

std::string xm_files::state::perform(op::domain_get_xml_desc, const op::domain_get_xml_desc::args& a) {
    require_old_xend();
    auto e = find(a.dom.name);
    if (!e) raise(error_code::no_domain, error_domain::xenxm, "no domain with matching name '" + a.dom.name + "'");
    constexpr unsigned xml_secure = 1;
    return xml::format_domain_xml(e->def, {.inactive = true, .secure = (a.flags & xml_secure) != 0});
}

domain_info xm_files::state::perform(op::domain_get_info, const op::domain_get_info::args& a) {
    require_old_xend();
    auto e = find(a.dom.name);
    if (!e) raise(error_code::no_domain, error_domain::xenxm, "no domain with matching name '" + a.dom.name + "'");
    domain_info info;
    info.state = domain_state::shutoff;
    info.max_memory_kib = e->def.memory_kib;
    info.memory_kib = e->def.current_memory_kib.value_or(e->def.memory_kib);
    info.vcpus = e->def.vcpu.current.value_or(e->def.vcpu.count);
    return info;
}

domain_state_info xm_files::state::perform(op::domain_get_state, const op::domain_get_state::args& a) {
    return {perform(op::domain_get_info{}, {a.dom}).state, 0};
}

bool xm_files::state::perform(op::domain_is_active, const op::domain_is_active::args& a) {
    require_old_xend();
    return a.dom.id >= 0;
}

bool xm_files::state::perform(op::domain_is_persistent, const op::domain_is_persistent::args& a) {
    require_old_xend();
    return find(a.dom.name).has_value();
}

std::string xm_files::state::perform(op::domain_get_os_type, const op::domain_get_os_type::args& a) {
    require_old_xend();
    auto e = find(a.dom.name);
    if (!e) raise(error_code::no_domain, error_domain::xenxm, "no domain with matching name '" + a.dom.name + "'");
    return e->def.os.type == "hvm" ? "hvm" : "linux";
}

std::uint64_t xm_files::state::perform(op::domain_get_max_memory, const op::domain_get_max_memory::args& a) {
    return perform(op::domain_get_info{}, {a.dom}).max_memory_kib;
}

void xm_files::state::perform(op::domain_set_memory, const op::domain_set_memory::args& a) {
    require_old_xend();
    auto e = find(a.dom.name);
    if (!e) raise(error_code::no_domain, error_domain::xenxm, "no domain with matching name '" + a.dom.name + "'");
    if (a.kib > e->def.memory_kib)
        raise(error_code::invalid_arg, error_domain::xenxm, "memory above the domain's maximum");
    e->def.current_memory_kib = a.kib;
    write(e->def, e->file);
}

void xm_files::state::perform(op::domain_set_max_memory, const op::domain_set_max_memory::args& a) {
    require_old_xend();
    auto e = find(a.dom.name);
    if (!e) raise(error_code::no_domain, error_domain::xenxm, "no domain with matching name '" + a.dom.name + "'");
    e->def.memory_kib = a.kib;
    if (e->def.current_memory_kib && *e->def.current_memory_kib > a.kib) e->def.current_memory_kib = a.kib;
    write(e->def, e->file);
}

}  // namespace virtpp::xen
