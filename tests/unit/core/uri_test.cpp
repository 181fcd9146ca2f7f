#include <virtpp/uri.hpp>

#include <virtpp/error.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace {

using virtpp::transport_kind;
using virtpp::uri;
using virtpp::uri_param;

class uri_errors : public ::testing::Test {
protected:
    void SetUp() override { virtpp::set_error_handler([](const virtpp::error_info&) {}); }
    void TearDown() override { virtpp::set_error_handler({}); }
};

// ---- well-formed URIs: every example of the seed, then RFC 3986 corners -------------------------

struct good_case {
    const char* text;
    const char* scheme;
    const char* driver;
    std::optional<transport_kind> explicit_transport;
    transport_kind transport;
    const char* user;
    const char* host;
    std::optional<std::uint16_t> port;
    const char* path;
    std::vector<uri_param> params;
    const char* fragment;
    bool remote;
    const char* remote_name;  ///< as libvirt 9's doRemoteOpen computes it (checked against libxml2)
    const char* canonical;    ///< str()
};

constexpr auto none = std::nullopt;
constexpr auto unix_ = transport_kind::unix_socket;
constexpr auto tls = transport_kind::tls;
constexpr auto tcp = transport_kind::tcp;
constexpr auto ssh = transport_kind::ssh;

const std::vector<good_case> good_cases = {
    // seed: uri.html
    {"test:///default", "test", "test", none, unix_, "", "", none, "/default", {}, "", false, "test:///default", "test:///default"},
    {"xen:///", "xen", "xen", none, unix_, "", "", none, "/", {}, "", false, "xen:///", "xen:///"},
    {"qemu:///system", "qemu", "qemu", none, unix_, "", "", none, "/system", {}, "", false, "qemu:///system", "qemu:///system"},
    {"qemu:///session", "qemu", "qemu", none, unix_, "", "", none, "/session", {}, "", false, "qemu:///session", "qemu:///session"},
    {"xen://oirase/", "xen", "xen", none, tls, "", "oirase", none, "/", {}, "", true, "xen:///", "xen://oirase/"},
    {"xen+ssh://oirase/", "xen+ssh", "xen", ssh, ssh, "", "oirase", none, "/", {}, "", true, "xen:///", "xen+ssh://oirase/"},
    {"test+tcp://oirase/default", "test+tcp", "test", tcp, tcp, "", "oirase", none, "/default", {}, "", true, "test:///default", "test+tcp://oirase/default"},
    {"test:///path/to/host/definitions", "test", "test", none, unix_, "", "", none, "/path/to/host/definitions", {}, "", false, "test:///path/to/host/definitions", "test:///path/to/host/definitions"},
    // seed: remote.html
    {"qemu://oirase/system", "qemu", "qemu", none, tls, "", "oirase", none, "/system", {}, "", true, "qemu:///system", "qemu://oirase/system"},
    {"xen+ssh://rjones@towada/", "xen+ssh", "xen", ssh, ssh, "rjones", "towada", none, "/", {}, "", true, "xen:///", "xen+ssh://rjones@towada/"},
    {"xen://towada/", "xen", "xen", none, tls, "", "towada", none, "/", {}, "", true, "xen:///", "xen://towada/"},
    {"xen://towada/?no_verify=1", "xen", "xen", none, tls, "", "towada", none, "/", {{"no_verify", "1"}}, "", true, "xen:///", "xen://towada/?no_verify=1"},
    {"qemu+unix:///system?socket=/opt/libvirt/run/libvirt/libvirt-sock", "qemu+unix", "qemu", unix_, unix_, "", "", none, "/system",
     {{"socket", "/opt/libvirt/run/libvirt/libvirt-sock"}}, "", true, "qemu:///system", "qemu+unix:///system?socket=/opt/libvirt/run/libvirt/libvirt-sock"},
    {"test+tcp://localhost:5000/default", "test+tcp", "test", tcp, tcp, "", "localhost", 5000, "/default", {}, "", true, "test:///default", "test+tcp://localhost:5000/default"},
    {"test:///?name=qemu:///system", "test", "test", none, unix_, "", "", none, "/", {{"name", "qemu:///system"}}, "", false, "qemu:///system", "test:///?name=qemu:///system"},
    {"xen+ext://h/?command=/opt/openssh/bin/ssh", "xen+ext", "xen", transport_kind::ext, transport_kind::ext, "", "h", none, "/",
     {{"command", "/opt/openssh/bin/ssh"}}, "", true, "xen:///", "xen+ext://h/?command=/opt/openssh/bin/ssh"},
    {"xen+ssh://h/?netcat=/opt/netcat/bin/nc", "xen+ssh", "xen", ssh, ssh, "", "h", none, "/", {{"netcat", "/opt/netcat/bin/nc"}}, "", true, "xen:///", "xen+ssh://h/?netcat=/opt/netcat/bin/nc"},
    // the brief's remote-name examples
    {"test+tcp://127.0.0.1:16599/default", "test+tcp", "test", tcp, tcp, "", "127.0.0.1", 16599, "/default", {}, "", true, "test:///default", "test+tcp://127.0.0.1:16599/default"},
    {"qemu+ssh://u@h/system?socket=/x", "qemu+ssh", "qemu", ssh, ssh, "u", "h", none, "/system", {{"socket", "/x"}}, "", true, "qemu:///system", "qemu+ssh://u@h/system?socket=/x"},
    // query parameters: no value, "=value" and empty sections skipped, ';' only when no '&' is left
    {"test:///default?foo=bar&baz&=x&&q=a%20b;c", "test", "test", none, unix_, "", "", none, "/default",
     {{"foo", "bar"}, {"baz", ""}, {"q", "a b"}, {"c", ""}}, "", false, "test:///default?foo=bar&baz=&q=a%20b&c=", "test:///default?foo=bar&baz=&q=a%20b&c="},
    {"test:///default?a=1;b=2", "test", "test", none, unix_, "", "", none, "/default", {{"a", "1"}, {"b", "2"}}, "", false, "test:///default?a=1&b=2", "test:///default?a=1&b=2"},
    {"test:///default?a=1;b=2&c=3", "test", "test", none, unix_, "", "", none, "/default", {{"a", "1;b=2"}, {"c", "3"}}, "", false,
     "test:///default?a=1%3Bb%3D2&c=3", "test:///default?a=1%3Bb=2&c=3"},
    {"test:///default?x=1&x=2", "test", "test", none, unix_, "", "", none, "/default", {{"x", "1"}, {"x", "2"}}, "", false, "test:///default?x=1&x=2", "test:///default?x=1&x=2"},
    {"xen:///?%41=1", "xen", "xen", none, unix_, "", "", none, "/", {{"A", "1"}}, "", false, "xen:///?A=1", "xen:///?A=1"},
    {"test:///x?a=%2f", "test", "test", none, unix_, "", "", none, "/x", {{"a", "/"}}, "", false, "test:///x?a=%2F", "test:///x?a=/"},
    {"test:///a?b?c/d", "test", "test", none, unix_, "", "", none, "/a", {{"b?c/d", ""}}, "", false, "test:///a?b?c/d=", "test:///a?b?c/d="},
    {"test:///x?", "test", "test", none, unix_, "", "", none, "/x", {}, "", false, "test:///x", "test:///x"},
    // remote-driver parameters are dropped from the name (case-insensitively), the rest passed on
    {"test:///x?Socket=/s&COMMAND=c&no_tty=1&pkipath=/p&keyfile=k&known_hosts=kh&foo=b%26r", "test", "test", none, unix_, "", "", none, "/x",
     {{"Socket", "/s"}, {"COMMAND", "c"}, {"no_tty", "1"}, {"pkipath", "/p"}, {"keyfile", "k"}, {"known_hosts", "kh"}, {"foo", "b&r"}}, "", false,
     "test:///x?foo=b%26r", "test:///x?Socket=/s&COMMAND=c&no_tty=1&pkipath=/p&keyfile=k&known_hosts=kh&foo=b%26r"},
    {"test:///x?name=%71emu:///system&NAME=x", "test", "test", none, unix_, "", "", none, "/x", {{"name", "qemu:///system"}, {"NAME", "x"}}, "", false,
     "x", "test:///x?name=qemu:///system&NAME=x"},
    {"remote:///", "remote", "remote", none, unix_, "", "", none, "/", {}, "", true, "", "remote:///"},
    {"remote+ssh://h/x?a=b", "remote+ssh", "remote", ssh, ssh, "", "h", none, "/x", {{"a", "b"}}, "", true, "", "remote+ssh://h/x?a=b"},
    // IPv6 literals
    {"test://[::1]:123/default", "test", "test", none, tls, "", "::1", 123, "/default", {}, "", true, "test:///default", "test://[::1]:123/default"},
    {"qemu+tls://[2001:db8::5]/system", "qemu+tls", "qemu", tls, tls, "", "2001:db8::5", none, "/system", {}, "", true, "qemu:///system", "qemu+tls://[2001:db8::5]/system"},
    {"test+tcp://[fe80::1%25eth0]:5/", "test+tcp", "test", tcp, tcp, "", "fe80::1%eth0", 5, "/", {}, "", true, "test:///", "test+tcp://[fe80::1%25eth0]:5/"},
    {"http://[::1]:8000/", "http", "xen", none, tcp, "", "::1", 8000, "/", {}, "", false, "http:///", "http://[::1]:8000/"},
    // escapes in every component, re-encoded when printed
    {"test:///a%41b", "test", "test", none, unix_, "", "", none, "/aAb", {}, "", false, "test:///aAb", "test:///aAb"},
    {"test:///x%2Fy", "test", "test", none, unix_, "", "", none, "/x/y", {}, "", false, "test:///x/y", "test:///x/y"},
    {"test:///pa:th?x=%41", "test", "test", none, unix_, "", "", none, "/pa:th", {{"x", "A"}}, "", false, "test:///pa%3Ath?x=A", "test:///pa%3Ath?x=A"},
    {"test:///my%20dir", "test", "test", none, unix_, "", "", none, "/my dir", {}, "", false, "test:///my%20dir", "test:///my%20dir"},
    {"test://u%40x@h/", "test", "test", none, tls, "u@x", "h", none, "/", {}, "", true, "test:///", "test://u%40x@h/"},
    {"test://u:pw@h/", "test", "test", none, tls, "u:pw", "h", none, "/", {}, "", true, "test:///", "test://u:pw@h/"},
    {"test://h%41st/", "test", "test", none, tls, "", "hAst", none, "/", {}, "", true, "test:///", "test://hAst/"},
    {"test:///default#a%20b", "test", "test", none, unix_, "", "", none, "/default", {}, "a b", false, "test:///default#a%20b", "test:///default#a%20b"},
    {"test:///a#b[c]", "test", "test", none, unix_, "", "", none, "/a", {}, "b[c]", false, "test:///a#b[c]", "test:///a#b[c]"},
    // hosts, ports, scheme spellings
    {"test://1.2.3.4:5/", "test", "test", none, tls, "", "1.2.3.4", 5, "/", {}, "", true, "test:///", "test://1.2.3.4:5/"},
    {"test://h:0/x", "test", "test", none, tls, "", "h", none, "/x", {}, "", true, "test:///x", "test://h/x"},
    {"test://h:00065535/", "test", "test", none, tls, "", "h", 65535, "/", {}, "", true, "test:///", "test://h:65535/"},
    {"test://:5/x", "test", "test", none, unix_, "", "", none, "/x", {}, "", false, "test:///x", "test:///x"},
    {"test://h:5", "test", "test", none, tls, "", "h", 5, "", {}, "", true, "test://", "test://h:5"},
    {"TEST+TCP://h/x", "TEST+TCP", "TEST", tcp, tcp, "", "h", none, "/x", {}, "", true, "TEST:///x", "TEST+TCP://h/x"},
    {"xen+SSH://h/", "xen+SSH", "xen", ssh, ssh, "", "h", none, "/", {}, "", true, "xen:///", "xen+SSH://h/"},
    {"qemu+libssh2://h/system", "qemu+libssh2", "qemu", transport_kind::libssh2, transport_kind::libssh2, "", "h", none, "/system", {}, "", true, "qemu:///system", "qemu+libssh2://h/system"},
    {"a.b-c://h/", "a.b-c", "a.b-c", none, tls, "", "h", none, "/", {}, "", true, "a.b-c:///", "a.b-c://h/"},
    {"test+tls:///", "test+tls", "test", tls, tls, "", "", none, "/", {}, "", true, "test:///", "test+tls:///"},
    // paths without "//"
    {"test:/foo", "test", "test", none, unix_, "", "", none, "/foo", {}, "", false, "test:///foo", "test:///foo"},
    {"test:foo", "test", "test", none, unix_, "", "", none, "foo", {}, "", false, "test://foo", "test:foo"},
    {"test:", "test", "test", none, unix_, "", "", none, "", {}, "", false, "test://", "test://"},
    {"test://h/a//b", "test", "test", none, tls, "", "h", none, "/a//b", {}, "", true, "test:///a//b", "test://h/a//b"},
};

TEST(uri, parses_every_well_formed_case) {
    ASSERT_GE(good_cases.size(), 40U);
    for (const auto& c : good_cases) {
        SCOPED_TRACE(c.text);
        auto u = uri::parse(c.text);
        EXPECT_EQ(u.kind(), c.scheme == std::string("http") ? uri::form::xend_http : uri::form::standard);
        EXPECT_EQ(u.scheme(), c.scheme);
        EXPECT_EQ(u.driver(), c.driver);
        EXPECT_EQ(u.explicit_transport(), c.explicit_transport);
        EXPECT_EQ(u.transport(), c.transport);
        EXPECT_EQ(u.user(), c.user);
        EXPECT_EQ(u.host(), c.host);
        EXPECT_EQ(u.port(), c.port);
        EXPECT_EQ(u.path(), c.path);
        EXPECT_EQ(u.params(), c.params);
        EXPECT_EQ(u.fragment(), c.fragment);
        EXPECT_EQ(u.is_remote(), c.remote);
        EXPECT_EQ(u.remote_name(), c.remote_name);
        EXPECT_EQ(u.str(), c.canonical);
    }
}

TEST(uri, canonical_text_parses_back_to_the_same_uri) {
    for (const auto& c : good_cases) {
        SCOPED_TRACE(c.text);
        auto u = uri::parse(c.text);
        auto again = uri::parse(u.str());
        EXPECT_EQ(again, u);
        EXPECT_EQ(again.str(), u.str());
    }
}

// ---- the seed's legacy forms -----------------------------------------------------------------

TEST(uri, null_and_empty_mean_the_default) {
    for (auto u : {uri::parse(""), uri::parse(static_cast<const char*>(nullptr)), uri()}) {
        EXPECT_TRUE(u.is_default());
        EXPECT_FALSE(u.is_legacy());
        EXPECT_FALSE(u.is_remote());
        EXPECT_EQ(u.driver(), "");
        EXPECT_EQ(u.str(), "");
        EXPECT_EQ(u.remote_name(), "");  // the daemon probes
        EXPECT_EQ(u, uri());
    }
}

TEST(uri, bare_xen_is_the_local_xen_hypervisor) {
    for (const char* text : {"xen", "XEN", "Xen"}) {
        auto u = uri::parse(text);
        EXPECT_TRUE(u.is_legacy_xen()) << text;
        EXPECT_TRUE(u.is_legacy());
        EXPECT_FALSE(u.is_remote());
        EXPECT_EQ(u.driver(), "xen");
        EXPECT_EQ(u.path(), "/");
        EXPECT_EQ(u.str(), "xen");
        EXPECT_EQ(u.remote_name(), "xen:///");
        EXPECT_EQ(uri::parse(u.str()), u);
    }
    EXPECT_FALSE(uri::parse("xen:///").is_legacy());
}

TEST(uri, absolute_paths_are_xend_unix_sockets) {
    auto seed_form = uri::parse("///var/run/xend/xend-socket");
    auto plain = uri::parse("/var/run/xend/xend-socket");
    EXPECT_TRUE(seed_form.is_xend_socket());
    EXPECT_EQ(seed_form, plain);
    EXPECT_EQ(plain.path(), "/var/run/xend/xend-socket");
    EXPECT_EQ(plain.driver(), "xen");
    EXPECT_FALSE(plain.is_remote());
    EXPECT_EQ(plain.str(), "///var/run/xend/xend-socket");
    EXPECT_EQ(uri::parse(plain.str()), plain);
    auto escaped = uri::parse("/tmp/my%20sock");
    EXPECT_EQ(escaped.path(), "/tmp/my sock");
    EXPECT_EQ(uri::parse(escaped.str()), escaped);
}

TEST(uri, http_is_xend_http_server) {
    auto u = uri::parse("http://oirase/");
    EXPECT_TRUE(u.is_xend_http());
    EXPECT_TRUE(u.is_legacy());
    EXPECT_FALSE(u.is_remote());
    EXPECT_EQ(u.driver(), "xen");
    EXPECT_EQ(u.host(), "oirase");
    EXPECT_EQ(u.port(), std::nullopt);
    EXPECT_EQ(u.remote_port(), virtpp::default_xend_http_port);
    auto with_port = uri::parse("http://oirase:8080/");
    EXPECT_EQ(with_port.remote_port(), 8080);
    EXPECT_EQ(with_port.str(), "http://oirase:8080/");
    // with a transport it is an ordinary remote URI for a driver named "http"
    EXPECT_FALSE(uri::parse("http+tcp://h/").is_legacy());
}

// ---- what the transports need ----------------------------------------------------------------

TEST(uri, default_ports_and_hosts) {
    EXPECT_EQ(virtpp::default_port(tcp), 16509);
    EXPECT_EQ(virtpp::default_port(tls), 16514);
    EXPECT_EQ(virtpp::default_port(ssh), std::nullopt);
    EXPECT_EQ(uri::parse("test+tcp://h/default").remote_port(), 16509);
    EXPECT_EQ(uri::parse("xen://h/").remote_port(), 16514);
    EXPECT_EQ(uri::parse("xen+tls://h:1234/").remote_port(), 1234);
    EXPECT_EQ(uri::parse("xen+ssh://h/").remote_port(), std::nullopt);
    EXPECT_EQ(uri::parse("test+tcp:///default").remote_host(), "localhost");
    EXPECT_EQ(uri::parse("test+tcp://[::1]/default").remote_host(), "::1");
}

TEST(uri, transport_names_are_case_insensitive) {
    EXPECT_EQ(virtpp::parse_transport_name("TLS"), tls);
    EXPECT_EQ(virtpp::parse_transport_name("unix"), unix_);
    EXPECT_EQ(virtpp::parse_transport_name("libssh"), transport_kind::libssh);
    EXPECT_EQ(virtpp::parse_transport_name("udp"), std::nullopt);
    for (auto kind : {unix_, ssh, transport_kind::ext, tcp, tls, transport_kind::libssh2, transport_kind::libssh})
        EXPECT_EQ(virtpp::parse_transport_name(virtpp::transport_name(kind)), kind);
}

TEST(uri, typed_remote_parameters) {
    auto u = uri::parse("qemu+ssh://u@h:2222/system?command=/opt/ssh&socket=/s&netcat=/nc&no_tty=1&no_verify=0&pkipath=/pki&"
                        "keyfile=/k&known_hosts=/kh&extra=1");
    EXPECT_EQ(u.command(), "/opt/ssh");
    EXPECT_EQ(u.socket_path(), "/s");
    EXPECT_EQ(u.netcat(), "/nc");
    EXPECT_EQ(u.pkipath(), "/pki");
    EXPECT_EQ(u.keyfile(), "/k");
    EXPECT_EQ(u.known_hosts(), "/kh");
    EXPECT_EQ(u.name_override(), std::nullopt);
    EXPECT_TRUE(u.no_tty());
    EXPECT_FALSE(u.no_verify());
    EXPECT_FALSE(u.no_sanity());
    EXPECT_EQ(u.port(), 2222);
    EXPECT_EQ(u.passthrough_params(), (std::vector<uri_param>{{"extra", "1"}}));
    EXPECT_EQ(u.remote_name(), "qemu:///system?extra=1");
    EXPECT_EQ(u.param("extra"), "1");
    EXPECT_EQ(u.param("EXTRA"), std::nullopt);  // virURIGetParam is case-sensitive
    EXPECT_TRUE(uri::is_remote_driver_param("Known_Hosts"));
    EXPECT_FALSE(uri::is_remote_driver_param("extra"));
    u.check_remote_params();
    EXPECT_TRUE(uri::parse("xen://h/?no_verify=%201").no_verify());  // virStrToLong_i skips blanks
    EXPECT_TRUE(uri::parse("xen://h/?no_verify=-3").no_verify());
}

TEST_F(uri_errors, bad_flag_values_fail_when_read_like_libvirt_at_connect) {
    auto u = uri::parse("xen://h/?no_verify=yes");  // parsing accepts it: a local driver would ignore it
    try {
        (void)u.no_verify();
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), virtpp::error_code::invalid_arg);
        EXPECT_EQ(e.domain(), virtpp::error_domain::remote);
        EXPECT_EQ(e.info().message, "invalid argument: Failed to parse value of URI component no_verify");
    }
    EXPECT_THROW(u.check_remote_params(), virtpp::error);
    EXPECT_THROW((void)uri::parse("xen://h/?no_tty=").no_tty(), virtpp::error);
    EXPECT_THROW((void)uri::parse("xen://h/?no_tty=99999999999").no_tty(), virtpp::error);
}

TEST_F(uri_errors, ext_needs_a_command_at_connect_time) {
    auto u = uri::parse("test+ext:///default");
    try {
        u.check_remote_params();
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), virtpp::error_code::invalid_arg);
        EXPECT_EQ(e.info().message, "invalid argument: remote_open: for 'ext' transport, command is required");
    }
    uri::parse("test+ext:///default?command=/bin/true").check_remote_params();
}

// ---- malformed URIs --------------------------------------------------------------------------

struct bad_case {
    std::string text;
    virtpp::error_code code;
    virtpp::error_domain domain;
    const char* mentions;  ///< a piece of the message naming the bad part
};

const auto parse_error = virtpp::error_code::internal_error;
const auto uri_domain = virtpp::error_domain::uri;

const std::vector<bad_case> bad_cases = {
    {"test://[::1", parse_error, uri_domain, "unterminated IPv6"},
    {"test://[::1/x", parse_error, uri_domain, "unterminated IPv6"},
    {"test://[::1 x]/", parse_error, uri_domain, "invalid IPv6 address '::1 x'"},
    {"test://[v1.x]/", parse_error, uri_domain, "invalid IPv6 address"},
    {std::string("test://[::1\0x]/", 15), parse_error, uri_domain, "invalid IPv6 address"},  // found by fuzz_uri
    {"test://[1.2.3.4]/", parse_error, uri_domain, "invalid IPv6 address"},
    {"test://[::1]x/", parse_error, uri_domain, "character 'x' after the host"},
    {"test://[fe80::1%25]/", parse_error, uri_domain, "IPv6 zone"},
    {"test://h:abc/", parse_error, uri_domain, "character 'a' in the port"},
    {"test://h:1a/", parse_error, uri_domain, "character 'a' in the port"},
    {"test://h:/x", parse_error, uri_domain, "empty port"},
    {"test://h:99999/", parse_error, uri_domain, "port '99999' out of range"},
    {"test://h:65536/", parse_error, uri_domain, "out of range"},
    {"test://h:-1/", parse_error, uri_domain, "character '-' in the port"},
    {"test://a@b@h/", parse_error, uri_domain, "character '@'"},
    {"test://h%zz/", parse_error, uri_domain, "bad %-escape '%zz' in the host"},
    {"test:///a%zz", parse_error, uri_domain, "bad %-escape '%zz' in the path"},
    {"test:///a%4", parse_error, uri_domain, "bad %-escape '%4' in the path"},
    {"test:///a%", parse_error, uri_domain, "bad %-escape"},
    {"test:///x?a=%zz", parse_error, uri_domain, "in the query"},
    {"test:///x#%g0", parse_error, uri_domain, "in the fragment"},
    {"test:///%00", parse_error, uri_domain, "NUL byte"},
    {"test:///a b", parse_error, uri_domain, "character ' ' in the path"},
    {"test:///a\tb", parse_error, uri_domain, "byte 0x09 in the path"},
    {"test:///\x01", parse_error, uri_domain, "byte 0x01"},
    {std::string("test:///a\0b", 11), parse_error, uri_domain, "byte 0x00"},
    {"test:///\xc3\xa9", parse_error, uri_domain, "byte 0xc3"},
    {"test:///a[b]", parse_error, uri_domain, "character '['"},
    {"test:///a?b[c]", parse_error, uri_domain, "in the query"},
    {"test:///a#b#c", parse_error, uri_domain, "character '#' in the fragment"},
    {"test:///a\"b", parse_error, uri_domain, "character '\"'"},
    {"1test:///", parse_error, uri_domain, "must be a letter"},
    {"te_st:///", parse_error, uri_domain, "character '_' in the scheme"},
    {":", parse_error, uri_domain, "empty scheme"},
    {"://h/", parse_error, uri_domain, "empty scheme"},
    {"test+foo:///default", virtpp::error_code::invalid_arg, virtpp::error_domain::remote, "transport 'foo'"},
    {"a+b+c://h/", virtpp::error_code::invalid_arg, virtpp::error_domain::remote, "transport 'b+c'"},
    {"test+://h/", virtpp::error_code::invalid_arg, virtpp::error_domain::remote, "transport ''"},
    {"test+unix://h/x", virtpp::error_code::invalid_arg, virtpp::error_domain::remote, "remote server 'h' is not supported"},
    {"foo", virtpp::error_code::no_connect, virtpp::error_domain::none, "does not include a driver name"},
    {"//h/x", virtpp::error_code::no_connect, virtpp::error_domain::none, "does not include a driver name"},
    {"?a=b", virtpp::error_code::no_connect, virtpp::error_domain::none, "does not include a driver name"},
    {"///x?y", virtpp::error_code::no_connect, virtpp::error_domain::none, "does not include a driver name"},
    {"//@/x", virtpp::error_code::no_connect, virtpp::error_domain::none, "does not include a driver name"},
    {"test:///" + std::string(uri::max_length, 'a'), parse_error, uri_domain, "longer than 65536 bytes"},
};

TEST_F(uri_errors, rejects_malformed_uris_with_libvirts_codes) {
    ASSERT_GE(bad_cases.size(), 40U);
    for (const auto& c : bad_cases) {
        SCOPED_TRACE(c.text.substr(0, 80));
        try {
            auto u = uri::parse(c.text);
            ADD_FAILURE() << "parsed as " << u.str();
        } catch (const virtpp::error& e) {
            EXPECT_EQ(e.code(), c.code);
            EXPECT_EQ(e.domain(), c.domain);
            EXPECT_NE(e.info().message.find(c.mentions), std::string::npos) << e.info().message;
            EXPECT_LT(e.info().message.size(), 1024U);  // a huge URI is not echoed whole
        }
    }
}

TEST_F(uri_errors, parse_failure_reads_like_virURIParse) {
    try {
        (void)uri::parse("test://[::1");
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        // virsh: "error: internal error: Unable to parse URI test://[::1", then our detail
        EXPECT_EQ(e.info().message.rfind("internal error: Unable to parse URI test://[::1:", 0), 0U) << e.info().message;
        EXPECT_EQ(e.domain(), virtpp::error_domain::uri);
    }
    try {
        (void)uri::parse("test+foo:///default");
        FAIL() << "no error";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.info().message,
                  "invalid argument: remote_open: transport 'foo' in URL not recognised "
                  "(should be tls|unix|ssh|ext|tcp|libssh2|libssh)");
    }
}

TEST(uri, accepts_a_uri_at_the_length_cap) {
    std::string text = "test:///" + std::string(uri::max_length - 8, 'a');
    ASSERT_EQ(text.size(), uri::max_length);
    EXPECT_EQ(uri::parse(text).path().size(), uri::max_length - 7);
}

TEST(uri, weird_but_valid_host_spellings_round_trip) {
    // escapes that decode to characters a reg-name cannot hold print escaped or bracketed
    for (const char* text : {"test://1%3A%3A2/", "test://a%3A1/", "test://h%3A1/", "test://%5B%3A%3A1%5D/", "test://a%25b/", "test://fe80%3A%3A1%25e%2Fx/",
                             "test://h_x~!$&'()*+,;=/"}) {
        SCOPED_TRACE(text);
        auto u = uri::parse(text);
        EXPECT_EQ(uri::parse(u.str()), u) << u.str();
    }
    EXPECT_EQ(uri::parse("test://1%3A%3A2/").str(), "test://[1::2]/");
    EXPECT_EQ(uri::parse("test://a%3A1/").str(), "test://a%3A1/");  // not an IPv6 address
    EXPECT_EQ(uri::parse("test://h%3A1/").str(), "test://h%3A1/");
}

}  // namespace
