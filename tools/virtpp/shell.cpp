#include "shell.hpp"

#include "drivers.hpp"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace virtpp::cli {

namespace {
shell* current_shell = nullptr;  // the error handler's target: libvirt's handler is global too

/// virStrToLong_*: base 10, leading blanks allowed, the whole text must be the number.
bool to_ll(const std::string& s, long long& v) {
    if (s.empty()) return false;
    errno = 0;
    char* end = nullptr;
    v = std::strtoll(s.c_str(), &end, 10);
    return errno == 0 && end != s.c_str() && *end == '\0';
}
bool to_ull(const std::string& s, unsigned long long& v, bool allow_negative) {
    if (s.empty()) return false;
    errno = 0;
    char* end = nullptr;
    v = std::strtoull(s.c_str(), &end, 10);
    if (errno != 0 || end == s.c_str()) return false;
    if (!allow_negative && std::memchr(s.c_str(), '-', static_cast<std::size_t>(end - s.c_str())) != nullptr) return false;
    return *end == '\0';
}
}  // namespace

shell::shell() {
    current_shell = this;
    // virsh quietens the library and reports the saved error when a command fails
    set_error_handler([](const error_info& info) {
        if (current_shell != nullptr) current_shell->last_error_ = info;
    });
}

shell::~shell() {
    set_error_handler({});
    current_shell = nullptr;
    if (log_fd_ >= 0) ::close(log_fd_);
}

bool shell::open_log() {
    if (log_file.empty()) return true;
    log_fd_ = ::open(log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_SYNC, 0644);
    if (log_fd_ < 0) {
        error("failed to open the log file. check the log file path");
        return false;
    }
    return true;
}

void shell::log(int level, std::string_view text) {
    if (log_fd_ < 0) return;
    // vshOutputLogFile: "[YYYY.MM.DD HH:MM:SS program pid] LEVEL message", one line a message
    static constexpr std::string_view level_names[] = {"DEBUG", "INFO", "INFO", "WARNING", "ERROR"};
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y.%m.%d %H:%M:%S", &local);
    std::string line = "[" + std::string(stamp) + " " + progname + " " + std::to_string(::getpid()) + "] ";
    line += level >= 0 && level <= debug_error ? level_names[level] : level_names[0];
    line += ' ';
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    line += text;
    line += '\n';
    std::size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::write(log_fd_, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(log_fd_);
            log_fd_ = -1;
            error("failed to write the log file");
            return;
        }
        done += static_cast<std::size_t>(n);
    }
}

void shell::debug(int level, std::string_view text) {
    if (level < debug_level) return;
    log(level, text);
    std::cout << text;
    std::cout.flush();
}

void shell::print(std::string_view text) { std::cout << text; }

void shell::print_extra(std::string_view text) {
    if (!quiet) std::cout << text;
}

void shell::error(std::string_view text) {
    log(debug_error, text);
    std::cout.flush();
    std::cerr << "error: " << text << '\n';
    std::cerr.flush();
}

void shell::report_last_error() {
    std::optional<error_info> e = last_error_;
    if (!e) e = virtpp::last_error();
    if (e && e->code != error_code::ok) error(e->message);
    reset_last_error();
}

void shell::reset_last_error() {
    last_error_.reset();
    virtpp::reset_last_error();
}

void shell::set_pending_error(error_code code, std::string message) {
    last_error_ = make_error_info(code, error_domain::none, "");
    last_error_->message = std::move(message);
}

std::optional<error_code> shell::last_error_code() const {
    if (last_error_) return last_error_->code;
    if (auto e = virtpp::last_error()) return e->code;
    return std::nullopt;
}

bool shell::reconnect(const std::optional<std::string>& name, bool read_only, bool force) {
    if (!read_only && !name) read_only = readonly;
    bool was_connected = conn_.has_value();
    conn_.reset();
    try {
        std::string uri = name ? *name : connect_name.value_or("");
        conn_.emplace(any_connection::open<drivers>(uri, read_only ? open_flags::read_only : 0U));
    } catch (const virtpp::error&) {
        conn_.reset();
        error(disconnected_ ? "Failed to reconnect to the hypervisor" : "failed to connect to the hypervisor");
        return false;
    }
    if (name) connect_name = *name;
    readonly = read_only;
    // virsh asks every new connection for keepalive; local drivers have none to offer
    debug(debug_info, "Failed to setup keepalive on connection\n");
    reset_last_error();
    if (was_connected && !force) error("Reconnected to the hypervisor");
    disconnected_ = false;
    return true;
}

any_connection* shell::connection() {
    if ((!conn_ || disconnected_) && !reconnect(std::nullopt, false, false)) return nullptr;
    if (!conn_) {
        error("no valid connection");
        return nullptr;
    }
    reset_last_error();
    return &*conn_;
}

void shell::disconnect() { conn_.reset(); }

bool shell::run(const std::vector<parsed_command>& commands) {
    bool ret = true;
    for (const auto& cmd : commands) {
        const auto before = std::chrono::system_clock::now();
        const bool no_connect = (cmd.def->flags & cmd_flag::no_connect) != 0;
        command_handler handler = nullptr;
        for (auto family : {domain_handlers(), monitor_handlers(), host_handlers(), network_handlers(), shell_handlers(),
                            device_handlers(), tuning_handlers(), edit_handlers(), event_handlers(),
                            stream_handlers(), job_handlers(),
                            stats_handlers(), storage_handlers(), snapshot_handlers()})
            for (const auto& h : family)
                if (h.name == cmd.def->name) handler = h.run;
        if (no_connect || connection() != nullptr) {
            try {
                ret = handler(*this, cmd);
            } catch (const virtpp::error&) {
                ret = false;  // the handler already holds the error for the report below
            }
        } else {
            ret = false;
        }
        const auto after = std::chrono::system_clock::now();
        if (!ret) {
            if (auto code = last_error_code();
                code && (*code == error_code::rpc || *code == error_code::no_connect || *code == error_code::invalid_conn))
                disconnected_ = true;
            report_last_error();
        }
        if (cmd.def->name == "quit" || cmd.def->name == "exit") return ret;
        if (timing) {
            // virsh measures in microseconds of wall-clock time
            const auto us = std::chrono::duration_cast<std::chrono::microseconds>(after - before).count();
            char buf[64];
            std::snprintf(buf, sizeof buf, "\n(Time: %.3f ms)\n\n", static_cast<double>(us) / 1000.0);
            print(buf);
        } else {
            print_extra("\n");
        }
    }
    return ret;
}

bool shell::run_string(std::string_view text) {
    std::vector<parsed_command> commands;
    if (!parse_string(command_table(), text, commands, [this](const std::string& m) { error(m); },
                      [this](const std::string& m) { debug(debug_info, m); }))
        return false;
    return run(commands);
}

bool shell::opt_string(const parsed_command& cmd, std::string_view name, std::optional<std::string>& out) {
    out.reset();
    const given_option* o = cmd.find(name);
    if (o == nullptr) return true;
    if (o->value.empty() && (o->def->flags & opt_flag::empty_ok) == 0) {
        error("Failed to get option '" + std::string(name) + "': Option argument is empty");
        return false;
    }
    out = o->value;
    return true;
}

namespace {
std::string malformed(const std::string& value, std::string_view name) {
    return "Numeric value '" + value + "' for <" + std::string(name) + "> option is malformed or out of range";
}
}  // namespace

bool shell::opt_int(const parsed_command& cmd, std::string_view name, std::optional<int>& out) {
    const given_option* o = cmd.find(name);
    if (o == nullptr) return true;
    long long v = 0;
    if (!to_ll(o->value, v) || v < INT_MIN || v > INT_MAX) {
        error(malformed(o->value, name));
        return false;
    }
    out = static_cast<int>(v);
    return true;
}

bool shell::opt_uint(const parsed_command& cmd, std::string_view name, std::optional<unsigned>& out, bool wrap) {
    const given_option* o = cmd.find(name);
    if (o == nullptr) return true;
    unsigned long long v = 0;
    bool ok = to_ull(o->value, v, wrap);
    if (ok && wrap) {
        // virStrToLong_ui accepts what fits in 32 bits, negative values wrapping around
        long long sv = 0;
        if (o->value.find('-') != std::string::npos) ok = to_ll(o->value, sv) && sv >= -static_cast<long long>(UINT_MAX);
        else ok = v <= UINT_MAX;
        v = static_cast<unsigned>(o->value.find('-') != std::string::npos ? static_cast<unsigned long long>(sv) : v);
    } else if (ok && v > UINT_MAX) {
        ok = false;
    }
    if (!ok) {
        error(malformed(o->value, name));
        return false;
    }
    out = static_cast<unsigned>(v);
    return true;
}

bool shell::opt_ull(const parsed_command& cmd, std::string_view name, std::optional<std::uint64_t>& out) {
    const given_option* o = cmd.find(name);
    if (o == nullptr) return true;
    unsigned long long v = 0;
    if (!to_ull(o->value, v, false)) {
        error(malformed(o->value, name));
        return false;
    }
    out = v;
    return true;
}

bool shell::opt_scaled(const parsed_command& cmd, std::string_view name, std::optional<std::uint64_t>& out,
                       std::uint64_t scale, std::uint64_t max) {
    const given_option* o = cmd.find(name);
    if (o == nullptr) return true;
    auto fail = [&] {
        error("Scaled numeric value '" + o->value + "' for <" + std::string(name) + "> option is malformed or out of range");
        return false;
    };
    const std::string& s = o->value;
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || errno != 0 || end == s.c_str() ||
        std::memchr(s.c_str(), '-', static_cast<std::size_t>(end - s.c_str())) != nullptr)
        return fail();
    // virScaleInteger: b, or k/m/g/t/p/e with nothing (1024), "iB" (1024) or "B" (1000) after it
    std::string_view suffix(end);
    std::uint64_t unit = scale;
    if (!suffix.empty()) {
        std::uint64_t base = 0;
        if (suffix.size() == 1) base = 1024;
        else if (suffix.size() == 2 && (suffix[1] == 'b' || suffix[1] == 'B')) base = 1000;
        else if (suffix.size() == 3 && suffix[1] == 'i' && (suffix[2] == 'b' || suffix[2] == 'B')) base = 1024;
        else return fail();
        int power = 0;
        switch (suffix[0]) {
        case 'b': case 'B':
            if (suffix.size() != 1) return fail();
            power = 0;
            break;
        case 'k': case 'K': power = 1; break;
        case 'm': case 'M': power = 2; break;
        case 'g': case 'G': power = 3; break;
        case 't': case 'T': power = 4; break;
        case 'p': case 'P': power = 5; break;
        case 'e': case 'E': power = 6; break;
        default: return fail();
        }
        unit = 1;
        for (int i = 0; i < power; ++i) unit *= base;
    }
    if (v > max / unit) return fail();
    out = v * unit;
    return true;
}

std::optional<any_domain> shell::domain(const parsed_command& cmd, std::string* name, bool by_id, bool by_uuid,
                                        bool by_name) {
    std::optional<std::string> n;
    if (!cmd.has("domain")) {
        error("Failed to get option 'domain': Mandatory option not present");
        return std::nullopt;
    }
    if (!opt_string(cmd, "domain", n)) return std::nullopt;
    if (name != nullptr) *name = *n;
    const std::string cmdname(cmd.def->name);
    debug(debug_info, cmdname + ": found option <domain>: " + *n + "\n");
    any_connection* c = connection();
    std::optional<any_domain> dom;
    if (c != nullptr) {
        long long id = 0;
        if (by_id && to_ll(*n, id) && id >= 0 && id <= INT_MAX) {
            debug(debug_debug, cmdname + ": <domain> looks like ID\n");
            try { dom = c->lookup_domain_by_id(static_cast<int>(id)); } catch (const virtpp::error&) {}
        }
        if (!dom && by_uuid && n->size() == 36) {
            debug(debug_debug, cmdname + ": <domain> trying as domain UUID\n");
            try { dom = c->lookup_domain_by_uuid_string(*n); } catch (const virtpp::error&) {}
        }
        if (!dom && by_name) {
            debug(debug_debug, cmdname + ": <domain> trying as domain NAME\n");
            try { dom = c->lookup_domain_by_name(*n); } catch (const virtpp::error&) {}
        }
    }
    reset_last_error();
    if (!dom) error("failed to get domain '" + *n + "'");
    return dom;
}

std::optional<any_network> shell::network(const parsed_command& cmd, std::string* name, bool by_uuid, bool by_name) {
    std::optional<std::string> n;
    if (!cmd.has("network")) {
        error("Failed to get option 'network': Mandatory option not present");
        return std::nullopt;
    }
    if (!opt_string(cmd, "network", n)) return std::nullopt;
    if (name != nullptr) *name = *n;
    const std::string cmdname(cmd.def->name);
    debug(debug_info, cmdname + ": found option <network>: " + *n + "\n");
    any_connection* c = connection();
    std::optional<any_network> net;
    if (c != nullptr) {
        if (by_uuid && n->size() == 36) {
            debug(debug_debug, cmdname + ": <network> trying as network UUID\n");
            try { net = c->lookup_network_by_uuid_string(*n); } catch (const virtpp::error&) {}
        }
        if (!net && by_name) {
            debug(debug_debug, cmdname + ": <network> trying as network NAME\n");
            try { net = c->lookup_network_by_name(*n); } catch (const virtpp::error&) {}
        }
    }
    if (!net) error("failed to get network '" + *n + "'");
    return net;
}

bool shell::read_file(const std::string& path, std::string& out) {
    // virFileReadAll's messages; the error stays pending for the command's failure report
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        last_error_ = make_error_info(error_code::system_error, error_domain::none, "");
        last_error_->message = "Failed to open file '" + path + "': " + std::strerror(errno == 0 ? ENOENT : errno);
        return false;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) {
        last_error_ = make_error_info(error_code::system_error, error_domain::none, "");
        last_error_->message = "Failed to read file '" + path + "': " + std::strerror(errno);
        return false;
    }
    out = buf.str();
    return true;
}

}  // namespace virtpp::cli
