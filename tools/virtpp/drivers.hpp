// The drivers virtpp can reach, in the order URIs are offered to them: the local drivers first
// (xen:/// for a user who is not root goes through the daemon's read-only socket), then the
// remote driver, which takes every URI with a transport or a host (and any driver URI no local
// driver claimed). Nothing else in the CLI names a driver.
#pragma once

#include <virtpp/any.hpp>
#include <virtpp/hypervisor/remote.hpp>
#include <virtpp/hypervisor/test.hpp>
#include <virtpp/hypervisor/xen.hpp>
#include <virtpp/xen/proxy.hpp>

namespace virtpp::cli {
using drivers = virtpp::driver_list<virtpp::driver<virtpp::hypervisor::test>,
                                    virtpp::driver<virtpp::hypervisor::remote, virtpp::xen::proxy>,
                                    virtpp::driver<virtpp::hypervisor::xen>,
                                    virtpp::driver<virtpp::hypervisor::remote, virtpp::transport::remote>>;
}  // namespace virtpp::cli
