// hypervisor::test: the built-in host's storage pool, host interface and node devices (libvirt
// 9.0's test:///default has the same: default-pool, eth1, and the computer with three SCSI
// hosts), and the read-only interface and node device calls on them.
#include "hypervisor/test_detail.hpp"

#include <virtpp/error.hpp>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace virtpp::hypervisor {

namespace {
using read_lock = std::shared_lock<std::shared_mutex>;

constexpr std::string_view eth1_xml = R"(<interface type='ethernet' name='eth1'>
  <start mode='onboot'/>
  <mtu size='1492'/>
  <protocol family='ipv4'>
    <ip address='192.168.0.5' prefix='24'/>
    <route gateway='192.168.0.1'/>
  </protocol>
  <mac address='aa:bb:cc:dd:ee:ff'/>
</interface>
)";

constexpr std::string_view computer_xml = R"(<device>
  <name>computer</name>
  <capability type='system'>
    <hardware>
      <vendor>Libvirt</vendor>
      <version>Test driver</version>
      <serial>123456</serial>
      <uuid>11111111-2222-3333-4444-555555555555</uuid>
    </hardware>
    <firmware>
      <vendor>Libvirt</vendor>
      <version>Test Driver</version>
      <release_date>01/22/2007</release_date>
    </firmware>
  </capability>
</device>
)";

/// A SCSI host with an FC host capability (and vport operations unless it is itself a vport).
std::string scsi_host_xml(int host, const std::string& parent, int unique_id, std::string_view wwn,
                          std::string_view fabric_wwn, bool vport_ops) {
    std::string out = "<device>\n  <name>scsi_host" + std::to_string(host) + "</name>\n";
    out += "  <parent>" + parent + "</parent>\n";
    out += "  <capability type='scsi_host'>\n";
    out += "    <host>" + std::to_string(host) + "</host>\n";
    out += "    <unique_id>" + std::to_string(unique_id) + "</unique_id>\n";
    out += "    <capability type='fc_host'>\n";
    out += "      <wwnn>20000000" + std::string(wwn) + "</wwnn>\n";
    out += "      <wwpn>10000000" + std::string(wwn) + "</wwpn>\n";
    out += "      <fabric_wwn>20000000" + std::string(fabric_wwn) + "</fabric_wwn>\n";
    out += "    </capability>\n";
    if (vport_ops) {
        out += "    <capability type='vport_ops'>\n";
        out += "      <max_vports>0</max_vports>\n";
        out += "      <vports>0</vports>\n";
        out += "    </capability>\n";
    }
    out += "  </capability>\n</device>\n";
    return out;
}

/// VIR_CONNECT_LIST_NODE_DEVICES_CAP_* bits the devices here match.
namespace cap_bit {
inline constexpr unsigned system = 1U << 0, scsi_host = 1U << 5, fc_host = 1U << 9, vports = 1U << 10;
inline constexpr unsigned all = 0x3fffffU;  ///< every CAP_* filter libvirt 9.0 has (up to VPD)
}  // namespace cap_bit

const test_detail::host_interface& interface_named(const test::state::impl& host, std::string_view name) {
    for (const auto& i : host.interfaces)
        if (i.name == name) return i;
    raise(error_code::no_interface, error_domain::test, "no interface with matching name '" + std::string(name) + "'");
}

const test_detail::node_device& device_named(const test::state::impl& host, std::string_view name) {
    for (const auto& d : host.node_devices)
        if (d.name == name) return d;
    raise(error_code::no_node_device, error_domain::test, "no node device with matching name '" + std::string(name) + "'");
}
}  // namespace

namespace test_detail {
void add_default_host_objects(test::state::impl& host) {
    storage_pool_obj pool;
    pool.name = "default-pool";
    pool.uuid = *virtpp::uuid::parse("dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566");
    pool.target_path = "/default-pool";
    pool.capacity = 107374182400ULL;  // 100 GiB
    host.pools.push_back(std::move(pool));

    host.interfaces.push_back({"eth1", "aa:bb:cc:dd:ee:ff", true, std::string(eth1_xml)});

    host.node_devices.push_back({"computer", std::nullopt, {"system"}, cap_bit::system, std::string(computer_xml)});
    constexpr unsigned fc = cap_bit::scsi_host | cap_bit::fc_host;
    host.node_devices.push_back({"scsi_host1", "computer", {"scsi_host"}, fc | cap_bit::vports,
                                 scsi_host_xml(1, "computer", 0, "12341234", "43214321", true)});
    host.node_devices.push_back({"scsi_host2", "computer", {"scsi_host"}, fc | cap_bit::vports,
                                 scsi_host_xml(2, "computer", 1, "56785678", "87658765", true)});
    host.node_devices.push_back({"scsi_host11", "scsi_host1", {"scsi_host"}, fc,
                                 scsi_host_xml(11, "scsi_host1", 10, "34563456", "43214321", false)});
}
}  // namespace test_detail

std::vector<interface_ref> test::state::perform(op::connect_list_all_interfaces, const op::connect_list_all_interfaces::args& a) {
    pause();
    constexpr unsigned inactive = 1U << 0, active = 1U << 1;
    test_detail::check_flags(a.flags, inactive | active, "testConnectListAllInterfaces");
    read_lock lock(impl_->mutex);
    std::vector<interface_ref> out;
    for (const auto& i : impl_->interfaces) {
        bool both_or_none = (a.flags & (inactive | active)) == 0 || (a.flags & (inactive | active)) == (inactive | active);
        if (!both_or_none && ((a.flags & active) != 0) != i.active) continue;
        out.push_back({i.name, i.mac});
    }
    return out;
}
interface_ref test::state::perform(op::interface_lookup_by_name, const op::interface_lookup_by_name::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    const auto& i = interface_named(*impl_, a.name);
    return {i.name, i.mac};
}
interface_ref test::state::perform(op::interface_lookup_by_mac_string, const op::interface_lookup_by_mac_string::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    // MAC addresses match whatever their case, as libvirt compares them
    auto same_mac = [](std::string_view x, std::string_view y) {
        return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), [](char c, char d) {
                   return std::tolower(static_cast<unsigned char>(c)) == std::tolower(static_cast<unsigned char>(d));
               });
    };
    for (const auto& i : impl_->interfaces)
        if (same_mac(i.mac, a.mac)) return {i.name, i.mac};
    raise(error_code::no_interface, error_domain::test, "no interface with matching mac '" + a.mac + "'");
}
std::string test::state::perform(op::interface_get_xml_desc, const op::interface_get_xml_desc::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testInterfaceGetXMLDesc");
    read_lock lock(impl_->mutex);
    return interface_named(*impl_, a.iface.name).xml;
}
bool test::state::perform(op::interface_is_active, const op::interface_is_active::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return interface_named(*impl_, a.iface.name).active;
}

std::vector<node_device_ref> test::state::perform(op::connect_list_all_node_devices,
                                                  const op::connect_list_all_node_devices::args& a) {
    pause();
    test_detail::check_flags(a.flags, cap_bit::all, "testConnectListAllNodeDevices");
    read_lock lock(impl_->mutex);
    std::vector<node_device_ref> out;
    for (const auto& d : impl_->node_devices)
        if (a.flags == 0 || (a.flags & d.list_caps) != 0) out.push_back({d.name});
    return out;
}
std::vector<std::string> test::state::perform(op::node_list_devices, const op::node_list_devices::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testNodeListDevices");
    read_lock lock(impl_->mutex);
    std::vector<std::string> out;
    for (const auto& d : impl_->node_devices) {
        // a capability matches by name: the device's own, or fc_host / vports beneath a SCSI host
        bool has = !a.cap || std::find(d.caps.begin(), d.caps.end(), *a.cap) != d.caps.end() ||
                   (*a.cap == "fc_host" && (d.list_caps & cap_bit::fc_host)) ||
                   (*a.cap == "vports" && (d.list_caps & cap_bit::vports));
        if (has) out.push_back(d.name);
    }
    return out;
}
node_device_ref test::state::perform(op::node_device_lookup_by_name, const op::node_device_lookup_by_name::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return {device_named(*impl_, a.name).name};
}
std::string test::state::perform(op::node_device_get_xml_desc, const op::node_device_get_xml_desc::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testNodeDeviceGetXMLDesc");
    read_lock lock(impl_->mutex);
    return device_named(*impl_, a.dev.name).xml;
}
std::optional<std::string> test::state::perform(op::node_device_get_parent, const op::node_device_get_parent::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return device_named(*impl_, a.dev.name).parent;
}
std::vector<std::string> test::state::perform(op::node_device_list_caps, const op::node_device_list_caps::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return device_named(*impl_, a.dev.name).caps;
}

}  // namespace virtpp::hypervisor
