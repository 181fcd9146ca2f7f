// The Xen driver: libvirt 0.3.2's "Xen unified" driver as a compile-time composition.
//
//   hypervisor::xen = first_of<hypercalls, xend, xenstore, xm_files>   (0.3.2's order)
//
// Each part is a small policy of its own that declares what it supports (its perform overloads);
// an operation goes to the first part that supports it, and at run time to the next one when a
// part is absent (hypercalls without root, no xenstored) or declines the call (hypercalls on a
// domain that is not running; xm files while xend manages inactive domains itself). A consumer can
// compose a narrower driver, and calls what its parts lack do not compile:
//
//   using xend_only = virtpp::hypervisor::xen_of<virtpp::xen::xend>;
//   auto conn = virtpp::basic_connection<xend_only>::open("http://127.0.0.1:8000/");
//   conn.lookup_domain_by_name("guest").suspend();      // xend supports it
//   conn.lookup_domain_by_name("guest").vcpu_info();    // error: xend does not provide domain_get_vcpus
//
// URIs: xen:/// (also "xen" and the default URI on a Xen host), http://host[:port]/ (xend's HTTP
// server: xend alone), /path/to/xend-socket or ///path (xend's unix socket: xend alone).
// Environment overrides for hosts laid out differently (and for tests): VIRTPP_XEND (a socket path
// or http://host:port/), XENSTORED_PATH (as Xen's own tools read it), VIRTPP_XEN_PRIVCMD,
// VIRTPP_XM_CONFIG_DIR. See docs/xen.md.
#pragma once

#include <virtpp/concepts.hpp>
#include <virtpp/error.hpp>
#include <virtpp/hypervisor/first_of.hpp>
#include <virtpp/ops.hpp>
#include <virtpp/types.hpp>
#include <virtpp/uri.hpp>
#include <virtpp/xen/context.hpp>
#include <virtpp/xen/native.hpp>
#include <virtpp/xen/part_hypercalls.hpp>
#include <virtpp/xen/part_xend.hpp>
#include <virtpp/xen/part_xenstore.hpp>
#include <virtpp/xen/part_xm_files.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace virtpp::hypervisor {

/// A Xen driver of the given parts (in the order calls should try them). hypervisor::xen is the
/// full one; any other list is a narrower driver with the same URIs.
template <class... Parts>
struct xen_of {
    using parts = first_of<virtpp::xen::context, Parts...>;
    static constexpr std::string_view name = "Xen";

    struct state : parts::state {
        using parts::state::state;
        using parts::state::perform;
        /// "Xen", whatever the parts.
        std::string perform(op::connect_get_type, const op::none&) { return "Xen"; }
        /// Format conversions need no part: they work with no Xen reachable at all, in the
        /// conventions of the xend the connection talks to.
        std::string perform(op::connect_domain_xml_from_native, const op::connect_domain_xml_from_native::args& a) {
            return virtpp::xen::domain_xml_from_native(a.format, a.config, conversion_version());
        }
        std::string perform(op::connect_domain_xml_to_native, const op::connect_domain_xml_to_native::args& a) {
            return virtpp::xen::domain_xml_to_native(a.format, a.xml, conversion_version());
        }
        /// Xen's driver has no security driver (libvirt reports an empty model) and no managed
        /// save (a saved image is the file the user named).
        security_model perform(op::node_get_security_model, const op::none&) { return {}; }
        bool perform(op::domain_has_managed_save_image, const op::domain_has_managed_save_image::args&) { return false; }
        /// MIGRATION_V3 (6) when xend is a part: it migrates, through the library's v3 steps.
        bool perform(op::connect_supports_feature, const op::connect_supports_feature::args& a) {
            return (std::is_same_v<Parts, virtpp::xen::xend> || ...) && a.feature == 6;
        }
        /// Calls wait on xend, xenstored or ioctls.
        [[nodiscard]] bool calls_may_block() const noexcept { return true; }

    private:
        /// The xend's generation; without xend (offline xen:///) xend_config_version_unknown, and
        /// the converters read the generation from the input's own spelling.
        [[nodiscard]] int conversion_version() const noexcept {
            int v = this->shared_context().xend_config_version;
            return v > 0 ? v : virtpp::xen::xend_config_version_unknown;
        }
    };

    static bool accepts(const virtpp::uri& u);
    /// Opens every part that can open. A URI naming xend itself (http://, a socket path) fails
    /// with xend's error when xend does not answer; xen:/// opens with whatever parts this host
    /// has (even none: the format conversions still work).
    static std::shared_ptr<state> open(const virtpp::uri& u, unsigned flags) {
        auto ctx = make_context(u, flags);
        bool xend_only_uri = !ctx->local_host;
        auto st = std::make_shared<state>(std::move(ctx));
        if constexpr ((std::is_same_v<Parts, virtpp::xen::xend> || ...))
            if (xend_only_uri) st->template rethrow_absence<virtpp::xen::xend>();
        return st;
    }

private:
    static std::shared_ptr<virtpp::xen::context> make_context(const virtpp::uri& u, unsigned flags);
};

using xen = xen_of<virtpp::xen::hypercalls, virtpp::xen::xend, virtpp::xen::xenstore, virtpp::xen::xm_files>;

}  // namespace virtpp::hypervisor


template <class... Parts>
bool virtpp::hypervisor::xen_of<Parts...>::accepts(const virtpp::uri& u) {
    return virtpp::xen::accepts_uri(u);
}
template <class... Parts>
std::shared_ptr<virtpp::xen::context> virtpp::hypervisor::xen_of<Parts...>::make_context(const virtpp::uri& u,
                                                                                         unsigned flags) {
    return virtpp::xen::make_context(u, flags);
}
