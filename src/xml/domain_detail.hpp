// Internal to the domain XML reader and writer: the enum <-> string tables (libvirt's spellings)
// and the few rules both sides need.
#pragma once

#include <virtpp/xml/domain.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace virtpp::xml::detail {

/// One table per enum, indexed by the enum's value; the strings are libvirt's.
template <class Enum, std::size_t N>
struct enum_names {
    std::array<std::string_view, N> names;

    [[nodiscard]] constexpr std::string_view operator()(Enum value) const noexcept {
        return names[static_cast<std::size_t>(value)];
    }
    [[nodiscard]] constexpr std::optional<Enum> parse(std::string_view text) const noexcept {
        for (std::size_t i = 0; i < N; ++i)
            if (names[i] == text) return static_cast<Enum>(i);
        return std::nullopt;
    }
};

inline constexpr enum_names<domain_virt_type, 15> virt_type_names{
    {"qemu", "kqemu", "kvm", "xen", "lxc", "uml", "openvz", "test", "vmware", "hyperv", "vbox", "phyp",
     "parallels", "bhyve", "vz"}};
inline constexpr enum_names<lifecycle_action, 6> lifecycle_names{
    {"destroy", "restart", "rename-restart", "preserve", "coredump-destroy", "coredump-restart"}};
inline constexpr enum_names<boot_device, 4> boot_names{{"fd", "cdrom", "hd", "network"}};
inline constexpr enum_names<clock_offset, 5> clock_offset_names{
    {"utc", "localtime", "timezone", "variable", "absolute"}};
inline constexpr enum_names<clock_basis, 2> clock_basis_names{{"utc", "localtime"}};
inline constexpr enum_names<address_type, 5> address_type_names{
    {"pci", "drive", "virtio-serial", "ccid", "usb"}};
inline constexpr enum_names<controller_type, 10> controller_type_names{
    {"ide", "fdc", "scsi", "sata", "virtio-serial", "ccid", "usb", "pci", "xenbus", "isa"}};
inline constexpr enum_names<interface_type, 7> interface_type_names{
    {"user", "network", "bridge", "ethernet", "mcast", "server", "client"}};
inline constexpr enum_names<chardev_type, 10> chardev_type_names{
    {"null", "vc", "pty", "dev", "file", "pipe", "stdio", "udp", "tcp", "unix"}};
inline constexpr enum_names<input_type, 3> input_type_names{{"mouse", "tablet", "keyboard"}};
inline constexpr enum_names<input_bus, 4> input_bus_names{{"ps2", "usb", "xen", "virtio"}};
inline constexpr enum_names<graphics_type, 2> graphics_type_names{{"sdl", "vnc"}};

/// Whether <os><type> names a fully virtualized guest (libvirt's VIR_DOMAIN_OSTYPE_HVM).
[[nodiscard]] inline bool is_hvm(const domain_def& def) noexcept { return def.os.type == "hvm"; }

/// The console alias rule of libvirt's formatter: an HVM guest's console n whose target is a
/// serial port (or none) prints serial n's source, when that serial port exists.
[[nodiscard]] inline bool console_aliases_serial(const domain_def& def, std::size_t n) noexcept {
    const auto& console = def.devices.consoles[n];
    return is_hvm(def) && (!console.target_type || *console.target_type == "serial") &&
           n < def.devices.serials.size();
}

/// Interface names libvirt generates (and so drops from inactive XML): vnetN, macvtapN, macvlanN,
/// and Xen's vifN.M.
[[nodiscard]] inline bool is_generated_ifname(std::string_view name) noexcept {
    for (std::string_view prefix : {"vnet", "macvtap", "macvlan", "vif"})
        if (name.substr(0, prefix.size()) == prefix) return true;
    return false;
}

}  // namespace virtpp::xml::detail
