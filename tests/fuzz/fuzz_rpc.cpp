// libFuzzer target: bytes a client might send, fed to the daemon's per-client packet handler in
// memory (no sockets; calls run inline on the test driver). Whatever arrives, the session answers,
// or raises protocol_error (the daemon would close that client) — never crashes, leaks or
// allocates past the protocol limits. Seeds: real client streams captured from virsh
// (tests/fuzz/seeds/rpc/).
#include "daemon/session.hpp"

#include <virtpp/hypervisor/test.hpp>

#include <cstddef>
#include <cstdint>

namespace {

using drivers = virtpp::driver_list<virtpp::driver<virtpp::hypervisor::test>>;

struct memory_host : virtpp::daemon::session_host {
    std::size_t sent_bytes = 0;
    void send(std::vector<std::uint8_t> p) override { sent_bytes += p.size(); }
    void post(std::function<void()> work) override { work(); }
    void close_after_flush() override {}
    void resume_reading() override {}
    void log(int, const std::string&) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static bool quiet = [] {
        virtpp::set_error_handler([](const virtpp::error_info&) {});
        return true;
    }();
    (void)quiet;
    auto host = std::make_shared<memory_host>();
    virtpp::daemon::session_options options;
    options.peer = "fuzz";
    // the first byte picks the socket kind, so the read-only refusals are explored too
    options.read_only_socket = size > 0 && (data[0] & 1U) != 0;
    options.open = [](const std::string& name, unsigned flags) {
        // host files would let the fuzzer read the file system; only the built-in host is served
        if (name.rfind("test:///default", 0) != 0)
            virtpp::raise(virtpp::error_code::no_connect, virtpp::error_domain::none, name);
        return virtpp::any_connection::open<drivers>("test:///default", flags);
    };
    // DOMAIN_CORE_DUMP, DOMAIN_RESTORE, DOMAIN_SAVE name files; the fuzzer must not write or read them
    options.procedure_allowed = [](std::int32_t proc) { return proc != 53 && proc != 54 && proc != 55; };
    auto session = std::make_shared<virtpp::daemon::client_session>(options, host);
    try {
        // in two pieces, so packets split across reads are exercised
        std::size_t half = size / 2;
        session->receive({data, half});
        session->receive({data + half, size - half});
    } catch (const virtpp::daemon::protocol_error&) {
        // the daemon closes such a client
    }
    session->shutdown();
    return 0;
}
