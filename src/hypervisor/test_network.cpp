// hypervisor::test: virtual networks, with libvirt 9.0's test driver's transitions and messages.
#include "hypervisor/test_detail.hpp"
#include "hypervisor/network_driver.hpp"

#include <virtpp/error.hpp>

#include <algorithm>
#include <cstdio>
#include <mutex>

namespace virtpp::hypervisor {

using test_detail::network_obj;

namespace {
using read_lock = std::shared_lock<std::shared_mutex>;
using write_lock = std::unique_lock<std::shared_mutex>;

[[noreturn]] void no_network_named(const std::string& name) {
    raise(error_code::no_network, error_domain::test, "no network with matching name '" + name + "'");
}
}  // namespace

network_obj& test::state::impl::network(const network_ref& ref) const {
    // 9.0's test driver finds networks of a handle by name
    if (auto* n = find_network_by_name(ref.name)) return *n;
    no_network_named(ref.name);
}
network_obj* test::state::impl::find_network_by_name(std::string_view name) const {
    return networks.find_by_name(name);
}
network_obj* test::state::impl::find_network_by_uuid(const virtpp::uuid& id) const {
    return networks.find_by_uuid(id);
}
network_obj& test::state::impl::add_network(xml::network_def def, bool live) {
    if (!def.uuid) def.uuid = virtpp::uuid::generate();
    auto obj = std::make_unique<network_obj>();
    obj->config = def;
    obj->persistent = true;
    if (live) obj->live = std::move(def);
    return networks.add(std::move(obj));
}

namespace {
/// virNetworkObjAssignDef's checks. Returns the network with that uuid, if any.
network_obj* check_network_conflicts(const test::state::impl& host, xml::network_def& def, bool starting) {
    if (!def.uuid) def.uuid = virtpp::uuid::generate();
    if (auto* existing = host.find_network_by_uuid(*def.uuid)) {
        if (existing->current().name != def.name)
            raise(error_code::operation_failed, error_domain::network,
                  "network '" + existing->current().name + "' is already defined with uuid " + def.uuid->str());
        if (starting && existing->active())
            raise(error_code::operation_invalid, error_domain::network,
                  "network is already active as '" + existing->current().name + "'");
        return existing;
    }
    if (auto* same_name = host.find_network_by_name(def.name))
        raise(error_code::operation_failed, error_domain::network,
              "network '" + def.name + "' already exists with uuid " + same_name->current().uuid->str());
    return nullptr;
}
}  // namespace

int test::state::perform(op::connect_num_of_networks, const op::none&) {
    pause();
    read_lock lock(impl_->mutex);
    return static_cast<int>(impl_->networks.count_if([](const network_obj& n) { return n.active(); }));
}
std::vector<std::string> test::state::perform(op::connect_list_networks, const op::none&) {
    pause();
    read_lock lock(impl_->mutex);
    std::vector<std::string> out;
    for (const auto& n : impl_->networks.owners())
        if (n->active()) out.push_back(n->current().name);
    return out;
}
int test::state::perform(op::connect_num_of_defined_networks, const op::none&) {
    pause();
    read_lock lock(impl_->mutex);
    return static_cast<int>(impl_->networks.count_if([](const network_obj& n) { return !n.active(); }));
}
std::vector<std::string> test::state::perform(op::connect_list_defined_networks, const op::none&) {
    pause();
    read_lock lock(impl_->mutex);
    std::vector<std::string> out;
    for (const auto& n : impl_->networks.owners())
        if (!n->active()) out.push_back(n->current().name);
    return out;
}
std::vector<network_ref> test::state::perform(op::connect_list_all_networks, const op::connect_list_all_networks::args& a) {
    pause();
    using namespace network_list_flags;
    test_detail::check_flags(a.flags, 0x3fU, "testConnectListAllNetworks");
    auto pick = [&](unsigned yes, unsigned no, bool value) {
        if ((a.flags & (yes | no)) == 0 || (a.flags & (yes | no)) == (yes | no)) return true;
        return (a.flags & yes) ? value : !value;
    };
    read_lock lock(impl_->mutex);
    std::vector<network_ref> out;
    for (const auto& n : impl_->networks.owners()) {
        if (!pick(active, inactive, n->active())) continue;
        if (!pick(persistent, transient, n->persistent)) continue;
        if (!pick(network_list_flags::autostart, no_autostart, n->autostart)) continue;
        out.push_back(n->ref());
    }
    return out;
}

network_ref test::state::perform(op::network_lookup_by_name, const op::network_lookup_by_name::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return impl_->network({a.name, {}}).ref();
}
network_ref test::state::perform(op::network_lookup_by_uuid, const op::network_lookup_by_uuid::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    if (auto* n = impl_->find_network_by_uuid(a.uuid)) return n->ref();
    raise(error_code::no_network, error_domain::test, "no network with matching uuid '" + a.uuid.str() + "'");
}

network_ref test::state::perform(op::network_create_xml, const op::network_create_xml::args& a) {
    pause();
    auto def = xml::parse_network_xml(a.xml);
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto* existing = check_network_conflicts(*impl_, def, true);
    if (existing == nullptr) {
        existing = &impl_->add_network(def, true);
        existing->persistent = false;
    } else {
        existing->live = std::move(def);  // the persistent configuration stays for later starts
    }
    impl_->queue_event(*existing, network_lifecycle::started);
    return existing->ref();
}

network_ref test::state::perform(op::network_define_xml, const op::network_define_xml::args& a) {
    pause();
    auto def = xml::parse_network_xml(a.xml);
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto* existing = check_network_conflicts(*impl_, def, false);
    if (existing == nullptr) {
        auto& added = impl_->add_network(std::move(def), false);
        impl_->queue_event(added, network_lifecycle::defined);
        return added.ref();
    }
    if (existing->active()) existing->next = std::move(def);  // takes effect when it stops
    else existing->config = std::move(def);
    existing->persistent = true;
    impl_->queue_event(*existing, network_lifecycle::defined);
    return existing->ref();
}

void test::state::perform(op::network_undefine, const op::network_undefine::args& a) {
    pause();
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->network(a.net);
    if (obj.active())
        raise(error_code::operation_invalid, error_domain::test, "Network '" + a.net.name + "' is still running");
    impl_->queue_event(obj, network_lifecycle::undefined);
    impl_->networks.remove(obj);
}

void test::state::perform(op::network_create, const op::network_create::args& a) {
    pause();
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->network(a.net);
    if (obj.active())
        raise(error_code::operation_invalid, error_domain::test, "Network '" + a.net.name + "' is already running");
    obj.live = obj.config;
    impl_->queue_event(obj, network_lifecycle::started);
}

void test::state::perform(op::network_destroy, const op::network_destroy::args& a) {
    pause();
    event_hub::deliver_on_exit deliver(impl_->events);
    write_lock lock(impl_->mutex);
    auto& obj = impl_->network(a.net);
    // 9.0 does not check that the network runs: destroying a stopped network succeeds
    obj.live.reset();
    if (obj.next) {
        obj.config = std::move(*obj.next);
        obj.next.reset();
    }
    impl_->queue_event(obj, network_lifecycle::stopped);
    if (!obj.persistent) impl_->networks.remove(obj);
}

std::string test::state::perform(op::network_get_xml_desc, const op::network_get_xml_desc::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testNetworkGetXMLDesc");
    read_lock lock(impl_->mutex);
    return xml::format_network_xml(impl_->network(a.net).current());
}

std::string test::state::perform(op::network_get_bridge_name, const op::network_get_bridge_name::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    const auto& def = impl_->network(a.net).current();
    if (!def.bridge || !def.bridge->name)
        raise(error_code::internal_error, error_domain::test, "network '" + def.name + "' does not have a bridge name.");
    return *def.bridge->name;
}

bool test::state::perform(op::network_get_autostart, const op::network_get_autostart::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return impl_->network(a.net).autostart;
}
void test::state::perform(op::network_set_autostart, const op::network_set_autostart::args& a) {
    pause();
    write_lock lock(impl_->mutex);
    impl_->network(a.net).autostart = a.autostart;
}
namespace {
/// is_active / is_persistent find the network by UUID in 9.0 (the other calls by name).
const network_obj& network_by_uuid(const test::state::impl& host, const network_ref& ref) {
    if (auto* n = host.find_network_by_uuid(ref.uuid)) return *n;
    raise(error_code::no_network, error_domain::test, "no network with matching uuid '" + ref.uuid.str() + "'");
}
}  // namespace

bool test::state::perform(op::network_is_active, const op::network_is_active::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return network_by_uuid(*impl_, a.net).active();
}
bool test::state::perform(op::network_is_persistent, const op::network_is_persistent::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return network_by_uuid(*impl_, a.net).persistent;
}

void test::state::perform(op::network_update, const op::network_update::args& a) {
    pause();
    test_detail::check_flags(a.flags, 3, "testNetworkUpdate");
    write_lock lock(impl_->mutex);
    auto& obj = impl_->network(a.net);
    bool live = (a.flags & 1U) || (a.flags == 0 && obj.active());
    bool config = (a.flags & 2U) || (a.flags == 0 && !obj.active());
    if (live && !obj.active()) raise(error_code::operation_invalid, error_domain::network, "network is not running");
    // both copies change, or neither
    auto new_live = obj.live;
    auto new_config = obj.next ? *obj.next : obj.config;
    if (live) network::apply_update(*new_live, a.command, a.section, a.parent_index, a.xml);
    if (config) network::apply_update(new_config, a.command, a.section, a.parent_index, a.xml);
    if (live) obj.live = std::move(new_live);
    if (config) (obj.next ? *obj.next : obj.config) = std::move(new_config);
}

std::vector<network_dhcp_lease> test::state::perform(op::network_get_dhcp_leases, const op::network_get_dhcp_leases::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testNetworkGetDHCPLeases");
    read_lock lock(impl_->mutex);
    (void)impl_->network(a.net);
    return {};
}

}  // namespace virtpp::hypervisor
