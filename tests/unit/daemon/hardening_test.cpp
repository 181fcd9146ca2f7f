// Issue 14's findings against the daemon's session and parsers, each as the exploit and then the
// refusal: test:///PATH from a read-only client, host files that are devices, FIFOs, huge or
// secret; a client pipelining more calls than max_client_requests; nested virConf lists and
// XML elements; unknown libvirtd.conf keys.
#include "daemon/session.hpp"
#include "hypervisor/qemu_monitor.hpp"
#include "xml/tree.hpp"

#include <virtpp/hypervisor/test.hpp>
#include <virtpp/xml/domain.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace virtpp;
namespace xdr = virtpp::rpc::xdr;
using bytes = std::vector<std::uint8_t>;
using drivers = driver_list<driver<hypervisor::test>>;

/// A host whose pool holds the posted calls until the test runs them.
struct holding_host : daemon::session_host {
    std::mutex m;
    std::vector<bytes> sent;
    std::deque<std::function<void()>> pool;
    unsigned resumes = 0;
    std::vector<std::string> lines;
    bool hold = false;
    bool full = false;
    bool output_full() const override { return full; }
    void send(bytes p) override {
        std::lock_guard l(m);
        sent.push_back(std::move(p));
    }
    void post(std::function<void()> work) override {
        if (hold) pool.push_back(std::move(work));
        else work();
    }
    void close_after_flush() override {}
    void resume_reading() override { ++resumes; }
    void log(int, const std::string& line) override {
        std::lock_guard l(m);
        lines.push_back(line);
    }
    void run_one() {
        auto job = std::move(pool.front());
        pool.pop_front();
        job();
    }
};

class Hardening : public ::testing::Test {
protected:
    void SetUp() override {
        set_error_handler([](const error_info&) {});
        dir = std::filesystem::temp_directory_path() / ("virtpp-harden-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
    }
    void TearDown() override {
        session.reset();
        set_error_handler({});
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    void make(bool read_only_socket, unsigned max_client_requests = 5) {
        daemon::session_options o;
        o.read_only_socket = read_only_socket;
        o.max_client_requests = max_client_requests;
        o.peer = "test";
        o.open = [](const std::string& name, unsigned flags) { return any_connection::open<drivers>(name, flags); };
        session = std::make_shared<daemon::client_session>(o, host);
    }
    template <class Body>
    static bytes call(std::int32_t proc, std::uint32_t serial, const Body& body) {
        rpc::header h;
        h.proc = proc;
        h.serial = serial;
        return rpc::frame_body(h, body);
    }
    static rpc::header header_of(const bytes& reply) { return rpc::decode_header(std::span<const std::uint8_t>(reply).subspan(4)); }
    /// Opens NAME; the error the daemon answered, or none.
    std::optional<rpc::remote_error> open(const std::string& name, unsigned flags = 0) {
        host->sent.clear();
        session->receive(call(1, 1, rpc::session::open_args{name, flags}));
        EXPECT_EQ(host->sent.size(), 1U);
        if (host->sent.empty()) return rpc::remote_error{};
        auto& r = host->sent.back();
        if (header_of(r).status == rpc::message_status::ok) return std::nullopt;
        return rpc::xdr::from_bytes<rpc::remote_error>(std::span<const std::uint8_t>(r).subspan(28));
    }
    std::string write_file(const std::string& name, const std::string& text) {
        auto p = (dir / name).string();
        std::ofstream(p) << text;
        return p;
    }

    std::filesystem::path dir;
    std::shared_ptr<holding_host> host = std::make_shared<holding_host>();
    std::shared_ptr<daemon::client_session> session;
};

constexpr std::string_view secret = "root:$y$j9T$notreally:19000:0:99999:7:::";

TEST_F(Hardening, ReadOnlyClientsMayNotOpenAHostFile) {
    auto path = write_file("shadow", std::string(secret) + "\n");
    // the exploit: an unprivileged client on the read-only socket names a file only the daemon may read
    make(true);
    auto e = open("test://" + path);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, static_cast<int>(error_code::access_denied));
    EXPECT_EQ(e->message.value_or(""), "access denied: a read-only connection may not open a test driver host file");
    EXPECT_FALSE(session->is_open());
    // also when it asks for read-only itself on the read-write socket
    make(false);
    e = open("test://" + path, open_flags::read_only);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, static_cast<int>(error_code::access_denied));
    // test:///default stays open to everyone
    make(true);
    EXPECT_FALSE(open("test:///default"));
}

TEST_F(Hardening, HostFileErrorsNeverEchoTheFile) {
    auto path = write_file("shadow", std::string(secret) + "\nsecond line\n");
    make(false);
    auto e = open("test://" + path);
    ASSERT_TRUE(e);
    auto msg = e->message.value_or("");
    EXPECT_EQ(msg.find("root"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("notreally"), std::string::npos) << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    // a well-formed file that is not a host: the parser's quotes of it do not come back either
    auto xml = write_file("tagged", "<secret-tag attr='x'>text</wrong-tag>");
    e = open("test://" + xml);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message.value_or("").find("secret-tag"), std::string::npos) << e->message.value_or("");
}

TEST_F(Hardening, HostFilesAreRegularFilesWithinTheCap) {
    make(false);
    auto started = std::chrono::steady_clock::now();
    // /dev/zero was slurped without end; a FIFO held a worker forever
    auto e = open("test:///dev/zero");
    ASSERT_TRUE(e);
    EXPECT_NE(e->message.value_or("").find("not a regular file"), std::string::npos) << e->message.value_or("");
    auto fifo = (dir / "fifo").string();
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    e = open("test://" + fifo);
    ASSERT_TRUE(e);
    EXPECT_NE(e->message.value_or("").find("not a regular file"), std::string::npos);
    e = open("test://" + dir.string());
    ASSERT_TRUE(e);
    // a sparse file over the cap is refused before it is read
    auto big = (dir / "big.xml").string();
    {
        int fd = ::open(big.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::ftruncate(fd, 1LL << 32), 0);
        ::close(fd);
    }
    e = open("test://" + big);
    ASSERT_TRUE(e);
    EXPECT_NE(e->message.value_or("").find("larger than"), std::string::npos) << e->message.value_or("");
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    // a real host file still opens
    auto node = write_file("node.xml", "<node><cpu><mhz>2000</mhz></cpu></node>");
    EXPECT_FALSE(open("test://" + node));
}

TEST_F(Hardening, ImagesAreNeverFifosOrDevices) {
    // the test driver answers on the daemon's reading thread: a FIFO would stop every client
    make(false);
    ASSERT_FALSE(open("test:///default"));
    auto fifo = (dir / "image").string();
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // with a reader, a blocking open would succeed
    ASSERT_GE(reader, 0);
    auto started = std::chrono::steady_clock::now();
    auto error_of = [&](const bytes& packet) {
        host->sent.clear();
        session->receive(packet);
        EXPECT_EQ(host->sent.size(), 1U);
        if (host->sent.empty()) return std::string();
        EXPECT_EQ(header_of(host->sent.back()).status, rpc::message_status::error);
        return rpc::xdr::from_bytes<rpc::remote_error>(std::span<const std::uint8_t>(host->sent.back()).subspan(28)).message.value_or("");
    };
    domain_ref dom{"test", {}, -1};
    host->sent.clear();
    session->receive(call(23, 2, op::domain_lookup_by_name::args{"test"}));
    ASSERT_EQ(host->sent.size(), 1U);
    dom = rpc::xdr::from_bytes<domain_ref>(std::span<const std::uint8_t>(host->sent.back()).subspan(28));
    EXPECT_NE(error_of(call(55, 3, op::domain_save::args{dom, fifo})).find("not a regular file"), std::string::npos);
    EXPECT_NE(error_of(call(53, 4, op::domain_core_dump::args{dom, fifo, 0})).find("not a regular file"), std::string::npos);
    EXPECT_NE(error_of(call(54, 5, op::domain_restore::args{fifo})).find("not a regular file"), std::string::npos);
    EXPECT_NE(error_of(call(54, 6, op::domain_restore::args{"/dev/zero"})).find("not a regular file"), std::string::npos);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    ::close(reader);
}

TEST_F(Hardening, PipelinedCallsStopTheReadingAtTheLimit) {
    make(false, 2);
    ASSERT_FALSE(open("test:///default?virtpp_delay_ms=1"));  // calls that may sleep go to the pool
    host->hold = true;
    host->sent.clear();
    // the exploit: many calls in one write, none answered yet
    bytes burst;
    for (std::uint32_t serial = 10; serial < 60; ++serial) {
        auto p = call(66, serial, xdr::none{});
        burst.insert(burst.end(), p.begin(), p.end());
    }
    EXPECT_FALSE(session->receive(burst));  // reading pauses
    EXPECT_EQ(host->pool.size(), 2U);                 // max_client_requests running
    EXPECT_EQ(session->calls_in_flight(), 4U);        // and as many waiting; the rest is held unframed
    EXPECT_LE(session->buffered_bytes(), burst.size());
    // the calls finish: reading resumes and the held calls run, never more at once
    unsigned answered = 0;
    while (!host->pool.empty() || !session->receive({})) {
        ASSERT_FALSE(host->pool.empty());
        host->run_one();
        ++answered;
        EXPECT_LE(session->calls_in_flight(), 4U);
    }
    while (!host->pool.empty()) {
        host->run_one();
        ++answered;
    }
    EXPECT_EQ(answered, 50U);
    EXPECT_EQ(host->sent.size(), 50U);
    EXPECT_GT(host->resumes, 0U);
    EXPECT_LE(session->buffered_bytes(), 4096U);  // an idle client keeps at most 4 KiB
}

TEST_F(Hardening, AClientThatDoesNotReadItsRepliesIsNotRead) {
    make(false);
    ASSERT_FALSE(open("test:///default"));  // the test driver answers on the reading thread
    host->sent.clear();
    bytes burst;
    for (std::uint32_t serial = 10; serial < 1010; ++serial) {
        auto p = call(66, serial, xdr::none{});
        burst.insert(burst.end(), p.begin(), p.end());
    }
    // the exploit: replies pile up unread; the session stops taking calls as soon as the host says so
    host->full = true;
    EXPECT_FALSE(session->receive(burst));
    EXPECT_TRUE(host->sent.empty());
    EXPECT_TRUE(session->holds_input());
    // the client reads again: the held calls run
    host->full = false;
    EXPECT_TRUE(session->receive({}));
    EXPECT_EQ(host->sent.size(), 1000U);
    EXPECT_FALSE(session->holds_input());
}

TEST_F(Hardening, AnIdleClientKeepsAtMostFourKiB) {
    make(false);
    ASSERT_FALSE(open("test:///default"));
    // a big call passes through; the buffer it needed is not kept
    std::string big_xml(200000, ' ');
    auto packet = call(11, 3, rpc::wire::xml_only{"<domain>" + big_xml});
    EXPECT_TRUE(session->receive(packet));
    ASSERT_EQ(host->sent.size(), 2U);
    EXPECT_EQ(header_of(host->sent.back()).serial, 3U);
    EXPECT_LE(session->buffered_bytes(), 4096U);
}

TEST_F(Hardening, NestedConfListsAreAnErrorNotACrash) {
    std::string deep = "tls_allowed_dn_list = " + std::string(200000, '[');
    try {
        (void)daemon::parse_conf(deep, "libvirtd.conf");
        FAIL() << "parsed";
    } catch (const daemon::config_error& e) {
        EXPECT_NE(std::string(e.what()).find("libvirtd.conf:1: lists nested deeper than 16 levels"), std::string::npos) << e.what();
    }
    std::string ok = "x = " + std::string(16, '[') + std::string(16, ']');
    EXPECT_NO_THROW((void)daemon::parse_conf(ok, "libvirtd.conf"));
}

TEST_F(Hardening, UnknownConfKeysAreIgnoredWithAWarningAsLibvirtdIgnoresThem) {
    auto cfg = daemon::read_config("max_clients = 7\nno_such_key = [ \"a\" ]\n", "l.conf");
    EXPECT_EQ(cfg.max_clients, 7U);
    ASSERT_EQ(cfg.warnings.size(), 1U);
    EXPECT_EQ(cfg.warnings[0], "l.conf:2: unknown setting 'no_such_key' ignored");
    // a known key with the wrong type is still fatal, as in libvirtd
    EXPECT_THROW((void)daemon::read_config("max_clients = \"x\"\n", "l.conf"), daemon::config_error);
    auto limits = daemon::read_config("max_anonymous_clients = 3\nmax_queued_clients = 9\nhandshake_timeout = 2\n", "l.conf");
    EXPECT_EQ(limits.max_anonymous_clients, 3U);
    EXPECT_EQ(limits.max_queued_clients, 9U);
    EXPECT_EQ(limits.handshake_timeout, 2);
    daemon::daemon_config defaults;
    EXPECT_EQ(defaults.max_clients, 5000U);  // libvirtd 9.0's defaults
    EXPECT_EQ(defaults.max_anonymous_clients, 20U);
    EXPECT_EQ(defaults.max_queued_clients, 1000U);
    EXPECT_EQ(defaults.max_client_requests, 5U);
}

TEST_F(Hardening, DeepXmlIsRefusedWithLibxmlsMessage) {
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += "<a>";
    try {
        (void)xml::detail::parse_document(deep, "(domain_definition)", error_domain::domain);
        FAIL() << "parsed";
    } catch (const error& e) {
        EXPECT_EQ(e.info().code, error_code::xml_detail);
        EXPECT_NE(e.info().message.find("Excessive depth in document: 256"), std::string::npos) << e.info().message;
    }
    try {
        (void)xml::parse_domain_xml("<domain type='test'>" + deep);
        FAIL() << "parsed";
    } catch (const error& e) {
        EXPECT_NE(e.info().message.find("Excessive depth"), std::string::npos) << e.info().message;
    }
    std::string fine;
    for (int i = 0; i < 200; ++i) fine += "<a>";
    for (int i = 0; i < 200; ++i) fine += "</a>";
    EXPECT_NO_THROW((void)xml::detail::parse_document(fine, "(x)"));
}

TEST_F(Hardening, DeepQmpJsonIsRefusedWithAClearError) {
    namespace qd = hypervisor::qemu_detail;
    std::string deep = "{\"return\": " + std::string(100000, '[');
    try {
        (void)qd::parse_qmp_line(deep);
        FAIL() << "parsed";
    } catch (const error& e) {
        EXPECT_EQ(e.info().code, error_code::internal_error);
        EXPECT_NE(e.info().message.find("nested deeper than 64 levels"), std::string::npos) << e.info().message;
    }
    EXPECT_THROW((void)qd::parse_qmp_line("{\"return\": "), error);
    EXPECT_EQ(qd::parse_qmp_line("{\"return\": {}}").as_object().size(), 1U);
}

}  // namespace
