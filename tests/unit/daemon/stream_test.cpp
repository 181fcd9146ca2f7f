// Streams in the daemon, in memory: the pump's VIR_NET_STREAM framing (data, the guest side's end
// as an empty CONTINUE, finish and abort confirmed with an empty OK, a takeover as an ERROR),
// its flow control, the one-session-per-console rule, and the session's handling of stream
// packets and of the stream-opening procedures on a driver without streams.
#include "daemon/session.hpp"
#include "daemon/stream_pump.hpp"

#include <virtpp/hypervisor/test.hpp>
#include <virtpp/rpc/streams.hpp>
#include <virtpp/stream.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <pty.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace virtpp;
using namespace std::chrono_literals;
using bytes = std::vector<std::uint8_t>;

struct memory_host : daemon::session_host {
    std::mutex m;
    std::condition_variable cv;
    std::vector<bytes> sent;
    std::atomic<bool> full{false};
    std::atomic<int> resumed{0};
    void send(bytes p) override {
        std::lock_guard l(m);
        sent.push_back(std::move(p));
        cv.notify_all();
    }
    void post(std::function<void()> work) override { work(); }
    void close_after_flush() override {}
    void resume_reading() override { ++resumed; }
    bool output_full() const override { return full; }
    void log(int, const std::string&) override {}
    /// Waits for the n-th packet (1-based) and returns it.
    bytes wait_packet(std::size_t n) {
        std::unique_lock l(m);
        cv.wait_for(l, 5s, [&] { return sent.size() >= n; });
        return sent.size() >= n ? sent[n - 1] : bytes{};
    }
    std::size_t count() {
        std::lock_guard l(m);
        return sent.size();
    }
};

rpc::header header_of(const bytes& p) { return rpc::decode_header(std::span<const std::uint8_t>(p).subspan(4)); }
std::string body_text(const bytes& p) { return std::string(p.begin() + 28, p.end()); }

/// A socket pair: `guest` is the stream's side (non-blocking, owned by the fd_stream), `far` ours.
struct guest_pair {
    int guest = -1, far = -1;
    guest_pair() {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        guest = fds[0];
        far = fds[1];
        ::fcntl(guest, F_SETFL, O_NONBLOCK);
    }
    ~guest_pair() {
        if (far >= 0) ::close(far);
    }
};

struct PumpTest : ::testing::Test {
    std::shared_ptr<memory_host> host = std::make_shared<memory_host>();
    guest_pair pair;
    std::shared_ptr<streams::fd_stream> st = std::make_shared<streams::fd_stream>(pair.guest);
    std::shared_ptr<daemon::stream_pump> pump = std::make_shared<daemon::stream_pump>(st, 201, 42, host);
    std::atomic<bool> ended{false};
    void start() {
        pump->start([this] { ++drained; }, [this] { ended = true; });
    }
    std::atomic<int> drained{0};
    void TearDown() override { pump->shutdown(); }
};

TEST_F(PumpTest, GuestBytesGoOutAsContinueMessagesOfTheOpeningCall) {
    start();
    ASSERT_EQ(::write(pair.far, "SeaBIOS", 7), 7);
    auto p = host->wait_packet(1);
    ASSERT_FALSE(p.empty());
    auto h = header_of(p);
    EXPECT_EQ(h.prog, rpc::remote_program);
    EXPECT_EQ(h.proc, 201);
    EXPECT_EQ(h.serial, 42U);
    EXPECT_EQ(h.type, rpc::message_type::stream);
    EXPECT_EQ(h.status, rpc::message_status::cont);
    EXPECT_EQ(body_text(p), "SeaBIOS");  // raw bytes, not XDR
}

TEST_F(PumpTest, ClientDataReachesTheGuestAndFinishIsConfirmedWithAnEmptyOk) {
    start();
    const std::uint8_t typed[] = {'l', 's', '\r'};
    EXPECT_TRUE(pump->data(typed));
    char buf[8] = {};
    ASSERT_EQ(::read(pair.far, buf, sizeof buf), 3);
    EXPECT_EQ(std::string(buf, 3), "ls\r");
    pump->finish();
    auto p = host->wait_packet(1);
    ASSERT_FALSE(p.empty());
    EXPECT_EQ(header_of(p).status, rpc::message_status::ok);
    EXPECT_EQ(p.size(), 28U);
    for (int i = 0; i < 100 && !ended; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(ended);
}

TEST_F(PumpTest, TheGuestSidesEndIsAnEmptyContinueNotAnOk) {
    start();
    ::close(pair.far);
    pair.far = -1;
    auto p = host->wait_packet(1);
    ASSERT_FALSE(p.empty());
    // libvirt's client drops the connection on an OK it did not ask for
    EXPECT_EQ(header_of(p).status, rpc::message_status::cont);
    EXPECT_EQ(p.size(), 28U);
    pump->finish();
    EXPECT_EQ(header_of(host->wait_packet(2)).status, rpc::message_status::ok);
}

TEST_F(PumpTest, AbortIsConfirmedWithAnEmptyOk) {
    start();
    pump->abort();
    auto p = host->wait_packet(1);
    ASSERT_FALSE(p.empty());
    EXPECT_EQ(header_of(p).status, rpc::message_status::ok);
    EXPECT_EQ(p.size(), 28U);
}

TEST_F(PumpTest, NothingIsReadWhileTheClientsQueueIsFull) {
    host->full = true;
    start();
    ASSERT_EQ(::write(pair.far, "x", 1), 1);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(host->count(), 0U);
    host->full = false;
    auto p = host->wait_packet(1);
    ASSERT_FALSE(p.empty());
    EXPECT_EQ(body_text(p), "x");
}

TEST_F(PumpTest, ClientDataOverTheLimitPausesTheSessionUntilTheGuestTakesIt) {
    start();
    bytes big(daemon::stream_pump::input_limit / 4, 'a');
    bool more = true;
    std::size_t pushed = 0;
    for (int i = 0; i < 16 && more; ++i, ++pushed) more = pump->data(big);
    EXPECT_FALSE(more);  // the session stops reading the client
    std::thread reader([&] {
        std::vector<char> buf(65536);
        std::size_t total = 0;
        while (total < pushed * big.size()) {
            auto n = ::read(pair.far, buf.data(), buf.size());
            if (n <= 0) break;
            total += static_cast<std::size_t>(n);
        }
    });
    reader.join();
    for (int i = 0; i < 100 && drained == 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(drained, 1);
}

TEST(ConsoleRegistry, OneSessionPerConsoleForceTakesOver) {
    int master = -1, slave = -1;
    char name[256];
    ASSERT_EQ(::openpty(&master, &slave, name, nullptr, nullptr), 0);
    ::close(slave);
    auto first = streams::open_console_pty(name, false);
    try {
        (void)streams::open_console_pty(name, false);
        ADD_FAILURE() << "a second session was allowed";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::operation_failed);
        EXPECT_EQ(e.info().message, "operation failed: Active console session exists for this domain");
    }
    std::atomic<bool> told{false};
    first->on_revoked([&] { told = true; });
    auto second = streams::open_console_pty(name, true);
    EXPECT_TRUE(told);
    EXPECT_TRUE(first->revoked());
    std::uint8_t b[4];
    EXPECT_THROW((void)first->recv(b), error);
    // the guest's output reaches the new session
    ASSERT_EQ(::write(master, "ok", 2), 2);
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(second->recv(b), 2);
    second->finish();
    // a finished session frees the console
    auto third = streams::open_console_pty(name, false);
    third->abort();
    ::close(master);
}

struct StreamSessionTest : ::testing::Test {
    std::shared_ptr<memory_host> host = std::make_shared<memory_host>();
    std::shared_ptr<daemon::client_session> session;
    void SetUp() override {
        set_error_handler([](const error_info&) {});
        daemon::session_options o;
        o.peer = "test";
        o.open = [](const std::string& name, unsigned flags) {
            return any_connection::open<driver_list<driver<hypervisor::test>>>(name, flags);
        };
        session = std::make_shared<daemon::client_session>(o, host);
    }
    void TearDown() override {
        session.reset();
        set_error_handler({});
    }
    template <class Body>
    bytes roundtrip(std::int32_t proc, std::uint32_t serial, const Body& body) {
        rpc::header h;
        h.proc = proc;
        h.serial = serial;
        auto before = host->count();
        session->receive(rpc::frame_body(h, body));
        return host->wait_packet(before + 1);
    }
};

TEST_F(StreamSessionTest, StreamDataNobodyWaitsForIsDropped) {
    rpc::header h;
    h.proc = 201;
    h.serial = 9;
    h.type = rpc::message_type::stream;
    h.status = rpc::message_status::cont;
    const std::uint8_t data[] = {1, 2, 3};
    EXPECT_NO_THROW(session->receive(rpc::frame(h, data)));
    EXPECT_EQ(host->count(), 0U);
}

TEST_F(StreamSessionTest, DriversWithoutStreamsAnswerNoSupportAndReadOnlyIsRefused) {
    auto r = roundtrip(1, 1, rpc::session::open_args{std::string("test:///default"), 0});
    ASSERT_EQ(header_of(r).status, rpc::message_status::ok);
    domain_ref dom{"test", *uuid::parse("6695eb01-f6a4-8304-79aa-97f2502e193f"), 1};
    r = roundtrip(rpc::stream_proc::domain_open_console, 2, rpc::stream_proc::open_console_args{dom, std::nullopt, 0});
    ASSERT_EQ(header_of(r).status, rpc::message_status::error);
    auto e = rpc::xdr::from_bytes<rpc::remote_error>(std::span<const std::uint8_t>(r).subspan(28));
    EXPECT_EQ(e.code, static_cast<int>(error_code::no_support));
    EXPECT_NE(e.message.value_or("").find("virDomainOpenConsole"), std::string::npos);

    session = nullptr;
    SetUp();
    r = roundtrip(1, 1, rpc::session::open_args{std::string("test:///default"), open_flags::read_only});
    ASSERT_EQ(header_of(r).status, rpc::message_status::ok);
    r = roundtrip(rpc::stream_proc::domain_screenshot, 2, rpc::stream_proc::screenshot_args{dom, 0, 0});
    ASSERT_EQ(header_of(r).status, rpc::message_status::error);
    e = rpc::xdr::from_bytes<rpc::remote_error>(std::span<const std::uint8_t>(r).subspan(28));
    EXPECT_EQ(e.code, static_cast<int>(error_code::operation_denied));
    EXPECT_EQ(e.message.value_or(""), "operation forbidden: read only access prevents virDomainScreenshot");
}

}  // namespace
