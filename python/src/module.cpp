// virtpp._core: the small native layer of virtpp's Python module. It opens connections through
// any_connection (test driver in process, every other URI through the remote driver) and exposes
// one method per library operation with libvirt-python's argument and return shapes; the
// libvirt-shaped classes (virConnect, virDomain, ...) are Python code in virtpp/libvirt.py.
//
// Every call that reaches a driver runs with the GIL released, so Python threads sharing a
// connection proceed in parallel. Errors leave as the libvirtError class the Python layer
// registers, carrying libvirt's nine-field error tuple.
#include <virtpp/any.hpp>
#include <virtpp/hypervisor/remote.hpp>
#include <virtpp/hypervisor/test.hpp>
#include <virtpp/version.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace {

using drivers = virtpp::driver_list<virtpp::driver<virtpp::hypervisor::test>,
                                    virtpp::driver<virtpp::hypervisor::remote, virtpp::transport::remote>>;

/// Runs f with the GIL released; the result is converted to Python once the GIL is back.
template <class F>
decltype(auto) without_gil(F&& f) {
    py::gil_scoped_release released;
    return std::forward<F>(f)();
}

// ---- errors ---------------------------------------------------------------------------------

/// The Python class errors are raised as (libvirt.libvirtError); set by the Python layer.
py::object& error_class() {
    static auto* cls = new py::object();  // never destroyed: outlives interpreter teardown safely
    return *cls;
}

py::object optional_str(const std::optional<std::string>& s) {
    if (!s) return py::none();
    return py::str(*s);
}

/// libvirt-python's error tuple: (code, domain, message, level, str1, str2, str3, int1, int2).
py::tuple error_tuple(const virtpp::error_info& e) {
    return py::make_tuple(static_cast<int>(e.code), static_cast<int>(e.domain), e.message, static_cast<int>(e.level),
                          optional_str(e.str1), optional_str(e.str2), optional_str(e.str3), e.int1, e.int2);
}

/// The Python handler of registerErrorHandler and its context; none: the library's default.
struct python_error_handler {
    std::mutex mutex;
    py::object function;
    py::object context;
};
python_error_handler& registered_handler() {
    static auto* h = new python_error_handler();
    return *h;
}

void set_error_handler(py::object function, py::object context) {
    auto& h = registered_handler();
    bool removing = false;
    {
        std::lock_guard lock(h.mutex);
        // The previous handler is released on return, outside the lock: its destructor may run Python.
        std::swap(h.function, function);
        std::swap(h.context, context);
        removing = h.function.is_none();
    }
    if (removing) {
        virtpp::set_error_handler({});
        return;
    }
    // Reports happen inside calls that released the GIL: take it back to run Python.
    virtpp::set_error_handler([](const virtpp::error_info& info) {
        py::gil_scoped_acquire gil;
        auto& reg = registered_handler();
        py::object fn, ctx;
        {
            std::lock_guard lock(reg.mutex);
            fn = reg.function;
            ctx = reg.context;
        }
        if (fn.is_none()) return;
        try {
            fn(ctx, error_tuple(info));
        } catch (py::error_already_set& e) {
            e.discard_as_unraisable("virtpp error handler");
        }
    });
}

[[noreturn]] void raise_error(virtpp::error_code code, virtpp::error_domain domain, const std::string& detail) {
    virtpp::raise(code, domain, detail);
}

// ---- handles --------------------------------------------------------------------------------

/// A Python connection object. Calls take a copy of the handle (a shared pointer) while they hold
/// the GIL, so close() from another thread never pulls the connection from under a running call.
struct event_listeners;
struct callback_ids;

struct connection {
    std::optional<virtpp::any_connection> conn;
    /// The event callbacks registered on this connection (null until the first).
    std::shared_ptr<event_listeners> events;
    /// Where callback ids come from: one counter per driver state, as libvirt numbers them.
    std::shared_ptr<callback_ids> ids;

    virtpp::any_connection get() const {
        if (!conn) raise_error(virtpp::error_code::invalid_conn, virtpp::error_domain::none, "the connection is closed");
        return *conn;
    }
};

/// A Python domain object. Calls run on a copy of the handle taken under the GIL, and the calls
/// that change it (create, destroy, save, migrate: the runtime id) store it back under the GIL, so
/// threads sharing one virDomain never touch the same handle unlocked.
struct domain {
    virtpp::any_domain dom;
};

struct network {
    virtpp::any_network net;
};

py::bytes uuid_bytes(const virtpp::uuid& u) {
    return py::bytes(reinterpret_cast<const char*>(u.bytes().data()), u.bytes().size());
}

virtpp::uuid uuid_from_bytes(const py::bytes& raw, virtpp::error_domain where, const char* api) {
    std::string s = raw;
    if (s.size() != 16) raise_error(virtpp::error_code::invalid_arg, where, std::string("uuid in ") + api + " must be 16 bytes");
    virtpp::uuid::bytes_type b{};
    for (std::size_t i = 0; i < 16; ++i) b[i] = static_cast<std::uint8_t>(s[i]);
    return virtpp::uuid(b);
}

template <class Op>
typename Op::result call(const virtpp::any_connection& c, const typename Op::args& a) {
    return without_gil([&]() -> typename Op::result { return c.template call<Op>(a); });
}

py::list bool_list(const std::vector<bool>& bits, std::size_t count) {
    py::list out;
    for (std::size_t i = 0; i < count; ++i) out.append(py::bool_(i < bits.size() && bits[i]));
    return out;
}

/// The number of host CPUs libvirt-python sizes CPU maps by: the node's CPU map, else its info.
/// Called with the GIL released.
std::size_t host_cpu_count(const virtpp::any_connection& c) {
    try {
        return c.call<virtpp::op::node_get_cpu_map>({}).size();
    } catch (const virtpp::error& e) {
        if (e.code() != virtpp::error_code::no_support) throw;
    }
    virtpp::reset_last_error();
    return c.call<virtpp::op::node_get_info>({}).cpus;
}

py::object typed_value(const virtpp::typed_param::value_type& v) {
    return std::visit([](const auto& x) -> py::object { return py::cast(x); }, v);
}

/// A Python value converted to the type the driver uses for that parameter today (as
/// libvirt-python does: it reads the current parameters to learn their types).
virtpp::typed_param::value_type typed_from_python(const virtpp::typed_param::value_type& like, const py::handle& v,
                                                  const std::string& field) {
    try {
        return std::visit(
            [&](const auto& x) -> virtpp::typed_param::value_type {
                using T = std::decay_t<decltype(x)>;
                return v.cast<T>();
            },
            like);
    } catch (const py::cast_error&) {
        raise_error(virtpp::error_code::invalid_arg, virtpp::error_domain::none,
                    "parameter '" + field + "' has the wrong type");
    }
}

std::vector<virtpp::typed_param> params_from_dict(const std::vector<virtpp::typed_param>& current, const py::dict& d) {
    std::vector<virtpp::typed_param> out;
    for (auto [key, value] : d) {
        auto field = key.cast<std::string>();
        const virtpp::typed_param* known = nullptr;
        for (const auto& p : current)
            if (p.field == field) known = &p;
        if (known == nullptr)
            raise_error(virtpp::error_code::invalid_arg, virtpp::error_domain::none,
                        "Attribute '" + field + "' not supported");
        out.push_back({field, typed_from_python(known->value, value, field)});
    }
    return out;
}

py::dict params_to_dict(const std::vector<virtpp::typed_param>& params) {
    py::dict out;
    for (const auto& p : params) out[py::str(p.field)] = typed_value(p.value);
    return out;
}

std::vector<domain> wrap_domains(const std::vector<virtpp::any_domain>& doms) {
    std::vector<domain> out;
    out.reserve(doms.size());
    for (const auto& d : doms) out.push_back({d});
    return out;
}

// ---- events ---------------------------------------------------------------------------------
// Library threads (the thread that changed a domain of the in-process test driver, a remote
// session's event thread) never run Python: their handler queues the event on the connection
// that registered for it and writes a byte to the wake-up pipe. The Python layer watches the
// pipe's read end with the application's event loop (default, registered, asyncio), and there,
// holding the GIL, takes the queued events and calls the callbacks.

/// The process's wake-up pipe (non-blocking both ends: a full pipe already means "wake up").
struct wakeup_pipe {
    int read_fd = -1;
    int write_fd = -1;
    std::atomic<std::uint64_t> next_sequence{0};

    wakeup_pipe() {
        int fds[2];
        if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) {
            read_fd = fds[0];
            write_fd = fds[1];
        }
    }
    void wake() noexcept {
        const char byte = 1;
        [[maybe_unused]] auto written = ::write(write_fd, &byte, 1);  // EAGAIN: a wake-up is pending
    }
    void drain() noexcept {
        char buf[256];
        while (::read(read_fd, buf, sizeof buf) > 0) {
        }
    }
};
wakeup_pipe& wakeups() {
    static auto* p = new wakeup_pipe();  // never destroyed: library threads may still write at exit
    return *p;
}

/// What a registration is: libvirt-python's three kinds of event callbacks.
enum class registration_kind { domain_any = 0, domain_legacy = 1, network_any = 2 };

struct event_registration {
    int callback_id = 0;
    registration_kind kind = registration_kind::domain_any;
    int event_id = 0;
    std::optional<virtpp::uuid> only;  ///< one domain or network, by UUID, as libvirt matches
};

struct queued_event {
    std::uint64_t sequence = 0;  ///< process-wide: callbacks of several connections keep the order
    int callback_id = 0;
    registration_kind kind = registration_kind::domain_any;
    virtpp::event what;
};

struct event_listeners {
    /// A remote connection orders one event's callbacks as libvirt's remote driver does: it
    /// holds one daemon registration per (event id, domain or none), the first made first, and
    /// runs the callbacks sharing one in the order they were registered.
    explicit event_listeners(bool remote) : remote(remote) {}

    const bool remote;
    std::mutex mutex;
    std::vector<event_registration> registrations;
    std::deque<queued_event> queue;
    virtpp::event_subscription subscription;

    /// Runs on a library thread: queues the event for every matching registration, no Python.
    void receive(const virtpp::event& e) {
        bool queued = false;
        {
            std::lock_guard lock(mutex);
            std::vector<std::pair<std::size_t, const event_registration*>> matching;  // (group, registration)
            for (const auto& r : registrations) {
                if (!matches(r, e)) continue;
                matching.emplace_back(remote ? group_of(r) : matching.size(), &r);
            }
            std::stable_sort(matching.begin(), matching.end(),
                             [](const auto& a, const auto& b) { return a.first < b.first; });
            for (const auto& [group, r] : matching) {
                queue.push_back({wakeups().next_sequence.fetch_add(1), r->callback_id, r->kind, e});
                queued = true;
            }
        }
        if (queued) wakeups().wake();
    }

    /// The index of the first registration sharing r's daemon registration.
    std::size_t group_of(const event_registration& r) const {
        auto key = [](const event_registration& x) {
            bool network = x.kind == registration_kind::network_any;
            int id = x.kind == registration_kind::domain_legacy ? virtpp::domain_event_id::lifecycle : x.event_id;
            return std::tuple(network, id, x.only);
        };
        for (std::size_t i = 0; i < registrations.size(); ++i)
            if (key(registrations[i]) == key(r)) return i;
        return registrations.size();
    }

    static bool matches(const event_registration& r, const virtpp::event& e) {
        if (const auto* d = std::get_if<virtpp::domain_event>(&e)) {
            if (r.kind == registration_kind::network_any) return false;
            int wanted = r.kind == registration_kind::domain_legacy ? virtpp::domain_event_id::lifecycle : r.event_id;
            return d->id == wanted && (!r.only || *r.only == d->dom.uuid);
        }
        const auto& n = std::get<virtpp::network_event>(e);
        return r.kind == registration_kind::network_any && n.id == r.event_id && (!r.only || *r.only == n.net.uuid);
    }
};

/// libvirt numbers callbacks per driver state: all connections to the in-process
/// test:///default share one counter (and it starts again once they have all closed); a remote
/// connection has its own.
struct callback_ids {
    std::atomic<int> next{0};
};
std::shared_ptr<callback_ids> ids_for(const virtpp::any_connection& c) {
    if (c.driver_name() != "test" || c.uri() != "test:///default") return std::make_shared<callback_ids>();
    static std::mutex mutex;
    static auto* shared = new std::weak_ptr<callback_ids>();
    std::lock_guard lock(mutex);
    auto ids = shared->lock();
    if (!ids) {
        ids = std::make_shared<callback_ids>();
        *shared = ids;
    }
    return ids;
}

/// Adds a registration; the first one subscribes to the driver's events (which may raise
/// NO_SUPPORT for a driver without them, and for a remote driver asks the daemon).
int register_event_callback(connection& self, registration_kind kind, int event_id, const std::optional<py::bytes>& only) {
    auto conn = self.get();
    std::optional<virtpp::uuid> filter;
    if (only) {
        filter = virtpp::api_boundary(&conn.errors(), [&] {
            return uuid_from_bytes(*only, kind == registration_kind::network_any ? virtpp::error_domain::network
                                                                                 : virtpp::error_domain::domain,
                                   "virConnectDomainEventRegisterAny");
        });
    }
    if (!self.ids) self.ids = ids_for(conn);
    if (!self.events) self.events = std::make_shared<event_listeners>(conn.driver_name() == "remote");
    auto listeners = self.events;
    bool subscribed = false;
    {
        std::lock_guard lock(listeners->mutex);
        subscribed = listeners->subscription.active();
    }
    if (!subscribed) {
        std::weak_ptr<event_listeners> weak = listeners;
        auto sub = without_gil([&] {
            return conn.subscribe_events([weak](const virtpp::event& e) {
                if (auto l = weak.lock()) l->receive(e);
            });
        });
        virtpp::event_subscription spare;  // another thread subscribed meanwhile: ended outside the lock
        {
            std::lock_guard lock(listeners->mutex);
            if (!listeners->subscription.active())
                listeners->subscription = std::move(sub);
            else
                spare = std::move(sub);
        }
        spare.reset();
    }
    std::lock_guard lock(listeners->mutex);
    int id = self.ids->next.fetch_add(1);
    listeners->registrations.push_back({id, kind, event_id, filter});
    return id;
}

/// Removes a registration (INVALID_ARG naming the id when there is none of that kind); the last
/// one ends the subscription and drops the events not yet taken.
void deregister_event_callback(connection& self, registration_kind kind, int callback_id) {
    auto conn = self.get();
    virtpp::event_subscription ending;
    bool found = false;
    if (self.events) {
        std::lock_guard lock(self.events->mutex);
        auto& regs = self.events->registrations;
        auto it = std::find_if(regs.begin(), regs.end(), [&](const event_registration& r) {
            return r.callback_id == callback_id && r.kind == kind;
        });
        if (it != regs.end()) {
            found = true;
            regs.erase(it);
            auto& q = self.events->queue;
            q.erase(std::remove_if(q.begin(), q.end(), [&](const queued_event& e) { return e.callback_id == callback_id; }),
                    q.end());
            if (regs.empty()) ending = std::move(self.events->subscription);
        }
    }
    if (!found) {
        // libvirt's two wordings: its remote driver's, and its local drivers'.
        auto id = std::to_string(callback_id);
        auto detail = conn.driver_name() == "remote" ? "event callback id " + id + " not registered"
                                                     : "could not find event callback " + id + " for deletion";
        virtpp::api_boundary(&conn.errors(), [&] {
            raise_error(virtpp::error_code::invalid_arg, virtpp::error_domain::none, detail);
        });
    }
    without_gil([&] { ending.reset(); });
}

/// The legacy registration's id (domainEventRegister has one per connection), or -1.
int legacy_registration(const connection& self) {
    if (!self.events) return -1;
    std::lock_guard lock(self.events->mutex);
    for (const auto& r : self.events->registrations)
        if (r.kind == registration_kind::domain_legacy) return r.callback_id;
    return -1;
}

/// The events queued for this connection, oldest first, as (sequence, callback id, kind,
/// Domain or Network, callback arguments): the arguments libvirt-python passes for that event id.
py::list take_events(const connection& self) {
    py::list out;
    if (!self.events || !self.conn) return out;
    std::deque<queued_event> taken;
    {
        std::lock_guard lock(self.events->mutex);
        taken.swap(self.events->queue);
    }
    for (auto& q : taken) {
        if (auto* d = std::get_if<virtpp::domain_event>(&q.what)) {
            py::tuple args;
            switch (d->id) {
            case virtpp::domain_event_id::lifecycle: args = py::make_tuple(d->event, d->detail); break;
            case virtpp::domain_event_id::rtc_change: args = py::make_tuple(d->rtc_offset); break;
            case virtpp::domain_event_id::device_removed:
            case virtpp::domain_event_id::device_added:
            case virtpp::domain_event_id::device_removal_failed: args = py::make_tuple(d->device_alias); break;
            case virtpp::domain_event_id::tray_change: args = py::make_tuple(d->device_alias, d->reason); break;
            case virtpp::domain_event_id::pmwakeup:
            case virtpp::domain_event_id::pmsuspend:
            case virtpp::domain_event_id::pmsuspend_disk: args = py::make_tuple(d->reason); break;
            case virtpp::domain_event_id::balloon_change: args = py::make_tuple(d->balloon_actual_kib); break;
            case virtpp::domain_event_id::job_completed: args = py::make_tuple(params_to_dict(d->job_stats)); break;
            default: args = py::make_tuple(); break;  // reboot, control-error: no arguments
            }
            out.append(py::make_tuple(q.sequence, q.callback_id, static_cast<int>(q.kind),
                                      domain{virtpp::any_domain(*self.conn, d->dom)}, args));
        } else {
            auto& n = std::get<virtpp::network_event>(q.what);
            out.append(py::make_tuple(q.sequence, q.callback_id, static_cast<int>(q.kind),
                                      network{virtpp::any_network(*self.conn, n.net)}, py::make_tuple(n.event, n.detail)));
        }
    }
    return out;
}

void bind_connection(py::module_& m) {
    using namespace virtpp;
    namespace o = virtpp::op;
    py::class_<connection>(m, "Connection")
        .def_static("open",
                    [](std::optional<std::string> uri, unsigned flags) {
                        auto c = without_gil([&] { return any_connection::open<drivers>(uri.value_or(""), flags); });
                        return connection{std::move(c)};
                    },
                    py::arg("uri"), py::arg("flags") = 0)
        .def("close",
             [](connection& self) {
                 auto closing = std::move(self.conn);
                 self.conn.reset();
                 // Closing drops the connection's event registrations, as libvirt's close does.
                 auto listeners = std::move(self.events);
                 virtpp::event_subscription ending;
                 if (listeners) {
                     std::lock_guard lock(listeners->mutex);
                     ending = std::move(listeners->subscription);
                     listeners->registrations.clear();
                     listeners->queue.clear();
                 }
                 without_gil([&] {
                     ending.reset();
                     closing.reset();  // the last reference may wait for the transport
                 });
             })
        .def("eventRegister",
             [](connection& self, int kind, int event_id, std::optional<py::bytes> only) {
                 return register_event_callback(self, static_cast<registration_kind>(kind), event_id, only);
             })
        .def("eventDeregister",
             [](connection& self, int kind, int callback_id) {
                 deregister_event_callback(self, static_cast<registration_kind>(kind), callback_id);
             })
        .def("legacyEventRegistration", &legacy_registration)
        .def("driverName", [](const connection& s) { return std::string(s.get().driver_name()); })
        .def("takeEvents", &take_events)
        .def("is_open", [](const connection& self) { return self.conn.has_value(); })
        .def("same", [](const connection& a, const connection& b) { return a.conn && b.conn && *a.conn == *b.conn; })
        .def("getType", [](const connection& s) { return call<o::connect_get_type>(s.get(), {}); })
        .def("getVersion", [](const connection& s) { return call<o::connect_get_version>(s.get(), {}); })
        .def("getHostname", [](const connection& s) { return call<o::connect_get_hostname>(s.get(), {}); })
        .def("getURI", [](const connection& s) { return s.get().uri(); })
        .def("isReadOnly", [](const connection& s) { return s.get().read_only(); })
        .def("getMaxVcpus", [](const connection& s, std::optional<std::string> type) {
            return call<o::connect_get_max_vcpus>(s.get(), {std::move(type)});
        })
        .def("getCapabilities", [](const connection& s) { return call<o::connect_get_capabilities>(s.get(), {}); })
        .def("getInfo",
             [](const connection& s) {
                 auto i = call<o::node_get_info>(s.get(), {});
                 py::list out;
                 out.append(i.model);
                 out.append(i.memory_kib / 1024);
                 for (unsigned v : {i.cpus, i.mhz, i.nodes, i.sockets, i.cores, i.threads}) out.append(v);
                 return out;
             })
        .def("getSecurityModel",
             [](const connection& s) {
                 auto sm = call<o::node_get_security_model>(s.get(), {});
                 py::list out;
                 out.append(sm.model);
                 out.append(sm.doi);
                 return out;
             })
        .def("getCPUMap",
             [](const connection& s) {
                 auto map = call<o::node_get_cpu_map>(s.get(), {});
                 int online = 0;
                 for (bool b : map) online += b ? 1 : 0;
                 return py::make_tuple(map.size(), bool_list(map, map.size()), online);
             })
        .def("supportsFeature",
             [](const connection& s, int feature) { return call<o::connect_supports_feature>(s.get(), {feature}) ? 1 : 0; })
        .def("numOfDomains", [](const connection& s) { return call<o::connect_num_of_domains>(s.get(), {}); })
        .def("listDomainsID", [](const connection& s) { return call<o::connect_list_domains>(s.get(), {}); })
        .def("numOfDefinedDomains", [](const connection& s) { return call<o::connect_num_of_defined_domains>(s.get(), {}); })
        .def("listDefinedDomains", [](const connection& s) { return call<o::connect_list_defined_domains>(s.get(), {}); })
        .def("listAllDomains",
             [](const connection& s, unsigned flags) {
                 return wrap_domains(without_gil([&, c = s.get()] { return c.list_all_domains(flags); }));
             })
        .def("lookupByID", [](const connection& s, int id) { return domain{without_gil([&, c = s.get()] { return c.lookup_domain_by_id(id); })}; })
        .def("lookupByName",
             [](const connection& s, const std::string& name) {
                 return domain{without_gil([&, c = s.get()] { return c.lookup_domain_by_name(name); })};
             })
        .def("lookupByUUID",
             [](const connection& s, const py::bytes& raw) {
                 auto u = api_boundary(&s.get().errors(), [&] { return uuid_from_bytes(raw, error_domain::domain, "virDomainLookupByUUID"); });
                 return domain{without_gil([&, c = s.get()] { return c.lookup_domain_by_uuid(u); })};
             })
        .def("lookupByUUIDString",
             [](const connection& s, const std::string& id) {
                 return domain{without_gil([&, c = s.get()] { return c.lookup_domain_by_uuid_string(id); })};
             })
        .def("createXML",
             [](const connection& s, const std::string& xml, unsigned flags) {
                 return domain{without_gil([&, c = s.get()] { return c.create_domain_xml(xml, flags); })};
             })
        .def("defineXMLFlags",
             [](const connection& s, const std::string& xml, unsigned flags) {
                 auto conn = s.get();
                 return domain{without_gil([&] { return any_domain(conn, conn.call<o::domain_define_xml>({xml, flags})); })};
             })
        .def("restore", [](const connection& s, const std::string& path) { call<o::domain_restore>(s.get(), {path}); })
        .def("numOfNetworks", [](const connection& s) { return call<o::connect_num_of_networks>(s.get(), {}); })
        .def("listNetworks", [](const connection& s) { return call<o::connect_list_networks>(s.get(), {}); })
        .def("numOfDefinedNetworks", [](const connection& s) { return call<o::connect_num_of_defined_networks>(s.get(), {}); })
        .def("listDefinedNetworks", [](const connection& s) { return call<o::connect_list_defined_networks>(s.get(), {}); })
        .def("listAllNetworks",
             [](const connection& s, unsigned flags) {
                 auto nets = without_gil([&, c = s.get()] { return c.list_all_networks(flags); });
                 std::vector<network> out;
                 for (auto& n : nets) out.push_back({std::move(n)});
                 return out;
             })
        .def("networkLookupByName",
             [](const connection& s, const std::string& name) {
                 return network{without_gil([&, c = s.get()] { return c.lookup_network_by_name(name); })};
             })
        .def("networkLookupByUUID",
             [](const connection& s, const py::bytes& raw) {
                 auto u = api_boundary(&s.get().errors(), [&] { return uuid_from_bytes(raw, error_domain::network, "virNetworkLookupByUUID"); });
                 return network{without_gil([&, c = s.get()] { return c.lookup_network_by_uuid(u); })};
             })
        .def("networkLookupByUUIDString",
             [](const connection& s, const std::string& id) {
                 return network{without_gil([&, c = s.get()] { return c.lookup_network_by_uuid_string(id); })};
             })
        .def("networkCreateXML",
             [](const connection& s, const std::string& xml) {
                 return network{without_gil([&, c = s.get()] { return c.create_network_xml(xml); })};
             })
        .def("networkDefineXML",
             [](const connection& s, const std::string& xml) {
                 return network{without_gil([&, c = s.get()] { return c.define_network_xml(xml); })};
             });
}

void bind_domain(py::module_& m) {
    using namespace virtpp;
    namespace o = virtpp::op;
    py::class_<domain>(m, "Domain")
        .def("name", [](const domain& d) { return d.dom.name(); })
        .def("ID", [](const domain& d) { return d.dom.id(); })
        .def("UUID", [](const domain& d) { return uuid_bytes(d.dom.uuid()); })
        .def("UUIDString", [](const domain& d) { return d.dom.uuid_string(); })
        .def("connection", [](const domain& d) { return connection{any_connection(d.dom.connection())}; })
        .def("create", [](domain& d, unsigned flags) { d.dom = without_gil([&, dom = d.dom]() mutable { dom.create(flags); return dom; }); })
        .def("undefine", [](const domain& d, unsigned flags) { without_gil([&, dom = d.dom] { dom.undefine(flags); }); })
        .def("suspend", [](const domain& d) { without_gil([&, dom = d.dom] { dom.suspend(); }); })
        .def("resume", [](const domain& d) { without_gil([&, dom = d.dom] { dom.resume(); }); })
        .def("shutdown", [](const domain& d, unsigned flags) { without_gil([&, dom = d.dom] { dom.shutdown(flags); }); })
        .def("reboot", [](const domain& d, unsigned flags) { without_gil([&, dom = d.dom] { dom.reboot(flags); }); })
        .def("destroy", [](domain& d, unsigned flags) { d.dom = without_gil([&, dom = d.dom]() mutable { dom.destroy(flags); return dom; }); })
        .def("save", [](domain& d, const std::string& path) { d.dom = without_gil([&, dom = d.dom]() mutable { dom.save(path); return dom; }); })
        .def("coreDump", [](const domain& d, const std::string& path, unsigned flags) {
            without_gil([&, dom = d.dom] { dom.core_dump(path, flags); });
        })
        .def("hasManagedSaveImage", [](const domain& d, unsigned flags) {
            return without_gil([&, dom = d.dom] { return dom.call<o::domain_has_managed_save_image>({dom.ref(), flags}); }) ? 1 : 0;
        })
        .def("info",
             [](const domain& d) {
                 auto i = without_gil([&, dom = d.dom] { return dom.info(); });
                 py::list out;
                 out.append(static_cast<int>(i.state));
                 out.append(i.max_memory_kib);
                 out.append(i.memory_kib);
                 out.append(i.vcpus);
                 out.append(i.cpu_time_ns);
                 return out;
             })
        .def("state",
             [](const domain& d, unsigned flags) {
                 auto s = without_gil([&, dom = d.dom] { return dom.state(flags); });
                 py::list out;
                 out.append(static_cast<int>(s.state));
                 out.append(s.reason);
                 return out;
             })
        .def("OSType", [](const domain& d) { return without_gil([&, dom = d.dom] { return dom.os_type(); }); })
        .def("XMLDesc", [](const domain& d, unsigned flags) { return without_gil([&, dom = d.dom] { return dom.xml_desc(flags); }); })
        .def("isActive", [](const domain& d) { return without_gil([&, dom = d.dom] { return dom.is_active(); }) ? 1 : 0; })
        .def("isPersistent", [](const domain& d) { return without_gil([&, dom = d.dom] { return dom.is_persistent(); }) ? 1 : 0; })
        .def("autostart", [](const domain& d) { return without_gil([&, dom = d.dom] { return dom.autostart(); }) ? 1 : 0; })
        .def("setAutostart", [](const domain& d, int on) { without_gil([&, dom = d.dom] { dom.set_autostart(on != 0); }); })
        .def("maxMemory", [](const domain& d) { return without_gil([&, dom = d.dom] { return dom.max_memory(); }); })
        .def("setMaxMemory", [](const domain& d, std::uint64_t kib) { without_gil([&, dom = d.dom] { dom.set_max_memory(kib); }); })
        .def("setMemoryFlags", [](const domain& d, std::uint64_t kib, unsigned flags) {
            without_gil([&, dom = d.dom] { dom.set_memory(kib, flags); });
        })
        .def("maxVcpus", [](const domain& d) { return without_gil([&, dom = d.dom] { return dom.max_vcpus(); }); })
        .def("setVcpusFlags", [](const domain& d, unsigned n, unsigned flags) { without_gil([&, dom = d.dom] { dom.set_vcpus(n, flags); }); })
        .def("vcpusFlags", [](const domain& d, unsigned flags) { return without_gil([&, dom = d.dom] { return dom.vcpus_flags(flags); }); })
        .def("pinVcpuFlags",
             [](const domain& d, unsigned vcpu, const py::sequence& map, unsigned flags) {
                 std::vector<bool> bits;
                 for (auto b : map) bits.push_back(PyObject_IsTrue(b.ptr()) == 1);
                 without_gil([&, dom = d.dom] { dom.pin_vcpu(vcpu, std::move(bits), flags); });
             })
        .def("vcpus",
             [](const domain& d) {
                 // As libvirt-python asks: as many vcpus as the domain has, maps as wide as the host.
                 auto [cpus, infos] = without_gil([&, dom = d.dom] {
                     auto count = static_cast<int>(dom.info().vcpus);
                     std::size_t n = host_cpu_count(dom.connection());
                     int maplen = static_cast<int>((n + 7) / 8);
                     return std::pair{n, dom.vcpus(count, maplen)};
                 });
                 py::list info, maps;
                 for (const auto& v : infos) {
                     info.append(py::make_tuple(v.number, v.state, v.cpu_time_ns, v.cpu));
                     maps.append(py::tuple(bool_list(v.affinity, cpus)));
                 }
                 return py::make_tuple(info, maps);
             })
        .def("schedulerType",
             [](const domain& d) {
                 auto t = without_gil([&, dom = d.dom] { return dom.scheduler_type(); });
                 return py::make_tuple(t.name, t.nparams);
             })
        .def("schedulerParametersFlags",
             [](const domain& d, unsigned flags) {
                 return params_to_dict(without_gil([&, dom = d.dom] { return dom.scheduler_parameters(flags); }));
             })
        .def("setSchedulerParametersFlags",
             [](const domain& d, const py::dict& params, unsigned flags) {
                 auto current = without_gil([&, dom = d.dom] { return dom.scheduler_parameters(flags); });
                 auto wanted = api_boundary(&d.dom.connection().errors(), [&] { return params_from_dict(current, params); });
                 without_gil([&, dom = d.dom] { dom.set_scheduler_parameters(std::move(wanted), flags); });
             })
        .def("blockStats",
             [](const domain& d, const std::string& path) {
                 auto s = without_gil([&, dom = d.dom] { return dom.block_stats(path); });
                 return py::make_tuple(s.rd_req, s.rd_bytes, s.wr_req, s.wr_bytes, s.errs);
             })
        .def("interfaceStats",
             [](const domain& d, const std::string& path) {
                 auto s = without_gil([&, dom = d.dom] { return dom.interface_stats(path); });
                 return py::make_tuple(s.rx_bytes, s.rx_packets, s.rx_errs, s.rx_drop, s.tx_bytes, s.tx_packets,
                                       s.tx_errs, s.tx_drop);
             })
        .def("attachDeviceFlags", [](const domain& d, const std::string& xml, unsigned flags) {
            without_gil([&, dom = d.dom] { dom.attach_device(xml, flags); });
        })
        .def("detachDeviceFlags", [](const domain& d, const std::string& xml, unsigned flags) {
            without_gil([&, dom = d.dom] { dom.detach_device(xml, flags); });
        })
        .def("securityLabel",
             [](const domain& d) {
                 auto l = without_gil([&, dom = d.dom] { return dom.security_label(); });
                 py::list out;
                 out.append(l.label);
                 out.append(py::bool_(l.enforcing));
                 return out;
             })
        .def("snapshotNum", [](const domain& d, unsigned flags) {
            return without_gil([&, dom = d.dom] { return dom.call<o::domain_snapshot_num>({dom.ref(), flags}); });
        })
        .def("migrate",
             [](domain& d, const connection& dest, unsigned flags, std::optional<std::string> dname,
                std::optional<std::string> uri, std::uint64_t bandwidth, std::optional<std::string> xml) {
                 migrate_params params{std::move(dname), std::move(uri), std::move(xml), bandwidth};
                 auto target = dest.get();
                 auto [moved, source] = without_gil([&, dom = d.dom]() mutable { auto out = dom.migrate(target, flags, std::move(params)); return std::pair{out, dom}; });
                 d.dom = std::move(source);
                 return domain{std::move(moved)};
             })
        .def("getMessages", [](const domain& d, unsigned flags) {
            return without_gil([&, dom = d.dom] { return dom.call<o::domain_get_messages>({dom.ref(), flags}); });
        });
}

void bind_network(py::module_& m) {
    using namespace virtpp;
    py::class_<network>(m, "Network")
        .def("name", [](const network& n) { return n.net.name(); })
        .def("UUID", [](const network& n) { return uuid_bytes(n.net.uuid()); })
        .def("UUIDString", [](const network& n) { return n.net.uuid_string(); })
        .def("connection", [](const network& n) { return connection{any_connection(n.net.connection())}; })
        .def("create", [](const network& n) { without_gil([&] { n.net.create(); }); })
        .def("destroy", [](const network& n) { without_gil([&] { n.net.destroy(); }); })
        .def("undefine", [](const network& n) { without_gil([&] { n.net.undefine(); }); })
        .def("XMLDesc", [](const network& n, unsigned flags) { return without_gil([&] { return n.net.xml_desc(flags); }); })
        .def("bridgeName", [](const network& n) { return without_gil([&] { return n.net.bridge_name(); }); })
        .def("autostart", [](const network& n) { return without_gil([&] { return n.net.autostart(); }) ? 1 : 0; })
        .def("setAutostart", [](const network& n, int on) { without_gil([&] { n.net.set_autostart(on != 0); }); })
        .def("isActive", [](const network& n) { return without_gil([&] { return n.net.is_active(); }) ? 1 : 0; })
        .def("isPersistent", [](const network& n) { return without_gil([&] { return n.net.is_persistent(); }) ? 1 : 0; });
}

// ---- storage, interfaces, node devices, snapshots, checkpoints --------------------------------
// Each handle is the connection and libvirt's reference for the object; every method is one
// operation of the library.

template <class Ref>
struct object_handle {
    virtpp::any_connection conn;
    Ref ref;
};
using storage_pool = object_handle<virtpp::storage_pool_ref>;
using storage_vol = object_handle<virtpp::storage_vol_ref>;
using host_interface = object_handle<virtpp::interface_ref>;
using node_device = object_handle<virtpp::node_device_ref>;
using domain_snapshot = object_handle<virtpp::domain_snapshot_ref>;
using domain_checkpoint = object_handle<virtpp::domain_checkpoint_ref>;

template <class Ref>
std::vector<object_handle<Ref>> wrap_all(const virtpp::any_connection& c, const std::vector<Ref>& refs) {
    std::vector<object_handle<Ref>> out;
    out.reserve(refs.size());
    for (const auto& r : refs) out.push_back({c, r});
    return out;
}

void bind_objects(py::module_& m) {
    using namespace virtpp;
    namespace o = virtpp::op;

    py::class_<storage_pool>(m, "StoragePool")
        .def("name", [](const storage_pool& p) { return p.ref.name; })
        .def("UUID", [](const storage_pool& p) { return uuid_bytes(p.ref.uuid); })
        .def("UUIDString", [](const storage_pool& p) { return p.ref.uuid.str(); })
        .def("connection", [](const storage_pool& p) { return connection{p.conn}; })
        .def("info", [](const storage_pool& p) {
            auto i = call<o::storage_pool_get_info>(p.conn, {p.ref});
            return std::vector<py::object>{py::int_(i.state), py::int_(i.capacity), py::int_(i.allocation), py::int_(i.available)};
        })
        .def("XMLDesc", [](const storage_pool& p, unsigned flags) { return call<o::storage_pool_get_xml_desc>(p.conn, {p.ref, flags}); })
        .def("autostart", [](const storage_pool& p) { return call<o::storage_pool_get_autostart>(p.conn, {p.ref}) ? 1 : 0; })
        .def("isActive", [](const storage_pool& p) { return call<o::storage_pool_is_active>(p.conn, {p.ref}) ? 1 : 0; })
        .def("isPersistent", [](const storage_pool& p) { return call<o::storage_pool_is_persistent>(p.conn, {p.ref}) ? 1 : 0; })
        .def("listAllVolumes", [](const storage_pool& p, unsigned flags) {
            return wrap_all(p.conn, call<o::storage_pool_list_all_volumes>(p.conn, {p.ref, flags}));
        })
        .def("createXML", [](const storage_pool& p, const std::string& xml, unsigned flags) {
            return storage_vol{p.conn, call<o::storage_vol_create_xml>(p.conn, {p.ref, xml, flags})};
        })
        .def("storageVolLookupByName", [](const storage_pool& p, const std::string& name) {
            return storage_vol{p.conn, call<o::storage_vol_lookup_by_name>(p.conn, {p.ref, name})};
        });

    py::class_<storage_vol>(m, "StorageVol")
        .def("name", [](const storage_vol& v) { return v.ref.name; })
        .def("key", [](const storage_vol& v) { return v.ref.key; })
        .def("connection", [](const storage_vol& v) { return connection{v.conn}; })
        .def("path", [](const storage_vol& v) { return call<o::storage_vol_get_path>(v.conn, {v.ref}); })
        .def("info", [](const storage_vol& v) {
            auto i = call<o::storage_vol_get_info>(v.conn, {v.ref});
            return std::vector<py::object>{py::int_(i.type), py::int_(i.capacity), py::int_(i.allocation)};
        })
        .def("XMLDesc", [](const storage_vol& v, unsigned flags) { return call<o::storage_vol_get_xml_desc>(v.conn, {v.ref, flags}); })
        .def("delete", [](const storage_vol& v, unsigned flags) { call<o::storage_vol_delete>(v.conn, {v.ref, flags}); })
        .def("storagePoolLookupByVolume", [](const storage_vol& v) {
            return storage_pool{v.conn, call<o::storage_pool_lookup_by_volume>(v.conn, {v.ref})};
        });

    py::class_<host_interface>(m, "Interface")
        .def("name", [](const host_interface& i) { return i.ref.name; })
        .def("MACString", [](const host_interface& i) { return i.ref.mac; })
        .def("connection", [](const host_interface& i) { return connection{i.conn}; })
        .def("XMLDesc", [](const host_interface& i, unsigned flags) { return call<o::interface_get_xml_desc>(i.conn, {i.ref, flags}); })
        .def("isActive", [](const host_interface& i) { return call<o::interface_is_active>(i.conn, {i.ref}) ? 1 : 0; });

    py::class_<node_device>(m, "NodeDevice")
        .def("name", [](const node_device& d) { return d.ref.name; })
        .def("connection", [](const node_device& d) { return connection{d.conn}; })
        .def("XMLDesc", [](const node_device& d, unsigned flags) { return call<o::node_device_get_xml_desc>(d.conn, {d.ref, flags}); })
        .def("parent", [](const node_device& d) { return optional_str(call<o::node_device_get_parent>(d.conn, {d.ref})); })
        .def("listCaps", [](const node_device& d) { return call<o::node_device_list_caps>(d.conn, {d.ref}); });

    py::class_<domain_snapshot>(m, "DomainSnapshot")
        .def("getName", [](const domain_snapshot& s) { return s.ref.name; })
        .def("domain", [](const domain_snapshot& s) { return domain{any_domain(s.conn, s.ref.dom)}; })
        .def("connection", [](const domain_snapshot& s) { return connection{s.conn}; })
        .def("getXMLDesc", [](const domain_snapshot& s, unsigned flags) { return call<o::domain_snapshot_get_xml_desc>(s.conn, {s.ref, flags}); })
        .def("getParent", [](const domain_snapshot& s, unsigned flags) {
            return domain_snapshot{s.conn, call<o::domain_snapshot_get_parent>(s.conn, {s.ref, flags})};
        })
        .def("isCurrent", [](const domain_snapshot& s, unsigned flags) { return call<o::domain_snapshot_is_current>(s.conn, {s.ref, flags}) ? 1 : 0; })
        .def("hasMetadata", [](const domain_snapshot& s, unsigned flags) { return call<o::domain_snapshot_has_metadata>(s.conn, {s.ref, flags}) ? 1 : 0; })
        .def("delete", [](const domain_snapshot& s, unsigned flags) { call<o::domain_snapshot_delete>(s.conn, {s.ref, flags}); });

    py::class_<domain_checkpoint>(m, "DomainCheckpoint")
        .def("getName", [](const domain_checkpoint& c) { return c.ref.name; })
        .def("domain", [](const domain_checkpoint& c) { return domain{any_domain(c.conn, c.ref.dom)}; })
        .def("connection", [](const domain_checkpoint& c) { return connection{c.conn}; })
        .def("getXMLDesc", [](const domain_checkpoint& c, unsigned flags) { return call<o::domain_checkpoint_get_xml_desc>(c.conn, {c.ref, flags}); })
        .def("getParent", [](const domain_checkpoint& c, unsigned flags) {
            return domain_checkpoint{c.conn, call<o::domain_checkpoint_get_parent>(c.conn, {c.ref, flags})};
        })
        .def("delete", [](const domain_checkpoint& c, unsigned flags) { call<o::domain_checkpoint_delete>(c.conn, {c.ref, flags}); });

    // the connection's and the domain's calls that return these objects
    auto conn_class = py::reinterpret_borrow<py::class_<connection>>(m.attr("Connection"));
    conn_class
        .def("listAllStoragePools", [](const connection& s, unsigned flags) {
            auto c = s.get();
            return wrap_all(c, call<o::connect_list_all_storage_pools>(c, {flags}));
        })
        .def("storagePoolLookupByName", [](const connection& s, const std::string& name) {
            auto c = s.get();
            return storage_pool{c, call<o::storage_pool_lookup_by_name>(c, {name})};
        })
        .def("storagePoolLookupByUUID", [](const connection& s, const py::bytes& raw) {
            auto c = s.get();
            auto u = virtpp::api_boundary(&c.errors(), [&] { return uuid_from_bytes(raw, error_domain::storage, "virStoragePoolLookupByUUID"); });
            return storage_pool{c, call<o::storage_pool_lookup_by_uuid>(c, {u})};
        })
        .def("storagePoolLookupByUUIDString", [](const connection& s, const std::string& text) {
            auto c = s.get();
            auto u = virtpp::api_boundary(&c.errors(), [&] {
                auto parsed = virtpp::uuid::parse(text);
                if (!parsed) raise_error(virtpp::error_code::invalid_arg, error_domain::storage, "uuidstr in virStoragePoolLookupByUUIDString must be a valid UUID");
                return *parsed;
            });
            return storage_pool{c, call<o::storage_pool_lookup_by_uuid>(c, {u})};
        })
        .def("storageVolLookupByKey", [](const connection& s, const std::string& key) {
            auto c = s.get();
            return storage_vol{c, call<o::storage_vol_lookup_by_key>(c, {key})};
        })
        .def("storageVolLookupByPath", [](const connection& s, const std::string& path) {
            auto c = s.get();
            return storage_vol{c, call<o::storage_vol_lookup_by_path>(c, {path})};
        })
        .def("listAllInterfaces", [](const connection& s, unsigned flags) {
            auto c = s.get();
            return wrap_all(c, call<o::connect_list_all_interfaces>(c, {flags}));
        })
        .def("interfaceLookupByName", [](const connection& s, const std::string& name) {
            auto c = s.get();
            return host_interface{c, call<o::interface_lookup_by_name>(c, {name})};
        })
        .def("interfaceLookupByMACString", [](const connection& s, const std::string& mac) {
            auto c = s.get();
            return host_interface{c, call<o::interface_lookup_by_mac_string>(c, {mac})};
        })
        .def("listAllDevices", [](const connection& s, unsigned flags) {
            auto c = s.get();
            return wrap_all(c, call<o::connect_list_all_node_devices>(c, {flags}));
        })
        .def("listDevices", [](const connection& s, std::optional<std::string> cap, unsigned flags) {
            return call<o::node_list_devices>(s.get(), {std::move(cap), flags});
        })
        .def("nodeDeviceLookupByName", [](const connection& s, const std::string& name) {
            auto c = s.get();
            return node_device{c, call<o::node_device_lookup_by_name>(c, {name})};
        });

    auto dom_class = py::reinterpret_borrow<py::class_<domain>>(m.attr("Domain"));
    dom_class
        .def("snapshotCreateXML", [](const domain& d, const std::string& xml, unsigned flags) {
            any_connection c(d.dom.connection());
            return domain_snapshot{c, call<o::domain_snapshot_create_xml>(c, {d.dom.ref(), xml, flags})};
        })
        .def("snapshotLookupByName", [](const domain& d, const std::string& name, unsigned flags) {
            any_connection c(d.dom.connection());
            return domain_snapshot{c, call<o::domain_snapshot_lookup_by_name>(c, {d.dom.ref(), name, flags})};
        })
        .def("listAllSnapshots", [](const domain& d, unsigned flags) {
            any_connection c(d.dom.connection());
            return wrap_all(c, call<o::domain_list_all_snapshots>(c, {d.dom.ref(), flags}));
        })
        .def("hasCurrentSnapshot", [](const domain& d, unsigned flags) {
            return call<o::domain_has_current_snapshot>(any_connection(d.dom.connection()), {d.dom.ref(), flags}) ? 1 : 0;
        })
        .def("snapshotCurrent", [](const domain& d, unsigned flags) {
            any_connection c(d.dom.connection());
            return domain_snapshot{c, call<o::domain_snapshot_current>(c, {d.dom.ref(), flags})};
        })
        .def("checkpointCreateXML", [](const domain& d, const std::string& xml, unsigned flags) {
            any_connection c(d.dom.connection());
            return domain_checkpoint{c, call<o::domain_checkpoint_create_xml>(c, {d.dom.ref(), xml, flags})};
        })
        .def("checkpointLookupByName", [](const domain& d, const std::string& name, unsigned flags) {
            any_connection c(d.dom.connection());
            return domain_checkpoint{c, call<o::domain_checkpoint_lookup_by_name>(c, {d.dom.ref(), name, flags})};
        })
        .def("listAllCheckpoints", [](const domain& d, unsigned flags) {
            any_connection c(d.dom.connection());
            return wrap_all(c, call<o::domain_list_all_checkpoints>(c, {d.dom.ref(), flags}));
        });
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "virtpp's native layer; use the virtpp (or drop-in libvirt) module instead";

    bind_connection(m);
    bind_domain(m);
    bind_network(m);
    bind_objects(m);

    m.def("set_error_class", [](py::object cls) { error_class() = std::move(cls); });
    m.def("set_error_handler", &set_error_handler);
    m.def("last_error", []() -> py::object {
        auto e = virtpp::last_error();
        if (!e) return py::none();
        return error_tuple(*e);
    });
    m.def("reset_last_error", [] { virtpp::reset_last_error(); });
    /// The wake-up pipe's read end, for the event loop to watch, and how to empty it.
    m.def("event_wakeup_fd", [] { return wakeups().read_fd; });
    m.def("drain_event_wakeups", [] { wakeups().drain(); });
    /// Reports and raises an error the Python layer detects (NO_SUPPORT for a name the library lacks).
    m.def("raise_error", [](int code, int domain, const std::string& detail) {
        virtpp::api_boundary(nullptr, [&] {
            virtpp::raise(static_cast<virtpp::error_code>(code), static_cast<virtpp::error_domain>(domain), detail);
        });
    });
    m.attr("libvirt_api_version") = virtpp::libvirt_api_version;
    m.attr("version") = VIRTPP_VERSION_STRING;

    // Local: other pybind11 modules in the process keep their own translation.
    py::register_local_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const virtpp::error& e) {
            auto& cls = error_class();
            if (!cls || cls.is_none()) {
                PyErr_SetString(PyExc_RuntimeError, e.what());
                return;
            }
            py::object exc = cls(py::str(e.info().message));
            exc.attr("err") = error_tuple(e.info());
            PyErr_SetObject(cls.ptr(), exc.ptr());
        }
    });
}
