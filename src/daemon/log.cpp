// virtppd's log: libvirt's log_level / log_filters / log_outputs, with stderr, file, syslog and
// journald outputs. The journal is spoken to directly (its native datagram protocol on
// /run/systemd/journal/socket), so no libsystemd is needed.
#include <virtpp/rpc/server.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <set>
#include <sstream>
#include <stdexcept>

namespace virtpp::daemon {

namespace {

constexpr const char* level_names[] = {"debug", "debug", "info", "warning", "error"};

int clamp_level(int level) { return level < 1 ? 1 : (level > 4 ? 4 : level); }

/// syslog's and the journal's priority for a libvirt level.
int syslog_priority(int level) {
    switch (clamp_level(level)) {
    case 1: return LOG_DEBUG;
    case 2: return LOG_INFO;
    case 3: return LOG_WARNING;
    default: return LOG_ERR;
    }
}

std::string timestamp() {
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[40];
    std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    std::snprintf(stamp + n, sizeof stamp - n, ".%03lld+0000", static_cast<long long>(ms));
    return stamp;
}

/// "N" of "N:..." as a libvirt level, or 0 when it is not one.
int parse_level(const std::string& text) {
    if (text.size() != 1 || text[0] < '1' || text[0] > '4') return 0;
    return text[0] - '0';
}

std::vector<std::string> split_words(const std::string& text) {
    std::vector<std::string> words;
    std::istringstream in(text);
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

}  // namespace

struct logger::output {
    virtual ~output() = default;
    virtual void emit(int level, std::string_view category, const std::string& line) = 0;
    int level = 3;
};

namespace {

/// stderr or an appended file: "TIMESTAMP: PID: LEVEL : MESSAGE".
class stream_output final : public logger::output {
public:
    stream_output() : out_(stderr) {}
    explicit stream_output(const std::string& path) : out_(std::fopen(path.c_str(), "ae")), owned_(true) {
        if (out_ == nullptr) throw std::runtime_error("cannot open log file " + path + ": " + std::strerror(errno));
    }
    ~stream_output() override {
        if (owned_) std::fclose(out_);
    }
    stream_output(const stream_output&) = delete;
    stream_output& operator=(const stream_output&) = delete;

    void emit(int level, std::string_view, const std::string& line) override {
        std::fprintf(out_, "%s: %d: %s : %s\n", timestamp().c_str(), static_cast<int>(::getpid()),
                     level_names[clamp_level(level)], line.c_str());
        std::fflush(out_);
    }

private:
    std::FILE* out_;
    bool owned_ = false;
};

/// syslog(3), facility daemon. openlog() keeps a pointer to the identity for the process's life,
/// across reconfigurations, so identities are kept (never freed) in one set.
class syslog_output final : public logger::output {
public:
    explicit syslog_output(const std::string& ident) {
        static std::mutex idents_mutex;
        static std::set<std::string> idents;
        std::lock_guard lock(idents_mutex);
        ::openlog(idents.insert(ident).first->c_str(), LOG_PID, LOG_DAEMON);
    }

    void emit(int level, std::string_view, const std::string& line) override {
        ::syslog(syslog_priority(level), "%s", line.c_str());
    }
};

/// The journal's native protocol: one datagram of FIELD=value lines per entry; a value holding a
/// newline is sent as FIELD\n, its length (64-bit little endian), the bytes, \n.
class journald_output final : public logger::output {
public:
    journald_output() : path_(journal_socket_path()) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error(std::string("cannot create the journal socket: ") + std::strerror(errno));
        if (path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
            ::close(fd_);
            throw std::runtime_error("journal socket path too long: " + path_);
        }
    }
    ~journald_output() override { ::close(fd_); }
    journald_output(const journald_output&) = delete;
    journald_output& operator=(const journald_output&) = delete;

    void emit(int level, std::string_view category, const std::string& line) override {
        std::string entry;
        field(entry, "MESSAGE", line);
        field(entry, "PRIORITY", std::to_string(syslog_priority(level)));
        field(entry, "SYSLOG_IDENTIFIER", "virtppd");
        field(entry, "SYSLOG_PID", std::to_string(::getpid()));
        field(entry, "LIBVIRT_SOURCE", std::string(category));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path_.data(), path_.size());
        // a lost line is not worth blocking the daemon for: the journal may be busy or gone
        (void)::sendto(fd_, entry.data(), entry.size(), MSG_NOSIGNAL | MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&addr),
                       sizeof addr);
    }

private:
    static void field(std::string& entry, std::string_view name, std::string_view value) {
        constexpr std::size_t max_value = 48 * 1024;  // well inside a datagram's limit
        if (value.size() > max_value) value = value.substr(0, max_value);
        entry.append(name);
        if (value.find('\n') == std::string_view::npos) {
            entry += '=';
            entry.append(value);
        } else {
            entry += '\n';
            std::uint64_t n = value.size();
            for (int i = 0; i < 8; ++i) entry += static_cast<char>((n >> (8 * i)) & 0xff);
            entry.append(value);
        }
        entry += '\n';
    }

    std::string path_;
    int fd_ = -1;
};

}  // namespace

std::string journal_socket_path() {
    if (const char* p = std::getenv("VIRTPP_JOURNAL_SOCKET"); p != nullptr && *p != '\0') return p;
    return "/run/systemd/journal/socket";
}

logger::logger(int level) : lowest_(clamp_level(level)), default_level_(clamp_level(level)) {
    auto out = std::make_unique<stream_output>();
    out->level = default_level_;
    outputs_.push_back(std::move(out));
}

logger::logger(int level, const std::string& path) : lowest_(clamp_level(level)), default_level_(clamp_level(level)) {
    auto out = std::make_unique<stream_output>(path);
    out->level = default_level_;
    outputs_.push_back(std::move(out));
}

logger::~logger() = default;

void logger::configure(int level, const std::string& filters_text, const std::string& outputs_text) {
    if (level < 1 || level > 4) throw std::runtime_error("log_level must be 1 (debug) to 4 (error), not " + std::to_string(level));
    std::vector<filter> filters;
    for (const auto& word : split_words(filters_text)) {
        auto colon = word.find(':');
        int l = colon == std::string::npos ? 0 : parse_level(word.substr(0, colon));
        std::string match = colon == std::string::npos ? std::string() : word.substr(colon + 1);
        if (!match.empty() && match[0] == '+') match.erase(0, 1);  // "+": also print a stack trace, in libvirt
        if (l == 0 || match.empty())
            throw std::runtime_error("log_filters: invalid filter '" + word + "' (expected LEVEL:MATCH, LEVEL 1 to 4)");
        filters.push_back({l, match});
    }
    std::vector<std::unique_ptr<output>> outputs;
    auto words = split_words(outputs_text);
    if (words.empty()) words.push_back(std::to_string(level) + ":stderr");
    for (const auto& word : words) {
        auto colon = word.find(':');
        int l = colon == std::string::npos ? 0 : parse_level(word.substr(0, colon));
        std::string rest = colon == std::string::npos ? std::string() : word.substr(colon + 1);
        std::string kind = rest.substr(0, rest.find(':'));
        std::string arg = rest.find(':') == std::string::npos ? std::string() : rest.substr(rest.find(':') + 1);
        std::unique_ptr<output> out;
        if (l == 0) {
            throw std::runtime_error("log_outputs: invalid output '" + word + "' (expected LEVEL:KIND..., LEVEL 1 to 4)");
        } else if (kind == "stderr" && arg.empty() && rest == "stderr") {
            out = std::make_unique<stream_output>();
        } else if (kind == "file" && !arg.empty()) {
            if (arg[0] != '/') throw std::runtime_error("log_outputs: the file of '" + word + "' must be an absolute path");
            out = std::make_unique<stream_output>(arg);
        } else if (kind == "syslog" && !arg.empty()) {
            if (std::any_of(outputs.begin(), outputs.end(), [](const auto& o) { return dynamic_cast<syslog_output*>(o.get()); }))
                throw std::runtime_error("log_outputs: only one syslog output is possible ('" + word + "')");
            out = std::make_unique<syslog_output>(arg);
        } else if (kind == "journald" && rest == "journald") {
            out = std::make_unique<journald_output>();
        } else {
            throw std::runtime_error("log_outputs: invalid output '" + word +
                                     "' (kinds: LEVEL:stderr, LEVEL:file:PATH, LEVEL:syslog:IDENT, LEVEL:journald)");
        }
        out->level = l;
        outputs.push_back(std::move(out));
    }
    // An output asking for a lower level than log_level also lowers the default: "2:file:PATH"
    // gets the connection (info) lines with the default log_level 3, as virtppd always gave them.
    int def = level;
    for (const auto& o : outputs) def = std::min(def, o->level);
    int lowest = def;
    for (const auto& f : filters) lowest = std::min(lowest, f.level);

    std::lock_guard lock(mutex_);
    outputs_ = std::move(outputs);
    filters_ = std::move(filters);
    default_level_ = def;
    lowest_.store(lowest, std::memory_order_relaxed);
}

void logger::write(int level, const std::string& line) { write(level, "daemon", line); }

void logger::write(int level, std::string_view category, const std::string& line) {
    if (level < lowest_.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(mutex_);
    int threshold = default_level_;
    for (const auto& f : filters_)
        if (category.find(f.match) != std::string_view::npos) {
            threshold = f.level;
            break;
        }
    if (level < threshold) return;
    for (const auto& o : outputs_)
        if (level >= o->level) o->emit(level, category, line);
}

}  // namespace virtpp::daemon
