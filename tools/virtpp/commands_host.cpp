// Host and hypervisor commands (virsh's "host" group).
#include "shell.hpp"

#include <virtpp/hypervisor/remote.hpp>
#include <virtpp/transport/remote.hpp>
#include <virtpp/version.hpp>

#include <cstdio>

namespace virtpp::cli {

namespace {

std::string node_field(std::string_view label, std::string_view value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%-20s ", std::string(label).c_str());
    return buf + std::string(value) + "\n";
}

std::string dotted(std::uint64_t v) {
    return std::to_string(v / 1000000) + "." + std::to_string(v % 1000000 / 1000) + "." + std::to_string(v % 1000);
}

bool cmd_capabilities(shell& sh, const parsed_command&) {
    std::string caps;
    try {
        caps = sh.connection()->capabilities();
    } catch (const virtpp::error&) {
        sh.error("failed to get capabilities");
        return false;
    }
    sh.print(caps + "\n");
    return true;
}

bool cmd_nodeinfo(shell& sh, const parsed_command&) {
    node_info info;
    try {
        info = sh.connection()->node_info();
    } catch (const virtpp::error&) {
        sh.error("failed to get node information");
        return false;
    }
    sh.print(node_field("CPU model:", info.model));
    sh.print(node_field("CPU(s):", std::to_string(info.cpus)));
    if (info.mhz != 0) sh.print(node_field("CPU frequency:", std::to_string(info.mhz) + " MHz"));
    sh.print(node_field("CPU socket(s):", std::to_string(info.sockets)));
    sh.print(node_field("Core(s) per socket:", std::to_string(info.cores)));
    sh.print(node_field("Thread(s) per core:", std::to_string(info.threads)));
    sh.print(node_field("NUMA cell(s):", std::to_string(info.nodes)));
    sh.print(node_field("Memory size:", std::to_string(info.memory_kib) + " KiB"));
    return true;
}

bool cmd_hostname(shell& sh, const parsed_command&) {
    std::string name;
    try {
        name = sh.connection()->hostname();
    } catch (const virtpp::error&) {
        sh.error("failed to get hostname");
        return false;
    }
    sh.print(name + "\n");
    return true;
}

/// The remote session under a connection, or null for a local driver. basic_connection keeps its
/// channel protected; a derived class may name that member, and the pointer to it applies to
/// any connection.
rpc::client_session* remote_session_of(const any_connection& conn) {
    struct access : any_connection {
        static auto channel_member() { return &access::channel; }
    };
    auto& erased = (conn.*access::channel_member())();
    auto* remote = erased.get_if<hypervisor::remote, transport::remote>();
    return remote != nullptr ? &remote->session() : nullptr;
}

bool cmd_uri(shell& sh, const parsed_command&) {
    any_connection* conn = sh.connection();
    std::string uri = conn->uri();
    // opened without a name, the daemon chose the URI (libvirt.conf, probing): libvirt's remote
    // driver asks it which (REMOTE_PROC_CONNECT_GET_URI), and so does virsh's `uri`
    if (uri.empty()) {
        if (auto* session = remote_session_of(*conn)) {
            try {
                auto reply = session->call(rpc::session::connect_get_uri, rpc::xdr::to_bytes(rpc::xdr::none{}));
                uri = rpc::xdr::from_bytes<std::string>(reply);
            } catch (const virtpp::error&) {
                sh.error("failed to get URI");
                return false;
            }
        }
    }
    sh.print(uri + "\n");
    return true;
}

bool cmd_version(shell& sh, const parsed_command& cmd) {
    std::string type;
    try {
        type = sh.connection()->type();
    } catch (const virtpp::error&) {
        sh.error("failed to get hypervisor type");
        return false;
    }
    // the library lines name virtpp; the API level and hypervisor lines follow virsh
    sh.print(std::string("Compiled against library: virtpp ") + VIRTPP_VERSION_STRING + "\n");
    sh.print(std::string("Using library: virtpp ") + VIRTPP_VERSION_STRING + "\n");
    sh.print("Using API: " + type + " " + dotted(virtpp::libvirt_api_version) + "\n");
    std::uint64_t hv = 0;
    try {
        hv = sh.connection()->version();
    } catch (const virtpp::error&) {
        sh.error("failed to get the hypervisor version");
        return false;
    }
    if (hv == 0)
        sh.print("Cannot extract running " + type + " hypervisor version\n");
    else
        sh.print("Running hypervisor: " + type + " " + dotted(hv) + "\n");
    // the connection's library version: the libvirt API level, as virtpp reports it on the wire
    if (cmd.has("daemon")) sh.print("Running against daemon: " + dotted(virtpp::libvirt_api_version) + "\n");
    return true;
}

constexpr handler_entry handlers[] = {
    {"capabilities", cmd_capabilities}, {"nodeinfo", cmd_nodeinfo}, {"hostname", cmd_hostname},
    {"uri", cmd_uri},                   {"version", cmd_version},
};

}  // namespace

std::span<const handler_entry> host_handlers() { return handlers; }

}  // namespace virtpp::cli
