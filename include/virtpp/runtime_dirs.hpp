// Where per-user runtime files live: shared by the client (the session daemon's socket, its
// autostart) and the daemon (its sockets and pid file).
#pragma once

#include <string>

namespace virtpp {

/// glib's g_get_user_runtime_dir(), which libvirt's per-user paths start from: $XDG_RUNTIME_DIR,
/// else the user's cache directory ($XDG_CACHE_HOME, else ~/.cache).
[[nodiscard]] std::string user_runtime_base();

}  // namespace virtpp
