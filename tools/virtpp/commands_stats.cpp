// domstats: virConnectGetAllDomainStats / virDomainListGetStats printed as virsh 9.0 prints them.
#include "command_util.hpp"
#include "typed_param_text.hpp"
#include "shell.hpp"

#include <virtpp/types.hpp>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstdio>

namespace virtpp::cli {

namespace {

/// virshLookupDomainBy with id, UUID and name, as virsh's domstats looks up its arguments.
std::optional<any_domain> lookup(shell& sh, any_connection& c, const std::string& n) {
    std::optional<any_domain> dom;
    // virStrToLong_i: the whole word is a number
    errno = 0;
    char* end = nullptr;
    long long id = n.empty() ? -1 : std::strtoll(n.c_str(), &end, 10);
    if (errno == 0 && end != nullptr && *end == '\0' && id >= 0 && id <= INT_MAX) {
        try { dom = c.lookup_domain_by_id(static_cast<int>(id)); } catch (const virtpp::error&) {}
    }
    if (!dom && n.size() == 36) {
        try { dom = c.lookup_domain_by_uuid_string(n); } catch (const virtpp::error&) {}
    }
    if (!dom) {
        try { dom = c.lookup_domain_by_name(n); } catch (const virtpp::error&) {}
    }
    sh.reset_last_error();
    if (!dom) sh.error("failed to get domain '" + n + "'");
    return dom;
}

bool cmd_domstats(shell& sh, const parsed_command& cmd) {
    static constexpr std::pair<std::string_view, unsigned> groups[] = {
        {"state", domain_stats::state},         {"cpu-total", domain_stats::cpu_total},
        {"balloon", domain_stats::balloon},     {"vcpu", domain_stats::vcpu},
        {"interface", domain_stats::interface}, {"block", domain_stats::block},
        {"perf", domain_stats::perf},           {"iothread", domain_stats::iothread},
        {"memory", domain_stats::memory},       {"dirtyrate", domain_stats::dirtyrate},
        {"vm", domain_stats::vm},
    };
    static constexpr std::pair<std::string_view, unsigned> flag_options[] = {
        {"list-active", list_flags::active},   {"list-inactive", list_flags::inactive},
        {"list-persistent", list_flags::persistent}, {"list-transient", list_flags::transient},
        {"list-running", list_flags::running}, {"list-paused", list_flags::paused},
        {"list-shutoff", list_flags::shutoff}, {"list-other", list_flags::other},
        {"enforce", domain_stats::flag_enforce}, {"backing", domain_stats::flag_backing},
        {"nowait", domain_stats::flag_nowait},
    };
    unsigned stats = 0, flags = 0;
    for (auto [name, bit] : groups)
        if (cmd.has(name)) stats |= bit;
    for (auto [name, bit] : flag_options)
        if (cmd.has(name)) flags |= bit;
    any_connection* c = sh.connection();
    if (c == nullptr) return false;
    // one call, whatever the number of domains; its error is reported as virsh reports it
    std::vector<domain_stats_record> records;
    if (cmd.has("domain")) {
        std::vector<domain_ref> doms;
        for (const auto& n : cmd.all("domain")) {
            auto dom = lookup(sh, *c, n);
            if (!dom) return false;
            doms.push_back(dom->ref());
        }
        records = c->domain_list_stats(std::move(doms), stats, flags);
    } else {
        records = c->all_domain_stats(stats, flags);
    }
    // records separated by an empty line (the shell adds the one after the command)
    std::string out;
    for (std::size_t i = 0; i < records.size(); ++i) {
        if (i != 0) out += "\n";
        out += "Domain: '" + records[i].dom.name + "'\n";
        for (const auto& p : records[i].params) out += "  " + p.field + "=" + typed_param_text(p) + "\n";
    }
    sh.print(out);
    return true;
}

constexpr handler_entry handlers[] = {
    {"domstats", cmd_domstats},
};

}  // namespace

std::span<const handler_entry> stats_handlers() { return handlers; }

}  // namespace virtpp::cli
