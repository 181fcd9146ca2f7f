// open_console / take_screenshot: the in-process QEMU driver's own streams, or a call that opens
// a stream on the daemon behind the remote driver.
#include <virtpp/hypervisor/qemu.hpp>
#include <virtpp/hypervisor/remote.hpp>
#include <virtpp/rpc/streams.hpp>
#include <virtpp/stream.hpp>
#include <virtpp/transport/remote.hpp>

namespace virtpp {

namespace {

template <class F>
auto reported(const any_connection& conn, F&& f) {
    try {
        return f();
    } catch (const error& e) {
        report(e.info(), &conn.errors());  // as every API call: the connection's last error and handler
        throw;
    }
}

rpc::client_session* remote_session(const any_connection& conn, std::shared_ptr<rpc::client_session>& keep) {
    auto* ch = conn.driver_channel_if<hypervisor::remote, transport::remote>();
    if (ch == nullptr) return nullptr;
    keep = ch->shared_session();
    return keep.get();
}

}  // namespace

std::shared_ptr<stream> open_console(const any_connection& conn, const domain_ref& dom, const std::optional<std::string>& dev_name,
                                     unsigned flags) {
    return reported(conn, [&]() -> std::shared_ptr<stream> {
        if (conn.read_only()) raise(error_code::operation_denied, error_domain::domain, "read only access prevents virDomainOpenConsole");
        if (auto* q = conn.driver_channel_if<hypervisor::qemu>()) return q->state().open_console(dom, dev_name, flags);
        std::shared_ptr<rpc::client_session> session;
        if (remote_session(conn, session) != nullptr) {
            std::shared_ptr<stream> st;
            auto args = rpc::xdr::to_bytes(rpc::stream_proc::open_console_args{dom, dev_name, flags});
            (void)rpc::client_session::call_with_stream(session, rpc::stream_proc::domain_open_console, args, st);
            return st;
        }
        raise(error_code::no_support, error_domain::domain, "virDomainOpenConsole");
    });
}

screenshot_data take_screenshot(const any_connection& conn, const domain_ref& dom, unsigned screen, unsigned flags) {
    return reported(conn, [&]() -> screenshot_data {
        if (conn.read_only()) raise(error_code::operation_denied, error_domain::domain, "read only access prevents virDomainScreenshot");
        if (auto* q = conn.driver_channel_if<hypervisor::qemu>()) return q->state().screenshot(dom, screen, flags);
        std::shared_ptr<rpc::client_session> session;
        if (remote_session(conn, session) != nullptr) {
            screenshot_data out;
            auto args = rpc::xdr::to_bytes(rpc::stream_proc::screenshot_args{dom, screen, flags});
            auto reply = rpc::client_session::call_with_stream(session, rpc::stream_proc::domain_screenshot, args, out.data);
            out.mime = rpc::xdr::from_bytes<rpc::stream_proc::screenshot_ret>(reply).mime.value_or("");
            return out;
        }
        raise(error_code::no_support, error_domain::domain, "virDomainScreenshot");
    });
}

}  // namespace virtpp
