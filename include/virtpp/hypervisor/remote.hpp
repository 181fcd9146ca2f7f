// hypervisor::remote: the policy of a connection whose driver lives in a daemon. It offers every
// operation of op::all (what the daemon cannot do, it answers NO_SUPPORT at run time), so
//
//   using drivers = virtpp::driver_list<virtpp::driver<virtpp::hypervisor::test>,
//                                       virtpp::driver<virtpp::hypervisor::remote, virtpp::transport::remote>>;
//
// lets any_connection reach every remote URI. Its state is never created: calls go through
// transport::remote's channel.
#pragma once

#include <virtpp/transport/remote.hpp>

#include <memory>
#include <string_view>

namespace virtpp::hypervisor {

struct remote {
    static constexpr std::string_view name = "remote";
    struct state {
        /// Declared only: it makes supports<remote, Op> true; transport::remote performs the call.
        template <class Op>
        typename Op::result perform(Op, const typename Op::args&);
    };
    static bool accepts(const virtpp::uri& u) noexcept { return transport::remote::accepts(u); }
    /// A remote driver has no in-process state: opening it locally is refused.
    static std::shared_ptr<state> open(const virtpp::uri& u, unsigned) {
        raise(error_code::no_connect, error_domain::remote, u.str() + ": the remote driver is reached through transport::remote");
    }
};

}  // namespace virtpp::hypervisor
