// virtpp's remote-client load generator, the twin of pyclient.py: N connections, each opened on
// its own thread with its own session, calling one operation in a loop for a fixed time. Prints
// one JSON line in pyclient.py's shape: calls, seconds, p50/p99 latency, the client's CPU time and
// context switches.
//
//   virtpp_client_bench URI CLIENTS SECONDS count|lookup_info
#include <virtpp/connection.hpp>
#include <virtpp/error.hpp>
#include <virtpp/hypervisor/remote.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using remote_connection = virtpp::basic_connection<virtpp::hypervisor::remote, virtpp::transport::remote>;
using clock_type = std::chrono::steady_clock;

enum class call_kind { count, lookup_info };

/// CPU time and context switches of the whole process (every thread, the reader threads too).
struct usage_sample {
    double cpu_seconds = 0;
    long switches = 0;
};

usage_sample sample_usage() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return {sec(u.ru_utime) + sec(u.ru_stime), u.ru_nvcsw + u.ru_nivcsw};
}

int print_usage() {
    std::fprintf(stderr, "usage: virtpp_client_bench URI CLIENTS SECONDS count|lookup_info\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) return print_usage();
    const std::string uri = argv[1];
    const int clients = std::atoi(argv[2]);
    const double seconds = std::atof(argv[3]);
    const std::string_view kind_name = argv[4];
    if (clients < 1 || seconds <= 0) return print_usage();
    call_kind kind{};
    if (kind_name == "count")
        kind = call_kind::count;
    else if (kind_name == "lookup_info")
        kind = call_kind::lookup_info;
    else
        return print_usage();

    virtpp::set_error_handler([](const virtpp::error_info&) {});

    try {
        // Opened up front, one session each, so the timed loop measures calls only.
        std::vector<remote_connection> conns;
        conns.reserve(static_cast<std::size_t>(clients));
        for (int i = 0; i < clients; ++i) conns.push_back(remote_connection::open(uri));

        std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
        std::vector<std::exception_ptr> failures(static_cast<std::size_t>(clients));
        std::barrier start(clients + 1);
        clock_type::time_point deadline{};

        auto work = [&](std::size_t i) {
            auto& conn = conns[i];
            auto& lat = latencies[i];
            lat.reserve(1 << 16);
            start.arrive_and_wait();
            try {
                for (;;) {
                    auto t0 = clock_type::now();
                    if (kind == call_kind::count)
                        (void)conn.num_of_domains();
                    else
                        (void)conn.lookup_domain_by_name("test").info();
                    auto t1 = clock_type::now();
                    lat.push_back(std::chrono::duration<double>(t1 - t0).count());
                    if (t1 >= deadline) break;
                }
            } catch (...) {
                failures[i] = std::current_exception();
            }
        };

        std::vector<std::thread> threads;
        for (int i = 0; i < clients; ++i) threads.emplace_back(work, static_cast<std::size_t>(i));
        auto usage0 = sample_usage();
        auto t0 = clock_type::now();
        deadline = t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
        start.arrive_and_wait();
        for (auto& t : threads) t.join();
        double elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
        auto usage1 = sample_usage();
        for (auto& f : failures)
            if (f) std::rethrow_exception(f);
        conns.clear();  // CONNECT_CLOSE on each

        std::vector<double> all;
        for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
        std::sort(all.begin(), all.end());
        const std::size_t n = all.size();
        double p50 = n ? all[n / 2] * 1e6 : 0;
        double p99 = n ? all[std::min(n - 1, static_cast<std::size_t>(static_cast<double>(n) * 0.99))] * 1e6 : 0;
        std::printf("{\"client\": \"virtpp\", \"calls\": %zu, \"seconds\": %.6f, \"p50_us\": %.3f, \"p99_us\": %.3f, "
                    "\"client_cpu_s\": %.6f, \"client_csw\": %ld}\n",
                    n, elapsed, p50, p99, usage1.cpu_seconds - usage0.cpu_seconds, usage1.switches - usage0.switches);
        return 0;
    } catch (const virtpp::error& e) {
        std::fprintf(stderr, "virtpp_client_bench: %s\n", e.what());
        return 1;
    }
}
