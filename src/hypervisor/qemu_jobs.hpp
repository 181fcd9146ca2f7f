// Internal: the long job running on a QEMU guest (save, restore, dump, outgoing migration) as
// virDomainGetJobStats reports it. The job's own thread records QEMU's progress here (under the
// driver mutex) each time it polls; readers never touch the monitor or the guest's job lock, so
// a second client's domjobinfo answers at once while the job runs.
#pragma once

#include <virtpp/job.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace virtpp::hypervisor::qemu_detail {

/// query-migrate's figures, as libvirt's monitor code reads them (bytes, ms, pages).
struct migration_sample {
    std::uint64_t ram_total = 0, ram_transferred = 0, ram_remaining = 0, ram_bps = 0;
    bool ram_duplicate_set = false;
    std::uint64_t ram_duplicate = 0, ram_normal = 0, ram_normal_bytes = 0;
    std::uint64_t ram_dirty_rate = 0, ram_page_size = 0, ram_iteration = 0, ram_postcopy_reqs = 0;
    std::uint64_t disk_total = 0, disk_transferred = 0, disk_remaining = 0, disk_bps = 0;
    bool downtime_set = false, setup_time_set = false;
    std::uint64_t downtime = 0, setup_time = 0;
};

/// Which statistics a job reports (libvirt's QEMU_DOMAIN_JOB_STATS_TYPE_*).
enum class job_stats_kind {
    migration,  ///< outgoing migration: memory and disk
    save_dump,  ///< a migration stream into a file (save): memory only
    memory_dump,  ///< dump-guest-memory: query-dump's written / total
    restore,    ///< an incoming stream from a file: how far qemu has read it
};

struct job_record {
    int operation = job_operation::unknown;
    std::string name;  ///< libvirt's job name in messages ("domain save")
    job_stats_kind kind = job_stats_kind::save_dump;
    std::uint64_t started_ms = 0;  ///< wall clock, as libvirt's timeElapsed is
    migration_sample mig;
    std::uint64_t dump_total = 0, dump_completed = 0;
    int restore_fd = -1;  ///< restore: the image, shared with qemu (its offset is qemu's progress)
    std::uint64_t restore_total = 0;
    bool abort_requested = false;
    /// When not empty, virDomainAbortJob is refused with this (OPERATION_INVALID), as libvirt does.
    std::string abort_refusal;
};

[[nodiscard]] std::uint64_t wall_ms();

/// Records a query-migrate reply in r.mig.
void record_migration_sample(job_record& r, const boost::json::value& reply);
/// Records a query-dump reply.
void record_dump_sample(job_record& r, const boost::json::value& reply);
/// The statistics libvirt would give for r now, with the given job type.
[[nodiscard]] job_stats stats_of(const job_record& r, int type);

}  // namespace virtpp::hypervisor::qemu_detail
