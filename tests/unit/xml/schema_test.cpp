// docs/schemas/*.xsd and virtpp::xml::validate_document: every seed example, fixture document
// and saved libvirt output validates; every document of the negative corpus is rejected with
// libvirt's code and a message naming the line; nothing is ever fetched.
#include <virtpp/xml/schema.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using virtpp::xml::document_kind;
using virtpp::xml::guess_document_kind;
using virtpp::xml::validate_document;

namespace {

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    return std::move(buf).str();
}

std::vector<fs::path> xml_files_under(const fs::path& dir) {
    std::vector<fs::path> out;
    if (!fs::is_directory(dir)) return out;
    for (const auto& entry : fs::recursive_directory_iterator(dir))
        if (entry.is_regular_file() && entry.path().extension() == ".xml") out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

class SchemaTest : public ::testing::Test {
protected:
    void SetUp() override { virtpp::set_error_handler([](const virtpp::error_info&) {}); }
    void TearDown() override { virtpp::set_error_handler({}); }

    // The error validate_document raises, or nothing when it accepts the document.
    static std::optional<virtpp::error_info> rejection(std::string_view xml, document_kind kind) {
        try {
            validate_document(xml, kind);
        } catch (const virtpp::error& e) {
            return e.info();
        }
        return std::nullopt;
    }
};

constexpr std::string_view minimal_domain = R"(<domain type='kvm'>
  <name>g</name>
  <memory unit='KiB'>1024</memory>
  <vcpu>1</vcpu>
  <os>
    <type>hvm</type>
  </os>
</domain>
)";

}  // namespace

TEST_F(SchemaTest, KindNamesRoundTrip) {
    for (auto kind : {document_kind::domain, document_kind::network, document_kind::capabilities})
        EXPECT_EQ(virtpp::xml::document_kind_from_string(virtpp::xml::to_string(kind)), kind);
    EXPECT_EQ(virtpp::xml::to_string(document_kind::capabilities), "capabilities");
    EXPECT_FALSE(virtpp::xml::document_kind_from_string("node").has_value());
    EXPECT_FALSE(virtpp::xml::document_kind_from_string("").has_value());
}

TEST_F(SchemaTest, GuessesKindFromRootElement) {
    EXPECT_EQ(guess_document_kind("<domain type='xen'/>"), document_kind::domain);
    EXPECT_EQ(guess_document_kind("<network>"), document_kind::network);
    EXPECT_EQ(guess_document_kind("<?xml version='1.0'?>\n<!-- c -->\n<?pi x?>\n<capabilities>"),
              document_kind::capabilities);
    EXPECT_EQ(guess_document_kind("\xEF\xBB\xBF<domain\n type='kvm'>"), document_kind::domain);
    EXPECT_EQ(guess_document_kind("<!DOCTYPE network>\n<network/>"), document_kind::network);
    EXPECT_FALSE(guess_document_kind("<node/>").has_value());
    EXPECT_FALSE(guess_document_kind("<domainsnapshot/>").has_value());
    EXPECT_FALSE(guess_document_kind("").has_value());
    EXPECT_FALSE(guess_document_kind("   ").has_value());
    EXPECT_FALSE(guess_document_kind("domain").has_value());
    EXPECT_FALSE(guess_document_kind("<!-- unterminated").has_value());
}

TEST_F(SchemaTest, SchemaFilesAreFoundInTheSourceTree) {
    for (auto kind : {document_kind::domain, document_kind::network, document_kind::capabilities}) {
        auto path = virtpp::xml::schema_file(kind);
        EXPECT_TRUE(fs::is_regular_file(path)) << path;
        EXPECT_EQ(path.filename(), std::string(virtpp::xml::to_string(kind)) + ".xsd");
    }
    auto dirs = virtpp::xml::schema_search_path();
    ASSERT_GE(dirs.size(), 2u);
    EXPECT_EQ(dirs.back(), fs::path(VIRTPP_SOURCE_DIR) / "docs" / "schemas");
}

TEST_F(SchemaTest, EnvironmentDirectoryComesFirst) {
    auto dir = fs::temp_directory_path() / ("virtpp-schema-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    // A copy of the real schema under another directory: chosen first, and it works.
    fs::copy_file(fs::path(VIRTPP_SOURCE_DIR) / "docs/schemas/network.xsd", dir / "network.xsd",
                  fs::copy_options::overwrite_existing);
    ::setenv("VIRTPP_SCHEMA_DIR", dir.c_str(), 1);
    EXPECT_EQ(virtpp::xml::schema_search_path().front(), dir);
    EXPECT_EQ(virtpp::xml::schema_file(document_kind::network), dir / "network.xsd");
    // domain.xsd is not there: the next directory on the path provides it
    EXPECT_EQ(virtpp::xml::schema_file(document_kind::domain).parent_path(),
              fs::path(VIRTPP_SOURCE_DIR) / "docs" / "schemas");
    EXPECT_FALSE(rejection("<network><name>n</name></network>", document_kind::network).has_value());
    ::unsetenv("VIRTPP_SCHEMA_DIR");
    fs::remove_all(dir);
}

TEST_F(SchemaTest, BrokenSchemaIsAnInternalError) {
    auto dir = fs::temp_directory_path() / ("virtpp-schema-broken-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "capabilities.xsd")
        << "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'>\n"
           "<xs:include schemaLocation='http://example.invalid/other.xsd'/>\n</xs:schema>\n";
    ::setenv("VIRTPP_SCHEMA_DIR", dir.c_str(), 1);
    auto err = rejection("<capabilities/>", document_kind::capabilities);
    ::unsetenv("VIRTPP_SCHEMA_DIR");
    fs::remove_all(dir);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->code, virtpp::error_code::internal_error);
    EXPECT_NE(err->message.find("other.xsd"), std::string::npos) << err->message;
}

TEST_F(SchemaTest, MinimalDocumentsValidate) {
    EXPECT_FALSE(rejection(minimal_domain, document_kind::domain).has_value());
    EXPECT_FALSE(rejection("<network><name>n</name></network>", document_kind::network).has_value());
    EXPECT_FALSE(
        rejection("<capabilities><host><cpu><arch>x86_64</arch></cpu></host></capabilities>",
                  document_kind::capabilities)
            .has_value());
}

TEST_F(SchemaTest, InvalidDocumentNamesLineAndProblem) {
    std::string xml(minimal_domain);
    xml.replace(xml.find("1024"), 4, "abc");
    auto err = rejection(xml, document_kind::domain);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->code, virtpp::error_code::xml_invalid_schema);
    EXPECT_EQ(err->domain, virtpp::error_domain::xml);
    EXPECT_EQ(err->int1, 3);
    EXPECT_NE(err->message.find("XML document failed to validate against schema: Unable to validate doc against "),
              std::string::npos)
        << err->message;
    EXPECT_NE(err->message.find("domain.xsd"), std::string::npos) << err->message;
    EXPECT_NE(err->message.find("(domain_definition):3: "), std::string::npos) << err->message;
    EXPECT_NE(err->message.find("abc"), std::string::npos) << err->message;
}

TEST_F(SchemaTest, DocumentNameAppearsInMessages) {
    try {
        validate_document("<network><bogus/></network>", document_kind::network, "net.xml");
        FAIL() << "accepted";
    } catch (const virtpp::error& e) {
        EXPECT_NE(e.info().message.find("net.xml:1: "), std::string::npos) << e.info().message;
        EXPECT_NE(e.info().message.find("bogus"), std::string::npos) << e.info().message;
    }
}

TEST_F(SchemaTest, EveryProblemIsListed) {
    std::string xml = "<domain type='kvm'>\n<name>g</name>\n<vcpu>x</vcpu>\n<on_crash>explode</on_crash>\n</domain>\n";
    auto err = rejection(xml, document_kind::domain);
    ASSERT_TRUE(err.has_value());
    EXPECT_NE(err->message.find(":3: "), std::string::npos) << err->message;
    EXPECT_NE(err->message.find(":4: "), std::string::npos) << err->message;
}

TEST_F(SchemaTest, WrongRootSaysWhatWasExpected) {
    auto err = rejection("<network><name>n</name></network>", document_kind::domain);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->code, virtpp::error_code::xml_invalid_schema);
    EXPECT_NE(err->message.find("root element is 'network', expected 'domain'"), std::string::npos)
        << err->message;
}

TEST_F(SchemaTest, MalformedXmlIsXmlDetail) {
    auto err = rejection("<domain type='kvm'>\n<name>g</nam>\n</domain>", document_kind::domain);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->code, virtpp::error_code::xml_detail);
    EXPECT_EQ(err->domain, virtpp::error_domain::xml);
    EXPECT_EQ(err->int1, 2);
    auto empty = rejection("", document_kind::network);
    ASSERT_TRUE(empty.has_value());
    EXPECT_EQ(empty->code, virtpp::error_code::xml_detail);
}

TEST_F(SchemaTest, NothingExternalIsFetched) {
    // an external entity (file and network), and a schema location hint pointing elsewhere
    const char* external_file =
        "<!DOCTYPE network [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n<network><name>&x;</name></network>";
    auto err = rejection(external_file, document_kind::network);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->message.find("root:"), std::string::npos) << err->message;

    const char* external_http =
        "<!DOCTYPE network SYSTEM 'http://127.0.0.1:9/x.dtd'>\n<network><name>n</name></network>";
    auto http = rejection(external_http, document_kind::network);
    // either refused outright or validated without the DTD; never fetched
    if (http) {
        EXPECT_NE(http->message.find("x.dtd"), std::string::npos) << http->message;
    }

    const char* hint =
        "<network xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' "
        "xsi:noNamespaceSchemaLocation='http://127.0.0.1:9/permissive.xsd'><name>n</name><bogus/></network>";
    auto hinted = rejection(hint, document_kind::network);
    ASSERT_TRUE(hinted.has_value()) << "the hint must not replace virtpp's schema";
    EXPECT_NE(hinted->message.find("bogus"), std::string::npos) << hinted->message;
}

TEST_F(SchemaTest, ManyProblemsAreCapped) {
    std::string xml = "<network><name>n</name>\n";
    for (int i = 0; i < 40; ++i) xml += "<ip address='x" + std::to_string(i) + "'/>\n";
    xml += "</network>\n";
    auto err = rejection(xml, document_kind::network);
    ASSERT_TRUE(err.has_value());
    EXPECT_NE(err->message.find("more problems)"), std::string::npos) << err->message;
}

// ---- the corpora -----------------------------------------------------------------------------

TEST_F(SchemaTest, SeedExamplesAndFixturesValidate) {
    std::vector<fs::path> files = xml_files_under(fs::path(VIRTPP_SHARED_DIR) / "seed" / "examples");
    auto fixtures = xml_files_under(fs::path(VIRTPP_SHARED_DIR) / "fixtures");
    files.insert(files.end(), fixtures.begin(), fixtures.end());
    if (files.empty()) GTEST_SKIP() << "no shared corpus at " << VIRTPP_SHARED_DIR;
    std::size_t checked = 0;
    for (const auto& file : files) {
        auto text = slurp(file);
        auto kind = guess_document_kind(text);
        if (!kind) continue;  // e.g. the test driver's <node> file
        ++checked;
        auto err = rejection(text, *kind);
        EXPECT_FALSE(err.has_value()) << file << "\n" << (err ? err->message : "");
    }
    EXPECT_GE(checked, 100u);
}

TEST_F(SchemaTest, ValidCorpusValidates) {
    auto files = xml_files_under(fs::path(VIRTPP_SOURCE_DIR) / "tests" / "data" / "valid");
    ASSERT_GE(files.size(), 3u);
    for (const auto& file : files) {
        auto kind = virtpp::xml::document_kind_from_string(file.parent_path().filename().string());
        ASSERT_TRUE(kind.has_value()) << file;
        auto text = slurp(file);
        EXPECT_EQ(guess_document_kind(text), kind) << file;
        auto err = rejection(text, *kind);
        EXPECT_FALSE(err.has_value()) << file << "\n" << (err ? err->message : "");
    }
}

TEST_F(SchemaTest, InvalidCorpusIsRejected) {
    auto files = xml_files_under(fs::path(VIRTPP_SOURCE_DIR) / "tests" / "data" / "invalid");
    ASSERT_GE(files.size(), 25u);
    std::set<std::string> kinds_seen;
    for (const auto& file : files) {
        auto kind_name = file.parent_path().filename().string();
        auto kind = virtpp::xml::document_kind_from_string(kind_name);
        ASSERT_TRUE(kind.has_value()) << file;
        kinds_seen.insert(kind_name);
        auto err = rejection(slurp(file), *kind);
        ASSERT_TRUE(err.has_value()) << file << " was accepted";
        EXPECT_TRUE(err->code == virtpp::error_code::xml_invalid_schema ||
                    err->code == virtpp::error_code::xml_detail)
            << file << ": " << err->message;
        EXPECT_GT(err->int1, 0) << file << ": " << err->message;
    }
    EXPECT_EQ(kinds_seen.size(), 3u);
}
