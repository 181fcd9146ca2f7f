// Internal: libvirt's virtual network driver, as the QEMU driver of qemu:///system carries it.
// A network is a Linux bridge (rtnetlink), its addresses, one dnsmasq (DHCP + DNS) started with
// the configuration libvirt 9.0 writes for the same XML, and its rules in the one nftables table
// virtpp owns (replaced atomically at each change). Definitions persist as libvirt keeps them:
// <config>/networks/<name>.xml, autostart/ links, live status under the run directory.
#pragma once

#include <virtpp/types.hpp>
#include <virtpp/xml/network.hpp>

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace virtpp::hypervisor::network {

/// Where the driver keeps its files.
struct paths {
    std::string config_dir;     ///< <name>.xml definitions (/etc/libvirt/qemu/networks)
    std::string autostart_dir;  ///< <name>.xml links (…/networks/autostart)
    std::string run_dir;        ///< <name>.xml status, <name>.pid (/run/libvirt/network)
    std::string dnsmasq_dir;    ///< <name>.conf, .hostsfile, .addnhosts, .leases (/var/lib/libvirt/dnsmasq)
};
/// libvirt 9.0's system layout (the QEMU driver derives the others from its own directories).
[[nodiscard]] paths paths_for_system();

/// The files a network's dnsmasq reads, named as libvirt names them.
struct dnsmasq_files {
    std::string conf, hostsfile, addnhosts, pidfile, leases;
};
[[nodiscard]] dnsmasq_files files_of(const paths& p, const std::string& network);

/// The dnsmasq configuration libvirt 9.0 (networkDnsmasqConfContents, with bind-dynamic and RA
/// support) writes for a definition. Raises for what dnsmasq cannot be given (two DHCP blocks).
[[nodiscard]] std::string dnsmasq_config(const xml::network_def& def, const dnsmasq_files& files);
/// dhcp-hostsfile content: one line per <host> of the DHCP block.
[[nodiscard]] std::string dnsmasq_hostsfile(const xml::network_def& def);
/// addn-hosts content: one line per <dns><host>.
[[nodiscard]] std::string dnsmasq_addnhosts(const xml::network_def& def);
/// True when the network runs a dnsmasq (it has an address and DHCP or DNS to serve).
[[nodiscard]] bool needs_dnsmasq(const xml::network_def& def);

/// An <ip>'s prefix as libvirt derives it (prefix, netmask, or the classful default).
[[nodiscard]] unsigned ip_prefix(const xml::network_ip& ip);
/// The subnet's network address ("192.168.122.0").
[[nodiscard]] std::string subnet_address(const xml::network_ip& ip);

/// The nftables script that replaces virtpp's table with the rules of these running networks.
[[nodiscard]] std::string firewall_script(const std::vector<xml::network_def>& running);

/// virNetworkUpdate's checks of command (1 modify, 2 delete, 3 add-last, 4 add-first) and
/// section (4 ip-dhcp-host and 10 dns-host are served).
void check_update(unsigned command, unsigned section);
/// Applies one update to a definition (raises, leaving it unchanged, when it does not apply).
void apply_update(xml::network_def& def, unsigned command, unsigned section, int parent_index, const std::string& element);

/// A DHCP lease from dnsmasq's lease file (virNetworkDHCPLease).
struct lease {
    std::string iface;  ///< the bridge
    long long expiry_time = 0;
    int type = 0;  ///< VIR_IP_ADDR_TYPE_IPV4 = 0, IPV6 = 1
    std::string mac, iaid, ipaddr;
    unsigned prefix = 0;
    std::string hostname, clientid;
};

/// One network: its definitions and, while active, its dnsmasq.
struct network_obj {
    xml::network_def config;
    std::optional<xml::network_def> live;
    std::optional<xml::network_def> next;  ///< redefined while running: applies at destroy
    bool persistent = true;
    bool autostart = false;
    pid_t dnsmasq_pid = -1;
    int dnsmasq_pidfd = -1;
    [[nodiscard]] bool active() const noexcept { return live.has_value(); }
    [[nodiscard]] const xml::network_def& current() const noexcept { return live ? *live : config; }
    [[nodiscard]] network_ref ref() const { return {current().name, *current().uuid}; }
};

class driver {
public:
    using log_fn = std::function<void(const std::string&)>;
    /// Loads definitions, adopts networks a previous driver left running (their bridge, dnsmasq
    /// and rules stay as they are), defines `default` when allowed and none exists, starts the
    /// autostarted ones.
    driver(paths p, bool privileged, log_fn log = {});
    /// Networks keep running (a later driver adopts them); only the watcher stops.
    ~driver();
    driver(const driver&) = delete;
    driver& operator=(const driver&) = delete;

    int num_of(bool active);
    std::vector<std::string> names(bool active);
    std::vector<network_ref> list_all(unsigned flags);
    network_ref lookup_by_name(const std::string& name);
    network_ref lookup_by_uuid(const virtpp::uuid& id);
    network_ref define(const std::string& xml);
    network_ref create_transient(const std::string& xml);
    void undefine(const network_ref& ref);
    void start(const network_ref& ref);
    void destroy(const network_ref& ref);
    std::string xml_desc(const network_ref& ref, unsigned flags);
    std::string bridge_name(const network_ref& ref);
    bool get_autostart(const network_ref& ref);
    void set_autostart(const network_ref& ref, bool on);
    bool is_active(const network_ref& ref);
    bool is_persistent(const network_ref& ref);
    /// virNetworkUpdate: command (1 delete, 2 add-last, 3 add-first, 4 modify... as libvirt),
    /// section (4 ip-dhcp-host, 10 dns-host), parent index, the element's XML, flags (live/config).
    void update(const network_ref& ref, unsigned command, unsigned section, int parent_index, const std::string& xml, unsigned flags);
    std::vector<lease> leases(const network_ref& ref, const std::optional<std::string>& mac);

    /// For a guest's <interface type='network'>: the running network's bridge. Raises libvirt's
    /// errors for an unknown or inactive network.
    std::string bridge_for_interface(const std::string& network_name);
    /// The pid of a running network's dnsmasq (tests), -1 when none.
    pid_t dnsmasq_pid(const std::string& name);

    [[nodiscard]] const paths& files() const noexcept { return paths_; }

    /// SIGHUP: definitions read again from the config directory (new ones appear, inactive ones
    /// take their file's content, a running one takes it when it stops; one whose file is gone
    /// stays, as in libvirtd); running networks keep running. Then autostart, as libvirt's
    /// networkStateReload.
    void reload();

private:
    std::shared_ptr<network_obj> find_name(const std::string& name) const;
    std::shared_ptr<network_obj> find_uuid(const virtpp::uuid& id) const;
    std::shared_ptr<network_obj> get(const network_ref& ref) const;
    network_ref assign(xml::network_def def, bool live);
    void fill_defaults(xml::network_def& def);
    void save_config(const xml::network_def& def);
    void save_status(const network_obj& o);
    void start_locked(network_obj& o);
    void stop_locked(network_obj& o);
    void start_dnsmasq(network_obj& o);
    void stop_dnsmasq(network_obj& o);
    void write_dnsmasq_files(const xml::network_def& def);
    void apply_firewall();
    void check_startable(const xml::network_def& def);
    void require_root(std::string_view what) const;
    void load();
    void adopt(network_obj& o);
    void define_default_if_none();
    void watch();
    void wake_watcher();

    paths paths_;
    bool privileged_;
    log_fn log_;
    std::mutex mutex_;
    std::vector<std::shared_ptr<network_obj>> networks_;
    int wake_fd_ = -1;
    bool quitting_ = false;
    std::thread watcher_;
};

}  // namespace virtpp::hypervisor::network
