// Pipelined calls on ONE connection with virtpp's async API: WINDOW calls are kept in flight
// (each completion starts the next) for SECONDS, on one thread running the io_context.
// usage: virtpp_async_bench URI WINDOW SECONDS count|lookup
// Prints one JSON line: {"client", "window", "calls", "seconds", "client_cpu_s"}.
#include <virtpp/async.hpp>
#include <virtpp/hypervisor/remote.hpp>

#include <boost/asio/io_context.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using clock_type = std::chrono::steady_clock;
using remote_connection = virtpp::basic_connection<virtpp::hypervisor::remote, virtpp::transport::remote>;

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct pipeline {
    virtpp::basic_async_connection<virtpp::hypervisor::remote, virtpp::transport::remote, boost::asio::io_context::executor_type>& conn;
    bool lookup;
    clock_type::time_point deadline;
    long calls = 0;
    long failures = 0;

    void next() {
        if (clock_type::now() >= deadline) return;
        auto done = [this](std::exception_ptr e, auto&&...) {
            if (e) ++failures;
            ++calls;
            next();
        };
        if (lookup) {
            conn.async_call<virtpp::op::domain_lookup_by_name>({"test"}, done);
        } else {
            conn.async_call<virtpp::op::connect_num_of_domains>({}, done);
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s URI WINDOW SECONDS count|lookup\n", argv[0]);
        return 2;
    }
    const int window = std::atoi(argv[2]);
    const double seconds = std::atof(argv[3]);
    const bool lookup = std::string(argv[4]) == "lookup";
    virtpp::set_error_handler([](const virtpp::error_info&) {});
    boost::asio::io_context io;
    virtpp::basic_async_connection conn(io.get_executor(), remote_connection::open(argv[1]));
    pipeline p{conn, lookup, {}};
    const double cpu0 = cpu_seconds();
    const auto t0 = clock_type::now();
    p.deadline = t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
    for (int i = 0; i < window; ++i) p.next();
    io.run();
    const double elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
    std::printf("{\"client\": \"virtpp-async\", \"window\": %d, \"calls\": %ld, \"failures\": %ld, \"seconds\": %.3f, \"client_cpu_s\": %.3f}\n",
                window, p.calls, p.failures, elapsed, cpu_seconds() - cpu0);
    return p.failures == 0 ? 0 : 1;
}
