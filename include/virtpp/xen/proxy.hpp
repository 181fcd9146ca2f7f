// The seed's proxy role without a setuid helper: a user who is not root cannot reach Xen's
// hypercalls, XenStore or xend's socket, so xen:/// opens through the daemon's read-only socket
// (virtppd serves the Xen driver) and the connection is read-only, as libvirt 0.3.2's
// libvirt_proxy made it. http://host:port/ and xend socket paths stay direct.
//
//   using drivers = virtpp::driver_list<..., virtpp::driver<virtpp::hypervisor::remote, virtpp::xen::proxy>,
//                                       virtpp::driver<virtpp::hypervisor::xen>, ...>;
#pragma once

#include <virtpp/concepts.hpp>
#include <virtpp/transport/remote.hpp>
#include <virtpp/uri.hpp>
#include <virtpp/xen/context.hpp>

#include <unistd.h>

#include <memory>
#include <string_view>

namespace virtpp::xen {

struct proxy {
    static constexpr std::string_view name = "xen-proxy";

    /// xen:/// (or "xen", or the default URI on a Xen host) opened by a user who is not root.
    static bool accepts(const virtpp::uri& u) {
        if (::geteuid() == 0 || !accepts_uri(u)) return false;
        return !u.is_xend_http() && !u.is_xend_socket();
    }

    template <class H>
    class channel : public transport::remote::channel<H> {
    public:
        using transport::remote::channel<H>::channel;
        /// The daemon's read-only socket (socket= in the URI names another), always read-only.
        static std::shared_ptr<channel> open(const virtpp::uri& u, unsigned flags) {
            virtpp::uri target = u.kind() == virtpp::uri::form::standard ? u : virtpp::uri::parse("xen:///");
            return std::make_shared<channel>(rpc::client_session::open(target, flags | open_flags::read_only));
        }
    };
};

}  // namespace virtpp::xen
