// docs/support-matrix.md is generated from op::all and each driver's policy: this test fails when
// the document and the code disagree. Regenerate with VIRTPP_UPDATE_SUPPORT_MATRIX=1.
#include <virtpp/concepts.hpp>
#include <virtpp/hypervisor/qemu.hpp>
#include <virtpp/hypervisor/remote.hpp>
#include <virtpp/hypervisor/test.hpp>
#include <virtpp/hypervisor/xen.hpp>
#include <virtpp/ops.hpp>
#include <virtpp/transport/local.hpp>
#include <virtpp/transport/remote.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace {

struct column {
    std::string_view title;
    std::string_view note;
};

template <class... Hs>
struct drivers {};

template <class Op, class... Hs>
std::string row(drivers<Hs...>) {
    std::string line = "| `" + std::string(Op::name) + "` | " + (Op::mutates ? "yes" : "no") + " |";
    ((line += virtpp::supports<Hs, Op> ? " yes |" : " NO_SUPPORT |"), ...);
    return line;
}

template <class... Ops, class D>
std::string rows(std::tuple<Ops...>, D d) {
    std::string out;
    ((out += row<Ops>(d) + "\n"), ...);
    return out;
}

template <class H, class T>
constexpr bool publishes = requires(typename T::template channel<H>& c, virtpp::event_handler h) {
    c.subscribe_events(std::move(h));
};

std::string generate() {
    using compiled = drivers<virtpp::hypervisor::test, virtpp::hypervisor::qemu, virtpp::hypervisor::xen,
                             virtpp::hypervisor::remote>;
    std::ostringstream doc;
    doc << "# Support matrix\n\n"
           "Generated from `op::all` and the driver policies by tests/unit/core/support_matrix_test.cpp; the\n"
           "test fails when this file and the code disagree (regenerate with VIRTPP_UPDATE_SUPPORT_MATRIX=1).\n\n"
           "`yes`: the driver performs the operation. `NO_SUPPORT`: on a statically typed handle the call\n"
           "does not compile; through `any_connection` (and so the CLI and the daemon) it fails with\n"
           "libvirt's VIR_ERR_NO_SUPPORT, \"this function is not supported by the connection driver: <API>\".\n"
           "*Mutates*: refused with VIR_ERR_OPERATION_DENIED on read-only connections.\n\n"
           "*test*: `test:///default` and `test:///path/host.xml`. *qemu*: `qemu:///system` and\n"
           "`qemu:///session` (domain types qemu and kvm); *qemu* carries the virtual network driver\n"
           "(docs/network.md). *xen*: `xen:///`, `http://host:8000/` and xend socket paths; `yes` when\n"
           "some part of the composition (hypercalls, xend, XenStore, xm files) performs it; which parts\n"
           "reach Xen at run time, and what each declines, is docs/xen.md.\n"
           "*remote*: every remote URI (`driver+transport://host/...`, and local URIs of drivers not\n"
           "compiled in) forwards the call to the daemon, which answers with the support of the driver it\n"
           "runs there.\n\n"
           "Within an operation, what a driver refuses is said in its document: the migration steps of\n"
           "*qemu* are a real QMP migration between two drivers, without peer-to-peer, tunnelled (both\n"
           "NO_SUPPORT) or offline (ARGUMENT_UNSUPPORTED) modes (docs/qemu.md); *test* migrates between\n"
           "two test hosts in one process (docs/test-driver.md). Procedures of libvirt's protocol outside\n"
           "this table are answered by virtppd with NO_SUPPORT naming their API (docs/daemon.md).\n\n"
           "| operation | mutates | test | qemu | xen | remote |\n|---|---|---|---|---|---|\n";
    doc << rows(virtpp::op::all{}, compiled{});
    // events are not operations: a driver publishes them when its channel can subscribe
    auto yes = [](bool b) { return b ? " yes |" : " NO_SUPPORT |"; };
    doc << "\n## Events\n\n"
           "`basic_connection::subscribe_events` (virConnectDomainEventRegisterAny,\n"
           "virConnectNetworkEventRegisterAny): which drivers publish events (docs/events.md; *qemu*:\n"
           "its guests' events and its virtual networks' lifecycle events).\n\n"
           "| API | test | qemu | xen | remote |\n|---|---|---|---|---|\n";
    for (std::string_view api : {"virConnectDomainEventRegisterAny", "virConnectNetworkEventRegisterAny"})
        doc << "| `" << api << "` |" << yes(publishes<virtpp::hypervisor::test, virtpp::transport::local>)
            << yes(publishes<virtpp::hypervisor::qemu, virtpp::transport::local>)
            << yes(publishes<virtpp::hypervisor::xen, virtpp::transport::local>)
            << yes(publishes<virtpp::hypervisor::remote, virtpp::transport::remote>) << "\n";
    // streams hand back a virtpp::stream, so they live outside op::all (virtpp/stream.hpp)
    doc << "\nStreams (`virtpp/stream.hpp`: `open_console`, `take_screenshot`; outside `op::all`; console on\n"
           "`<serial>`/`<console>` of type pty, screenshot as PPM; see docs/qemu.md and docs/daemon.md):\n\n"
           "| operation | mutates | test | qemu | xen | remote |\n|---|---|---|---|---|---|\n"
           "| `virDomainOpenConsole` | yes | NO_SUPPORT | yes | NO_SUPPORT | yes |\n"
           "| `virDomainScreenshot` | yes | NO_SUPPORT | yes | NO_SUPPORT | yes |\n";
    return doc.str();
}

TEST(support_matrix, document_matches_the_code) {
    const std::string path = std::string(VIRTPP_SOURCE_DIR) + "/docs/support-matrix.md";
    auto expected = generate();
    if (const char* update = std::getenv("VIRTPP_UPDATE_SUPPORT_MATRIX"); update && *update == '1') {
        std::ofstream(path) << expected;
    }
    std::ifstream in(path);
    std::stringstream actual;
    actual << in.rdbuf();
    EXPECT_EQ(actual.str(), expected) << "docs/support-matrix.md is stale: rerun with VIRTPP_UPDATE_SUPPORT_MATRIX=1";
}

}  // namespace
