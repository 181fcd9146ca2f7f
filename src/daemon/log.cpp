#include <virtpp/rpc/server.hpp>

#include <chrono>
#include <ctime>
#include <stdexcept>
#include <unistd.h>

namespace virtpp::daemon {

logger::logger(int level) : level_(level), out_(stderr) {}

logger::logger(int level, const std::string& path) : level_(level), out_(std::fopen(path.c_str(), "a")), owned_(true) {
    if (out_ == nullptr) throw std::runtime_error("cannot open log file " + path);
}

logger::~logger() {
    if (owned_ && out_ != nullptr) std::fclose(out_);
}

void logger::write(int level, const std::string& line) {
    if (level < level_) return;
    static constexpr const char* names[] = {"debug", "debug", "info", "warning", "error"};
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    std::lock_guard lock(mutex_);
    std::fprintf(out_, "%s.%03lld+0000: %d: %s : %s\n", stamp, static_cast<long long>(ms), static_cast<int>(getpid()),
                 names[level < 0 ? 0 : (level > 4 ? 4 : level)], line.c_str());
    std::fflush(out_);
}

}  // namespace virtpp::daemon
