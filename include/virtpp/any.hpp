// any_connection: a connection whose driver is chosen at run time from the URI, among a
// compile-time list of drivers. It offers every operation; one the chosen driver lacks raises
// NO_SUPPORT ("this function is not supported by the connection driver: virDomainMigrate...").
//
//   using drivers = virtpp::driver_list<virtpp::driver<virtpp::hypervisor::test>>;
//   auto conn = virtpp::any_connection::open<drivers>("test:///default");
#pragma once

#include <virtpp/connection.hpp>
#include <virtpp/events.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

namespace virtpp {

/// One driver a tool contains: a hypervisor policy reached through a transport.
template <class H, class T = transport::local>
struct driver {
    using hypervisor = H;
    using transport = T;
    /// Local drivers take local URIs of their own scheme; remote transports decide for themselves.
    static bool accepts(const virtpp::uri& u) {
        if constexpr (requires { T::accepts(u); })
            return T::accepts(u);
        else
            return !u.is_remote() && H::accepts(u);
    }
};

template <class... Drivers>
struct driver_list {};

namespace detail {
template <class Op, class Tuple>
struct op_index;
template <class Op, class... Ops>
struct op_index<Op, std::tuple<Ops...>> {
    static constexpr std::size_t value = [] {
        constexpr bool matches[] = {std::is_same_v<Op, Ops>...};
        for (std::size_t i = 0; i < sizeof...(Ops); ++i)
            if (matches[i]) return i;
        return sizeof...(Ops);
    }();
    static_assert(value < sizeof...(Ops), "virtpp: operation missing from op::all");
};

template <class Op>
using op_thunk = typename Op::result (*)(void* channel, const typename Op::args&);

template <class Tuple>
struct op_table;
template <class... Ops>
struct op_table<std::tuple<Ops...>> {
    using type = std::tuple<op_thunk<Ops>...>;
};

/// One function pointer per operation of op::all, for one (hypervisor, transport) pair.
struct erased_vtable {
    typename op_table<op::all>::type ops;
    std::string_view driver_name;
    /// False when calls on this channel never wait (no I/O, no sleep): a server may run them inline.
    bool (*calls_may_block)(void* channel);
    /// The driver's events; NO_SUPPORT for a driver that publishes none.
    event_subscription (*subscribe_events)(void* channel, event_handler handler);
};

template <class H, class T>
event_subscription erased_subscribe_events(void* channel, event_handler handler) {
    using channel_type = typename T::template channel<H>;
    if constexpr (requires(channel_type& c, event_handler h) { c.subscribe_events(std::move(h)); }) {
        return static_cast<channel_type*>(channel)->subscribe_events(std::move(handler));
    } else {
        raise(error_code::no_support, error_domain::domain, "virConnectDomainEventRegisterAny");
    }
}

template <class H, class T>
bool erased_calls_may_block(void* channel) {
    if constexpr (std::is_same_v<T, transport::local> &&
                  requires(const typename H::state& s) { { s.calls_may_block() } noexcept -> std::same_as<bool>; }) {
        return static_cast<typename T::template channel<H>*>(channel)->state().calls_may_block();
    } else {
        return true;  // remote transports and drivers that do not say: assume they wait
    }
}

template <class H, class T, class Op>
typename Op::result erased_call(void* channel, const typename Op::args& a) {
    if constexpr (supports<H, Op>) {
        return static_cast<typename T::template channel<H>*>(channel)->template call<Op>(a);
    } else {
        raise(error_code::no_support, api_error_domain<Op>(), Op::name);
    }
}

template <class H, class T, std::size_t... I>
constexpr erased_vtable make_vtable(std::index_sequence<I...>) {
    return erased_vtable{{&erased_call<H, T, std::tuple_element_t<I, op::all>>...}, H::name, &erased_calls_may_block<H, T>,
                         &erased_subscribe_events<H, T>};
}

template <class H, class T>
inline constexpr erased_vtable vtable_for =
    make_vtable<H, T>(std::make_index_sequence<std::tuple_size_v<op::all>>{});
}  // namespace detail

namespace hypervisor {
/// The hypervisor policy of any_connection: every operation, dispatched at run time.
struct any {
    static constexpr std::string_view name = "any";
    struct state {
        template <class Op>
        typename Op::result perform(Op, const typename Op::args&);  // declared only: calls go through the vtable
    };
    static bool accepts(const virtpp::uri&) { return true; }
    static std::shared_ptr<state> open(const virtpp::uri&, unsigned);
};
}  // namespace hypervisor

namespace transport {
/// The transport of any_connection: the channel of whichever driver the URI chose.
struct dynamic {
    template <class H>
    class channel {
        static_assert(std::is_same_v<H, hypervisor::any>, "transport::dynamic serves any_connection only");

    public:
        template <class Drivers>
        static std::shared_ptr<channel> open_with(const virtpp::uri& u, unsigned flags) {
            return open_from(u, flags, Drivers{});
        }

        template <class Op>
        typename Op::result call(const typename Op::args& a) {
            return std::get<detail::op_index<Op, op::all>::value>(vtable_->ops)(inner_.get(), a);
        }

        [[nodiscard]] std::string_view driver_name() const noexcept { return vtable_->driver_name; }
        [[nodiscard]] bool calls_may_block() const { return vtable_->calls_may_block(inner_.get()); }
        [[nodiscard]] event_subscription subscribe_events(event_handler handler) {
            return vtable_->subscribe_events(inner_.get(), std::move(handler));
        }

        /// The concrete channel when the driver is (H2, T2), else null: for tools that need a
        /// driver's own features (e.g. migrating between two test connections).
        template <class H2, class T2 = transport::local>
        [[nodiscard]] typename T2::template channel<H2>* get_if() const noexcept {
            if (vtable_ != &detail::vtable_for<H2, T2>) return nullptr;
            return static_cast<typename T2::template channel<H2>*>(inner_.get());
        }

    private:
        template <class... Ds>
        static std::shared_ptr<channel> open_from(const virtpp::uri& u, unsigned flags, driver_list<Ds...>) {
            if (u.is_default()) {
                // virConnectOpen(NULL): the first driver that offers a default URI for this host
                // (the QEMU driver: qemu:///system for root, qemu:///session otherwise); without
                // one, the remote driver asks the local daemon to probe
                std::optional<std::string> probed;
                (void)((probe<typename Ds::hypervisor>(probed)) || ...);
                if (probed) return open_from(virtpp::uri::parse(*probed), flags, driver_list<Ds...>{});
            }
            std::shared_ptr<channel> out;
            (void)((Ds::accepts(u) ? (out = wrap<typename Ds::hypervisor, typename Ds::transport>(u, flags), true)
                                   : false) ||
                   ...);
            if (!out) raise(error_code::no_connect, error_domain::none, u.str());
            return out;
        }

        /// A hypervisor policy may offer `static std::optional<std::string> probe_uri()`.
        template <class H2>
        static bool probe(std::optional<std::string>& out) {
            if constexpr (requires { H2::probe_uri(); }) out = H2::probe_uri();
            return out.has_value();
        }

        template <class H2, class T2>
        static std::shared_ptr<channel> wrap(const virtpp::uri& u, unsigned flags) {
            auto ch = std::make_shared<channel>();
            ch->inner_ = T2::template channel<H2>::open(u, flags);
            ch->vtable_ = &detail::vtable_for<H2, T2>;
            return ch;
        }

        std::shared_ptr<void> inner_;
        const detail::erased_vtable* vtable_ = nullptr;
    };
};
}  // namespace transport

/// A connection, domain and network whose driver was chosen at run time.
class any_connection : public basic_connection<hypervisor::any, transport::dynamic> {
public:
    using base = basic_connection<hypervisor::any, transport::dynamic>;
    using base::base;
    any_connection(base b) : base(std::move(b)) {}  // NOLINT: a basic_connection of the erased kind is one

    /// Opens the first driver of Drivers that accepts the URI; NO_CONNECT when none does.
    template <class Drivers>
    [[nodiscard]] static any_connection open(std::string_view name, unsigned flags = 0) {
        return base::open_with(name, flags, [&](const virtpp::uri& u) {
            return transport::dynamic::channel<hypervisor::any>::template open_with<Drivers>(u, flags);
        });
    }
    template <class Drivers>
    [[nodiscard]] static any_connection open_read_only(std::string_view name) {
        return open<Drivers>(name, open_flags::read_only);
    }

    /// The name of the driver the URI chose ("test", "qemu").
    [[nodiscard]] std::string_view driver_name() const noexcept { return channel().driver_name(); }
    /// Whether a call may wait (I/O, a monitor, a test delay): the daemon runs calls that cannot
    /// on its I/O thread and hands the rest to its worker pool.
    [[nodiscard]] bool calls_may_block() const { return channel().calls_may_block(); }
    /// The concrete channel when the URI chose driver H2 over transport T2, else null: for what
    /// lies outside the operation table (streams, see virtpp/stream.hpp).
    template <class H2, class T2 = transport::local>
    [[nodiscard]] typename T2::template channel<H2>* driver_channel_if() const noexcept {
        return channel().template get_if<H2, T2>();
    }
};
using any_domain = basic_domain<hypervisor::any, transport::dynamic>;
using any_network = basic_network<hypervisor::any, transport::dynamic>;

}  // namespace virtpp
