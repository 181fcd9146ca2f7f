// The xm-files part of the Xen driver: with xend older than 3.0.4 (xend_config_format below 3),
// inactive domains are xm configuration files in /etc/xen, as libvirt 0.3.2's XM driver kept them:
// define writes one, undefine removes it, list --all shows them, start hands the definition to xend.
// With a newer xend it declines every call (xend keeps inactive domains itself).
#pragma once

#include <virtpp/ops.hpp>
#include <virtpp/types.hpp>
#include <virtpp/xen/context.hpp>
#include <virtpp/xml/domain.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::xen {

/// Part: xm configuration files. This host only.
struct xm_files {
    static constexpr std::string_view name = "xm files";
    struct state;
    static std::shared_ptr<state> open(context& ctx);
};

struct xm_files::state {
    explicit state(context& ctx);

    int perform(op::connect_num_of_defined_domains, const op::none&);
    std::vector<std::string> perform(op::connect_list_defined_domains, const op::none&);
    domain_ref perform(op::domain_lookup_by_name, const op::domain_lookup_by_name::args&);
    domain_ref perform(op::domain_lookup_by_uuid, const op::domain_lookup_by_uuid::args&);
    domain_ref perform(op::domain_define_xml, const op::domain_define_xml::args&);
    void perform(op::domain_undefine, const op::domain_undefine::args&);
    domain_ref perform(op::domain_create, const op::domain_create::args&);
    std::string perform(op::domain_get_xml_desc, const op::domain_get_xml_desc::args&);
    domain_info perform(op::domain_get_info, const op::domain_get_info::args&);
    domain_state_info perform(op::domain_get_state, const op::domain_get_state::args&);
    bool perform(op::domain_is_active, const op::domain_is_active::args&);
    bool perform(op::domain_is_persistent, const op::domain_is_persistent::args&);
    std::string perform(op::domain_get_os_type, const op::domain_get_os_type::args&);
    std::uint64_t perform(op::domain_get_max_memory, const op::domain_get_max_memory::args&);
    void perform(op::domain_set_memory, const op::domain_set_memory::args&);
    void perform(op::domain_set_max_memory, const op::domain_set_max_memory::args&);

    /// Every definition in the directory (files that do not parse are skipped, as libvirt did).
    struct entry {
        std::string file;
        xml::domain_def def;
    };
    [[nodiscard]] std::vector<entry> definitions() const;

private:
    void require_old_xend() const;
    [[nodiscard]] std::optional<entry> find(const std::string& name) const;
    void write(const xml::domain_def& def, const std::string& file) const;
    context& ctx_;
};

}  // namespace virtpp::xen
