// Internal, for drivers: the checks every virConnectGetAllDomainStats implementation makes on the
// requested stats groups, as libvirt 9.0's drivers make them.
#pragma once

#include <virtpp/error.hpp>
#include <virtpp/types.hpp>

#include <cstdio>
#include <string>

namespace virtpp::hypervisor::detail {

/// The groups to collect: all the driver has when none are asked for; with the enforce flag a
/// group the driver lacks is ARGUMENT_UNSUPPORTED, without it such groups are dropped silently.
inline unsigned resolve_stats_groups(unsigned requested, unsigned supported, unsigned flags, error_domain from) {
    if (requested == 0) return supported;
    if ((flags & domain_stats::flag_enforce) && (requested & ~supported)) {
        char bits[32];
        std::snprintf(bits, sizeof bits, "0x%x", requested & ~supported);
        raise(error_code::argument_unsupported, from,
              std::string("Stats types bits ") + bits + " are not supported by this daemon");
    }
    return requested & supported;
}

/// A typed field of a stats record.
inline void add_stat(std::vector<typed_param>& out, std::string field, typed_param::value_type value) {
    out.push_back({std::move(field), std::move(value)});
}

}  // namespace virtpp::hypervisor::detail
