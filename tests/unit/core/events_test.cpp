// events.hpp: the hub's order, re-entrancy and unsubscription; the test driver's lifecycle events
// in process (libvirt 9.0's event and detail numbers), shared by every connection to test:///default.
#include <virtpp/events.hpp>

#include <virtpp/any.hpp>
#include <virtpp/hypervisor/test.hpp>

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace {

using namespace virtpp;

TEST(event_hub, delivers_in_queue_order_after_the_lock_and_stops_at_reset) {
    event_hub hub;
    std::vector<int> seen;
    auto sub = hub.subscribe([&](const event& e) { seen.push_back(std::get<domain_event>(e).event); });
    hub.queue(lifecycle_event({"a", {}, 1}, domain_lifecycle::started, 0));
    hub.queue(lifecycle_event({"a", {}, 1}, domain_lifecycle::suspended, 0));
    EXPECT_TRUE(seen.empty());  // queued only: the driver still holds its lock
    hub.deliver();
    EXPECT_EQ(seen, (std::vector<int>{domain_lifecycle::started, domain_lifecycle::suspended}));
    sub.reset();
    EXPECT_FALSE(hub.has_subscribers());
    hub.queue(lifecycle_event({"a", {}, 1}, domain_lifecycle::stopped, 0));
    hub.deliver();
    EXPECT_EQ(seen.size(), 2U);
}

TEST(event_hub, a_handler_that_causes_events_gets_them_after_its_own) {
    event_hub hub;
    std::vector<int> seen;
    auto sub = hub.subscribe([&](const event& e) {
        int ev = std::get<domain_event>(e).event;
        seen.push_back(ev);
        if (ev == domain_lifecycle::started) {
            hub.queue(lifecycle_event({"a", {}, 1}, domain_lifecycle::suspended, 0));
            hub.deliver();  // returns at once: the outer delivery takes it
            EXPECT_EQ(seen.size(), 1U);
        }
    });
    hub.queue(lifecycle_event({"a", {}, 1}, domain_lifecycle::started, 0));
    hub.deliver();
    EXPECT_EQ(seen, (std::vector<int>{domain_lifecycle::started, domain_lifecycle::suspended}));
}

TEST(event_hub, a_throwing_handler_does_not_stop_the_others) {
    event_hub hub;
    int calls = 0;
    auto bad = hub.subscribe([&](const event&) { throw std::runtime_error("listener failed"); });
    auto good = hub.subscribe([&](const event&) { ++calls; });
    hub.queue(network_event{});
    hub.deliver();
    EXPECT_EQ(calls, 1);
}

TEST(event_names, are_virshs) {
    EXPECT_EQ(domain_event_id::name(domain_event_id::lifecycle), "lifecycle");
    EXPECT_EQ(domain_event_id::name(domain_event_id::device_added), "device-added");
    EXPECT_EQ(domain_event_id::name(domain_event_id::memory_device_size_change), "memory-device-size-change");
    EXPECT_EQ(domain_event_id::name(domain_event_id::count), "");
}

using drivers = driver_list<driver<hypervisor::test>>;

std::string describe(const event& e) {
    if (const auto* d = std::get_if<domain_event>(&e))
        return d->dom.name + " " + std::to_string(d->event) + " " + std::to_string(d->detail) + " id " + std::to_string(d->dom.id);
    const auto& n = std::get<network_event>(e);
    return "net " + n.net.name + " " + std::to_string(n.event);
}

TEST(test_driver_events, lifecycle_as_libvirt_9_reports_it_to_every_connection) {
    set_error_handler([](const error_info&) {});
    auto watcher = any_connection::open<drivers>("test:///default");
    auto actor = basic_connection<hypervisor::test>::open("test:///default");
    std::vector<std::string> seen;
    auto sub = watcher.subscribe_events([&](const event& e) { seen.push_back(describe(e)); });
    auto dom = actor.lookup_domain_by_name("test");
    dom.suspend();
    dom.resume();
    dom.destroy();
    dom.create();
    EXPECT_THROW(dom.resume(), error);  // a failed call reports nothing
    auto net = actor.lookup_network_by_name("default");
    net.destroy();
    net.create();
    // the ids: running 1 while paused, -1 once stopped, the next id at start
    EXPECT_EQ(seen, (std::vector<std::string>{"test 3 0 id 1", "test 4 0 id 1", "test 5 1 id -1", "test 2 0 id 2",
                                              "net default 3", "net default 2"}));
    sub.reset();
    dom.suspend();
    EXPECT_EQ(seen.size(), 6U);
    set_error_handler({});
}

TEST(test_driver_events, a_handler_may_call_the_driver) {
    auto conn = basic_connection<hypervisor::test>::open("test:///default");
    std::vector<std::string> states;
    auto sub = conn.subscribe_events([&](const event& e) {
        if (const auto* d = std::get_if<domain_event>(&e))
            states.push_back(std::to_string(static_cast<int>(conn.lookup_domain_by_name(d->dom.name).info().state)));
    });
    auto dom = conn.lookup_domain_by_name("test");
    dom.suspend();  // the handler's call would deadlock if events were delivered under the driver's lock
    dom.resume();
    EXPECT_EQ(states, (std::vector<std::string>{"3", "1"}));
}

}  // namespace
