// What a hypervisor policy and a transport policy must provide. Each operation's contract is its
// entry in ops.hpp (arguments, result, whether it mutates); this file says how a policy offers it.
//
// A hypervisor policy H:
//   H::name                    a std::string_view naming the driver ("test", "qemu")
//   H::state                   the driver state a connection talks to; shared by connections
//                              as the driver decides (test:///default is shared process-wide)
//   H::accepts(uri)            true when the URI is this driver's (local form, no transport)
//   H::open(uri, flags)        -> std::shared_ptr<H::state>; raises on failure
//   state.perform(Op{}, args)  -> Op::result, for each operation Op it supports. An operation
//                              without a perform overload is *not supported*: calling it on a
//                              statically typed handle does not compile; on any_connection it
//                              raises NO_SUPPORT.
//
// A transport policy T provides T::channel<H>: how calls reach H's state.
//   channel<H>::open(uri, flags) -> std::shared_ptr<channel<H>>
//   channel.call<Op>(args)       -> Op::result
// transport::local calls the state in-process; the remote transports marshal the call into
// libvirt's RPC protocol.
#pragma once

#include <virtpp/ops.hpp>
#include <virtpp/uri.hpp>

#include <concepts>
#include <memory>
#include <string_view>

namespace virtpp {

/// H's state can perform Op.
template <class H, class Op>
concept supports = requires(typename H::state& s, const typename Op::args& a) {
    { s.perform(Op{}, a) } -> std::convertible_to<typename Op::result>;
};

template <class H>
concept hypervisor_policy = requires(const virtpp::uri& u, unsigned flags) {
    typename H::state;
    { H::name } -> std::convertible_to<std::string_view>;
    { H::accepts(u) } -> std::convertible_to<bool>;
    { H::open(u, flags) } -> std::same_as<std::shared_ptr<typename H::state>>;
};

template <class T, class H>
concept transport_policy = requires(const virtpp::uri& u, unsigned flags) {
    typename T::template channel<H>;
    { T::template channel<H>::open(u, flags) } -> std::same_as<std::shared_ptr<typename T::template channel<H>>>;
};

/// Flags of connection open (virConnectFlags).
namespace open_flags {
inline constexpr unsigned read_only = 1U << 0;
}

namespace detail {
template <class Op, class H>
inline constexpr bool policy_provides = supports<H, Op>;

/// Instantiated when a statically typed handle calls an operation its policy lacks; the compiler
/// names Op and H in the instantiation line above the assertion.
template <class Op, class H>
struct require_operation {
    static_assert(policy_provides<Op, H>,
                  "virtpp: the hypervisor policy H does not provide the operation Op (see the instantiation "
                  "of require_operation<Op, H> above); any_connection reports NO_SUPPORT at run time instead");
    static constexpr bool value = true;
};
}  // namespace detail

}  // namespace virtpp
