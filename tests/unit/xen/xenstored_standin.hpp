// An in-test xenstored: the XenStore wire protocol of Xen's io/xs_wire.h over a unix socket, as
// the C xenstored answers it for a dom0 client — read, write (creating parents), mkdir, rm
// (recursive), directory, get/set perms, watch (fired once at registration and on every change at
// or below the path), unwatch, transactions (a private copy of the tree; EAGAIN at commit when the
// tree changed meanwhile), get_domain_path. Errors are XS_ERROR with the errno's name. Relative
// paths are relative to /local/domain/0. Requests are answered in order, one connection a thread.
//
//   xenstored_standin xs(dir + "/socket");
//   xs.write("/local/domain/3/name", "guest");
//   setenv("XENSTORED_PATH", xs.path().c_str(), 1);   // Debian's xenstore-* clients use it
#pragma once

#include <virtpp/xen/xenstore_client.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace virtpp::test {

class xenstored_standin {
public:
    explicit xenstored_standin(std::string path) : path_(std::move(path)) {
        tree_["/"] = "";
        ::unlink(path_.c_str());
        listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (path_.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long");
        std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
        if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0)
            throw std::runtime_error("cannot listen on " + path_ + ": " + std::strerror(errno));
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~xenstored_standin() {
        stopping_ = true;
        ::shutdown(listen_fd_, SHUT_RDWR);
        ::close(listen_fd_);
        acceptor_.join();
        {
            std::lock_guard lock(mutex_);
            for (auto& c : conns_) ::shutdown(c->fd, SHUT_RDWR);
        }
        for (auto& t : workers_) t.join();
        for (auto& c : conns_) ::close(c->fd);
        ::unlink(path_.c_str());
    }
    xenstored_standin(const xenstored_standin&) = delete;
    xenstored_standin& operator=(const xenstored_standin&) = delete;

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    /// Direct access for tests (as a write by another client: watches fire).
    void write(const std::string& p, const std::string& value) {
        std::lock_guard lock(mutex_);
        write_node(tree_, p, value);
        ++generation_;
        fire(p);
    }
    [[nodiscard]] std::optional<std::string> read(const std::string& p) {
        std::lock_guard lock(mutex_);
        auto it = tree_.find(p);
        if (it == tree_.end()) return std::nullopt;
        return it->second;
    }
    /// Every request type received, in order (tests check what a client sent).
    [[nodiscard]] std::vector<std::uint32_t> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }

private:
    using tree = std::map<std::string, std::string>;
    struct conn {
        int fd;
        std::mutex write_mutex;
        std::set<std::pair<std::string, std::string>> watches;  // (path, token)
    };
    struct transaction {
        tree copy;
        std::uint64_t generation;
        std::vector<std::string> changed;
    };

    static std::string parent_of(const std::string& p) {
        auto slash = p.rfind('/');
        return slash == 0 ? "/" : p.substr(0, slash);
    }
    static bool valid(const std::string& p) {
        if (p.empty() || p[0] != '/' || p.size() > virtpp::xen::xenstore_abs_path_max) return false;
        if (p.size() > 1 && p.back() == '/') return false;
        if (p.find("//") != std::string::npos) return false;
        for (unsigned char c : p)
            if (!(std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '@' || c == '.')) return false;
        return true;
    }
    static void write_node(tree& t, const std::string& p, const std::string& value) {
        for (std::string q = parent_of(p); !t.contains(q); q = parent_of(q)) {
            t[q] = "";
            if (q == "/") break;
        }
        t[p] = value;
    }
    static bool below(const std::string& node, const std::string& watched) {
        if (watched == "/") return true;
        return node == watched || (node.size() > watched.size() && node.compare(0, watched.size(), watched) == 0 &&
                                   node[watched.size()] == '/');
    }

    void send(conn& c, std::uint32_t type, std::uint32_t req_id, std::uint32_t tx, const std::string& body) {
        virtpp::xen::xs_header h{type, req_id, tx, static_cast<std::uint32_t>(body.size())};
        std::string out(sizeof h, '\0');
        std::memcpy(out.data(), &h, sizeof h);
        out += body;
        std::lock_guard lock(c.write_mutex);
        std::size_t done = 0;
        while (done < out.size()) {
            auto n = ::send(c.fd, out.data() + done, out.size() - done, MSG_NOSIGNAL);
            if (n <= 0) return;
            done += static_cast<std::size_t>(n);
        }
    }
    /// Watch events for a change at p (mutex_ held).
    void fire(const std::string& p) {
        for (auto& c : conns_)
            for (const auto& [path, token] : c->watches)
                if (below(p, path))
                    send(*c, static_cast<std::uint32_t>(virtpp::xen::xs_type::watch_event), 0, 0,
                         p + std::string(1, '\0') + token + std::string(1, '\0'));
    }

    void accept_loop() {
        while (!stopping_) {
            int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                if (stopping_) return;
                continue;
            }
            std::lock_guard lock(mutex_);
            conns_.push_back(std::make_unique<conn>());
            conns_.back()->fd = fd;
            conn* c = conns_.back().get();
            workers_.emplace_back([this, c] { serve(*c); });
        }
    }

    static bool read_exact(int fd, void* p, std::size_t n) {
        auto* b = static_cast<char*>(p);
        while (n > 0) {
            auto r = ::recv(fd, b, n, 0);
            if (r <= 0) return false;
            b += r;
            n -= static_cast<std::size_t>(r);
        }
        return true;
    }

    void serve(conn& c) {
        for (;;) {
            virtpp::xen::xs_header h{};
            if (!read_exact(c.fd, &h, sizeof h)) break;
            if (h.len > virtpp::xen::xenstore_payload_max) {
                send(c, static_cast<std::uint32_t>(virtpp::xen::xs_type::error), h.req_id, h.tx_id, std::string("E2BIG") + '\0');
                break;  // xenstored drops a client that overruns the payload limit
            }
            std::string body(h.len, '\0');
            if (h.len && !read_exact(c.fd, body.data(), h.len)) break;
            handle(c, h, body);
        }
        ::shutdown(c.fd, SHUT_RDWR);
    }

    void handle(conn& c, const virtpp::xen::xs_header& h, const std::string& body) {
        using virtpp::xen::xs_type;
        std::lock_guard lock(mutex_);
        requests_.push_back(h.type);
        auto args = virtpp::xen::split_nul(body);
        auto error = [&](const char* name) {
            send(c, static_cast<std::uint32_t>(xs_type::error), h.req_id, h.tx_id, std::string(name) + '\0');
        };
        auto ok = [&] { send(c, h.type, h.req_id, h.tx_id, std::string("OK") + '\0'); };
        auto absolute = [&](std::string p) {
            if (!p.empty() && p[0] != '/') p = "/local/domain/0/" + p;
            return p;
        };
        tree* t = &tree_;
        transaction* tx = nullptr;
        if (h.tx_id != 0) {
            auto it = transactions_.find(h.tx_id);
            if (it == transactions_.end()) return error("ENOENT");
            tx = &it->second;
            t = &tx->copy;
        }
        auto changed = [&](const std::string& p) {
            if (tx) {
                tx->changed.push_back(p);
            } else {
                ++generation_;
                fire(p);
            }
        };
        switch (static_cast<xs_type>(h.type)) {
            case xs_type::read: {
                std::string p = absolute(args.empty() ? "" : args[0]);
                if (!valid(p)) return error("EINVAL");
                auto it = t->find(p);
                if (it == t->end()) return error("ENOENT");
                return send(c, h.type, h.req_id, h.tx_id, it->second);
            }
            case xs_type::directory: {
                std::string p = absolute(args.empty() ? "" : args[0]);
                if (!valid(p)) return error("EINVAL");
                if (!t->contains(p)) return error("ENOENT");
                std::string out;
                std::string prefix = p == "/" ? "/" : p + "/";
                for (auto it = t->lower_bound(prefix); it != t->end() && it->first.starts_with(prefix); ++it) {
                    std::string rest = it->first.substr(prefix.size());
                    if (!rest.empty() && rest.find('/') == std::string::npos) out += rest + '\0';
                }
                return send(c, h.type, h.req_id, h.tx_id, out);
            }
            case xs_type::write: {
                auto nul = body.find('\0');
                if (nul == std::string::npos) return error("EINVAL");
                std::string p = absolute(body.substr(0, nul));
                if (!valid(p)) return error("EINVAL");
                write_node(*t, p, body.substr(nul + 1));
                changed(p);
                return ok();
            }
            case xs_type::mkdir: {
                std::string p = absolute(args.empty() ? "" : args[0]);
                if (!valid(p)) return error("EINVAL");
                if (!t->contains(p)) {
                    write_node(*t, p, "");
                    changed(p);
                }
                return ok();
            }
            case xs_type::rm: {
                std::string p = absolute(args.empty() ? "" : args[0]);
                if (!valid(p) || p == "/") return error("EINVAL");
                if (!t->contains(p)) return t->contains(parent_of(p)) ? ok() : error("ENOENT");
                for (auto it = t->begin(); it != t->end();)
                    it = below(it->first, p) ? t->erase(it) : std::next(it);
                changed(p);
                return ok();
            }
            case xs_type::get_perms: {
                std::string p = absolute(args.empty() ? "" : args[0]);
                if (!t->contains(p)) return error("ENOENT");
                return send(c, h.type, h.req_id, h.tx_id, std::string("n0") + '\0');
            }
            case xs_type::set_perms: {
                std::string p = absolute(args.empty() ? "" : args[0]);
                if (!t->contains(p)) return error("ENOENT");
                return ok();
            }
            case xs_type::watch: {
                if (args.size() < 2) return error("EINVAL");
                std::string p = args[0][0] == '@' ? args[0] : absolute(args[0]);
                if (!c.watches.emplace(p, args[1]).second) return error("EEXIST");
                ok();
                return send(c, static_cast<std::uint32_t>(xs_type::watch_event), 0, 0,
                            args[0] + std::string(1, '\0') + args[1] + std::string(1, '\0'));
            }
            case xs_type::unwatch: {
                if (args.size() < 2) return error("EINVAL");
                std::string p = args[0][0] == '@' ? args[0] : absolute(args[0]);
                if (c.watches.erase({p, args[1]}) == 0) return error("ENOENT");
                return ok();
            }
            case xs_type::transaction_start: {
                if (h.tx_id != 0) return error("EBUSY");
                std::uint32_t id = next_tx_++;
                transactions_[id] = {tree_, generation_, {}};
                return send(c, h.type, h.req_id, 0, std::to_string(id) + '\0');
            }
            case xs_type::transaction_end: {
                if (!tx) return error("EINVAL");
                bool commit = !args.empty() && args[0] == "T";
                transaction done = std::move(*tx);
                transactions_.erase(h.tx_id);
                if (!commit) return ok();
                if (done.generation != generation_) return error("EAGAIN");
                tree_ = std::move(done.copy);
                if (!done.changed.empty()) ++generation_;
                for (const auto& p : done.changed) fire(p);
                return ok();
            }
            case xs_type::get_domain_path: {
                if (args.empty()) return error("EINVAL");
                return send(c, h.type, h.req_id, h.tx_id, "/local/domain/" + args[0] + '\0');
            }
            default: return error("EINVAL");
        }
    }

    std::string path_;
    int listen_fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
    std::mutex mutex_;
    tree tree_;
    std::uint64_t generation_ = 0;
    std::map<std::uint32_t, transaction> transactions_;
    std::uint32_t next_tx_ = 1;
    std::vector<std::unique_ptr<conn>> conns_;
    std::vector<std::thread> workers_;
    std::vector<std::uint32_t> requests_;
};

}  // namespace virtpp::test
