// basic_connection<Hypervisor, Transport>: a connection to one hypervisor driver, reached through
// one transport; and its handles basic_domain and basic_network. Handles are cheap values that
// share the connection's state, so a domain keeps its connection alive. A connection is safe to
// use from several threads (drivers serialise their own state).
//
// Every member is one operation of ops.hpp; `call<Op>(args)` is the general form. An operation
// the hypervisor policy does not provide fails to compile, naming the operation and the policy.
#pragma once

#include <virtpp/client_config.hpp>
#include <virtpp/concepts.hpp>
#include <virtpp/error.hpp>
#include <virtpp/events.hpp>
#include <virtpp/ops.hpp>
#include <virtpp/transport/local.hpp>
#include <virtpp/types.hpp>
#include <virtpp/uri.hpp>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp {

template <class H, class T = transport::local>
class basic_connection;
template <class H, class T = transport::local>
class basic_domain;
template <class H, class T = transport::local>
class basic_network;
template <class H, class T, class Executor>
class basic_async_connection;

namespace detail {
/// Where an API's errors come from when the API layer itself raises them (libvirt's VIR_FROM_THIS
/// of libvirt-domain.c / libvirt-network.c / libvirt-host.c).
template <class Op>
constexpr error_domain api_error_domain() {
    if (Op::name.starts_with("virDomain")) return error_domain::domain;
    if (Op::name.starts_with("virNetwork")) return error_domain::network;
    return error_domain::none;
}

/// What every connection shares with its handles.
template <class H, class T>
struct connection_core {
    std::shared_ptr<typename T::template channel<H>> channel;
    error_sink errors;
    std::string uri;
    bool read_only = false;
};
}  // namespace detail

template <class H, class T>
class basic_connection {
public:
    using hypervisor_type = H;
    using transport_type = T;
    using domain_type = basic_domain<H, T>;
    using network_type = basic_network<H, T>;

    /// virConnectOpen / virConnectOpenReadOnly (flags: open_flags::read_only). An empty name means
    /// the default: $LIBVIRT_DEFAULT_URI, else libvirt.conf's uri_default, else what the drivers
    /// probe; a name of libvirt.conf's uri_aliases is replaced by its URI.
    [[nodiscard]] static basic_connection open(std::string_view name, unsigned flags = 0) {
        return open_with(name, flags, [&](const virtpp::uri& u) { return T::template channel<H>::open(u, flags); });
    }
    [[nodiscard]] static basic_connection open_read_only(std::string_view name) {
        return open(name, open_flags::read_only);
    }

    /// Performs one operation: refused with OPERATION_DENIED on a read-only connection when it
    /// mutates; errors are reported through this connection's handlers, then thrown.
    template <class Op>
    typename Op::result call(const typename Op::args& a) const {
        static_assert(detail::require_operation<Op, H>::value);
        return api_boundary(&core_->errors, [&]() -> typename Op::result {
            if (core_->read_only && op::refused_read_only<Op>(a))
                raise(error_code::operation_denied, detail::api_error_domain<Op>(),
                      "read only access prevents " + std::string(Op::name));
            return core_->channel->template call<Op>(a);
        });
    }

    // ---- connection and node
    [[nodiscard]] std::string type() const { return call<op::connect_get_type>({}); }
    [[nodiscard]] std::uint64_t version() const { return call<op::connect_get_version>({}); }
    [[nodiscard]] std::string hostname() const { return call<op::connect_get_hostname>({}); }
    /// virConnectGetURI: the name the connection was opened with.
    [[nodiscard]] const std::string& uri() const noexcept { return core_->uri; }
    [[nodiscard]] int max_vcpus(std::optional<std::string> type = std::nullopt) const {
        return call<op::connect_get_max_vcpus>({std::move(type)});
    }
    [[nodiscard]] std::string capabilities() const { return call<op::connect_get_capabilities>({}); }
    [[nodiscard]] virtpp::node_info node_info() const { return call<op::node_get_info>({}); }
    [[nodiscard]] bool read_only() const noexcept { return core_->read_only; }
    [[nodiscard]] error_sink& errors() const noexcept { return core_->errors; }

    // ---- domains
    [[nodiscard]] int num_of_domains() const { return call<op::connect_num_of_domains>({}); }
    [[nodiscard]] std::vector<int> list_domains() const { return call<op::connect_list_domains>({}); }
    [[nodiscard]] int num_of_defined_domains() const { return call<op::connect_num_of_defined_domains>({}); }
    [[nodiscard]] std::vector<std::string> list_defined_domains() const {
        return call<op::connect_list_defined_domains>({});
    }
    [[nodiscard]] std::vector<domain_type> list_all_domains(unsigned flags = 0) const;
    [[nodiscard]] domain_type lookup_domain_by_id(int id) const;
    /// virConnectGetAllDomainStats: the `stats` groups (domain_stats::*, 0 for all the driver has)
    /// of every domain that passes the list filters in `flags`, in one call.
    [[nodiscard]] std::vector<domain_stats_record> all_domain_stats(unsigned stats = 0, unsigned flags = 0) const {
        return call<op::connect_get_all_domain_stats>({{}, stats, flags});
    }
    /// virDomainListGetStats: the same for the listed domains (missing ones are skipped).
    [[nodiscard]] std::vector<domain_stats_record> domain_list_stats(std::vector<domain_ref> doms, unsigned stats = 0,
                                                                     unsigned flags = 0) const {
        if (doms.empty())
            raise(error_code::invalid_arg, error_domain::domain,
                  "doms array in virDomainListGetStats must contain at least one domain");
        return call<op::connect_get_all_domain_stats>({std::move(doms), stats, flags});
    }
    [[nodiscard]] domain_type lookup_domain_by_name(std::string_view name) const;
    [[nodiscard]] domain_type lookup_domain_by_uuid(const virtpp::uuid& id) const;
    [[nodiscard]] domain_type lookup_domain_by_uuid_string(std::string_view id) const;
    /// virDomainCreateXML: a transient domain, started at once.
    domain_type create_domain_xml(std::string_view xml, unsigned flags = 0) const;
    /// virDomainDefineXML: a persistent, inactive definition.
    domain_type define_domain_xml(std::string_view xml) const;
    /// virDomainRestore
    void restore_domain(std::string_view path) const { call<op::domain_restore>({std::string(path)}); }

    // ---- networks
    [[nodiscard]] int num_of_networks() const { return call<op::connect_num_of_networks>({}); }
    [[nodiscard]] std::vector<std::string> list_networks() const { return call<op::connect_list_networks>({}); }
    [[nodiscard]] int num_of_defined_networks() const { return call<op::connect_num_of_defined_networks>({}); }
    [[nodiscard]] std::vector<std::string> list_defined_networks() const {
        return call<op::connect_list_defined_networks>({});
    }
    [[nodiscard]] std::vector<network_type> list_all_networks(unsigned flags = 0) const;
    [[nodiscard]] network_type lookup_network_by_name(std::string_view name) const;
    [[nodiscard]] network_type lookup_network_by_uuid(const virtpp::uuid& id) const;
    [[nodiscard]] network_type lookup_network_by_uuid_string(std::string_view id) const;
    network_type create_network_xml(std::string_view xml) const;
    network_type define_network_xml(std::string_view xml) const;

    /// virConnectDomainEventRegisterAny / virConnectNetworkEventRegisterAny for every event id at
    /// once: the handler gets each domain and network event of this connection's driver (filter
    /// on domain_event::id) until the subscription is destroyed. NO_SUPPORT when the driver
    /// publishes no events. See events.hpp for the threads handlers run on.
    [[nodiscard]] event_subscription subscribe_events(event_handler handler) const
        requires requires(typename T::template channel<H>& c, event_handler h) { c.subscribe_events(std::move(h)); }
    {
        return api_boundary(&core_->errors, [&] { return core_->channel->subscribe_events(std::move(handler)); });
    }

    /// The driver state, for tests and for tools that compose drivers (local transport only).
    [[nodiscard]] typename H::state& state() const
        requires std::same_as<T, transport::local>
    {
        return core_->channel->state();
    }

    friend bool operator==(const basic_connection& a, const basic_connection& b) noexcept {
        return a.core_ == b.core_;
    }

protected:
    template <class ChannelFactory>
    [[nodiscard]] static basic_connection open_with(std::string_view name, unsigned flags, ChannelFactory&& make_channel) {
        return api_boundary(nullptr, [&] {
            std::string chosen = resolve_connect_name(name);  // $LIBVIRT_DEFAULT_URI, libvirt.conf
            auto parsed = virtpp::uri::parse(chosen);
            auto core = std::make_shared<detail::connection_core<H, T>>();
            core->channel = make_channel(parsed);
            core->uri = chosen;
            core->read_only = (flags & open_flags::read_only) != 0;
            return basic_connection(std::move(core));
        });
    }
    [[nodiscard]] typename T::template channel<H>& channel() const noexcept { return *core_->channel; }

    /// A UUID string argument of the *ByUUIDString calls; INVALID_ARG (reported here) when malformed.
    [[nodiscard]] virtpp::uuid parse_uuid_arg(std::string_view text, error_domain domain, std::string_view api) const {
        return api_boundary(&core_->errors, [&] {
            auto u = virtpp::uuid::parse(text);
            if (!u) raise(error_code::invalid_arg, domain, "uuidstr in " + std::string(api) + " must be a valid UUID");
            return *u;
        });
    }

private:
    template <class, class, class>
    friend class basic_async_connection;  // reaches the channel to pipeline remote calls

    explicit basic_connection(std::shared_ptr<detail::connection_core<H, T>> core) : core_(std::move(core)) {}
    std::shared_ptr<detail::connection_core<H, T>> core_;
};

/// A domain (guest) on a connection: libvirt's virDomainPtr. Cheap to copy; keeps the
/// connection alive.
template <class H, class T>
class basic_domain {
public:
    using connection_type = basic_connection<H, T>;

    basic_domain(connection_type conn, domain_ref ref) : conn_(std::move(conn)), ref_(std::move(ref)) {}

    [[nodiscard]] const std::string& name() const noexcept { return ref_.name; }
    [[nodiscard]] const virtpp::uuid& uuid() const noexcept { return ref_.uuid; }
    [[nodiscard]] std::string uuid_string() const { return ref_.uuid.str(); }
    /// The runtime id; -1 (libvirt prints "-") when the domain is not running.
    [[nodiscard]] int id() const noexcept { return ref_.id; }
    [[nodiscard]] const domain_ref& ref() const noexcept { return ref_; }
    [[nodiscard]] const connection_type& connection() const noexcept { return conn_; }

    template <class Op>
    typename Op::result call(typename Op::args a) const {
        return conn_.template call<Op>(a);
    }

    // lifecycle
    void create(unsigned flags = 0) { ref_ = conn_.template call<op::domain_create>({ref_, flags}); }
    void undefine(unsigned flags = 0) const { conn_.template call<op::domain_undefine>({ref_, flags}); }
    void suspend() const { conn_.template call<op::domain_suspend>({ref_}); }
    void resume() const { conn_.template call<op::domain_resume>({ref_}); }
    void shutdown(unsigned flags = 0) const { conn_.template call<op::domain_shutdown>({ref_, flags}); }
    void reboot(unsigned flags = 0) const { conn_.template call<op::domain_reboot>({ref_, flags}); }
    void destroy(unsigned flags = 0) {
        conn_.template call<op::domain_destroy>({ref_, flags});
        ref_.id = -1;
    }
    void save(std::string_view path) {
        conn_.template call<op::domain_save>({ref_, std::string(path)});
        ref_.id = -1;
    }
    void core_dump(std::string_view path, unsigned flags = 0) const {
        conn_.template call<op::domain_core_dump>({ref_, std::string(path), flags});
    }
    [[nodiscard]] bool has_managed_save_image() const { return conn_.template call<op::domain_has_managed_save_image>({ref_, 0}); }

    // properties
    [[nodiscard]] domain_info info() const { return conn_.template call<op::domain_get_info>({ref_}); }
    [[nodiscard]] domain_state_info state(unsigned flags = 0) const { return conn_.template call<op::domain_get_state>({ref_, flags}); }
    [[nodiscard]] std::string os_type() const { return conn_.template call<op::domain_get_os_type>({ref_}); }
    [[nodiscard]] std::string xml_desc(unsigned flags = 0) const { return conn_.template call<op::domain_get_xml_desc>({ref_, flags}); }
    [[nodiscard]] bool is_active() const { return conn_.template call<op::domain_is_active>({ref_}); }
    [[nodiscard]] bool is_persistent() const { return conn_.template call<op::domain_is_persistent>({ref_}); }
    [[nodiscard]] bool autostart() const { return conn_.template call<op::domain_get_autostart>({ref_}); }
    void set_autostart(bool on) const { conn_.template call<op::domain_set_autostart>({ref_, on}); }
    [[nodiscard]] std::uint64_t max_memory() const { return conn_.template call<op::domain_get_max_memory>({ref_}); }
    void set_max_memory(std::uint64_t kib) const { conn_.template call<op::domain_set_max_memory>({ref_, kib}); }
    void set_memory(std::uint64_t kib, unsigned flags = affect::live) const {
        conn_.template call<op::domain_set_memory>({ref_, kib, flags});
    }
    [[nodiscard]] int max_vcpus() const { return conn_.template call<op::domain_get_max_vcpus>({ref_}); }
    void set_vcpus(unsigned count, unsigned flags = affect::live) const {
        conn_.template call<op::domain_set_vcpus>({ref_, count, flags});
    }
    [[nodiscard]] int vcpus_flags(unsigned flags) const { return conn_.template call<op::domain_get_vcpus_flags>({ref_, flags}); }
    void pin_vcpu(unsigned vcpu, std::vector<bool> cpumap, unsigned flags = affect::current) const {
        conn_.template call<op::domain_pin_vcpu>({ref_, vcpu, std::move(cpumap), flags});
    }
    /// At most maxinfo vcpus (0: all) with maplen bytes of affinity each (0: the driver's whole
    /// map in process; over the wire, no map — pass the host's map length to get one).
    [[nodiscard]] std::vector<vcpu_info> vcpus(int maxinfo = 0, int maplen = 0) const {
        return conn_.template call<op::domain_get_vcpus>({ref_, maxinfo, maplen});
    }
    [[nodiscard]] virtpp::scheduler_type scheduler_type() const { return conn_.template call<op::domain_get_scheduler_type>({ref_}); }
    [[nodiscard]] std::vector<typed_param> scheduler_parameters(unsigned flags = 0) const {
        return conn_.template call<op::domain_get_scheduler_parameters>({ref_, flags});
    }
    void set_scheduler_parameters(std::vector<typed_param> params, unsigned flags = 0) const {
        conn_.template call<op::domain_set_scheduler_parameters>({ref_, std::move(params), flags});
    }
    [[nodiscard]] virtpp::block_stats block_stats(std::string_view path) const {
        return conn_.template call<op::domain_block_stats>({ref_, std::string(path)});
    }
    /// source 0: the leases of the guest's networks (VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE)
    [[nodiscard]] std::vector<domain_interface> interface_addresses(unsigned source, unsigned flags = 0) const {
        return conn_.template call<op::domain_interface_addresses>({ref_, source, flags});
    }
    [[nodiscard]] virtpp::interface_stats interface_stats(std::string_view path) const {
        return conn_.template call<op::domain_interface_stats>({ref_, std::string(path)});
    }
    void attach_device(std::string_view xml, unsigned flags = affect::live) const {
        conn_.template call<op::domain_attach_device>({ref_, std::string(xml), flags});
    }
    void detach_device(std::string_view xml, unsigned flags = affect::live) const {
        conn_.template call<op::domain_detach_device>({ref_, std::string(xml), flags});
    }
    [[nodiscard]] virtpp::security_label security_label() const { return conn_.template call<op::domain_get_security_label>({ref_}); }

    /// virDomainMigrate3: moves this domain to `dest` (another connection, possibly of another
    /// transport), with libvirt's begin/prepare/perform/finish/confirm steps. Returns the domain
    /// on the destination. flags: migrate_flags.
    template <class H2, class T2>
    basic_domain<H2, T2> migrate(const basic_connection<H2, T2>& dest, unsigned flags = 0, migrate_params params = {});

    friend bool operator==(const basic_domain& a, const basic_domain& b) noexcept {
        return a.conn_ == b.conn_ && a.ref_.uuid == b.ref_.uuid;
    }

private:
    connection_type conn_;
    domain_ref ref_;
};

/// A virtual network on a connection: libvirt's virNetworkPtr.
template <class H, class T>
class basic_network {
public:
    using connection_type = basic_connection<H, T>;

    basic_network(connection_type conn, network_ref ref) : conn_(std::move(conn)), ref_(std::move(ref)) {}

    [[nodiscard]] const std::string& name() const noexcept { return ref_.name; }
    [[nodiscard]] const virtpp::uuid& uuid() const noexcept { return ref_.uuid; }
    [[nodiscard]] std::string uuid_string() const { return ref_.uuid.str(); }
    [[nodiscard]] const network_ref& ref() const noexcept { return ref_; }
    [[nodiscard]] const connection_type& connection() const noexcept { return conn_; }

    void create() const { conn_.template call<op::network_create>({ref_}); }
    void destroy() const { conn_.template call<op::network_destroy>({ref_}); }
    void undefine() const { conn_.template call<op::network_undefine>({ref_}); }
    [[nodiscard]] std::string xml_desc(unsigned flags = 0) const { return conn_.template call<op::network_get_xml_desc>({ref_, flags}); }
    [[nodiscard]] std::string bridge_name() const { return conn_.template call<op::network_get_bridge_name>({ref_}); }
    [[nodiscard]] bool autostart() const { return conn_.template call<op::network_get_autostart>({ref_}); }
    void set_autostart(bool on) const { conn_.template call<op::network_set_autostart>({ref_, on}); }
    [[nodiscard]] bool is_active() const { return conn_.template call<op::network_is_active>({ref_}); }
    [[nodiscard]] bool is_persistent() const { return conn_.template call<op::network_is_persistent>({ref_}); }
    /// virNetworkUpdate: command 1 modify / 2 delete / 3 add-last / 4 add-first; section 4
    /// ip-dhcp-host, 10 dns-host; flags 1 live, 2 config (0: the current state).
    void update(unsigned command, unsigned section, int parent_index, std::string_view xml, unsigned flags = 0) const {
        conn_.template call<op::network_update>({ref_, command, section, parent_index, std::string(xml), flags});
    }
    [[nodiscard]] std::vector<network_dhcp_lease> dhcp_leases(std::optional<std::string> mac = {}, unsigned flags = 0) const {
        return conn_.template call<op::network_get_dhcp_leases>({ref_, std::move(mac), flags});
    }

    friend bool operator==(const basic_network& a, const basic_network& b) noexcept {
        return a.conn_ == b.conn_ && a.ref_.uuid == b.ref_.uuid;
    }

private:
    connection_type conn_;
    network_ref ref_;
};

// ---- bodies that need the handle types complete ----------------------------------------------

template <class H, class T>
auto basic_connection<H, T>::list_all_domains(unsigned flags) const -> std::vector<domain_type> {
    std::vector<domain_type> out;
    for (auto& ref : call<op::connect_list_all_domains>({flags})) out.emplace_back(*this, std::move(ref));
    return out;
}
template <class H, class T>
auto basic_connection<H, T>::lookup_domain_by_id(int id) const -> domain_type {
    return domain_type(*this, call<op::domain_lookup_by_id>({id}));
}
template <class H, class T>
auto basic_connection<H, T>::lookup_domain_by_name(std::string_view name) const -> domain_type {
    return domain_type(*this, call<op::domain_lookup_by_name>({std::string(name)}));
}
template <class H, class T>
auto basic_connection<H, T>::lookup_domain_by_uuid(const virtpp::uuid& id) const -> domain_type {
    return domain_type(*this, call<op::domain_lookup_by_uuid>({id}));
}
template <class H, class T>
auto basic_connection<H, T>::lookup_domain_by_uuid_string(std::string_view id) const -> domain_type {
    return lookup_domain_by_uuid(parse_uuid_arg(id, error_domain::domain, "virDomainLookupByUUIDString"));
}
template <class H, class T>
auto basic_connection<H, T>::create_domain_xml(std::string_view xml, unsigned flags) const -> domain_type {
    return domain_type(*this, call<op::domain_create_xml>({std::string(xml), flags}));
}
template <class H, class T>
auto basic_connection<H, T>::define_domain_xml(std::string_view xml) const -> domain_type {
    return domain_type(*this, call<op::domain_define_xml>({std::string(xml), 0}));
}
template <class H, class T>
auto basic_connection<H, T>::list_all_networks(unsigned flags) const -> std::vector<network_type> {
    std::vector<network_type> out;
    for (auto& ref : call<op::connect_list_all_networks>({flags})) out.emplace_back(*this, std::move(ref));
    return out;
}
template <class H, class T>
auto basic_connection<H, T>::lookup_network_by_name(std::string_view name) const -> network_type {
    return network_type(*this, call<op::network_lookup_by_name>({std::string(name)}));
}
template <class H, class T>
auto basic_connection<H, T>::lookup_network_by_uuid(const virtpp::uuid& id) const -> network_type {
    return network_type(*this, call<op::network_lookup_by_uuid>({id}));
}
template <class H, class T>
auto basic_connection<H, T>::lookup_network_by_uuid_string(std::string_view id) const -> network_type {
    return lookup_network_by_uuid(parse_uuid_arg(id, error_domain::network, "virNetworkLookupByUUIDString"));
}
template <class H, class T>
auto basic_connection<H, T>::create_network_xml(std::string_view xml) const -> network_type {
    return network_type(*this, call<op::network_create_xml>({std::string(xml)}));
}
template <class H, class T>
auto basic_connection<H, T>::define_network_xml(std::string_view xml) const -> network_type {
    return network_type(*this, call<op::network_define_xml>({std::string(xml)}));
}

template <class H, class T>
template <class H2, class T2>
basic_domain<H2, T2> basic_domain<H, T>::migrate(const basic_connection<H2, T2>& dest, unsigned flags, migrate_params params) {
    const auto& dname = params.dname;
    auto& uri = params.uri;
    const auto bandwidth = params.bandwidth;
    // libvirt's v3 sequence, run by the caller. Each step reports through its own connection's
    // handlers; when a step fails, the steps already taken are undone and its error is thrown.
    auto begun = conn_.template call<op::domain_migrate_begin>({ref_, params.xml, flags, dname, bandwidth});
    if (!(flags & migrate_flags::postcopy_resume) && conn_.template call<op::domain_get_info>({ref_}).state == domain_state::paused)
        flags |= migrate_flags::paused;
    const unsigned dest_flags = flags & ~(migrate_flags::abort_on_error | migrate_flags::auto_converge);
    auto cancel_source = [&] {
        try {
            conn_.template call<op::domain_migrate_confirm>({ref_, {}, flags, true});
        } catch (const error&) {
            // the first error is the one the caller needs to see
        }
    };
    op::domain_migrate_prepare::result prepared;
    try {
        prepared = dest.template call<op::domain_migrate_prepare>({begun.cookie, uri, dest_flags, dname, bandwidth, begun.xml});
    } catch (const error&) {
        cancel_source();
        throw;
    }
    if (prepared.uri_out) uri = prepared.uri_out;
    const std::string dest_name = dname.value_or(ref_.name);
    op::migrate_cookie performed;
    try {
        performed = conn_.template call<op::domain_migrate_perform>(
            {ref_, std::nullopt, prepared.cookie, std::nullopt, uri, flags, dname, bandwidth});
    } catch (const error&) {
        // the source has already given up; the destination drops its half
        try {
            (void)dest.template call<op::domain_migrate_finish>({dest_name, {}, std::nullopt, uri, dest_flags, true});
        } catch (const error&) {
        }
        throw;
    }
    op::domain_migrate_finish::result finished;
    try {
        finished = dest.template call<op::domain_migrate_finish>({dest_name, performed, std::nullopt, uri, dest_flags, false});
    } catch (const error&) {
        cancel_source();  // the guest runs on where it was
        throw;
    }
    try {
        conn_.template call<op::domain_migrate_confirm>({ref_, finished.cookie, flags, false});
    } catch (const error&) {
        // the guest runs on the destination; at worst a paused copy is left on the source (libvirt ignores this too)
    }
    ref_.id = -1;
    return basic_domain<H2, T2>(dest, std::move(finished.dom));
}

}  // namespace virtpp
