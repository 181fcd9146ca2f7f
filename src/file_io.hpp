// Whole-file reads and atomic writes, shared by the drivers that keep state in files (QEMU, the
// network driver, Xen's xm config files). Errors are SYSTEM_ERROR in the caller's domain.
#pragma once

#include <virtpp/error_codes.hpp>

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::file_io {

/// Writes a file atomically: temp file, fsync, rename, fsync of the directory.
void write_file_atomic(const std::string& path, std::string_view content, error_domain domain);

/// Reads a whole file; nullopt when it does not exist.
[[nodiscard]] std::optional<std::string> read_file(const std::string& path, error_domain domain);

/// Runs PROGRAM (a path, or a name looked up on PATH, which EXTRA_PATH is appended to in the
/// child) with ARGS and returns its stdout, at most MAX_OUTPUT bytes of it (stdin and stderr are
/// /dev/null); nullopt when it cannot run or exits non-zero.
[[nodiscard]] std::optional<std::string> run_capture(const std::string& program, const std::vector<std::string>& args,
                                                     std::string_view extra_path = {},
                                                     std::size_t max_output = std::numeric_limits<std::size_t>::max());

}  // namespace virtpp::file_io
