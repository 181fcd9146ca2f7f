// The per-user daemon's default socket directory follows libvirt (glib's runtime directory).
#include <virtpp/rpc/server.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <unistd.h>

namespace {

/// Sets (or unsets) an environment variable for one scope.
class scoped_env {
public:
    scoped_env(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value != nullptr) ::setenv(name, value, 1);
        else ::unsetenv(name);
    }
    ~scoped_env() {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

TEST(daemon_paths, user_runtime_base_falls_back_as_glib_does) {
    using virtpp::daemon::user_runtime_base;
    scoped_env home("HOME", "/home/u");
    {
        scoped_env rt("XDG_RUNTIME_DIR", "/run/user/7");
        scoped_env cache("XDG_CACHE_HOME", "/c");
        EXPECT_EQ(user_runtime_base(), "/run/user/7");
    }
    {
        scoped_env rt("XDG_RUNTIME_DIR", nullptr);
        scoped_env cache("XDG_CACHE_HOME", "/c");
        EXPECT_EQ(user_runtime_base(), "/c");
    }
    {
        scoped_env rt("XDG_RUNTIME_DIR", "");
        scoped_env cache("XDG_CACHE_HOME", nullptr);
        EXPECT_EQ(user_runtime_base(), "/home/u/.cache");
        if (::geteuid() != 0) EXPECT_EQ(virtpp::daemon::default_unix_sock_dir(), "/home/u/.cache/libvirt");
        else EXPECT_EQ(virtpp::daemon::default_unix_sock_dir(), "/run/libvirt");
    }
}

}  // namespace
