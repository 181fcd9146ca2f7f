// The seed's error model: every failure carries libvirt's code, domain and level, a formatted
// message and the raw extra fields, and is reported through per-connection / global / default
// handlers before the C++ API throws it.
#pragma once

#include <virtpp/error_codes.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace virtpp {

/// One reported error: libvirt's virError, with the concerned objects named by value
/// (a handle may be gone by the time a last error is read).
struct error_info {
    error_code code = error_code::ok;
    error_domain domain = error_domain::none;
    error_level level = error_level::error;
    std::string message;  ///< full human-readable text, e.g. "Domain not found: no domain with matching name 'x'"
    std::optional<std::string> str1, str2, str3;  ///< raw extra data; str1 is usually the message format
    int int1 = 0, int2 = 0;  ///< raw extra data; int1 is the line number for XML errors
    std::string connection_uri;  ///< the connection this concerns, if any
    std::string domain_name;     ///< the domain (guest) this concerns, if any
    std::string network_name;    ///< the network this concerns, if any

    friend bool operator==(const error_info&, const error_info&) = default;
};

/// The exception the C++ API throws, after the handlers ran.
class error : public std::runtime_error {
public:
    explicit error(error_info info);
    error(error_code code, error_domain domain, std::string_view detail);

    [[nodiscard]] error_code code() const noexcept { return info_.code; }
    [[nodiscard]] error_domain domain() const noexcept { return info_.domain; }
    [[nodiscard]] const error_info& info() const noexcept { return info_; }

private:
    error_info info_;
};

/// libvirt's generic text for a code: without detail ("Domain not found") or with the detail
/// slotted in ("Domain not found: %s"). The result is the message libvirt reports.
[[nodiscard]] std::string format_error_message(error_code code, std::string_view detail = {});

/// The name of an error domain as the default handler prints it ("Test Driver", "XML Util").
[[nodiscard]] std::string_view error_domain_name(error_domain domain) noexcept;

/// Builds an error_info with libvirt's message for code and detail (str1 = format, str2 = detail).
[[nodiscard]] error_info make_error_info(error_code code, error_domain domain, std::string_view detail = {},
                                         error_level level = error_level::error);

using error_handler = std::function<void(const error_info&)>;

/// Writes an error to stderr the way virDefaultErrorFunc does: `libvirt: <Domain> error : <message>`.
void default_error_handler(const error_info& info);
/// The same text, for tests and logs.
[[nodiscard]] std::string default_error_text(const error_info& info);

/// Sets the process-wide handler (virSetErrorFunc); an empty one restores the default handler.
void set_error_handler(error_handler handler);

/// Per-thread last error (virGetLastError / virResetLastError / virCopyLastError).
[[nodiscard]] std::optional<error_info> last_error();
void reset_last_error();

/// Per-connection error state (virConnSetErrorFunc / virConnGetLastError / virConnResetLastError).
/// Connections own one; it is safe to use from several threads.
class error_sink {
public:
    void set_handler(error_handler handler);
    [[nodiscard]] std::optional<error_info> last_error() const;
    void reset_last_error();

private:
    friend void report(const error_info&, error_sink*);
    mutable std::mutex mutex_;
    error_handler handler_;
    std::optional<error_info> last_;
};

/// Reports an error as the seed's rules say: the connection's handler if it has one, else the
/// global handler, else the default handler; then keeps it as the thread's (and the connection's)
/// last error.
void report(const error_info& info, error_sink* connection = nullptr);

/// Throws a libvirt error. Nothing is reported here: reporting happens once, at the public API
/// boundary the error leaves through (see api_boundary), as libvirt's virDispatchError does.
[[noreturn]] void raise(const error_info& info);
[[noreturn]] void raise(error_code code, error_domain domain, std::string_view detail);

/// Runs one public API call: an error escaping the outermost boundary on this thread is reported
/// (connection handler, else global handler, else default handler; kept as last error) and
/// rethrown. Nested boundaries (an API implemented with other API calls) report nothing.
template <class F>
decltype(auto) api_boundary(error_sink* connection, F&& body);

namespace detail {
struct boundary_depth {
    boundary_depth() noexcept;
    ~boundary_depth();
    boundary_depth(const boundary_depth&) = delete;
    boundary_depth& operator=(const boundary_depth&) = delete;
    [[nodiscard]] bool outermost() const noexcept;
};
}  // namespace detail

template <class F>
decltype(auto) api_boundary(error_sink* connection, F&& body) {
    detail::boundary_depth depth;
    try {
        return std::forward<F>(body)();
    } catch (const error& e) {
        if (depth.outermost()) report(e.info(), connection);
        throw;
    }
}

}  // namespace virtpp
