#include <virtpp/runtime_dirs.hpp>

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace virtpp {

std::string user_runtime_base() {
    if (const char* r = std::getenv("XDG_RUNTIME_DIR"); r != nullptr && *r != '\0') return r;
    if (const char* c = std::getenv("XDG_CACHE_HOME"); c != nullptr && *c != '\0') return c;
    if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return std::string(h) + "/.cache";
    if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_dir != nullptr) return std::string(pw->pw_dir) + "/.cache";
    return "/.cache";
}

}  // namespace virtpp
