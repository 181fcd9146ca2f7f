// hypervisor::test: virConnectGetAllDomainStats / virDomainListGetStats as libvirt 9.0's test
// driver answers them: the state group (state.state, state.reason) and the iothread group, which
// it accepts and for which it reports nothing.
#include "hypervisor/test_detail.hpp"

#include <virtpp/hypervisor/detail/domain_stats.hpp>

#include <shared_mutex>

namespace virtpp::hypervisor {

namespace {

constexpr unsigned list_filters = 0xffU;  // VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE .. _OTHER
constexpr unsigned supported_groups = domain_stats::state | domain_stats::iothread;

bool passes(const test_detail::domain_obj& d, unsigned flags) {
    detail::domain_list_facts facts{.active = d.active(), .persistent = d.persistent, .managed_save = d.managed_save,
                                    .autostart = d.autostart, .has_snapshot = false, .has_checkpoint = false,
                                    .state = d.state};
    return detail::matches_list_flags(flags & list_filters, facts);
}

domain_stats_record collect(const test_detail::domain_obj& d, unsigned groups) {
    domain_stats_record rec{d.ref(), {}};
    if (groups & domain_stats::state) {
        detail::add_stat(rec.params, "state.state", static_cast<std::int32_t>(d.state));
        detail::add_stat(rec.params, "state.reason", static_cast<std::int32_t>(d.reason));
    }
    return rec;
}

}  // namespace

std::vector<domain_stats_record> test::state::perform(op::connect_get_all_domain_stats,
                                                      const op::connect_get_all_domain_stats::args& a) {
    pause();
    test_detail::check_flags(a.flags,
                             list_filters | domain_stats::flag_nowait | domain_stats::flag_backing |
                                 domain_stats::flag_enforce,
                             "testConnectGetAllDomainStats");
    const unsigned groups = detail::resolve_stats_groups(a.stats, supported_groups, a.flags, error_domain::test);
    std::shared_lock lock(impl_->mutex);
    std::vector<domain_stats_record> out;
    if (a.doms.empty()) {
        out.reserve(impl_->domains.size());
        for (const auto& d : impl_->domains.owners())
            if (passes(*d, a.flags)) out.push_back(collect(*d, groups));
        return out;
    }
    // listed domains in the caller's order; ones that no longer exist are skipped, as libvirt does
    out.reserve(a.doms.size());
    for (const auto& ref : a.doms) {
        auto* d = impl_->domains.find_by_uuid(ref.uuid);
        if (d && passes(*d, a.flags)) out.push_back(collect(*d, groups));
    }
    return out;
}

}  // namespace virtpp::hypervisor
