#include <virtpp/error.hpp>
#include <virtpp/uri.hpp>

#include <arpa/inet.h>

#include <array>
#include <climits>

namespace virtpp {

namespace {

constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) noexcept { return is_alpha(c) || is_digit(c); }
constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
constexpr char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (to_lower(a[i]) != to_lower(b[i])) return false;
    return true;
}

// RFC 3986 character classes.
constexpr bool is_unreserved(char c) noexcept { return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }
constexpr bool is_sub_delim(char c) noexcept {
    return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' || c == ',' ||
           c == ';' || c == '=';
}
constexpr bool is_pchar(char c) noexcept { return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@'; }

constexpr bool userinfo_char(char c) noexcept { return is_unreserved(c) || is_sub_delim(c) || c == ':'; }
constexpr bool reg_name_char(char c) noexcept { return is_unreserved(c) || is_sub_delim(c); }
constexpr bool path_char(char c) noexcept { return is_pchar(c) || c == '/'; }
constexpr bool query_char(char c) noexcept { return is_pchar(c) || c == '/' || c == '?'; }
// libxml2 also lets '[' and ']' through in fragments.
constexpr bool fragment_char(char c) noexcept { return query_char(c) || c == '[' || c == ']'; }

// What printing leaves unescaped, per component. User and path follow libxml2's xmlSaveUri (so
// remote_name() is byte-identical to libvirt's); the query sets keep '&', ';', '=' escaped where
// they would split a parameter.
// libxml2's IS_UNRESERVED is RFC 2396's: alphanumerics and "-_.!~*'()".
constexpr bool is_unreserved_2396(char c) noexcept {
    return is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '\'' || c == '(' ||
           c == ')';
}
constexpr bool print_user_raw(char c) noexcept {
    return is_unreserved_2396(c) || c == ';' || c == ':' || c == '&' || c == '=' || c == '+' || c == '$' || c == ',';
}
constexpr bool print_path_raw(char c) noexcept {
    return is_unreserved_2396(c) || c == '/' || c == ';' || c == '@' || c == '&' || c == '=' || c == '+' || c == '$' ||
           c == ',';
}
constexpr bool print_host_raw(char c) noexcept { return reg_name_char(c); }
constexpr bool print_param_name_raw(char c) noexcept {
    return is_unreserved(c) || c == '!' || c == '$' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' ||
           c == ',' || c == ':' || c == '@' || c == '/' || c == '?';
}
constexpr bool print_param_value_raw(char c) noexcept { return print_param_name_raw(c) || c == '='; }
constexpr bool print_fragment_raw(char c) noexcept {
    return is_unreserved_2396(c) || c == ';' || c == '/' || c == '?' || c == ':' || c == '@' || c == '&' || c == '=' ||
           c == '+' || c == '$' || c == ',' || c == '[' || c == ']';
}
// g_string_append_uri_escaped (libvirt's virBufferURIEncodeString) keeps only the unreserved set.
constexpr bool print_glib_raw(char c) noexcept { return is_unreserved(c); }

template <class Keep>
void append_escaped(std::string& out, std::string_view text, Keep keep) {
    static constexpr char digits[] = "0123456789ABCDEF";
    for (char c : text) {
        if (keep(c)) {
            out += c;
        } else {
            auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += digits[byte >> 4];
            out += digits[byte & 0xF];
        }
    }
}

// The text of a URI as an error message quotes it: bounded, control bytes shown as \xNN.
std::string quoted_for_message(std::string_view text) {
    constexpr std::size_t shown = 256;
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < text.size() && i < shown; ++i) {
        auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x20 || byte == 0x7F) {
            out += "\\x";
            out += digits[byte >> 4];
            out += digits[byte & 0xF];
        } else {
            out += text[i];
        }
    }
    if (text.size() > shown) out += "...";
    return out;
}

std::string describe_char(char c) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7F) {
        static constexpr char digits[] = "0123456789abcdef";
        return std::string("byte 0x") + digits[byte >> 4] + digits[byte & 0xF];
    }
    return std::string("character '") + c + "'";
}

constexpr std::array<std::string_view, 7> transport_names = {"unix", "ssh", "ext", "tcp", "tls", "libssh2", "libssh"};

// The parameters libvirt 9's doRemoteOpen consumes itself (EXTRACT_URI_ARG_* and authfile).
constexpr std::array<std::string_view, 17> remote_driver_params = {
    "name",    "command",     "socket",             "auth",         "sshauth", "netcat",
    "keyfile", "pkipath",     "known_hosts",        "known_hosts_verify",       "tls_priority",
    "mode",    "proxy",       "no_sanity",          "no_verify",    "no_tty",  "authfile"};

// virStrToLong_i: optional blanks and sign, decimal digits, nothing after, within int.
std::optional<int> parse_int(std::string_view text) noexcept {
    std::size_t i = 0;
    while (i < text.size() && (text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r'))) ++i;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    if (i == text.size()) return std::nullopt;
    long long value = 0;
    for (; i < text.size(); ++i) {
        if (!is_digit(text[i])) return std::nullopt;
        value = value * 10 + (text[i] - '0');
        if (value > static_cast<long long>(INT_MAX) + 1) return std::nullopt;
    }
    if (negative) value = -value;
    if (value > INT_MAX || value < INT_MIN) return std::nullopt;
    return static_cast<int>(value);
}

bool is_ipv6_address(std::string_view text) {
    if (text.empty() || text.size() > 45) return false;
    for (char c : text)  // inet_pton would stop at an embedded NUL
        if (hex_value(c) < 0 && c != ':' && c != '.') return false;
    std::string address(text);
    std::array<unsigned char, 16> raw{};
    return ::inet_pton(AF_INET6, address.c_str(), raw.data()) == 1;
}

// The host as it prints inside the authority: an IPv6 address (with an optional zone) in
// brackets, anything else as an escaped reg-name.
void append_host(std::string& out, std::string_view host) {
    auto zone_at = host.find('%');
    auto address = host.substr(0, zone_at);
    if (address.find(':') != std::string_view::npos && is_ipv6_address(address) &&
        (zone_at == std::string_view::npos || zone_at + 1 < host.size())) {
        out += '[';
        out += address;
        if (zone_at != std::string_view::npos) {
            out += "%25";
            append_escaped(out, host.substr(zone_at + 1), print_glib_raw);
        }
        out += ']';
        return;
    }
    append_escaped(out, host, print_host_raw);
}

}  // namespace

std::string_view transport_name(transport_kind kind) noexcept {
    auto index = static_cast<std::size_t>(kind);
    return index < transport_names.size() ? transport_names[index] : std::string_view("unknown");
}

std::optional<transport_kind> parse_transport_name(std::string_view name) noexcept {
    for (std::size_t i = 0; i < transport_names.size(); ++i)
        if (iequals(name, transport_names[i])) return static_cast<transport_kind>(i);
    return std::nullopt;
}

// ---- parsing ----------------------------------------------------------------------------------

class uri_parser {
public:
    explicit uri_parser(std::string_view text) : text_(text) {}

    uri run() {
        uri result;
        if (text_.size() > uri::max_length)
            raise(error_code::internal_error, error_domain::uri,
                  "Unable to parse URI " + quoted_for_message(text_) + ": longer than " +
                      std::to_string(uri::max_length) + " bytes");
        if (text_.empty()) return result;
        if (iequals(text_, "xen")) {
            result.form_ = uri::form::legacy_xen;
            result.scheme_ = "xen";
            result.path_ = "/";
            return result;
        }

        read_scheme(result);
        bool has_authority = false;
        if (text_.substr(pos_, 2) == "//") {
            pos_ += 2;
            has_authority = true;
            read_authority(result);
        }
        result.path_ = read_component(path_char, "path");
        if (pos_ < text_.size() && text_[pos_] == '?') {
            ++pos_;
            auto start = pos_;
            (void)read_component(query_char, "query");
            split_query(result, text_.substr(start, pos_ - start));
        }
        if (pos_ < text_.size() && text_[pos_] == '#') {
            ++pos_;
            result.fragment_ = read_component(fragment_char, "fragment");
            result.has_fragment_ = true;
        }
        if (pos_ < text_.size()) fail(describe_char(text_[pos_]) + " in the " + last_part_);

        classify(result, has_authority);
        return result;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        raise(error_code::internal_error, error_domain::uri,
              "Unable to parse URI " + quoted_for_message(text_) + ": " + what + " at offset " + std::to_string(pos_));
    }

    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"; only when a ':' comes before any
    // of "/?#" (otherwise the text is a relative reference, whose first segment cannot hold ':').
    void read_scheme(uri& result) {
        auto end = text_.find_first_of(":/?#");
        if (end == std::string_view::npos || text_[end] != ':') return;
        auto scheme = text_.substr(0, end);
        if (scheme.empty()) fail("empty scheme");
        for (std::size_t i = 0; i < scheme.size(); ++i) {
            char c = scheme[i];
            bool ok = i == 0 ? is_alpha(c) : (is_alnum(c) || c == '+' || c == '-' || c == '.');
            if (!ok) {
                pos_ = i;
                fail(describe_char(c) + (i == 0 ? " at the start of the scheme (must be a letter)" : " in the scheme"));
            }
        }
        result.scheme_ = std::string(scheme);
        pos_ = end + 1;
    }

    // Reads characters allowed by keep and %XX escapes, decoding them; stops at the first other
    // character (the caller decides whether that one ends the component).
    template <class Allowed>
    std::string read_component(Allowed allowed, const char* part) {
        last_part_ = part;
        std::string decoded;
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (c == '%') {
                int hi = pos_ + 1 < text_.size() ? hex_value(text_[pos_ + 1]) : -1;
                int lo = pos_ + 2 < text_.size() ? hex_value(text_[pos_ + 2]) : -1;
                if (hi < 0 || lo < 0)
                    fail(std::string("bad %-escape '") + quoted_for_message(text_.substr(pos_, 3)) + "' in the " + part);
                if (hi == 0 && lo == 0) fail(std::string("NUL byte (%00) in the ") + part);
                decoded += static_cast<char>(hi * 16 + lo);
                pos_ += 3;
            } else if (allowed(c)) {
                decoded += c;
                ++pos_;
            } else {
                break;
            }
        }
        return decoded;
    }

    void read_authority(uri& result) {
        auto end = text_.find_first_of("/?#", pos_);
        if (end == std::string_view::npos) end = text_.size();
        // Like libxml2: userinfo is whatever userinfo characters run up to an '@'; otherwise the
        // authority starts with the host.
        auto run = pos_;
        while (run < end && (userinfo_char(text_[run]) || text_[run] == '%')) ++run;
        if (run < end && text_[run] == '@') {
            result.user_ = read_component(userinfo_char, "user name");
            ++pos_;
        }

        if (pos_ < end && text_[pos_] == '[') {
            read_ip_literal(result, end);
        } else {
            result.host_ = read_component(reg_name_char, "host");
        }

        if (pos_ < end && text_[pos_] == ':') {
            ++pos_;
            read_port(result, end);
        }
        last_part_ = "authority";
        if (pos_ < end) fail(describe_char(text_[pos_]) + (result.host_.empty() ? " in the host" : " after the host"));
        // libvirt ignores a port when there is no host (virURIParse).
        if (result.host_.empty()) result.port_ = 0;
    }

    // "[" IPv6address [ "%25" zone ] "]"
    void read_ip_literal(uri& result, std::size_t authority_end) {
        auto open = pos_;
        auto close = text_.find(']', open);
        if (close == std::string_view::npos || close > authority_end) fail("unterminated IPv6 address ('[' without ']') in the host");
        auto inside = text_.substr(open + 1, close - open - 1);
        auto zone_at = inside.find("%25");
        auto address = inside.substr(0, zone_at);
        if (!is_ipv6_address(address)) {
            pos_ = open + 1;
            fail("invalid IPv6 address '" + quoted_for_message(address) + "' in the host");
        }
        std::string host(address);
        if (zone_at != std::string_view::npos) {
            pos_ = open + 1 + zone_at + 3;
            auto zone = read_component(is_unreserved, "IPv6 zone");
            if (zone.empty() || pos_ != close) fail("invalid IPv6 zone in the host");
            host += '%';
            host += zone;
        }
        result.host_ = std::move(host);
        pos_ = close + 1;
        last_part_ = "host";
    }

    void read_port(uri& result, std::size_t authority_end) {
        auto start = pos_;
        unsigned long value = 0;
        while (pos_ < authority_end && is_digit(text_[pos_])) {
            value = value * 10 + static_cast<unsigned long>(text_[pos_] - '0');
            if (value > 65535) {
                pos_ = start;
                fail("port '" + quoted_for_message(text_.substr(start, authority_end - start)) +
                     "' out of range (0-65535)");
            }
            ++pos_;
        }
        if (pos_ == start) fail(pos_ < authority_end ? describe_char(text_[pos_]) + " in the port" : std::string("empty port"));
        if (pos_ < authority_end) fail(describe_char(text_[pos_]) + " in the port");
        result.port_ = static_cast<std::uint16_t>(value);
    }

    // virURIParseParams: sections split at '&' (or at ';' when no '&' is left), "name" alone has an
    // empty value, "=value" and empty sections are skipped; names and values are %-decoded.
    static void split_query(uri& result, std::string_view query) {
        while (!query.empty()) {
            auto end = query.find('&');
            if (end == std::string_view::npos) end = query.find(';');
            if (end == std::string_view::npos) end = query.size();
            auto section = query.substr(0, end);
            auto eq = section.find('=');
            if (!section.empty() && eq != 0) {
                if (eq == std::string_view::npos)
                    result.params_.push_back({decode(section), {}});
                else
                    result.params_.push_back({decode(section.substr(0, eq)), decode(section.substr(eq + 1))});
            }
            query.remove_prefix(end < query.size() ? end + 1 : end);
        }
    }

    // The query was validated while reading, so every '%' here starts a good escape.
    static std::string decode(std::string_view text) {
        std::string out;
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
                out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
                i += 2;
            } else {
                out += text[i];
            }
        }
        return out;
    }

    void classify(uri& result, bool has_authority) {
        if (result.scheme_.empty()) {
            // Without a driver only the xend socket path is meaningful (the seed's file URIs).
            bool bare_path = !result.path_.empty() && result.path_[0] == '/' && result.user_.empty() &&
                             result.host_.empty() && result.port_ == 0 && result.params_.empty() &&
                             !result.has_fragment_ && text_.find_first_of("?#") == std::string_view::npos &&
                             (!has_authority || text_.substr(0, 3) == "///");
            if (!bare_path)
                raise(error_code::no_connect, error_domain::none,
                      "URI '" + quoted_for_message(text_) + "' does not include a driver name");
            result.form_ = uri::form::xend_socket;
            return;
        }
        auto plus = result.scheme_.find('+');
        if (plus != std::string::npos) {
            auto name = std::string_view(result.scheme_).substr(plus + 1);
            result.transport_ = parse_transport_name(name);
            if (!result.transport_)
                raise(error_code::invalid_arg, error_domain::remote,
                      "remote_open: transport '" + quoted_for_message(name) +
                          "' in URL not recognised (should be tls|unix|ssh|ext|tcp|libssh2|libssh)");
            if (*result.transport_ == transport_kind::unix_socket && !result.host_.empty())
                raise(error_code::invalid_arg, error_domain::remote,
                      "using unix socket and remote server '" + quoted_for_message(result.host_) +
                          "' is not supported.");
        }
        result.form_ = (plus == std::string::npos && iequals(result.scheme_, "http")) ? uri::form::xend_http
                                                                                       : uri::form::standard;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    const char* last_part_ = "scheme";
};

uri uri::parse(std::string_view text) { return uri_parser(text).run(); }

uri uri::parse(const char* text) { return text ? parse(std::string_view(text)) : uri(); }

// ---- accessors ---------------------------------------------------------------------------------

bool uri::is_remote() const noexcept {
    if (form_ != form::standard) return false;
    return transport_.has_value() || !host_.empty() || driver() == "remote";
}

std::string_view uri::driver() const noexcept {
    switch (form_) {
    case form::default_uri: return {};
    case form::legacy_xen:
    case form::xend_socket:
    case form::xend_http: return "xen";
    case form::standard: break;
    }
    return std::string_view(scheme_).substr(0, scheme_.find('+'));
}

transport_kind uri::transport() const noexcept {
    if (transport_) return *transport_;
    if (form_ == form::xend_http) return transport_kind::tcp;
    return host_.empty() ? transport_kind::unix_socket : transport_kind::tls;
}

std::optional<std::uint16_t> uri::port() const noexcept {
    if (port_ == 0) return std::nullopt;
    return port_;
}

std::optional<std::uint16_t> uri::remote_port() const noexcept {
    if (port_ != 0) return port_;
    if (form_ == form::xend_http) return default_xend_http_port;
    return default_port(transport());
}

std::optional<std::string_view> uri::param(std::string_view name) const noexcept {
    for (const auto& p : params_)
        if (p.name == name) return std::string_view(p.value);
    return std::nullopt;
}

bool uri::is_remote_driver_param(std::string_view name) noexcept {
    for (auto known : remote_driver_params)
        if (iequals(name, known)) return true;
    return false;
}

std::optional<std::string_view> uri::remote_param(std::string_view name) const noexcept {
    std::optional<std::string_view> found;
    for (const auto& p : params_)
        if (iequals(p.name, name)) found = p.value;
    return found;
}

namespace {
bool remote_flag(const uri& u, std::string_view name) {
    auto text = u.remote_param(name);
    if (!text) return false;
    auto value = parse_int(*text);
    if (!value)
        raise(error_code::invalid_arg, error_domain::remote,
              "Failed to parse value of URI component " + std::string(name));
    return *value != 0;
}
}  // namespace

bool uri::no_verify() const { return remote_flag(*this, "no_verify"); }
bool uri::no_tty() const { return remote_flag(*this, "no_tty"); }
bool uri::no_sanity() const { return remote_flag(*this, "no_sanity"); }

std::vector<uri_param> uri::passthrough_params() const {
    std::vector<uri_param> kept;
    for (const auto& p : params_)
        if (!is_remote_driver_param(p.name)) kept.push_back(p);
    return kept;
}

void uri::check_remote_params() const {
    (void)no_sanity();
    (void)no_verify();
    (void)no_tty();
    if (transport() == transport_kind::ext && !command())
        raise(error_code::invalid_arg, error_domain::remote, "remote_open: for 'ext' transport, command is required");
}

// ---- printing ----------------------------------------------------------------------------------

std::string uri::remote_name() const {
    switch (form_) {
    case form::default_uri: return {};  // the daemon probes, like virConnectOpen(NULL) remotely
    case form::legacy_xen: return "xen:///";
    case form::xend_socket: return str();
    case form::xend_http:
    case form::standard: break;
    }
    if (auto given = name_override()) return std::string(*given);
    if (scheme_ == "remote" || scheme_.starts_with("remote+")) return {};

    // xmlSaveUri of {scheme = driver, path, query, fragment} with port -1: always "//".
    std::string name(std::string_view(scheme_).substr(0, scheme_.find('+')));
    name += "://";
    append_escaped(name, path_, print_path_raw);
    bool first = true;
    for (const auto& p : params_) {
        if (is_remote_driver_param(p.name)) continue;
        name += first ? '?' : '&';
        first = false;
        append_escaped(name, p.name, print_param_name_raw);
        name += '=';
        append_escaped(name, p.value, print_glib_raw);
    }
    if (has_fragment_) {
        name += '#';
        append_escaped(name, fragment_, print_fragment_raw);
    }
    return name;
}

std::string uri::str() const {
    std::string out;
    switch (form_) {
    case form::default_uri: return out;
    case form::legacy_xen: return "xen";
    case form::xend_socket:
        out = "//";
        append_escaped(out, path_, print_path_raw);
        return out;
    case form::xend_http:
    case form::standard: break;
    }
    out = scheme_;
    out += ':';
    // A rootless path ("test:foo") prints without "//" (it never comes with a host); everything
    // else gets the authority marker, as libvirt prints it.
    bool rootless = !path_.empty() && path_[0] != '/';
    if (!rootless) {
        out += "//";
        if (!user_.empty()) {
            append_escaped(out, user_, print_user_raw);
            out += '@';
        }
        append_host(out, host_);
        if (port_ != 0 && !host_.empty()) {
            out += ':';
            out += std::to_string(port_);
        }
    }
    append_escaped(out, path_, print_path_raw);
    for (std::size_t i = 0; i < params_.size(); ++i) {
        out += i == 0 ? '?' : '&';
        append_escaped(out, params_[i].name, print_param_name_raw);
        out += '=';
        append_escaped(out, params_[i].value, print_param_value_raw);
    }
    if (has_fragment_) {
        out += '#';
        append_escaped(out, fragment_, print_fragment_raw);
    }
    return out;
}

}  // namespace virtpp
