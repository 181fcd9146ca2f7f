// transport::local: calls reach the driver's state in-process.
#pragma once

#include <virtpp/concepts.hpp>
#include <virtpp/events.hpp>

#include <memory>

namespace virtpp::transport {

struct local {
    static constexpr std::string_view name = "local";

    template <class H>
    class channel {
    public:
        explicit channel(std::shared_ptr<typename H::state> state) : state_(std::move(state)) {}

        static std::shared_ptr<channel> open(const virtpp::uri& u, unsigned flags) {
            return std::make_shared<channel>(H::open(u, flags));
        }

        template <class Op>
        typename Op::result call(const typename Op::args& a) {
            return state_->perform(Op{}, a);
        }

        [[nodiscard]] typename H::state& state() const noexcept { return *state_; }

        /// The driver's events, when it publishes any.
        [[nodiscard]] event_subscription subscribe_events(event_handler handler)
            requires requires(typename H::state& s, event_handler h) {
                { s.subscribe_events(std::move(h)) } -> std::same_as<event_subscription>;
            }
        {
            return state_->subscribe_events(std::move(handler));
        }

    private:
        std::shared_ptr<typename H::state> state_;
    };
};

}  // namespace virtpp::transport
