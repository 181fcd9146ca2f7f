#include "daemon/session.hpp"

#include "daemon/libvirt_procedures.hpp"
#include "daemon/stream_pump.hpp"

#include <virtpp/rpc/streams.hpp>
#include <virtpp/stream.hpp>

#include <virtpp/rpc/events.hpp>
#include <virtpp/version.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>

namespace virtpp::daemon {

namespace xdr = rpc::xdr;

static_assert(std::is_sorted(libvirt_procedures.begin(), libvirt_procedures.end(),
                             [](const libvirt_procedure& a, const libvirt_procedure& b) { return a.number < b.number; }),
              "the generated procedure table is looked up by binary search");

namespace {

using bytes = std::vector<std::uint8_t>;
/// A decoded call, ready to run on a worker: encodes the reply body in place after the header
/// space already in the packet, or raises virtpp::error for an error reply.
using bound_call = std::function<void(client_session&, xdr::encoder&)>;
/// Decodes a call's arguments (raising on malformed input) and binds them.
using binder = bound_call (*)(std::span<const std::uint8_t> body);
/// The same for a call that opens a stream: it needs the call's header (the stream's identity).
using stream_binder = bound_call (*)(std::span<const std::uint8_t> body, const rpc::header& call);

struct table_entry {
    std::int32_t number = 0;
    binder bind = nullptr;
    stream_binder bind_stream = nullptr;
};

std::string hex(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%x", v);
    return buf;
}

bytes error_reply(const rpc::header& call, const error_info& info) {
    rpc::header h = call;
    h.type = rpc::message_type::reply;
    h.status = rpc::message_status::error;
    return rpc::frame_body(h, rpc::to_remote_error(info));
}

bytes keepalive_packet(std::int32_t proc) {
    rpc::header h;
    h.prog = rpc::keepalive_program;
    h.vers = rpc::keepalive_protocol_version;
    h.proc = proc;
    h.type = rpc::message_type::message;
    h.serial = 0;
    h.status = rpc::message_status::ok;
    return rpc::frame_body(h, xdr::none{});
}

/// What an idle client's framing buffer may keep between messages.
constexpr std::size_t idle_buffer_max = 4096;

/// Most replies fit: one allocation per reply.
constexpr std::size_t reply_reserve = 512;

/// Writes the header and the length word in front of a body encoded after their space.
void finish_packet(bytes& packet, const rpc::header& h) {
    if (packet.size() - rpc::length_word_size > rpc::message_max)
        xdr::fail("outgoing message of " + std::to_string(packet.size()) + " bytes is over the limit");
    auto put = [&](std::size_t at, std::uint32_t v) {
        packet[at] = std::uint8_t(v >> 24);
        packet[at + 1] = std::uint8_t(v >> 16);
        packet[at + 2] = std::uint8_t(v >> 8);
        packet[at + 3] = std::uint8_t(v);
    };
    put(0, static_cast<std::uint32_t>(packet.size()));
    put(4, h.prog);
    put(8, h.vers);
    put(12, static_cast<std::uint32_t>(h.proc));
    put(16, static_cast<std::uint32_t>(h.type));
    put(20, h.serial);
    put(24, static_cast<std::uint32_t>(h.status));
}

}  // namespace

/// The procedure handlers; a friend of client_session.
struct dispatcher {
    /// The driver connection for Op; libvirtd's errors when CONNECT_OPEN has not run.
    template <class Op>
    static any_connection connection(client_session& s) {
        std::lock_guard lock(s.mutex_);
        if (!s.conn_) {
            // libvirtd looks the hypervisor connection up for every call except the network
            // driver's, whose connection is opened on demand from a URI it does not have yet.
            if constexpr (Op::name.find("Network") != std::string_view::npos)
                raise(error_code::internal_error, error_domain::rpc, "connection not open");
            else
                raise(error_code::internal_error, error_domain::rpc, "hypervisor connection not open");
        }
        return *s.conn_;
    }
    static any_connection open_connection(client_session& s) {
        std::lock_guard lock(s.mutex_);
        if (!s.conn_) raise(error_code::internal_error, error_domain::rpc, "hypervisor connection not open");
        return *s.conn_;
    }

    /// A procedure of libvirt's protocol that virtppd does not serve: libvirtd's answer for a
    /// driver without the API (after its open and read-only checks), never "unknown procedure",
    /// so clients that fall back on NO_SUPPORT (virsh does) still do.
    static bound_call bind_unserved(const libvirt_procedure& p) {
        return [p](client_session& s, xdr::encoder&) {
            auto domain = static_cast<error_domain>(p.error_domain);
            std::optional<any_connection> conn;
            {
                std::lock_guard lock(s.mutex_);
                if (s.conn_) conn = *s.conn_;
            }
            if (!conn)
                raise(error_code::internal_error, error_domain::rpc,
                      p.api.find("Network") != std::string_view::npos ? "connection not open" : "hypervisor connection not open");
            if (p.mutates && conn->read_only()) raise(error_code::operation_denied, domain, "read only access prevents " + std::string(p.api));
            raise(error_code::no_support, domain, p.api);
        };
    }

    /// One entry of rpc::procedures.
    template <class P>
    static bound_call bind_procedure(std::span<const std::uint8_t> body) {
        auto wire_args = xdr::from_bytes<typename P::args>(body);
        return [a = std::move(wire_args)](client_session& s, [[maybe_unused]] xdr::encoder& out) {
            using Op = typename P::operation;
            auto conn = connection<Op>(s);
            auto op_args = P::to_op(a);
            if (conn.read_only() && op::refused_read_only<Op>(op_args)) {
                if (auto host = s.host_.lock())
                    host->log(3, "client " + s.options_.peer + ": refused " + std::string(Op::name) +
                                     " (procedure " + std::to_string(P::number) + ") on a read-only connection");
                raise(error_code::operation_denied, detail::api_error_domain<Op>(),
                      "read only access prevents " + std::string(Op::name));
            }
            if constexpr (std::is_void_v<typename Op::result>) {
                conn.template call<Op>(op_args);
                return xdr::encode(out, P::to_wire());
            } else {
                return xdr::encode(out, rpc::wire_reply<P>(a, conn.template call<Op>(op_args)));
            }
        };
    }

    // ---- session procedures

    static bound_call connect_open(std::span<const std::uint8_t> body) {
        auto a = xdr::from_bytes<rpc::session::open_args>(body);
        return [a](client_session& s, [[maybe_unused]] xdr::encoder& out) {
            {
                std::lock_guard lock(s.mutex_);
                if (s.conn_) raise(error_code::internal_error, error_domain::rpc, "connection already open");
            }
            unsigned flags = a.flags;
            // the read-only socket makes every connection read-only, whatever the client asked
            if (s.options_.read_only_socket) flags |= open_flags::read_only;
            std::string name = a.name.value_or("");
            auto host = s.host_.lock();
            if ((flags & open_flags::read_only) != 0 && names_host_file(name)) {
                // a test host file is read with the daemon's rights: only for clients that may write
                if (host) host->log(3, "client " + s.options_.peer + ": refused '" + name + "' on a read-only connection");
                raise(error_code::access_denied, error_domain::test,
                      "a read-only connection may not open a test driver host file");
            }
            any_connection conn = [&] {
                try {
                    return s.options_.open(name, flags);
                } catch (const error& e) {
                    if (host) host->log(3, "client " + s.options_.peer + ": cannot open '" + name + "': " + e.what());
                    throw;
                }
            }();
            conn.errors().set_handler([](const error_info&) {});  // errors go back to the client
            std::lock_guard lock(s.mutex_);
            if (s.conn_) raise(error_code::internal_error, error_domain::rpc, "connection already open");
            // the URI the daemon chose for a NULL name (libvirt.conf, probe), else the client's
            s.uri_ = conn.uri().empty() ? name : conn.uri();
            s.conn_.emplace(std::move(conn));
            s.read_only_ = (flags & open_flags::read_only) != 0;
            if (host)
                host->log(2, "client " + s.options_.peer + ": opened '" + name + "'" +
                                 (s.read_only_ ? " read-only" : " read-write"));
            return;
        };
    }
    /// test:///PATH other than test:///default: a file the daemon would read for the client.
    static bool names_host_file(const std::string& name) {
        try {
            auto u = virtpp::uri::parse(name);
            return u.driver() == "test" && !u.is_remote() && u.path() != "/default";
        } catch (const error&) {
            return false;  // not a URI: the opener reports it
        }
    }
    static bound_call connect_close(std::span<const std::uint8_t> body) {
        (void)xdr::from_bytes<xdr::none>(body);
        return [](client_session& s, [[maybe_unused]] xdr::encoder& out) {
            s.drop_event_registrations();
            std::optional<any_connection> dropped;
            {
                std::lock_guard lock(s.mutex_);
                dropped.swap(s.conn_);
                s.close_requested_ = true;
            }
            return;
        };
    }
    static bound_call auth_list(std::span<const std::uint8_t> body) {
        (void)xdr::from_bytes<xdr::none>(body);
        return [](client_session&, xdr::encoder& out) {
            rpc::session::auth_list_ret r;
            r.types.items.push_back(0);  // REMOTE_AUTH_NONE: the only method virtppd offers
            return xdr::encode(out, r);
        };
    }
    static bound_call connect_get_uri(std::span<const std::uint8_t> body) {
        (void)xdr::from_bytes<xdr::none>(body);
        return [](client_session& s, [[maybe_unused]] xdr::encoder& out) {
            (void)open_connection(s);
            std::lock_guard lock(s.mutex_);
            return xdr::encode(out, s.uri_);
        };
    }
    static bound_call connect_get_lib_version(std::span<const std::uint8_t> body) {
        (void)xdr::from_bytes<xdr::none>(body);
        return [](client_session& s, [[maybe_unused]] xdr::encoder& out) {
            (void)open_connection(s);
            return xdr::encode(out, static_cast<std::uint64_t>(libvirt_api_version));
        };
    }
    static bound_call connect_supports_feature(std::span<const std::uint8_t> body) {
        auto a = xdr::from_bytes<op::connect_supports_feature::args>(body);
        return [a](client_session& s, [[maybe_unused]] xdr::encoder& out) {
            std::int32_t supported = 0;
            if (a.feature == rpc::feature::program_keepalive) {
                // asked before CONNECT_OPEN: this client answers PINGs, so the daemon may send them
                std::lock_guard lock(s.mutex_);
                s.keepalive_ = true;
                s.last_received_ = client_session::clock::now();
                s.pings_sent_ = 0;
                supported = 1;
            } else {
                auto conn = open_connection(s);
                switch (a.feature) {
                case rpc::feature::remote_close_callback:
                case rpc::feature::remote_event_callback: supported = 1; break;
                case rpc::feature::fd_passing:  // no file descriptor passing
                    supported = 0;
                    break;
                default: supported = conn.call<op::connect_supports_feature>({a.feature}) ? 1 : 0;
                }
            }
            return xdr::encode(out, supported);
        };
    }
    static bound_call register_close_callback(std::span<const std::uint8_t> body) {
        (void)xdr::from_bytes<xdr::none>(body);
        return [](client_session& s, [[maybe_unused]] xdr::encoder& out) {
            (void)open_connection(s);
            std::lock_guard lock(s.mutex_);
            if (s.close_callback_)
                raise(error_code::operation_invalid, error_domain::none, "A close callback is already registered");
            s.close_callback_ = true;
            return;
        };
    }
    static bound_call unregister_close_callback(std::span<const std::uint8_t> body) {
        (void)xdr::from_bytes<xdr::none>(body);
        return [](client_session& s, [[maybe_unused]] xdr::encoder& out) {
            (void)open_connection(s);
            std::lock_guard lock(s.mutex_);
            if (!s.close_callback_)
                raise(error_code::operation_invalid, error_domain::none, "A different callback was requested");
            s.close_callback_ = false;
            return;
        };
    }

    // ---- event callbacks (libvirtd's remoteDispatchConnect*Event*)

    static any_connection network_connection(client_session& s) {
        std::lock_guard lock(s.mutex_);
        if (!s.conn_) raise(error_code::internal_error, error_domain::rpc, "connection not open");
        return *s.conn_;
    }
    /// The first registration of a domain event id, for the legacy deregistrations.
    static void drop_first_registration_of(client_session& s, std::int32_t event_id) {
        event_subscription dropped;
        {
            std::lock_guard lock(s.mutex_);
            auto& regs = s.event_registrations_;
            auto it = std::find_if(regs.begin(), regs.end(),
                                   [&](const auto& r) { return !r.network && r.event_id == event_id; });
            if (it == regs.end())
                raise(error_code::internal_error, error_domain::rpc, "domain event " + std::to_string(event_id) + " not registered");
            regs.erase(it);
            if (regs.empty()) dropped = std::move(s.events_);
        }
    }
    static void drop_registration(client_session& s, std::int32_t callback, bool network) {
        event_subscription dropped;
        {
            std::lock_guard lock(s.mutex_);
            auto& regs = s.event_registrations_;
            auto it = std::find_if(regs.begin(), regs.end(),
                                   [&](const auto& r) { return r.network == network && r.callback_id == callback; });
            if (it == regs.end())
                raise(error_code::internal_error, error_domain::rpc,
                      std::string(network ? "network" : "domain") + " event callback " + std::to_string(callback) +
                          " not registered");
            regs.erase(it);
            if (regs.empty()) dropped = std::move(s.events_);
        }
    }
    static bound_call domain_event_register(std::span<const std::uint8_t> body) {
        (void)xdr::from_bytes<xdr::none>(body);
        return [](client_session& s, xdr::encoder& out) {
            auto conn = open_connection(s);
            (void)s.add_event_registration(conn, {.event_id = domain_event_id::lifecycle, .legacy = true});
            return xdr::encode(out, rpc::events::cb_registered_ret{});
        };
    }
    static bound_call domain_event_deregister(std::span<const std::uint8_t> body) {
        (void)xdr::from_bytes<xdr::none>(body);
        return [](client_session& s, xdr::encoder& out) {
            (void)open_connection(s);
            drop_first_registration_of(s, domain_event_id::lifecycle);
            return xdr::encode(out, rpc::events::cb_registered_ret{});
        };
    }
    static void check_legacy_event_id(std::int32_t id) {
        // the legacy procedures stop at device-removed: later events only have the callback form
        if (id < 0 || id > rpc::events::legacy_event_id_max)
            raise(error_code::internal_error, error_domain::rpc, "unsupported event ID " + std::to_string(id));
    }
    static bound_call domain_event_register_any(std::span<const std::uint8_t> body) {
        auto a = xdr::from_bytes<rpc::events::event_id_args>(body);
        return [a](client_session& s, [[maybe_unused]] xdr::encoder& out) {
            auto conn = open_connection(s);
            check_legacy_event_id(a.event_id);
            (void)s.add_event_registration(conn, {.event_id = a.event_id, .legacy = true});
        };
    }
    static bound_call domain_event_deregister_any(std::span<const std::uint8_t> body) {
        auto a = xdr::from_bytes<rpc::events::event_id_args>(body);
        return [a](client_session& s, [[maybe_unused]] xdr::encoder& out) {
            (void)open_connection(s);
            check_legacy_event_id(a.event_id);
            drop_first_registration_of(s, a.event_id);
        };
    }
    static bound_call domain_event_callback_register_any(std::span<const std::uint8_t> body) {
        auto a = xdr::from_bytes<rpc::events::domain_callback_register_args>(body);
        return [a](client_session& s, xdr::encoder& out) {
            auto conn = open_connection(s);
            if (a.event_id < 0 || a.event_id >= domain_event_id::count)
                raise(error_code::internal_error, error_domain::rpc, "unsupported event ID " + std::to_string(a.event_id));
            client_session::event_registration r{.event_id = a.event_id};
            if (a.dom) r.only = a.dom->uuid;
            return xdr::encode(out, rpc::events::callback_id{s.add_event_registration(conn, r)});
        };
    }
    static bound_call domain_event_callback_deregister_any(std::span<const std::uint8_t> body) {
        auto a = xdr::from_bytes<rpc::events::callback_id>(body);
        return [a](client_session& s, [[maybe_unused]] xdr::encoder& out) {
            (void)open_connection(s);
            drop_registration(s, a.id, false);
        };
    }
    static bound_call network_event_register_any(std::span<const std::uint8_t> body) {
        auto a = xdr::from_bytes<rpc::events::network_register_args>(body);
        return [a](client_session& s, xdr::encoder& out) {
            auto conn = network_connection(s);
            if (a.event_id < 0 || a.event_id >= network_event_id::count)
                raise(error_code::internal_error, error_domain::rpc,
                      "unsupported network event ID " + std::to_string(a.event_id));
            client_session::event_registration r{.event_id = a.event_id, .network = true};
            if (a.net) r.only = a.net->uuid;
            return xdr::encode(out, rpc::events::callback_id{s.add_event_registration(conn, r)});
        };
    }
    static bound_call network_event_deregister_any(std::span<const std::uint8_t> body) {
        auto a = xdr::from_bytes<rpc::events::callback_id>(body);
        return [a](client_session& s, [[maybe_unused]] xdr::encoder& out) {
            (void)network_connection(s);
            drop_registration(s, a.id, true);
        };
    }

    // ---- procedures that open a stream

    /// libvirt refuses both on a read-only connection (virCheckReadOnlyGoto).
    static any_connection stream_connection(client_session& s, std::string_view api, std::int32_t number) {
        auto conn = open_connection(s);
        if (conn.read_only()) {
            if (auto host = s.host_.lock())
                host->log(3, "client " + s.options_.peer + ": refused " + std::string(api) + " (procedure " +
                                 std::to_string(number) + ") on a read-only connection");
            raise(error_code::operation_denied, error_domain::domain, "read only access prevents " + std::string(api));
        }
        return conn;
    }
    /// Registers the stream under the call's serial; its pump starts once the reply is queued.
    static void add_stream(client_session& s, const rpc::header& call, std::shared_ptr<virtpp::stream> st) {
        auto pump = std::make_shared<stream_pump>(std::move(st), call.proc, call.serial, s.host_);
        std::lock_guard lock(s.mutex_);
        if (s.streams_.contains(call.serial))
            raise(error_code::rpc, error_domain::rpc, "a stream with serial " + std::to_string(call.serial) + " is open already");
        s.streams_.emplace(call.serial, std::move(pump));
    }
    static bound_call domain_open_console(std::span<const std::uint8_t> body, const rpc::header& call) {
        auto a = xdr::from_bytes<rpc::stream_proc::open_console_args>(body);
        return [a, call](client_session& s, xdr::encoder&) {
            auto conn = stream_connection(s, "virDomainOpenConsole", call.proc);
            add_stream(s, call, virtpp::open_console(conn, a.dom, a.dev_name, a.flags));
        };
    }
    static bound_call domain_screenshot(std::span<const std::uint8_t> body, const rpc::header& call) {
        auto a = xdr::from_bytes<rpc::stream_proc::screenshot_args>(body);
        return [a, call](client_session& s, xdr::encoder& out) {
            auto conn = stream_connection(s, "virDomainScreenshot", call.proc);
            auto shot = virtpp::take_screenshot(conn, a.dom, a.screen, a.flags);
            add_stream(s, call, std::move(shot.data));
            xdr::encode(out, rpc::stream_proc::screenshot_ret{shot.mime});
        };
    }

    // ---- the table, sorted by number at compile time

    template <class... Ps>
    static constexpr auto procedure_entries(std::tuple<Ps...>*) {
        return std::array<table_entry, sizeof...(Ps)>{table_entry{Ps::number, &bind_procedure<Ps>, nullptr}...};
    }

    static constexpr auto build_table() {
        constexpr std::array<table_entry, 18> session_entries{{
            {rpc::session::connect_open, &connect_open, nullptr},
            {rpc::session::connect_close, &connect_close, nullptr},
            {rpc::session::auth_list, &auth_list, nullptr},
            {rpc::session::connect_get_uri, &connect_get_uri, nullptr},
            {rpc::session::connect_get_lib_version, &connect_get_lib_version, nullptr},
            {rpc::proc::connect_supports_feature::number, &connect_supports_feature, nullptr},
            {rpc::session::connect_register_close_callback, &register_close_callback, nullptr},
            {rpc::session::connect_unregister_close_callback, &unregister_close_callback, nullptr},
            {rpc::events::connect_domain_event_register, &domain_event_register, nullptr},
            {rpc::events::connect_domain_event_deregister, &domain_event_deregister, nullptr},
            {rpc::events::connect_domain_event_register_any, &domain_event_register_any, nullptr},
            {rpc::events::connect_domain_event_deregister_any, &domain_event_deregister_any, nullptr},
            {rpc::events::connect_network_event_register_any, &network_event_register_any, nullptr},
            {rpc::events::connect_network_event_deregister_any, &network_event_deregister_any, nullptr},
            {rpc::events::connect_domain_event_callback_register_any, &domain_event_callback_register_any, nullptr},
            {rpc::events::connect_domain_event_callback_deregister_any, &domain_event_callback_deregister_any, nullptr},
            {rpc::stream_proc::domain_open_console, nullptr, &domain_open_console},
            {rpc::stream_proc::domain_screenshot, nullptr, &domain_screenshot},
        }};
        constexpr auto from_table = procedure_entries(static_cast<rpc::procedures*>(nullptr));
        // the daemon's own SUPPORTS_FEATURE (features 10, 14, 15 are the daemon's) replaces the table's
        constexpr std::size_t overridden = 1;
        std::array<table_entry, session_entries.size() + from_table.size() - overridden> all{};
        std::size_t n = 0;
        for (auto e : session_entries) all[n++] = e;
        for (auto e : from_table)
            if (e.number != rpc::proc::connect_supports_feature::number)
                all[n++] = e;
        std::sort(all.begin(), all.end(), [](const table_entry& a, const table_entry& b) { return a.number < b.number; });
        return all;
    }

    static const table_entry* find(std::int32_t number);
};

namespace {
constexpr auto procedure_table = dispatcher::build_table();
static_assert(std::adjacent_find(procedure_table.begin(), procedure_table.end(),
                                 [](const table_entry& a, const table_entry& b) { return a.number == b.number; }) ==
                  procedure_table.end(),
              "virtppd: two handlers for one procedure number");
}  // namespace

const table_entry* dispatcher::find(std::int32_t number) {
    auto it = std::lower_bound(procedure_table.begin(), procedure_table.end(), number,
                               [](const table_entry& e, std::int32_t n) { return e.number < n; });
    return it != procedure_table.end() && it->number == number ? &*it : nullptr;
}

std::vector<std::int32_t> served_procedures() {
    std::vector<std::int32_t> out;
    for (const auto& e : procedure_table) out.push_back(e.number);
    return out;
}

// ---- client_session ---------------------------------------------------------------------------

client_session::client_session(session_options options, std::weak_ptr<session_host> host)
    : options_(std::move(options)), host_(std::move(host)) {
    if (options_.max_client_requests == 0) options_.max_client_requests = 1;
}

client_session::~client_session() {
    // a session dropped without shutdown() (tests, the fuzz target) still ends its streams: their
    // threads hold the pumps, not the session
    for (auto& [serial, pump] : streams_) pump->shutdown();
}

bool client_session::receive(std::span<const std::uint8_t> in) {
    if (!in.empty()) {
        std::lock_guard lock(mutex_);
        last_received_ = clock::now();
        pings_sent_ = 0;
    }
    if (held_.empty()) {
        auto used = consume(in);
        if (used < in.size()) held_.assign(in.begin() + static_cast<std::ptrdiff_t>(used), in.end());
    } else {
        held_.insert(held_.end(), in.begin(), in.end());
        auto pending = std::move(held_);
        held_ = std::vector<std::uint8_t>();
        auto used = consume(pending);
        if (used < pending.size()) held_.assign(pending.begin() + static_cast<std::ptrdiff_t>(used), pending.end());
    }
    std::lock_guard lock(mutex_);
    return !paused_ && !stream_input_full_ && !output_blocked_;
}

std::size_t client_session::consume(std::span<const std::uint8_t> in) {
    std::size_t used = 0;
    output_blocked_ = false;
    auto host = host_.lock();
    while (used < in.size()) {
        {
            std::lock_guard lock(mutex_);
            if (paused_ || stream_input_full_) break;  // too many calls wait, or a stream's queue is full
        }
        if (length_have_ == 0 && host && host->output_full()) {
            // the client does not read its replies: no more calls from it until it does
            output_blocked_ = true;
            break;
        }
        auto rest = in.subspan(used);
        if (length_have_ < 4) {
            auto take = std::min<std::size_t>(4 - length_have_, rest.size());
            std::memcpy(length_bytes_ + length_have_, rest.data(), take);
            length_have_ += take;
            used += take;
            if (length_have_ < 4) break;
            std::uint32_t word = (std::uint32_t(length_bytes_[0]) << 24) | (std::uint32_t(length_bytes_[1]) << 16) |
                                 (std::uint32_t(length_bytes_[2]) << 8) | length_bytes_[3];
            try {
                packet_need_ = rpc::bytes_after_length_word(word);  // checked before the buffer grows
            } catch (const error& e) {
                throw protocol_error(e.info().message);
            }
            packet_.clear();
            packet_.reserve(std::min(packet_need_, rpc::message_initial));
            continue;
        }
        auto take = std::min(packet_need_ - packet_.size(), rest.size());
        packet_.insert(packet_.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(take));
        used += take;
        if (packet_.size() == packet_need_) {
            length_have_ = 0;
            greeted_ = true;
            // the call's arguments are decoded out of it: the buffer is reused while it is small,
            // an idle client keeps at most idle_buffer_max bytes
            handle_packet(packet_);
            packet_.clear();
            if (packet_.capacity() > idle_buffer_max) packet_ = std::vector<std::uint8_t>();  // (= {} would keep the capacity)
        }
    }
    return used;
}

bool client_session::greeted() const { return greeted_; }

std::size_t client_session::buffered_bytes() const { return packet_.capacity() + held_.capacity(); }

void client_session::handle_packet(std::span<const std::uint8_t> packet) {
    rpc::header h;
    try {
        h = rpc::decode_header(packet);
    } catch (const error& e) {
        throw protocol_error("bad message header: " + e.info().message);
    }
    auto body = packet.subspan(rpc::header_size);
    auto host = host_.lock();
    auto reply_error = [&](error_code code, std::string detail) {
        if (host) {
            host->log(3, "client " + options_.peer + ": " + detail);
            host->send(error_reply(h, make_error_info(code, error_domain::rpc, detail)));
        }
    };

    if (h.prog == rpc::keepalive_program) {
        if (h.vers != rpc::keepalive_protocol_version || h.type != rpc::message_type::message ||
            h.status != rpc::message_status::ok || !body.empty())
            throw protocol_error("malformed keepalive message (version " + std::to_string(h.vers) + ", type " +
                                 std::to_string(static_cast<int>(h.type)) + ", " + std::to_string(body.size()) +
                                 " body bytes)");
        if (h.proc == rpc::keepalive_ping) {
            if (host) host->send(keepalive_packet(rpc::keepalive_pong));
        } else if (h.proc != rpc::keepalive_pong) {
            throw protocol_error("unknown keepalive procedure " + std::to_string(h.proc));
        }
        return;
    }

    if (h.type == rpc::message_type::stream || h.type == rpc::message_type::stream_hole) {
        handle_stream_packet(h, body);
        return;
    }
    if (h.type != rpc::message_type::call) {
        // clients send calls, stream messages and keepalive messages; fd passing is not served
        throw protocol_error("unexpected message type " + std::to_string(static_cast<int>(h.type)) + " (program " +
                             hex(h.prog) + ", procedure " + std::to_string(h.proc) + ", serial " +
                             std::to_string(h.serial) + ")");
    }
    if (h.prog != rpc::remote_program || h.vers != rpc::remote_protocol_version) {
        reply_error(error_code::rpc, "Cannot find program " + std::to_string(static_cast<std::int32_t>(h.prog)) +
                                         " version " + std::to_string(h.vers));
        return;
    }
    if (h.status != rpc::message_status::ok) {
        reply_error(error_code::rpc, "Unexpected message status " + std::to_string(static_cast<int>(h.status)));
        return;
    }
    if (options_.procedure_allowed && !options_.procedure_allowed(h.proc)) {
        if (host) {
            host->log(3, "client " + options_.peer + ": refused procedure " + std::to_string(h.proc) + " (not allowed here)");
            host->send(error_reply(h, make_error_info(error_code::operation_denied, error_domain::rpc,
                                                      "procedure " + std::to_string(h.proc) + " is not allowed")));
        }
        return;
    }
    const table_entry* bind = dispatcher::find(h.proc);
    const libvirt_procedure* unserved = nullptr;
    if (bind == nullptr) {
        auto it = std::lower_bound(libvirt_procedures.begin(), libvirt_procedures.end(), h.proc,
                                   [](const libvirt_procedure& e, std::int32_t n) { return e.number < n; });
        if (it == libvirt_procedures.end() || it->number != h.proc) {
            reply_error(error_code::rpc, "unknown procedure: " + std::to_string(h.proc));
            return;
        }
        unserved = &*it;
    }
    bound_call call;
    try {
        call = unserved != nullptr            ? dispatcher::bind_unserved(*unserved)
               : bind->bind_stream != nullptr ? bind->bind_stream(body, h)
                                              : bind->bind(body);
    } catch (const error& e) {
        // as libvirtd: the call fails, the connection stays (the framing itself was sound)
        if (host) {
            host->log(3, "client " + options_.peer + ": malformed arguments of procedure " + std::to_string(h.proc) +
                             " (serial " + std::to_string(h.serial) + "): " + e.info().message);
            host->send(error_reply(h, make_error_info(error_code::rpc, error_domain::rpc, "Unable to decode message payload")));
        }
        return;
    }
    if (host && host->logs(1)) host->log(1, "client " + options_.peer + ": call " + std::to_string(h.proc) + " serial " + std::to_string(h.serial));

    std::weak_ptr<client_session> weak = weak_from_this();
    std::size_t size = packet.size();
    enqueue(
        [weak, call = std::move(call), h] {
            auto self = weak.lock();
            if (!self) return;
            bytes reply;
            try {
                rpc::header rh = h;
                rh.type = rpc::message_type::reply;
                rh.status = rpc::message_status::ok;
                // the body is encoded straight after the header; the header and length go in last
                reply.reserve(reply_reserve);
                reply.resize(rpc::length_word_size + rpc::header_size);
                xdr::encoder e(reply);
                call(*self, e);
                finish_packet(reply, rh);
            } catch (const error& e) {
                reply = error_reply(h, e.info());
            } catch (const std::exception& e) {
                reply = error_reply(h, make_error_info(error_code::internal_error, error_domain::rpc, e.what()));
            }
            bool close = false;
            {
                std::lock_guard lock(self->mutex_);
                close = self->close_requested_;
            }
            if (auto host = self->host_.lock()) {
                host->send(std::move(reply));
                if (close) host->close_after_flush();
            }
            self->start_stream(h.serial);  // a stream this call opened: its data follows the reply
            self->finish_job();
        },
        size);
}

bool client_session::waiting_full_locked() const {
    return waiting_.size() >= options_.max_client_requests || waiting_bytes_ > options_.max_waiting_bytes;
}

void client_session::enqueue(std::function<void()> job, std::size_t size) {
    std::optional<std::function<void()>> ready;
    bool run_here = false;
    {
        std::lock_guard lock(mutex_);
        waiting_.emplace_back(std::move(job), size);
        waiting_bytes_ += size;
        start_jobs_locked(ready);
        if (waiting_full_locked()) paused_ = true;
        // a driver that never waits answers on the reading thread: no hand-off to the pool
        run_here = ready && conn_ && !conn_->calls_may_block();
    }
    if (!ready) return;
    if (run_here) {
        (*ready)();
    } else if (auto host = host_.lock()) {
        host->post(std::move(*ready));
    }
}

void client_session::start_jobs_locked(std::optional<std::function<void()>>& ready) {
    // one call arrives or one finishes per turn: at most one job starts (waiting implies all running)
    if (running_ < options_.max_client_requests && !waiting_.empty()) {
        auto [job, size] = std::move(waiting_.front());
        waiting_.pop_front();
        waiting_bytes_ -= size;
        ++running_;
        ready.emplace(std::move(job));
    }
}

void client_session::finish_job() {
    std::optional<std::function<void()>> ready;
    bool resume = false;
    {
        std::lock_guard lock(mutex_);
        --running_;
        start_jobs_locked(ready);
        if (paused_ && !waiting_full_locked()) {
            paused_ = false;
            resume = true;
        }
    }
    if (auto host = host_.lock()) {
        if (ready) host->post(std::move(*ready));
        if (resume) host->resume_reading();
    }
}

client_session::keepalive_action client_session::keepalive_tick(clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (!keepalive_ || options_.keepalive_interval <= 0) return keepalive_action::none;
    auto interval = std::chrono::seconds(options_.keepalive_interval);
    auto due = last_received_ + interval * (pings_sent_ + 1);
    if (now < due) return keepalive_action::none;
    if (pings_sent_ >= options_.keepalive_count) return keepalive_action::drop;
    ++pings_sent_;
    return keepalive_action::ping;
}

std::vector<std::uint8_t> client_session::ping_packet() { return keepalive_packet(rpc::keepalive_ping); }

void client_session::shutdown() {
    drop_event_registrations();
    std::optional<any_connection> dropped;
    std::map<std::uint32_t, std::shared_ptr<stream_pump>> streams;
    {
        std::lock_guard lock(mutex_);
        dropped.swap(conn_);
        waiting_.clear();
        waiting_bytes_ = 0;
        streams.swap(streams_);
    }
    // the client is gone: its consoles are free for the next one
    for (auto& [serial, pump] : streams) pump->shutdown();
}

void client_session::start_stream(std::uint32_t serial) {
    std::shared_ptr<stream_pump> pump;
    {
        std::lock_guard lock(mutex_);
        auto it = streams_.find(serial);
        if (it == streams_.end()) return;
        pump = it->second;
    }
    std::weak_ptr<client_session> weak = weak_from_this();
    pump->start(
        [weak] {
            auto self = weak.lock();
            if (!self) return;
            {
                std::lock_guard lock(self->mutex_);
                self->stream_input_full_ = false;
            }
            if (auto host = self->host_.lock()) host->resume_reading();
        },
        [weak, serial, raw = pump.get()] {
            auto self = weak.lock();
            if (!self) return;
            std::shared_ptr<stream_pump> ended;  // released after the lock
            std::lock_guard lock(self->mutex_);
            if (auto it = self->streams_.find(serial); it != self->streams_.end() && it->second.get() == raw) {
                ended = std::move(it->second);
                self->streams_.erase(it);
            }
        });
}

void client_session::handle_stream_packet(const rpc::header& h, std::span<const std::uint8_t> body) {
    auto host = host_.lock();
    std::shared_ptr<stream_pump> pump;
    {
        std::lock_guard lock(mutex_);
        if (auto it = streams_.find(h.serial); it != streams_.end() && it->second->procedure() == h.proc) pump = it->second;
    }
    if (!pump || h.prog != rpc::remote_program || h.vers != rpc::remote_protocol_version) {
        // as libvirtd: stream data nobody waits for (a stream that just ended) is dropped
        if (host && host->logs(1))
            host->log(1, "client " + options_.peer + ": ignoring unexpected stream data serial=" + std::to_string(h.serial) +
                             " proc=" + std::to_string(h.proc) + " status=" + std::to_string(static_cast<int>(h.status)));
        return;
    }
    if (h.type == rpc::message_type::stream_hole) {
        // console and screenshot streams are not sparse: libvirtd closes such a client
        throw protocol_error("Unexpected stream hole (procedure " + std::to_string(h.proc) + ", serial " + std::to_string(h.serial) + ")");
    }
    switch (h.status) {
    case rpc::message_status::cont:
        if (!pump->data(body)) {
            std::lock_guard lock(mutex_);
            stream_input_full_ = true;
        }
        break;
    case rpc::message_status::ok: pump->finish(); break;
    default: pump->abort(); break;
    }
}

namespace {
/// Callback ids are unique in the daemon, as libvirtd's are per driver.
std::atomic<std::int32_t> next_callback_id{0};
}  // namespace

std::int32_t client_session::add_event_registration(any_connection& conn, event_registration r) {
    std::lock_guard lock(mutex_);
    if (!events_.active()) {
        std::weak_ptr<client_session> weak = weak_from_this();
        events_ = conn.subscribe_events([weak](const event& e) {
            if (auto self = weak.lock()) self->relay_event(e);
        });
    }
    r.callback_id = next_callback_id++;
    event_registrations_.push_back(r);
    return r.callback_id;
}

void client_session::drop_event_registrations() {
    event_subscription dropped;
    std::lock_guard lock(mutex_);
    event_registrations_.clear();
    dropped = std::move(events_);
}

void client_session::relay_event(const event& e) {
    std::vector<bytes> messages;
    {
        std::lock_guard lock(mutex_);
        for (const auto& r : event_registrations_) {
            if (const auto* d = std::get_if<domain_event>(&e)) {
                if (r.network || r.event_id != d->id || (r.only && *r.only != d->dom.uuid)) continue;
                auto m = rpc::events::encode_domain_event(*d, r.callback_id, r.legacy);
                if (!m.empty()) messages.push_back(std::move(m));
            } else if (const auto* n = std::get_if<network_event>(&e)) {
                if (!r.network || r.event_id != n->id || (r.only && *r.only != n->net.uuid)) continue;
                messages.push_back(rpc::events::encode_network_event(*n, r.callback_id));
            }
        }
    }
    if (messages.empty()) return;
    if (auto host = host_.lock())
        for (auto& m : messages) host->send(std::move(m));
}

bool client_session::keepalive_enabled() const {
    std::lock_guard lock(mutex_);
    return keepalive_;
}
bool client_session::is_open() const {
    std::lock_guard lock(mutex_);
    return conn_.has_value();
}
bool client_session::read_only() const {
    std::lock_guard lock(mutex_);
    return read_only_;
}
std::size_t client_session::calls_in_flight() const {
    std::lock_guard lock(mutex_);
    return running_ + waiting_.size();
}

}  // namespace virtpp::daemon
