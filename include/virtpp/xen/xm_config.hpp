// xm configuration files: the Python-syntax files in /etc/xen (name = "x", memory = 512,
// disk = [ "phy:/dev/sda,hda,w" ], vif = [ "mac=..,bridge=xenbr0" ]) <-> domain definitions, as
// libvirt's xen_xm did. The parser takes the assignment subset xm files use: integers, strings in
// ' " ''' """, lists of strings, comments; anything else is CONF_SYNTAX naming the line.
#pragma once

#include <virtpp/xml/domain.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace virtpp::xen {

/// One right-hand side: an integer, a string or a list of strings.
struct xm_value {
    std::variant<std::int64_t, std::string, std::vector<std::string>> value;
    friend bool operator==(const xm_value&, const xm_value&) = default;
};
struct xm_entry {
    std::string name;
    xm_value value;
    friend bool operator==(const xm_entry&, const xm_entry&) = default;
};
/// A whole file, entries in file order (a repeated name: the last one wins on lookup).
struct xm_config {
    std::vector<xm_entry> entries;
    [[nodiscard]] const xm_value* find(std::string_view name) const;
    friend bool operator==(const xm_config&, const xm_config&) = default;
};

/// Bounds checked while parsing.
struct xm_limits {
    std::size_t max_bytes = 1024 * 1024;
    std::size_t max_list = 4096;
};

/// Parses the text. Errors: CONF_SYNTAX (domain CONF) "file:line: what" using `file_name`.
[[nodiscard]] xm_config parse_xm_config(std::string_view text, std::string_view file_name = "xm config",
                                        const xm_limits& limits = {});
/// Writes "name = value" lines as libvirt does (strings in double quotes, lists as [ "a", "b" ]).
[[nodiscard]] std::string format_xm_config(const xm_config& config);

/// xm config -> domain definition, per xend generation (see sexpr_domain.hpp). Missing or wrong
/// required keys raise CONF_SYNTAX / INTERNAL_ERROR naming the key.
[[nodiscard]] xml::domain_def domain_from_xm_config(const xm_config& config, int xend_config_version);
/// Domain definition -> xm config in libvirt's key order.
[[nodiscard]] xm_config domain_to_xm_config(const xml::domain_def& def, int xend_config_version);

/// Text conveniences used by domxml-from-native / domxml-to-native xen-xm.
[[nodiscard]] xml::domain_def domain_from_xm_text(std::string_view text, int xend_config_version);
[[nodiscard]] std::string domain_to_xm_text(const xml::domain_def& def, int xend_config_version);

}  // namespace virtpp::xen
