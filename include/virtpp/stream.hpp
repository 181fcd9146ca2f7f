// Streams: libvirt's virStream, the byte channel of a domain's console and of a screenshot.
//
//   auto st = virtpp::open_console(conn, dom, std::nullopt, virtpp::console_flags::safe);
//   std::uint8_t buf[4096];
//   for (std::ptrdiff_t n; (n = st->recv(buf)) > 0;) write(1, buf, n);
//   st->finish();
//
// A stream of an in-process driver (the QEMU driver's pty or screenshot file) is non-blocking:
// recv/send return stream::would_block when they would wait, and poll_fd() is the descriptor to
// wait on. A stream to a daemon (the remote driver) blocks. See docs/qemu.md ("Console and
// screenshot") and docs/daemon.md ("Streams").
#pragma once

#include <virtpp/any.hpp>
#include <virtpp/types.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace virtpp {

/// virDomainConsoleFlags.
namespace console_flags {
inline constexpr unsigned force = 1;  ///< take the console over from another session
inline constexpr unsigned safe = 2;   ///< only when the driver guards against two sessions
}  // namespace console_flags

class stream {
public:
    /// recv/send of a non-blocking stream when they would wait (libvirt's -2).
    static constexpr std::ptrdiff_t would_block = -2;

    virtual ~stream() = default;
    /// Up to buf.size() bytes; 0 at the end of the stream; would_block. Errors raise.
    virtual std::ptrdiff_t recv(std::span<std::uint8_t> buf) = 0;
    /// Writes some of data: how much was taken, or would_block. Errors raise.
    virtual std::ptrdiff_t send(std::span<const std::uint8_t> data) = 0;
    /// Ends the stream normally (all data sent); errors of the transfer raise here.
    virtual void finish() = 0;
    /// Ends the stream at once, dropping what is in flight. Never raises.
    virtual void abort() noexcept = 0;
    /// Non-blocking streams: the descriptor that polls readable/writable with the stream; else -1.
    [[nodiscard]] virtual int poll_fd() const noexcept { return -1; }
    /// Set when someone else ended this stream (a console taken over with --force): recv and send
    /// raise from then on, and `hook` runs once, on the thread that revoked it.
    virtual void on_revoked(std::function<void()> hook) { (void)hook; }
    [[nodiscard]] virtual bool revoked() const noexcept { return false; }
};

/// A screenshot: the image's MIME type and a stream of its bytes.
struct screenshot_data {
    std::string mime;
    std::shared_ptr<stream> data;
};

/// virDomainOpenConsole: the guest's console (dev_name: a device alias such as "serial0" or
/// "console0"; absent: the first console, else the first serial port). A second session on one
/// console is refused with OPERATION_FAILED "Active console session exists for this domain"
/// unless flags has console_flags::force, which ends the first one. In-process QEMU driver and
/// the remote driver; others raise NO_SUPPORT.
[[nodiscard]] std::shared_ptr<stream> open_console(const any_connection& conn, const domain_ref& dom,
                                                   const std::optional<std::string>& dev_name, unsigned flags);

/// virDomainScreenshot: screen `screen` of the guest's display as an image.
[[nodiscard]] screenshot_data take_screenshot(const any_connection& conn, const domain_ref& dom, unsigned screen,
                                              unsigned flags);

namespace streams {

/// A non-blocking stream over a descriptor it owns (a pty, a file). `at_close` runs once when the
/// stream is finished, aborted or destroyed. A pty whose other side closed (EIO) reads as the end.
class fd_stream : public stream {
public:
    fd_stream(int fd, std::function<void()> at_close = {});
    ~fd_stream() override;
    fd_stream(const fd_stream&) = delete;
    fd_stream& operator=(const fd_stream&) = delete;

    std::ptrdiff_t recv(std::span<std::uint8_t> buf) override;
    std::ptrdiff_t send(std::span<const std::uint8_t> data) override;
    void finish() override;
    void abort() noexcept override;
    [[nodiscard]] int poll_fd() const noexcept override;
    void on_revoked(std::function<void()> hook) override;
    [[nodiscard]] bool revoked() const noexcept override;
    /// Ends the stream for its owner (see stream::on_revoked).
    void revoke();

private:
    void close_fd() noexcept;
    struct state;
    std::shared_ptr<state> state_;
};

/// Opens a pty for a console session: read-write, no controlling terminal, raw, non-blocking.
/// Only one session per path at a time (see open_console); `force` ends the present one.
[[nodiscard]] std::shared_ptr<stream> open_console_pty(const std::string& path, bool force);

}  // namespace streams

}  // namespace virtpp
