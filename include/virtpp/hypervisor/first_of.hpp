// first_of<Parts...>: a driver composed at compile time of sub-policies ("parts"). Each part says
// which operations it supports the usual way (a perform overload on its state); the composition
// supports the union, and each operation goes to the first part, in the order written, that
// supports it. At run time a part may be absent (it did not open: hypercalls without root) or may
// decline one call (raise part_declined: hypercalls on a domain that is not running); the call
// then falls to the next part that supports the operation. This is libvirt 0.3.2's "unified"
// driver loop, with the loop over parts that cannot serve an operation removed by the compiler.
//
// A part P provides:
//   P::name                          for messages ("hypercalls", "xend")
//   P::state                         with perform(Op, args) for each operation it supports
//   P::open(const Context&)          -> std::shared_ptr<P::state>; raises when the part is unusable
//
//   using xend_only = virtpp::hypervisor::first_of<virtpp::xen::context, virtpp::xen::xend>;
//   // basic_connection<xend_only> compiles calls of what xend supports, and no others.
#pragma once

#include <virtpp/concepts.hpp>
#include <virtpp/error.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace virtpp::hypervisor {

/// Raised by a part that supports an operation but cannot perform this call; the composition
/// tries the next part. `why` ends up in the error when no part could.
class part_declined : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The composition. Context is what every part opens with (the URI, paths, shared facts); its
/// static `errors` is the error domain of the composition's own errors.
template <class Context, class... Parts>
struct first_of {
    using context = Context;

    /// Some part supports Op: the composition does.
    template <class Op>
    static constexpr bool provides = (supports<Parts, Op> || ...);

    struct state {
        /// Opens every part; a part that fails to open is absent and its reason is kept.
        explicit state(std::shared_ptr<Context> ctx) : context_(std::move(ctx)) {
            open_each(std::index_sequence_for<Parts...>{});
        }

        template <class Op>
            requires(supports<Parts, Op> || ...)
        typename Op::result perform(Op, const typename Op::args& a) {
            std::string reasons;
            if constexpr (std::is_void_v<typename Op::result>) {
                bool done = false;
                try_parts<Op, 0>(a, done, reasons);
                if (!done) nobody_could<Op>(reasons);
            } else {
                std::optional<typename Op::result> out;
                try_parts<Op, 0>(a, out, reasons);
                if (!out) nobody_could<Op>(reasons);
                return std::move(*out);
            }
        }

        /// The part's state, or null when that part did not open.
        template <class Part>
        [[nodiscard]] typename Part::state* part() const noexcept {
            return std::get<index_of<Part>()>(parts_).get();
        }
        /// Why a part did not open (empty when it did).
        template <class Part>
        [[nodiscard]] const std::string& why_absent() const noexcept {
            return absent_[index_of<Part>()];
        }
        /// Raises again the error that kept a part from opening (nothing when it opened or declined).
        template <class Part>
        void rethrow_absence() const {
            if (auto e = absent_error_[index_of<Part>()]) std::rethrow_exception(e);
        }
        [[nodiscard]] Context& shared_context() const noexcept { return *context_; }

    private:
        template <class Part>
        static constexpr std::size_t index_of() {
            constexpr bool matches[] = {std::is_same_v<Part, Parts>...};
            for (std::size_t i = 0; i < sizeof...(Parts); ++i)
                if (matches[i]) return i;
            return sizeof...(Parts);
        }

        template <std::size_t... I>
        void open_each(std::index_sequence<I...>) {
            (open_one<I>(), ...);
        }
        template <std::size_t I>
        void open_one() {
            using part_t = std::tuple_element_t<I, std::tuple<Parts...>>;
            try {
                std::get<I>(parts_) = part_t::open(*context_);
            } catch (const virtpp::error& e) {
                absent_[I] = e.info().message;
                absent_error_[I] = std::current_exception();
            } catch (const part_declined& e) {
                absent_[I] = e.what();
            }
        }

        template <class Op, std::size_t I, class Out>
        void try_parts(const typename Op::args& a, Out& out, std::string& reasons) {
            if constexpr (I < sizeof...(Parts)) {
                using part_t = std::tuple_element_t<I, std::tuple<Parts...>>;
                if constexpr (supports<part_t, Op>) {
                    auto* s = std::get<I>(parts_).get();
                    if (!s) {
                        note(reasons, part_t::name, absent_[I]);
                    } else {
                        try {
                            if constexpr (std::is_void_v<typename Op::result>) {
                                s->perform(Op{}, a);
                                out = true;
                            } else {
                                out.emplace(s->perform(Op{}, a));
                            }
                            return;
                        } catch (const part_declined& e) {
                            note(reasons, part_t::name, e.what());
                        }
                    }
                }
                try_parts<Op, I + 1>(a, out, reasons);
            }
        }

        static void note(std::string& reasons, std::string_view part, std::string_view why) {
            if (!reasons.empty()) reasons += "; ";
            reasons += part;
            reasons += ": ";
            reasons += why;
        }

        template <class Op>
        [[noreturn]] void nobody_could(const std::string& reasons) {
            raise(error_code::no_support, Context::errors,
                  std::string(Op::name) + " (no part of the driver could: " + reasons + ")");
        }

        std::shared_ptr<Context> context_;
        std::tuple<std::shared_ptr<typename Parts::state>...> parts_;
        std::string absent_[sizeof...(Parts)];
        std::exception_ptr absent_error_[sizeof...(Parts)];
    };

    /// The state over a context made by the caller (the policy's open does this from a URI).
    static std::shared_ptr<state> open_parts(std::shared_ptr<Context> ctx) {
        return std::make_shared<state>(std::move(ctx));
    }
};

}  // namespace virtpp::hypervisor
