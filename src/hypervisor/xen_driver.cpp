// The Xen driver's URIs and context: which URIs are Xen's, and where this host keeps xend,
// xenstored, privcmd and the xm files. The parts themselves are xen_<part>.cpp.
#include <virtpp/error.hpp>
#include <virtpp/hypervisor/xen.hpp>

#include <sys/stat.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <string>

namespace virtpp::xen {

namespace {

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : std::move(fallback);
}

bool exists(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

/// An http://host[:port]/ text or a socket path, as VIRTPP_XEND gives it.
xend_endpoint endpoint_of(std::string_view text) {
    xend_endpoint ep;
    if (text.starts_with("http://")) {
        auto u = virtpp::uri::parse(text);
        ep.host = u.host().empty() ? "localhost" : u.host();
        ep.port = u.port().value_or(default_xend_http_port);
    } else {
        ep.unix_path = std::string(text);
    }
    return ep;
}

}  // namespace

bool host_is_xen() {
    if (exists("/proc/xen")) return true;
    std::ifstream type("/sys/hypervisor/type");
    std::string word;
    return type >> word && word == "xen";
}

bool accepts_uri(const virtpp::uri& u) {
    switch (u.kind()) {
        case virtpp::uri::form::legacy_xen:
        case virtpp::uri::form::xend_socket:
        case virtpp::uri::form::xend_http: return true;
        case virtpp::uri::form::default_uri: return host_is_xen();
        case virtpp::uri::form::standard:
            return u.driver() == "xen" && !u.is_remote() && (u.path().empty() || u.path() == "/");
    }
    return false;
}

std::shared_ptr<context> make_context(const virtpp::uri& u, unsigned flags) {
    auto ctx = std::make_shared<context>();
    ctx->uri = u;
    ctx->flags = flags;
    if (u.is_xend_http()) {
        ctx->local_host = false;
        ctx->xend.host = u.host().empty() ? "localhost" : u.host();
        ctx->xend.port = u.port().value_or(default_xend_http_port);
    } else if (u.is_xend_socket()) {
        ctx->local_host = false;
        ctx->xend.unix_path = u.path();
    } else if (const char* over = std::getenv("VIRTPP_XEND"); over && *over) {
        ctx->xend = endpoint_of(over);
    } else if (exists("/var/lib/xend/xend-socket")) {
        ctx->xend.unix_path = "/var/lib/xend/xend-socket";
    } else {
        ctx->xend.host = "localhost";
        ctx->xend.port = default_xend_http_port;
    }
    if (const char* ms = std::getenv("VIRTPP_XEND_TIMEOUT_MS"); ms && *ms) {
        long v = 0;
        std::string_view text(ms);
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc{} || end != text.data() + text.size() || v <= 0 || v > 3600000)
            raise(error_code::invalid_arg, error_domain::xen, "VIRTPP_XEND_TIMEOUT_MS must be 1..3600000, not '" + std::string(text) + "'");
        ctx->xend_deadline = std::chrono::milliseconds(v);
    }
    // Xen's own tools read XENSTORED_PATH for the one socket they use.
    if (const char* xs = std::getenv("XENSTORED_PATH"); xs && *xs) {
        ctx->xenstored_path = ctx->xenstored_ro_path = xs;
    } else {
        ctx->xenstored_path = "/var/run/xenstored/socket";
        ctx->xenstored_ro_path = "/var/run/xenstored/socket_ro";
    }
    ctx->privcmd_path = env_or("VIRTPP_XEN_PRIVCMD", "");
    ctx->xm_config_dir = env_or("VIRTPP_XM_CONFIG_DIR", "/etc/xen");
    return ctx;
}

}  // namespace virtpp::xen

// hypervisor::xen's instantiation lives here once, so every user links the same composition.
template struct virtpp::hypervisor::first_of<virtpp::xen::context, virtpp::xen::hypercalls, virtpp::xen::xend,
                                             virtpp::xen::xenstore, virtpp::xen::xm_files>;
