// Long-running domain jobs (save, restore, dump, migration) as libvirt reports them:
// virDomainGetJobInfo's record, virDomainGetJobStats' typed parameters, and their numbering.
#pragma once

#include <virtpp/types.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace virtpp {

/// virDomainJobType.
namespace job_type {
inline constexpr int none = 0;
inline constexpr int bounded = 1;
inline constexpr int unbounded = 2;
inline constexpr int completed = 3;
inline constexpr int failed = 4;
inline constexpr int cancelled = 5;
}  // namespace job_type

/// virDomainJobOperation: what a job does (the "operation" statistic).
namespace job_operation {
inline constexpr int unknown = 0;
inline constexpr int start = 1;
inline constexpr int save = 2;
inline constexpr int restore = 3;
inline constexpr int migration_in = 4;
inline constexpr int migration_out = 5;
inline constexpr int snapshot = 6;
inline constexpr int snapshot_revert = 7;
inline constexpr int dump = 8;
inline constexpr int backup = 9;
}  // namespace job_operation

/// virDomainGetJobStats flags.
namespace job_stats_flags {
inline constexpr unsigned completed = 1U << 0;       ///< the statistics of the last completed job
inline constexpr unsigned keep_completed = 1U << 1;  ///< ... and keep them for the next reader
}  // namespace job_stats_flags

/// libvirt's names of the job statistics (VIR_DOMAIN_JOB_*).
namespace job_field {
inline constexpr std::string_view operation = "operation";
inline constexpr std::string_view time_elapsed = "time_elapsed";
inline constexpr std::string_view time_remaining = "time_remaining";
inline constexpr std::string_view downtime = "downtime";
inline constexpr std::string_view setup_time = "setup_time";
inline constexpr std::string_view data_total = "data_total";
inline constexpr std::string_view data_processed = "data_processed";
inline constexpr std::string_view data_remaining = "data_remaining";
inline constexpr std::string_view memory_total = "memory_total";
inline constexpr std::string_view memory_processed = "memory_processed";
inline constexpr std::string_view memory_remaining = "memory_remaining";
inline constexpr std::string_view memory_constant = "memory_constant";
inline constexpr std::string_view memory_normal = "memory_normal";
inline constexpr std::string_view memory_normal_bytes = "memory_normal_bytes";
inline constexpr std::string_view memory_bps = "memory_bps";
inline constexpr std::string_view memory_dirty_rate = "memory_dirty_rate";
inline constexpr std::string_view memory_page_size = "memory_page_size";
inline constexpr std::string_view memory_iteration = "memory_iteration";
inline constexpr std::string_view memory_postcopy_requests = "memory_postcopy_requests";
inline constexpr std::string_view disk_total = "disk_total";
inline constexpr std::string_view disk_processed = "disk_processed";
inline constexpr std::string_view disk_remaining = "disk_remaining";
inline constexpr std::string_view disk_bps = "disk_bps";
inline constexpr std::string_view success = "success";
inline constexpr std::string_view errmsg = "errmsg";
}  // namespace job_field

/// virDomainJobInfo: sizes in bytes, times in milliseconds. data = memory + file.
struct job_info {
    int type = job_type::none;
    std::uint64_t time_elapsed = 0, time_remaining = 0;
    std::uint64_t data_total = 0, data_processed = 0, data_remaining = 0;
    std::uint64_t mem_total = 0, mem_processed = 0, mem_remaining = 0;
    std::uint64_t file_total = 0, file_processed = 0, file_remaining = 0;
    friend bool operator==(const job_info&, const job_info&) = default;
};

/// virDomainGetJobStats' answer: the job type and libvirt's named statistics, in libvirt's order.
struct job_stats {
    int type = job_type::none;
    std::vector<typed_param> params;
    friend bool operator==(const job_stats&, const job_stats&) = default;

    /// The unsigned statistic named `field`, if present.
    [[nodiscard]] std::optional<std::uint64_t> u64(std::string_view field) const {
        for (const auto& p : params)
            if (p.field == field)
                if (const auto* v = std::get_if<std::uint64_t>(&p.value)) return *v;
        return std::nullopt;
    }
    /// The int statistic named `field` (the operation), if present.
    [[nodiscard]] std::optional<int> i32(std::string_view field) const {
        for (const auto& p : params)
            if (p.field == field)
                if (const auto* v = std::get_if<std::int32_t>(&p.value)) return *v;
        return std::nullopt;
    }
};

/// virDomainJobInfo derived from the statistics, as libvirt's client does.
[[nodiscard]] inline job_info job_info_from_stats(const job_stats& s) {
    job_info i;
    i.type = s.type;
    auto get = [&](std::string_view f) { return s.u64(f).value_or(0); };
    i.time_elapsed = get(job_field::time_elapsed);
    i.time_remaining = get(job_field::time_remaining);
    i.data_total = get(job_field::data_total);
    i.data_processed = get(job_field::data_processed);
    i.data_remaining = get(job_field::data_remaining);
    i.mem_total = get(job_field::memory_total);
    i.mem_processed = get(job_field::memory_processed);
    i.mem_remaining = get(job_field::memory_remaining);
    i.file_total = get(job_field::disk_total);
    i.file_processed = get(job_field::disk_processed);
    i.file_remaining = get(job_field::disk_remaining);
    return i;
}

}  // namespace virtpp
