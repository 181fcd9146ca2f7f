// Must NOT compile: xend alone cannot list a domain's vcpus (only the hypercalls part does), so a
// driver composed of xend alone has no domain_get_vcpus. The full hypervisor::xen has it.
#include <virtpp/connection.hpp>
#include <virtpp/hypervisor/xen.hpp>

int main() {
    using xend_only = virtpp::hypervisor::xen_of<virtpp::xen::xend>;
    auto conn = virtpp::basic_connection<xend_only>::open("http://127.0.0.1:8000/");
    (void)conn.lookup_domain_by_name("guest").vcpus();
}
