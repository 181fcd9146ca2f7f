#include <virtpp/rpc/server.hpp>


#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

namespace virtpp::daemon {

namespace {

enum class kind { boolean, uint, sint, string, string_list };

struct key_rule {
    std::string_view name;
    kind type;
    std::function<void(daemon_config&, const conf_value&)> apply;  ///< empty: known, not acted on
};

std::string_view kind_name(kind k) {
    switch (k) {
    case kind::boolean: return "a bool (0 or 1)";
    case kind::uint: return "an unsigned integer";
    case kind::sint: return "a signed integer";
    case kind::string: return "a string";
    case kind::string_list: return "a string list";
    }
    return "a value";
}

const std::string& as_string(const conf_value& v) { return std::get<std::string>(v.data); }
long long as_int(const conf_value& v) { return std::get<long long>(v.data); }
std::vector<std::string> as_list(const conf_value& v) {
    std::vector<std::string> out;
    for (const auto& item : std::get<std::vector<conf_value>>(v.data)) out.push_back(std::get<std::string>(item.data));
    return out;
}
unsigned as_uint(const conf_value& v) { return static_cast<unsigned>(as_int(v)); }

template <class M>
auto set(M daemon_config::*member) {
    return [member](daemon_config& c, const conf_value& v) {
        if constexpr (std::is_same_v<M, bool>) c.*member = as_int(v) != 0;
        else if constexpr (std::is_same_v<M, unsigned>) c.*member = as_uint(v);
        else if constexpr (std::is_same_v<M, int>) c.*member = static_cast<int>(as_int(v));
        else if constexpr (std::is_same_v<M, std::string>) c.*member = as_string(v);
        else c.*member = as_list(v);
    };
}

/// auth_* = "none" is what virtppd serves; libvirt's other methods are refused at start-up.
std::function<void(daemon_config&, const conf_value&)> auth_rule(std::string_view key) {
    return [key](daemon_config&, const conf_value& v) {
        const auto& s = as_string(v);
        if (s == "none") return;
        if (s == "sasl" || s == "polkit")
            throw config_error("'" + std::string(key) + "' = \"" + s + "\": virtppd supports only \"none\"");
        throw config_error("'" + std::string(key) + "': unknown authentication type \"" + s +
                           "\" (libvirt knows none, sasl, polkit)");
    };
}

const std::vector<key_rule>& rules() {
    static const std::vector<key_rule> table = {
        // network listeners
        {"listen_tls", kind::boolean, set(&daemon_config::listen_tls)},
        {"listen_tcp", kind::boolean, set(&daemon_config::listen_tcp)},
        {"tls_port", kind::string, set(&daemon_config::tls_port)},
        {"tcp_port", kind::string, set(&daemon_config::tcp_port)},
        {"listen_addr", kind::string, set(&daemon_config::listen_addr)},
        // unix sockets
        {"unix_sock_group", kind::string, set(&daemon_config::unix_sock_group)},
        {"unix_sock_ro_perms", kind::string, set(&daemon_config::unix_sock_ro_perms)},
        {"unix_sock_rw_perms", kind::string, set(&daemon_config::unix_sock_rw_perms)},
        {"unix_sock_admin_perms", kind::string, {}},
        {"unix_sock_dir", kind::string, set(&daemon_config::unix_sock_dir)},
        // authentication
        {"auth_unix_ro", kind::string, auth_rule("auth_unix_ro")},
        {"auth_unix_rw", kind::string, auth_rule("auth_unix_rw")},
        {"auth_tcp", kind::string, auth_rule("auth_tcp")},
        {"auth_tls", kind::string, auth_rule("auth_tls")},
        {"access_drivers", kind::string_list, {}},
        {"tcp_min_ssf", kind::uint, {}},
        {"sasl_allowed_username_list", kind::string_list, {}},
        // TLS
        {"key_file", kind::string, set(&daemon_config::key_file)},
        {"cert_file", kind::string, set(&daemon_config::cert_file)},
        {"ca_file", kind::string, set(&daemon_config::ca_file)},
        {"crl_file", kind::string, set(&daemon_config::crl_file)},
        {"tls_no_verify_certificate", kind::boolean, set(&daemon_config::tls_no_verify_certificate)},
        {"tls_no_sanity_certificate", kind::boolean, set(&daemon_config::tls_no_sanity_certificate)},
        {"tls_allowed_dn_list", kind::string_list, set(&daemon_config::tls_allowed_dn_list)},
        {"tls_priority", kind::string, {}},
        // the seed's keys that libvirt 9.0 no longer has
        {"tls_allowed_ip_list", kind::string_list, set(&daemon_config::tls_allowed_ip_list)},
        {"tls_no_verify_address", kind::boolean, set(&daemon_config::tls_no_verify_address)},
        // processing
        {"min_workers", kind::uint, {}},
        {"max_workers", kind::uint, set(&daemon_config::max_workers)},
        {"max_clients", kind::uint, set(&daemon_config::max_clients)},
        {"max_queued_clients", kind::uint, set(&daemon_config::max_queued_clients)},
        {"max_anonymous_clients", kind::uint, set(&daemon_config::max_anonymous_clients)},
        {"prio_workers", kind::uint, {}},
        {"max_client_requests", kind::uint, set(&daemon_config::max_client_requests)},
        {"admin_min_workers", kind::uint, {}},
        {"admin_max_workers", kind::uint, {}},
        {"admin_max_clients", kind::uint, {}},
        {"admin_max_queued_clients", kind::uint, {}},
        {"admin_max_client_requests", kind::uint, {}},
        // logging and auditing
        {"log_level", kind::uint, set(&daemon_config::log_level)},
        {"log_filters", kind::string, {}},
        {"log_outputs", kind::string, set(&daemon_config::log_outputs)},
        {"audit_level", kind::uint, {}},
        {"audit_logging", kind::boolean, {}},
        // keepalive
        {"keepalive_interval", kind::sint, set(&daemon_config::keepalive_interval)},
        {"keepalive_count", kind::uint, set(&daemon_config::keepalive_count)},
        {"keepalive_required", kind::boolean, {}},
        {"admin_keepalive_interval", kind::sint, {}},
        {"admin_keepalive_count", kind::uint, {}},
        {"admin_keepalive_required", kind::boolean, {}},
        // host identity and misc
        {"host_uuid", kind::string, {}},
        {"host_uuid_source", kind::string, {}},
        {"ovs_timeout", kind::uint, {}},
        // virtppd's own (libvirtd ignores keys it does not know)
        {"handshake_timeout", kind::sint, set(&daemon_config::handshake_timeout)},
        {"output_stall_timeout", kind::sint, set(&daemon_config::output_stall_timeout)},
    };
    return table;
}

void check_type(const key_rule& rule, const conf_value& v, std::string_view file) {
    auto where = std::string(file) + ":" + std::to_string(v.line) + ": ";
    auto wrong = [&] {
        throw config_error(where + "expected " + std::string(kind_name(rule.type)) + " for '" + std::string(rule.name) +
                           "' parameter");
    };
    switch (rule.type) {
    case kind::boolean:
        if (!std::holds_alternative<long long>(v.data)) wrong();
        if (as_int(v) != 0 && as_int(v) != 1)
            throw config_error(where + "value for '" + std::string(rule.name) + "' parameter must be 0 or 1");
        break;
    case kind::uint:
        if (!std::holds_alternative<long long>(v.data)) wrong();
        if (as_int(v) < 0 || as_int(v) > std::numeric_limits<unsigned>::max())
            throw config_error(where + "value for '" + std::string(rule.name) + "' parameter must be in range 0:" +
                               std::to_string(std::numeric_limits<unsigned>::max()));
        break;
    case kind::sint:
        if (!std::holds_alternative<long long>(v.data)) wrong();
        if (as_int(v) < std::numeric_limits<int>::min() || as_int(v) > std::numeric_limits<int>::max())
            throw config_error(where + "value for '" + std::string(rule.name) + "' parameter is out of range");
        break;
    case kind::string:
        if (!std::holds_alternative<std::string>(v.data)) wrong();
        break;
    case kind::string_list:
        if (!std::holds_alternative<std::vector<conf_value>>(v.data)) wrong();
        for (const auto& item : std::get<std::vector<conf_value>>(v.data))
            if (!std::holds_alternative<std::string>(item.data)) wrong();
        break;
    }
}

bool valid_perms(const std::string& s) {
    if (s.empty() || s.size() > 4) return false;
    for (char c : s)
        if (c < '0' || c > '7') return false;
    return true;
}

}  // namespace

daemon_config read_config(std::string_view text, std::string_view filename) {
    daemon_config cfg;
    for (const auto& entry : parse_conf(text, filename)) {
        const key_rule* rule = nullptr;
        for (const auto& r : rules())
            if (r.name == entry.key) rule = &r;
        if (rule == nullptr) {
            // libvirtd 9.0 reads the keys it knows and passes over the rest without a word
            cfg.warnings.push_back(std::string(filename) + ":" + std::to_string(entry.value.line) + ": unknown setting '" +
                                   entry.key + "' ignored");
            continue;
        }
        check_type(*rule, entry.value, filename);
        if (!rule->apply) {
            cfg.ignored_keys.push_back(entry.key);
            continue;
        }
        try {
            rule->apply(cfg, entry.value);
        } catch (const config_error& e) {
            throw config_error(std::string(filename) + ":" + std::to_string(entry.value.line) + ": " + e.what());
        }
        auto where = [&] { return std::string(filename) + ":" + std::to_string(entry.value.line) + ": "; };
        if ((entry.key == "unix_sock_ro_perms" || entry.key == "unix_sock_rw_perms") && !valid_perms(as_string(entry.value)))
            throw config_error(where() + "'" + entry.key + "' must be an octal mode such as \"0770\", not \"" +
                               as_string(entry.value) + "\"");
        if ((entry.key == "tcp_port" || entry.key == "tls_port") && as_string(entry.value).empty())
            throw config_error(where() + "'" + entry.key + "' must not be empty");
    }
    return cfg;
}

daemon_config read_config_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(path + ": cannot read the configuration file");
    std::ostringstream text;
    text << in.rdbuf();
    return read_config(text.str(), path);
}

// libvirtd 9.0 matches the lists with GLib's g_pattern_match_simple: only "*" (any run) and "?"
// (one UTF-8 character) are special, a backslash is itself, so a DN copied from
// virt-pki-query-dn ("O=Red Hat\, Inc.") matches as written (fnmatch would read "\," as ",").
bool wildcard_match(const std::string& pattern, const std::string& text) {
    auto next_char = [&](std::size_t at) {
        ++at;
        while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xc0) == 0x80) ++at;
        return at;
    };
    std::size_t p = 0, t = 0;
    std::size_t star = std::string::npos, resume = 0;  // the last "*" and where its match ends now
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            resume = t;
        } else if (p < pattern.size() && pattern[p] == '?') {
            ++p;
            t = next_char(t);
        } else if (p < pattern.size() && pattern[p] == text[t]) {
            ++p;
            ++t;
        } else if (star != std::string::npos) {
            p = star + 1;
            t = resume = next_char(resume);
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

bool list_allows(const std::optional<std::vector<std::string>>& list, const std::string& text) {
    if (!list) return true;
    for (const auto& pattern : *list)
        if (wildcard_match(pattern, text)) return true;
    return false;
}

}  // namespace virtpp::daemon
