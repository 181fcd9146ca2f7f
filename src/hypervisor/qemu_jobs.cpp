// The QEMU driver's jobs: the statistics of the running save, restore, dump or outgoing
// migration, the last completed one's, and aborting one (docs/jobs.md).
#include "hypervisor/qemu_ops.hpp"

namespace virtpp::hypervisor {

namespace qemu_detail {

std::uint64_t wall_ms() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

namespace {

std::uint64_t u64_at(const json::object& o, std::string_view key, bool* present = nullptr) {
    const auto* v = o.if_contains(key);
    if (present) *present = v != nullptr && v->is_number();
    if (!v) return 0;
    if (v->is_uint64()) return v->as_uint64();
    if (v->is_int64()) return v->as_int64() < 0 ? 0 : static_cast<std::uint64_t>(v->as_int64());
    if (v->is_double()) return v->as_double() < 0 ? 0 : static_cast<std::uint64_t>(v->as_double());
    return 0;
}

/// qemu's "mbps" is megabits per second; libvirt reports bytes per second.
std::uint64_t bps_at(const json::object& o) {
    const auto* v = o.if_contains("mbps");
    if (!v || !v->is_number()) return 0;
    double mbps = v->is_double() ? v->as_double() : static_cast<double>(u64_at(o, "mbps"));
    return mbps > 0 ? static_cast<std::uint64_t>(mbps * (1000.0 * 1000.0 / 8.0)) : 0;
}

}  // namespace

void record_migration_sample(job_record& r, const json::value& reply) {
    if (!reply.is_object()) return;
    const auto& o = reply.as_object();
    migration_sample s;
    std::string status;
    if (const auto* st = o.if_contains("status"); st && st->is_string()) status = std::string(st->as_string());
    bool present = false;
    s.downtime = u64_at(o, status == "completed" ? "downtime" : "expected-downtime", &present);
    s.downtime_set = present;
    s.setup_time = u64_at(o, "setup-time", &present);
    s.setup_time_set = present;
    if (const auto* ram = o.if_contains("ram"); ram && ram->is_object()) {
        const auto& m = ram->as_object();
        s.ram_transferred = u64_at(m, "transferred");
        s.ram_remaining = u64_at(m, "remaining");
        s.ram_total = u64_at(m, "total");
        s.ram_bps = bps_at(m);
        s.ram_duplicate = u64_at(m, "duplicate", &present);
        s.ram_duplicate_set = present;
        s.ram_normal = u64_at(m, "normal");
        s.ram_normal_bytes = u64_at(m, "normal-bytes");
        s.ram_dirty_rate = u64_at(m, "dirty-pages-rate");
        s.ram_page_size = u64_at(m, "page-size");
        s.ram_iteration = u64_at(m, "dirty-sync-count");
        s.ram_postcopy_reqs = u64_at(m, "postcopy-requests");
    } else if (status != "completed") {
        return;  // setup: nothing measured yet, keep what we had
    }
    if (const auto* disk = o.if_contains("disk"); disk && disk->is_object()) {
        const auto& m = disk->as_object();
        s.disk_transferred = u64_at(m, "transferred");
        s.disk_remaining = u64_at(m, "remaining");
        s.disk_total = u64_at(m, "total");
        s.disk_bps = bps_at(m);
    }
    r.mig = s;
}

void record_dump_sample(job_record& r, const json::value& reply) {
    if (!reply.is_object()) return;
    const auto& o = reply.as_object();
    r.dump_total = u64_at(o, "total");
    r.dump_completed = u64_at(o, "completed");
}

job_stats stats_of(const job_record& r, int type) {
    job_stats out;
    out.type = type;
    auto& p = out.params;
    auto add = [&](std::string_view field, std::uint64_t v) { p.push_back({std::string(field), v}); };
    p.push_back({std::string(job_field::operation), std::int32_t{r.operation}});
    std::uint64_t now = wall_ms();
    add(job_field::time_elapsed, now > r.started_ms ? now - r.started_ms : 0);
    switch (r.kind) {
    case job_stats_kind::memory_dump:
        add(job_field::memory_total, r.dump_total);
        add(job_field::memory_processed, r.dump_completed);
        add(job_field::memory_remaining, r.dump_total > r.dump_completed ? r.dump_total - r.dump_completed : 0);
        return out;
    case job_stats_kind::restore: {
        std::uint64_t read = 0;
        if (r.restore_fd >= 0) {
            off_t at = ::lseek(r.restore_fd, 0, SEEK_CUR);
            read = at > 0 ? std::min<std::uint64_t>(static_cast<std::uint64_t>(at), r.restore_total) : 0;
        }
        if (type == job_type::completed) read = r.restore_total;
        add(job_field::data_total, r.restore_total);
        add(job_field::data_processed, read);
        add(job_field::data_remaining, r.restore_total - read);
        return out;
    }
    case job_stats_kind::migration:
    case job_stats_kind::save_dump:
        break;
    }
    const auto& s = r.mig;
    if (s.downtime_set) add(job_field::downtime, s.downtime);
    if (s.setup_time_set) add(job_field::setup_time, s.setup_time);
    add(job_field::data_total, s.ram_total + s.disk_total);
    add(job_field::data_processed, s.ram_transferred + s.disk_transferred);
    add(job_field::data_remaining, s.ram_remaining + s.disk_remaining);
    add(job_field::memory_total, s.ram_total);
    add(job_field::memory_processed, s.ram_transferred);
    add(job_field::memory_remaining, s.ram_remaining);
    if (s.ram_bps) add(job_field::memory_bps, s.ram_bps);
    if (s.ram_duplicate_set) {
        add(job_field::memory_constant, s.ram_duplicate);
        add(job_field::memory_normal, s.ram_normal);
        add(job_field::memory_normal_bytes, s.ram_normal_bytes);
    }
    add(job_field::memory_dirty_rate, s.ram_dirty_rate);
    add(job_field::memory_iteration, s.ram_iteration);
    add(job_field::memory_postcopy_requests, s.ram_postcopy_reqs);
    if (s.ram_page_size > 0) add(job_field::memory_page_size, s.ram_page_size);
    if (r.kind == job_stats_kind::save_dump) return out;
    add(job_field::disk_total, s.disk_total);
    add(job_field::disk_processed, s.disk_transferred);
    add(job_field::disk_remaining, s.disk_remaining);
    if (s.disk_bps) add(job_field::disk_bps, s.disk_bps);
    return out;
}

}  // namespace qemu_detail

job_stats qemu::state::perform(op::domain_get_job_stats, const op::domain_get_job_stats::args& a) {
    if (a.flags & ~(job_stats_flags::completed | job_stats_flags::keep_completed))
        fail(error_code::invalid_arg, "unsupported flags (0x" + [&] {
            char buf[16];
            std::snprintf(buf, sizeof buf, "%x", a.flags & ~(job_stats_flags::completed | job_stats_flags::keep_completed));
            return std::string(buf);
        }() + ") in function qemuDomainGetJobStats");
    ops g{*driver_};
    auto o = g.lookup(a.dom);
    std::lock_guard lock(driver_->mutex);
    if (a.flags & job_stats_flags::completed) {
        // as libvirt: only once the job is over, and read once unless kept
        if (!o->completed_job || o->running_job) return {};
        job_stats s = *o->completed_job;
        if (!(a.flags & job_stats_flags::keep_completed)) o->completed_job.reset();
        return s;
    }
    if (o->running_job) return stats_of(*o->running_job, job_type::unbounded);
    if (!o->active()) not_running();
    return {};
}

job_info qemu::state::perform(op::domain_get_job_info, const op::domain_get_job_info::args& a) {
    return job_info_from_stats(perform(op::domain_get_job_stats{}, {a.dom, 0}));
}

void qemu::state::perform(op::domain_abort_job, const op::domain_abort_job::args& a) {
    constexpr unsigned postcopy = 1U << 0;  // VIR_DOMAIN_ABORT_JOB_POSTCOPY
    if (a.flags & ~postcopy) fail(error_code::invalid_arg, "unsupported flags in function qemuDomainAbortJobFlags");
    ops g{*driver_};
    auto o = g.lookup(a.dom);
    std::lock_guard lock(driver_->mutex);
    if (!o->active() && !o->running_job) not_running();
    if (a.flags & postcopy)  // virtpp never switches a migration to post-copy
        fail(error_code::operation_invalid, "current job is not outgoing migration in post-copy mode");
    if (!o->running_job) fail(error_code::operation_invalid, "no job is active on the domain");
    if (!o->running_job->abort_refusal.empty()) fail(error_code::operation_invalid, o->running_job->abort_refusal);
    // the job's own thread sees this at its next poll and cancels the stream (migrate_cancel)
    o->running_job->abort_requested = true;
}

}  // namespace virtpp::hypervisor
