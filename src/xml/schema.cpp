#include <virtpp/xml/schema.hpp>

#include "tree.hpp"

#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/framework/XMLGrammarPool.hpp>
#include <xercesc/framework/XMLGrammarPoolImpl.hpp>
#include <xercesc/sax/EntityResolver.hpp>
#include <xercesc/sax/Locator.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/sax2/Attributes.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/SecurityManager.hpp>
#include <xercesc/util/TransService.hpp>
#include <xercesc/util/XMLString.hpp>

#include <array>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

namespace virtpp::xml {

namespace xc = XERCES_CPP_NAMESPACE;

namespace {

// Beyond this many problems the report only says how many more there were.
constexpr std::size_t max_reported_problems = 20;

constexpr std::array<std::string_view, 3> kind_names{"domain", "network", "capabilities"};

std::string to_utf8(const XMLCh* s) {
    if (s == nullptr) return {};
    xc::TranscodeToStr t(s, "UTF-8");
    return std::string(reinterpret_cast<const char*>(t.str()), t.length());
}

// The name libvirt gives a document it parses from a string.
std::string_view default_document_name(document_kind kind) {
    switch (kind) {
        case document_kind::domain: return "(domain_definition)";
        case document_kind::network: return "(network_definition)";
        case document_kind::capabilities: return "(capabilities)";
    }
    return "(document)";
}

[[noreturn]] void raise_internal(std::string detail) {
    raise(error_code::internal_error, error_domain::xml, detail);
}

// Every external resource is refused: neither the grammars nor the documents may pull in
// anything (schemaLocation hints, DTDs, external entities), from the network or the disk.
class refuse_everything final : public xc::EntityResolver {
public:
    xc::InputSource* resolveEntity(const XMLCh* /*public_id*/, const XMLCh* system_id) override {
        throw refused{to_utf8(system_id)};
    }
    struct refused {
        std::string system_id;
    };
};

struct problem {
    std::size_t line = 0;
    std::string what;
    std::size_t column = 0;
};

// Collects validity errors (all of them, as xmllint lists them); fatal errors end the parse.
class problem_collector : public xc::DefaultHandler {
public:
    void error(const xc::SAXParseException& e) override { add(e); }
    void fatalError(const xc::SAXParseException& e) override {
        add(e);
        throw stop_parsing{};
    }
    void warning(const xc::SAXParseException&) override {}

    struct stop_parsing {};
    std::vector<problem> problems;

protected:
    void add(const xc::SAXParseException& e) {
        problems.push_back({static_cast<std::size_t>(e.getLineNumber()), to_utf8(e.getMessage()),
                            static_cast<std::size_t>(e.getColumnNumber())});
    }
};

// Also checks the root element names the expected kind, so a <network> handed to the domain
// schema says so plainly instead of "no declaration found for element 'network'".
class document_checker final : public problem_collector {
public:
    explicit document_checker(std::string_view expected_root) : expected_root_(expected_root) {}

    void setDocumentLocator(const xc::Locator* locator) override { locator_ = locator; }

    void startElement(const XMLCh*, const XMLCh*, const XMLCh* qname, const xc::Attributes&) override {
        if (seen_root_) return;
        seen_root_ = true;
        auto root = to_utf8(qname);
        if (root != expected_root_) {
            // first: Xerces has already complained that the root has no declaration
            problems.insert(problems.begin(),
                            {locator_ ? static_cast<std::size_t>(locator_->getLineNumber()) : 1,
                             "root element is '" + root + "', expected '" + std::string(expected_root_) + "'"});
            throw stop_parsing{};
        }
    }

private:
    std::string_view expected_root_;
    const xc::Locator* locator_ = nullptr;
    bool seen_root_ = false;
};

void ensure_xerces() {
    static std::once_flag once;
    std::call_once(once, [] { xc::XMLPlatformUtils::Initialize(); });
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) raise_internal("cannot read schema file '" + path.string() + "'");
    std::ostringstream buf;
    buf << in.rdbuf();
    return std::move(buf).str();
}

// A locked pool holding one compiled grammar; locked pools are read-only and may be shared by
// parsers on several threads.
std::unique_ptr<xc::XMLGrammarPool> compile_grammar(const std::filesystem::path& path) {
    auto pool = std::make_unique<xc::XMLGrammarPoolImpl>(xc::XMLPlatformUtils::fgMemoryManager);
    const std::string text = read_file(path);
    const std::string system_id = path.string();
    {
        std::unique_ptr<xc::SAX2XMLReader> loader(
            xc::XMLReaderFactory::createXMLReader(xc::XMLPlatformUtils::fgMemoryManager, pool.get()));
        loader->setFeature(xc::XMLUni::fgSAX2CoreNameSpaces, true);
        loader->setFeature(xc::XMLUni::fgXercesSchema, true);
        loader->setFeature(xc::XMLUni::fgXercesSchemaFullChecking, true);  // catches ambiguous content models
        loader->setFeature(xc::XMLUni::fgXercesLoadExternalDTD, false);
        loader->setFeature(xc::XMLUni::fgXercesDisableDefaultEntityResolution, true);
        refuse_everything resolver;
        loader->setEntityResolver(&resolver);
        problem_collector collector;
        loader->setErrorHandler(&collector);
        xc::MemBufInputSource source(reinterpret_cast<const XMLByte*>(text.data()), text.size(),
                                     system_id.c_str(), false);
        xc::Grammar* grammar = nullptr;
        try {
            grammar = loader->loadGrammar(source, xc::Grammar::SchemaGrammarType, true);
        } catch (const problem_collector::stop_parsing&) {
        } catch (const refuse_everything::refused& r) {
            raise_internal("schema '" + system_id + "' refers to '" + r.system_id + "', which is never loaded");
        } catch (const xc::XMLException& e) {
            collector.problems.push_back({static_cast<std::size_t>(e.getSrcLine()), to_utf8(e.getMessage())});
        }
        if (grammar == nullptr || !collector.problems.empty()) {
            std::string detail = "invalid schema '" + system_id + "'";
            for (const auto& p : collector.problems)
                detail += "\n" + system_id + ":" + std::to_string(p.line) + ": " + p.what;
            raise_internal(detail);
        }
    }
    pool->lockPool();
    return pool;
}

// Compiled grammars by schema file, kept for the life of the process.
const xc::XMLGrammarPool& grammar_for(const std::filesystem::path& path) {
    static std::mutex mutex;
    static std::map<std::string, std::unique_ptr<xc::XMLGrammarPool>> cache;
    std::lock_guard lock(mutex);
    auto& slot = cache[path.string()];
    if (!slot) slot = compile_grammar(path);
    return *slot;
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
}

// Xerces reports a problem at the end of the tag it was found in, without always naming the
// element; the tag just before that point in the text is the element the problem is about.
std::string element_at(std::string_view text, std::size_t line, std::size_t column) {
    std::size_t offset = 0;
    for (std::size_t l = 1; l < line; ++l) {
        offset = text.find('\n', offset);
        if (offset == std::string_view::npos) return {};
        ++offset;
    }
    offset += column > 0 ? column - 1 : 0;
    if (offset == 0 || offset > text.size()) return {};
    auto open = text.rfind('<', offset - 1);
    if (open == std::string_view::npos) return {};
    std::size_t start = open + 1;
    if (start < text.size() && text[start] == '/') ++start;
    std::size_t end = start;
    while (end < text.size() && is_name_char(text[end])) ++end;
    return std::string(text.substr(start, end - start));
}

// "element 'vcpu': value '-1' must be ..." unless the message already names the element.
std::string describe(std::string_view text, const problem& p) {
    auto element = element_at(text, p.line, p.column);
    if (element.empty() || p.what.find("'" + element + "'") != std::string::npos) return p.what;
    return "element '" + element + "': " + p.what;
}

}  // namespace

std::string_view to_string(document_kind kind) noexcept {
    return kind_names[static_cast<std::size_t>(kind)];
}

std::optional<document_kind> document_kind_from_string(std::string_view name) noexcept {
    for (std::size_t i = 0; i < kind_names.size(); ++i)
        if (kind_names[i] == name) return static_cast<document_kind>(i);
    return std::nullopt;
}

std::optional<document_kind> guess_document_kind(std::string_view xml) {
    std::size_t pos = 0;
    if (xml.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;  // UTF-8 byte order mark
    // Skip the prolog: white space, the XML declaration, processing instructions, comments and a
    // DOCTYPE (without an internal subset containing '>'; documents of ours never have one).
    while (pos < xml.size()) {
        char c = xml[pos];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            ++pos;
        } else if (xml.substr(pos, 4) == "<!--") {
            auto end = xml.find("-->", pos + 4);
            if (end == std::string_view::npos) return std::nullopt;
            pos = end + 3;
        } else if (xml.substr(pos, 2) == "<?") {
            auto end = xml.find("?>", pos + 2);
            if (end == std::string_view::npos) return std::nullopt;
            pos = end + 2;
        } else if (xml.substr(pos, 2) == "<!") {
            auto end = xml.find('>', pos + 2);
            if (end == std::string_view::npos) return std::nullopt;
            pos = end + 1;
        } else {
            break;
        }
    }
    if (pos >= xml.size() || xml[pos] != '<') return std::nullopt;
    std::size_t start = ++pos;
    while (pos < xml.size() && is_name_char(xml[pos])) ++pos;
    if (pos < xml.size() && !(xml[pos] == '>' || xml[pos] == '/' || xml[pos] == ' ' || xml[pos] == '\t' ||
                              xml[pos] == '\r' || xml[pos] == '\n'))
        return std::nullopt;
    return document_kind_from_string(xml.substr(start, pos - start));
}

std::vector<std::filesystem::path> schema_search_path() {
    std::vector<std::filesystem::path> dirs;
    if (const char* env = std::getenv("VIRTPP_SCHEMA_DIR"); env != nullptr && *env != '\0') dirs.emplace_back(env);
    dirs.emplace_back(VIRTPP_SCHEMA_DIR);
    dirs.emplace_back(VIRTPP_SOURCE_SCHEMA_DIR);
    return dirs;
}

std::filesystem::path schema_file(document_kind kind) {
    const std::string file = std::string(to_string(kind)) + ".xsd";
    std::string searched;
    for (const auto& dir : schema_search_path()) {
        std::error_code ec;
        auto candidate = dir / file;
        if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
        searched += (searched.empty() ? "" : ", ") + dir.string();
    }
    raise_internal("no schema " + file + " in " + searched);
}

void validate_document_unreported(std::string_view xml, document_kind kind, std::string_view document_name) {
    const std::string name(document_name.empty() ? default_document_name(kind) : document_name);
    // Well-formedness first, so malformed input gets the same xml_detail report (line, source
    // line and caret) as every parser in virtpp gives it.
    (void)detail::parse_document(xml, name, error_domain::xml);

    ensure_xerces();
    const auto path = schema_file(kind);
    const xc::XMLGrammarPool& grammar = grammar_for(path);

    // The reader only reads from a locked pool; it never adds to it.
    std::unique_ptr<xc::SAX2XMLReader> reader(xc::XMLReaderFactory::createXMLReader(
        xc::XMLPlatformUtils::fgMemoryManager, const_cast<xc::XMLGrammarPool*>(&grammar)));
    reader->setFeature(xc::XMLUni::fgSAX2CoreNameSpaces, true);
    reader->setFeature(xc::XMLUni::fgSAX2CoreValidation, true);
    reader->setFeature(xc::XMLUni::fgXercesDynamic, false);
    reader->setFeature(xc::XMLUni::fgXercesSchema, true);
    reader->setFeature(xc::XMLUni::fgXercesUseCachedGrammarInParse, true);
    reader->setFeature(xc::XMLUni::fgXercesLoadSchema, false);  // ignore xsi:schemaLocation hints
    reader->setFeature(xc::XMLUni::fgXercesLoadExternalDTD, false);
    reader->setFeature(xc::XMLUni::fgXercesSkipDTDValidation, true);
    reader->setFeature(xc::XMLUni::fgXercesDisableDefaultEntityResolution, true);
    xc::SecurityManager security;  // bounds entity expansion
    security.setEntityExpansionLimit(1000);
    reader->setProperty(xc::XMLUni::fgXercesSecurityManager, &security);
    refuse_everything resolver;
    reader->setEntityResolver(&resolver);
    document_checker checker(to_string(kind));
    reader->setContentHandler(&checker);
    reader->setErrorHandler(&checker);

    xc::MemBufInputSource source(reinterpret_cast<const XMLByte*>(xml.data()), xml.size(), name.c_str(), false);
    try {
        reader->parse(source);
    } catch (const problem_collector::stop_parsing&) {
    } catch (const refuse_everything::refused& r) {
        checker.problems.push_back({0, "refusing to load external resource '" + r.system_id + "'"});
    } catch (const xc::XMLException& e) {
        checker.problems.push_back({static_cast<std::size_t>(e.getSrcLine()), to_utf8(e.getMessage())});
    }
    if (checker.problems.empty()) return;

    std::string detail = "Unable to validate doc against " + path.string();
    for (std::size_t i = 0; i < checker.problems.size() && i < max_reported_problems; ++i)
        detail += "\n" + name + ":" + std::to_string(checker.problems[i].line) + ": " + describe(xml, checker.problems[i]);
    if (checker.problems.size() > max_reported_problems)
        detail += "\n(" + std::to_string(checker.problems.size() - max_reported_problems) + " more problems)";
    auto info = make_error_info(error_code::xml_invalid_schema, error_domain::xml, detail);
    info.int1 = static_cast<int>(checker.problems.front().line);
    raise(info);
}

// The public entry point: an error is reported through the handlers, then thrown.
void validate_document(std::string_view xml, document_kind kind, std::string_view document_name) {
    return api_boundary(nullptr, [&] { return validate_document_unreported(xml, kind, document_name); });
}

}  // namespace virtpp::xml
