// The event half of libvirt's remote protocol (remote_protocol.x of libvirt 9.0): the procedures
// that register and deregister event callbacks, and the messages (type MESSAGE, serial 1, status
// OK) the daemon sends for each event. Shared by virtppd (encodes) and the remote client (decodes).
#pragma once

#include <virtpp/events.hpp>
#include <virtpp/rpc/message.hpp>
#include <virtpp/rpc/xdr.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace virtpp::rpc::events {

// ---- procedure numbers
inline constexpr std::int32_t connect_domain_event_register = 105;
inline constexpr std::int32_t connect_domain_event_deregister = 106;
inline constexpr std::int32_t connect_domain_event_register_any = 167;
inline constexpr std::int32_t connect_domain_event_deregister_any = 168;
inline constexpr std::int32_t connect_network_event_register_any = 313;
inline constexpr std::int32_t connect_network_event_deregister_any = 314;
inline constexpr std::int32_t connect_domain_event_callback_register_any = 316;
inline constexpr std::int32_t connect_domain_event_callback_deregister_any = 317;

// messages without a callback id (legacy registrations, ids up to device-removed)
inline constexpr std::int32_t domain_event_lifecycle = 107;
inline constexpr std::int32_t domain_event_reboot = 169;
inline constexpr std::int32_t domain_event_rtc_change = 170;
inline constexpr std::int32_t domain_event_device_removed = 311;
inline constexpr std::int32_t domain_event_tray_change = 268;
inline constexpr std::int32_t domain_event_pmwakeup = 269;
inline constexpr std::int32_t domain_event_pmsuspend = 270;
inline constexpr std::int32_t domain_event_pmsuspend_disk = 292;
inline constexpr std::int32_t domain_event_balloon_change = 276;
// messages with the callback id first
inline constexpr std::int32_t network_event_lifecycle = 315;
inline constexpr std::int32_t domain_event_callback_lifecycle = 318;
inline constexpr std::int32_t domain_event_callback_reboot = 319;
inline constexpr std::int32_t domain_event_callback_rtc_change = 320;
inline constexpr std::int32_t domain_event_callback_device_removed = 333;
inline constexpr std::int32_t domain_event_callback_device_added = 354;
inline constexpr std::int32_t domain_event_callback_tray_change = 328;
inline constexpr std::int32_t domain_event_callback_pmwakeup = 329;
inline constexpr std::int32_t domain_event_callback_pmsuspend = 330;
inline constexpr std::int32_t domain_event_callback_pmsuspend_disk = 332;
inline constexpr std::int32_t domain_event_callback_balloon_change = 331;
inline constexpr std::int32_t domain_event_callback_job_completed = 363;
/// REMOTE_DOMAIN_JOB_STATS_MAX
inline constexpr std::size_t job_stats_max = 64;

/// The last domain event id the legacy REGISTER_ANY / DEREGISTER_ANY accept (device-removed).
inline constexpr std::int32_t legacy_event_id_max = domain_event_id::device_removed;

// ---- call layouts
struct event_id_args { std::int32_t event_id = 0; };
struct callback_id { std::int32_t id = 0; };
struct cb_registered_ret { std::int32_t registered = 0; };
struct domain_callback_register_args { std::int32_t event_id = 0; std::optional<domain_ref> dom; };
struct network_register_args { std::int32_t event_id = 0; std::optional<network_ref> net; };

// ---- message layouts
struct lifecycle_msg { domain_ref dom; std::int32_t event = 0; std::int32_t detail = 0; };
struct callback_lifecycle_msg { std::int32_t callback_id = 0; lifecycle_msg msg; };
struct dom_msg { domain_ref dom; };
struct callback_dom_msg { std::int32_t callback_id = 0; dom_msg msg; };
struct rtc_change_msg { domain_ref dom; std::int64_t offset = 0; };
struct callback_rtc_change_msg { std::int32_t callback_id = 0; rtc_change_msg msg; };
struct device_msg { domain_ref dom; std::string alias; };
struct callback_device_msg { std::int32_t callback_id = 0; device_msg msg; };
struct callback_device_added_msg { std::int32_t callback_id = 0; domain_ref dom; std::string alias; };
struct tray_change_msg { domain_ref dom; std::string alias; std::int32_t reason = 0; };
struct callback_tray_change_msg { std::int32_t callback_id = 0; tray_change_msg msg; };
// pmwakeup / pmsuspend: the callback form carries a reason the legacy one lacks
struct callback_pm_msg { std::int32_t callback_id = 0; std::int32_t reason = 0; dom_msg msg; };
struct balloon_change_msg { domain_ref dom; std::uint64_t actual = 0; };
struct callback_balloon_change_msg { std::int32_t callback_id = 0; balloon_change_msg msg; };
struct callback_job_completed_msg { std::int32_t callback_id = 0; domain_ref dom; xdr::array<typed_param, job_stats_max> params; };
struct network_lifecycle_msg { std::int32_t callback_id = 0; network_ref net; std::int32_t event = 0; std::int32_t detail = 0; };

/// The header of an event message, as libvirtd writes it.
[[nodiscard]] inline header message_header(std::int32_t procedure) {
    header h;
    h.prog = remote_program;
    h.vers = remote_protocol_version;
    h.proc = procedure;
    h.type = message_type::message;
    h.serial = 1;
    h.status = message_status::ok;
    return h;
}

/// The framed message of a domain event for one registration; empty when the protocol has no
/// message for that event (or none for a legacy registration).
[[nodiscard]] inline std::vector<std::uint8_t> encode_domain_event(const domain_event& e, std::int32_t callback,
                                                                   bool legacy) {
    switch (e.id) {
    case domain_event_id::lifecycle: {
        lifecycle_msg m{e.dom, e.event, e.detail};
        if (legacy) return frame_body(message_header(domain_event_lifecycle), m);
        return frame_body(message_header(domain_event_callback_lifecycle), callback_lifecycle_msg{callback, m});
    }
    case domain_event_id::reboot:
        if (legacy) return frame_body(message_header(domain_event_reboot), dom_msg{e.dom});
        return frame_body(message_header(domain_event_callback_reboot), callback_dom_msg{callback, {e.dom}});
    case domain_event_id::rtc_change: {
        rtc_change_msg m{e.dom, e.rtc_offset};
        if (legacy) return frame_body(message_header(domain_event_rtc_change), m);
        return frame_body(message_header(domain_event_callback_rtc_change), callback_rtc_change_msg{callback, m});
    }
    case domain_event_id::device_removed: {
        device_msg m{e.dom, e.device_alias};
        if (legacy) return frame_body(message_header(domain_event_device_removed), m);
        return frame_body(message_header(domain_event_callback_device_removed), callback_device_msg{callback, m});
    }
    case domain_event_id::device_added:
        if (legacy) return {};
        return frame_body(message_header(domain_event_callback_device_added),
                          callback_device_added_msg{callback, e.dom, e.device_alias});
    case domain_event_id::tray_change: {
        tray_change_msg m{e.dom, e.device_alias, e.reason};
        if (legacy) return frame_body(message_header(domain_event_tray_change), m);
        return frame_body(message_header(domain_event_callback_tray_change), callback_tray_change_msg{callback, m});
    }
    case domain_event_id::pmwakeup:
        if (legacy) return frame_body(message_header(domain_event_pmwakeup), dom_msg{e.dom});
        return frame_body(message_header(domain_event_callback_pmwakeup), callback_pm_msg{callback, e.reason, {e.dom}});
    case domain_event_id::pmsuspend:
        if (legacy) return frame_body(message_header(domain_event_pmsuspend), dom_msg{e.dom});
        return frame_body(message_header(domain_event_callback_pmsuspend), callback_pm_msg{callback, e.reason, {e.dom}});
    case domain_event_id::pmsuspend_disk:
        if (legacy) return frame_body(message_header(domain_event_pmsuspend_disk), dom_msg{e.dom});
        return frame_body(message_header(domain_event_callback_pmsuspend_disk), callback_pm_msg{callback, e.reason, {e.dom}});
    case domain_event_id::balloon_change: {
        balloon_change_msg m{e.dom, e.balloon_actual_kib};
        if (legacy) return frame_body(message_header(domain_event_balloon_change), m);
        return frame_body(message_header(domain_event_callback_balloon_change), callback_balloon_change_msg{callback, m});
    }
    case domain_event_id::job_completed:
        if (legacy) return {};
        return frame_body(message_header(domain_event_callback_job_completed),
                          callback_job_completed_msg{callback, e.dom, {e.job_stats}});
    default: return {};
    }
}

[[nodiscard]] inline std::vector<std::uint8_t> encode_network_event(const network_event& e, std::int32_t callback) {
    return frame_body(message_header(network_event_lifecycle), network_lifecycle_msg{callback, e.net, e.event, e.detail});
}

/// A decoded event message: the callback id it names (absent for legacy messages) and the event.
struct decoded_event {
    std::optional<std::int32_t> callback;
    event what;
};

/// Decodes the body of an event message of `procedure`; nullopt for a procedure this client does
/// not decode. Malformed bodies raise (the caller drops the message).
[[nodiscard]] inline std::optional<decoded_event> decode_event(std::int32_t procedure, std::span<const std::uint8_t> body) {
    auto dom_event = [](domain_ref dom, int id) {
        domain_event e;
        e.dom = std::move(dom);
        e.id = id;
        return e;
    };
    switch (procedure) {
    case domain_event_lifecycle: {
        auto m = xdr::from_bytes<lifecycle_msg>(body);
        return decoded_event{std::nullopt, lifecycle_event(m.dom, m.event, m.detail)};
    }
    case domain_event_callback_lifecycle: {
        auto m = xdr::from_bytes<callback_lifecycle_msg>(body);
        return decoded_event{m.callback_id, lifecycle_event(m.msg.dom, m.msg.event, m.msg.detail)};
    }
    case domain_event_reboot:
        return decoded_event{std::nullopt, dom_event(xdr::from_bytes<dom_msg>(body).dom, domain_event_id::reboot)};
    case domain_event_callback_reboot: {
        auto m = xdr::from_bytes<callback_dom_msg>(body);
        return decoded_event{m.callback_id, dom_event(m.msg.dom, domain_event_id::reboot)};
    }
    case domain_event_rtc_change:
    case domain_event_callback_rtc_change: {
        std::optional<std::int32_t> cb;
        rtc_change_msg m;
        if (procedure == domain_event_rtc_change) {
            m = xdr::from_bytes<rtc_change_msg>(body);
        } else {
            auto c = xdr::from_bytes<callback_rtc_change_msg>(body);
            cb = c.callback_id;
            m = c.msg;
        }
        auto e = dom_event(m.dom, domain_event_id::rtc_change);
        e.rtc_offset = m.offset;
        return decoded_event{cb, e};
    }
    case domain_event_device_removed:
    case domain_event_callback_device_removed: {
        std::optional<std::int32_t> cb;
        device_msg m;
        if (procedure == domain_event_device_removed) {
            m = xdr::from_bytes<device_msg>(body);
        } else {
            auto c = xdr::from_bytes<callback_device_msg>(body);
            cb = c.callback_id;
            m = c.msg;
        }
        auto e = dom_event(m.dom, domain_event_id::device_removed);
        e.device_alias = m.alias;
        return decoded_event{cb, e};
    }
    case domain_event_callback_device_added: {
        auto m = xdr::from_bytes<callback_device_added_msg>(body);
        auto e = dom_event(m.dom, domain_event_id::device_added);
        e.device_alias = m.alias;
        return decoded_event{m.callback_id, e};
    }
    case domain_event_tray_change:
    case domain_event_callback_tray_change: {
        std::optional<std::int32_t> cb;
        tray_change_msg m;
        if (procedure == domain_event_tray_change) {
            m = xdr::from_bytes<tray_change_msg>(body);
        } else {
            auto c = xdr::from_bytes<callback_tray_change_msg>(body);
            cb = c.callback_id;
            m = c.msg;
        }
        auto e = dom_event(m.dom, domain_event_id::tray_change);
        e.device_alias = m.alias;
        e.reason = m.reason;
        return decoded_event{cb, e};
    }
    case domain_event_pmwakeup:
    case domain_event_pmsuspend:
    case domain_event_pmsuspend_disk: {
        auto id = procedure == domain_event_pmwakeup    ? domain_event_id::pmwakeup
                  : procedure == domain_event_pmsuspend ? domain_event_id::pmsuspend
                                                        : domain_event_id::pmsuspend_disk;
        return decoded_event{std::nullopt, dom_event(xdr::from_bytes<dom_msg>(body).dom, id)};
    }
    case domain_event_callback_pmwakeup:
    case domain_event_callback_pmsuspend:
    case domain_event_callback_pmsuspend_disk: {
        auto m = xdr::from_bytes<callback_pm_msg>(body);
        auto e = dom_event(m.msg.dom, procedure == domain_event_callback_pmwakeup    ? domain_event_id::pmwakeup
                                      : procedure == domain_event_callback_pmsuspend ? domain_event_id::pmsuspend
                                                                                     : domain_event_id::pmsuspend_disk);
        e.reason = m.reason;
        return decoded_event{m.callback_id, e};
    }
    case domain_event_balloon_change:
    case domain_event_callback_balloon_change: {
        std::optional<std::int32_t> cb;
        balloon_change_msg m;
        if (procedure == domain_event_balloon_change) {
            m = xdr::from_bytes<balloon_change_msg>(body);
        } else {
            auto c = xdr::from_bytes<callback_balloon_change_msg>(body);
            cb = c.callback_id;
            m = c.msg;
        }
        auto e = dom_event(m.dom, domain_event_id::balloon_change);
        e.balloon_actual_kib = m.actual;
        return decoded_event{cb, e};
    }
    case domain_event_callback_job_completed: {
        auto m = xdr::from_bytes<callback_job_completed_msg>(body);
        auto e = dom_event(m.dom, domain_event_id::job_completed);
        e.job_stats = m.params.items;
        return decoded_event{m.callback_id, e};
    }
    case network_event_lifecycle: {
        auto m = xdr::from_bytes<network_lifecycle_msg>(body);
        network_event e;
        e.net = m.net;
        e.event = m.event;
        e.detail = m.detail;
        return decoded_event{m.callback_id, e};
    }
    default: return std::nullopt;
    }
}

}  // namespace virtpp::rpc::events
