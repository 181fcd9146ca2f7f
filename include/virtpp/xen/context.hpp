// What every part of the Xen driver opens with: the URI and where this host keeps xend,
// xenstored, privcmd and the xm files (see hypervisor/xen.hpp).
#pragma once

#include <virtpp/concepts.hpp>
#include <virtpp/error.hpp>
#include <virtpp/hypervisor/first_of.hpp>  // part_declined: how a part hands a call on
#include <virtpp/types.hpp>
#include <virtpp/uri.hpp>
#include <virtpp/xen/sexpr_domain.hpp>
#include <virtpp/xen/xend_client.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace virtpp::xen {

/// What every part of the Xen driver opens with.
struct context {
    static constexpr error_domain errors = error_domain::xen;

    virtpp::uri uri;
    unsigned flags = 0;
    /// xen:/// (this host's hypervisor): hypercalls, XenStore and xm files may be used. A remote
    /// xend (http://) or an explicit socket path reaches xend alone.
    bool local_host = true;
    xend_endpoint xend;
    /// Deadline of each exchange with xend (VIRTPP_XEND_TIMEOUT_MS overrides the default).
    std::chrono::milliseconds xend_deadline = xend_client::default_deadline;
    std::string xenstored_path;     ///< xenstored's read-write socket
    std::string xenstored_ro_path;  ///< its read-only socket, for read-only connections
    std::string privcmd_path;    ///< empty: /proc/xen/privcmd, then /dev/xen/privcmd
    std::string xm_config_dir;
    /// xend's xend_config_format (node/xend_config_format; 1 when absent); 0 until xend answered.
    /// Below 3 (xend older than 3.0.4) inactive domains live as xm files.
    int xend_config_version = 0;
    /// What XenStore knows of a running domain that xend's record lacks (console tty, VNC port);
    /// set by the xenstore part when it opens, as libvirt 0.3.2 read them for dumpxml.
    std::function<sexpr_runtime(int domid)> runtime_of;
    /// The inactive domains kept outside xend (set by the xm-files part when it opens), so that
    /// xend's list of all domains includes them with xend older than 3.0.4.
    std::function<std::vector<domain_ref>()> defined_elsewhere;

    [[nodiscard]] bool read_only() const noexcept { return (flags & open_flags::read_only) != 0; }
};

}  // namespace virtpp::xen

namespace virtpp::xen {
/// True when this host runs under Xen (/proc/xen exists, or /sys/hypervisor/type says "xen"):
/// then the default URI means xen:///.
[[nodiscard]] bool host_is_xen();
/// The URIs the Xen driver takes: xen:///, "xen", xend socket paths, http://host[:port]/.
[[nodiscard]] bool accepts_uri(const virtpp::uri& u);
/// The context of a URI: where xend, xenstored, privcmd and the xm files are.
[[nodiscard]] std::shared_ptr<context> make_context(const virtpp::uri& u, unsigned flags);

}  // namespace virtpp::xen
