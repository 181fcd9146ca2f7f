// transport::remote: calls travel to a libvirt daemon (libvirtd or virtppd) in libvirt's RPC
// protocol, over the transport the URI names: tls (default with a host), tcp, unix (default
// without one), ssh or ext. See docs/remote.md.
//
//   auto conn = virtpp::basic_connection<virtpp::hypervisor::test, virtpp::transport::remote>::open(
//       "test+tcp://host/default");
//
// One session per connection (rpc::client_session, virtpp/rpc/client.hpp); it is safe to call
// from several threads at once. The policy H only decides what compiles (supports<H, Op>); the
// daemon may still answer NO_SUPPORT at run time.
#pragma once

#include <virtpp/rpc/client.hpp>
#include <virtpp/uri.hpp>

#include <memory>
#include <string_view>

namespace virtpp::transport {

struct remote {
    static constexpr std::string_view name = "remote";

    /// Every URI libvirt hands to its remote driver: a transport or a host, the "remote" driver,
    /// and (like libvirt outside a daemon) any other driver[+...]:// URI, which goes to the default
    /// unix socket; and the default (empty) URI no local driver probed, which asks the local
    /// daemon to probe. List a remote driver after the local ones in a driver_list.
    static bool accepts(const virtpp::uri& u) noexcept {
        return u.is_remote() || u.is_default() || (u.kind() == virtpp::uri::form::standard && !u.driver().empty());
    }

    template <class H>
    class channel {
    public:
        explicit channel(std::shared_ptr<rpc::client_session> session) : session_(std::move(session)) {}

        static std::shared_ptr<channel> open(const virtpp::uri& u, unsigned flags) {
            return std::make_shared<channel>(rpc::client_session::open(u, flags, rpc::default_client_options()));
        }

        template <class Op>
        typename Op::result call(const typename Op::args& a) {
            return rpc::call_remote<Op>(*session_, a);
        }

        [[nodiscard]] rpc::client_session& session() const noexcept { return *session_; }
        [[nodiscard]] const std::shared_ptr<rpc::client_session>& shared_session() const noexcept { return session_; }

        [[nodiscard]] event_subscription subscribe_events(event_handler handler) {
            return session_->subscribe_events(std::move(handler));
        }

    private:
        std::shared_ptr<rpc::client_session> session_;
    };
};

}  // namespace virtpp::transport
