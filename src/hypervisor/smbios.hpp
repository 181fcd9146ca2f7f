// Internal: the host's SMBIOS as libvirt's <sysinfo type='smbios'>, read the way libvirt 9.0
// reads it on x86 (dmidecode -q -t 0,1,2,3,4,11,17), for the QEMU driver's virConnectGetSysinfo.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace virtpp::hypervisor::smbios {

/// <sysinfo type='smbios'>…</sysinfo>\n from dmidecode's text, field for field as libvirt's
/// parser takes it (each field is searched from its section's heading onwards, trailing blanks
/// dropped, absent sections left out, unpopulated memory slots skipped).
[[nodiscard]] std::string sysinfo_from_dmidecode(std::string_view dmidecode_output);

/// The host's sysinfo, read once per process as libvirtd reads it once at start-up; nullopt when
/// dmidecode is missing or fails (no /dev/mem, no DMI tables), as in containers and on this
/// kind of build machine.
[[nodiscard]] const std::optional<std::string>& host_sysinfo();

}  // namespace virtpp::hypervisor::smbios
