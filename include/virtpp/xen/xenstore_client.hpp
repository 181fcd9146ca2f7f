// A XenStore client over xenstored's unix socket (/var/run/xenstored/socket, or socket_ro for
// reading only), speaking the wire protocol of Xen's public io/xs_wire.h: a 16-byte header
// (type, req_id, tx_id, len; host byte order) and a payload of NUL-separated strings, at most
// XENSTORE_PAYLOAD_MAX bytes. Boost.Asio, every request under a deadline.
//
//   virtpp::xen::xenstore_client xs("/var/run/xenstored/socket");
//   auto name = xs.read("/local/domain/3/name");
//   auto tx = xs.transaction_start(); xs.write("/a", "1", tx); xs.transaction_end(tx, true);
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::xen {

/// Message types of xs_wire.h (enum xsd_sockmsg_type).
enum class xs_type : std::uint32_t {
    control = 0,  ///< XS_DEBUG / XS_CONTROL
    directory = 1,
    read = 2,
    get_perms = 3,
    watch = 4,
    unwatch = 5,
    transaction_start = 6,
    transaction_end = 7,
    introduce = 8,
    release = 9,
    get_domain_path = 10,
    write = 11,
    mkdir = 12,
    rm = 13,
    set_perms = 14,
    watch_event = 15,
    error = 16,
    is_domain_introduced = 17,
    resume = 18,
    set_target = 19,
    restrict_ = 20,
    reset_watches = 21,
    directory_part = 22,
    invalid = 0xffff,
};

/// struct xsd_sockmsg: the header before every payload.
struct xs_header {
    std::uint32_t type = 0;
    std::uint32_t req_id = 0;
    std::uint32_t tx_id = 0;
    std::uint32_t len = 0;
};
static_assert(sizeof(xs_header) == 16, "xsd_sockmsg is four uint32_t");

inline constexpr std::size_t xenstore_payload_max = 4096;  ///< XENSTORE_PAYLOAD_MAX
inline constexpr std::size_t xenstore_abs_path_max = 3072; ///< XENSTORE_ABS_PATH_MAX

class xenstore_client {
public:
    static constexpr std::chrono::milliseconds default_deadline{5000};

    /// Connects; NO_XENSTORE ("could not connect to Xen Store <path>: <why>") when it cannot.
    explicit xenstore_client(std::string socket_path, std::chrono::milliseconds deadline = default_deadline);
    ~xenstore_client();
    xenstore_client(const xenstore_client&) = delete;
    xenstore_client& operator=(const xenstore_client&) = delete;

    /// The value at path; an error reply (ENOENT, EACCES...) raises OPERATION_FAILED in the
    /// XenStore domain naming the request, the path and xenstored's errno name.
    [[nodiscard]] std::string read(std::string_view path, std::uint32_t tx = 0);
    /// As read, but nullopt for ENOENT.
    [[nodiscard]] std::optional<std::string> try_read(std::string_view path, std::uint32_t tx = 0);
    /// The names of path's children.
    [[nodiscard]] std::vector<std::string> directory(std::string_view path, std::uint32_t tx = 0);
    void write(std::string_view path, std::string_view value, std::uint32_t tx = 0);
    void mkdir(std::string_view path, std::uint32_t tx = 0);
    void remove(std::string_view path, std::uint32_t tx = 0);

    /// Starts a transaction; its id goes in the tx argument of the calls above.
    [[nodiscard]] std::uint32_t transaction_start();
    /// Ends it (commit or abort). False when xenstored refused the commit with EAGAIN (something
    /// the transaction read changed meanwhile): the caller retries the whole transaction.
    bool transaction_end(std::uint32_t tx, bool commit);

    /// Registers a watch; xenstored fires it once at once, then on every change under path.
    void watch(std::string_view path, std::string_view token);
    void unwatch(std::string_view path, std::string_view token);
    struct watch_event {
        std::string path;
        std::string token;
    };
    /// The next watch event, waiting up to timeout; nullopt when none came.
    [[nodiscard]] std::optional<watch_event> next_watch_event(std::chrono::milliseconds timeout);

    /// One raw request: the reply's payload (raises on an XS_ERROR reply).
    std::string request(xs_type type, std::string_view payload, std::uint32_t tx = 0);

    [[nodiscard]] const std::string& socket_path() const noexcept { return path_; }

    struct impl;

private:
    std::string path_;
    std::chrono::milliseconds deadline_;
    std::unique_ptr<impl> impl_;
    std::mutex mutex_;
    std::deque<watch_event> events_;
    std::uint32_t next_req_id_ = 1;
};

/// Splits a payload of NUL-terminated strings (a trailing NUL or not) into its strings.
[[nodiscard]] std::vector<std::string> split_nul(std::string_view payload);

}  // namespace virtpp::xen
