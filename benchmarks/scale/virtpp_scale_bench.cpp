// The twin of pyscale.py for virtpp in process: grows the test driver (test:///default) to each
// size, and at each size measures the per-call cost of define (the last 1000 defines), lookup by
// name (random names, fastest of 5 batches) and listing every domain (best of 3). One JSON line per size, in
// pyscale.py's shape.
//
//   virtpp_scale_bench SIZES [LOOKUPS] [LABEL]        e.g. virtpp_scale_bench 1000,10000,100000
#include <virtpp/connection.hpp>
#include <virtpp/error.hpp>
#include <virtpp/hypervisor/test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

std::string domain_xml(long n) {
    return "<domain type='test'><name>bench-" + std::to_string(n) +
           "</name><memory>8192</memory><os><type>hvm</type></os></domain>";
}

std::vector<long> parse_sizes(const char* text) {
    std::vector<long> sizes;
    std::string s = text;
    std::size_t pos = 0;
    while (pos <= s.size()) {
        auto comma = s.find(',', pos);
        auto part = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        char* end = nullptr;
        long v = std::strtol(part.c_str(), &end, 10);
        if (part.empty() || *end != '\0' || v <= 0) throw std::invalid_argument("bad size '" + part + "'");
        sizes.push_back(v);
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    if (!std::is_sorted(sizes.begin(), sizes.end())) throw std::invalid_argument("sizes must grow");
    return sizes;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc < 2) {
        std::fprintf(stderr, "usage: virtpp_scale_bench SIZES [LOOKUPS] [LABEL]\n");
        return 2;
    }
    auto sizes = parse_sizes(argv[1]);
    long lookups = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 5000;
    std::string label = argc > 3 ? argv[3] : "virtpp-inprocess";
    if (lookups <= 0) lookups = 5000;
    constexpr long last_defines = 1000;

    auto conn = virtpp::basic_connection<virtpp::hypervisor::test>::open("test:///default");
    std::mt19937 rng(42);
    long defined = 0;
    for (long size : sizes) {
        long first = defined;
        std::optional<clock_type::time_point> last_start;
        auto all_start = clock_type::now();
        while (defined < size) {
            if (size - defined == last_defines) last_start = clock_type::now();
            (void)conn.define_domain_xml(domain_xml(defined));
            ++defined;
        }
        long measured = std::min(last_defines, size - first);
        double define_us = measured ? seconds_since(last_start.value_or(all_start)) / static_cast<double>(measured) * 1e6 : 0;

        // 5 batches of LOOKUPS/5 random names, the fastest batch (as pyscale.py)
        std::uniform_int_distribution<long> pick(0, size - 1);
        long batch = std::max(1L, lookups / 5);
        double lookup_us = 1e30;
        for (int b = 0; b < 5; ++b) {
            std::vector<std::string> names;
            names.reserve(static_cast<std::size_t>(batch));
            for (long i = 0; i < batch; ++i) names.push_back("bench-" + std::to_string(pick(rng)));
            auto t0 = clock_type::now();
            for (const auto& n : names) (void)conn.lookup_domain_by_name(n);
            lookup_us = std::min(lookup_us, seconds_since(t0) / static_cast<double>(batch) * 1e6);
        }

        double best = 1e30;
        std::size_t count = 0;
        for (int i = 0; i < 3; ++i) {
            auto l0 = clock_type::now();
            auto all = conn.list_all_domains();
            best = std::min(best, seconds_since(l0));
            count = all.size();
        }
        std::printf("{\"client\": \"%s\", \"size\": %ld, \"define_us\": %.3f, \"lookup_us\": %.3f, "
                    "\"list_all_ms\": %.3f, \"list_all_ns_per_domain\": %.1f, \"list_error\": null}\n",
                    label.c_str(), size, define_us, lookup_us, best * 1e3, best * 1e9 / static_cast<double>(count));
        std::fflush(stdout);
    }
    return 0;
} catch (const virtpp::error& e) {
    std::fprintf(stderr, "virtpp_scale_bench: %s\n", e.what());
    return 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "virtpp_scale_bench: %s\n", e.what());
    return 2;
}
