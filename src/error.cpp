#include <virtpp/error.hpp>

#include <array>
#include <cstdio>

namespace virtpp {

namespace {

struct message_pair {
    error_code code;
    const char* without_detail;
    const char* with_detail;  ///< contains one %s
};

// libvirt's generic texts per code (virErrorMsg), so messages match byte for byte.
constexpr message_pair message_table[] = {
    {error_code::ok, nullptr, nullptr},
    {error_code::internal_error, "internal error", "internal error: %s"},
    {error_code::no_memory, "out of memory", "out of memory: %s"},
    {error_code::no_support, "this function is not supported by the connection driver", "this function is not supported by the connection driver: %s"},
    {error_code::unknown_host, "unknown host", "unknown host %s"},
    {error_code::no_connect, "no connection driver available", "no connection driver available for %s"},
    {error_code::invalid_conn, "invalid connection pointer in", "invalid connection pointer in %s"},
    {error_code::invalid_domain, "invalid domain pointer in", "invalid domain pointer in %s"},
    {error_code::invalid_arg, "invalid argument", "invalid argument: %s"},
    {error_code::operation_failed, "operation failed", "operation failed: %s"},
    {error_code::get_failed, "GET operation failed", "GET operation failed: %s"},
    {error_code::post_failed, "POST operation failed", "POST operation failed: %s"},
    {error_code::http_error, "got unknown HTTP error code", "got unknown HTTP error code %s"},
    {error_code::sexpr_serial, "failed to serialize S-Expr", "failed to serialize S-Expr: %s"},
    {error_code::no_xen, "could not use Xen hypervisor entry", "could not use Xen hypervisor entry %s"},
    {error_code::xen_call, "failed Xen syscall", "failed Xen syscall %s"},
    {error_code::os_type, "unknown OS type", "unknown OS type %s"},
    {error_code::no_kernel, "missing kernel information", "missing kernel information: %s"},
    {error_code::no_root, "missing root device information", "missing root device information in %s"},
    {error_code::no_source, "missing source information for device", "missing source information for device %s"},
    {error_code::no_target, "missing target information for device", "missing target information for device %s"},
    {error_code::no_name, "missing name information", "missing name information in %s"},
    {error_code::no_os, "missing operating system information", "missing operating system information for %s"},
    {error_code::no_device, "missing devices information", "missing devices information for %s"},
    {error_code::no_xenstore, "could not connect to Xen Store", "could not connect to Xen Store %s"},
    {error_code::driver_full, "too many drivers registered", "too many drivers registered in %s"},
    {error_code::call_failed, "library call failed", "library call failed: %s"},
    {error_code::xml_error, "XML description is invalid or not well formed", "XML error: %s"},
    {error_code::dom_exist, "this domain exists already", "domain %s exists already"},
    {error_code::operation_denied, "operation forbidden for read only access", "operation forbidden: %s"},
    {error_code::open_failed, "failed to open configuration file", "failed to open configuration file %s"},
    {error_code::read_failed, "failed to read configuration file", "failed to read configuration file %s"},
    {error_code::parse_failed, "failed to parse configuration file", "failed to parse configuration file %s"},
    {error_code::conf_syntax, "configuration file syntax error", "configuration file syntax error: %s"},
    {error_code::write_failed, "failed to write configuration file", "failed to write configuration file: %s"},
    {error_code::invalid_network, "invalid network pointer in", "invalid network pointer in %s"},
    {error_code::network_exist, "this network exists already", "network %s exists already"},
    {error_code::war_no_network, "Failed to find the network", "Failed to find the network: %s"},
    {error_code::no_domain, "Domain not found", "Domain not found: %s"},
    {error_code::no_network, "Network not found", "Network not found: %s"},
    {error_code::invalid_mac, "invalid MAC address", "invalid MAC address: %s"},
    {error_code::auth_failed, "authentication failed", "authentication failed: %s"},
    {error_code::invalid_storage_pool, "invalid storage pool pointer in", "invalid storage pool pointer in %s"},
    {error_code::invalid_storage_vol, "invalid storage volume pointer in", "invalid storage volume pointer in %s"},
    {error_code::war_no_storage, "Failed to find a storage driver", "Failed to find a storage driver: %s"},
    {error_code::no_storage_pool, "Storage pool not found", "Storage pool not found: %s"},
    {error_code::no_storage_vol, "Storage volume not found", "Storage volume not found: %s"},
    {error_code::war_no_node, "Failed to find a node driver", "Failed to find a node driver: %s"},
    {error_code::invalid_node_device, "invalid node device pointer", "invalid node device pointer in %s"},
    {error_code::no_node_device, "Node device not found", "Node device not found: %s"},
    {error_code::no_security_model, "Security model not found", "Security model not found: %s"},
    {error_code::operation_invalid, "Requested operation is not valid", "Requested operation is not valid: %s"},
    {error_code::war_no_interface, "Failed to find the interface", "Failed to find the interface: %s"},
    {error_code::no_interface, "Interface not found", "Interface not found: %s"},
    {error_code::invalid_interface, "invalid interface pointer in", "invalid interface pointer in %s"},
    {error_code::multiple_interfaces, "multiple matching interfaces found", "multiple matching interfaces found: %s"},
    {error_code::war_no_nwfilter, "Failed to start the nwfilter driver", "Failed to start the nwfilter driver: %s"},
    {error_code::invalid_nwfilter, "Invalid network filter", "Invalid network filter: %s"},
    {error_code::no_nwfilter, "Network filter not found", "Network filter not found: %s"},
    {error_code::build_firewall, "Error while building firewall", "Error while building firewall: %s"},
    {error_code::war_no_secret, "Failed to find a secret storage driver", "Failed to find a secret storage driver: %s"},
    {error_code::invalid_secret, "Invalid secret", "Invalid secret: %s"},
    {error_code::no_secret, "Secret not found", "Secret not found: %s"},
    {error_code::config_unsupported, "unsupported configuration", "unsupported configuration: %s"},
    {error_code::operation_timeout, "Timed out during operation", "Timed out during operation: %s"},
    {error_code::migrate_persist_failed, "Failed to make domain persistent after migration", "Failed to make domain persistent after migration: %s"},
    {error_code::hook_script_failed, "Hook script execution failed", "Hook script execution failed: %s"},
    {error_code::invalid_domain_snapshot, "Invalid domain snapshot", "Invalid domain snapshot: %s"},
    {error_code::no_domain_snapshot, "Domain snapshot not found", "Domain snapshot not found: %s"},
    {error_code::invalid_stream, "invalid stream pointer", "invalid stream pointer in %s"},
    {error_code::argument_unsupported, "argument unsupported", "argument unsupported: %s"},
    {error_code::storage_probe_failed, "Storage pool probe failed", "Storage pool probe failed: %s"},
    {error_code::storage_pool_built, "Storage pool already built", "Storage pool already built: %s"},
    {error_code::snapshot_revert_risky, "revert requires force", "revert requires force: %s"},
    {error_code::operation_aborted, "operation aborted", "operation aborted: %s"},
    {error_code::auth_cancelled, "authentication cancelled", "authentication cancelled: %s"},
    {error_code::no_domain_metadata, "metadata not found", "metadata not found: %s"},
    {error_code::migrate_unsafe, "Unsafe migration", "Unsafe migration: %s"},
    {error_code::overflow, "numerical overflow", "numerical overflow: %s"},
    {error_code::block_copy_active, "block copy still active", "block copy still active: %s"},
    {error_code::operation_unsupported, "Operation not supported", "Operation not supported: %s"},
    {error_code::ssh, "SSH transport error", "SSH transport error: %s"},
    {error_code::agent_unresponsive, "Guest agent is not responding", "Guest agent is not responding: %s"},
    {error_code::resource_busy, "resource busy", "resource busy: %s"},
    {error_code::access_denied, "access denied", "access denied: %s"},
    {error_code::dbus_service, "error from service", "error from service: %s"},
    {error_code::storage_vol_exist, "this storage volume exists already", "storage volume %s exists already"},
    {error_code::cpu_incompatible, "the CPU is incompatible with host CPU", "the CPU is incompatible with host CPU: %s"},
    {error_code::xml_invalid_schema, "XML document failed to validate against schema", "XML document failed to validate against schema: %s"},
    {error_code::migrate_finish_ok, "migration successfully aborted", "migration successfully aborted: %s"},
    {error_code::auth_unavailable, "authentication unavailable", "authentication unavailable: %s"},
    {error_code::no_server, "Server not found", "Server not found: %s"},
    {error_code::no_client, "Client not found", "Client not found: %s"},
    {error_code::agent_unsynced, "guest agent replied with wrong id to guest-sync command", "guest agent replied with wrong id to guest-sync command: %s"},
    {error_code::libssh, "libssh transport error", "libssh transport error: %s"},
    {error_code::device_missing, "device not found", "device not found: %s"},
    {error_code::invalid_nwfilter_binding, "Invalid network filter binding", "Invalid network filter binding: %s"},
    {error_code::no_nwfilter_binding, "Network filter binding not found", "Network filter binding not found: %s"},
    {error_code::invalid_domain_checkpoint, "Invalid domain checkpoint", "Invalid domain checkpoint: %s"},
    {error_code::no_domain_checkpoint, "Domain checkpoint not found", "Domain checkpoint not found: %s"},
    {error_code::no_domain_backup, "Domain backup job id not found", "Domain backup job id not found: %s"},
    {error_code::invalid_network_port, "Invalid network port pointer", "Invalid network port pointer: %s"},
    {error_code::network_port_exist, "this network port exists already", "network port %s exists already"},
    {error_code::no_network_port, "network port not found", "network port not found: %s"},
    {error_code::no_hostname, "no hostname found", "no hostname found: %s"},
    {error_code::checkpoint_inconsistent, "checkpoint inconsistent", "checkpoint inconsistent: %s"},
    {error_code::multiple_domains, "multiple matching domains found", "multiple matching domains found: %s"},
    {error_code::xml_detail, "parser error", "%s"},
    {error_code::system_error, "system call error", "%s"},
    {error_code::rpc, "RPC error", "%s"},
    {error_code::gnutls_error, "GNUTLS call error", "%s"},
};

// libvirt's printed names of the error domains, indexed by number.
constexpr std::string_view domain_names[] = {
    "","Xen Driver","Xen Daemon","Xen Store","S-Expression","XML Util","Domain","XML-RPC","Proxy Daemon","Config File","QEMU Driver","Network","Test Driver","Remote Driver","OpenVZ Driver","Xen XM Driver","Linux Statistics","LXC Driver","Storage Driver","Network Driver","Domain Config","User Mode Linux Driver","Node Device Driver","Xen Inotify Driver","Security Driver","VirtualBox Driver","Network Interface Driver","Open Nebula Driver","ESX Driver","Power Hypervisor Driver","Secrets Driver","CPU Driver","XenAPI Driver","Network Filter Driver","Lifecycle Hook","Domain Snapshot","Audit Utils","Sysinfo Utils","I/O Stream Utils","VMware Driver","Event Loop","Xen Light Driver","Lock Driver","Hyper-V Driver","Capabilities Utils","URI Utils","Authentication Utils","DBus Utils","Parallels Cloud Server","Device Config","SSH transport layer","Lock Space","Init control","Identity","Cgroup","Access Manager","Systemd","Bhyve","Crypto","Firewall","Polkit","Thread jobs","Admin Interface","Log Manager","Xen XL Config","Perf","Libssh transport layer","Resource control","FirewallD","Domain Checkpoint","TPM","BPF","Cloud-Hypervisor Driver",
};

const message_pair* find_message(error_code code) noexcept {
    for (const auto& m : message_table)
        if (m.code == code) return &m;
    return nullptr;
}

std::mutex global_mutex;
error_handler global_handler;  // guarded by global_mutex

thread_local std::optional<error_info> thread_last;

std::string substitute(const char* format, std::string_view detail) {
    std::string out;
    std::string_view f(format);
    auto pos = f.find("%s");
    if (pos == std::string_view::npos) return std::string(f);
    out.append(f.substr(0, pos));
    out.append(detail);
    out.append(f.substr(pos + 2));
    return out;
}

}  // namespace

error::error(error_info info) : std::runtime_error(info.message), info_(std::move(info)) {}

error::error(error_code code, error_domain domain, std::string_view detail)
    : error(make_error_info(code, domain, detail)) {}

std::string format_error_message(error_code code, std::string_view detail) {
    const auto* m = find_message(code);
    if (m == nullptr || m->without_detail == nullptr)
        return detail.empty() ? std::string("unknown error") : std::string(detail);
    if (detail.empty()) return m->without_detail;
    return substitute(m->with_detail, detail);
}

std::string_view error_domain_name(error_domain domain) noexcept {
    auto i = static_cast<std::size_t>(domain);
    if (i >= std::size(domain_names)) return "Unknown";
    return domain_names[i];
}

error_info make_error_info(error_code code, error_domain domain, std::string_view detail, error_level level) {
    error_info info;
    info.code = code;
    info.domain = domain;
    info.level = level;
    info.message = format_error_message(code, detail);
    if (const auto* m = find_message(code); m != nullptr && m->with_detail != nullptr)
        info.str1 = detail.empty() ? m->without_detail : m->with_detail;
    if (!detail.empty()) info.str2 = std::string(detail);
    return info;
}

std::string default_error_text(const error_info& info) {
    if (info.code == error_code::ok) return {};
    std::string_view lvl;
    switch (info.level) {
        case error_level::none: lvl = ""; break;
        case error_level::warning: lvl = "warning"; break;
        case error_level::error: lvl = "error"; break;
    }
    std::string object;
    if (!info.domain_name.empty() && info.code != error_code::invalid_domain)
        object = info.domain_name;
    else if (!info.network_name.empty() && info.code != error_code::invalid_network)
        object = info.network_name;
    std::string out = "libvirt: ";
    out += error_domain_name(info.domain);
    out += ' ';
    out += lvl;
    out += ' ';
    out += object;
    out += ": ";
    if (info.domain == error_domain::xml && info.code == error_code::xml_detail && info.int1 != 0)
        out += "line " + std::to_string(info.int1) + ": ";
    out += info.message;
    if (info.message.empty() || info.message.back() != '\n') out += '\n';
    return out;
}

void default_error_handler(const error_info& info) {
    auto text = default_error_text(info);
    std::fwrite(text.data(), 1, text.size(), stderr);
}

void set_error_handler(error_handler handler) {
    std::lock_guard lock(global_mutex);
    global_handler = std::move(handler);
}

std::optional<error_info> last_error() { return thread_last; }
void reset_last_error() { thread_last.reset(); }

void error_sink::set_handler(error_handler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
}

std::optional<error_info> error_sink::last_error() const {
    std::lock_guard lock(mutex_);
    return last_;
}

void error_sink::reset_last_error() {
    std::lock_guard lock(mutex_);
    last_.reset();
}

void report(const error_info& info, error_sink* connection) {
    error_handler handler;
    if (connection != nullptr) {
        std::lock_guard lock(connection->mutex_);
        handler = connection->handler_;
        connection->last_ = info;
    }
    if (!handler) {
        std::lock_guard lock(global_mutex);
        handler = global_handler;
    }
    thread_last = info;
    if (handler)
        handler(info);
    else
        default_error_handler(info);
}

void raise(const error_info& info) { throw error(info); }

void raise(error_code code, error_domain domain, std::string_view detail) {
    raise(make_error_info(code, domain, detail));
}

namespace detail {
namespace {
thread_local int depth_now = 0;
}
boundary_depth::boundary_depth() noexcept { ++depth_now; }
boundary_depth::~boundary_depth() { --depth_now; }
bool boundary_depth::outermost() const noexcept { return depth_now == 1; }
}  // namespace detail

}  // namespace virtpp
