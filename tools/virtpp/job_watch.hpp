// virsh's job watcher (virshWatchJob) for save, dump and migrate: the call runs on a worker
// thread while the command's thread polls the domain's job, prints "\rSave: [ 42 %]" with
// --verbose, and turns Ctrl-C into virDomainAbortJob.
#pragma once

#include "shell.hpp"

#include <functional>
#include <string_view>

namespace virtpp::cli {

/// virshPrintJobProgress: "\r<label>: [NNN %]" on stderr (100 only when remaining is 0).
void print_job_progress(std::string_view label, std::uint64_t remaining, std::uint64_t total);

/// Runs `call` (which throws virtpp::error on failure) while watching dom's job. Returns whether
/// it succeeded; on failure the call's error is the shell's pending error and nothing is printed.
/// On success with `verbose` the final "[100 %]" is printed, as virsh does.
bool watch_job(shell& sh, const any_domain& dom, bool verbose, std::string_view label, const std::function<void()>& call);

}  // namespace virtpp::cli
