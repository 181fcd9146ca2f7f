// The host side of the QEMU driver: directories, qemu.conf, finding emulators, asking them for
// their machines (cached per binary and mtime), and the capabilities document.
#include "hypervisor/qemu_detail.hpp"

#include <boost/json.hpp>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

namespace virtpp::hypervisor::qemu_detail {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string home_dir() { return env_or("HOME", "/root"); }

[[noreturn]] void fail_errno(std::string_view what, const std::string& path) {
    int e = errno;
    fail(error_code::system_error, std::string(what) + " '" + path + "': " + std::strerror(e));
}

using file_io::run_capture;

/// The cache file for a binary, and the key that says it is still valid.
std::string cache_key(const std::string& binary) {
    struct stat st {};
    if (::stat(binary.c_str(), &st) != 0) return {};
    return binary + "@" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

std::string cache_file(const std::string& cache_dir, const std::string& binary) {
    std::string name = binary;
    for (char& c : name)
        if (c == '/') c = '_';
    return cache_dir + "/" + name + ".json";
}

/// What one binary told us: its version line and machine list, cached as JSON.
struct binary_facts {
    std::uint64_t version = 0;
    std::vector<machine_type> machines;
};

binary_facts probe_binary(const std::string& binary, const std::string& cache_dir) {
    namespace json = boost::json;
    std::string key = cache_key(binary);
    if (key.empty()) fail(error_code::internal_error, "Cannot find QEMU binary " + binary + ": " + std::strerror(ENOENT));
    std::string file = cache_dir.empty() ? std::string() : cache_file(cache_dir, binary);
    if (!file.empty())
        if (auto text = read_file(file)) {
            boost::system::error_code ec;
            auto v = json::parse(*text, ec);
            if (!ec && v.is_object() && v.as_object().contains("key") && v.at("key") == key.c_str()) {
                binary_facts f;
                f.version = v.at("version").to_number<std::uint64_t>();
                for (const auto& m : v.at("machines").as_array()) {
                    machine_type t;
                    t.name = json::value_to<std::string>(m.at("name"));
                    if (m.as_object().contains("alias_of")) t.alias_of = json::value_to<std::string>(m.at("alias_of"));
                    t.is_default = m.at("default").as_bool();
                    t.deprecated = m.at("deprecated").as_bool();
                    f.machines.push_back(std::move(t));
                }
                return f;
            }
        }
    binary_facts f;
    auto version = run_capture(binary, {"-version"});
    if (!version) fail(error_code::internal_error, "Failed to probe capabilities for " + binary);
    // "QEMU emulator version 7.2.22 (Debian ...)"
    if (auto pos = version->find("version "); pos != std::string::npos) {
        unsigned major = 0, minor = 0, micro = 0;
        if (std::sscanf(version->c_str() + pos + 8, "%u.%u.%u", &major, &minor, &micro) >= 2)
            f.version = major * 1000000ULL + minor * 1000ULL + micro;
    }
    auto help = run_capture(binary, {"-machine", "help"});
    if (!help) fail(error_code::internal_error, "Failed to probe capabilities for " + binary);
    std::istringstream lines(*help);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line.starts_with("Supported machines")) continue;
        auto sp = line.find(' ');
        machine_type t;
        t.name = line.substr(0, sp);
        if (t.name == "none") continue;
        std::string rest = sp == std::string::npos ? "" : line.substr(sp);
        if (auto a = rest.find("(alias of "); a != std::string::npos) {
            auto end = rest.find(')', a);
            t.alias_of = rest.substr(a + 10, end - a - 10);
        }
        t.is_default = rest.find("(default)") != std::string::npos;
        t.deprecated = rest.find("(deprecated)") != std::string::npos;
        f.machines.push_back(std::move(t));
    }
    if (!file.empty()) {
        json::object o;
        o["key"] = key;
        o["version"] = f.version;
        json::array ms;
        for (const auto& m : f.machines) {
            json::object jm;
            jm["name"] = m.name;
            if (m.alias_of) jm["alias_of"] = *m.alias_of;
            jm["default"] = m.is_default;
            jm["deprecated"] = m.deprecated;
            ms.push_back(std::move(jm));
        }
        o["machines"] = std::move(ms);
        try {
            make_dirs(cache_dir);
            write_file_atomic(file, json::serialize(o));
        } catch (const virtpp::error&) {
            // an unwritable cache only costs a probe next time
        }
    }
    return f;
}

}  // namespace

driver_paths paths_under(const std::string& root) {
    driver_paths p;
    p.config_dir = root + "/qemu";
    p.autostart_dir = root + "/qemu/autostart";
    p.run_dir = root + "/run";
    p.log_dir = root + "/log";
    p.cache_dir = root + "/cache";
    p.save_dir = root + "/save";
    p.conf_file = root + "/qemu.conf";
    return p;
}

driver_paths paths_for(bool privileged) {
    if (const char* root = std::getenv("VIRTPP_QEMU_STATE_DIR"); root != nullptr && *root != '\0') return paths_under(root);
    driver_paths p;
    if (privileged) {
        p.config_dir = "/etc/libvirt/qemu";
        p.autostart_dir = "/etc/libvirt/qemu/autostart";
        p.run_dir = "/run/libvirt/qemu";
        p.log_dir = "/var/log/libvirt/qemu";
        p.cache_dir = "/var/cache/libvirt/qemu/capabilities";
        p.save_dir = "/var/lib/libvirt/qemu/save";
        p.conf_file = "/etc/libvirt/qemu.conf";
        return p;
    }
    std::string config = env_or("XDG_CONFIG_HOME", home_dir() + "/.config") + "/libvirt";
    std::string cache = env_or("XDG_CACHE_HOME", home_dir() + "/.cache") + "/libvirt";
    std::string runtime = env_or("XDG_RUNTIME_DIR", cache) + "/libvirt";
    p.config_dir = config + "/qemu";
    p.autostart_dir = config + "/qemu/autostart";
    p.run_dir = runtime + "/qemu/run";
    p.log_dir = cache + "/qemu/log";
    p.cache_dir = cache + "/qemu/capabilities";
    p.save_dir = config + "/qemu/save";
    p.conf_file = config + "/qemu.conf";
    return p;
}

driver_config parse_driver_config(std::string_view text, std::string_view file_name) {
    driver_config cfg;
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        auto trim = [](std::string_view s) {
            while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
            while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
            return s;
        };
        line = trim(line);
        if (line.empty()) {
            if (end == text.size()) break;
            continue;
        }
        auto eq = line.find('=');
        auto where = std::string(file_name) + ":" + std::to_string(line_no);
        if (eq == std::string_view::npos) raise(error_code::conf_syntax, error_domain::conf, where + ": expecting a separator");
        auto key = trim(line.substr(0, eq));
        auto value = trim(line.substr(eq + 1));
        std::string str;
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            str = std::string(value.substr(1, value.size() - 2));
        } else if (!value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
            str = std::string(value);
        } else {
            raise(error_code::conf_syntax, error_domain::conf, where + ": expecting a value");
        }
        if (key == "user") cfg.user = str;
        else if (key == "group") cfg.group = str;
        else if (key == "vnc_listen") cfg.vnc_listen = str;
        else if (key == "migration_address") cfg.migration_address = str;
        else if (key == "migration_host") cfg.migration_host = str;
        else if (key == "migration_port_min" || key == "migration_port_max") {
            int port = 0;
            auto [ptr, ec] = std::from_chars(str.data(), str.data() + str.size(), port);
            if (ec != std::errc() || ptr != str.data() + str.size() || port <= 0 || port > 65535)
                raise(error_code::conf_syntax, error_domain::conf,
                      where + ": " + std::string(key) + " must be a port number between 1 and 65535");
            (key == "migration_port_min" ? cfg.migration_port_min : cfg.migration_port_max) = port;
        } else if (key == "save_max_bandwidth") {
            std::uint64_t mib = 0;
            auto [ptr, ec] = std::from_chars(str.data(), str.data() + str.size(), mib);
            if (ec != std::errc() || ptr != str.data() + str.size() || mib > (1ULL << 40))
                raise(error_code::conf_syntax, error_domain::conf, where + ": save_max_bandwidth must be a number of MiB/s");
            cfg.save_max_bandwidth = mib;
        }
        if (end == text.size()) break;
    }
    if (cfg.migration_port_min > cfg.migration_port_max)
        raise(error_code::conf_syntax, error_domain::conf,
              std::string(file_name) + ": migration_port_min must not exceed migration_port_max");
    return cfg;
}

std::optional<std::string> emulator_arch(std::string_view binary) {
    auto slash = binary.rfind('/');
    std::string_view base = slash == std::string_view::npos ? binary : binary.substr(slash + 1);
    constexpr std::string_view prefix = "qemu-system-";
    if (!base.starts_with(prefix)) return std::nullopt;
    std::string arch(base.substr(prefix.size()));
    if (arch == "i386") return "i686";
    return arch;
}

std::optional<std::string> find_emulator(std::string_view arch) {
    std::string suffix = arch == "i686" || arch == "i586" || arch == "i486" || arch == "i386" ? "i386" : std::string(arch);
    std::string path = env_or("PATH", "/usr/local/bin:/usr/bin:/bin");
    std::size_t pos = 0;
    while (pos <= path.size()) {
        auto end = path.find(':', pos);
        if (end == std::string::npos) end = path.size();
        std::string candidate = path.substr(pos, end - pos) + "/qemu-system-" + suffix;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        pos = end + 1;
    }
    // qemu-system-x86_64 runs i686 guests too
    if (suffix == "i386") return find_emulator("x86_64");
    return std::nullopt;
}

bool kvm_usable() {
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) return false;
    // a device that opens is not yet KVM: it must answer with the one stable API version
    bool kvm = ::ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
    ::close(fd);
    return kvm;
}

std::vector<machine_type> machine_types(const std::string& binary, const std::string& cache_dir) {
    return probe_binary(binary, cache_dir).machines;
}

std::uint64_t emulator_version(const std::string& binary, const std::string& cache_dir) {
    return probe_binary(binary, cache_dir).version;
}

xml::capabilities probe_capabilities(const std::string& cache_dir) {
    xml::capabilities caps;
    struct utsname u {};
    ::uname(&u);
    std::string host_arch = u.machine;
    caps.host.cpu.arch = host_arch;
    caps.host.migration = xml::migration_features{true, {"tcp"}};
    caps.host.security_models.push_back({"none", "0", {}});
    bool kvm = kvm_usable();
    // Every qemu-system-* in PATH, each once, in a stable order.
    std::vector<std::string> binaries;
    std::string path = env_or("PATH", "/usr/local/bin:/usr/bin:/bin");
    std::size_t pos = 0;
    while (pos <= path.size()) {
        auto end = path.find(':', pos);
        if (end == std::string::npos) end = path.size();
        std::string dir = path.substr(pos, end - pos);
        pos = end + 1;
        DIR* d = ::opendir(dir.c_str());
        if (d == nullptr) continue;
        std::vector<std::string> names;
        while (auto* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n.starts_with("qemu-system-")) names.push_back(n);
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        for (auto& n : names) {
            bool seen = false;
            for (const auto& b : binaries) seen = seen || b.ends_with("/" + n);
            if (!seen && ::access((dir + "/" + n).c_str(), X_OK) == 0) binaries.push_back(dir + "/" + n);
        }
    }
    for (const auto& bin : binaries) {
        auto arch = emulator_arch(bin);
        if (!arch) continue;
        binary_facts facts;
        try {
            facts = probe_binary(bin, cache_dir);
        } catch (const virtpp::error&) {
            continue;  // a binary that cannot answer is not offered
        }
        xml::guest_capabilities g;
        g.os_type = "hvm";
        g.arch.name = *arch;
        g.arch.wordsize = (*arch == "i686" || *arch == "arm" || *arch == "ppc" || *arch == "mips" || *arch == "mipsel") ? 32 : 64;
        g.arch.emulator = bin;
        for (const auto& m : facts.machines) {
            xml::guest_machine gm;
            gm.name = m.name;
            if (m.alias_of) gm.canonical = m.alias_of;
            gm.deprecated = m.deprecated;
            g.arch.machines.push_back(gm);
        }
        g.arch.domains.push_back({"qemu", std::nullopt, std::nullopt, {}});
        bool native = *arch == host_arch || (host_arch == "x86_64" && *arch == "i686");
        if (kvm && native) g.arch.domains.push_back({"kvm", std::nullopt, std::nullopt, {}});
        if (*arch == "x86_64" || *arch == "i686") {
            g.features.push_back({xml::guest_feature_kind::acpi, true, true});
            g.features.push_back({xml::guest_feature_kind::apic, true, false});
            if (*arch == "i686") g.features.push_back({xml::guest_feature_kind::pae, std::nullopt, std::nullopt});
        }
        caps.guests.push_back(std::move(g));
    }
    return caps;
}

void make_dirs(const std::string& path) {
    if (path.empty()) return;
    std::string partial;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        partial = path.substr(0, pos);
        if (partial.empty()) continue;
        if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) fail_errno("cannot create directory", partial);
    }
}

namespace {

/// The directory's descriptor, closed on scope exit.
struct dir_fd {
    int fd;
    explicit dir_fd(const std::string& dir) : fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
        if (fd < 0) fail_errno("cannot open directory", dir);
    }
    ~dir_fd() { ::close(fd); }
    dir_fd(const dir_fd&) = delete;
    dir_fd& operator=(const dir_fd&) = delete;
};

}  // namespace

void check_state_file_name(std::string_view file) {
    bool bad = file.empty() || file == "." || file == ".." || file.size() > NAME_MAX ||
               file.find('/') != std::string_view::npos || file.find('\0') != std::string_view::npos;
    if (bad) fail(error_code::internal_error, "refusing state file name '" + std::string(file) + "': not a single file name");
}

void write_file_atomic_at(const std::string& dir, const std::string& file, std::string_view content, bool durable) {
    check_state_file_name(file);
    std::string tmp = file + ".new";
    check_state_file_name(tmp);
    dir_fd d(dir);
    int fd = ::openat(d.fd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) fail_errno("cannot write", dir + "/" + tmp);
    std::size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            ::close(fd);
            ::unlinkat(d.fd, tmp.c_str(), 0);
            errno = e;
            fail_errno("cannot write", dir + "/" + tmp);
        }
        done += static_cast<std::size_t>(n);
    }
    if ((durable && ::fsync(fd) != 0) || ::close(fd) != 0) {
        int e = errno;
        ::unlinkat(d.fd, tmp.c_str(), 0);
        errno = e;
        fail_errno("cannot write", dir + "/" + tmp);
    }
    if (::renameat(d.fd, tmp.c_str(), d.fd, file.c_str()) != 0) {
        int e = errno;
        ::unlinkat(d.fd, tmp.c_str(), 0);
        errno = e;
        fail_errno("cannot rename to", dir + "/" + file);
    }
    if (durable) ::fsync(d.fd);
}

std::optional<std::string> read_file_at(const std::string& dir, const std::string& file) {
    check_state_file_name(file);
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        if (errno == ENOENT) return std::nullopt;
        fail_errno("cannot open directory", dir);
    }
    int fd = ::openat(dfd, file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int e = errno;
    ::close(dfd);
    if (fd < 0) {
        if (e == ENOENT) return std::nullopt;
        errno = e;
        fail_errno("cannot read", dir + "/" + file);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(error_code::system_error, "cannot read " + dir + "/" + file + ": not a regular file");
    }
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            fail_errno("cannot read", dir + "/" + file);
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

bool remove_file_at(const std::string& dir, const std::string& file) {
    check_state_file_name(file);
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return errno == ENOENT;
    bool ok = ::unlinkat(dfd, file.c_str(), 0) == 0 || errno == ENOENT;
    int e = errno;
    ::close(dfd);
    errno = e;
    return ok;
}

void append_file_at(const std::string& dir, const std::string& file, std::string_view text) {
    check_state_file_name(file);
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return;
    int fd = ::openat(dfd, file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    ::close(dfd);
    if (fd < 0) return;
    [[maybe_unused]] auto n = ::write(fd, text.data(), text.size());
    ::close(fd);
}

void symlink_at(const std::string& target, const std::string& dir, const std::string& file) {
    check_state_file_name(file);
    dir_fd d(dir);
    if (::symlinkat(target.c_str(), d.fd, file.c_str()) != 0) fail_errno("Failed to create symlink", dir + "/" + file);
}

}  // namespace virtpp::hypervisor::qemu_detail
