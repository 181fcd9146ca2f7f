// Internal: the client's stream layers, each an Asio AsyncReadStream and AsyncWriteStream, stacked
// like Beast's streams, and the session types over them:
//
//   unix_socket                 boost::asio::local::stream_protocol::socket
//   tcp_socket                  boost::asio::ip::tcp::socket
//   tls_stream<tcp_socket>      the sans-I/O Botan engine (rpc/tls.hpp) over the next layer
//   command_stream              a socketpair to ssh or an ext command; the child's stderr kept
//
// All of a session's I/O runs on its one I/O thread, so the layers need no locks; their
// handlers run on that thread.
#pragma once

#include "rpc/client_detail.hpp"
#include "rpc/tls.hpp"

#include <virtpp/rpc/basic_client_session.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace virtpp::rpc {

using unix_socket = boost::asio::local::stream_protocol::socket;
using tcp_socket = boost::asio::ip::tcp::socket;

/// The error code a layer completes with when its own failure (kept in failure()) ended it.
inline boost::system::error_code layer_failed() { return make_error_code(boost::system::errc::protocol_error); }

/// TLS over NextLayer: the engine is fed what the next layer reads, and what it produces is
/// written there in order. handshake() (blocking, before the session starts) runs libvirt's client
/// handshake with its certificate checks and the server's confirmation byte.
template <class NextLayer>
class tls_stream {
public:
    using executor_type = typename NextLayer::executor_type;
    using next_layer_type = NextLayer;
    /// A pending operation's handler. Every handler of a session runs on its one I/O thread, so a
    /// plain call is its executor's; immediate completions are posted.
    using handler_type = std::function<void(boost::system::error_code, std::size_t)>;

    tls_stream(NextLayer next, std::unique_ptr<tls::engine> engine)
        : next_(std::move(next)), engine_(std::move(engine)), raw_(16384) {}
    tls_stream(tls_stream&&) noexcept = default;  // only before any operation started

    [[nodiscard]] executor_type get_executor() noexcept { return next_.get_executor(); }
    [[nodiscard]] NextLayer& next_layer() noexcept { return next_; }
    [[nodiscard]] const std::optional<error_info>& failure() const noexcept { return failure_; }

    /// Client side of libvirt's TLS setup over the (blocking) next layer; raises libvirt's errors.
    void handshake() {
        struct next_io final : tls::blocking_io {
            NextLayer& n;
            explicit next_io(NextLayer& l) : n(l) {}
            std::ptrdiff_t recv(std::uint8_t* buf, std::size_t size) override {
                boost::system::error_code ec;
                auto got = n.read_some(boost::asio::buffer(buf, size), ec);
                if (ec == boost::asio::error::eof) return 0;
                return ec ? -1 : static_cast<std::ptrdiff_t>(got);
            }
            bool send(const std::uint8_t* data, std::size_t size) override {
                boost::system::error_code ec;
                boost::asio::write(n, boost::asio::buffer(data, size), ec);
                return !ec;
            }
            void shutdown() noexcept override {
                boost::system::error_code ignored;
                n.shutdown(NextLayer::shutdown_both, ignored);
            }
        } io(next_);
        tls::client_handshake(*engine_, io);
    }

    template <class MutableBufferSequence, class ReadToken>
    auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
        return boost::asio::async_initiate<ReadToken, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const MutableBufferSequence& b) { this->read(b, erase(std::move(handler))); }, token,
            buffers);
    }

    template <class ConstBufferSequence, class WriteToken>
    auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
        return boost::asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const ConstBufferSequence& b) { this->write(b, erase(std::move(handler))); }, token,
            buffers);
    }

    /// close_notify (best effort), then the next layer both ways.
    void shutdown() noexcept {
        try {
            engine_->close();
            auto out = engine_->take_outgoing();
            if (!flushing_ && !out.empty()) {
                boost::system::error_code ignored;
                boost::asio::write(next_, boost::asio::buffer(out), ignored);
            }
        } catch (...) {
            // the peer may be gone: closing goes on
        }
        boost::system::error_code ignored;
        next_.shutdown(NextLayer::shutdown_both, ignored);
    }

private:
    template <class Handler>
    static handler_type erase(Handler handler) {
        auto shared = std::make_shared<Handler>(std::move(handler));
        return [shared](boost::system::error_code ec, std::size_t n) { std::move (*shared)(ec, n); };
    }

    template <class Buffers>
    void read(const Buffers& buffers, handler_type handler) {
        if (plain_pos_ < plain_.size()) {
            auto n = boost::asio::buffer_copy(buffers, boost::asio::buffer(plain_.data() + plain_pos_, plain_.size() - plain_pos_));
            plain_pos_ += n;
            if (plain_pos_ == plain_.size()) {
                plain_.clear();
                plain_pos_ = 0;
            }
            complete_later(std::move(handler), {}, n);
            return;
        }
        if (failure_) return complete_later(std::move(handler), layer_failed(), 0);
        if (eof_) return complete_later(std::move(handler), boost::asio::error::eof, 0);
        next_.async_read_some(boost::asio::buffer(raw_),
                              [this, buffers, handler = std::move(handler)](boost::system::error_code ec, std::size_t n) mutable {
                                  if (ec) {
                                      if (ec == boost::asio::error::eof) eof_ = true;
                                      engine_->take_plaintext(plain_);
                                      if (plain_.empty()) return handler(ec, 0);
                                      return read(buffers, std::move(handler));
                                  }
                                  try {
                                      engine_->received(raw_.data(), n);
                                  } catch (const virtpp::error& e) {
                                      failure_ = e.info();
                                  }
                                  queue_outgoing();  // an alert, or the answer to a close_notify
                                  engine_->take_plaintext(plain_);
                                  if (engine_->closed()) eof_ = true;
                                  read(buffers, std::move(handler));
                              });
    }

    template <class Buffers>
    void write(const Buffers& buffers, handler_type handler) {
        if (failure_) return complete_later(std::move(handler), layer_failed(), 0);
        if (write_error_) return complete_later(std::move(handler), write_error_, 0);
        if (engine_->closed()) return complete_later(std::move(handler), boost::asio::error::broken_pipe, 0);
        std::vector<std::uint8_t> plain(boost::asio::buffer_size(buffers));
        boost::asio::buffer_copy(boost::asio::buffer(plain), buffers);
        try {
            engine_->send(plain.data(), plain.size());
        } catch (const virtpp::error& e) {
            failure_ = e.info();
            return complete_later(std::move(handler), layer_failed(), 0);
        }
        queue_outgoing();
        write_handler_ = std::move(handler);
        write_size_ = plain.size();
        write_target_ = queued_total_;
        if (flushed_total_ >= write_target_) {
            auto h = std::exchange(write_handler_, nullptr);
            complete_later(std::move(h), {}, write_size_);
        }
    }

    void queue_outgoing() {
        auto out = engine_->take_outgoing();
        if (out.empty()) return;
        queued_total_ += out.size();
        out_.push_back(std::move(out));
        flush();
    }

    void flush() {
        if (flushing_ || out_.empty() || write_error_) return;
        flushing_ = true;
        boost::asio::async_write(next_, boost::asio::buffer(out_.front()), [this](boost::system::error_code ec, std::size_t) {
            flushing_ = false;
            if (ec) {
                write_error_ = ec;
                out_.clear();
                if (write_handler_) {
                    auto h = std::exchange(write_handler_, nullptr);
                    h(ec, 0);
                }
                return;
            }
            flushed_total_ += out_.front().size();
            out_.pop_front();
            if (write_handler_ && flushed_total_ >= write_target_) {
                auto h = std::exchange(write_handler_, nullptr);
                h(boost::system::error_code{}, write_size_);
            }
            flush();
        });
    }

    void complete_later(handler_type handler, boost::system::error_code ec, std::size_t n) {
        boost::asio::post(next_.get_executor(), [h = std::move(handler), ec, n]() mutable { h(ec, n); });
    }

    NextLayer next_;
    std::unique_ptr<tls::engine> engine_;
    std::vector<std::uint8_t> raw_;    ///< what the next layer read
    std::vector<std::uint8_t> plain_;  ///< decrypted, not yet handed out
    std::size_t plain_pos_ = 0;
    std::optional<error_info> failure_;  ///< the engine's error (a fatal alert, a bad record)
    bool eof_ = false;
    std::deque<std::vector<std::uint8_t>> out_;  ///< encrypted, to write in order
    bool flushing_ = false;
    boost::system::error_code write_error_;
    std::uint64_t queued_total_ = 0;
    std::uint64_t flushed_total_ = 0;
    handler_type write_handler_;  ///< the caller's write, done when flushed_total_ reaches write_target_
    std::uint64_t write_target_ = 0;
    std::size_t write_size_ = 0;
};

/// A child process (ssh, an ext command) whose stdin/stdout are the other end of a socketpair
/// (libvirt's virNetSocketNewConnectCommand); its stderr is kept for libvirt's messages.
class command_stream {
public:
    using executor_type = unix_socket::executor_type;
    using lowest_layer_type = unix_socket;

    command_stream(unix_socket socket, int errfd, pid_t pid) : socket_(std::move(socket)), errfd_(errfd), pid_(pid) {}
    command_stream(command_stream&& other) noexcept;
    command_stream& operator=(command_stream&&) = delete;
    command_stream(const command_stream&) = delete;
    ~command_stream();

    [[nodiscard]] executor_type get_executor() noexcept { return socket_.get_executor(); }
    [[nodiscard]] unix_socket& next_layer() noexcept { return socket_; }

    template <class MutableBufferSequence, class ReadToken>
    auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
        return socket_.async_read_some(buffers, std::forward<ReadToken>(token));
    }
    template <class ConstBufferSequence, class WriteToken>
    auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
        return socket_.async_write_some(buffers, std::forward<WriteToken>(token));
    }

    /// What the command wrote on stderr (up to 1 KiB, trailing blanks trimmed).
    [[nodiscard]] std::string error_output();
    void shutdown() noexcept {
        boost::system::error_code ignored;
        socket_.shutdown(unix_socket::shutdown_both, ignored);
    }

private:
    unix_socket socket_;
    int errfd_ = -1;
    pid_t pid_ = -1;
    std::string captured_;
};

namespace detail {

template <class NextLayer>
struct layer_traits<tls_stream<NextLayer>> {
    static constexpr bool reset_is_eof = false;  // a recv error inside TLS, as the blocking stream had it
    static std::string error_output(tls_stream<NextLayer>&) { return {}; }
    static std::optional<error_info> failure(tls_stream<NextLayer>& s, const boost::system::error_code& ec) {
        if (ec == layer_failed() && s.failure()) return s.failure();
        return std::nullopt;
    }
    static void shutdown(tls_stream<NextLayer>& s) noexcept { s.shutdown(); }
};

template <>
struct layer_traits<command_stream> {
    // A reset socketpair means the command exited without reading what we sent (ssh refused the
    // host key or the login): libvirt's virNetSocketReadWire reports a recv error with the
    // command's stderr ("Cannot recv data: <stderr>: Connection reset by peer").
    static constexpr bool reset_is_eof = false;
    static std::string error_output(command_stream& s) { return s.error_output(); }
    static std::optional<error_info> failure(command_stream&, const boost::system::error_code&) { return std::nullopt; }
    static void shutdown(command_stream& s) noexcept { s.shutdown(); }
};

}  // namespace detail

/// A connected stream and the I/O context it lives on, ready to become a session.
template <class Stream>
class connected_stream final : public client_stream {
public:
    connected_stream(std::unique_ptr<boost::asio::io_context> io, Stream stream)
        : io_(std::move(io)), stream_(std::move(stream)) {}
    [[nodiscard]] std::shared_ptr<detail::session_core> start(const client_options& options) override {
        return basic_client_session<Stream>::start(std::move(io_), std::move(*stream_), options);
    }

private:
    std::unique_ptr<boost::asio::io_context> io_;
    std::optional<Stream> stream_;
};

// compiled once, in src/rpc/client_sessions.cpp
extern template class basic_client_session<unix_socket>;
extern template class basic_client_session<tcp_socket>;
extern template class basic_client_session<tls_stream<tcp_socket>>;
extern template class basic_client_session<command_stream>;

}  // namespace virtpp::rpc
