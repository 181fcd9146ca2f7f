// Shared driver infrastructure: the registry of a driver's domains (or networks), as libvirt's
// virDomainObjList — one list in definition order, hashed by name, UUID and (for running domains)
// ID, so every lookup and define's clash check costs the same at 10 or 100,000 objects — and the
// one filter of virConnectListAllDomains' flags every driver applies.
//
// The registry holds no lock: the driver's own lock guards it (the test driver's shared_mutex,
// the QEMU driver's mutex), as it guards the objects' fields the keys come from.
//
// An object type gives its keys through the accessors both drivers' objects have:
//   obj.current().name, *obj.current().uuid  (every object)
//   obj.id()                                 (domains: -1 while inactive)
#pragma once

#include <virtpp/types.hpp>
#include <virtpp/uuid.hpp>

#include <concepts>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace virtpp::hypervisor::detail {

/// Hashes std::string and std::string_view alike, so a lookup by a string_view allocates nothing.
struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

/// What virConnectListAllDomains' filter looks at in one domain.
struct domain_list_facts {
    bool active = false;
    bool persistent = false;
    bool managed_save = false;
    bool autostart = false;
    bool has_snapshot = false;
    bool has_checkpoint = false;
    domain_state state = domain_state::shutoff;
};

/// virDomainObjListFilter: true when a domain with these facts passes the list_flags in `flags`.
/// Each yes/no pair filters only when one of the two is set (both set: no filter); the state
/// flags (running, paused, shutoff, other) pass a domain in any of the states asked for.
[[nodiscard]] constexpr bool matches_list_flags(unsigned flags, const domain_list_facts& d) noexcept {
    auto pick = [flags](unsigned yes, unsigned no, bool value) {
        unsigned asked = flags & (yes | no);
        if (asked == 0 || asked == (yes | no)) return true;
        return (flags & yes) != 0 ? value : !value;
    };
    constexpr unsigned has_checkpoint = 1U << 14, no_checkpoint = 1U << 15;  // VIR_CONNECT_LIST_DOMAINS_*_CHECKPOINT
    if (!pick(list_flags::active, list_flags::inactive, d.active)) return false;
    if (!pick(list_flags::persistent, list_flags::transient, d.persistent)) return false;
    if (!pick(list_flags::managedsave, list_flags::no_managedsave, d.managed_save)) return false;
    if (!pick(list_flags::autostart, list_flags::no_autostart, d.autostart)) return false;
    if (!pick(list_flags::has_snapshot, list_flags::no_snapshot, d.has_snapshot)) return false;
    if (!pick(has_checkpoint, no_checkpoint, d.has_checkpoint)) return false;
    constexpr unsigned state_flags = list_flags::running | list_flags::paused | list_flags::shutoff | list_flags::other;
    if ((flags & state_flags) == 0) return true;
    bool running = d.state == domain_state::running, paused = d.state == domain_state::paused,
         shutoff = d.state == domain_state::shutoff;
    return ((flags & list_flags::running) != 0 && running) || ((flags & list_flags::paused) != 0 && paused) ||
           ((flags & list_flags::shutoff) != 0 && shutoff) ||
           ((flags & list_flags::other) != 0 && !running && !paused && !shutoff);
}

/// Objects that have a runtime ID (domains; networks have none).
template <class Obj>
concept has_runtime_id = requires(const Obj& o) {
    { o.id() } -> std::convertible_to<int>;
};

/// The objects of one driver, owned through `Owner` (std::unique_ptr or std::shared_ptr), in the
/// order they were added, with O(1) lookup by name, UUID and ID.
template <class Obj, class Owner = std::unique_ptr<Obj>>
class object_registry {
    struct entry {
        Owner obj;
        std::string name;  ///< the keys as indexed, so removal finds them even if the object changed
        virtpp::uuid uuid;
        int id = -1;
    };
    using list_type = std::list<entry>;
    using position = typename list_type::iterator;

public:
    /// What a lookup gives: the shared_ptr itself when ownership is shared, else a plain pointer.
    using handle = std::conditional_t<std::is_copy_constructible_v<Owner>, Owner, Obj*>;

    object_registry() = default;
    object_registry(const object_registry&) = delete;
    object_registry& operator=(const object_registry&) = delete;

    [[nodiscard]] std::size_t size() const noexcept { return order_.size(); }
    [[nodiscard]] bool empty() const noexcept { return order_.empty(); }

    [[nodiscard]] handle find_by_name(std::string_view name) const {
        auto it = by_name_.find(name);
        return it == by_name_.end() ? handle{} : to_handle(*it->second);
    }
    [[nodiscard]] handle find_by_uuid(const virtpp::uuid& id) const {
        auto it = by_uuid_.find(id);
        return it == by_uuid_.end() ? handle{} : to_handle(*it->second);
    }
    /// The running domain with this ID (an object that stopped since it was indexed is not it).
    [[nodiscard]] handle find_by_id(int id) const
        requires has_runtime_id<Obj>
    {
        auto it = by_id_.find(id);
        if (it == by_id_.end() || it->second->obj->id() != id) return handle{};
        return to_handle(*it->second);
    }

    /// Adds an object under its current name and UUID (and ID, if running). The caller has checked
    /// that neither is taken (the drivers' clash checks report that with libvirt's messages); a
    /// duplicate here is a driver bug, refused with std::logic_error rather than indexed twice.
    Obj& add(Owner obj) {
        std::string name = obj->current().name;
        virtpp::uuid id = *obj->current().uuid;
        if (by_name_.contains(name) || by_uuid_.contains(id))
            throw std::logic_error("object_registry: '" + name + "' is already registered");
        auto pos = order_.insert(order_.end(), entry{std::move(obj), std::move(name), id, -1});
        try {
            by_name_.emplace(pos->name, pos);
            by_uuid_.emplace(pos->uuid, pos);
        } catch (...) {
            by_name_.erase(pos->name);
            order_.erase(pos);
            throw;
        }
        if constexpr (has_runtime_id<Obj>) note_id(*pos->obj);
        return *pos->obj;
    }

    /// Removes an object (no-op when it is not registered). References to it end here.
    void remove(const Obj& obj) {
        auto it = by_uuid_.find(*obj.current().uuid);
        if (it == by_uuid_.end() || &*it->second->obj != &obj) return;
        position pos = it->second;
        by_uuid_.erase(it);
        by_name_.erase(pos->name);
        if (pos->id >= 0) by_id_.erase(pos->id);
        order_.erase(pos);
    }

    /// Re-reads the object's ID after it started or stopped, so find_by_id follows it.
    void note_id(const Obj& obj)
        requires has_runtime_id<Obj>
    {
        auto it = by_uuid_.find(*obj.current().uuid);
        if (it == by_uuid_.end() || &*it->second->obj != &obj) return;
        position pos = it->second;
        int now = obj.id();
        if (pos->id == now) return;
        if (pos->id >= 0) {
            auto old = by_id_.find(pos->id);
            if (old != by_id_.end() && old->second == pos) by_id_.erase(old);
        }
        pos->id = -1;
        if (now >= 0) {
            by_id_.insert_or_assign(now, pos);
            pos->id = now;
        }
    }

    /// A range over the registry in the order objects were added: Obj& (Owners false) or
    /// const Owner& (true). Hand-written rather than a std::views::transform, which clang 14
    /// cannot compile with libstdc++ 12.
    template <bool Owners>
    class view {
    public:
        class iterator {
        public:
            using difference_type = std::ptrdiff_t;
            using value_type = std::conditional_t<Owners, Owner, Obj>;
            using reference = std::conditional_t<Owners, const Owner&, Obj&>;
            iterator() = default;
            explicit iterator(typename list_type::const_iterator at) : at_(at) {}
            reference operator*() const {
                if constexpr (Owners) return at_->obj;
                else return *at_->obj;
            }
            iterator& operator++() {
                ++at_;
                return *this;
            }
            iterator operator++(int) {
                iterator before = *this;
                ++at_;
                return before;
            }
            friend bool operator==(const iterator&, const iterator&) = default;

        private:
            typename list_type::const_iterator at_;
        };
        explicit view(const list_type& list) : list_(&list) {}
        [[nodiscard]] iterator begin() const { return iterator(list_->begin()); }
        [[nodiscard]] iterator end() const { return iterator(list_->end()); }

    private:
        const list_type* list_;
    };

    /// The objects in the order they were added (Obj&), for listing.
    [[nodiscard]] view<false> objects() const { return view<false>(order_); }
    /// The owners (const Owner&), for callers that keep objects beyond the lock (shared_ptr).
    [[nodiscard]] view<true> owners() const { return view<true>(order_); }

    /// How many objects satisfy pred(const Obj&).
    template <class Pred>
    [[nodiscard]] std::size_t count_if(Pred pred) const {
        std::size_t n = 0;
        for (const auto& e : order_)
            if (pred(std::as_const(*e.obj))) ++n;
        return n;
    }

private:
    static handle to_handle(const entry& e) {
        if constexpr (std::is_copy_constructible_v<Owner>) return e.obj;
        else return e.obj.get();
    }

    list_type order_;
    std::unordered_map<std::string_view, position, name_hash, std::equal_to<>> by_name_;  ///< views into entry::name
    std::unordered_map<virtpp::uuid, position> by_uuid_;
    std::unordered_map<int, position> by_id_;
};

}  // namespace virtpp::hypervisor::detail
