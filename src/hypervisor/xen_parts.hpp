// What the Xen driver's parts share inside the compiled layer.
#pragma once

#include <virtpp/types.hpp>
#include <virtpp/xen/sexpr.hpp>

namespace virtpp::xen {

/// virDomainInfo from xend's (domain ...) record, as libvirt 0.3.2 read it: state from the
/// r/b/p/s/c/d flags (none: shut off with xend 3.0.4 and later), memory and maxmem in MiB,
/// vcpus, cpu_time in seconds.
[[nodiscard]] domain_info domain_info_from_record(const sexpr& full, int xend_config_version);

}  // namespace virtpp::xen
