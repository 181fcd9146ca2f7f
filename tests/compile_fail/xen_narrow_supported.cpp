// The control case: a Xen driver composed of xend alone compiles the calls xend provides.
#include <virtpp/connection.hpp>
#include <virtpp/hypervisor/xen.hpp>

int main() {
    using xend_only = virtpp::hypervisor::xen_of<virtpp::xen::xend>;
    auto conn = virtpp::basic_connection<xend_only>::open("http://127.0.0.1:8000/");
    conn.lookup_domain_by_name("guest").suspend();
}
