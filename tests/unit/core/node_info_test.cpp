// Node info: libvirt's fixture through the /proc fallback, fake sysfs trees, and this host.
#include <virtpp/xml/node_info.hpp>

#include <virtpp/error.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using namespace virtpp;
namespace fs = std::filesystem;

struct node_info_test : ::testing::Test {
    void SetUp() override {
        set_error_handler([](const error_info&) {});
        root = fs::temp_directory_path() / ("virtpp-nodeinfo-" + std::to_string(getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root);
        fs::create_directories(root / "proc");
        write("proc/cpuinfo", "processor\t: 0\ncpu MHz\t\t: 3400.123\n");
        write("proc/meminfo", "MemTotal:       16303180 kB\nMemFree: 1 kB\n");
    }
    void TearDown() override {
        fs::remove_all(root);
        set_error_handler({});
    }
    void write(const std::string& rel, const std::string& content) {
        fs::create_directories((root / rel).parent_path());
        std::ofstream(root / rel) << content;
    }
    void add_cpu(unsigned id, int socket, unsigned core, const std::string& siblings) {
        auto base = "sys/cpu/cpu" + std::to_string(id) + "/topology/";
        write(base + "physical_package_id", std::to_string(socket) + "\n");
        write(base + "core_id", std::to_string(core) + "\n");
        write(base + "thread_siblings_list", siblings + "\n");
    }
    node_info_sources sources() const {
        node_info_sources s;
        s.sysfs_cpu_root = (root / "sys/cpu").string();
        s.sysfs_node_root = (root / "sys/node").string();
        s.proc_root = (root / "proc").string();
        s.machine = "x86_64";
        return s;
    }
    fs::path root;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST_F(node_info_test, libvirt_fixture_through_the_proc_fallback) {
    fs::path dir = fs::path(VIRTPP_SHARED_DIR) / "fixtures/libvirt/tests/nodeinfodata";
    auto info = node_info_from_proc(slurp(dir / "linux-nodeinfo-1.cpuinfo"), slurp(dir / "linux-nodeinfo-1.meminfo"));
    auto expected = slurp(dir / "linux-nodeinfo-1.txt");
    while (!expected.empty() && (expected.back() == '\n' || expected.back() == '\r')) expected.pop_back();
    EXPECT_EQ(format_node_info_summary(info), expected);
    EXPECT_EQ(format_node_info_summary(info), "CPUs: 2, MHz: 2800, Nodes: 1, Sockets: 1, Cores: 2, Threads: 1");
    EXPECT_EQ(info.memory_kib, 2053960u);
}

TEST_F(node_info_test, proc_fallback_counts_sockets_and_threads) {
    std::string cpuinfo;
    for (int p = 0; p < 2; ++p)
        for (int c = 0; c < 4; ++c)
            cpuinfo += "processor\t: " + std::to_string(p * 4 + c) + "\ncpu MHz\t\t: 2000.5\nphysical id\t: " +
                       std::to_string(p) + "\nsiblings\t: 4\ncpu cores\t: 2\n\n";
    auto info = node_info_from_proc(cpuinfo, "MemTotal: 1024 kB\n", "x86_64");
    EXPECT_EQ(format_node_info_summary(info), "CPUs: 8, MHz: 2000, Nodes: 1, Sockets: 2, Cores: 2, Threads: 2");
    EXPECT_EQ(info.model, "x86_64");
}

TEST_F(node_info_test, inconsistent_topology_is_reported_flat) {
    // Three processors cannot be 1 socket x 2 cores x 1 thread: libvirt reports 3 cores instead.
    auto info = node_info_from_proc("processor: 0\ncpu cores: 2\nprocessor: 1\nprocessor: 2\n", "MemTotal: 1 kB\n");
    EXPECT_EQ(format_node_info_summary(info), "CPUs: 3, MHz: 0, Nodes: 1, Sockets: 1, Cores: 3, Threads: 1");
}

TEST_F(node_info_test, proc_errors) {
    EXPECT_THROW((void)node_info_from_proc("", "MemTotal: 1 kB\n"), virtpp::error);
    try {
        (void)node_info_from_proc("processor: 0\n", "MemFree: 1 kB\n");
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::internal_error);
        EXPECT_NE(std::string(e.what()).find("MemTotal"), std::string::npos);
    }
}

TEST_F(node_info_test, sysfs_flat_cpu_directory) {
    write("sys/cpu/present", "0-3\n");
    write("sys/cpu/online", "0-3\n");
    add_cpu(0, 0, 0, "0,2");
    add_cpu(1, 0, 1, "1,3");
    add_cpu(2, 0, 0, "0,2");
    add_cpu(3, 0, 1, "1,3");
    auto info = read_node_info(sources());
    EXPECT_EQ(format_node_info_summary(info), "CPUs: 4, MHz: 3400, Nodes: 1, Sockets: 1, Cores: 2, Threads: 2");
    EXPECT_EQ(info.memory_kib, 16303180u);
    EXPECT_EQ(info.model, "x86_64");
}

TEST_F(node_info_test, sysfs_numa_nodes_and_offline_cpus) {
    write("sys/cpu/present", "0-3\n");
    write("sys/cpu/online", "0-2\n");
    add_cpu(0, 0, 0, "0");
    add_cpu(1, 0, 1, "1");
    add_cpu(2, 1, 0, "2");
    add_cpu(3, 1, 1, "3");
    for (auto [node, cpu] : {std::pair{0, 0}, {0, 1}, {1, 2}, {1, 3}})
        fs::create_directories(root / ("sys/node/node" + std::to_string(node)) / ("cpu" + std::to_string(cpu)));
    fs::create_directories(root / "sys/node/power");
    auto info = read_node_info(sources());
    // 2 nodes x 1 socket x 2 cores x 1 thread = 3 online + 1 offline
    EXPECT_EQ(format_node_info_summary(info), "CPUs: 3, MHz: 3400, Nodes: 2, Sockets: 1, Cores: 2, Threads: 1");
}

TEST_F(node_info_test, empty_sysfs_falls_back_to_proc) {
    write("proc/cpuinfo", "processor\t: 0\ncpu MHz\t: 1200\ncpu cores\t: 2\nprocessor\t: 1\n");
    auto info = read_node_info(sources());
    EXPECT_EQ(format_node_info_summary(info), "CPUs: 2, MHz: 1200, Nodes: 1, Sockets: 1, Cores: 2, Threads: 1");
}

TEST_F(node_info_test, missing_proc_is_a_system_error) {
    auto s = sources();
    s.proc_root = (root / "nowhere").string();
    try {
        (void)read_node_info(s);
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::system_error);
        EXPECT_NE(std::string(e.what()).find("cpuinfo"), std::string::npos);
    }
}

TEST_F(node_info_test, this_host_matches_nproc_and_meminfo) {
    auto info = read_node_info();
    EXPECT_EQ(info.cpus, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN)));
    auto meminfo = slurp("/proc/meminfo");
    auto pos = meminfo.find("MemTotal:");
    ASSERT_NE(pos, std::string::npos);
    EXPECT_EQ(info.memory_kib, std::stoull(meminfo.substr(pos + 9)));
    EXPECT_FALSE(info.model.empty());
    EXPECT_GE(info.nodes, 1u);
    EXPECT_EQ(info.nodes * info.sockets * info.cores * info.threads >= info.cpus, true);
}

}  // namespace
