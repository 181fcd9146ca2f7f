// Internal: the devices libvirt 9.0's QEMU driver adds to an x86 i440fx ("pc") definition when it
// is defined — implicit controllers, drive and PCI addresses, PS/2 inputs, disk drivers, the NIC
// model — so that dumpxml shows what libvirtd shows and the command line uses those addresses.
#pragma once

#include <virtpp/xml/domain.hpp>

#include <string_view>

namespace virtpp::hypervisor::qemu_detail {

/// Completes def in place (machine already resolved). Other machine types are left as they are.
/// source_xml, when given, is the definition as written: libvirt orders disks by the bus
/// attribute as written (before it derives the absent ones), which the parsed def no longer says.
void complete_pc_devices(xml::domain_def& def, std::string_view source_xml = {});

}  // namespace virtpp::hypervisor::qemu_detail
