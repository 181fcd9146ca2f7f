// hypervisor::qemu: the virtual network API, served by the driver's network::driver.
#include "hypervisor/qemu_driver.hpp"

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
network_ref qemu::state::perform(op::network_create_xml, const op::network_create_xml::args& a) {
    return driver_->networks->create_transient(a.xml);
}
network_ref qemu::state::perform(op::network_define_xml, const op::network_define_xml::args& a) {
    return driver_->networks->define(a.xml);
}
void qemu::state::perform(op::network_undefine, const op::network_undefine::args& a) { driver_->networks->undefine(a.net); }
void qemu::state::perform(op::network_create, const op::network_create::args& a) { driver_->networks->start(a.net); }
void qemu::state::perform(op::network_destroy, const op::network_destroy::args& a) { driver_->networks->destroy(a.net); }
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

}  // namespace virtpp::hypervisor
