// The remote program as one table: each procedure names its number, the operation it carries,
// its wire argument and reply layouts (plain structs: the XDR codec follows from them) and, where
// the wire layout differs from the operation's, how to convert. The client stub for an operation,
// the daemon's dispatch for a number, the read-only check (Op::mutates) and the support matrix
// all come from this table; adding a procedure is one entry here.
#pragma once

#include <virtpp/ops.hpp>
#include <virtpp/rpc/message.hpp>
#include <virtpp/rpc/xdr.hpp>

#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace virtpp::rpc {

/// The reply layout of an operation whose result travels as itself.
template <class Op>
using natural_ret = std::conditional_t<std::is_void_v<typename Op::result>, xdr::none, typename Op::result>;

/// A procedure whose wire layouts are the operation's own arguments and result: conversions are
/// the identity. Entries with other layouts derive from it and supply
///   static Op::args     to_op(const args&)         (daemon: wire -> operation)
///   static args         from_op(const Op::args&)   (client: operation -> wire)
///   static ret          to_wire(const Op::result&) (daemon)
///   static Op::result   from_wire(const ret&)      (client)
/// A reply whose layout depends on the call's arguments (DOMAIN_GET_VCPUS sizes its CPU maps by
/// maplen) supplies the two-argument forms instead: to_wire(const args&, const Op::result&) and
/// from_wire(const Op::args&, const ret&); see wire_reply / op_result below.
/// A procedure with `client = false` is served but never sent by virtpp's client (an older
/// number kept for stock clients; the client uses the newer one).
template <std::int32_t Number, class Op, class Args = typename Op::args, class Ret = natural_ret<Op>>
struct procedure {
    static constexpr std::int32_t number = Number;
    using operation = Op;
    using args = Args;
    using ret = Ret;
    static constexpr bool client = true;

    static typename Op::args to_op(const Args& a)
        requires std::is_same_v<Args, typename Op::args>
    {
        return a;
    }
    static Args from_op(const typename Op::args& a)
        requires std::is_same_v<Args, typename Op::args>
    {
        return a;
    }
    static Ret to_wire()
        requires std::is_void_v<typename Op::result>
    {
        return {};
    }
    template <class R>
    static Ret to_wire(const R& r)
        requires(!std::is_void_v<typename Op::result> && std::is_same_v<Ret, typename Op::result>)
    {
        return r;
    }
    static void from_wire(const Ret&)
        requires std::is_void_v<typename Op::result>
    {}
    template <class R = Ret>
    static typename Op::result from_wire(const R& r)
        requires(!std::is_void_v<typename Op::result> && std::is_same_v<Ret, typename Op::result>)
    {
        return r;
    }
};

/// The daemon's side: the reply for result r of the call whose wire arguments were a.
template <class P, class R>
typename P::ret wire_reply(const typename P::args& a, const R& r) {
    if constexpr (requires { P::to_wire(a, r); })
        return P::to_wire(a, r);
    else
        return P::to_wire(r);
}

/// The client's side: the operation's result from the reply to a call made with op arguments a.
template <class P>
typename P::operation::result op_result(const typename P::operation::args& a, const typename P::ret& r) {
    if constexpr (requires { P::from_wire(a, r); })
        return P::from_wire(a, r);
    else
        return P::from_wire(r);
}

/// A served-only entry (see procedure).
template <class P>
struct served_only : P {
    static constexpr bool client = false;
};

}  // namespace virtpp::rpc
