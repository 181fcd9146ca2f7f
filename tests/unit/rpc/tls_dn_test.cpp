// Distinguished Names as GnuTLS writes them (tls::certificate_subject_dn), the text virtppd's
// tls_allowed_dn_list patterns match: certificates made here by certtool with awkward values
// (commas, quotes, "+", ";", "<>", a leading "#", blanks at both ends, several OUs and DCs), and
// by openssl for a multi-valued RDN. Each is checked against the expected text, against
// certtool -i's Subject line (the same RDNs in reverse order) and, when libvirt's
// virt-pki-query-dn is installed, against its output byte for byte.
#include "rpc/tls.hpp"

#include <virtpp/error.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using namespace virtpp::rpc;

std::string run(const std::string& command) {
    std::string out;
    if (FILE* p = ::popen(command.c_str(), "r")) {
        char buf[4096];
        while (auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
        ::pclose(p);
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

/// certtool -i writes the RDNs last first (RFC 4514); split on unescaped commas and reverse.
std::string reverse_rdns(const std::string& dn) {
    std::vector<std::string> parts(1);
    for (std::size_t i = 0; i < dn.size(); ++i) {
        if (dn[i] == '\\' && i + 1 < dn.size()) {
            parts.back() += dn.substr(i, 2);
            ++i;
        } else if (dn[i] == ',') {
            parts.emplace_back();
        } else {
            parts.back() += dn[i];
        }
    }
    std::string out;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += (out.empty() ? "" : ",") + *it;
    return out;
}

class tls_dn : public ::testing::Test {
protected:
    void SetUp() override {
        if (std::system("certtool --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "certtool (gnutls-bin) is not installed";
        dir_ = fs::temp_directory_path() / ("virtpp-tls-dn-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        ASSERT_EQ(std::system(("certtool --generate-privkey --outfile " + (dir_ / "key.pem").string() + " >/dev/null 2>&1").c_str()), 0);
        virtpp::set_error_handler([](const virtpp::error_info&) {});
    }
    void TearDown() override {
        virtpp::set_error_handler({});
        if (!dir_.empty()) fs::remove_all(dir_);
    }

    /// A self-signed certificate from certtool template lines.
    std::string certtool_cert(const std::string& name, const std::string& template_text) {
        std::ofstream(dir_ / (name + ".info")) << template_text << "expiration_days = 30\n";
        auto cert = (dir_ / (name + ".pem")).string();
        auto cmd = "certtool --generate-self-signed --load-privkey " + (dir_ / "key.pem").string() + " --template " +
                   (dir_ / (name + ".info")).string() + " --outfile " + cert + " >/dev/null 2>&1";
        EXPECT_EQ(std::system(cmd.c_str()), 0) << template_text;
        return cert;
    }

    void expect_gnutls_dn(const std::string& cert, const std::string& expected) {
        auto ours = tls::certificate_subject_dn(cert);
        EXPECT_EQ(ours, expected);
        auto certtool_subject = run("certtool -i --infile " + cert + " | sed -n 's/^[[:space:]]*Subject: //p' | head -1");
        EXPECT_EQ(ours, reverse_rdns(certtool_subject)) << "certtool -i: " << certtool_subject;
        if (std::system("command -v virt-pki-query-dn >/dev/null 2>&1") == 0) {
            EXPECT_EQ(ours, run("virt-pki-query-dn " + cert)) << "virt-pki-query-dn disagrees";
        }
    }

    fs::path dir_;
};

TEST_F(tls_dn, seed_style_client_certificates) {
    expect_gnutls_dn(certtool_cert("client1", "country = GB\nstate = London\nlocality = London\norganization = virtpp\ncn = client1\n"),
                     "C=GB,ST=London,L=London,O=virtpp,CN=client1");
    expect_gnutls_dn(certtool_cert("client2", "country = GB\nstate = London\nlocality = London\norganization = Red Hat, Inc.\n"
                                              "cn = client2\n"),
                     "C=GB,ST=London,L=London,O=Red Hat\\, Inc.,CN=client2");
}

TEST_F(tls_dn, escaping_and_repeated_attributes) {
    auto cert = certtool_cert("tricky", "country = GB\norganization = Red Hat, Inc.\nunit = \"Unit +One\"\nunit = Unit;Two\n"
                                        "unit = #hash <a> \"q\" x=y\ncn = \" lead and trail \"\ndc = example\ndc = org\n"
                                        "uid = jdoe\n");
    expect_gnutls_dn(cert, "C=GB,O=Red Hat\\, Inc.,OU=Unit \\+One,OU=Unit\\;Two,OU=\\#hash \\<a\\> \\\"q\\\" x=y,"
                           "CN=\\ lead and trail\\ ,UID=jdoe,DC=example,DC=org");
}

TEST_F(tls_dn, other_attribute_names_and_unknown_oids) {
    // title and email from dn_oid; an OID GnuTLS has no name for is printed as the OID with the
    // value's DER in hex
    expect_gnutls_dn(certtool_cert("names", "cn = x\ndn_oid = 2.5.4.12 Dr\ndn_oid = 1.2.840.113549.1.9.1 x@y.org\n"),
                     "CN=x,title=Dr,EMAIL=x@y.org");
    expect_gnutls_dn(certtool_cert("oid", "dn = \"C=GB,serialNumber=12 34,1.2.3.4=#0c0568656c6c6f\"\n"),
                     "1.2.3.4=#0c0568656c6c6f,serialNumber=12 34,C=GB");
}

TEST_F(tls_dn, multi_valued_rdn) {
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "openssl is not installed";
    auto cert = (dir_ / "multi.pem").string();
    auto cmd = "openssl req -x509 -new -key " + (dir_ / "key.pem").string() +
               " -subj '/C=GB/O=Multi/CN=alice+UID=a1/OU=x\\,y' -multivalue-rdn -days 3 -out " + cert + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    expect_gnutls_dn(cert, "C=GB,O=Multi,CN=alice+UID=a1,OU=x\\,y");
}

}  // namespace
