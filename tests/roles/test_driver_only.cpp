// A consumer of the test driver alone, linked against virtpp::driver_test (and what it needs:
// network, core): tests/scripts/library_roles.sh checks that no Asio, TLS, QEMU, Xen, client or
// daemon code ends up in it.
#include <virtpp/connection.hpp>
#include <virtpp/hypervisor/test.hpp>

#include <cstdio>

int main() {
    auto conn = virtpp::basic_connection<virtpp::hypervisor::test>::open("test:///default");
    auto dom = conn.lookup_domain_by_name("test");
    auto info = dom.info();
    std::printf("%s %u vCPU\n", dom.name().c_str(), info.vcpus);
    return info.vcpus == 2 ? 0 : 1;
}
