// The client side of virConnectOpen's name handling: libvirt.conf's uri_default and uri_aliases.
// The file is /etc/libvirt/libvirt.conf for root and $XDG_CONFIG_HOME/libvirt/libvirt.conf
// (default ~/.config) for other users, as libvirt reads it (one or the other, never both).
#pragma once

#include <string>
#include <string_view>

namespace virtpp {

/// Where libvirt.conf is read for this process's user.
[[nodiscard]] std::string client_config_path();

/// The URI virConnectOpen(name) uses: an empty name becomes $LIBVIRT_DEFAULT_URI, else
/// uri_default; the result, when it is the name of one of uri_aliases, becomes that alias's
/// URI. An empty result means "probe": the drivers offer their default (qemu:///system for root,
/// qemu:///session otherwise, xen:///system on a Xen host), or the local daemon probes.
/// Raises CONF_SYNTAX for a malformed file and CONF_SYNTAX naming the entry for a malformed alias.
[[nodiscard]] std::string resolve_connect_name(std::string_view name);

}  // namespace virtpp
