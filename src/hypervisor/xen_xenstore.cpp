// The XenStore part: running domains as xenstored knows them.
#include <virtpp/error.hpp>
#include <virtpp/hypervisor/first_of.hpp>
#include <virtpp/xen/part_xenstore.hpp>

#include <algorithm>
#include <charconv>

namespace virtpp::xen {

namespace {
std::optional<long long> integer(std::string_view text) {
    long long v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return v;
}
}  // namespace

std::shared_ptr<xenstore::state> xenstore::open(context& ctx) {
    if (!ctx.local_host) throw hypervisor::part_declined("XenStore is only reachable on the Xen host itself");
    auto path = ctx.read_only() ? ctx.xenstored_ro_path : ctx.xenstored_path;
    auto st = std::make_shared<state>(ctx, std::make_unique<xenstore_client>(path));
    std::weak_ptr<state> weak = st;
    ctx.runtime_of = [weak](int domid) {
        auto s = weak.lock();
        return s ? s->runtime_of(domid) : sexpr_runtime{};
    };
    return st;
}

xenstore::state::state(context& ctx, std::unique_ptr<xenstore_client> client) : ctx_(ctx), client_(std::move(client)) {}

std::string xenstore::state::domain_path(const domain_ref& dom) const {
    if (dom.id < 0) throw hypervisor::part_declined("'" + dom.name + "' is not running: XenStore has no entry for it");
    return "/local/domain/" + std::to_string(dom.id);
}

std::vector<int> xenstore::state::perform(op::connect_list_domains, const op::none&) {
    std::vector<int> ids;
    for (const auto& entry : client_->directory("/local/domain"))
        if (auto id = integer(entry); id && *id >= 0 && *id <= 0x7fffffff) ids.push_back(static_cast<int>(*id));
    std::sort(ids.begin(), ids.end());
    return ids;
}

int xenstore::state::perform(op::connect_num_of_domains, const op::none& a) {
    return static_cast<int>(perform(op::connect_list_domains{}, a).size());
}

domain_ref xenstore::state::perform(op::domain_lookup_by_id, const op::domain_lookup_by_id::args& a) {
    std::string base = "/local/domain/" + std::to_string(a.id);
    auto name = client_->try_read(base + "/name");
    if (!name) raise(error_code::no_domain, error_domain::xenstore, "no domain with matching id " + std::to_string(a.id));
    domain_ref ref{*name, {}, a.id};
    // /local/domain/N/vm is "/vm/<uuid>" (the uuid with dashes, or the path of a uuid node).
    if (auto vm = client_->try_read(base + "/vm")) {
        auto last = vm->substr(vm->rfind('/') + 1);
        if (auto u = virtpp::uuid::parse(last)) ref.uuid = *u;
        else if (auto text = client_->try_read(*vm + "/uuid"); text && virtpp::uuid::parse(*text))
            ref.uuid = *virtpp::uuid::parse(*text);
    }
    return ref;
}

domain_ref xenstore::state::perform(op::domain_lookup_by_name, const op::domain_lookup_by_name::args& a) {
    for (int id : perform(op::connect_list_domains{}, op::none{})) {
        auto name = client_->try_read("/local/domain/" + std::to_string(id) + "/name");
        if (name && *name == a.name) return perform(op::domain_lookup_by_id{}, {id});
    }
    throw hypervisor::part_declined("no running domain is named '" + a.name + "' in XenStore");
}

std::uint64_t xenstore::state::perform(op::domain_get_max_memory, const op::domain_get_max_memory::args& a) {
    auto text = client_->try_read(domain_path(a.dom) + "/memory/target");
    auto kib = text ? integer(*text) : std::nullopt;
    if (!kib || *kib < 0) throw hypervisor::part_declined("XenStore has no memory target for '" + a.dom.name + "'");
    return static_cast<std::uint64_t>(*kib);
}

std::string xenstore::state::perform(op::domain_get_os_type, const op::domain_get_os_type::args& a) {
    auto vm = client_->try_read(domain_path(a.dom) + "/vm");
    auto os = vm ? client_->try_read(*vm + "/image/ostype") : std::nullopt;
    if (!os || os->empty()) throw hypervisor::part_declined("XenStore has no OS type for '" + a.dom.name + "'");
    return *os;
}

void xenstore::state::perform(op::domain_shutdown, const op::domain_shutdown::args& a) {
    client_->write(domain_path(a.dom) + "/control/shutdown", "halt");
}

void xenstore::state::perform(op::domain_reboot, const op::domain_reboot::args& a) {
    client_->write(domain_path(a.dom) + "/control/shutdown", "reboot");
}

sexpr_runtime xenstore::state::runtime_of(int domid) {
    sexpr_runtime out;
    std::string base = "/local/domain/" + std::to_string(domid) + "/console";
    try {
        out.console_tty = client_->try_read(base + "/tty");
        if (auto port = client_->try_read(base + "/vnc-port"))
            if (auto n = integer(*port); n && *n > 0 && *n < 65536) out.vnc_port = static_cast<int>(*n);
    } catch (const virtpp::error&) {
        // XenStore gone: the XML is written without the runtime facts, as libvirt did.
    }
    return out;
}

}  // namespace virtpp::xen
