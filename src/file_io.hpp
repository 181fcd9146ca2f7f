// Whole-file reads and atomic writes, shared by the drivers that keep state in files (QEMU, the
// network driver, Xen's xm config files). Errors are SYSTEM_ERROR in the caller's domain.
#pragma once

#include <virtpp/error_codes.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace virtpp::file_io {

/// Writes a file atomically: temp file, fsync, rename, fsync of the directory.
void write_file_atomic(const std::string& path, std::string_view content, error_domain domain);

/// Reads a whole file; nullopt when it does not exist.
[[nodiscard]] std::optional<std::string> read_file(const std::string& path, error_domain domain);

}  // namespace virtpp::file_io
