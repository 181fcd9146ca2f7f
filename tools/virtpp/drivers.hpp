// The drivers virtpp can reach, in the order URIs are offered to them. Remote transports join
// this list when they exist; nothing else in the CLI names a driver.
#pragma once

#include <virtpp/any.hpp>
#include <virtpp/hypervisor/test.hpp>

namespace virtpp::cli {
using drivers = virtpp::driver_list<virtpp::driver<virtpp::hypervisor::test>>;
}  // namespace virtpp::cli
