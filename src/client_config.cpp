// libvirt.conf for clients: uri_default and uri_aliases (virConnectGetDefaultURI and
// virURIResolveAlias in libvirt 9.0), read with the daemon's virConf parser.
#include <virtpp/client_config.hpp>

#include <virtpp/error.hpp>
#include <virtpp/rpc/server.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <variant>
#include <vector>

namespace virtpp {

namespace {

constexpr std::string_view alias_chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";

struct client_settings {
    std::optional<std::string> uri_default;
    std::vector<std::string> uri_aliases;
};

[[noreturn]] void conf_error(const std::string& what) { raise(error_code::conf_syntax, error_domain::conf, what); }

/// The file's settings; a missing file is no settings.
client_settings read_settings() {
    client_settings out;
    std::string path = client_config_path();
    std::ifstream in(path);
    if (!in) return out;
    std::stringstream text;
    text << in.rdbuf();
    std::vector<daemon::conf_entry> entries;
    try {
        entries = daemon::parse_conf(text.str(), path);
    } catch (const daemon::config_error& e) {
        conf_error(std::string("configuration file syntax error: ") + e.what());
    }
    for (const auto& entry : entries) {
        if (entry.key == "uri_default") {
            const auto* s = std::get_if<std::string>(&entry.value.data);
            if (s == nullptr) conf_error(path + ":" + std::to_string(entry.value.line) + ": uri_default must be a string");
            out.uri_default = *s;
        } else if (entry.key == "uri_aliases") {
            const auto* list = std::get_if<std::vector<daemon::conf_value>>(&entry.value.data);
            if (list == nullptr) conf_error(path + ":" + std::to_string(entry.value.line) + ": uri_aliases must be a list of strings");
            out.uri_aliases.clear();
            for (const auto& v : *list) {
                const auto* s = std::get_if<std::string>(&v.data);
                if (s == nullptr) conf_error(path + ":" + std::to_string(v.line) + ": uri_aliases must be a list of strings");
                out.uri_aliases.push_back(*s);
            }
        }
    }
    return out;
}

/// virURIResolveAlias: the URI of the alias named `name`, if there is one.
std::optional<std::string> find_alias(const std::vector<std::string>& aliases, const std::string& name) {
    for (const auto& entry : aliases) {
        auto eq = entry.find('=');
        if (eq == std::string::npos || eq == 0)
            conf_error("Malformed 'uri_aliases' config entry '" + entry + "', expected 'alias=uri://host/path'");
        if (entry.find_first_not_of(alias_chars) < eq)
            conf_error("Malformed 'uri_aliases' config entry '" + entry + "', aliases may only contain 'a-Z, 0-9, _, -'");
        if (entry.compare(0, eq, name) == 0 && name.size() == eq) return entry.substr(eq + 1);
    }
    return std::nullopt;
}

}  // namespace

std::string client_config_path() {
    if (::geteuid() == 0) return "/etc/libvirt/libvirt.conf";
    if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x != '\0') return std::string(x) + "/libvirt/libvirt.conf";
    if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return std::string(h) + "/.config/libvirt/libvirt.conf";
    return "/etc/libvirt/libvirt.conf";
}

std::string resolve_connect_name(std::string_view name) {
    std::string chosen(name);
    std::optional<client_settings> settings;
    if (chosen.empty()) {
        if (const char* env = std::getenv("LIBVIRT_DEFAULT_URI"); env != nullptr && *env != '\0') {
            chosen = env;
        } else {
            settings = read_settings();
            if (settings->uri_default) chosen = *settings->uri_default;
        }
    }
    if (chosen.empty()) return chosen;
    if (!settings) settings = read_settings();
    if (auto uri = find_alias(settings->uri_aliases, chosen)) return *uri;
    return chosen;
}

}  // namespace virtpp
