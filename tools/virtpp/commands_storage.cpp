// Storage pool, storage volume, host interface and node device commands (virsh's "pool",
// "volume", "interface" and "nodedev" groups), on the library's storage_*, interface_* and
// node_* operations.
#include "command_util.hpp"
#include "shell.hpp"
#include "table.hpp"
#include "tree_print.hpp"

#include <virtpp/ops.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <strings.h>

namespace virtpp::cli {

namespace {

/// vshPrettyCapacity printed as the storage commands print it ("%.2lf %s").
std::string pretty_size(std::uint64_t value) {
    auto c = pretty_capacity(value);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f %s", c.value, c.unit);
    return buf;
}

// virStoragePoolState and virStorageVolType as virsh names them
constexpr std::string_view pool_states[] = {"inactive", "building", "running", "degraded", "inaccessible"};
constexpr std::string_view vol_types[] = {"file", "block", "dir", "network", "netdir", "ploop"};
constexpr int pool_state_running = 2, pool_state_degraded = 3;

template <std::size_t N>
std::string enum_name(const std::string_view (&names)[N], int value) {
    return value >= 0 && static_cast<std::size_t>(value) < N ? std::string(names[value]) : std::string("unknown");
}

// virConnectListAllStoragePoolsFlags, virConnectListAllInterfacesFlags
constexpr unsigned pools_inactive = 1U << 0, pools_active = 1U << 1, pools_persistent = 1U << 2,
                   pools_transient = 1U << 3, pools_autostart = 1U << 4, pools_no_autostart = 1U << 5;
constexpr unsigned ifaces_inactive = 1U << 0, ifaces_active = 1U << 1;
constexpr unsigned storage_xml_inactive = 1U << 0;

/// virStoragePoolType names in virsh's --type words, by their VIR_CONNECT_LIST_STORAGE_POOLS_* bit.
constexpr std::pair<std::string_view, unsigned> pool_types[] = {
    {"dir", 1U << 6},     {"fs", 1U << 7},       {"netfs", 1U << 8},   {"logical", 1U << 9},
    {"disk", 1U << 10},   {"iscsi", 1U << 11},   {"scsi", 1U << 12},   {"mpath", 1U << 13},
    {"rbd", 1U << 14},    {"sheepdog", 1U << 15}, {"gluster", 1U << 16}, {"zfs", 1U << 17},
    {"vstorage", 1U << 18}, {"iscsi-direct", 1U << 19},
};

/// virshCommandOptPoolBy: by UUID (when the text has a UUID's length), then by name.
std::optional<storage_pool_ref> lookup_pool(shell& sh, const parsed_command& cmd, std::string_view option,
                                            bool by_uuid = true, bool by_name = true) {
    std::optional<std::string> n;
    if (!sh.opt_string(cmd, option, n)) return std::nullopt;
    if (!n) {
        sh.error("Failed to get option '" + std::string(option) + "': Mandatory option not present");
        return std::nullopt;
    }
    any_connection* c = sh.connection();
    if (c == nullptr) return std::nullopt;
    std::optional<storage_pool_ref> pool;
    if (by_uuid && n->size() == 36) {
        if (auto u = virtpp::uuid::parse(*n)) {
            try { pool = c->call<op::storage_pool_lookup_by_uuid>({*u}); } catch (const virtpp::error&) {}
        } else {
            sh.set_pending_error(error_code::invalid_arg,
                                 "uuidstr in virStoragePoolLookupByUUIDString must be a valid UUID");
        }
    }
    if (!pool && by_name) {
        try { pool = c->call<op::storage_pool_lookup_by_name>({*n}); } catch (const virtpp::error&) {}
    }
    if (!pool) sh.error("failed to get pool '" + *n + "'");
    return pool;
}

bool pool_active(any_connection& c, const storage_pool_ref& pool) {
    try {
        return c.call<op::storage_pool_is_active>({pool});
    } catch (const virtpp::error&) {
        return false;
    }
}

/// virshCommandOptVolBy: by name in --pool (when given), then by key, then by path.
std::optional<storage_vol_ref> lookup_vol(shell& sh, const parsed_command& cmd, bool with_pool, bool by_name,
                                          std::string* name = nullptr) {
    std::optional<std::string> n, p;
    if (!sh.opt_string(cmd, "vol", n)) return std::nullopt;
    if (with_pool && !sh.opt_string(cmd, "pool", p)) return std::nullopt;
    any_connection* c = sh.connection();
    if (c == nullptr) return std::nullopt;
    std::optional<storage_pool_ref> pool;
    if (p) {
        pool = lookup_pool(sh, cmd, "pool");
        if (!pool) return std::nullopt;
        if (!pool_active(*c, *pool)) {
            sh.error("pool '" + *p + "' is not active");
            return std::nullopt;
        }
    }
    if (name != nullptr) *name = *n;
    std::optional<storage_vol_ref> vol;
    if (pool && by_name) {
        try { vol = c->call<op::storage_vol_lookup_by_name>({*pool, *n}); } catch (const virtpp::error&) {}
    }
    if (!vol) {
        try { vol = c->call<op::storage_vol_lookup_by_key>({*n}); } catch (const virtpp::error&) {}
    }
    if (!vol) {
        try { vol = c->call<op::storage_vol_lookup_by_path>({*n}); } catch (const virtpp::error&) {}
    }
    if (!vol) {
        if (pool || !with_pool) sh.error("failed to get vol '" + *n + "'");
        else sh.error("failed to get vol '" + *n + "', specifying --pool might help");
        return std::nullopt;
    }
    sh.reset_last_error();
    if (pool && vol->pool != pool->name) {
        sh.error("Requested volume '" + *n + "' is not in pool '" + pool->name + "'");
        return std::nullopt;
    }
    return vol;
}

bool cmd_pool_list(shell& sh, const parsed_command& cmd) {
    const bool details = cmd.has("details"), inactive = cmd.has("inactive"), all = cmd.has("all");
    if (!exclusive_options(sh, cmd, "all", "inactive")) return false;
    unsigned flags = pools_active;
    if (inactive) flags = pools_inactive;
    if (all) flags = pools_active | pools_inactive;
    if (cmd.has("autostart")) flags |= pools_autostart;
    if (cmd.has("no-autostart")) flags |= pools_no_autostart;
    if (cmd.has("persistent")) flags |= pools_persistent;
    if (cmd.has("transient")) flags |= pools_transient;
    const bool by_uuid = cmd.has("uuid"), by_name = cmd.has("name");
    std::optional<std::string> type;
    if (!sh.opt_string(cmd, "type", type)) return false;
    if (!exclusive_options(sh, cmd, "details", "uuid") || !exclusive_options(sh, cmd, "details", "name")) return false;
    if (type) {
        for (const auto& word : comma_words(*type)) {
            auto it = std::find_if(std::begin(pool_types), std::end(pool_types),
                                   [&](const auto& t) { return t.first == word; });
            if (it == std::end(pool_types)) {
                sh.error("Invalid pool type '" + word + "'");
                return false;
            }
            flags |= it->second;
        }
    }
    any_connection* c = sh.connection();
    if (c == nullptr) return false;
    std::vector<storage_pool_ref> pools;
    if (!attempt_call(sh, [&] { pools = c->call<op::connect_list_all_storage_pools>({flags}); }, "Failed to list pools"))
        return false;
    std::stable_sort(pools.begin(), pools.end(), [](const storage_pool_ref& a, const storage_pool_ref& b) {
        return strcasecmp(a.name.c_str(), b.name.c_str()) < 0;
    });
    struct texts {
        std::string state, autostart, persistent, capacity, allocation, available;
    };
    std::vector<texts> rows;
    for (const auto& pool : pools) {
        texts t;
        try {
            t.autostart = c->call<op::storage_pool_get_autostart>({pool}) ? "yes" : "no";
        } catch (const virtpp::error&) {
            t.autostart = "no autostart";
        }
        if (details) {
            try {
                t.persistent = c->call<op::storage_pool_is_persistent>({pool}) ? "yes" : "no";
            } catch (const virtpp::error&) {
                t.persistent = "unknown";
            }
        }
        try {
            const auto info = c->call<op::storage_pool_get_info>({pool});
            if (details) {
                t.state = enum_name(pool_states, info.state);
                if (info.state == pool_state_running || info.state == pool_state_degraded) {
                    t.capacity = pretty_size(info.capacity);
                    t.allocation = pretty_size(info.allocation);
                    t.available = pretty_size(info.available);
                } else {
                    t.capacity = t.allocation = t.available = "-";
                }
            } else {
                t.state = pool_active(*c, pool) ? "active" : "inactive";
            }
        } catch (const virtpp::error&) {
            sh.error("Could not retrieve pool information");
            t.state = "unknown";
            if (details) t.capacity = t.allocation = t.available = "unknown";
        }
        rows.push_back(std::move(t));
    }
    if (!details) {
        if (by_uuid || by_name) {
            for (const auto& pool : pools) {
                char buf[128];
                if (by_uuid) {
                    std::snprintf(buf, sizeof buf, "%-36s%c", pool.uuid.str().c_str(), by_name ? ' ' : '\n');
                    sh.print(buf);
                }
                if (by_name) sh.print(pool.name + std::string(pool.name.size() < 20 ? 20 - pool.name.size() : 0, ' ') + "\n");
            }
            return true;
        }
        table t({"Name", "State", "Autostart"});
        for (std::size_t i = 0; i < pools.size(); ++i) t.add_row({pools[i].name, rows[i].state, rows[i].autostart});
        sh.print(t.str(!sh.quiet));
        return true;
    }
    table t({"Name", "State", "Autostart", "Persistent", "Capacity", "Allocation", "Available"});
    for (std::size_t i = 0; i < pools.size(); ++i) {
        const auto& r = rows[i];
        t.add_row({pools[i].name, r.state, r.autostart, r.persistent, r.capacity, r.allocation, r.available});
    }
    sh.print(t.str(!sh.quiet));
    return true;
}

bool cmd_pool_info(shell& sh, const parsed_command& cmd) {
    auto pool = lookup_pool(sh, cmd, "pool");
    if (!pool) return false;
    any_connection* c = sh.connection();
    const bool bytes = cmd.has("bytes");
    sh.print(field("Name:", pool->name));
    sh.print(field("UUID:", pool->uuid.str()));
    storage_pool_info info;
    try {
        info = c->call<op::storage_pool_get_info>({*pool});
    } catch (const virtpp::error&) {
        return false;
    }
    sh.print(field("State:", enum_name(pool_states, info.state)));
    try {
        sh.print(field("Persistent:", c->call<op::storage_pool_is_persistent>({*pool}) ? "yes" : "no"));
    } catch (const virtpp::error&) {
        sh.print(field("Persistent:", "unknown"));
    }
    try {
        sh.print(field("Autostart:", c->call<op::storage_pool_get_autostart>({*pool}) ? "yes" : "no"));
    } catch (const virtpp::error&) {
        sh.print(field("Autostart:", "no autostart"));
    }
    if (info.state == pool_state_running || info.state == pool_state_degraded) {
        auto size = [&](std::uint64_t v) { return bytes ? std::to_string(v) : pretty_size(v); };
        sh.print(field("Capacity:", size(info.capacity)));
        sh.print(field("Allocation:", size(info.allocation)));
        sh.print(field("Available:", size(info.available)));
    }
    return true;
}

bool cmd_pool_dumpxml(shell& sh, const parsed_command& cmd) {
    auto pool = lookup_pool(sh, cmd, "pool");
    if (!pool) return false;
    if (cmd.has("xpath")) {
        sh.error("--xpath is not supported by virtpp");
        return false;
    }
    std::string xml;
    try {
        xml = sh.connection()->call<op::storage_pool_get_xml_desc>({*pool, cmd.has("inactive") ? storage_xml_inactive : 0U});
    } catch (const virtpp::error&) {
        return false;
    }
    sh.print(xml);
    return true;
}

bool cmd_pool_name(shell& sh, const parsed_command& cmd) {
    auto pool = lookup_pool(sh, cmd, "pool", true, false);
    if (!pool) return false;
    sh.print(pool->name + "\n");
    return true;
}

bool cmd_pool_uuid(shell& sh, const parsed_command& cmd) {
    auto pool = lookup_pool(sh, cmd, "pool", false, true);
    if (!pool) return false;
    sh.print(pool->uuid.str() + "\n");
    return true;
}

/// virshVolSize: a decimal count with virScaleInteger's suffixes, in bytes; nullopt after
/// "Malformed size" (and libvirt's error about a bad suffix or overflow, left pending).
std::optional<std::uint64_t> vol_size(shell& sh, const std::string& text) {
    auto malformed = [&] {
        sh.error("Malformed size " + text);
        return std::nullopt;
    };
    // virStrToLong_ullp: leading blanks, digits, no minus sign anywhere in the number
    std::size_t i = 0;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) ++i;
    if (i < text.size() && text[i] == '-') return malformed();
    errno = 0;
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
    if (end == text.c_str() || errno != 0) return malformed();
    const std::string suffix(end);
    std::uint64_t scale = 1;
    if (!suffix.empty() && strcasecmp(suffix.c_str(), "b") != 0 && strcasecmp(suffix.c_str(), "byte") != 0 &&
        strcasecmp(suffix.c_str(), "bytes") != 0) {
        std::uint64_t base = 0;
        if (suffix.size() == 1 || strcasecmp(suffix.c_str() + 1, "iB") == 0) base = 1024;
        else if (suffix.size() == 2 && (suffix[1] == 'b' || suffix[1] == 'B')) base = 1000;
        const char* powers = "kmgtpe";
        const char* at = std::strchr(powers, std::tolower(static_cast<unsigned char>(suffix[0])));
        if (base == 0 || suffix[0] == '\0' || at == nullptr) {
            sh.set_pending_error(error_code::invalid_arg, "invalid argument: unknown suffix '" + suffix + "'");
            return malformed();
        }
        for (const char* p = powers; p <= at; ++p) scale *= base;
    }
    if (value != 0 && value > UINT64_MAX / scale) {
        sh.set_pending_error(error_code::overflow,
                             "numerical overflow: value too large: " + std::to_string(value) + suffix);
        return malformed();
    }
    return value * scale;
}

bool cmd_vol_create_as(shell& sh, const parsed_command& cmd) {
    const unsigned flags = cmd.has("prealloc-metadata") ? 1U : 0U;  // VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA
    auto pool = lookup_pool(sh, cmd, "pool");
    if (!pool) return false;
    std::optional<std::string> name, capacity_text, allocation_text, format, backing, backing_format;
    if (!sh.opt_string(cmd, "name", name) || !sh.opt_string(cmd, "capacity", capacity_text)) return false;
    const auto capacity = vol_size(sh, *capacity_text);
    if (!capacity) return false;
    std::optional<std::uint64_t> allocation;
    if (const given_option* o = cmd.find("allocation"); o != nullptr && !o->value.empty()) {
        allocation_text = o->value;
        allocation = vol_size(sh, *allocation_text);
        if (!allocation) return false;
    }
    if (!sh.opt_string(cmd, "format", format) || !sh.opt_string(cmd, "backing-vol", backing) ||
        !sh.opt_string(cmd, "backing-vol-format", backing_format))
        return false;
    any_connection* c = sh.connection();
    std::string xml = "<volume>\n  <name>" + *name + "</name>\n  <capacity>" + std::to_string(*capacity) + "</capacity>\n";
    if (allocation) xml += "  <allocation>" + std::to_string(*allocation) + "</allocation>\n";
    if (format) xml += "  <target>\n    <format type='" + *format + "'/>\n  </target>\n";
    if (backing) {
        std::optional<storage_vol_ref> backing_vol;
        try { backing_vol = c->call<op::storage_vol_lookup_by_name>({*pool, *backing}); } catch (const virtpp::error&) {}
        if (!backing_vol) {
            try { backing_vol = c->call<op::storage_vol_lookup_by_key>({*backing}); } catch (const virtpp::error&) {}
        }
        if (!backing_vol) {
            try { backing_vol = c->call<op::storage_vol_lookup_by_path>({*backing}); } catch (const virtpp::error&) {}
        }
        if (!backing_vol) {
            sh.error("failed to get vol '" + *backing + "'");
            return false;
        }
        std::string path;
        try {
            path = c->call<op::storage_vol_get_path>({*backing_vol});
        } catch (const virtpp::error&) {
            return false;
        }
        xml += "  <backingStore>\n    <path>" + path + "</path>\n";
        if (backing_format) xml += "    <format type='" + *backing_format + "'/>\n";
        xml += "  </backingStore>\n";
    }
    xml += "</volume>\n";
    if (cmd.has("print-xml")) {
        sh.print(xml);
        return true;
    }
    if (!attempt_call(sh, [&] { (void)c->call<op::storage_vol_create_xml>({*pool, xml, flags}); },
                      "Failed to create vol " + *name))
        return false;
    sh.print_extra("Vol " + *name + " created\n");
    return true;
}

bool cmd_vol_create(shell& sh, const parsed_command& cmd) {
    unsigned flags = 0;
    if (cmd.has("prealloc-metadata")) flags |= 1U << 0;  // VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA
    if (cmd.has("validate")) flags |= 1U << 2;           // VIR_STORAGE_VOL_CREATE_VALIDATE
    auto pool = lookup_pool(sh, cmd, "pool");
    if (!pool) return false;
    std::optional<std::string> from;
    if (!sh.opt_string(cmd, "file", from)) return false;
    std::string xml;
    if (!sh.read_file(*from, xml)) return false;
    storage_vol_ref vol;
    if (!attempt_call(sh, [&] { vol = sh.connection()->call<op::storage_vol_create_xml>({*pool, xml, flags}); },
                      "Failed to create vol from " + *from))
        return false;
    sh.print_extra("Vol " + vol.name + " created from " + *from + "\n");
    return true;
}

bool cmd_vol_delete(shell& sh, const parsed_command& cmd) {
    std::string name;
    auto vol = lookup_vol(sh, cmd, true, true, &name);
    if (!vol) return false;
    const unsigned flags = cmd.has("delete-snapshots") ? 1U << 1 : 0U;  // VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS
    if (!attempt_call(sh, [&] { sh.connection()->call<op::storage_vol_delete>({*vol, flags}); },
                      "Failed to delete vol " + name))
        return false;
    sh.print_extra("Vol " + name + " deleted\n");
    return true;
}

bool cmd_vol_info(shell& sh, const parsed_command& cmd) {
    auto vol = lookup_vol(sh, cmd, true, true);
    if (!vol) return false;
    const bool bytes = cmd.has("bytes");
    sh.print(field("Name:", vol->name));
    if (cmd.has("physical")) {
        // virStorageVolGetInfoFlags is not among the library's operations
        sh.set_pending_error(error_code::no_support,
                             "this function is not supported by the connection driver: virStorageVolGetInfoFlags");
        return false;
    }
    storage_vol_info info;
    try {
        info = sh.connection()->call<op::storage_vol_get_info>({*vol});
    } catch (const virtpp::error&) {
        return false;
    }
    sh.print(field("Type:", enum_name(vol_types, info.type)));
    if (bytes) {
        sh.print(field("Capacity:", std::to_string(info.capacity) + " bytes"));
        sh.print(field("Allocation:", std::to_string(info.allocation) + " bytes"));
    } else {
        sh.print(field("Capacity:", pretty_size(info.capacity)));
        sh.print(field("Allocation:", pretty_size(info.allocation)));
    }
    return true;
}

bool cmd_vol_dumpxml(shell& sh, const parsed_command& cmd) {
    auto vol = lookup_vol(sh, cmd, true, true);
    if (!vol) return false;
    if (cmd.has("xpath")) {
        sh.error("--xpath is not supported by virtpp");
        return false;
    }
    std::string xml;
    try {
        xml = sh.connection()->call<op::storage_vol_get_xml_desc>({*vol, 0});
    } catch (const virtpp::error&) {
        return false;
    }
    sh.print(xml);
    return true;
}

bool cmd_vol_list(shell& sh, const parsed_command& cmd) {
    const bool details = cmd.has("details");
    auto pool = lookup_pool(sh, cmd, "pool");
    if (!pool) return false;
    any_connection* c = sh.connection();
    std::vector<storage_vol_ref> vols;
    if (!attempt_call(sh, [&] { vols = c->call<op::storage_pool_list_all_volumes>({*pool, 0}); }, "Failed to list volumes"))
        return false;
    std::stable_sort(vols.begin(), vols.end(), [](const storage_vol_ref& a, const storage_vol_ref& b) {
        return strcasecmp(a.name.c_str(), b.name.c_str()) < 0;
    });
    table t = details ? table({"Name", "Path", "Type", "Capacity", "Allocation"}) : table({"Name", "Path"});
    for (const auto& vol : vols) {
        std::string path;
        try {
            path = c->call<op::storage_vol_get_path>({vol});
        } catch (const virtpp::error&) {
            path = "unknown";
        }
        if (!details) {
            t.add_row({vol.name, path});
            continue;
        }
        try {
            const auto info = c->call<op::storage_vol_get_info>({vol});
            t.add_row({vol.name, path, enum_name(vol_types, info.type), pretty_size(info.capacity),
                       pretty_size(info.allocation)});
        } catch (const virtpp::error&) {
            t.add_row({vol.name, path, "unknown", "unknown", "unknown"});
        }
    }
    sh.print(t.str(!sh.quiet));
    return true;
}

bool cmd_vol_name(shell& sh, const parsed_command& cmd) {
    auto vol = lookup_vol(sh, cmd, false, false);
    if (!vol) return false;
    sh.print(vol->name + "\n");
    return true;
}

bool cmd_vol_pool(shell& sh, const parsed_command& cmd) {
    auto vol = lookup_vol(sh, cmd, false, false);
    if (!vol) return false;
    storage_pool_ref pool;
    try {
        pool = sh.connection()->call<op::storage_pool_lookup_by_volume>({*vol});
    } catch (const virtpp::error&) {
        sh.error("failed to get parent pool");
        return false;
    }
    sh.print((cmd.has("uuid") ? pool.uuid.str() : pool.name) + "\n");
    return true;
}

bool cmd_vol_key(shell& sh, const parsed_command& cmd) {
    auto vol = lookup_vol(sh, cmd, true, true);
    if (!vol) return false;
    sh.print(vol->key + "\n");
    return true;
}

bool cmd_vol_path(shell& sh, const parsed_command& cmd) {
    auto vol = lookup_vol(sh, cmd, true, true);
    if (!vol) return false;
    std::string path;
    try {
        path = sh.connection()->call<op::storage_vol_get_path>({*vol});
    } catch (const virtpp::error&) {
        return false;
    }
    sh.print(path + "\n");
    return true;
}

// ---- host interfaces

/// virMacAddrParse's acceptance: six groups of one or two hex digits separated by ':'.
bool is_mac(std::string_view s) {
    std::size_t i = 0;
    for (int group = 0; group < 6; ++group) {
        std::size_t digits = 0;
        while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i])) != 0) {
            ++i;
            ++digits;
        }
        if (digits == 0 || digits > 2) return false;
        if (group < 5) {
            if (i >= s.size() || s[i] != ':') return false;
            ++i;
        }
    }
    return i == s.size();
}

/// virshCommandOptInterfaceBy: a MAC address is looked up as one, anything else as a name.
std::optional<interface_ref> lookup_iface(shell& sh, const parsed_command& cmd, bool by_name, bool by_mac) {
    std::optional<std::string> n;
    if (!sh.opt_string(cmd, "interface", n)) return std::nullopt;
    any_connection* c = sh.connection();
    if (c == nullptr) return std::nullopt;
    std::optional<interface_ref> iface;
    const bool mac = is_mac(*n);
    try {
        if (!mac && by_name) iface = c->call<op::interface_lookup_by_name>({*n});
        else if (mac && by_mac) iface = c->call<op::interface_lookup_by_mac_string>({*n});
    } catch (const virtpp::error&) {
    }
    if (!iface) sh.error("failed to get interface '" + *n + "'");
    return iface;
}

bool cmd_iface_list(shell& sh, const parsed_command& cmd) {
    if (!exclusive_options(sh, cmd, "all", "inactive")) return false;
    unsigned flags = ifaces_active;
    if (cmd.has("inactive")) flags = ifaces_inactive;
    if (cmd.has("all")) flags = ifaces_inactive | ifaces_active;
    any_connection* c = sh.connection();
    if (c == nullptr) return false;
    std::vector<interface_ref> ifaces;
    if (!attempt_call(sh, [&] { ifaces = c->call<op::connect_list_all_interfaces>({flags}); }, "Failed to list interfaces"))
        return false;
    std::stable_sort(ifaces.begin(), ifaces.end(), [](const interface_ref& a, const interface_ref& b) {
        return strcasecmp(a.name.c_str(), b.name.c_str()) < 0;
    });
    table t({"Name", "State", "MAC Address"});
    for (const auto& i : ifaces) {
        bool active = false;
        try {
            active = c->call<op::interface_is_active>({i});
        } catch (const virtpp::error&) {
            active = true;  // virInterfaceIsActive's -1 counts as true in virsh's test
        }
        t.add_row({i.name, active ? "active" : "inactive", i.mac});
    }
    sh.print(t.str(!sh.quiet));
    return true;
}

bool cmd_iface_dumpxml(shell& sh, const parsed_command& cmd) {
    const unsigned flags = cmd.has("inactive") ? 1U : 0U;  // VIR_INTERFACE_XML_INACTIVE
    auto iface = lookup_iface(sh, cmd, true, true);
    if (!iface) return false;
    if (cmd.has("xpath")) {
        sh.error("--xpath is not supported by virtpp");
        return false;
    }
    std::string xml;
    try {
        xml = sh.connection()->call<op::interface_get_xml_desc>({*iface, flags});
    } catch (const virtpp::error&) {
        return false;
    }
    sh.print(xml);
    return true;
}

bool cmd_iface_mac(shell& sh, const parsed_command& cmd) {
    auto iface = lookup_iface(sh, cmd, true, false);
    if (!iface) return false;
    sh.print(iface->mac + "\n");
    return true;
}

bool cmd_iface_name(shell& sh, const parsed_command& cmd) {
    auto iface = lookup_iface(sh, cmd, false, true);
    if (!iface) return false;
    sh.print(iface->name + "\n");
    return true;
}

// ---- node devices

/// virNodeDevCapType names, in order: the capability of index i lists under flag bit i.
constexpr std::string_view nodedev_caps[] = {"system",   "pci",        "usb_device", "usb",      "net",
                                             "scsi_host", "scsi_target", "scsi",      "storage",  "fc_host",
                                             "vports",   "scsi_generic", "drm",       "mdev_types", "mdev",
                                             "ccw",      "css",        "vdpa",       "ap_card",  "ap_queue",
                                             "ap_matrix", "vpd"};
// bit of each name above in virConnectListAllNodeDeviceFlags (vpd's is 21, after ap_matrix's 20)
constexpr unsigned nodedev_inactive = 1U << 30, nodedev_active = 1U << 31;

bool cmd_nodedev_list(shell& sh, const parsed_command& cmd) {
    const bool tree = cmd.has("tree"), inactive = cmd.has("inactive"), all = cmd.has("all");
    std::optional<std::string> cap;
    if (const given_option* o = cmd.find("cap"); o != nullptr && !o->value.empty()) cap = o->value;
    std::vector<std::string> caps;
    if (cap) caps = comma_words(*cap);
    if (all && inactive) {
        sh.error("Option --all is incompatible with --inactive");
        return false;
    }
    if (tree && (cap || inactive)) {
        sh.error("Option --tree is incompatible with --cap and --inactive");
        return false;
    }
    unsigned flags = 0;
    for (const auto& word : caps) {
        auto it = std::find(std::begin(nodedev_caps), std::end(nodedev_caps), word);
        if (it == std::end(nodedev_caps)) {
            sh.error("Invalid capability type");
            return false;
        }
        flags |= 1U << (it - std::begin(nodedev_caps));
    }
    if (inactive || all) flags |= nodedev_inactive;
    if (!inactive) flags |= nodedev_active;
    any_connection* c = sh.connection();
    if (c == nullptr) return false;
    std::vector<node_device_ref> devices;
    try {
        devices = c->call<op::connect_list_all_node_devices>({flags});
    } catch (const virtpp::error& e) {
        if (e.code() != error_code::no_support) {
            sh.error("Failed to list node devices");
            return false;
        }
        // virsh's fallback for servers without virConnectListAllNodeDevices: the names per capability
        sh.reset_last_error();
        std::vector<std::string> names;
        try {
            if (caps.empty()) {
                names = c->call<op::node_list_devices>({std::nullopt, 0});
            } else {
                for (const auto& word : caps)
                    for (auto& n : c->call<op::node_list_devices>({word, 0}))
                        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
            }
        } catch (const virtpp::error&) {
            sh.error("Failed to list node devices");
            return false;
        }
        for (auto& n : names) devices.push_back({std::move(n)});
    }
    std::stable_sort(devices.begin(), devices.end(), [](const node_device_ref& a, const node_device_ref& b) {
        return strcasecmp(a.name.c_str(), b.name.c_str()) < 0;
    });
    if (!tree) {
        for (const auto& d : devices) sh.print(d.name + "\n");
        return true;
    }
    std::vector<std::string> names;
    std::vector<std::optional<std::string>> parents;
    for (const auto& d : devices) {
        names.push_back(d.name);
        std::optional<std::string> parent;
        if (d.name != "computer") {
            try {
                parent = c->call<op::node_device_get_parent>({d});
            } catch (const virtpp::error&) {
                sh.reset_last_error();
            }
        }
        parents.push_back(std::move(parent));
    }
    print_forest(sh, names, parents);
    return true;
}

bool cmd_nodedev_dumpxml(shell& sh, const parsed_command& cmd) {
    std::optional<std::string> value;
    if (!sh.opt_string(cmd, "device", value)) return false;
    if (cmd.has("xpath")) {
        sh.error("--xpath is not supported by virtpp");
        return false;
    }
    any_connection* c = sh.connection();
    if (c == nullptr) return false;
    if (value->find(',') != std::string::npos) {
        // virNodeDeviceLookupSCSIHostByWWN is not among the library's operations
        const auto words = comma_words(*value);
        if (words.size() != 2) {
            sh.error("Malformed device value '" + *value + "'");
            return false;
        }
        sh.set_pending_error(error_code::no_support,
                             "this function is not supported by the connection driver: virNodeDeviceLookupSCSIHostByWWN");
        sh.error("Could not find matching device '" + *value + "'");
        return false;
    }
    std::optional<node_device_ref> dev;
    try {
        dev = c->call<op::node_device_lookup_by_name>({*value});
    } catch (const virtpp::error&) {
    }
    if (!dev) {
        sh.error("Could not find matching device '" + *value + "'");
        return false;
    }
    std::string xml;
    try {
        xml = c->call<op::node_device_get_xml_desc>({*dev, 0});
    } catch (const virtpp::error&) {
        return false;
    }
    sh.print(xml);
    return true;
}

constexpr handler_entry handlers[] = {
    {"pool-list", cmd_pool_list},       {"pool-info", cmd_pool_info},         {"pool-dumpxml", cmd_pool_dumpxml},
    {"pool-name", cmd_pool_name},       {"pool-uuid", cmd_pool_uuid},         {"vol-create-as", cmd_vol_create_as},
    {"vol-create", cmd_vol_create},     {"vol-delete", cmd_vol_delete},       {"vol-info", cmd_vol_info},
    {"vol-dumpxml", cmd_vol_dumpxml},   {"vol-list", cmd_vol_list},           {"vol-name", cmd_vol_name},
    {"vol-pool", cmd_vol_pool},         {"vol-key", cmd_vol_key},             {"vol-path", cmd_vol_path},
    {"iface-list", cmd_iface_list},     {"iface-dumpxml", cmd_iface_dumpxml}, {"iface-mac", cmd_iface_mac},
    {"iface-name", cmd_iface_name},     {"nodedev-list", cmd_nodedev_list},   {"nodedev-dumpxml", cmd_nodedev_dumpxml},
};

}  // namespace

std::span<const handler_entry> storage_handlers() { return handlers; }

}  // namespace virtpp::cli
