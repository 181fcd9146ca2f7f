// rtnetlink requests, written against the kernel's uapi headers: one NETLINK_ROUTE socket per
// call, each request acknowledged (NLM_F_ACK) so its errno is the caller's error.
#include "hypervisor/netlink.hpp"

#include <virtpp/error.hpp>

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <algorithm>
#include <cstdio>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace virtpp::hypervisor::netlink {

namespace {

[[noreturn]] void fail_errno(int e, const std::string& what) {
    raise(error_code::system_error, error_domain::none, what + ": " + std::strerror(e));
}

/// A request being built: header, fixed part, then attributes (nested ones via begin/end).
class message {
public:
    message(std::uint16_t type, std::uint16_t flags) {
        buf_.resize(NLMSG_HDRLEN);
        header().nlmsg_type = type;
        header().nlmsg_flags = static_cast<std::uint16_t>(flags | NLM_F_REQUEST | NLM_F_ACK);
    }
    template <class T>
    void put_fixed(const T& fixed) { append(&fixed, sizeof fixed); }
    void put(std::uint16_t type, const void* data, std::size_t len) {
        rtattr a{};
        a.rta_type = type;
        a.rta_len = static_cast<std::uint16_t>(RTA_LENGTH(len));
        append(&a, sizeof a);
        append(data, len);
    }
    void put_string(std::uint16_t type, const std::string& s) { put(type, s.c_str(), s.size() + 1); }
    void put_u32(std::uint16_t type, std::uint32_t v) { put(type, &v, sizeof v); }
    std::size_t begin(std::uint16_t type) {
        std::size_t at = buf_.size();
        put(type, nullptr, 0);
        return at;
    }
    void end(std::size_t at) {
        auto len = static_cast<std::uint16_t>(buf_.size() - at);
        std::memcpy(buf_.data() + at, &len, sizeof len);  // rta_len is the first field
    }
    std::string& bytes() {
        header().nlmsg_len = static_cast<std::uint32_t>(buf_.size());
        return buf_;
    }

private:
    nlmsghdr& header() { return *reinterpret_cast<nlmsghdr*>(buf_.data()); }
    void append(const void* data, std::size_t len) {
        buf_.append(static_cast<const char*>(data), len);
        buf_.resize(NLMSG_ALIGN(buf_.size()), '\0');
    }
    std::string buf_;
};

class socket_fd {
public:
    socket_fd() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {
        if (fd_ < 0) fail_errno(errno, "cannot open a netlink socket");
        sockaddr_nl local{};
        local.nl_family = AF_NETLINK;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
            int e = errno;
            ::close(fd_);
            fail_errno(e, "cannot bind a netlink socket");
        }
    }
    ~socket_fd() { ::close(fd_); }
    socket_fd(const socket_fd&) = delete;
    socket_fd& operator=(const socket_fd&) = delete;

    void send(message& m) {
        auto& b = m.bytes();
        sockaddr_nl kernel{};
        kernel.nl_family = AF_NETLINK;
        if (::sendto(fd_, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
            fail_errno(errno, "cannot send a netlink request");
    }

    /// Reads replies until the ACK / DONE; calls each(nlmsghdr*) for data messages. Returns the
    /// request's errno (0 = success).
    template <class Fn>
    int receive(Fn&& each) {
        std::array<char, 65536> buf{};
        for (;;) {
            ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                return errno;
            }
            auto len = static_cast<unsigned>(n);
            for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
                if (h->nlmsg_type == NLMSG_DONE) return 0;
                if (h->nlmsg_type == NLMSG_ERROR) {
                    const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
                    return -err->error;
                }
                each(h);
            }
        }
    }
    int receive() {
        return receive([](nlmsghdr*) {});
    }

private:
    int fd_;
};

int index_of(const std::string& name) { return static_cast<int>(::if_nametoindex(name.c_str())); }

std::optional<std::array<std::uint8_t, 6>> parse_mac(const std::string& text) {
    std::array<unsigned, 6> v{};
    if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return std::nullopt;
    std::array<std::uint8_t, 6> out{};
    for (std::size_t i = 0; i < 6; ++i) out[i] = static_cast<std::uint8_t>(v[i]);
    return out;
}

/// The attributes following a fixed part of `fixed_len` bytes, as (type, data, len) calls.
template <class Fn>
void each_attr(nlmsghdr* h, std::size_t fixed_len, Fn&& fn) {
    auto* a = reinterpret_cast<rtattr*>(static_cast<char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(fixed_len));
    int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(fixed_len));
    for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) fn(a->rta_type, RTA_DATA(a), RTA_PAYLOAD(a));
}

}  // namespace

void create_bridge(const std::string& name, const bridge_settings& settings) {
    if (name.empty() || name.size() >= IFNAMSIZ)
        raise(error_code::config_unsupported, error_domain::network, "bridge name '" + name + "' is not a valid interface name");
    message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    m.put_fixed(info);
    m.put_string(IFLA_IFNAME, name);
    if (settings.mac) {
        auto mac = parse_mac(*settings.mac);
        if (!mac) raise(error_code::internal_error, error_domain::network, "invalid bridge MAC address '" + *settings.mac + "'");
        m.put(IFLA_ADDRESS, mac->data(), mac->size());
    }
    if (settings.mtu) m.put_u32(IFLA_MTU, *settings.mtu);
    auto linkinfo = m.begin(IFLA_LINKINFO);
    m.put_string(IFLA_INFO_KIND, "bridge");
    auto data = m.begin(IFLA_INFO_DATA);
    // the forward delay is in USER_HZ (centiseconds); the kernel refuses < 2 s only with STP on
    m.put_u32(IFLA_BR_FORWARD_DELAY, static_cast<std::uint32_t>(settings.delay_seconds * 100));
    m.put_u32(IFLA_BR_STP_STATE, settings.stp ? 1 : 0);
    m.end(data);
    m.end(linkinfo);
    socket_fd s;
    s.send(m);
    if (int e = s.receive(); e != 0) {
        if (e == EEXIST)
            raise(error_code::system_error, error_domain::network,
                  "Unable to create bridge " + name + ": an interface of that name already exists");
        fail_errno(e, "Unable to create bridge " + name);
    }
}

void delete_link(const std::string& name) {
    int index = index_of(name);
    if (index == 0) return;
    message m(RTM_DELLINK, 0);
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    info.ifi_index = index;
    m.put_fixed(info);
    socket_fd s;
    s.send(m);
    if (int e = s.receive(); e != 0 && e != ENODEV) fail_errno(e, "Unable to delete interface " + name);
}

void set_link_up(const std::string& name, bool up) {
    int index = index_of(name);
    if (index == 0) fail_errno(ENODEV, "Cannot set interface flags on '" + name + "'");
    message m(RTM_NEWLINK, 0);
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    info.ifi_index = index;
    info.ifi_change = IFF_UP;
    info.ifi_flags = up ? IFF_UP : 0;
    m.put_fixed(info);
    socket_fd s;
    s.send(m);
    if (int e = s.receive(); e != 0) fail_errno(e, "Cannot set interface flags on '" + name + "'");
}

void add_address(const std::string& link, const std::string& address, unsigned prefix) {
    int index = index_of(link);
    if (index == 0) fail_errno(ENODEV, "Failed to add IP address " + address + "/" + std::to_string(prefix) + " to " + link);
    std::array<std::uint8_t, 16> bytes{};
    int family = address.find(':') != std::string::npos ? AF_INET6 : AF_INET;
    if (inet_pton(family, address.c_str(), bytes.data()) != 1)
        raise(error_code::internal_error, error_domain::network, "invalid IP address '" + address + "'");
    std::size_t len = family == AF_INET ? 4 : 16;
    message m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    ifaddrmsg a{};
    a.ifa_family = static_cast<std::uint8_t>(family);
    a.ifa_prefixlen = static_cast<std::uint8_t>(prefix);
    a.ifa_index = static_cast<std::uint32_t>(index);
    m.put_fixed(a);
    m.put(IFA_LOCAL, bytes.data(), len);
    m.put(IFA_ADDRESS, bytes.data(), len);
    if (family == AF_INET && prefix < 31) {
        std::uint32_t host = ntohl(*reinterpret_cast<std::uint32_t*>(bytes.data()));
        std::uint32_t mask = prefix == 0 ? 0 : ~0U << (32 - prefix);
        std::uint32_t broadcast = htonl(host | ~mask);
        m.put(IFA_BROADCAST, &broadcast, 4);
    }
    socket_fd s;
    s.send(m);
    if (int e = s.receive(); e != 0)
        fail_errno(e, "Failed to add IP address " + address + "/" + std::to_string(prefix) + " to " + link);
}

void add_route(const std::string& link, const std::string& destination, unsigned prefix, const std::string& gateway,
               unsigned metric) {
    int index = index_of(link);
    if (index == 0) fail_errno(ENODEV, "Error adding route to " + link);
    int family = destination.find(':') != std::string::npos ? AF_INET6 : AF_INET;
    std::array<std::uint8_t, 16> dst{}, via{};
    if (inet_pton(family, destination.c_str(), dst.data()) != 1 || inet_pton(family, gateway.c_str(), via.data()) != 1)
        raise(error_code::internal_error, error_domain::network,
              "invalid route to '" + destination + "' via '" + gateway + "'");
    std::size_t len = family == AF_INET ? 4 : 16;
    message m(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    rtmsg r{};
    r.rtm_family = static_cast<std::uint8_t>(family);
    r.rtm_dst_len = static_cast<std::uint8_t>(prefix);
    r.rtm_table = RT_TABLE_MAIN;
    r.rtm_protocol = RTPROT_BOOT;
    r.rtm_scope = RT_SCOPE_UNIVERSE;
    r.rtm_type = RTN_UNICAST;
    m.put_fixed(r);
    m.put(RTA_DST, dst.data(), len);
    m.put(RTA_GATEWAY, via.data(), len);
    auto oif = static_cast<std::uint32_t>(index);
    m.put(RTA_OIF, &oif, sizeof oif);
    auto priority = static_cast<std::uint32_t>(metric);
    m.put(RTA_PRIORITY, &priority, sizeof priority);
    socket_fd s;
    s.send(m);
    if (int e = s.receive(); e != 0) fail_errno(e, "Error adding route to " + link);
}

bool link_exists(const std::string& name) { return index_of(name) != 0; }

std::vector<std::string> bridge_ports(const std::string& bridge) {
    int master = index_of(bridge);
    std::vector<std::string> out;
    if (master == 0) return out;
    message m(RTM_GETLINK, NLM_F_DUMP);
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    m.put_fixed(info);
    socket_fd s;
    s.send(m);
    s.receive([&](nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWLINK) return;
        std::string name;
        int of = 0;
        each_attr(h, sizeof(ifinfomsg), [&](unsigned type, const void* data, std::size_t len) {
            if (type == IFLA_IFNAME) name.assign(static_cast<const char*>(data), strnlen(static_cast<const char*>(data), len));
            if (type == IFLA_MASTER && len >= 4) std::memcpy(&of, data, 4);
        });
        if (of == master) out.push_back(name);
    });
    return out;
}

bool has_hardware_links() {
    message m(RTM_GETLINK, NLM_F_DUMP);
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    m.put_fixed(info);
    socket_fd s;
    s.send(m);
    bool found = false;
    s.receive([&](nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWLINK) return;
        const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
        if (ifi->ifi_flags & IFF_LOOPBACK) return;
        bool kind = false;
        each_attr(h, sizeof(ifinfomsg), [&](unsigned type, const void*, std::size_t) {
            if (type == IFLA_LINKINFO) kind = true;
        });
        if (!kind) found = true;
    });
    return found;
}

std::vector<route> routes() {
    std::vector<route> out;
    for (int family : {AF_INET, AF_INET6}) {
        message m(RTM_GETROUTE, NLM_F_DUMP);
        rtmsg r{};
        r.rtm_family = static_cast<std::uint8_t>(family);
        m.put_fixed(r);
        socket_fd s;
        s.send(m);
        s.receive([&](nlmsghdr* h) {
            if (h->nlmsg_type != RTM_NEWROUTE) return;
            const auto* rt = static_cast<const rtmsg*>(NLMSG_DATA(h));
            if (rt->rtm_table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST) return;
            route entry;
            entry.family = rt->rtm_family;
            entry.prefix = rt->rtm_dst_len;
            std::array<std::uint8_t, 16> dst{};
            int oif = 0;
            each_attr(h, sizeof(rtmsg), [&](unsigned type, const void* data, std::size_t len) {
                if (type == RTA_DST && len <= dst.size()) std::memcpy(dst.data(), data, len);
                if (type == RTA_OIF && len >= 4) std::memcpy(&oif, data, 4);
            });
            char ifname[IF_NAMESIZE] = {};
            if (oif == 0 || ::if_indextoname(static_cast<unsigned>(oif), ifname) == nullptr) return;
            char text[INET6_ADDRSTRLEN] = {};
            inet_ntop(entry.family, dst.data(), text, sizeof text);
            entry.destination = text;
            entry.link = ifname;
            out.push_back(std::move(entry));
        });
    }
    return out;
}

bool subnets_overlap(const std::string& a, unsigned prefix_a, const std::string& b, unsigned prefix_b) {
    std::array<std::uint8_t, 16> x{}, y{};
    int family = a.find(':') != std::string::npos ? AF_INET6 : AF_INET;
    int family_b = b.find(':') != std::string::npos ? AF_INET6 : AF_INET;
    if (family != family_b) return false;
    if (inet_pton(family, a.c_str(), x.data()) != 1 || inet_pton(family, b.c_str(), y.data()) != 1) return false;
    unsigned prefix = std::min(prefix_a, prefix_b);  // the larger subnet decides
    for (unsigned bit = 0; bit < prefix; ++bit) {
        unsigned byte = bit / 8, shift = 7 - bit % 8;
        if (((x[byte] >> shift) & 1U) != ((y[byte] >> shift) & 1U)) return false;
    }
    return true;
}

}  // namespace virtpp::hypervisor::netlink
