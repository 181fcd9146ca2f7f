// The version virtpp reports in its human-facing lines (-v, -V, `version`).
#pragma once

namespace virtpp::cli {
inline constexpr const char* version_string = "0.1.0";
/// The libvirt API level virtpp's commands and output follow.
inline constexpr const char* api_version_string = "9.0.0";
}  // namespace virtpp::cli
