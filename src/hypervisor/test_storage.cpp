// hypervisor::test: storage pools and volumes as libvirt 9.0's test driver keeps them. The
// built-in host has one running 'dir' pool, default-pool; volumes created in it are bookkeeping
// only (a capacity, an allocation charged to the pool, a path under the pool's target), never
// files. Messages and codes are the test driver's.
#include "hypervisor/test_detail.hpp"
#include "xml/tree.hpp"

#include <virtpp/error.hpp>

#include <algorithm>
#include <cctype>
#include <limits>
#include <mutex>

namespace virtpp::hypervisor {

using test_detail::storage_pool_obj;
using test_detail::volume_obj;

namespace {
using read_lock = std::shared_lock<std::shared_mutex>;
using write_lock = std::unique_lock<std::shared_mutex>;

[[noreturn]] void no_pool(std::string_view how, std::string_view what) {
    raise(error_code::no_storage_pool, error_domain::test,
          "no storage pool with matching " + std::string(how) + " '" + std::string(what) + "'");
}
[[noreturn]] void no_vol(std::string_view how, std::string_view what) {
    raise(error_code::no_storage_vol, error_domain::test,
          "no storage vol with matching " + std::string(how) + " '" + std::string(what) + "'");
}

storage_pool_obj& pool_named(std::vector<storage_pool_obj>& pools, std::string_view name) {
    for (auto& p : pools)
        if (p.name == name) return p;
    no_pool("name", name);
}

volume_obj& vol_named(storage_pool_obj& pool, std::string_view name) {
    for (auto& v : pool.volumes)
        if (v.name == name) return v;
    no_vol("name", name);
}

volume_obj& vol_of(std::vector<storage_pool_obj>& pools, const storage_vol_ref& ref) {
    return vol_named(pool_named(pools, ref.pool), ref.name);
}

storage_vol_ref vol_ref(const storage_pool_obj& pool, const volume_obj& v) { return {pool.name, v.name, v.path}; }

/// virScaleInteger for storage sizes (its errors are in no domain, as libvirt's util code reports them): no unit is bytes; k, M, G, T, P, E (optionally "iB") are
/// powers of 1024, "KB", "MB"... powers of 1000.
std::uint64_t scaled_size(const xml::detail::element& e, std::string_view what) {
    auto text = e.trimmed_text();
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
        raise(error_code::xml_error, error_domain::storage, "malformed " + std::string(what) + " element");
    std::uint64_t value = 0;
    for (char c : text) {
        if (value > (std::numeric_limits<std::uint64_t>::max() - 9) / 10)
            raise(error_code::xml_error, error_domain::storage, "malformed " + std::string(what) + " element");
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    std::string unit;
    if (const auto* u = e.attr("unit"))
        for (char c : *u) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::uint64_t scale = 1;
    if (!unit.empty() && unit != "b" && unit != "byte" && unit != "bytes") {
        static constexpr std::string_view prefixes = "kmgtpe";
        auto power = prefixes.find(unit[0]);
        std::uint64_t base = 0;
        if (unit.size() == 1 || unit.substr(1) == "ib")
            base = 1024;
        else if (unit.substr(1) == "b")
            base = 1000;
        if (power == std::string_view::npos || base == 0)
            raise(error_code::invalid_arg, error_domain::none, "unknown suffix '" + *e.attr("unit") + "'");
        for (std::size_t i = 0; i <= power; ++i) scale *= base;
    }
    if (value > std::numeric_limits<std::uint64_t>::max() / scale)
        raise(error_code::overflow, error_domain::none, "value too large: " + text + *e.attr("unit"));
    return value * scale;
}

struct volume_request {
    std::string name;
    std::string type = "file";  ///< checked; a 'dir' pool's volumes are files whatever it says, as in libvirt's test driver
    std::uint64_t capacity = 0;
    std::uint64_t allocation = 0;
    std::string format = "raw";
};

/// virStorageVolDefParseString for a 'dir' pool: name and capacity required, allocation defaults
/// to the capacity, an optional <target><format type=.../>.
volume_request parse_volume(std::string_view text) {
    auto root = xml::detail::parse_document(text, "(storage_volume_definition)", error_domain::storage);
    if (root.name != "volume")
        raise(error_code::xml_error, error_domain::xml, "expecting root element of 'volume', not '" + root.name + "'");
    volume_request v;
    if (const auto* type = root.attr("type")) {
        static constexpr std::string_view known[] = {"file", "block", "dir", "network", "netdir", "ploop"};
        if (std::find(std::begin(known), std::end(known), *type) == std::end(known))
            raise(error_code::xml_error, error_domain::storage, "unknown volume type '" + *type + "'");
        v.type = *type;
    }
    const auto* name = root.child("name");
    if (name == nullptr || name->trimmed_text().empty())
        raise(error_code::xml_error, error_domain::storage, "missing volume name element");
    v.name = name->trimmed_text();
    if (v.name.find('/') != std::string::npos)
        raise(error_code::xml_error, error_domain::storage, "volume name '" + v.name + "' cannot contain '/'");
    const auto* capacity = root.child("capacity");
    if (capacity == nullptr) raise(error_code::xml_error, error_domain::storage, "missing capacity element");
    v.capacity = scaled_size(*capacity, "capacity");
    const auto* allocation = root.child("allocation");
    v.allocation = allocation ? scaled_size(*allocation, "allocation") : v.capacity;
    if (const auto* target = root.child("target"))
        if (const auto* format = target->child("format"))
            if (const auto* type = format->attr("type")) v.format = *type;
    return v;
}

std::string pool_xml(const storage_pool_obj& p) {
    auto alloc = p.allocation();
    std::string out = "<pool type='" + p.type + "'>\n";
    out += "  " + xml::detail::leaf_text("name", p.name) + "\n";
    out += "  <uuid>" + p.uuid.str() + "</uuid>\n";
    out += "  <capacity unit='bytes'>" + std::to_string(p.capacity) + "</capacity>\n";
    out += "  <allocation unit='bytes'>" + std::to_string(alloc) + "</allocation>\n";
    out += "  <available unit='bytes'>" + std::to_string(p.capacity - alloc) + "</available>\n";
    out += "  <source>\n  </source>\n";
    out += "  <target>\n    " + xml::detail::leaf_text("path", p.target_path) + "\n  </target>\n";
    out += "</pool>\n";
    return out;
}

std::string volume_xml(const volume_obj& v) {
    std::string out = "<volume type='file'>\n";
    out += "  " + xml::detail::leaf_text("name", v.name) + "\n";
    out += "  " + xml::detail::leaf_text("key", v.path) + "\n";
    out += "  <capacity unit='bytes'>" + std::to_string(v.capacity) + "</capacity>\n";
    out += "  <allocation unit='bytes'>" + std::to_string(v.allocation) + "</allocation>\n";
    out += "  <target>\n    " + xml::detail::leaf_text("path", v.path) + "\n";
    out += "    <format" + xml::detail::attr_text("type", v.format) + "/>\n  </target>\n";
    out += "</volume>\n";
    return out;
}

/// VIR_CONNECT_LIST_STORAGE_POOLS_*: state, persistence, autostart, then one bit a pool type.
namespace pool_list {
inline constexpr unsigned inactive = 1U << 0, active = 1U << 1, persistent = 1U << 2, transient = 1U << 3,
                          autostart = 1U << 4, no_autostart = 1U << 5, dir = 1U << 6, all = 0xfffffU;
}
}  // namespace

std::vector<storage_pool_ref> test::state::perform(op::connect_list_all_storage_pools,
                                                   const op::connect_list_all_storage_pools::args& a) {
    pause();
    test_detail::check_flags(a.flags, pool_list::all, "testConnectListAllStoragePools");
    auto pick = [&](unsigned yes, unsigned no, bool value) {
        if ((a.flags & (yes | no)) == 0 || (a.flags & (yes | no)) == (yes | no)) return true;
        return (a.flags & yes) ? value : !value;
    };
    unsigned type_bits = a.flags & pool_list::all & ~(pool_list::dir - 1);
    read_lock lock(impl_->mutex);
    std::vector<storage_pool_ref> out;
    for (const auto& p : impl_->pools) {
        if (!pick(pool_list::active, pool_list::inactive, p.active)) continue;
        if (!pick(pool_list::persistent, pool_list::transient, p.persistent)) continue;
        if (!pick(pool_list::autostart, pool_list::no_autostart, p.autostart)) continue;
        if (type_bits != 0 && (type_bits & pool_list::dir) == 0) continue;  // every pool here is 'dir'
        out.push_back(p.ref());
    }
    return out;
}

storage_pool_ref test::state::perform(op::storage_pool_lookup_by_name, const op::storage_pool_lookup_by_name::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return pool_named(impl_->pools, a.name).ref();
}
storage_pool_ref test::state::perform(op::storage_pool_lookup_by_uuid, const op::storage_pool_lookup_by_uuid::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    for (const auto& p : impl_->pools)
        if (p.uuid == a.uuid) return p.ref();
    no_pool("uuid", a.uuid.str());
}
storage_pool_ref test::state::perform(op::storage_pool_lookup_by_volume, const op::storage_pool_lookup_by_volume::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    for (const auto& p : impl_->pools)
        if (p.name == a.vol.pool) return p.ref();
    no_pool("name", a.vol.pool);
}
storage_pool_info test::state::perform(op::storage_pool_get_info, const op::storage_pool_get_info::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    const auto& p = pool_named(impl_->pools, a.pool.name);
    auto alloc = p.allocation();
    return {p.active ? 2 : 0, p.capacity, alloc, p.capacity - alloc};
}
std::string test::state::perform(op::storage_pool_get_xml_desc, const op::storage_pool_get_xml_desc::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testStoragePoolGetXMLDesc");
    read_lock lock(impl_->mutex);
    return pool_xml(pool_named(impl_->pools, a.pool.name));
}
bool test::state::perform(op::storage_pool_get_autostart, const op::storage_pool_get_autostart::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return pool_named(impl_->pools, a.pool.name).autostart;
}
bool test::state::perform(op::storage_pool_is_active, const op::storage_pool_is_active::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return pool_named(impl_->pools, a.pool.name).active;
}
bool test::state::perform(op::storage_pool_is_persistent, const op::storage_pool_is_persistent::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return pool_named(impl_->pools, a.pool.name).persistent;
}
std::vector<storage_vol_ref> test::state::perform(op::storage_pool_list_all_volumes,
                                                  const op::storage_pool_list_all_volumes::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testStoragePoolListAllVolumes");
    read_lock lock(impl_->mutex);
    const auto& p = pool_named(impl_->pools, a.pool.name);
    if (!p.active) raise(error_code::operation_invalid, error_domain::test, "storage pool is not active");
    std::vector<storage_vol_ref> out;
    for (const auto& v : p.volumes) out.push_back(vol_ref(p, v));
    return out;
}

storage_vol_ref test::state::perform(op::storage_vol_create_xml, const op::storage_vol_create_xml::args& a) {
    pause();
    constexpr unsigned validate = 1U << 2;  // VIR_STORAGE_VOL_CREATE_VALIDATE
    test_detail::check_flags(a.flags, validate, "testStorageVolCreateXML");
    if (a.flags & validate)  // virtpp has no schema for volumes (docs/schemas): refused, not skipped
        raise(error_code::argument_unsupported, error_domain::test,
              "validating volume XML against a schema (VIR_STORAGE_VOL_CREATE_VALIDATE) is not implemented by virtpp");
    write_lock lock(impl_->mutex);
    auto& p = pool_named(impl_->pools, a.pool.name);
    if (!p.active)
        raise(error_code::operation_invalid, error_domain::test, "storage pool '" + p.name + "' is not active");
    auto req = parse_volume(a.xml);
    for (const auto& v : p.volumes)
        if (v.name == req.name) raise(error_code::operation_failed, error_domain::test, "storage vol already exists");
    if (req.allocation > p.capacity - p.allocation())
        raise(error_code::internal_error, error_domain::test, "Not enough free space in pool for volume '" + req.name + "'");
    volume_obj v;
    v.name = req.name;
    v.path = p.target_path + "/" + req.name;
    v.capacity = req.capacity;
    v.allocation = req.allocation;
    v.format = req.format;
    p.volumes.push_back(v);
    return vol_ref(p, p.volumes.back());
}
void test::state::perform(op::storage_vol_delete, const op::storage_vol_delete::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testStorageVolDelete");
    write_lock lock(impl_->mutex);
    auto& p = pool_named(impl_->pools, a.vol.pool);
    const auto& v = vol_named(p, a.vol.name);
    p.volumes.erase(p.volumes.begin() + (&v - p.volumes.data()));
}
storage_vol_ref test::state::perform(op::storage_vol_lookup_by_name, const op::storage_vol_lookup_by_name::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    auto& p = pool_named(impl_->pools, a.pool.name);
    if (!p.active)
        raise(error_code::operation_invalid, error_domain::test, "storage pool '" + p.name + "' is not active");
    return vol_ref(p, vol_named(p, a.name));
}
storage_vol_ref test::state::perform(op::storage_vol_lookup_by_key, const op::storage_vol_lookup_by_key::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    for (const auto& p : impl_->pools)
        for (const auto& v : p.volumes)
            if (p.active && v.path == a.key) return vol_ref(p, v);
    no_vol("key", a.key);
}
storage_vol_ref test::state::perform(op::storage_vol_lookup_by_path, const op::storage_vol_lookup_by_path::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    for (const auto& p : impl_->pools)
        for (const auto& v : p.volumes)
            if (p.active && v.path == a.path) return vol_ref(p, v);
    no_vol("path", a.path);
}
storage_vol_info test::state::perform(op::storage_vol_get_info, const op::storage_vol_get_info::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    const auto& v = vol_of(impl_->pools, a.vol);
    return {0, v.capacity, v.allocation};
}
std::string test::state::perform(op::storage_vol_get_xml_desc, const op::storage_vol_get_xml_desc::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testStorageVolGetXMLDesc");
    read_lock lock(impl_->mutex);
    return volume_xml(vol_of(impl_->pools, a.vol));
}
std::string test::state::perform(op::storage_vol_get_path, const op::storage_vol_get_path::args& a) {
    pause();
    read_lock lock(impl_->mutex);
    return vol_of(impl_->pools, a.vol).path;
}

}  // namespace virtpp::hypervisor
