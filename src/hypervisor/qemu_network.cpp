// hypervisor::qemu: the virtual network API, served by the driver's network::driver.
#include "hypervisor/qemu_driver.hpp"
#include "hypervisor/qemu_ops.hpp"

namespace virtpp::hypervisor {

int qemu::state::perform(op::connect_num_of_networks, const op::none&) { return driver_->networks->num_of(true); }
std::vector<std::string> qemu::state::perform(op::connect_list_networks, const op::none&) {
    return driver_->networks->names(true);
}
int qemu::state::perform(op::connect_num_of_defined_networks, const op::none&) { return driver_->networks->num_of(false); }
std::vector<std::string> qemu::state::perform(op::connect_list_defined_networks, const op::none&) {
    return driver_->networks->names(false);
}
std::vector<network_ref> qemu::state::perform(op::connect_list_all_networks, const op::connect_list_all_networks::args& a) {
    return driver_->networks->list_all(a.flags);
}
network_ref qemu::state::perform(op::network_lookup_by_name, const op::network_lookup_by_name::args& a) {
    return driver_->networks->lookup_by_name(a.name);
}
network_ref qemu::state::perform(op::network_lookup_by_uuid, const op::network_lookup_by_uuid::args& a) {
    return driver_->networks->lookup_by_uuid(a.uuid);
}
// Network lifecycle events as libvirt's network driver emits them (detail 0), once the change is made.
namespace {
void emit_network(qemu::driver& d, network_ref net, int what) {
    network_event e;
    e.net = std::move(net);
    e.event = what;
    d.emit(std::move(e));
}
}  // namespace

network_ref qemu::state::perform(op::network_create_xml, const op::network_create_xml::args& a) {
    auto ref = driver_->networks->create_transient(a.xml);
    emit_network(*driver_, ref, network_lifecycle::started);
    return ref;
}
network_ref qemu::state::perform(op::network_define_xml, const op::network_define_xml::args& a) {
    auto ref = driver_->networks->define(a.xml);
    emit_network(*driver_, ref, network_lifecycle::defined);
    return ref;
}
void qemu::state::perform(op::network_undefine, const op::network_undefine::args& a) {
    driver_->networks->undefine(a.net);
    emit_network(*driver_, a.net, network_lifecycle::undefined);
}
void qemu::state::perform(op::network_create, const op::network_create::args& a) {
    driver_->networks->start(a.net);
    emit_network(*driver_, a.net, network_lifecycle::started);
}
void qemu::state::perform(op::network_destroy, const op::network_destroy::args& a) {
    driver_->networks->destroy(a.net);
    emit_network(*driver_, a.net, network_lifecycle::stopped);
}
std::string qemu::state::perform(op::network_get_xml_desc, const op::network_get_xml_desc::args& a) {
    return driver_->networks->xml_desc(a.net, a.flags);
}
std::string qemu::state::perform(op::network_get_bridge_name, const op::network_get_bridge_name::args& a) {
    return driver_->networks->bridge_name(a.net);
}
bool qemu::state::perform(op::network_get_autostart, const op::network_get_autostart::args& a) {
    return driver_->networks->get_autostart(a.net);
}
void qemu::state::perform(op::network_set_autostart, const op::network_set_autostart::args& a) {
    driver_->networks->set_autostart(a.net, a.autostart);
}
bool qemu::state::perform(op::network_is_active, const op::network_is_active::args& a) {
    return driver_->networks->is_active(a.net);
}
bool qemu::state::perform(op::network_is_persistent, const op::network_is_persistent::args& a) {
    return driver_->networks->is_persistent(a.net);
}

void qemu::state::perform(op::network_update, const op::network_update::args& a) {
    driver_->networks->update(a.net, a.command, a.section, a.parent_index, a.xml, a.flags);
}

std::vector<network_dhcp_lease> qemu::state::perform(op::network_get_dhcp_leases, const op::network_get_dhcp_leases::args& a) {
    if (a.flags != 0) qemu_detail::fail(error_code::invalid_arg, "unsupported flags in function networkGetDHCPLeases");
    std::vector<network_dhcp_lease> out;
    for (auto& l : driver_->networks->leases(a.net, a.mac))
        out.push_back({l.iface, l.expiry_time, l.type, l.mac, std::nullopt, l.ipaddr, l.prefix, l.hostname.empty() ? std::nullopt : std::optional(l.hostname),
                       l.clientid.empty() ? std::nullopt : std::optional(l.clientid)});
    return out;
}

std::vector<domain_interface> qemu::state::perform(op::domain_interface_addresses, const op::domain_interface_addresses::args& a) {
    if (a.flags != 0) qemu_detail::fail(error_code::invalid_arg, "unsupported flags in function qemuDomainInterfaceAddresses");
    if (a.source == 1)
        qemu_detail::fail(error_code::no_support, "the QEMU guest agent is not supported by virtpp: use --source lease");
    if (a.source == 2)
        qemu_detail::fail(error_code::no_support, "interface addresses from the ARP table are not supported by virtpp: use --source lease");
    if (a.source != 0) qemu_detail::fail(error_code::invalid_arg, "Unknown IP address data source " + std::to_string(a.source));
    std::vector<xml::interface_def> nics;
    {
        qemu_detail::ops g{*driver_};
        auto o = g.lookup(a.dom);
        std::lock_guard lock(driver_->mutex);
        if (!o->active()) qemu_detail::fail(error_code::operation_invalid, "domain is not running");
        nics = o->live->devices.interfaces;
    }
    std::vector<domain_interface> out;
    for (const auto& n : nics) {
        if (n.type != xml::interface_type::network || !n.mac || !n.source_network) continue;
        network_ref net;
        try {
            net = driver_->networks->lookup_by_name(*n.source_network);
        } catch (const virtpp::error&) {
            continue;
        }
        domain_interface iface{n.target_dev, n.mac, {}};
        for (const auto& l : driver_->networks->leases(net, n.mac)) iface.addrs.push_back({l.type, l.ipaddr, l.prefix});
        if (!iface.addrs.empty()) out.push_back(std::move(iface));
    }
    return out;
}

}  // namespace virtpp::hypervisor
