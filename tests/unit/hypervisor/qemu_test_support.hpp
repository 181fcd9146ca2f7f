// Shared by the QEMU driver tests: a temporary state directory, connections to it, and guest XML.
#pragma once

#include <virtpp/connection.hpp>
#include <virtpp/hypervisor/qemu.hpp>
#include <virtpp/transport/local.hpp>

#include "hypervisor/qemu_detail.hpp"
#include "hypervisor/qemu_driver.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace virtpp::qemu_test {

using connection = basic_connection<hypervisor::qemu>;

inline bool have_qemu() { return hypervisor::qemu_detail::find_emulator("x86_64").has_value(); }

/// A state directory of its own for each test, removed afterwards (guests in it are destroyed).
class state_dir {
public:
    state_dir() {
        char tmpl[] = "/tmp/vpq-XXXXXX";
        path_ = ::mkdtemp(tmpl);
        ::setenv("VIRTPP_QEMU_STATE_DIR", path_.c_str(), 1);
    }
    ~state_dir() {
        ::unsetenv("VIRTPP_QEMU_STATE_DIR");
        if (std::getenv("VIRTPP_QEMU_KEEP_STATE") != nullptr) return;  // for a post-mortem
        // Guests outlive their driver by design; a test that failed half-way must not leave its
        // qemu processes behind.
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(path_ + "/run", ec)) {
            if (e.path().extension() != ".json") continue;
            auto text = hypervisor::qemu_detail::read_file(e.path().string());
            auto at = text ? text->find("\"pid\":") : std::string::npos;
            if (at == std::string::npos) continue;
            pid_t pid = static_cast<pid_t>(std::atol(text->c_str() + at + 6));
            auto cmdline = hypervisor::qemu_detail::read_file("/proc/" + std::to_string(pid) + "/cmdline");
            if (pid > 0 && cmdline && cmdline->find("guest=") != std::string::npos) ::kill(pid, SIGKILL);
        }
        std::filesystem::remove_all(path_, ec);
    }
    state_dir(const state_dir&) = delete;
    state_dir& operator=(const state_dir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// A guest with no OS: the firmware finds nothing to boot and idles. Boots in tens of ms.
inline std::string bare_guest(const std::string& name, const std::string& type = "qemu", const std::string& extra_devices = "",
                              const std::string& extra = "") {
    return "<domain type='" + type + "'><name>" + name + "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>" +
           "<os><type arch='x86_64'>hvm</type></os>" + extra + "<devices>" + extra_devices + "</devices></domain>";
}

/// Silences the default error handler for the test's lifetime.
struct quiet_errors {
    quiet_errors() { set_error_handler([](const error_info&) {}); }
    ~quiet_errors() { set_error_handler({}); }
};

}  // namespace virtpp::qemu_test
