// Internal: the per-user daemon of libvirt's session URIs, and starting it when nobody listens.
//
// libvirt 9.0's rule (remote_sockets.c, virnetsocket.c): for a user other than root, a URI whose
// path is /session (or a test+... URI) with no host and the unix transport, and no socket=
// parameter, goes to the user's own daemon at $XDG_RUNTIME_DIR/libvirt/libvirt-sock (glib's
// fallback when XDG_RUNTIME_DIR is unset: $XDG_CACHE_HOME, else ~/.cache). When nothing listens
// there the client starts the daemon itself with --timeout=120 and retries the connection every
// 10 ms, under a lock file so that two clients start one daemon; LIBVIRT_AUTOSTART=0 turns that off.
#pragma once

#include "rpc/client_detail.hpp"

#include <virtpp/uri.hpp>

#include <memory>
#include <optional>
#include <string>

namespace virtpp::rpc {

/// Where a session URI's daemon listens, and whether the client may start it.
struct user_daemon {
    std::string runtime_dir;  ///< the user's runtime directory + "/libvirt" (socket and lock live there)
    std::string socket;       ///< runtime_dir + "/libvirt-sock"
    bool autostart = false;
};

/// The user daemon for u (unix transport assumed by the caller), or nullopt when the URI goes to
/// the system sockets (root, a socket= parameter, or neither /session nor test+).
[[nodiscard]] std::optional<user_daemon> user_daemon_for(const virtpp::uri& u, unsigned flags);

/// The daemon the client starts: $VIRTPPD_PATH, else virtppd beside the running program, else
/// virtppd from PATH.
[[nodiscard]] std::string session_daemon_path();

/// The --timeout the client gives a daemon it starts: 120 (libvirt's), or
/// $VIRTPP_SESSION_DAEMON_TIMEOUT seconds.
[[nodiscard]] int session_daemon_timeout();

/// Connects to the user daemon, starting it once when the socket is missing or refuses; raises
/// "Failed to connect socket to '<path>': ..." as libvirt does when it still cannot connect.
[[nodiscard]] std::unique_ptr<fd_stream> connect_user_daemon(const user_daemon& d);

}  // namespace virtpp::rpc
