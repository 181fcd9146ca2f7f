// Internal: starting qemu as the driver's child, watching it through a pidfd, and the tap
// devices the driver makes for bridged interfaces.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace virtpp::hypervisor::qemu_detail {

struct spawn_request {
    std::vector<std::string> argv;
    std::vector<int> fds;  ///< become fds 3, 4, 5... in qemu, in this order
    int log_fd = -1;       ///< qemu's stdout and stderr
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    std::vector<int> cpus;  ///< the process's CPU affinity; empty = every CPU
};

/// Forks and execs qemu (it stays our child: no -daemonize). Returns its pid.
pid_t spawn_process(const spawn_request& req);

/// A pidfd for pid; -1 when the process is gone.
int open_pidfd(pid_t pid);
/// Waits until the process behind pidfd exits; false on timeout.
bool wait_pidfd(int pidfd, std::chrono::milliseconds timeout);
/// Collects the exit status when the process is our child (nothing otherwise).
void reap_pidfd(int pidfd);
/// SIGTERM, then SIGKILL if it has not exited after grace; waits for it and reaps it.
void terminate_process(pid_t pid, int pidfd, std::chrono::milliseconds grace);

struct tap_device {
    std::string name;
    int fd = -1;
};
/// Makes a tap device (name may be empty or end in %d: the first free vnetN is taken) and sets it up.
tap_device create_tap(const std::string& name);
/// Enslaves a tap to a bridge (SIOCBRADDIF); raises naming the bridge when it does not exist.
/// Gives a tap the guest's MAC with its first byte 0xFE, as libvirt does (the bridge then never
/// takes the guest's own address as its own).
void set_tap_mac(const std::string& tap, const std::string& guest_mac);
void add_to_bridge(const std::string& tap, const std::string& bridge);
/// Runs an interface script with the tap name as its argument (the seed's /etc/qemu-ifup contract).
void run_interface_script(const std::string& script, const std::string& tap);
/// rx/tx counters of a host interface from /sys/class/net/<name>/statistics.
std::optional<std::vector<std::int64_t>> host_interface_counters(const std::string& name);

}  // namespace virtpp::hypervisor::qemu_detail
