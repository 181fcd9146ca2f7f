// libvirt's remote procedures that virtpp serves and calls, with their numbers and wire layouts
// (remote_protocol.x of libvirt 9.0; see ../shared/design/remote-procedures.md). Entries whose
// layout is the operation's own are one line; the others say how to convert.
#pragma once

#include <virtpp/rpc/protocol.hpp>

#include <algorithm>
#include <cstring>

namespace virtpp::rpc {

namespace limits {
inline constexpr std::size_t domain_list = 16384;
inline constexpr std::size_t network_list = 16384;
inline constexpr std::size_t domain_id_list = 16384;  ///< REMOTE_DOMAIN_LIST_MAX bounds the legacy id list too
inline constexpr std::size_t cpumap = 2048;
inline constexpr std::size_t vcpuinfo = 16384;
inline constexpr std::size_t cpumaps = 8388608;
inline constexpr std::size_t migrate_cookie = 4194304;
inline constexpr std::size_t scheduler_parameters = 16;
inline constexpr std::size_t typed_params = 64;  ///< REMOTE_DOMAIN_SCHEDULER_PARAMETERS_MAX for the _FLAGS variants? see 9.0
inline constexpr std::size_t auth_types = 20;
inline constexpr std::size_t security_model = 257;
inline constexpr std::size_t security_doi = 257;
inline constexpr std::size_t security_label = 4097;
inline constexpr std::size_t domain_messages = 2048;
inline constexpr std::size_t job_stats = 64;  ///< REMOTE_DOMAIN_JOB_STATS_MAX
inline constexpr std::size_t domain_stats_params = 262144;  ///< REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX
inline constexpr std::size_t storage_pool_list = 16384;
inline constexpr std::size_t storage_vol_list = 16384;
inline constexpr std::size_t interface_list = 16384;
inline constexpr std::size_t node_device_list = 65536;
inline constexpr std::size_t node_device_caps_list = 65536;
inline constexpr std::size_t domain_snapshot_list = 16384;
inline constexpr std::size_t domain_checkpoint_list = 16384;
}  // namespace limits

/// `char text<N>` as libvirt sends C strings in the security calls: every byte (NUL included) a
/// 4-byte xdr_char.
template <std::size_t Max>
struct char_string {
    std::string value;
    friend bool operator==(const char_string&, const char_string&) = default;
};

namespace xdr {
template <std::size_t Max>
struct codec<rpc::char_string<Max>> {
    static void encode(encoder& e, const rpc::char_string<Max>& v) {
        auto n = v.value.size() + 1;
        if (n > Max) fail("outgoing string over the limit of " + std::to_string(Max));
        e.u32(static_cast<std::uint32_t>(n));
        for (char c : v.value) e.i32(static_cast<signed char>(c));
        e.i32(0);
    }
    static void decode(decoder& d, rpc::char_string<Max>& v) {
        auto n = d.length(Max, 4);
        v.value.clear();
        v.value.reserve(n);
        for (std::size_t i = 0; i < n; ++i) v.value += static_cast<char>(d.i32());
        if (auto nul = v.value.find('\0'); nul != std::string::npos) v.value.resize(nul);
    }
};
}  // namespace xdr

namespace wire {
struct dom_only { domain_ref dom; };
struct dom_flags { domain_ref dom; std::uint32_t flags = 0; };
struct dom_xml { domain_ref dom; std::string xml; };
struct xml_only { std::string xml; };
struct max_names { std::int32_t max = 0; };
struct names { xdr::array<std::string, limits::domain_list> items; };
struct net_names { xdr::array<std::string, limits::network_list> items; };
struct ids { xdr::array<std::int32_t, limits::domain_id_list> items; };
struct list_all_args { std::int32_t need_results = 0; std::uint32_t flags = 0; };
struct list_all_domains_ret { xdr::array<domain_ref, limits::domain_list> domains; std::uint32_t count = 0; };
struct list_all_networks_ret { xdr::array<network_ref, limits::network_list> nets; std::uint32_t count = 0; };
struct node_info_ret {
    xdr::fixed_chars<32> model;
    std::uint64_t memory = 0;
    std::int32_t cpus = 0, mhz = 0, nodes = 0, sockets = 0, cores = 0, threads = 0;
};
struct node_cpu_map_args { std::int32_t need_map = 0; std::int32_t need_online = 0; std::uint32_t flags = 0; };
struct node_cpu_map_ret { xdr::opaque<limits::cpumap> cpumap; std::uint32_t online = 0; std::int32_t ret = 0; };
struct security_model_ret { char_string<limits::security_model> model; char_string<limits::security_doi> doi; };
struct security_label_ret { char_string<limits::security_label> label; std::int32_t enforcing = 0; };
struct vcpu_info_wire { std::uint32_t number = 0; std::int32_t state = 0; std::uint64_t cpu_time = 0; std::int32_t cpu = 0; };
struct vcpus_ret { xdr::array<vcpu_info_wire, limits::vcpuinfo> info; xdr::opaque<limits::cpumaps> cpumaps; };
struct pin_vcpu_args { domain_ref dom; std::uint32_t vcpu = 0; xdr::opaque<limits::cpumap> cpumap; };
struct pin_vcpu_flags_args { domain_ref dom; std::uint32_t vcpu = 0; xdr::opaque<limits::cpumap> cpumap; std::uint32_t flags = 0; };
struct sched_params_args { domain_ref dom; std::int32_t nparams = 0; };
struct sched_params_ret { xdr::array<typed_param, limits::scheduler_parameters> params; };
struct set_sched_params_args { domain_ref dom; xdr::array<typed_param, limits::scheduler_parameters> params; };
struct set_sched_params_flags_args { domain_ref dom; xdr::array<typed_param, limits::scheduler_parameters> params; std::uint32_t flags = 0; };
struct sched_params_flags_args { domain_ref dom; std::int32_t nparams = 0; std::uint32_t flags = 0; };
struct messages_ret { xdr::array<std::string, limits::domain_messages> msgs; };
struct dom_set_u64 { domain_ref dom; std::uint64_t value = 0; };
struct dom_set_u32 { domain_ref dom; std::uint32_t value = 0; };
struct migrate_begin3_args { domain_ref dom; std::optional<std::string> xmlin; std::uint64_t flags = 0; std::optional<std::string> dname; std::uint64_t resource = 0; };
struct migrate_begin3_ret { xdr::opaque<limits::migrate_cookie> cookie_out; std::string xml; };
struct migrate_prepare3_args { xdr::opaque<limits::migrate_cookie> cookie_in; std::optional<std::string> uri_in; std::uint64_t flags = 0; std::optional<std::string> dname; std::uint64_t resource = 0; std::string dom_xml; };
struct migrate_prepare3_ret { xdr::opaque<limits::migrate_cookie> cookie_out; std::optional<std::string> uri_out; };
struct migrate_perform3_args { domain_ref dom; std::optional<std::string> xmlin; xdr::opaque<limits::migrate_cookie> cookie_in; std::optional<std::string> dconnuri; std::optional<std::string> uri; std::uint64_t flags = 0; std::optional<std::string> dname; std::uint64_t resource = 0; };
struct migrate_cookie_ret { xdr::opaque<limits::migrate_cookie> cookie_out; };
struct migrate_finish3_args { std::string dname; xdr::opaque<limits::migrate_cookie> cookie_in; std::optional<std::string> dconnuri; std::optional<std::string> uri; std::uint64_t flags = 0; std::int32_t cancelled = 0; };
struct migrate_finish3_ret { domain_ref dom; xdr::opaque<limits::migrate_cookie> cookie_out; };
struct network_update_args {
    network_ref net;
    std::uint32_t command = 0;
    std::uint32_t section = 0;
    std::int32_t parent_index = 0;
    std::string xml;
    std::uint32_t flags = 0;
};
struct dhcp_leases_args { network_ref net; std::optional<std::string> mac; std::int32_t need_results = 0; std::uint32_t flags = 0; };
struct dhcp_lease_wire {
    std::string iface;
    std::int64_t expiry_time = 0;
    std::int32_t type = 0;
    std::optional<std::string> mac, iaid;
    std::string ipaddr;
    std::uint32_t prefix = 0;
    std::optional<std::string> hostname, clientid;
};
struct dhcp_leases_ret { xdr::array<dhcp_lease_wire, 65536> leases; std::uint32_t ret = 0; };
struct ip_addr_wire { std::int32_t type = 0; std::string addr; std::uint32_t prefix = 0; };
struct iface_wire { std::string name; std::optional<std::string> hwaddr; xdr::array<ip_addr_wire, 2048> addrs; };
struct iface_addrs_args { domain_ref dom; std::uint32_t source = 0; std::uint32_t flags = 0; };
struct iface_addrs_ret { xdr::array<iface_wire, 2048> ifaces; };
struct job_stats_ret { std::int32_t type = 0; xdr::array<typed_param, limits::job_stats> params; };
struct all_domain_stats_args { xdr::array<domain_ref, limits::domain_list> doms; std::uint32_t stats = 0; std::uint32_t flags = 0; };
struct domain_stats_record_wire { domain_ref dom; xdr::array<typed_param, limits::domain_stats_params> params; };
struct all_domain_stats_ret { xdr::array<domain_stats_record_wire, limits::domain_list> records; };
template <class Ref, std::size_t Max, class Count = std::uint32_t>
struct ref_list_ret { xdr::array<Ref, Max> items; Count count = 0; };
struct pool_list_all_args { storage_pool_ref pool; std::int32_t need_results = 0; std::uint32_t flags = 0; };
struct dom_list_all_args { domain_ref dom; std::int32_t need_results = 0; std::uint32_t flags = 0; };
struct pool_info_ret { std::uint32_t state = 0; std::uint64_t capacity = 0, allocation = 0, available = 0; };
struct vol_info_ret { std::int32_t type = 0; std::uint64_t capacity = 0, allocation = 0; };
struct node_device_caps_args { std::string name; std::int32_t max = 0; };
struct node_device_caps_ret { xdr::array<std::string, limits::node_device_caps_list> names; };
struct num_ret { std::int32_t num = 0; };
struct pool_only { storage_pool_ref pool; };
struct pool_max_names { storage_pool_ref pool; std::int32_t max = 0; };
struct node_devices_count_args { std::optional<std::string> cap; std::uint32_t flags = 0; };
struct node_devices_list_args { std::optional<std::string> cap; std::int32_t max = 0; std::uint32_t flags = 0; };
struct node_device_name { std::string name; };
struct dom_max_names_flags { domain_ref dom; std::int32_t max = 0; std::uint32_t flags = 0; };
template <std::size_t Max>
struct names_ret { xdr::array<std::string, Max> names; };
struct migrate_confirm3_args { domain_ref dom; xdr::opaque<limits::migrate_cookie> cookie_in; std::uint64_t flags = 0; std::int32_t cancelled = 0; };
}  // namespace wire

namespace proc {

template <class Op, std::int32_t N, class Args = typename Op::args, class Ret = natural_ret<Op>>
using p = procedure<N, Op, Args, Ret>;

// ---- connection and node
struct connect_get_type : p<op::connect_get_type, 3> {};
struct connect_get_version : p<op::connect_get_version, 4> {};
struct connect_get_max_vcpus : p<op::connect_get_max_vcpus, 5> {};
struct node_get_info : p<op::node_get_info, 6, op::none, wire::node_info_ret> {
    static wire::node_info_ret to_wire(const node_info& n) {
        wire::node_info_ret r;
        std::memcpy(r.model.chars.data(), n.model.data(), std::min(n.model.size(), r.model.chars.size() - 1));
        r.memory = n.memory_kib;
        r.cpus = static_cast<std::int32_t>(n.cpus), r.mhz = static_cast<std::int32_t>(n.mhz);
        r.nodes = static_cast<std::int32_t>(n.nodes), r.sockets = static_cast<std::int32_t>(n.sockets);
        r.cores = static_cast<std::int32_t>(n.cores), r.threads = static_cast<std::int32_t>(n.threads);
        return r;
    }
    static node_info from_wire(const wire::node_info_ret& r) {
        node_info n;
        n.model.assign(r.model.chars.data(), strnlen(r.model.chars.data(), r.model.chars.size()));
        n.memory_kib = r.memory;
        n.cpus = static_cast<unsigned>(r.cpus), n.mhz = static_cast<unsigned>(r.mhz);
        n.nodes = static_cast<unsigned>(r.nodes), n.sockets = static_cast<unsigned>(r.sockets);
        n.cores = static_cast<unsigned>(r.cores), n.threads = static_cast<unsigned>(r.threads);
        return n;
    }
};
struct connect_get_capabilities : p<op::connect_get_capabilities, 7> {};
struct connect_get_hostname : p<op::connect_get_hostname, 59> {};
struct connect_supports_feature : p<op::connect_supports_feature, 60> {};
struct connect_domain_xml_from_native : p<op::connect_domain_xml_from_native, 135> {};
struct connect_domain_xml_to_native : p<op::connect_domain_xml_to_native, 136> {};
struct connect_get_sysinfo : p<op::connect_get_sysinfo, 203> {};
struct connect_get_domain_capabilities : p<op::connect_get_domain_capabilities, 342> {};
struct node_get_security_model : p<op::node_get_security_model, 122, op::none, wire::security_model_ret> {
    static wire::security_model_ret to_wire(const security_model& m) { return {{m.model}, {m.doi}}; }
    static security_model from_wire(const wire::security_model_ret& r) { return {r.model.value, r.doi.value}; }
};
struct node_get_cpu_map : p<op::node_get_cpu_map, 293, wire::node_cpu_map_args, wire::node_cpu_map_ret> {
    static op::none to_op(const wire::node_cpu_map_args&) { return {}; }
    static wire::node_cpu_map_args from_op(const op::none&) { return {1, 1, 0}; }
    static wire::node_cpu_map_ret to_wire(const std::vector<bool>& online) {
        wire::node_cpu_map_ret r;
        r.cpumap.bytes.assign((online.size() + 7) / 8, 0);
        for (std::size_t i = 0; i < online.size(); ++i)
            if (online[i]) {
                r.cpumap.bytes[i / 8] = static_cast<std::uint8_t>(r.cpumap.bytes[i / 8] | (1U << (i % 8)));
                ++r.online;
            }
        r.ret = static_cast<std::int32_t>(online.size());
        return r;
    }
    static std::vector<bool> from_wire(const wire::node_cpu_map_ret& r) {
        std::vector<bool> online(static_cast<std::size_t>(std::max(r.ret, 0)));
        for (std::size_t i = 0; i < online.size() && i / 8 < r.cpumap.bytes.size(); ++i)
            online[i] = (r.cpumap.bytes[i / 8] >> (i % 8)) & 1U;
        return online;
    }
};

// ---- listing
struct connect_num_of_domains : p<op::connect_num_of_domains, 51> {};
struct connect_num_of_defined_domains : p<op::connect_num_of_defined_domains, 25> {};
struct connect_num_of_networks : p<op::connect_num_of_networks, 52> {};
struct connect_num_of_defined_networks : p<op::connect_num_of_defined_networks, 50> {};
struct connect_list_domains : p<op::connect_list_domains, 37, wire::max_names, wire::ids> {
    static op::none to_op(const wire::max_names&) { return {}; }
    static wire::max_names from_op(const op::none&) { return {static_cast<std::int32_t>(limits::domain_id_list)}; }
    static wire::ids to_wire(const std::vector<int>& v) { return {{v}}; }
    static std::vector<int> from_wire(const wire::ids& r) { return r.items.items; }
};
template <class Op, std::int32_t N, class Names, std::size_t Max>
struct name_list : p<Op, N, wire::max_names, Names> {
    static op::none to_op(const wire::max_names&) { return {}; }
    static wire::max_names from_op(const op::none&) { return {static_cast<std::int32_t>(Max)}; }
    static Names to_wire(const std::vector<std::string>& v) { return {{v}}; }
    static std::vector<std::string> from_wire(const Names& r) { return r.items.items; }
};
struct connect_list_defined_domains : name_list<op::connect_list_defined_domains, 21, wire::names, limits::domain_list> {};
struct connect_list_networks : name_list<op::connect_list_networks, 38, wire::net_names, limits::network_list> {};
struct connect_list_defined_networks : name_list<op::connect_list_defined_networks, 36, wire::net_names, limits::network_list> {};
struct connect_list_all_domains : p<op::connect_list_all_domains, 273, wire::list_all_args, wire::list_all_domains_ret> {
    static op::connect_list_all_domains::args to_op(const wire::list_all_args& a) { return {a.flags}; }
    static wire::list_all_args from_op(const op::connect_list_all_domains::args& a) { return {1, a.flags}; }
    static wire::list_all_domains_ret to_wire(const std::vector<domain_ref>& v) {
        return {{v}, static_cast<std::uint32_t>(v.size())};
    }
    static std::vector<domain_ref> from_wire(const wire::list_all_domains_ret& r) { return r.domains.items; }
};
// one procedure for virConnectGetAllDomainStats (no domains) and virDomainListGetStats
struct connect_get_all_domain_stats
    : p<op::connect_get_all_domain_stats, 344, wire::all_domain_stats_args, wire::all_domain_stats_ret> {
    static op::connect_get_all_domain_stats::args to_op(const wire::all_domain_stats_args& a) {
        return {a.doms.items, a.stats, a.flags};
    }
    static wire::all_domain_stats_args from_op(const op::connect_get_all_domain_stats::args& a) {
        return {{a.doms}, a.stats, a.flags};
    }
    static wire::all_domain_stats_ret to_wire(const std::vector<domain_stats_record>& v) {
        wire::all_domain_stats_ret r;
        r.records.items.reserve(v.size());
        for (const auto& rec : v) r.records.items.push_back({rec.dom, {rec.params}});
        return r;
    }
    static std::vector<domain_stats_record> from_wire(const wire::all_domain_stats_ret& r) {
        std::vector<domain_stats_record> out;
        out.reserve(r.records.items.size());
        for (const auto& rec : r.records.items) out.push_back({rec.dom, rec.params.items});
        return out;
    }
};
struct connect_list_all_networks : p<op::connect_list_all_networks, 283, wire::list_all_args, wire::list_all_networks_ret> {
    static op::connect_list_all_networks::args to_op(const wire::list_all_args& a) { return {a.flags}; }
    static wire::list_all_args from_op(const op::connect_list_all_networks::args& a) { return {1, a.flags}; }
    static wire::list_all_networks_ret to_wire(const std::vector<network_ref>& v) {
        return {{v}, static_cast<std::uint32_t>(v.size())};
    }
    static std::vector<network_ref> from_wire(const wire::list_all_networks_ret& r) { return r.nets.items; }
};

// ---- domains: lookup and lifecycle
struct domain_lookup_by_id : p<op::domain_lookup_by_id, 22> {};
struct domain_lookup_by_name : p<op::domain_lookup_by_name, 23> {};
struct domain_lookup_by_uuid : p<op::domain_lookup_by_uuid, 24> {};
struct domain_create_xml : p<op::domain_create_xml, 10> {};
struct domain_define_xml_flags : p<op::domain_define_xml, 350> {};
struct domain_define_xml : served_only<p<op::domain_define_xml, 11, wire::xml_only>> {
    static op::domain_define_xml::args to_op(const wire::xml_only& a) { return {a.xml, 0}; }
};
struct domain_undefine_flags : p<op::domain_undefine, 231> {};
struct domain_undefine : served_only<p<op::domain_undefine, 35, wire::dom_only>> {
    static op::domain_undefine::args to_op(const wire::dom_only& a) { return {a.dom, 0}; }
};
struct domain_create_with_flags : p<op::domain_create, 196> {};
struct domain_create : served_only<p<op::domain_create, 9, wire::dom_only, xdr::none>> {
    static op::domain_create::args to_op(const wire::dom_only& a) { return {a.dom, 0}; }
    static xdr::none to_wire(const domain_ref&) { return {}; }
};
struct domain_suspend : p<op::domain_suspend, 34> {};
struct domain_resume : p<op::domain_resume, 28> {};
struct domain_shutdown_flags : p<op::domain_shutdown, 258> {};
struct domain_shutdown : served_only<p<op::domain_shutdown, 33, wire::dom_only>> {
    static op::domain_shutdown::args to_op(const wire::dom_only& a) { return {a.dom, 0}; }
};
struct domain_reboot : p<op::domain_reboot, 27> {};
struct domain_destroy_flags : p<op::domain_destroy, 234> {};
struct domain_destroy : served_only<p<op::domain_destroy, 12, wire::dom_only>> {
    static op::domain_destroy::args to_op(const wire::dom_only& a) { return {a.dom, 0}; }
};
struct domain_save : p<op::domain_save, 55> {};
struct domain_restore : p<op::domain_restore, 54> {};
struct domain_core_dump : p<op::domain_core_dump, 53> {};
struct domain_has_managed_save_image : p<op::domain_has_managed_save_image, 183> {};

// ---- domains: properties
struct domain_get_info : p<op::domain_get_info, 16> {};
struct domain_get_state : p<op::domain_get_state, 212> {};
struct domain_get_os_type : p<op::domain_get_os_type, 19> {};
struct domain_get_xml_desc : p<op::domain_get_xml_desc, 14> {};
struct domain_is_active : p<op::domain_is_active, 150> {};
struct domain_is_persistent : p<op::domain_is_persistent, 151> {};
struct domain_get_autostart : p<op::domain_get_autostart, 15> {};
struct domain_set_autostart : p<op::domain_set_autostart, 29> {};
struct domain_get_max_memory : p<op::domain_get_max_memory, 17> {};
struct domain_set_max_memory : p<op::domain_set_max_memory, 30> {};
struct domain_set_memory_flags : p<op::domain_set_memory, 204> {};
struct domain_set_memory : served_only<p<op::domain_set_memory, 31, wire::dom_set_u64>> {
    static op::domain_set_memory::args to_op(const wire::dom_set_u64& a) { return {a.dom, a.value, affect::live}; }
};
struct domain_get_max_vcpus : p<op::domain_get_max_vcpus, 18> {};
struct domain_set_vcpus_flags : p<op::domain_set_vcpus, 199> {};
struct domain_set_vcpus : served_only<p<op::domain_set_vcpus, 32, wire::dom_set_u32>> {
    static op::domain_set_vcpus::args to_op(const wire::dom_set_u32& a) { return {a.dom, a.value, affect::live}; }
};
struct domain_get_vcpus_flags : p<op::domain_get_vcpus_flags, 200> {};
struct domain_pin_vcpu_flags : p<op::domain_pin_vcpu, 225, wire::pin_vcpu_flags_args> {
    static op::domain_pin_vcpu::args to_op(const wire::pin_vcpu_flags_args& a) {
        std::vector<bool> map(a.cpumap.bytes.size() * 8);
        for (std::size_t i = 0; i < map.size(); ++i) map[i] = (a.cpumap.bytes[i / 8] >> (i % 8)) & 1U;
        return {a.dom, a.vcpu, std::move(map), a.flags};
    }
    static wire::pin_vcpu_flags_args from_op(const op::domain_pin_vcpu::args& a) {
        wire::pin_vcpu_flags_args w{a.dom, a.vcpu, {}, a.flags};
        w.cpumap.bytes.assign((a.cpumap.size() + 7) / 8, 0);
        for (std::size_t i = 0; i < a.cpumap.size(); ++i)
            if (a.cpumap[i]) w.cpumap.bytes[i / 8] = static_cast<std::uint8_t>(w.cpumap.bytes[i / 8] | (1U << (i % 8)));
        return w;
    }
};
/// virDomainPinVcpu: the same with flags 0.
struct domain_pin_vcpu : served_only<p<op::domain_pin_vcpu, 26, wire::pin_vcpu_args>> {
    static op::domain_pin_vcpu::args to_op(const wire::pin_vcpu_args& a) {
        return domain_pin_vcpu_flags::to_op({a.dom, a.vcpu, a.cpumap, 0});
    }
};
struct domain_get_vcpus : p<op::domain_get_vcpus, 20, op::domain_get_vcpus::args, wire::vcpus_ret> {
    /// The daemon checks the sizes the reply will have before the call (REMOTE_VCPUINFO_MAX,
    /// REMOTE_CPUMAPS_MAX), so nothing is allocated for an oversized request.
    static op::domain_get_vcpus::args to_op(const op::domain_get_vcpus::args& a) {
        if (a.maxinfo < 0 || static_cast<std::size_t>(a.maxinfo) > limits::vcpuinfo)
            xdr::fail("maxinfo > REMOTE_VCPUINFO_MAX");
        if (a.maplen < 0 || static_cast<std::size_t>(a.maxinfo) * static_cast<std::size_t>(a.maplen) > limits::cpumaps)
            xdr::fail("maxinfo * maplen > REMOTE_CPUMAPS_MAX");
        return a;
    }
    /// libvirt sends maxinfo * maplen bytes of maps whatever the number of vcpus.
    static wire::vcpus_ret to_wire(const op::domain_get_vcpus::args& a, const std::vector<vcpu_info>& v) {
        wire::vcpus_ret r;
        auto maxinfo = static_cast<std::size_t>(a.maxinfo);
        auto maplen = static_cast<std::size_t>(a.maplen);
        r.cpumaps.bytes.assign(maxinfo * maplen, 0);
        for (std::size_t n = 0; n < v.size() && n < maxinfo; ++n) {
            const auto& i = v[n];
            r.info.items.push_back({i.number, i.state, i.cpu_time_ns, i.cpu});
            for (std::size_t c = 0; c < i.affinity.size() && c / 8 < maplen; ++c)
                if (i.affinity[c]) r.cpumaps.bytes[n * maplen + c / 8] |= static_cast<std::uint8_t>(1U << (c % 8));
        }
        return r;
    }
    static std::vector<vcpu_info> from_wire(const op::domain_get_vcpus::args& a, const wire::vcpus_ret& r) {
        std::vector<vcpu_info> v;
        auto maplen = static_cast<std::size_t>(std::max(a.maplen, 0));
        for (std::size_t n = 0; n < r.info.items.size(); ++n) {
            const auto& i = r.info.items[n];
            vcpu_info out{i.number, i.state, i.cpu_time, i.cpu, {}};
            if (maplen > 0 && (n + 1) * maplen <= r.cpumaps.bytes.size()) {
                out.affinity.resize(maplen * 8);
                for (std::size_t c = 0; c < maplen * 8; ++c) out.affinity[c] = (r.cpumaps.bytes[n * maplen + c / 8] >> (c % 8)) & 1U;
            }
            v.push_back(std::move(out));
        }
        return v;
    }
};
struct domain_get_scheduler_type : p<op::domain_get_scheduler_type, 56> {};
struct domain_get_scheduler_parameters : p<op::domain_get_scheduler_parameters, 57, wire::sched_params_args, wire::sched_params_ret> {
    static op::domain_get_scheduler_parameters::args to_op(const wire::sched_params_args& a) { return {a.dom, 0}; }
    static wire::sched_params_args from_op(const op::domain_get_scheduler_parameters::args& a) {
        return {a.dom, static_cast<std::int32_t>(limits::scheduler_parameters)};
    }
    static wire::sched_params_ret to_wire(const std::vector<typed_param>& v) { return {{v}}; }
    static std::vector<typed_param> from_wire(const wire::sched_params_ret& r) { return r.params.items; }
};
struct domain_set_scheduler_parameters_flags : p<op::domain_set_scheduler_parameters, 219, wire::set_sched_params_flags_args> {
    static op::domain_set_scheduler_parameters::args to_op(const wire::set_sched_params_flags_args& a) {
        return {a.dom, a.params.items, a.flags};
    }
    static wire::set_sched_params_flags_args from_op(const op::domain_set_scheduler_parameters::args& a) {
        return {a.dom, {a.params}, a.flags};
    }
};
struct domain_set_scheduler_parameters : served_only<p<op::domain_set_scheduler_parameters, 58, wire::set_sched_params_args>> {
    static op::domain_set_scheduler_parameters::args to_op(const wire::set_sched_params_args& a) {
        return {a.dom, a.params.items, 0};
    }
};
struct domain_block_stats : p<op::domain_block_stats, 64> {};
struct domain_interface_stats : p<op::domain_interface_stats, 65> {};
struct domain_attach_device_flags : p<op::domain_attach_device, 160> {};
struct domain_attach_device : served_only<p<op::domain_attach_device, 8, wire::dom_xml>> {
    static op::domain_attach_device::args to_op(const wire::dom_xml& a) { return {a.dom, a.xml, affect::live}; }
};
struct domain_detach_device_flags : p<op::domain_detach_device, 161> {};
struct domain_detach_device : served_only<p<op::domain_detach_device, 13, wire::dom_xml>> {
    static op::domain_detach_device::args to_op(const wire::dom_xml& a) { return {a.dom, a.xml, affect::live}; }
};
struct domain_get_security_label : p<op::domain_get_security_label, 121, op::domain_get_security_label::args, wire::security_label_ret> {
    static wire::security_label_ret to_wire(const security_label& l) { return {{l.label}, l.enforcing ? 1 : 0}; }
    static security_label from_wire(const wire::security_label_ret& r) { return {r.label.value, r.enforcing != 0}; }
};
struct domain_snapshot_num : p<op::domain_snapshot_num, 187> {};
struct domain_get_messages : p<op::domain_get_messages, 426, op::domain_get_messages::args, wire::messages_ret> {
    static wire::messages_ret to_wire(const std::vector<std::string>& v) { return {{v}}; }
    static std::vector<std::string> from_wire(const wire::messages_ret& r) { return r.msgs.items; }
};

// ---- migration, protocol v3
struct domain_migrate_begin3 : p<op::domain_migrate_begin, 213, wire::migrate_begin3_args, wire::migrate_begin3_ret> {
    static op::domain_migrate_begin::args to_op(const wire::migrate_begin3_args& a) {
        return {a.dom, a.xmlin, static_cast<unsigned>(a.flags), a.dname, a.resource};
    }
    static wire::migrate_begin3_args from_op(const op::domain_migrate_begin::args& a) {
        return {a.dom, a.xmlin, a.flags, a.dname, a.bandwidth};
    }
    static wire::migrate_begin3_ret to_wire(const op::domain_migrate_begin::result& r) { return {{r.cookie}, r.xml}; }
    static op::domain_migrate_begin::result from_wire(const wire::migrate_begin3_ret& r) { return {r.cookie_out.bytes, r.xml}; }
};
struct domain_migrate_prepare3 : p<op::domain_migrate_prepare, 214, wire::migrate_prepare3_args, wire::migrate_prepare3_ret> {
    static op::domain_migrate_prepare::args to_op(const wire::migrate_prepare3_args& a) {
        return {a.cookie_in.bytes, a.uri_in, static_cast<unsigned>(a.flags), a.dname, a.resource, a.dom_xml};
    }
    static wire::migrate_prepare3_args from_op(const op::domain_migrate_prepare::args& a) {
        return {{a.cookie}, a.uri_in, a.flags, a.dname, a.bandwidth, a.xml};
    }
    static wire::migrate_prepare3_ret to_wire(const op::domain_migrate_prepare::result& r) { return {{r.cookie}, r.uri_out}; }
    static op::domain_migrate_prepare::result from_wire(const wire::migrate_prepare3_ret& r) { return {r.cookie_out.bytes, r.uri_out}; }
};
struct domain_migrate_perform3 : p<op::domain_migrate_perform, 216, wire::migrate_perform3_args, wire::migrate_cookie_ret> {
    static op::domain_migrate_perform::args to_op(const wire::migrate_perform3_args& a) {
        return {a.dom, a.xmlin, a.cookie_in.bytes, a.dconnuri, a.uri, static_cast<unsigned>(a.flags), a.dname, a.resource};
    }
    static wire::migrate_perform3_args from_op(const op::domain_migrate_perform::args& a) {
        return {a.dom, a.xmlin, {a.cookie}, a.dconnuri, a.uri, a.flags, a.dname, a.bandwidth};
    }
    static wire::migrate_cookie_ret to_wire(const op::migrate_cookie& c) { return {{c}}; }
    static op::migrate_cookie from_wire(const wire::migrate_cookie_ret& r) { return r.cookie_out.bytes; }
};
struct domain_migrate_finish3 : p<op::domain_migrate_finish, 217, wire::migrate_finish3_args, wire::migrate_finish3_ret> {
    static op::domain_migrate_finish::args to_op(const wire::migrate_finish3_args& a) {
        return {a.dname, a.cookie_in.bytes, a.dconnuri, a.uri, static_cast<unsigned>(a.flags), a.cancelled != 0};
    }
    static wire::migrate_finish3_args from_op(const op::domain_migrate_finish::args& a) {
        return {a.name, {a.cookie}, a.dconnuri, a.uri, a.flags, a.cancelled ? 1 : 0};
    }
    static wire::migrate_finish3_ret to_wire(const op::domain_migrate_finish::result& r) { return {r.dom, {r.cookie}}; }
    static op::domain_migrate_finish::result from_wire(const wire::migrate_finish3_ret& r) { return {r.dom, r.cookie_out.bytes}; }
};
struct domain_migrate_confirm3 : p<op::domain_migrate_confirm, 218, wire::migrate_confirm3_args, xdr::none> {
    static op::domain_migrate_confirm::args to_op(const wire::migrate_confirm3_args& a) {
        return {a.dom, a.cookie_in.bytes, static_cast<unsigned>(a.flags), a.cancelled != 0};
    }
    static wire::migrate_confirm3_args from_op(const op::domain_migrate_confirm::args& a) {
        return {a.dom, {a.cookie}, a.flags, a.cancelled ? 1 : 0};
    }
};

// ---- networks
struct network_lookup_by_name : p<op::network_lookup_by_name, 46> {};
struct network_lookup_by_uuid : p<op::network_lookup_by_uuid, 47> {};
struct network_create_xml : p<op::network_create_xml, 40> {};
struct network_define_xml : p<op::network_define_xml, 41> {};
struct network_undefine : p<op::network_undefine, 49> {};
struct network_create : p<op::network_create, 39> {};
struct network_destroy : p<op::network_destroy, 42> {};
struct network_get_xml_desc : p<op::network_get_xml_desc, 43> {};
struct network_get_bridge_name : p<op::network_get_bridge_name, 45> {};
struct network_get_autostart : p<op::network_get_autostart, 44> {};
struct network_set_autostart : p<op::network_set_autostart, 48> {};
struct network_is_active : p<op::network_is_active, 152> {};
struct network_is_persistent : p<op::network_is_persistent, 153> {};
// virsh 9.0 sends command and section in their own fields (checked against virtppd)
struct network_update : p<op::network_update, 291, wire::network_update_args> {
    static op::network_update::args to_op(const wire::network_update_args& a) {
        return {a.net, a.command, a.section, a.parent_index, a.xml, a.flags};
    }
    static wire::network_update_args from_op(const op::network_update::args& a) {
        return {a.net, a.command, a.section, a.parent_index, a.xml, a.flags};
    }
};
struct network_get_dhcp_leases : p<op::network_get_dhcp_leases, 341, wire::dhcp_leases_args, wire::dhcp_leases_ret> {
    static op::network_get_dhcp_leases::args to_op(const wire::dhcp_leases_args& a) { return {a.net, a.mac, a.flags}; }
    static wire::dhcp_leases_args from_op(const op::network_get_dhcp_leases::args& a) { return {a.net, a.mac, 1, a.flags}; }
    static wire::dhcp_leases_ret to_wire(const std::vector<network_dhcp_lease>& v) {
        wire::dhcp_leases_ret r;
        for (const auto& l : v)
            r.leases.items.push_back({l.iface, l.expiry_time, l.type, l.mac, l.iaid, l.ipaddr, l.prefix, l.hostname, l.clientid});
        r.ret = static_cast<std::uint32_t>(v.size());
        return r;
    }
    static std::vector<network_dhcp_lease> from_wire(const wire::dhcp_leases_ret& r) {
        std::vector<network_dhcp_lease> out;
        for (const auto& l : r.leases.items)
            out.push_back({l.iface, l.expiry_time, l.type, l.mac, l.iaid, l.ipaddr, l.prefix, l.hostname, l.clientid});
        return out;
    }
};
struct domain_interface_addresses
    : p<op::domain_interface_addresses, 353, wire::iface_addrs_args, wire::iface_addrs_ret> {
    static op::domain_interface_addresses::args to_op(const wire::iface_addrs_args& a) { return {a.dom, a.source, a.flags}; }
    static wire::iface_addrs_args from_op(const op::domain_interface_addresses::args& a) { return {a.dom, a.source, a.flags}; }
    static wire::iface_addrs_ret to_wire(const std::vector<domain_interface>& v) {
        wire::iface_addrs_ret r;
        for (const auto& i : v) {
            wire::iface_wire w{i.name.value_or(""), i.hwaddr, {}};
            for (const auto& a : i.addrs) w.addrs.items.push_back({a.type, a.addr, a.prefix});
            r.ifaces.items.push_back(std::move(w));
        }
        return r;
    }
    static std::vector<domain_interface> from_wire(const wire::iface_addrs_ret& r) {
        std::vector<domain_interface> out;
        for (const auto& w : r.ifaces.items) {
            domain_interface i{w.name, w.hwaddr, {}};
            for (const auto& a : w.addrs.items) i.addrs.push_back({a.type, a.addr, a.prefix});
            out.push_back(std::move(i));
        }
        return out;
    }
};

// ---- jobs
struct domain_get_job_info : p<op::domain_get_job_info, 163> {};
struct domain_get_job_stats : p<op::domain_get_job_stats, 298, op::domain_get_job_stats::args, wire::job_stats_ret> {
    static wire::job_stats_ret to_wire(const job_stats& s) { return {s.type, {s.params}}; }
    static job_stats from_wire(const wire::job_stats_ret& r) { return {r.type, r.params.items}; }
};
/// virDomainAbortJobFlags is what virtpp's client sends (libvirtd has it since 8.5); the older
/// virDomainAbortJob, without flags, is served for stock clients.
struct domain_abort_job_flags : p<op::domain_abort_job, 442> {};
struct domain_abort_job : served_only<p<op::domain_abort_job, 164, wire::dom_only>> {
    static op::domain_abort_job::args to_op(const wire::dom_only& a) { return {a.dom, 0}; }
};

// ---- storage, interfaces, node devices: the listing calls send need_results and get a count back
template <class Op, std::int32_t N, class Ref, std::size_t Max>
struct list_all_refs : p<Op, N, wire::list_all_args, wire::ref_list_ret<Ref, Max>> {
    static typename Op::args to_op(const wire::list_all_args& a) { return {a.flags}; }
    static wire::list_all_args from_op(const typename Op::args& a) { return {1, a.flags}; }
    static wire::ref_list_ret<Ref, Max> to_wire(const std::vector<Ref>& v) { return {{v}, static_cast<std::uint32_t>(v.size())}; }
    static std::vector<Ref> from_wire(const wire::ref_list_ret<Ref, Max>& r) { return r.items.items; }
};
/// The per-domain listings (snapshots, checkpoints): the domain, need_results and flags; an int count.
template <class Op, std::int32_t N, class Ref, std::size_t Max>
struct list_all_dom_refs : p<Op, N, wire::dom_list_all_args, wire::ref_list_ret<Ref, Max, std::int32_t>> {
    static typename Op::args to_op(const wire::dom_list_all_args& a) { return {a.dom, a.flags}; }
    static wire::dom_list_all_args from_op(const typename Op::args& a) { return {a.dom, 1, a.flags}; }
    static wire::ref_list_ret<Ref, Max, std::int32_t> to_wire(const std::vector<Ref>& v) {
        return {{v}, static_cast<std::int32_t>(v.size())};
    }
    static std::vector<Ref> from_wire(const wire::ref_list_ret<Ref, Max, std::int32_t>& r) { return r.items.items; }
};
struct connect_list_all_storage_pools
    : list_all_refs<op::connect_list_all_storage_pools, 281, storage_pool_ref, limits::storage_pool_list> {};
struct storage_pool_lookup_by_name : p<op::storage_pool_lookup_by_name, 84> {};
struct storage_pool_lookup_by_uuid : p<op::storage_pool_lookup_by_uuid, 85> {};
struct storage_pool_lookup_by_volume : p<op::storage_pool_lookup_by_volume, 86> {};
struct storage_pool_get_info : p<op::storage_pool_get_info, 87, op::storage_pool_get_info::args, wire::pool_info_ret> {
    static wire::pool_info_ret to_wire(const storage_pool_info& i) {
        return {static_cast<std::uint32_t>(i.state), i.capacity, i.allocation, i.available};
    }
    static storage_pool_info from_wire(const wire::pool_info_ret& r) {
        return {static_cast<int>(r.state), r.capacity, r.allocation, r.available};
    }
};
struct storage_pool_get_xml_desc : p<op::storage_pool_get_xml_desc, 88> {};
struct storage_pool_get_autostart : p<op::storage_pool_get_autostart, 89> {};
struct storage_pool_is_active : p<op::storage_pool_is_active, 154> {};
struct storage_pool_is_persistent : p<op::storage_pool_is_persistent, 155> {};
struct storage_pool_list_all_volumes
    : p<op::storage_pool_list_all_volumes, 282, wire::pool_list_all_args,
        wire::ref_list_ret<storage_vol_ref, limits::storage_vol_list>> {
    using ret_type = wire::ref_list_ret<storage_vol_ref, limits::storage_vol_list>;
    static op::storage_pool_list_all_volumes::args to_op(const wire::pool_list_all_args& a) { return {a.pool, a.flags}; }
    static wire::pool_list_all_args from_op(const op::storage_pool_list_all_volumes::args& a) { return {a.pool, 1, a.flags}; }
    static ret_type to_wire(const std::vector<storage_vol_ref>& v) { return {{v}, static_cast<std::uint32_t>(v.size())}; }
    static std::vector<storage_vol_ref> from_wire(const ret_type& r) { return r.items.items; }
};
struct storage_vol_create_xml : p<op::storage_vol_create_xml, 93> {};
struct storage_vol_delete : p<op::storage_vol_delete, 94> {};
struct storage_vol_lookup_by_name : p<op::storage_vol_lookup_by_name, 95> {};
struct storage_vol_lookup_by_key : p<op::storage_vol_lookup_by_key, 96> {};
struct storage_vol_lookup_by_path : p<op::storage_vol_lookup_by_path, 97> {};
struct storage_vol_get_info : p<op::storage_vol_get_info, 98, op::storage_vol_get_info::args, wire::vol_info_ret> {
    static wire::vol_info_ret to_wire(const storage_vol_info& i) { return {i.type, i.capacity, i.allocation}; }
    static storage_vol_info from_wire(const wire::vol_info_ret& r) { return {r.type, r.capacity, r.allocation}; }
};
struct storage_vol_get_xml_desc : p<op::storage_vol_get_xml_desc, 99> {};
struct storage_vol_get_path : p<op::storage_vol_get_path, 100> {};
struct connect_list_all_interfaces
    : list_all_refs<op::connect_list_all_interfaces, 284, interface_ref, limits::interface_list> {};
struct interface_lookup_by_name : p<op::interface_lookup_by_name, 128> {};
struct interface_lookup_by_mac_string : p<op::interface_lookup_by_mac_string, 129> {};
struct interface_get_xml_desc : p<op::interface_get_xml_desc, 130> {};
struct interface_is_active : p<op::interface_is_active, 156> {};
struct connect_list_all_node_devices
    : list_all_refs<op::connect_list_all_node_devices, 285, node_device_ref, limits::node_device_list> {};
struct node_device_lookup_by_name : p<op::node_device_lookup_by_name, 113> {};
struct node_device_get_xml_desc : p<op::node_device_get_xml_desc, 114> {};
struct node_device_get_parent : p<op::node_device_get_parent, 115> {};
struct node_device_list_caps
    : p<op::node_device_list_caps, 117, wire::node_device_caps_args, wire::node_device_caps_ret> {
    static op::node_device_list_caps::args to_op(const wire::node_device_caps_args& a) { return {{a.name}}; }
    static wire::node_device_caps_args from_op(const op::node_device_list_caps::args& a) {
        return {a.dev.name, static_cast<std::int32_t>(limits::node_device_caps_list)};
    }
    static wire::node_device_caps_ret to_wire(const std::vector<std::string>& v) { return {{v}}; }
    static std::vector<std::string> from_wire(const wire::node_device_caps_ret& r) { return r.names.items; }
};

// The older count-and-names procedures stock clients still send (python's listStoragePools,
// numOfDevices, snapshotListNames...), served from the listing operations.
template <class Ref>
std::vector<std::string> names_of(const std::vector<Ref>& refs) {
    std::vector<std::string> out;
    out.reserve(refs.size());
    for (const auto& r : refs) out.push_back(r.name);
    return out;
}
/// VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE / _INACTIVE and VIR_CONNECT_LIST_INTERFACES_ACTIVE / _INACTIVE
inline constexpr unsigned list_active = 2U, list_inactive = 1U;
template <class Op, std::int32_t N, unsigned Filter>
struct count_all : served_only<p<Op, N, xdr::none, wire::num_ret>> {
    static typename Op::args to_op(const xdr::none&) { return {Filter}; }
    template <class V>
    static wire::num_ret to_wire(const V& v) { return {static_cast<std::int32_t>(v.size())}; }
};
template <class Op, std::int32_t N, unsigned Filter, std::size_t Max>
struct names_all : served_only<p<Op, N, wire::max_names, wire::names_ret<Max>>> {
    static typename Op::args to_op(const wire::max_names&) { return {Filter}; }
    template <class V>
    static wire::names_ret<Max> to_wire(const V& v) { return {{names_of(v)}}; }
};
struct connect_num_of_storage_pools : count_all<op::connect_list_all_storage_pools, 71, list_active> {};
struct connect_list_storage_pools : names_all<op::connect_list_all_storage_pools, 72, list_active, limits::storage_pool_list> {};
struct connect_num_of_defined_storage_pools : count_all<op::connect_list_all_storage_pools, 73, list_inactive> {};
struct connect_list_defined_storage_pools
    : names_all<op::connect_list_all_storage_pools, 74, list_inactive, limits::storage_pool_list> {};
struct connect_num_of_interfaces : count_all<op::connect_list_all_interfaces, 126, list_active> {};
struct connect_list_interfaces : names_all<op::connect_list_all_interfaces, 127, list_active, limits::interface_list> {};
struct connect_num_of_defined_interfaces : count_all<op::connect_list_all_interfaces, 137, list_inactive> {};
struct connect_list_defined_interfaces
    : names_all<op::connect_list_all_interfaces, 138, list_inactive, limits::interface_list> {};
struct storage_pool_num_of_volumes : served_only<p<op::storage_pool_list_all_volumes, 91, wire::pool_only, wire::num_ret>> {
    static op::storage_pool_list_all_volumes::args to_op(const wire::pool_only& a) { return {a.pool, 0}; }
    static wire::num_ret to_wire(const std::vector<storage_vol_ref>& v) { return {static_cast<std::int32_t>(v.size())}; }
};
struct storage_pool_list_volumes
    : served_only<p<op::storage_pool_list_all_volumes, 92, wire::pool_max_names, wire::names_ret<limits::storage_vol_list>>> {
    static op::storage_pool_list_all_volumes::args to_op(const wire::pool_max_names& a) { return {a.pool, 0}; }
    static wire::names_ret<limits::storage_vol_list> to_wire(const std::vector<storage_vol_ref>& v) { return {{names_of(v)}}; }
};
struct node_num_of_devices : served_only<p<op::node_list_devices, 111, wire::node_devices_count_args, wire::num_ret>> {
    static op::node_list_devices::args to_op(const wire::node_devices_count_args& a) { return {a.cap, a.flags}; }
    static wire::num_ret to_wire(const std::vector<std::string>& v) { return {static_cast<std::int32_t>(v.size())}; }
};
struct node_list_devices
    : p<op::node_list_devices, 112, wire::node_devices_list_args, wire::names_ret<limits::node_device_list>> {
    static op::node_list_devices::args to_op(const wire::node_devices_list_args& a) { return {a.cap, a.flags}; }
    static wire::node_devices_list_args from_op(const op::node_list_devices::args& a) {
        return {a.cap, static_cast<std::int32_t>(limits::node_device_list), a.flags};
    }
    static wire::names_ret<limits::node_device_list> to_wire(const std::vector<std::string>& v) { return {{v}}; }
    static std::vector<std::string> from_wire(const wire::names_ret<limits::node_device_list>& r) { return r.names.items; }
};
struct node_device_num_of_caps : served_only<p<op::node_device_list_caps, 116, wire::node_device_name, wire::num_ret>> {
    static op::node_device_list_caps::args to_op(const wire::node_device_name& a) { return {{a.name}}; }
    static wire::num_ret to_wire(const std::vector<std::string>& v) { return {static_cast<std::int32_t>(v.size())}; }
};
struct domain_snapshot_list_names
    : served_only<p<op::domain_list_all_snapshots, 188, wire::dom_max_names_flags, wire::names_ret<limits::domain_snapshot_list>>> {
    static op::domain_list_all_snapshots::args to_op(const wire::dom_max_names_flags& a) { return {a.dom, a.flags}; }
    static wire::names_ret<limits::domain_snapshot_list> to_wire(const std::vector<domain_snapshot_ref>& v) {
        return {{names_of(v)}};
    }
};

// ---- snapshots and checkpoints
struct domain_snapshot_create_xml : p<op::domain_snapshot_create_xml, 185> {};
struct domain_snapshot_get_xml_desc : p<op::domain_snapshot_get_xml_desc, 186> {};
struct domain_snapshot_lookup_by_name : p<op::domain_snapshot_lookup_by_name, 189> {};
struct domain_has_current_snapshot : p<op::domain_has_current_snapshot, 190> {};
struct domain_snapshot_current : p<op::domain_snapshot_current, 191> {};
struct domain_snapshot_delete : p<op::domain_snapshot_delete, 193> {};
struct domain_snapshot_get_parent : p<op::domain_snapshot_get_parent, 244> {};
struct domain_snapshot_is_current : p<op::domain_snapshot_is_current, 271> {};
struct domain_snapshot_has_metadata : p<op::domain_snapshot_has_metadata, 272> {};
struct domain_list_all_snapshots
    : list_all_dom_refs<op::domain_list_all_snapshots, 274, domain_snapshot_ref, limits::domain_snapshot_list> {};
struct domain_checkpoint_create_xml : p<op::domain_checkpoint_create_xml, 411> {};
struct domain_checkpoint_get_xml_desc : p<op::domain_checkpoint_get_xml_desc, 412> {};
struct domain_list_all_checkpoints
    : list_all_dom_refs<op::domain_list_all_checkpoints, 413, domain_checkpoint_ref, limits::domain_checkpoint_list> {};
struct domain_checkpoint_lookup_by_name : p<op::domain_checkpoint_lookup_by_name, 415> {};
struct domain_checkpoint_get_parent : p<op::domain_checkpoint_get_parent, 416> {};
struct domain_checkpoint_delete : p<op::domain_checkpoint_delete, 417> {};

}  // namespace proc

/// Every procedure carried by an operation. Session procedures (open, close, auth list, get URI,
/// get lib version, close callbacks, keepalive features) are the daemon's and client's own.
using procedures = std::tuple<
    proc::connect_get_type, proc::connect_get_version, proc::connect_get_max_vcpus, proc::node_get_info,
    proc::connect_get_capabilities, proc::connect_get_hostname, proc::connect_supports_feature,
    proc::connect_domain_xml_from_native, proc::connect_domain_xml_to_native,
    proc::connect_get_sysinfo, proc::connect_get_domain_capabilities,
    proc::node_get_security_model, proc::node_get_cpu_map, proc::connect_num_of_domains,
    proc::connect_num_of_defined_domains, proc::connect_num_of_networks, proc::connect_num_of_defined_networks,
    proc::connect_list_domains, proc::connect_list_defined_domains, proc::connect_list_networks,
    proc::connect_list_defined_networks, proc::connect_list_all_domains, proc::connect_get_all_domain_stats, proc::connect_list_all_networks,
    proc::domain_lookup_by_id, proc::domain_lookup_by_name, proc::domain_lookup_by_uuid, proc::domain_create_xml,
    proc::domain_define_xml_flags, proc::domain_define_xml, proc::domain_undefine_flags, proc::domain_undefine,
    proc::domain_create_with_flags, proc::domain_create, proc::domain_suspend, proc::domain_resume,
    proc::domain_shutdown_flags, proc::domain_shutdown, proc::domain_reboot, proc::domain_destroy_flags,
    proc::domain_destroy, proc::domain_save, proc::domain_restore, proc::domain_core_dump,
    proc::domain_has_managed_save_image, proc::domain_get_info, proc::domain_get_state, proc::domain_get_os_type,
    proc::domain_get_xml_desc, proc::domain_is_active, proc::domain_is_persistent, proc::domain_get_autostart,
    proc::domain_set_autostart, proc::domain_get_max_memory, proc::domain_set_max_memory,
    proc::domain_set_memory_flags, proc::domain_set_memory, proc::domain_get_max_vcpus,
    proc::domain_set_vcpus_flags, proc::domain_set_vcpus, proc::domain_get_vcpus_flags, proc::domain_pin_vcpu_flags,
    proc::domain_pin_vcpu,
    proc::domain_get_vcpus, proc::domain_get_scheduler_type, proc::domain_get_scheduler_parameters,
    proc::domain_set_scheduler_parameters_flags, proc::domain_set_scheduler_parameters, proc::domain_block_stats,
    proc::domain_interface_stats, proc::domain_attach_device_flags, proc::domain_attach_device,
    proc::domain_detach_device_flags, proc::domain_detach_device, proc::domain_get_security_label,
    proc::domain_snapshot_num, proc::domain_get_messages, proc::domain_migrate_begin3,
    proc::domain_migrate_prepare3, proc::domain_migrate_perform3, proc::domain_migrate_finish3,
    proc::domain_migrate_confirm3, proc::network_lookup_by_name, proc::network_lookup_by_uuid,
    proc::network_create_xml, proc::network_define_xml, proc::network_undefine, proc::network_create,
    proc::network_destroy, proc::network_get_xml_desc, proc::network_get_bridge_name,
    proc::network_get_autostart, proc::network_set_autostart, proc::network_is_active,
    proc::network_is_persistent, proc::network_update, proc::network_get_dhcp_leases, proc::domain_interface_addresses,
    proc::domain_get_job_info, proc::domain_get_job_stats, proc::domain_abort_job, proc::domain_abort_job_flags,
    proc::connect_list_all_storage_pools, proc::storage_pool_lookup_by_name, proc::storage_pool_lookup_by_uuid,
    proc::storage_pool_lookup_by_volume, proc::storage_pool_get_info, proc::storage_pool_get_xml_desc,
    proc::storage_pool_get_autostart, proc::storage_pool_is_active, proc::storage_pool_is_persistent,
    proc::storage_pool_list_all_volumes, proc::storage_vol_create_xml, proc::storage_vol_delete,
    proc::storage_vol_lookup_by_name, proc::storage_vol_lookup_by_key, proc::storage_vol_lookup_by_path,
    proc::storage_vol_get_info, proc::storage_vol_get_xml_desc, proc::storage_vol_get_path,
    proc::connect_list_all_interfaces, proc::interface_lookup_by_name, proc::interface_lookup_by_mac_string,
    proc::interface_get_xml_desc, proc::interface_is_active, proc::connect_list_all_node_devices,
    proc::node_device_lookup_by_name, proc::node_device_get_xml_desc, proc::node_device_get_parent,
    proc::node_device_list_caps, proc::domain_snapshot_create_xml, proc::domain_snapshot_get_xml_desc,
    proc::domain_snapshot_lookup_by_name, proc::domain_has_current_snapshot, proc::domain_snapshot_current,
    proc::domain_snapshot_delete, proc::domain_snapshot_get_parent, proc::domain_snapshot_is_current,
    proc::domain_snapshot_has_metadata, proc::domain_list_all_snapshots, proc::domain_checkpoint_create_xml,
    proc::domain_checkpoint_get_xml_desc, proc::domain_list_all_checkpoints, proc::domain_checkpoint_lookup_by_name,
    proc::domain_checkpoint_get_parent, proc::domain_checkpoint_delete, proc::connect_num_of_storage_pools,
    proc::connect_list_storage_pools, proc::connect_num_of_defined_storage_pools,
    proc::connect_list_defined_storage_pools, proc::connect_num_of_interfaces, proc::connect_list_interfaces,
    proc::connect_num_of_defined_interfaces, proc::connect_list_defined_interfaces,
    proc::storage_pool_num_of_volumes, proc::storage_pool_list_volumes, proc::node_num_of_devices,
    proc::node_list_devices, proc::node_device_num_of_caps, proc::domain_snapshot_list_names>;

/// Session procedures handled by the daemon and the client themselves.
namespace session {
inline constexpr std::int32_t connect_open = 1;
inline constexpr std::int32_t connect_close = 2;
inline constexpr std::int32_t auth_list = 66;
inline constexpr std::int32_t connect_get_uri = 110;
inline constexpr std::int32_t connect_get_lib_version = 157;
inline constexpr std::int32_t connect_register_close_callback = 360;
inline constexpr std::int32_t connect_unregister_close_callback = 361;
struct open_args { std::optional<std::string> name; std::uint32_t flags = 0; };
struct auth_list_ret { xdr::array<std::int32_t, limits::auth_types> types; };
}  // namespace session

/// Features answered by CONNECT_SUPPORTS_FEATURE at the daemon itself (virDrvFeature numbers).
namespace feature {
inline constexpr int fd_passing = 8;
inline constexpr int typed_param_string = 9;
inline constexpr int program_keepalive = 10;
inline constexpr int remote_event_callback = 14;
inline constexpr int remote_close_callback = 15;
}  // namespace feature

/// The entry the client uses for Op (the one that is not served-only).
template <class Op, class Tuple = procedures>
struct client_procedure;
template <class Op, class... Ps>
struct client_procedure<Op, std::tuple<Ps...>> {
    template <class P>
    static constexpr bool match = std::is_same_v<typename P::operation, Op> && P::client;
    static_assert((0 + ... + (match<Ps> ? 1 : 0)) == 1, "virtpp::rpc: an operation needs exactly one client procedure");
    using type = std::tuple_element_t<[] {
        constexpr bool matches[] = {match<Ps>...};
        std::size_t i = 0;
        while (!matches[i]) ++i;
        return i;
    }(), std::tuple<Ps...>>;
};
template <class Op>
using client_procedure_t = typename client_procedure<Op>::type;

}  // namespace virtpp::rpc
