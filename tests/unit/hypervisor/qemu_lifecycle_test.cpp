// The QEMU driver with real qemu processes (TCG; no OS in the guest): lifecycle, persistence,
// control over QMP, stats, save/restore, error cases and re-attaching to running guests.
#include "unit/hypervisor/qemu_test_support.hpp"

#include <atomic>
#include <csignal>
#include <iostream>
#include <fstream>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace virtpp {
namespace {

using namespace qemu_test;
using hypervisor::qemu_detail::read_file;

class QemuLifecycle : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_qemu()) GTEST_SKIP() << "qemu-system-x86_64 is not installed";
    }
    std::optional<state_dir> dir_{std::in_place};
};

bool process_alive(pid_t pid) { return pid > 0 && ::kill(pid, 0) == 0 && read_file("/proc/" + std::to_string(pid) + "/stat")->find(") Z") == std::string::npos; }

template <class F>
bool eventually(F&& f, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return f();
}

TEST_F(QemuLifecycle, DefineStartSuspendResumeDestroyUndefine) {
    auto conn = connection::open("qemu:///session");
    EXPECT_EQ(conn.call<op::connect_get_type>({}), "QEMU");
    auto dom = conn.define_domain_xml(bare_guest("life1"));
    EXPECT_TRUE(dom.is_persistent());
    EXPECT_FALSE(dom.is_active());
    EXPECT_EQ(conn.list_defined_domains(), std::vector<std::string>{"life1"});
    // the definition is on disk, written with its defaults filled in
    auto saved = read_file(dir_->path() + "/qemu/life1.xml");
    ASSERT_TRUE(saved);
    EXPECT_NE(saved->find("<memballoon model='virtio'"), std::string::npos);
    EXPECT_NE(saved->find("machine='pc-i440fx-"), std::string::npos);

    auto t0 = std::chrono::steady_clock::now();
    dom.create();
    auto started = std::chrono::steady_clock::now() - t0;
    RecordProperty("start_ms", static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(started).count()));
    EXPECT_TRUE(dom.is_active());
    EXPECT_GT(dom.id(), 0);
    EXPECT_EQ(dom.state().state, domain_state::running);
    pid_t pid = conn.state().shared_driver().guest_pid("life1");
    EXPECT_TRUE(process_alive(pid));
    EXPECT_EQ(conn.list_domains(), std::vector<int>{dom.id()});
    auto live = dom.xml_desc();
    EXPECT_NE(live.find("id='" + std::to_string(dom.id()) + "'"), std::string::npos);
    EXPECT_TRUE(read_file(dir_->path() + "/run/life1.json").has_value());
    auto log = read_file(dir_->path() + "/log/life1.log");
    ASSERT_TRUE(log);
    EXPECT_NE(log->find("-sandbox on"), std::string::npos);

    dom.suspend();
    EXPECT_EQ(dom.state().state, domain_state::paused);
    dom.resume();
    EXPECT_EQ(dom.state().state, domain_state::running);
    EXPECT_EQ(dom.state().reason, hypervisor::qemu_detail::reason::running_unpaused);

    auto info = dom.info();
    EXPECT_EQ(info.max_memory_kib, 65536U);
    EXPECT_EQ(info.vcpus, 1U);

    t0 = std::chrono::steady_clock::now();
    dom.destroy();
    auto destroyed = std::chrono::steady_clock::now() - t0;
    RecordProperty("destroy_ms", static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(destroyed).count()));
    std::cout << "[ timing ] start " << std::chrono::duration_cast<std::chrono::milliseconds>(started).count()
              << " ms, destroy " << std::chrono::duration_cast<std::chrono::milliseconds>(destroyed).count() << " ms\n";
    EXPECT_FALSE(dom.is_active());
    EXPECT_EQ(dom.state().state, domain_state::shutoff);
    EXPECT_EQ(dom.state().reason, hypervisor::qemu_detail::reason::shutoff_destroyed);
    EXPECT_FALSE(::kill(pid, 0) == 0);  // reaped at once: no zombie left
    EXPECT_FALSE(read_file(dir_->path() + "/run/life1.json").has_value());
    dom.undefine();
    EXPECT_EQ(conn.num_of_defined_domains(), 0);
    EXPECT_FALSE(read_file(dir_->path() + "/qemu/life1.xml").has_value());
}

TEST_F(QemuLifecycle, QemuRunsAsTheUserAndGroupOfQemuConf) {
    if (::geteuid() != 0) GTEST_SKIP() << "only root can start qemu as another user";
    {
        std::ofstream conf(dir_->path() + "/qemu.conf");
        conf << "user = \"nobody\"\ngroup = \"nogroup\"\n";
    }
    auto conn = connection::open("qemu:///session");
    auto dom = conn.create_domain_xml(bare_guest("asuser"));
    pid_t pid = conn.state().shared_driver().guest_pid("asuser");
    auto status = read_file("/proc/" + std::to_string(pid) + "/status");
    ASSERT_TRUE(status);
    // real, effective, saved and filesystem ids: all of them, and no supplementary groups kept
    EXPECT_NE(status->find("\nUid:\t65534\t65534\t65534\t65534\n"), std::string::npos) << *status;
    EXPECT_NE(status->find("\nGid:\t65534\t65534\t65534\t65534\n"), std::string::npos) << *status;
    auto groups_at = status->find("\nGroups:\t");
    ASSERT_NE(groups_at, std::string::npos);
    auto groups = status->substr(groups_at + 9, status->find('\n', groups_at + 1) - groups_at - 9);
    EXPECT_EQ(groups.find_first_not_of(' '), std::string::npos) << "supplementary groups kept: " << groups;
    EXPECT_EQ(dom.state().state, domain_state::running);  // the monitor still answers
    dom.destroy();

    // a user that does not exist is libvirt's error, and nothing is started
    dir_.reset();
    dir_.emplace();
    {
        std::ofstream conf(dir_->path() + "/qemu.conf");
        conf << "user = \"no-such-user-here\"\n";
    }
    auto conn2 = connection::open("qemu:///session");
    try {
        (void)conn2.create_domain_xml(bare_guest("nouser"));
        ADD_FAILURE() << "started with an unknown user";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::internal_error);
        EXPECT_EQ(e.info().message, "internal error: Failed to find user record for name 'no-such-user-here'");
    }
    EXPECT_TRUE(conn2.list_all_domains().empty());
}

// The destination's half of a migration, driven step by step (qemu_migrate.sh drives whole
// migrations between two daemons).
TEST_F(QemuLifecycle, AnIncomingMigrationIsFinishedCancelledOrDroppedWithItsConnection) {
    // a port range of its own: tests running at the same time do not race for ports
    {
        std::ofstream(dir_->path() + "/qemu.conf") << "migration_address = \"127.0.0.1\"\nmigration_host = \"127.0.0.1\"\n"
                                                      "migration_port_min = 49400\nmigration_port_max = 49409\n";
    }
    auto keep = connection::open("qemu:///session");
    auto prepare = [](const connection& c, const std::string& name, op::migrate_cookie cookie = {}) {
        return c.call<op::domain_migrate_prepare>({std::move(cookie), std::nullopt, 0, std::nullopt, 0, bare_guest(name)});
    };
    auto error_of = [](auto&& f) -> std::optional<error_info> {
        quiet_errors quiet;
        try {
            f();
        } catch (const error& e) {
            return e.info();
        }
        return std::nullopt;
    };

    // prepare: qemu waits paused (reason migration) on a port of the configured range
    auto prepared = prepare(keep, "in1");
    ASSERT_TRUE(prepared.uri_out);
    EXPECT_TRUE(prepared.uri_out->starts_with("tcp:127.0.0.1:494")) << *prepared.uri_out;
    auto in1 = keep.lookup_domain_by_name("in1");
    EXPECT_EQ(in1.state(), (domain_state_info{domain_state::paused, 2}));
    EXPECT_FALSE(in1.is_persistent());
    // the cookie names this driver: a migration into itself is refused
    auto same = error_of([&] { (void)prepare(keep, "in2", prepared.cookie); });
    ASSERT_TRUE(same);
    EXPECT_NE(same->message.find("Attempt to migrate guest to the same host"), std::string::npos) << same->message;
    // a cookie that is not this driver's XML (another implementation's) is no bar
    const std::string foreign = "not xml at all";
    auto other = prepare(keep, "in4", op::migrate_cookie(foreign.begin(), foreign.end()));
    EXPECT_TRUE(other.uri_out);
    EXPECT_NE(*other.uri_out, *prepared.uri_out);  // its own port
    (void)error_of([&] { (void)keep.call<op::domain_migrate_finish>({"in4", {}, std::nullopt, std::nullopt, 0, true}); });
    // a port the caller names that something else holds: qemu's refusal is the error, nothing stays
    {
        int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in at{};
        at.sin_family = AF_INET;
        at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof at;
        ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
        ASSERT_EQ(::listen(holder, 1), 0);
        ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&at), &len), 0);
        std::string uri = "tcp://127.0.0.1:" + std::to_string(ntohs(at.sin_port));
        auto busy = error_of([&] {
            (void)keep.call<op::domain_migrate_prepare>({{}, uri, 0, std::nullopt, 0, bare_guest("in5")});
        });
        ::close(holder);
        ASSERT_TRUE(busy);
        EXPECT_NE(busy->message.find("migrate-incoming"), std::string::npos) << busy->message;
        EXPECT_NE(busy->message.find("Address already in use"), std::string::npos) << busy->message;
        EXPECT_THROW((void)keep.lookup_domain_by_name("in5"), error);
    }
    // a name with no incoming migration; then the cancelled finish: MIGRATE_FINISH_OK, nothing left
    auto none = error_of([&] { (void)keep.call<op::domain_migrate_finish>({"nosuch", {}, std::nullopt, std::nullopt, 0, false}); });
    ASSERT_TRUE(none);
    EXPECT_EQ(none->code, error_code::no_domain);
    pid_t pid = keep.state().shared_driver().guest_pid("in1");
    auto cancelled = error_of([&] { (void)keep.call<op::domain_migrate_finish>({"in1", {}, std::nullopt, std::nullopt, 0, true}); });
    ASSERT_TRUE(cancelled);
    EXPECT_EQ(cancelled->code, error_code::migrate_finish_ok);
    EXPECT_TRUE(keep.list_all_domains().empty());
    EXPECT_TRUE(eventually([&] { return !process_alive(pid); }));

    // a connection that prepared and went away without finishing: its guest goes with it
    {
        auto other = connection::open("qemu:///session");
        (void)prepare(other, "in3");
        pid = keep.state().shared_driver().guest_pid("in3");
        EXPECT_GT(pid, 0);
        EXPECT_EQ(keep.num_of_domains(), 1);
    }
    EXPECT_TRUE(keep.list_all_domains().empty());
    EXPECT_FALSE(process_alive(pid));
}

// Two drivers in one process (two state directories) migrate between each other for real.
TEST_F(QemuLifecycle, MigrationBetweenTwoDriversAndItsCancellation) {
    const char* loopback = "migration_address = \"127.0.0.1\"\nmigration_host = \"127.0.0.1\"\n"
                           "migration_port_min = 49410\nmigration_port_max = 49419\n";
    { std::ofstream(dir_->path() + "/qemu.conf") << loopback; }
    auto a = connection::open("qemu:///session");
    state_dir b_dir;  // the next driver opened lives here
    { std::ofstream(b_dir.path() + "/qemu.conf") << loopback; }
    auto b = connection::open("qemu:///session");
    ASSERT_NE(&a.state().shared_driver(), &b.state().shared_driver());

    // a whole live migration: running (migrated) on B, gone from A (it was transient)
    auto moved = a.create_domain_xml(bare_guest("mv1")).migrate(b, migrate_flags::live);
    EXPECT_EQ(moved.state(), (domain_state_info{domain_state::running, 2}));
    EXPECT_TRUE(a.list_all_domains().empty());

    // the steps by hand, the destination giving up at finish: the source carries on as it was
    auto cancelled_migration = [&](const std::string& name, bool paused) {
        auto dom = a.create_domain_xml(bare_guest(name));
        if (paused) dom.suspend();
        unsigned flags = migrate_flags::live | (paused ? migrate_flags::paused : 0U);
        auto begun = a.call<op::domain_migrate_begin>({dom.ref(), std::nullopt, flags, std::nullopt, 0});
        auto prepared = b.call<op::domain_migrate_prepare>({begun.cookie, std::nullopt, flags, std::nullopt, 0, begun.xml});
        ASSERT_TRUE(prepared.uri_out);
        auto performed = a.call<op::domain_migrate_perform>(
            {dom.ref(), std::nullopt, prepared.cookie, std::nullopt, prepared.uri_out, flags, std::nullopt, 0});
        EXPECT_EQ(dom.state(), (domain_state_info{domain_state::paused, 2}));  // paused: migration
        {
            quiet_errors quiet;
            EXPECT_THROW((void)b.call<op::domain_migrate_finish>({name, performed, std::nullopt, prepared.uri_out, flags, true}), error);
        }
        a.call<op::domain_migrate_confirm>({dom.ref(), {}, flags, true});
        EXPECT_TRUE(b.list_all_domains().size() == 1U) << "only mv1 on B";
        if (paused) EXPECT_EQ(dom.state(), (domain_state_info{domain_state::paused, 1}));
        else EXPECT_EQ(dom.state(), (domain_state_info{domain_state::running, 6}));  // running: migration canceled
        dom.destroy();
    };
    cancelled_migration("mv2", false);
    cancelled_migration("mv3", true);
    moved.destroy();
}

TEST_F(QemuLifecycle, StartPausedAndTransientGuestsVanishWhenStopped) {
    auto conn = connection::open("qemu:///session");
    auto dom = conn.create_domain_xml(bare_guest("trans1"), 1 /* paused */);
    EXPECT_EQ(dom.state().state, domain_state::paused);
    EXPECT_FALSE(dom.is_persistent());
    dom.resume();
    EXPECT_EQ(dom.state().state, domain_state::running);
    dom.destroy();
    quiet_errors quiet;
    EXPECT_THROW((void)conn.lookup_domain_by_name("trans1"), error);
}

TEST_F(QemuLifecycle, UndefineOfARunningGuestLeavesItRunningAndTransient) {
    auto conn = connection::open("qemu:///session");
    auto dom = conn.define_domain_xml(bare_guest("undef1"));
    dom.create();
    dom.undefine();
    EXPECT_TRUE(dom.is_active());
    EXPECT_FALSE(dom.is_persistent());
    dom.destroy();
    quiet_errors quiet;
    EXPECT_THROW((void)conn.lookup_domain_by_name("undef1"), error);
}

TEST_F(QemuLifecycle, DefinitionsPersistAcrossDrivers) {
    {
        auto conn = connection::open("qemu:///session");
        auto dom = conn.define_domain_xml(bare_guest("persist1"));
        dom.set_autostart(true);
    }
    auto conn = connection::open("qemu:///session");
    // autostart is acted on when the driver starts
    auto dom = conn.lookup_domain_by_name("persist1");
    EXPECT_TRUE(dom.autostart());
    EXPECT_TRUE(dom.is_active());
    dom.set_autostart(false);
    dom.destroy();
}

TEST_F(QemuLifecycle, ReattachesToGuestsAPreviousDriverLeftRunning) {
    pid_t pid;
    int id;
    {
        auto conn = connection::open("qemu:///session");
        auto dom = conn.define_domain_xml(bare_guest("keep1"));
        dom.create();
        auto t = conn.create_domain_xml(bare_guest("keep2"));
        t.suspend();
        pid = conn.state().shared_driver().guest_pid("keep1");
        id = dom.id();
    }  // the driver goes away: its guests must not
    ASSERT_TRUE(process_alive(pid));
    auto conn = connection::open("qemu:///session");
    auto dom = conn.lookup_domain_by_name("keep1");
    EXPECT_TRUE(dom.is_active());
    EXPECT_EQ(dom.id(), id);
    EXPECT_EQ(conn.state().shared_driver().guest_pid("keep1"), pid);
    auto t = conn.lookup_domain_by_name("keep2");
    EXPECT_EQ(t.state().state, domain_state::paused);
    EXPECT_FALSE(t.is_persistent());
    // the re-attached monitor works, and new ids do not collide
    dom.suspend();
    dom.resume();
    auto n = conn.create_domain_xml(bare_guest("keep3"));
    EXPECT_GT(n.id(), std::max(id, t.id()));
    n.destroy();
    t.destroy();
    dom.destroy();
    EXPECT_FALSE(process_alive(pid));
}

TEST_F(QemuLifecycle, AQemuKilledFromOutsideIsACrashNoticedAtOnce) {
    auto conn = connection::open("qemu:///session");
    auto dom = conn.define_domain_xml(bare_guest("crash1"));
    dom.create();
    pid_t pid = conn.state().shared_driver().guest_pid("crash1");
    ::kill(pid, SIGKILL);
    ASSERT_TRUE(eventually([&] { return !dom.is_active(); }, std::chrono::seconds(5)));
    EXPECT_EQ(dom.state().state, domain_state::shutoff);
    EXPECT_EQ(dom.state().reason, hypervisor::qemu_detail::reason::shutoff_crashed);
}

TEST_F(QemuLifecycle, OnCrashRestartStartsTheGuestAgain) {
    auto conn = connection::open("qemu:///session");
    auto dom = conn.define_domain_xml(bare_guest("crash2", "qemu", "", "<on_crash>restart</on_crash>"));
    dom.create();
    pid_t pid = conn.state().shared_driver().guest_pid("crash2");
    ::kill(pid, SIGKILL);
    ASSERT_TRUE(eventually([&] {
        pid_t now = conn.state().shared_driver().guest_pid("crash2");
        return now > 0 && now != pid;
    }));
    EXPECT_EQ(dom.state().state, domain_state::running);
    dom.destroy();
}

TEST_F(QemuLifecycle, VcpusPinningMemoryAndStats) {
    auto conn = connection::open("qemu:///session");
    std::string disk = dir_->path() + "/disk.img";
    { std::ofstream(disk).put('\0'); }
    ASSERT_EQ(::truncate(disk.c_str(), 1 << 20), 0);
    auto dom = conn.create_domain_xml(bare_guest("stats1", "qemu",
                                                 "<disk type='file' device='disk'><source file='" + disk +
                                                     "'/><target dev='vda' bus='virtio'/></disk>"));
    auto vcpus = dom.vcpus();
    ASSERT_EQ(vcpus.size(), 1U);
    EXPECT_EQ(vcpus[0].state, 1);
    EXPECT_GE(vcpus[0].cpu, 0);
    std::vector<bool> only0(::sysconf(_SC_NPROCESSORS_CONF), false);
    only0[0] = true;
    dom.pin_vcpu(0, only0);
    EXPECT_EQ(dom.vcpus()[0].affinity, only0);

    auto stats = dom.block_stats("vda");
    EXPECT_GE(stats.rd_req, 0);
    EXPECT_GE(stats.wr_bytes, 0);
    EXPECT_EQ(dom.block_stats(disk), stats);

    // the balloon takes the request; without a guest driver qemu keeps the old actual size
    dom.set_memory(32768);
    EXPECT_NE(dom.xml_desc().find("<currentMemory unit='KiB'>32768</currentMemory>"), std::string::npos);
    quiet_errors quiet;
    try {
        dom.set_memory(1 << 30);
        ADD_FAILURE() << "memory above the maximum was accepted";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::invalid_arg);
    }
    try {
        (void)dom.interface_stats("vnet99");
        ADD_FAILURE();
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::invalid_arg);
    }
    try {
        (void)dom.block_stats("hdz");
        ADD_FAILURE();
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::invalid_arg);
    }
    dom.destroy();
}

TEST_F(QemuLifecycle, SaveAndRestoreAGuest) {
    auto conn = connection::open("qemu:///session");
    auto dom = conn.define_domain_xml(bare_guest("save1"));
    dom.create();
    std::string image = dir_->path() + "/save1.img";
    dom.save(image);
    EXPECT_FALSE(dom.is_active());
    EXPECT_EQ(dom.state().reason, hypervisor::qemu_detail::reason::shutoff_saved);
    auto head = read_file(image);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->substr(0, 16), "LibvirtQemudSave");
    EXPECT_NE(head->find("<name>save1</name>"), std::string::npos);
    conn.restore_domain(image);
    EXPECT_TRUE(dom.is_active());
    EXPECT_EQ(dom.state().state, domain_state::running);
    EXPECT_EQ(dom.state().reason, hypervisor::qemu_detail::reason::running_restored);
    EXPECT_TRUE(dom.is_persistent());
    dom.destroy();

    quiet_errors quiet;
    std::ofstream(dir_->path() + "/junk.img") << "not a save image at all, no sir, not even close to one......................................";
    try {
        conn.restore_domain(dir_->path() + "/junk.img");
        ADD_FAILURE();
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::invalid_arg);
    }
}

// A save goes only to a regular file (docs/security.md): a FIFO nobody drains would hold a worker.
// (This test used such a FIFO to stall a save and destroy the guest meanwhile; that abort path
// still needs a stall that a regular file can give.)
TEST_F(QemuLifecycle, ASaveToAFifoIsRefusedAndTheGuestRunsOn) {
    auto conn = connection::open("qemu:///session");
    auto dom = conn.create_domain_xml(bare_guest("abort1"));
    std::string fifo = dir_->path() + "/stall.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(reader, 0);
    quiet_errors quiet;
    try {
        dom.save(fifo);
        ADD_FAILURE() << "a save into a FIFO was accepted";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::system_error);
        EXPECT_NE(e.info().message.find("not a regular file"), std::string::npos) << e.info().message;
    }
    ::close(reader);
    EXPECT_EQ(dom.state().state, domain_state::running);
    dom.destroy();
    EXPECT_EQ(conn.num_of_domains(), 0);
}

TEST_F(QemuLifecycle, CoreDumpWritesAnElfFile) {
    auto conn = connection::open("qemu:///session");
    auto dom = conn.create_domain_xml(bare_guest("dump1"));
    // --memory-only is dump-guest-memory's ELF core; without it libvirt (and virtpp) write the
    // guest's state as a migration stream (QEMU's "QEVM" magic); the guest runs on after both
    std::string core = dir_->path() + "/dump1.core";
    constexpr unsigned memory_only = 1U << 4;  // VIR_DUMP_MEMORY_ONLY
    dom.core_dump(core, memory_only);
    auto text = read_file(core);
    ASSERT_TRUE(text);
    EXPECT_EQ(text->substr(0, 4), "\x7f" "ELF");
    EXPECT_TRUE(dom.is_active());
    std::string state = dir_->path() + "/dump1.state";
    dom.core_dump(state);
    auto stream = read_file(state);
    ASSERT_TRUE(stream);
    EXPECT_EQ(stream->substr(0, 4), "QEVM");
    EXPECT_EQ(dom.info().state, domain_state::running);
    auto done = conn.call<op::domain_get_job_stats>({dom.ref(), job_stats_flags::completed});
    EXPECT_EQ(done.type, job_type::completed);
    EXPECT_EQ(done.i32(job_field::operation), job_operation::dump);
    EXPECT_GT(done.u64(job_field::memory_total).value_or(0), 0U);
    EXPECT_EQ(conn.call<op::domain_get_job_info>({dom.ref()}).type, job_type::none);
    dom.destroy();
}

TEST_F(QemuLifecycle, ErrorsAreLibvirtsAndLeaveNoProcess) {
    auto conn = connection::open("qemu:///session");
    quiet_errors quiet;
    auto expect_code = [&](error_code code, auto&& f) {
        try {
            f();
            ADD_FAILURE() << "no error";
        } catch (const error& e) {
            EXPECT_EQ(e.code(), code) << e.what();
            EXPECT_EQ(e.domain(), code == error_code::xml_error || code == error_code::xml_detail ? e.domain() : e.domain());
        }
    };
    expect_code(error_code::xml_detail, [&] { (void)conn.define_domain_xml("<domain type='qemu'><name>x</name"); });
    expect_code(error_code::config_unsupported, [&] { (void)conn.define_domain_xml(bare_guest("kq", "kqemu")); });
    expect_code(error_code::system_error, [&] {
        (void)conn.define_domain_xml(bare_guest("noemu", "qemu", "<emulator>/nonexistent/qemu</emulator>"));
    });
    expect_code(error_code::system_error, [&] {
        (void)conn.create_domain_xml(bare_guest("nodisk", "qemu",
                                                "<disk type='file' device='disk'><source file='/nonexistent.img'/>"
                                                "<target dev='hda'/></disk>"));
    });
    expect_code(error_code::no_network, [&] {
        (void)conn.create_domain_xml(bare_guest("nonet", "qemu", "<interface type='network'><source network='default'/></interface>"));
    });
    auto dom = conn.define_domain_xml(bare_guest("clash1"));
    auto other = bare_guest("clash1");  // same name, new uuid
    expect_code(error_code::operation_failed, [&] { (void)conn.define_domain_xml(other); });
    dom.create();
    expect_code(error_code::operation_invalid, [&] { dom.create(); });
    expect_code(error_code::operation_failed, [&] { (void)conn.create_domain_xml(bare_guest("clash1")); });
    dom.destroy();
    expect_code(error_code::operation_invalid, [&] { dom.suspend(); });
    expect_code(error_code::operation_invalid, [&] { dom.destroy(); });
    expect_code(error_code::no_domain, [&] { (void)conn.lookup_domain_by_name("nope"); });
    // kvm without a usable /dev/kvm is an error, never TCG in disguise
    if (!hypervisor::qemu_detail::kvm_usable()) {
        expect_code(error_code::config_unsupported, [&] { (void)conn.create_domain_xml(bare_guest("kvm1", "kvm")); });
    }
    EXPECT_EQ(conn.num_of_domains(), 0);
    // nothing of ours is left running
    auto ps = read_file("/proc/self/task/" + std::to_string(::getpid()) + "/children");
    EXPECT_TRUE(!ps || ps->empty()) << *ps << read_file("/proc/" + ps->substr(0, ps->find(' ')) + "/cmdline").value_or("");
}

TEST_F(QemuLifecycle, KvmGuestsUseKvmWhenItIsThere) {
    if (!hypervisor::qemu_detail::kvm_usable()) GTEST_SKIP() << "/dev/kvm is not usable here";
    auto conn = connection::open("qemu:///session");
    auto dom = conn.create_domain_xml(bare_guest("kvm2", "kvm"));
    auto log = read_file(dir_->path() + "/log/kvm2.log");
    ASSERT_TRUE(log);
    EXPECT_NE(log->find("-accel kvm"), std::string::npos);
    dom.destroy();
}

TEST_F(QemuLifecycle, CapabilitiesListTheBinariesAndTheirMachines) {
    auto conn = connection::open("qemu:///session");
    auto caps = xml::parse_capabilities_xml(conn.call<op::connect_get_capabilities>({}));
    bool x86 = false;
    for (const auto& g : caps.guests) {
        if (g.arch.name != "x86_64") continue;
        x86 = true;
        EXPECT_EQ(g.os_type, "hvm");
        bool pc = false;
        for (const auto& m : g.arch.machines) pc = pc || (m.name == "pc" && m.canonical && m.canonical->starts_with("pc-i440fx-"));
        EXPECT_TRUE(pc);
        EXPECT_EQ(g.arch.domains.front().type, "qemu");
        EXPECT_EQ(g.arch.domains.size() == 2, hypervisor::qemu_detail::kvm_usable());
    }
    EXPECT_TRUE(x86);
    EXPECT_GE(conn.call<op::connect_get_version>({}), 7000000U);
    // the machine list is cached per binary
    EXPECT_TRUE(std::filesystem::exists(dir_->path() + "/cache"));
}

TEST_F(QemuLifecycle, ConnectionsShareOneDriverAndThreadsMayCallAtOnce) {
    auto a = connection::open("qemu:///session");
    auto b = connection::open("qemu:///session");
    EXPECT_EQ(&a.state().shared_driver(), &b.state().shared_driver());
    auto dom = a.create_domain_xml(bare_guest("threads1"));
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            auto& conn = i % 2 == 0 ? a : b;
            auto d = conn.lookup_domain_by_name("threads1");
            for (int k = 0; k < 5; ++k) {
                if (i == 0) {
                    d.suspend();
                    d.resume();
                }
                (void)d.info();
                (void)d.vcpus();
                (void)d.xml_desc();
            }
            ++ok;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok, 4);
    dom.destroy();
}

}  // namespace
}  // namespace virtpp
