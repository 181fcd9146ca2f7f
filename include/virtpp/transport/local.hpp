// transport::local: calls reach the driver's state in-process.
#pragma once

#include <virtpp/concepts.hpp>

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

    private:
        std::shared_ptr<typename H::state> state_;
    };
};

}  // namespace virtpp::transport
