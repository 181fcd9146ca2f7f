#include "rpc/tls.hpp"

#include "rpc/client_detail.hpp"

#include <virtpp/error.hpp>

#include <botan/auto_rng.h>
#include <botan/ber_dec.h>
#include <botan/certstor.h>
#include <botan/data_src.h>
#include <botan/pem.h>
#include <botan/pkcs8.h>
#include <botan/rsa.h>
#include <botan/tls_callbacks.h>
#include <botan/tls_client.h>
#include <botan/tls_exceptn.h>
#include <botan/tls_policy.h>
#include <botan/tls_server.h>
#include <botan/tls_session_manager.h>
#include <botan/x509_crl.h>
#include <botan/x509_ext.h>
#include <botan/x509cert.h>
#include <botan/x509path.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <sstream>
#include <utility>
#include <variant>

namespace virtpp::rpc::tls {

namespace {

[[noreturn]] void raise_tls(error_code code, const std::string& what) { raise(code, error_domain::rpc, what); }

/// libvirt's reason for a client that sent no certificate (gnutls_certificate_verify_peers2's error).
constexpr const char* no_peer_certificate = "Unable to verify TLS peer: No certificate was found.";

/// GnuTLS's reasons, as libvirt puts them after "TLS handshake failed ".
[[noreturn]] void handshake_failed(const char* why) {
    raise_tls(error_code::auth_failed, std::string("TLS handshake failed ") + why);
}

bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

/// libvirt's virNetTLSContextCheckCertFile: a required file that is missing is a system error.
bool check_file(const char* type, const std::string& path, bool allow_missing) {
    if (file_exists(path)) return true;
    int err = errno;
    if (allow_missing) return false;
    raise_system(err, std::string("Cannot read ") + type + " '" + path + "'");
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// certtool puts a human-readable dump before the PEM block; Botan wants the block first.
std::string pem_only(std::string text) {
    auto begin = text.find("-----BEGIN");
    return begin == std::string::npos ? text : text.substr(begin);
}

std::vector<Botan::X509_Certificate> load_certificates(const std::string& path, const char* what) {
    static constexpr std::string_view marker = "-----BEGIN CERTIFICATE-----";
    std::vector<Botan::X509_Certificate> out;
    try {
        std::string text = read_file(path);
        // every PEM block in the file, whatever text lies between them
        for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker, at + marker.size())) {
            auto next = text.find(marker, at + marker.size());
            Botan::DataSource_Memory source(text.substr(at, next == std::string::npos ? std::string::npos : next - at));
            out.emplace_back(source);
        }
    } catch (const std::exception& e) {
        raise_tls(error_code::system_error, std::string("Unable to import ") + what + " " + path + ": " + e.what());
    }
    if (out.empty()) raise_tls(error_code::system_error, std::string("Unable to import ") + what + " " + path);
    return out;
}

std::unique_ptr<Botan::Private_Key> load_key(const std::string& path, const std::string& cert_path) {
    auto fail = [&](const std::string& why) -> std::unique_ptr<Botan::Private_Key> {
        raise_tls(error_code::system_error, "Unable to set x509 key and certificate: " + path + ", " + cert_path + ": " + why);
    };
    try {
        std::string text = pem_only(read_file(path));
        // certtool writes "RSA PRIVATE KEY" (PKCS#1); PKCS#8 goes through Botan's loader
        if (text.find("-----BEGIN RSA PRIVATE KEY-----") != std::string::npos) {
            Botan::DataSource_Memory source(text);
            std::string label;
            auto der = Botan::PEM_Code::decode(source, label);
            return std::make_unique<Botan::RSA_PrivateKey>(
                Botan::AlgorithmIdentifier("RSA", Botan::AlgorithmIdentifier::USE_NULL_PARAM), der);
        }
        Botan::DataSource_Memory source(text);
        auto key = Botan::PKCS8::load_key(source);
        if (!key) return fail("no private key found");
        return key;
    } catch (const virtpp::error&) {
        throw;
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

/// The reason libvirt gives for a failed chain (virNetTLSContextValidCertificate's wording).
std::string describe_failure(Botan::Certificate_Status_Code code, const std::string& hostname) {
    using C = Botan::Certificate_Status_Code;
    switch (code) {
    case C::CERT_NAME_NOMATCH:
        return "Certificate [session] owner does not match the hostname " + hostname;
    case C::CERT_ISSUER_NOT_FOUND:
    case C::CANNOT_ESTABLISH_TRUST:
        return "Certificate failed validation: The certificate hasn't got a known issuer.";
    case C::CERT_IS_REVOKED:
        return "Certificate failed validation: The certificate has been revoked.";
    case C::UNTRUSTED_HASH:
    case C::SIGNATURE_METHOD_TOO_WEAK:
        return "Certificate failed validation: The certificate uses an insecure algorithm";
    case C::CERT_HAS_EXPIRED:
        return "The certificate [session] has expired";
    case C::CERT_NOT_YET_VALID:
        return "The certificate [session] is not yet active";
    default:
        return std::string("Certificate failed validation: The certificate is not trusted. (") +
               Botan::to_string(code) + ")";
    }
}

// ---- Distinguished Names as GnuTLS writes them ----------------------------------------------
//
// tls_allowed_dn_list patterns are written against gnutls_x509_crt_get_dn's text (what
// virt-pki-query-dn prints): RDNs in the certificate's order separated by ",", the values of a
// multi-valued RDN by "+", GnuTLS's attribute names (OID text for unknown ones), values escaped
// with a backslash, and "#" + hex of the DER value for what GnuTLS cannot decode as its string type.

/// One DER element: its tag byte, the whole encoding, and its contents.
struct der_element {
    std::uint8_t tag = 0;
    std::span<const std::uint8_t> whole;
    std::span<const std::uint8_t> contents;
};

/// The elements of a DER encoding one after another, as Botan's BER decoder reads them, each with
/// its whole encoding as well (GnuTLS prints a value it cannot decode as the hex of that).
class der_elements {
public:
    explicit der_elements(std::span<const std::uint8_t> in) : in_(in), source_(in.data(), in.size()), decoder_(source_) {}
    der_elements(const der_elements&) = delete;  // the decoder reads from source_
    der_elements& operator=(const der_elements&) = delete;

    [[nodiscard]] bool more() { return decoder_.more_items(); }

    der_element next() {
        auto bad = [] { raise_tls(error_code::system_error, "malformed Distinguished Name in the peer certificate"); };
        // an end-of-contents marker (tag 0) only closes an indefinite length, which DER has not;
        // Botan's decoder would step over it
        std::uint8_t first_byte = 0;
        if (source_.peek_byte(first_byte) == 1 && first_byte == 0) bad();
        auto start = source_.get_bytes_read();
        Botan::BER_Object object;
        try {
            object = decoder_.get_next_object();
        } catch (const Botan::Exception&) {
            bad();
        }
        auto whole = in_.subspan(start, source_.get_bytes_read() - start);
        // DER, as a Name is: definite lengths, and no high tag numbers (none occurs in a Name)
        if (!object.is_set() || whole.size() < 2 || (whole[0] & 0x1f) == 0x1f || whole[1] == 0x80) bad();
        return {whole[0], whole, whole.subspan(whole.size() - object.length())};
    }

private:
    std::span<const std::uint8_t> in_;
    Botan::DataSource_Memory source_;
    Botan::BER_Decoder decoder_;
};

// The OID's text is written here rather than by Botan::OID: Botan 2 reads the first two arcs from
// the first byte alone, so an OID under 2.40 or above would print differently from GnuTLS.
std::string oid_text(std::span<const std::uint8_t> der) {
    std::string out;
    std::uint64_t value = 0;
    bool first = true;
    for (auto b : der) {
        value = (value << 7) | (b & 0x7f);
        if (b & 0x80) continue;
        if (first) {
            auto top = value < 40 ? 0 : value < 80 ? 1 : 2;
            out = std::to_string(top) + "." + std::to_string(value - 40 * static_cast<std::uint64_t>(top));
            first = false;
        } else {
            out += "." + std::to_string(value);
        }
        value = 0;
    }
    return out;
}

std::string hex_text(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out = "#";
    for (auto b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

/// BMPString (UTF-16 big-endian, surrogate pairs accepted) to UTF-8; nullopt when malformed.
std::optional<std::string> utf16be_to_utf8(std::span<const std::uint8_t> in) {
    if (in.size() % 2 != 0) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 2) {
        std::uint32_t unit = (static_cast<std::uint32_t>(in[i]) << 8) | in[i + 1];
        if (unit >= 0xd800 && unit < 0xdc00) {
            if (i + 3 >= in.size()) return std::nullopt;
            std::uint32_t low = (static_cast<std::uint32_t>(in[i + 2]) << 8) | in[i + 3];
            if (low < 0xdc00 || low >= 0xe000) return std::nullopt;
            unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
            i += 2;
        } else if (unit >= 0xdc00 && unit < 0xe000) {
            return std::nullopt;
        }
        append_utf8(out, unit);
    }
    return out;
}

/// How GnuTLS reads an attribute's value: one fixed string type, or the DirectoryString choice.
enum class dn_value_kind : std::uint8_t { directory, printable, ia5, utf8, numeric, bmp, octets, time };

struct dn_attribute_type {
    std::string_view oid;
    std::string_view name;  ///< empty: GnuTLS prints the OID
    dn_value_kind kind;
};

// GnuTLS 3.7's table of DN attributes (lib/x509/common.c), names and string types
constexpr dn_attribute_type dn_attribute_types[] = {
    {"2.5.4.6", "C", dn_value_kind::printable},
    {"1.3.6.1.5.5.7.9.1", "dateOfBirth", dn_value_kind::time},
    {"1.3.6.1.5.5.7.9.2", "placeOfBirth", dn_value_kind::directory},
    {"1.3.6.1.5.5.7.9.3", "gender", dn_value_kind::printable},
    {"1.3.6.1.5.5.7.9.4", "countryOfCitizenship", dn_value_kind::printable},
    {"1.3.6.1.5.5.7.9.5", "countryOfResidence", dn_value_kind::printable},
    {"2.5.4.9", "street", dn_value_kind::directory},
    {"2.5.4.12", "title", dn_value_kind::directory},
    {"2.5.4.10", "O", dn_value_kind::directory},
    {"2.5.4.11", "OU", dn_value_kind::directory},
    {"2.5.4.3", "CN", dn_value_kind::directory},
    {"2.5.4.7", "L", dn_value_kind::directory},
    {"2.5.4.8", "ST", dn_value_kind::directory},
    {"2.5.4.13", "description", dn_value_kind::directory},
    {"2.5.4.5", "serialNumber", dn_value_kind::printable},
    {"2.5.4.20", "telephoneNumber", dn_value_kind::printable},
    {"2.5.4.4", "surName", dn_value_kind::directory},
    {"2.5.4.43", "initials", dn_value_kind::directory},
    {"2.5.4.44", "generationQualifier", dn_value_kind::directory},
    {"2.5.4.42", "givenName", dn_value_kind::directory},
    {"2.5.4.65", "pseudonym", dn_value_kind::directory},
    {"2.5.4.46", "dnQualifier", dn_value_kind::printable},
    {"2.5.4.17", "postalCode", dn_value_kind::directory},
    {"2.5.4.41", "name", dn_value_kind::directory},
    {"2.5.4.15", "businessCategory", dn_value_kind::directory},
    {"0.9.2342.19200300.100.1.25", "DC", dn_value_kind::ia5},
    {"0.9.2342.19200300.100.1.1", "UID", dn_value_kind::directory},
    {"1.2.840.113556.1.4.656", "userPrincipalName", dn_value_kind::directory},
    {"1.3.6.1.4.1.311.60.2.1.1", "jurisdictionOfIncorporationLocalityName", dn_value_kind::directory},
    {"1.3.6.1.4.1.311.60.2.1.2", "jurisdictionOfIncorporationStateOrProvinceName", dn_value_kind::directory},
    {"1.3.6.1.4.1.311.60.2.1.3", "jurisdictionOfIncorporationCountryName", dn_value_kind::printable},
    {"1.2.840.113549.1.9.1", "EMAIL", dn_value_kind::ia5},
    {"1.2.840.113549.1.9.7", "", dn_value_kind::directory},
    {"1.2.840.113549.1.9.20", "", dn_value_kind::bmp},
    {"1.2.840.113549.1.9.21", "", dn_value_kind::octets},
    {"1.2.840.113549.1.9.4", "", dn_value_kind::octets},
    {"1.3.6.1.5.5.7.8.5", "XmppAddr", dn_value_kind::utf8},
    {"1.2.643.100.1", "OGRN", dn_value_kind::numeric},
    {"1.2.643.100.3", "SNILS", dn_value_kind::numeric},
    {"1.2.643.100.5", "OGRNIP", dn_value_kind::numeric},
    {"1.2.643.3.131.1.1", "INN", dn_value_kind::numeric},
};

const dn_attribute_type* find_dn_attribute_type(const std::string& oid) {
    for (const auto& t : dn_attribute_types)
        if (t.oid == oid) return &t;
    return nullptr;
}

// universal tag numbers of the string types
constexpr std::uint8_t tag_utf8 = 12, tag_numeric = 18, tag_printable = 19, tag_teletex = 20, tag_ia5 = 22,
                       tag_generalized_time = 24, tag_universal = 28, tag_bmp = 30, tag_octets = 4;

/// The value's text before escaping, or nullopt where GnuTLS falls back to the DER in hex.
std::optional<std::string> decode_dn_value(dn_value_kind kind, const der_element& v) {
    std::optional<std::string> text;
    auto raw = [&] { return std::string(v.contents.begin(), v.contents.end()); };
    auto fixed = [&](std::uint8_t tag) {
        if (v.tag == tag) text = raw();
    };
    switch (kind) {
    case dn_value_kind::printable: fixed(tag_printable); break;
    case dn_value_kind::ia5: fixed(tag_ia5); break;
    case dn_value_kind::utf8: fixed(tag_utf8); break;
    case dn_value_kind::numeric: fixed(tag_numeric); break;
    case dn_value_kind::time: fixed(tag_generalized_time); break;
    case dn_value_kind::octets: fixed(tag_octets); break;
    case dn_value_kind::bmp:
        if (v.tag == tag_bmp) text = utf16be_to_utf8(v.contents);
        break;
    case dn_value_kind::directory:
        switch (v.tag) {
        case tag_utf8:
        case tag_printable: text = raw(); break;
        case tag_bmp: text = utf16be_to_utf8(v.contents); break;
        case tag_teletex: {
            // GnuTLS takes a T61 string only when it is printable ASCII, else shows its bytes in hex
            bool ascii = true;
            for (auto b : v.contents) ascii = ascii && b >= 0x20 && b < 0x7f;
            text = ascii ? raw() : hex_text(v.contents);
            break;
        }
        case tag_universal: text = hex_text(v.contents); break;  // GnuTLS does not convert UCS-4
        default: break;
        }
        break;
    }
    // GnuTLS refuses strings with an embedded NUL (octet strings aside) and shows the DER instead
    if (text && kind != dn_value_kind::octets && text->find('\0') != std::string::npos) text.reset();
    return text;
}

/// GnuTLS's escaping: , + " \ < > ; anywhere, "#" or " " first, " " last.
std::string escape_dn_value(const std::string& value) {
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        if (std::string_view(",+\"\\<>;").find(c) != std::string_view::npos || (i == 0 && (c == '#' || c == ' ')) ||
            (i + 1 == value.size() && c == ' '))
            out += '\\';
        out += c;
    }
    return out;
}

/// The text of a Name given the contents of its SEQUENCE (the RDN SETs one after another).
std::string format_rdn_sequence(std::span<const std::uint8_t> rdns) {
    std::string out;
    bool first_rdn = true;
    der_elements sets(rdns);
    while (sets.more()) {
        auto set = sets.next();
        der_elements avas(set.contents);
        bool first_ava = true;
        while (avas.more()) {
            auto ava = avas.next();
            der_elements parts(ava.contents);
            auto oid = parts.next();
            auto value = parts.next();
            auto oid_string = oid_text(oid.contents);
            const auto* type = find_dn_attribute_type(oid_string);
            if (!first_rdn || !first_ava) out += first_ava ? "," : "+";
            out += type != nullptr && !type->name.empty() ? std::string(type->name) : oid_string;
            out += '=';
            std::optional<std::string> text;
            if (type != nullptr) text = decode_dn_value(type->kind, value);
            out += text ? escape_dn_value(*text) : hex_text(value.whole);
            first_ava = false;
        }
        first_rdn = false;
    }
    return out;
}

std::string gnutls_dn_text(const Botan::X509_DN& dn) {
    // Botan keeps the contents of the Name's SEQUENCE, RDN grouping included
    const auto& bits = dn.get_bits();
    return format_rdn_sequence(std::span<const std::uint8_t>(bits.data(), bits.size()));
}

// ---- libvirt's sanity check of our own certificate (virNetTLSContextSanityCheckCredentials) -------

enum class cert_role : std::uint8_t { client, server, ca };

void raise_sanity(const std::string& what) { raise_tls(error_code::system_error, what); }

void check_certificate_times(const Botan::X509_Certificate& cert, const std::string& file, cert_role role) {
    static constexpr const char* who[] = {"client", "server", "CA"};
    Botan::X509_Time now(std::chrono::system_clock::now());
    auto name = std::string("The ") + who[static_cast<int>(role)] + " certificate " + file;
    if (cert.not_after() < now) raise_sanity(name + " has expired");
    if (cert.not_before() > now) raise_sanity(name + " is not yet active");
}

void check_basic_constraints(const Botan::X509_Certificate& cert, const std::string& file, cert_role role) {
    const auto* bc = cert.v3_extensions().get_extension_object_as<Botan::Cert_Extension::Basic_Constraints>();
    if (role == cert_role::ca) {
        if (bc == nullptr) raise_sanity("The certificate " + file + " is missing basic constraints for a CA");
        if (!bc->get_is_ca()) raise_sanity("The certificate " + file + " basic constraints do not show a CA");
    } else if (bc != nullptr && bc->get_is_ca()) {
        raise_sanity("The certificate " + file + " basic constraints show a CA, but we need one for a " +
                     (role == cert_role::server ? "server" : "client"));
    }
}

// Only a critical key usage or purpose extension that forbids the use is an error (libvirt warns otherwise)
void check_key_usage(const Botan::X509_Certificate& cert, const std::string& file, cert_role role) {
    const auto* ku = cert.v3_extensions().get_extension_object_as<Botan::Cert_Extension::Key_Usage>();
    if (ku == nullptr || !cert.is_critical("X509v3.KeyUsage")) return;
    auto usage = ku->get_constraints();
    if (role == cert_role::ca) {
        if (!(usage & Botan::KEY_CERT_SIGN)) raise_sanity("Certificate " + file + " usage does not permit certificate signing");
        return;
    }
    if (!(usage & Botan::DIGITAL_SIGNATURE)) raise_sanity("Certificate " + file + " usage does not permit digital signature");
    if (!(usage & Botan::KEY_ENCIPHERMENT)) raise_sanity("Certificate " + file + " usage does not permit key encipherment");
}

void check_key_purpose(const Botan::X509_Certificate& cert, const std::string& file, cert_role role) {
    const auto& purposes = cert.extended_key_usage();
    if (purposes.empty() || !cert.is_critical("X509v3.ExtendedKeyUsage")) return;
    const Botan::OID server_auth("1.3.6.1.5.5.7.3.1"), client_auth("1.3.6.1.5.5.7.3.2"), any_purpose("2.5.29.37.0");
    bool server = false, client = false;
    for (const auto& p : purposes) {
        if (p == server_auth) server = true;
        else if (p == client_auth) client = true;
        else if (p != any_purpose) server = client = true;  // libvirt lets an unrelated purpose pass both
    }
    bool is_server = role == cert_role::server;
    if (!(is_server ? server : client))
        raise_sanity("Certificate " + file + " purpose does not allow use for with a TLS " + (is_server ? "server" : "client"));
}

void check_own_certificate(const Botan::X509_Certificate& cert, const std::string& file, cert_role role) {
    check_certificate_times(cert, file, role);
    check_basic_constraints(cert, file, role);
    check_key_usage(cert, file, role);
    if (role != cert_role::ca) check_key_purpose(cert, file, role);
}

/// Our certificate must chain to our own CA before we offer it to anyone.
void check_certificate_pair(const Botan::X509_Certificate& cert, const std::string& cert_file,
                            const std::vector<Botan::X509_Certificate>& cas, const std::string& ca_file) {
    Botan::Certificate_Store_In_Memory store;
    for (const auto& ca : cas) store.add_certificate(ca);
    Botan::Path_Validation_Restrictions restrictions(false, 80);
    auto result = Botan::x509_path_validate(std::vector<Botan::X509_Certificate>{cert}, restrictions, store);
    if (result.successful_validation()) return;
    using C = Botan::Certificate_Status_Code;
    std::string reason = "The certificate is not trusted.";
    switch (result.result()) {
    case C::CERT_ISSUER_NOT_FOUND:
    case C::CANNOT_ESTABLISH_TRUST: reason = "The certificate hasn't got a known issuer."; break;
    case C::CERT_IS_REVOKED: reason = "The certificate has been revoked."; break;
    case C::UNTRUSTED_HASH:
    case C::SIGNATURE_METHOD_TOO_WEAK: reason = "The certificate uses an insecure algorithm"; break;
    default: break;
    }
    raise_sanity("Our own certificate " + cert_file + " failed validation against " + ca_file + ": " + reason);
}

void sanity_check_credentials(const std::string& ca_file, const std::string& cert_file, cert_role role) {
    auto readable = [](const std::string& p) { return !p.empty() && ::access(p.c_str(), R_OK) == 0; };
    std::optional<Botan::X509_Certificate> cert;
    std::vector<Botan::X509_Certificate> cas;
    if (readable(cert_file))
        cert = load_certificates(cert_file, role == cert_role::server ? "server certificate" : "client certificate").front();
    if (readable(ca_file)) cas = load_certificates(ca_file, "CA certificate list");
    if (cert) check_own_certificate(*cert, cert_file, role);
    for (const auto& ca : cas) check_own_certificate(ca, ca_file, cert_role::ca);
    if (cert && !cas.empty()) check_certificate_pair(*cert, cert_file, cas, ca_file);
}

}  // namespace

// ---- credentials ------------------------------------------------------------------------------

class credentials : public Botan::Credentials_Manager {
public:
    bool server = false;
    bool verify_client = true;
    Botan::Certificate_Store_In_Memory trust;
    std::vector<Botan::X509_Certificate> chain;
    std::unique_ptr<Botan::Private_Key> key;

    std::vector<Botan::Certificate_Store*> trusted_certificate_authorities(const std::string&,
                                                                           const std::string&) override {
        // a server always asks for a client certificate, as libvirtd (GNUTLS_CERT_REQUEST) does,
        // so the check and the DN are known even where a failure is only logged
        return {const_cast<Botan::Certificate_Store_In_Memory*>(&trust)};
    }
    std::vector<Botan::X509_Certificate> cert_chain(const std::vector<std::string>& key_types, const std::string&,
                                                    const std::string&) override {
        if (!key) return {};
        for (const auto& t : key_types)
            if (t == key->algo_name()) return chain;
        return {};
    }
    Botan::Private_Key* private_key_for(const Botan::X509_Certificate&, const std::string&, const std::string&) override {
        return key.get();
    }
};

namespace {
void load_common(credentials& c, const std::string& ca, const std::string& crl, const std::string& cert,
                 const std::string& key, bool cert_optional) {
    if (!ca.empty()) {
        check_file("CA certificate", ca, false);
        for (auto& x : load_certificates(ca, "CA certificate list")) c.trust.add_certificate(x);
    }
    if (!crl.empty() && check_file("CA revocation list", crl, true)) {
        try {
            Botan::DataSource_Memory source(read_file(crl));
            c.trust.add_crl(Botan::X509_CRL(source));
        } catch (const std::exception& e) {
            raise_tls(error_code::system_error, "Unable to set x509 certificate revocation list: " + crl + ": " + e.what());
        }
    }
    if (!cert.empty() && !key.empty()) {
        if (!check_file("certificate", cert, cert_optional)) return;
        if (!check_file("private key", key, cert_optional)) return;
        c.chain = load_certificates(cert, cert_optional ? "client certificate" : "server certificate");
        c.key = load_key(key, cert);
    }
}
}  // namespace

std::shared_ptr<const credentials> load_client_credentials(const client_config& config) {
    // libvirt checks its own files before loading them (no_sanity=1 skips it)
    if (config.sanity_check) sanity_check_credentials(config.ca_file, config.cert_file, cert_role::client);
    auto c = std::make_shared<credentials>();
    load_common(*c, config.ca_file, config.crl_file, config.cert_file, config.key_file, true);
    return c;
}

std::shared_ptr<const credentials> load_server_credentials(const server_config& config) {
    auto c = std::make_shared<credentials>();
    c->server = true;
    c->verify_client = config.verify_client;
    if (config.sanity_check) sanity_check_credentials(config.ca_file, config.cert_file, cert_role::server);
    load_common(*c, config.ca_file, config.crl_file, config.cert_file, config.key_file, false);
    if (!c->key) raise_tls(error_code::system_error, "Unable to set x509 key and certificate: no server certificate");
    return c;
}

// ---- engine -----------------------------------------------------------------------------------

/// libvirt's priority string "NORMAL" in GnuTLS terms: TLS 1.2 with the usual suites. Botan's
/// default policy matches it; only the key sizes of test certificates need leniency.
class libvirt_policy : public Botan::TLS::Policy {
public:
    size_t minimum_rsa_bits() const override { return 2048; }
};

struct engine::impl : Botan::TLS::Callbacks {
    std::shared_ptr<const credentials> creds;
    bool server = false;
    bool verify = true;
    bool require_valid_peer = false;
    bool peer_certificate_seen = false;
    std::string hostname;
    std::vector<std::uint8_t> outgoing;
    std::vector<std::uint8_t> plaintext;
    bool established = false;
    bool closed = false;
    bool close_notify = false;
    std::string verify_failure;
    std::string peer_dn;
    std::string alert_text;

    Botan::AutoSeeded_RNG rng;
    Botan::TLS::Session_Manager_Noop sessions;
    libvirt_policy policy;
    std::unique_ptr<Botan::TLS::Channel> channel;

    void tls_emit_data(const uint8_t data[], size_t size) override { outgoing.insert(outgoing.end(), data, data + size); }
    void tls_record_received(uint64_t, const uint8_t data[], size_t size) override {
        plaintext.insert(plaintext.end(), data, data + size);
    }
    void tls_alert(Botan::TLS::Alert alert) override {
        if (alert.type() == Botan::TLS::Alert::CLOSE_NOTIFY) close_notify = true;
        if (alert.type() == Botan::TLS::Alert::CLOSE_NOTIFY || alert.is_fatal()) closed = true;
        if (alert.is_fatal()) alert_text = alert.type_string();
    }
    bool tls_session_established(const Botan::TLS::Session&) override { return false; }
    void tls_session_activated() override {
        established = true;
        if (server && !peer_certificate_seen) verify_failure = no_peer_certificate;
    }

    // Checked like libvirt: the handshake goes through, the verdict is kept and acted on after it.
    void tls_verify_cert_chain(const std::vector<Botan::X509_Certificate>& chain,
                               const std::vector<std::shared_ptr<const Botan::OCSP::Response>>&,
                               const std::vector<Botan::Certificate_Store*>& roots, Botan::Usage_Type usage,
                               const std::string&, const Botan::TLS::Policy&) override {
        if (chain.empty()) return;
        peer_certificate_seen = true;
        peer_dn = gnutls_dn_text(chain.front().subject_dn());
        if (!verify) return;
        Botan::Path_Validation_Restrictions restrictions(false, 80);
        auto result = Botan::x509_path_validate(chain, restrictions, roots, server ? std::string() : hostname, usage);
        if (!result.successful_validation()) verify_failure = describe_failure(result.result(), hostname);
    }
};

engine::engine(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
engine::~engine() = default;

namespace {
bool is_ip_literal(const std::string& host) {
    return !host.empty() && (host.find(':') != std::string::npos ||
                             host.find_first_not_of("0123456789.") == std::string::npos);
}
}  // namespace

std::unique_ptr<engine> engine::client(std::shared_ptr<const credentials> creds, std::string hostname,
                                       std::uint16_t port, bool verify) {
    auto p = std::make_unique<impl>();
    p->creds = std::move(creds);
    p->verify = verify;
    p->hostname = hostname;
    auto& cm = const_cast<credentials&>(*p->creds);
    // SNI carries names only, never addresses
    Botan::TLS::Server_Information info(is_ip_literal(hostname) ? std::string() : hostname, port);
    try {
        p->channel = std::make_unique<Botan::TLS::Client>(*p, p->sessions, cm, p->policy, p->rng, info,
                                                          Botan::TLS::Protocol_Version::latest_tls_version());
    } catch (const std::exception& e) {
        raise_tls(error_code::system_error, std::string("Failed to initialize TLS session: ") + e.what());
    }
    return std::unique_ptr<engine>(new engine(std::move(p)));
}

std::unique_ptr<engine> engine::server(std::shared_ptr<const credentials> creds) {
    auto p = std::make_unique<impl>();
    p->creds = std::move(creds);
    p->server = true;
    p->verify = true;  // checked always; verify_client decides whether a failure refuses
    p->require_valid_peer = p->creds->verify_client;
    auto& cm = const_cast<credentials&>(*p->creds);
    try {
        p->channel = std::make_unique<Botan::TLS::Server>(*p, p->sessions, cm, p->policy, p->rng, false);
    } catch (const std::exception& e) {
        raise_tls(error_code::system_error, std::string("Failed to initialize TLS session: ") + e.what());
    }
    return std::unique_ptr<engine>(new engine(std::move(p)));
}

void engine::received(const std::uint8_t* data, std::size_t size) {
    try {
        impl_->channel->received_data(data, size);
    } catch (const std::exception& e) {
        impl_->closed = true;
        if (!impl_->established) raise_tls(error_code::auth_failed, std::string("TLS handshake failed ") + e.what());
        raise_tls(error_code::system_error, std::string("Cannot recv data: ") + e.what());
    }
}

void engine::send(const std::uint8_t* data, std::size_t size) {
    try {
        impl_->channel->send(data, size);
    } catch (const std::exception& e) {
        raise_tls(error_code::system_error, std::string("Cannot write data: ") + e.what());
    }
}

void engine::close() {
    try {
        if (impl_->channel->is_active()) impl_->channel->close();
    } catch (const std::exception&) {
        // closing a broken session: nothing more to say to the peer
    }
}

std::vector<std::uint8_t> engine::take_outgoing() { return std::exchange(impl_->outgoing, {}); }
void engine::take_plaintext(std::vector<std::uint8_t>& into) {
    into.insert(into.end(), impl_->plaintext.begin(), impl_->plaintext.end());
    impl_->plaintext.clear();
}
bool engine::established() const noexcept { return impl_->established; }
bool engine::closed() const noexcept { return impl_->closed; }
bool engine::closed_cleanly() const noexcept { return impl_->close_notify; }
bool engine::fatal_alert_received() const noexcept { return !impl_->alert_text.empty(); }
bool engine::is_server() const noexcept { return impl_->server; }
bool engine::peer_certificate_required() const noexcept { return impl_->server && impl_->require_valid_peer; }
const std::string& engine::verify_failure() const noexcept { return impl_->verify_failure; }
const std::string& engine::peer_dn() const noexcept { return impl_->peer_dn; }

std::string certificate_subject_dn(const std::string& pem_file) {
    check_file("certificate", pem_file, false);
    return gnutls_dn_text(load_certificates(pem_file, "certificate").front().subject_dn());
}

// ---- stream -----------------------------------------------------------------------------------

struct stream::locks {
    std::mutex engine;  ///< the engine and the socket's write side
};

stream::stream(int fd, std::unique_ptr<engine> e) : fd_(fd), engine_(std::move(e)), locks_(std::make_unique<locks>()) {}

stream::~stream() {
    if (fd_ >= 0) ::close(fd_);
}

void stream::flush_locked() {
    auto out = engine_->take_outgoing();
    std::size_t done = 0;
    while (done < out.size()) {
        auto n = ::send(fd_, out.data() + done, out.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            raise_system(errno, "Cannot write data");
        }
        done += static_cast<std::size_t>(n);
    }
}

stream::pump_status stream::pump_raw(std::vector<std::uint8_t>& plaintext, int& err) {
    if (eof_) return pump_status::end;
    std::uint8_t buf[16384];
    ssize_t n;
    do {
        n = ::recv(fd_, buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        err = errno;
        return pump_status::recv_failed;
    }
    std::lock_guard lock(locks_->engine);
    if (n == 0) {
        eof_ = true;
        engine_->take_plaintext(plaintext);
        return pump_status::end;
    }
    try {
        engine_->received(buf, static_cast<std::size_t>(n));
    } catch (...) {
        try {
            flush_locked();  // the alert that tells the peer why
        } catch (const virtpp::error&) {
            // the peer is gone already; the handshake error is the one to report
        }
        throw;
    }
    try {
        flush_locked();
    } catch (const virtpp::error&) {
        // our close_notify answering the peer's may find the socket shut already
        if (!engine_->closed()) {
            err = errno;
            return pump_status::send_failed;
        }
    }
    engine_->take_plaintext(plaintext);
    if (engine_->closed()) eof_ = true;
    return pump_status::data;
}

bool stream::pump_once(std::vector<std::uint8_t>& plaintext) {
    int err = 0;
    switch (pump_raw(plaintext, err)) {
    case pump_status::data: return true;
    case pump_status::end: return false;
    case pump_status::recv_failed: raise_system(err, "Cannot recv data");
    case pump_status::send_failed: break;
    }
    raise_system(err, "Cannot write data");
}

bool stream::read(std::vector<std::uint8_t>& into) {
    auto before = into.size();
    while (into.size() == before) {
        if (!pump_once(into)) return into.size() != before;
    }
    return true;
}

void stream::write_all(const std::uint8_t* data, std::size_t size) {
    std::lock_guard lock(locks_->engine);
    if (engine_->closed()) raise_system(EPIPE, "Cannot write data");
    engine_->send(data, size);
    flush_locked();
}

void stream::shutdown() noexcept {
    {
        std::lock_guard lock(locks_->engine);
        engine_->close();
        try {
            flush_locked();
        } catch (const virtpp::error&) {
            // best effort: the socket may be gone
        }
    }
    ::shutdown(fd_, SHUT_RDWR);
}

void client_handshake(engine& e, blocking_io& io) {
    bool eof = false;
    auto flush = [&] {
        auto out = e.take_outgoing();
        return out.empty() || io.send(out.data(), out.size());
    };
    enum class pump : std::uint8_t { data, end, recv_failed, send_failed };
    std::vector<std::uint8_t> early;
    // one read fed to the engine, as stream::pump_raw
    auto pump_raw = [&]() -> pump {
        if (eof) return pump::end;
        std::uint8_t buf[16384];
        auto n = io.recv(buf, sizeof buf);
        if (n < 0) return pump::recv_failed;
        if (n == 0) {
            eof = true;
            e.take_plaintext(early);
            return pump::end;
        }
        try {
            e.received(buf, static_cast<std::size_t>(n));
        } catch (...) {
            (void)flush();  // the alert that tells the peer why, if it is still there
            throw;
        }
        if (!flush() && !e.closed()) return pump::send_failed;
        e.take_plaintext(early);
        if (e.closed()) eof = true;
        return pump::data;
    };
    if (!flush()) handshake_failed("Error in the push function.");  // the ClientHello
    while (!e.established()) {
        switch (pump_raw()) {
        case pump::data:
            if (e.fatal_alert_received()) handshake_failed("A TLS fatal alert has been received.");
            continue;
        case pump::end: handshake_failed("The TLS connection was non-properly terminated.");
        case pump::recv_failed: handshake_failed("Error in the pull function.");
        case pump::send_failed: handshake_failed("Error in the push function.");
        }
    }
    if (!e.verify_failure().empty()) {
        auto info = make_error_info(error_code::auth_failed, error_domain::rpc, "Failed to verify peer's certificate");
        info.str3 = e.verify_failure();
        e.close();
        (void)flush();
        io.shutdown();
        raise(info);
    }
    // The server's verdict on us: one byte, 1. A refusing server just closes the connection, which
    // GnuTLS reports as an I/O error (EIO) to libvirt; only a clean close_notify or a wrong byte is
    // a verification failure.
    while (early.empty()) {
        pump status;
        try {
            status = pump_raw();
        } catch (const virtpp::error&) {
            status = pump::recv_failed;
        }
        if (!early.empty()) break;
        if (status == pump::data && !e.fatal_alert_received()) continue;
        if (status == pump::end && e.closed_cleanly()) break;
        raise_system(EIO, "Unable to read TLS confirmation");
    }
    if (early.size() != 1 || early[0] != 1)
        raise_tls(error_code::rpc, "server verification (of our certificate or IP address) failed");
}

void stream::client_handshake() {
    // the generic handshake over this stream's socket
    struct socket_io final : blocking_io {
        stream& s;
        explicit socket_io(stream& st) : s(st) {}
        std::ptrdiff_t recv(std::uint8_t* buf, std::size_t size) override {
            ssize_t n;
            do {
                n = ::recv(s.fd_, buf, size, 0);
            } while (n < 0 && errno == EINTR);
            if (n == 0) s.eof_ = true;
            return n < 0 ? -1 : n;
        }
        bool send(const std::uint8_t* data, std::size_t size) override {
            std::size_t done = 0;
            while (done < size) {
                auto n = ::send(s.fd_, data + done, size - done, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) return false;
                done += static_cast<std::size_t>(n);
            }
            return true;
        }
        void shutdown() noexcept override { ::shutdown(s.fd_, SHUT_RDWR); }
    } io(*this);
    std::lock_guard lock(locks_->engine);
    tls::client_handshake(*engine_, io);
}

void stream::server_handshake() {
    std::vector<std::uint8_t> early;
    while (!engine_->established()) {
        if (!pump_once(early))
            raise_tls(error_code::auth_failed, "TLS handshake failed The TLS connection was non-properly terminated.");
    }
    std::string refusal;
    if (engine_->peer_certificate_required()) {
        refusal = engine_->verify_failure();
    }
    if (!refusal.empty()) {
        auto info = make_error_info(error_code::auth_failed, error_domain::rpc, "Failed to verify peer's certificate");
        info.str3 = refusal;
        ::shutdown(fd_, SHUT_RDWR);  // no confirmation byte: libvirt's clients report the refusal
        raise(info);
    }
    std::uint8_t ok = 1;
    write_all(&ok, 1);
}

}  // namespace virtpp::rpc::tls
