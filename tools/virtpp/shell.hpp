// The state of one virtpp session (virsh's vshControl + virshControl): global options, the
// connection, the last library error, and the helpers every command uses to read its options
// and report failures the way virsh does.
#pragma once

#include "command_def.hpp"
#include "parser.hpp"

#include <virtpp/any.hpp>
#include <virtpp/error.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::cli {

class shell;
using command_handler = bool (*)(shell&, const parsed_command&);

struct handler_entry {
    std::string_view name;
    command_handler run;
};

// Each command family lists its handlers (commands_*.cpp).
std::span<const handler_entry> domain_handlers();
std::span<const handler_entry> monitor_handlers();
std::span<const handler_entry> host_handlers();
std::span<const handler_entry> network_handlers();
std::span<const handler_entry> shell_handlers();
std::span<const handler_entry> device_handlers();
std::span<const handler_entry> tuning_handlers();
std::span<const handler_entry> edit_handlers();
std::span<const handler_entry> event_handlers();
std::span<const handler_entry> stream_handlers();
std::span<const handler_entry> job_handlers();
std::span<const handler_entry> stats_handlers();
std::span<const handler_entry> storage_handlers();
std::span<const handler_entry> snapshot_handlers();

/// Every command definition virtpp knows, in virsh's help order.
std::span<const command_def> command_table();

class shell {
public:
    shell();
    ~shell();
    shell(const shell&) = delete;
    shell& operator=(const shell&) = delete;

    // ---- global options
    bool quiet = false;
    bool readonly = false;
    bool timing = false;
    bool interactive = false;
    int debug_level = debug_error;  ///< virsh's VSH_DEBUG_DEFAULT: only errors reach the log
    std::string escape = "^]";
    std::string log_file;
    std::string progname = "virtpp";  ///< names the program in log lines
    std::optional<std::string> connect_name;  ///< -c URI, else $VIRSH_DEFAULT_CONNECT_URI

    // virsh's message levels (VSH_ERR_*), for -d and the log file
    static constexpr int debug_debug = 0, debug_info = 1, debug_notice = 2, debug_warning = 3, debug_error = 4;

    /// vshOpenLogFile: opens log_file for appending; false (after the error) when it cannot.
    bool open_log();
    /// vshDebug: a message of `level` goes to stdout and the log when level >= debug_level.
    void debug(int level, std::string_view text);

    // ---- output, as vshPrint / vshPrintExtra / vshError
    void print(std::string_view text);
    /// Suppressed by --quiet.
    void print_extra(std::string_view text);
    /// "error: <text>" on stderr.
    void error(std::string_view text);

    // ---- library errors: the silent handler keeps the last one until a failed command reports it
    void report_last_error();
    void reset_last_error();
    /// Keeps an error as if the library had reported it (virsh prints it when the command fails).
    void set_pending_error(error_code code, std::string message);
    [[nodiscard]] std::optional<error_code> last_error_code() const;

    // ---- connection
    /// virshReconnect: (re)opens the connection; false (after "error: failed to connect ...") on failure.
    bool reconnect(const std::optional<std::string>& name, bool read_only, bool force);
    /// The usable connection, connecting lazily; null after reporting why not.
    any_connection* connection();
    void disconnect();

    // ---- running
    /// Runs parsed commands in order; the result is the last command's.
    bool run(const std::vector<parsed_command>& commands);
    /// Parses and runs a command string; false on a syntax error or a failed command.
    bool run_string(std::string_view text);

    // ---- option access with virsh's checks and messages (each returns false after reporting)
    bool opt_string(const parsed_command& cmd, std::string_view name, std::optional<std::string>& out);
    bool opt_int(const parsed_command& cmd, std::string_view name, std::optional<int>& out);
    bool opt_uint(const parsed_command& cmd, std::string_view name, std::optional<unsigned>& out, bool wrap = false);
    bool opt_ull(const parsed_command& cmd, std::string_view name, std::optional<std::uint64_t>& out);
    /// A size with an optional unit suffix (default unit `scale` bytes), in bytes.
    bool opt_scaled(const parsed_command& cmd, std::string_view name, std::optional<std::uint64_t>& out,
                    std::uint64_t scale, std::uint64_t max);

    /// virshCommandOptDomainBy: by id, then UUID, then name ("failed to get domain 'x'").
    std::optional<any_domain> domain(const parsed_command& cmd, std::string* name = nullptr, bool by_id = true,
                                     bool by_uuid = true, bool by_name = true);
    /// virshCommandOptNetworkBy: by UUID then name ("failed to get network 'x'").
    std::optional<any_network> network(const parsed_command& cmd, std::string* name = nullptr, bool by_uuid = true,
                                       bool by_name = true);

    /// Reads a file the way virsh does (errors as libvirt reports them).
    bool read_file(const std::string& path, std::string& out);

    bool quit_requested = false;

private:
    std::optional<any_connection> conn_;
    std::optional<error_info> last_error_;
    bool disconnected_ = false;
    int log_fd_ = -1;

    void log(int level, std::string_view text);
};

}  // namespace virtpp::cli
