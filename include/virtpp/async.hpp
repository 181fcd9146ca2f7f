// Every operation as an Asio asynchronous operation: a completion token (callback, use_future,
// use_awaitable, deferred), an optional per-call deadline, and cancellation through the handler's
// cancellation slot. See docs/async.md.
//
//   boost::asio::io_context io;
//   virtpp::basic_async_connection conn(io.get_executor(),
//       virtpp::basic_connection<virtpp::hypervisor::remote, virtpp::transport::remote>::open("test+unix:///default"));
//   conn.async_call<virtpp::op::domain_lookup_by_name>({"test"}, 500ms,
//       [](std::exception_ptr e, virtpp::domain_ref d) { ... });
//   io.run();
//
// Over transport::remote the call is framed and sent at once, and its reply completes it: any
// number of calls are in flight on one connection (pipelined), and nothing blocks a thread while
// they are. A call that times out or is cancelled is abandoned: it completes at once with
// OPERATION_TIMEOUT or OPERATION_ABORTED, the connection stays up, and the reply, if it ever
// comes, is dropped by its serial. In-process drivers (transport::local and the others) run the
// call on a small shared pool of threads; a deadline or a cancellation completes the handler at
// once, but the driver's operation itself runs to its end (its result is dropped).
//
// Completion handlers run on their associated executor (the connection's executor when they have
// none), never inside async_call. Errors arrive as the exception_ptr of a virtpp::error; they are
// not passed to the connection's error handlers (those belong to the blocking API).
#pragma once

#include <virtpp/connection.hpp>
#include <virtpp/events.hpp>
#include <virtpp/rpc/procedures.hpp>
#include <virtpp/transport/remote.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <thread>
#include <vector>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <functional>

namespace virtpp {

namespace detail {

template <class R>
struct async_signature {
    using type = void(std::exception_ptr, R);
};
template <>
struct async_signature<void> {
    using type = void(std::exception_ptr);
};

/// Where in-process drivers' calls run when called asynchronously: their operations block. A
/// plain pool of four threads, outside Asio: the work it runs was started from inside Asio
/// handlers and coroutines, and its memory must not come from their per-thread caches.
class blocking_pool {
public:
    static blocking_pool& instance() {
        static blocking_pool pool(4);
        return pool;
    }
    void post(std::function<void()> work) {
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(work));
        }
        wake_.notify_one();
    }
    ~blocking_pool() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& t : threads_) t.join();
    }

private:
    explicit blocking_pool(unsigned n) {
        for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { run(); });
    }
    void run() {
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and nothing left to run
            auto work = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            work();
            work = nullptr;
            lock.lock();
        }
    }
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

/// One asynchronous call between its start and its completion. `finish` may be called from any
/// thread and any number of times: the first wins, and the handler runs on its executor.
template <class Handler, class R>
class async_call_state : public std::enable_shared_from_this<async_call_state<Handler, R>> {
public:
    using value_type = std::conditional_t<std::is_void_v<R>, std::monostate, R>;
    using handler_executor = boost::asio::associated_executor_t<Handler, boost::asio::any_io_executor>;

    async_call_state(Handler h, const boost::asio::any_io_executor& fallback)
        : executor_(boost::asio::get_associated_executor(h, fallback)),
          work_(*executor_),
          timer_(std::in_place, *executor_),
          handler_(std::move(h)) {}

    /// How to give up the call on its channel: true when its completion will now never run.
    void set_abandon(std::function<bool()> abandon) {
        std::lock_guard lock(mutex_);
        abandon_ = std::move(abandon);
    }

    /// Arms the deadline and the handler's cancellation slot (on the handler's executor).
    void watch(std::chrono::steady_clock::duration timeout, std::string_view api) {
        api_ = api;
        auto self = this->shared_from_this();
        if (timeout > std::chrono::steady_clock::duration::zero()) {
            timer_->expires_after(timeout);
            timer_->async_wait([self, timeout](const boost::system::error_code& ec) {
                if (ec) return;  // cancelled: the call completed first
                auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
                self->give_up(make_error_info(error_code::operation_timeout, error_domain::rpc,
                                              self->api_ + " did not complete within " + std::to_string(ms) + " ms"));
            });
        }
        auto slot = boost::asio::get_associated_cancellation_slot(handler_);
        if (slot.is_connected()) {
            std::weak_ptr<async_call_state> weak = self;
            slot.assign([weak](boost::asio::cancellation_type type) {
                if (type == boost::asio::cancellation_type::none) return;
                if (auto s = weak.lock())
                    s->give_up(make_error_info(error_code::operation_aborted, error_domain::rpc, s->api_ + " was cancelled"));
            });
        }
    }

    void finish(std::exception_ptr failure, value_type value = {}) {
        if (done_.exchange(true)) return;
        auto self = this->shared_from_this();
        boost::asio::post(*executor_, [self, failure, value = std::move(value)]() mutable {
            // what is bound to the executor goes here, on it: the last reference to this state
            // may be dropped later on another thread (a pool thread, the session's reader)
            self->timer_.reset();
            auto slot = boost::asio::get_associated_cancellation_slot(self->handler_);
            if (slot.is_connected()) slot.clear();
            auto handler = std::move(self->handler_);
            auto work = std::move(*self->work_);
            self->work_.reset();
            self->executor_.reset();
            if constexpr (std::is_void_v<R>)
                std::move(handler)(failure);
            else
                std::move(handler)(failure, std::move(value));
        });
    }

private:
    void give_up(const error_info& why) {
        std::function<bool()> abandon;
        {
            std::lock_guard lock(mutex_);
            abandon = abandon_;
        }
        // a remote call whose reply is being delivered right now is left to that delivery
        if (abandon && !abandon()) return;
        finish(std::make_exception_ptr(error(why)));
    }

    std::optional<handler_executor> executor_;
    std::optional<boost::asio::executor_work_guard<handler_executor>> work_;
    std::optional<boost::asio::steady_timer> timer_;
    Handler handler_;
    std::atomic<bool> done_{false};
    std::mutex mutex_;
    std::function<bool()> abandon_;
    std::string api_;
};

}  // namespace detail

/// A connection as an Asio I/O object: `async_call<Op>` starts any operation of ops.hpp.
template <class H, class T, class Executor = boost::asio::any_io_executor>
class basic_async_connection {
public:
    using executor_type = Executor;
    using connection_type = basic_connection<H, T>;

    basic_async_connection(const Executor& ex, connection_type conn) : executor_(ex), conn_(std::move(conn)) {}

    [[nodiscard]] executor_type get_executor() const noexcept { return executor_; }
    /// The blocking handle of the same connection.
    [[nodiscard]] const connection_type& connection() const noexcept { return conn_; }

    /// The connection's domain and network events (basic_connection::subscribe_events), each
    /// posted to this object's executor: on an io_context run by one thread they arrive in order,
    /// one at a time, on that thread. An event already posted when the subscription is destroyed
    /// is still delivered.
    [[nodiscard]] event_subscription subscribe_events(event_handler handler) const
        requires requires(const connection_type& c, event_handler h) { c.subscribe_events(std::move(h)); }
    {
        auto shared = std::make_shared<event_handler>(std::move(handler));
        return conn_.subscribe_events([ex = executor_, shared](const event& e) {
            boost::asio::post(ex, [shared, e] { (*shared)(e); });
        });
    }

    /// Starts Op; the token's completion signature is void(std::exception_ptr, Op::result)
    /// (void(std::exception_ptr) for operations without a result).
    template <class Op, class Token>
    auto async_call(typename Op::args a, Token&& token) {
        return async_call<Op>(std::move(a), std::chrono::steady_clock::duration::zero(), std::forward<Token>(token));
    }

    /// The same with a deadline: past `timeout` the call completes with OPERATION_TIMEOUT.
    template <class Op, class Token>
    auto async_call(typename Op::args a, std::chrono::steady_clock::duration timeout, Token&& token) {
        static_assert(detail::require_operation<Op, H>::value);
        using R = typename Op::result;
        using signature = typename detail::async_signature<R>::type;
        return boost::asio::async_initiate<Token, signature>(
            [this, timeout](auto handler, typename Op::args args) {
                using state_type = detail::async_call_state<std::decay_t<decltype(handler)>, R>;
                auto state = std::make_shared<state_type>(std::move(handler), boost::asio::any_io_executor(executor_));
                state->watch(timeout, Op::name);
                start<Op>(state, std::move(args));
            },
            token, std::move(a));
    }

private:
    template <class Op, class State>
    void start(const std::shared_ptr<State>& state, typename Op::args a) {
        if (conn_.read_only() && op::refused_read_only<Op>(a)) {
            state->finish(std::make_exception_ptr(error(make_error_info(
                error_code::operation_denied, detail::api_error_domain<Op>(), "read only access prevents " + std::string(Op::name)))));
            return;
        }
        if constexpr (std::is_same_v<T, transport::remote>) {
            start_remote<Op>(state, std::move(a));
        } else {
            detail::blocking_pool::instance().post([state, conn = conn_, a = std::move(a)] {
                try {
                    if constexpr (std::is_void_v<typename Op::result>) {
                        conn.template call<Op>(a);
                        state->finish(nullptr);
                    } else {
                        state->finish(nullptr, conn.template call<Op>(a));
                    }
                } catch (...) {
                    state->finish(std::current_exception());
                }
            });
        }
    }

    template <class Op, class State>
    void start_remote(const std::shared_ptr<State>& state, typename Op::args a) {
        using P = rpc::client_procedure_t<Op>;
        try {
            auto session = conn_.channel().shared_session();
            auto body = rpc::xdr::to_bytes(P::from_op(a));
            auto serial = session->start_call(
                P::number, body, [state, a = std::move(a)](std::exception_ptr failure, std::vector<std::uint8_t> reply) {
                    if (failure) return state->finish(failure);
                    try {
                        auto ret = rpc::xdr::from_bytes<typename P::ret>(reply);
                        if constexpr (std::is_void_v<typename Op::result>) {
                            P::from_wire(ret);
                            state->finish(nullptr);
                        } else {
                            state->finish(nullptr, rpc::op_result<P>(a, ret));
                        }
                    } catch (...) {
                        state->finish(std::current_exception());
                    }
                });
            std::weak_ptr<rpc::client_session> weak = session;
            state->set_abandon([weak, serial] {
                auto s = weak.lock();
                return !s || s->abandon_call(serial);
            });
        } catch (...) {
            state->finish(std::current_exception());
        }
    }

    Executor executor_;
    connection_type conn_;
};

template <class H, class T, class Executor>
basic_async_connection(const Executor&, basic_connection<H, T>) -> basic_async_connection<H, T, Executor>;

}  // namespace virtpp
