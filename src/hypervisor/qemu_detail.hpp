// Internal: the pieces of the QEMU driver that tests reach directly — the command-line builder,
// the driver's directories and configuration, and the host probe.
#pragma once

#include "file_io.hpp"

#include <virtpp/error.hpp>
#include <virtpp/xml/capabilities.hpp>
#include <virtpp/xml/domain.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::hypervisor::qemu_detail {

/// virDomainRunningReason / virDomainPausedReason / virDomainShutoffReason / crashed values.
namespace reason {
inline constexpr int running_booted = 1, running_migrated = 2, running_restored = 3, running_unpaused = 5,
                     running_migration_canceled = 6;
inline constexpr int paused_user = 1, paused_migration = 2, paused_save = 3, paused_dump = 4, paused_shutting_down = 7, paused_crashed = 9,
                     paused_starting_up = 11;
inline constexpr int shutdown_user = 1;
inline constexpr int shutoff_unknown = 0, shutoff_shutdown = 1, shutoff_destroyed = 2, shutoff_crashed = 3,
                     shutoff_migrated = 4, shutoff_saved = 5, shutoff_failed = 6;
inline constexpr int crashed_panicked = 1;
}  // namespace reason

/// Where one driver keeps its files (libvirt 9.0's layout for system / session, or one root).
struct driver_paths {
    std::string config_dir;     ///< persistent definitions <name>.xml
    std::string autostart_dir;  ///< <name>.xml links of autostarted guests
    std::string run_dir;        ///< running-guest status, monitor sockets
    std::string log_dir;        ///< <name>.log per guest
    std::string cache_dir;      ///< capabilities cache
    std::string conf_file;      ///< qemu.conf
    std::string save_dir;       ///< managed save images
};

/// The paths for qemu:///system (privileged) or qemu:///session; VIRTPP_QEMU_STATE_DIR overrides both.
[[nodiscard]] driver_paths paths_for(bool privileged);
/// Every directory under one root (the VIRTPP_QEMU_STATE_DIR layout).
[[nodiscard]] driver_paths paths_under(const std::string& root);

/// The qemu.conf subset the driver reads.
struct driver_config {
    std::string user = "root";
    std::string group = "root";
    std::string vnc_listen = "127.0.0.1";
    std::string migration_address = "0.0.0.0";  ///< where an incoming migration listens
    std::string migration_host;                  ///< the host name given to the source (default: ours)
    int migration_port_min = 49152;
    int migration_port_max = 49215;
    /// virtpp's own key: the stream rate (MiB/s) of save and dump, which libvirt leaves
    /// unlimited (0, the default); a limit keeps a slow disk usable, and makes progress visible.
    std::uint64_t save_max_bandwidth = 0;
};
/// Parses qemu.conf text (`key = "value"` lines, # comments). Bad syntax raises CONF_SYNTAX.
[[nodiscard]] driver_config parse_driver_config(std::string_view text, std::string_view file_name);

/// What the command line depends on besides the definition: resolved once by the driver at start,
/// given explicitly by the conformance test, so the same inputs always give the same argv.
struct command_options {
    std::string emulator;           ///< the binary to run
    bool kvm = false;               ///< -accel kvm (else tcg)
    std::string vnc_listen = "127.0.0.1";
    int monitor_fd = 3;             ///< the listening monitor socket, as numbered inside qemu
    int first_tap_fd = 4;           ///< tap fds follow the monitor fd, one per tap interface
    std::vector<int> vnc_ports;     ///< resolved ports for vnc graphics with autoport, in order
    bool incoming = false;          ///< -incoming defer (restore and migration)
};

struct command_line {
    std::vector<std::string> argv;
    std::vector<std::string> tap_names;  ///< one per tap-kind interface, in interface order
};

/// Turns a definition into qemu's arguments (argv[0] is the emulator). Raises CONFIG_UNSUPPORTED
/// for what the driver cannot express, naming it.
[[nodiscard]] command_line build_command_line(const xml::domain_def& def, const command_options& opts);

/// What a running guest's definition shows beyond its configuration, as libvirt's QEMU driver
/// fills it at start: every device's alias (the id it has inside qemu), the VNC listen address,
/// and the DAC label qemu runs with ("+uid:+gid"). Applied again to a definition read back from
/// a status file, so it is the same after a daemon restart.
/// The storage number of disk i (its QEMU nodes libvirt-N-storage/-format, its <source index>):
/// libvirt counts from the last disk to the first, an empty drive taking a number too.
unsigned disk_storage_index(const xml::domain_def& def, std::size_t i);
void complete_live_definition(xml::domain_def& def, const std::string& vnc_listen, unsigned uid, unsigned gid);

/// The command line as libvirt's tests write .args files: one argument a line, joined with " \",
/// shell-quoted where needed.
[[nodiscard]] std::string format_args(const std::vector<std::string>& argv);

/// A value for a QEMU option list ("key=value,key=value"): commas doubled, as libvirt does, so
/// the value cannot end early and add options of its own. Every such value goes through this
/// (-name, -machine, -chardev, -vnc); JSON arguments (-blockdev, -netdev, -device) are quoted
/// by the JSON writer instead.
[[nodiscard]] std::string escape_option_value(std::string_view value);

/// A VNC keymap as libvirt's schema allows it ([A-Za-z0-9_-]+); anything else is refused.
void check_keymap(std::string_view keymap);

/// The qemu-system-* binary for an arch ("i686" -> qemu-system-i386), searched in PATH.
[[nodiscard]] std::optional<std::string> find_emulator(std::string_view arch);
/// The arch a binary emulates, from its name (qemu-system-i386 -> i686).
[[nodiscard]] std::optional<std::string> emulator_arch(std::string_view binary);
/// True when /dev/kvm opens read-write.
[[nodiscard]] bool kvm_usable();

struct machine_type {
    std::string name;
    std::optional<std::string> alias_of;  ///< "pc" is an alias of pc-i440fx-7.2
    bool is_default = false;
    bool deprecated = false;
};
/// The machines a binary offers (its `-machine help`), cached under cache_dir keyed by the
/// binary's path and mtime.
[[nodiscard]] std::vector<machine_type> machine_types(const std::string& binary, const std::string& cache_dir);
/// The binary's version as libvirt reports it (major * 1000000 + minor * 1000 + micro).
[[nodiscard]] std::uint64_t emulator_version(const std::string& binary, const std::string& cache_dir);

/// The capabilities document: host, plus one guest per qemu binary found.
[[nodiscard]] xml::capabilities probe_capabilities(const std::string& cache_dir);

/// Writes a file atomically: temp file, fsync, rename, fsync of the directory (file_io.hpp).
inline void write_file_atomic(const std::string& path, std::string_view content) {
    file_io::write_file_atomic(path, content, error_domain::qemu);
}

// Files of the driver's state directories, opened relative to the directory (openat) and never
// through a symbolic link (O_NOFOLLOW): FILE must be one path component, not "." or "..", within
// NAME_MAX, else the call fails before touching anything.
void check_state_file_name(std::string_view file);
/// write_file_atomic inside DIR.
/// DURABLE false skips the fsyncs, for files regenerated from other state at every use (still
/// replaced atomically: readers see the old or the new content).
void write_file_atomic_at(const std::string& dir, const std::string& file, std::string_view content, bool durable = true);
/// A regular file of DIR, nullopt when it does not exist.
[[nodiscard]] std::optional<std::string> read_file_at(const std::string& dir, const std::string& file);
/// Removes FILE from DIR; true when it is gone (also when it was not there), else errno is set.
bool remove_file_at(const std::string& dir, const std::string& file);
/// Appends to FILE of DIR (created 0600); best effort, for logs.
void append_file_at(const std::string& dir, const std::string& file, std::string_view text);
/// Makes FILE of DIR a symbolic link to TARGET; raises on failure.
void symlink_at(const std::string& target, const std::string& dir, const std::string& file);
/// The longest domain name whose files (<name>.xml, .json, .log, .monitor) fit in NAME_MAX.
inline constexpr std::size_t max_domain_name = 255 - 8;
/// Reads a whole file; nullopt when it does not exist.
[[nodiscard]] inline std::optional<std::string> read_file(const std::string& path) {
    return file_io::read_file(path, error_domain::qemu);
}
/// mkdir -p with mode 0700 for new directories.
void make_dirs(const std::string& path);

/// libvirt's QEMU driver error: raise(code, error_domain::qemu, detail).
[[noreturn]] inline void fail(error_code code, std::string_view detail) { raise(code, error_domain::qemu, detail); }

}  // namespace virtpp::hypervisor::qemu_detail
