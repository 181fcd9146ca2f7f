// A minimal hypervisor policy for testing the handle and dispatch machinery on its own.
#pragma once

#include <virtpp/connection.hpp>

#include <map>
#include <mutex>

namespace toy {

struct hypervisor {
    static constexpr std::string_view name = "toy";
    struct state {
        std::mutex mutex;
        std::map<std::string, virtpp::domain_ref> domains{{"a", {"a", *virtpp::uuid::parse("00000000000000000000000000000001"), 1}}};
        bool suspended = false;

        std::string perform(virtpp::op::connect_get_type, const virtpp::op::none&) { return "TOY"; }
        std::uint64_t perform(virtpp::op::connect_get_version, const virtpp::op::none&) { return 3; }
        virtpp::domain_ref perform(virtpp::op::domain_lookup_by_name, const virtpp::op::domain_lookup_by_name::args& a) {
            std::lock_guard lock(mutex);
            auto it = domains.find(a.name);
            if (it == domains.end())
                virtpp::raise(virtpp::error_code::no_domain, virtpp::error_domain::test,
                              "no domain with matching name '" + a.name + "'");
            return it->second;
        }
        void perform(virtpp::op::domain_suspend, const virtpp::op::domain_suspend::args&) {
            std::lock_guard lock(mutex);
            suspended = true;
        }
    };
    static bool accepts(const virtpp::uri& u) { return u.driver() == "toy"; }
    static std::shared_ptr<state> open(const virtpp::uri&, unsigned) { return std::make_shared<state>(); }
};

using connection = virtpp::basic_connection<hypervisor>;

}  // namespace toy
