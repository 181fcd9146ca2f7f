#include <virtpp/events.hpp>

#include <array>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

namespace virtpp {

namespace domain_event_id {
std::string_view name(int id) noexcept {
    // virsh's names, in id order
    static constexpr std::array<std::string_view, count> names{
        "lifecycle",        "reboot",          "rtc-change",          "watchdog",       "io-error",
        "graphics",         "io-error-reason", "control-error",       "block-job",      "disk-change",
        "tray-change",      "pm-wakeup",       "pm-suspend",          "balloon-change", "pm-suspend-disk",
        "device-removed",   "block-job-2",     "tunable",             "agent-lifecycle", "device-added",
        "migration-iteration", "job-completed", "device-removal-failed", "metadata-change", "block-threshold",
        "memory-failure",   "memory-device-size-change"};
    return id >= 0 && id < count ? names[static_cast<std::size_t>(id)] : std::string_view{};
}
}  // namespace domain_event_id

namespace detail {
struct event_hub_state {
    std::mutex mutex;
    std::map<std::uint64_t, std::shared_ptr<const event_handler>> handlers;
    std::uint64_t next_id = 1;
    std::deque<event> queued;
    bool delivering = false;
};
}  // namespace detail

event_subscription::event_subscription(event_subscription&& other) noexcept
    : hub_(std::move(other.hub_)), id_(other.id_) {
    other.hub_.reset();
}

event_subscription& event_subscription::operator=(event_subscription&& other) noexcept {
    if (this != &other) {
        reset();
        hub_ = std::move(other.hub_);
        id_ = other.id_;
        other.hub_.reset();
    }
    return *this;
}

event_subscription::~event_subscription() { reset(); }

void event_subscription::reset() noexcept {
    std::shared_ptr<const event_handler> dropped;  // destroyed after the hub's lock is released
    if (auto hub = hub_.lock()) {
        std::lock_guard lock(hub->mutex);
        auto it = hub->handlers.find(id_);
        if (it != hub->handlers.end()) {
            dropped = std::move(it->second);
            hub->handlers.erase(it);
        }
    }
    hub_.reset();
}

event_hub::event_hub() : state_(std::make_shared<detail::event_hub_state>()) {}

event_subscription event_hub::subscribe(event_handler handler) {
    std::lock_guard lock(state_->mutex);
    auto id = state_->next_id++;
    state_->handlers.emplace(id, std::make_shared<const event_handler>(std::move(handler)));
    return event_subscription(state_, id);
}

void event_hub::queue(event e) {
    std::lock_guard lock(state_->mutex);
    if (state_->handlers.empty()) return;  // nobody listens: nothing to keep
    state_->queued.push_back(std::move(e));
}

bool event_hub::has_subscribers() const {
    std::lock_guard lock(state_->mutex);
    return !state_->handlers.empty();
}

void event_hub::deliver() noexcept {
    auto& s = *state_;
    std::unique_lock lock(s.mutex);
    if (s.delivering) return;
    s.delivering = true;
    std::vector<std::shared_ptr<const event_handler>> targets;
    while (!s.queued.empty()) {
        event e = std::move(s.queued.front());
        s.queued.pop_front();
        targets.clear();
        for (const auto& [id, h] : s.handlers) targets.push_back(h);
        lock.unlock();
        for (const auto& h : targets) {
            try {
                (*h)(e);
            } catch (...) {
                // a listener's failure is its own: the change it reports has happened anyway
            }
        }
        lock.lock();
    }
    s.delivering = false;
}

}  // namespace virtpp
