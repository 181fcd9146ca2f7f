#include "tree.hpp"

#include <virtpp/xml/escape.hpp>

#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/internal/XMLScanner.hpp>
#include <xercesc/sax/EntityResolver.hpp>
#include <xercesc/sax/InputSource.hpp>
#include <xercesc/sax/Locator.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/sax2/Attributes.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/SecurityManager.hpp>
#include <xercesc/util/TransService.hpp>
#include <xercesc/util/XMLNetAccessor.hpp>
#include <xercesc/util/XMLString.hpp>

#include <algorithm>
#include <charconv>
#include <memory>
#include <mutex>

namespace virtpp::xml::detail {

namespace xc = XERCES_CPP_NAMESPACE;

namespace {

void ensure_xerces() {
    static std::once_flag once;
    std::call_once(once, [] {
        xc::XMLPlatformUtils::Initialize();
        // No parser of ours may fetch a URL: drop the network accessor altogether.
        delete xc::XMLPlatformUtils::fgNetAccessor;
        xc::XMLPlatformUtils::fgNetAccessor = nullptr;
    });
}

std::string to_utf8(const XMLCh* s) {
    if (s == nullptr) return {};
    xc::TranscodeToStr t(s, "UTF-8");
    return std::string(reinterpret_cast<const char*>(t.str()), t.length());
}

// Refuses every external resource: parsers never fetch, from the network or the disk.
class refuse_external final : public xc::EntityResolver {
public:
    xc::InputSource* resolveEntity(const XMLCh* /*public_id*/, const XMLCh* system_id) override {
        throw external_refused{to_utf8(system_id)};
    }
    struct external_refused {
        std::string system_id;
    };
};

class tree_builder final : public xc::DefaultHandler {
public:
    void setDocumentLocator(const xc::Locator* locator) override { locator_ = locator; }

    struct too_deep {
        int line;
    };

    void startElement(const XMLCh*, const XMLCh*, const XMLCh* qname, const xc::Attributes& attrs) override {
        if (stack_.size() >= max_element_depth) throw too_deep{locator_ ? static_cast<int>(locator_->getLineNumber()) : 0};
        element e;
        e.name = to_utf8(qname);
        e.line = locator_ ? static_cast<int>(locator_->getLineNumber()) : 0;
        e.attributes.reserve(attrs.getLength());
        for (XMLSize_t i = 0; i < attrs.getLength(); ++i)
            e.attributes.emplace_back(to_utf8(attrs.getQName(i)), to_utf8(attrs.getValue(i)));
        stack_.push_back(std::move(e));
    }

    void endElement(const XMLCh*, const XMLCh*, const XMLCh*) override {
        element done = std::move(stack_.back());
        stack_.pop_back();
        if (stack_.empty())
            root_ = std::move(done);
        else
            stack_.back().children.push_back(std::move(done));
    }

    void characters(const XMLCh* chars, const XMLSize_t length) override {
        if (stack_.empty()) return;
        std::u16string tmp(reinterpret_cast<const char16_t*>(chars), length);
        stack_.back().text += to_utf8(reinterpret_cast<const XMLCh*>(tmp.c_str()));
    }

    void fatalError(const xc::SAXParseException& e) override { throw e; }
    void error(const xc::SAXParseException& e) override { throw e; }

    element root_;

private:
    const xc::Locator* locator_ = nullptr;
    std::vector<element> stack_;
};

// The source line a parse error points at, and a pointer under the column, as libvirt shows them.
std::string context_of(std::string_view text, std::size_t line, std::size_t column) {
    std::size_t start = 0;
    for (std::size_t l = 1; l < line && start != std::string_view::npos; ++l) {
        start = text.find('\n', start);
        if (start != std::string_view::npos) ++start;
    }
    if (start == std::string_view::npos || start > text.size()) return {};
    auto end = text.find('\n', start);
    std::string_view source = text.substr(start, end == std::string_view::npos ? text.size() - start : end - start);
    if (!source.empty() && source.back() == '\r') source.remove_suffix(1);
    std::string pointer;
    for (std::size_t i = 0; i + 1 < column && i < source.size(); ++i) pointer += source[i] == '\t' ? '\t' : '-';
    pointer += '^';
    return std::string(source) + "\n" + pointer;
}

}  // namespace

const std::string* element::attr(std::string_view key) const noexcept {
    for (const auto& [k, v] : attributes)
        if (k == key) return &v;
    return nullptr;
}

const element* element::child(std::string_view child_name) const noexcept {
    for (const auto& c : children)
        if (c.name == child_name) return &c;
    return nullptr;
}

std::vector<const element*> element::children_named(std::string_view child_name) const {
    std::vector<const element*> out;
    for (const auto& c : children)
        if (c.name == child_name) out.push_back(&c);
    return out;
}

std::string element::trimmed_text() const {
    constexpr std::string_view ws = " \t\r\n";
    auto b = text.find_first_not_of(ws);
    if (b == std::string::npos) return {};
    auto e = text.find_last_not_of(ws);
    return text.substr(b, e - b + 1);
}

element parse_document(std::string_view text, std::string_view document_name, error_domain domain, error_detail detail) {
    ensure_xerces();
    auto fail = [&](int line, std::string_view what, std::string_view context) -> element {
        error_info info;
        info.code = error_code::xml_detail;
        info.domain = domain;
        if (detail == error_detail::location_only) {
            // nothing of the document itself: neither its text nor the parser's quotes of it
            info.message = "failed to parse xml document '" + std::string(document_name) + "' (not well-formed at line " +
                           std::to_string(line) + ")";
        } else {
            info.message = std::string(document_name) + ":" + std::to_string(line) + ": " + std::string(what);
            if (!context.empty()) info.message += "\n" + std::string(context);
        }
        info.int1 = line;
        info.str1 = info.message;
        raise(info);
    };
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
        return fail(1, "Document is empty", {});

    std::unique_ptr<xc::SAX2XMLReader> reader(xc::XMLReaderFactory::createXMLReader());
    reader->setFeature(xc::XMLUni::fgSAX2CoreValidation, false);
    reader->setFeature(xc::XMLUni::fgSAX2CoreNameSpaces, false);
    reader->setFeature(xc::XMLUni::fgXercesLoadExternalDTD, false);
    reader->setFeature(xc::XMLUni::fgXercesSchema, false);
    reader->setFeature(xc::XMLUni::fgXercesDisableDefaultEntityResolution, true);
    xc::SecurityManager security;  // bounds entity expansion ("billion laughs")
    security.setEntityExpansionLimit(1000);
    reader->setProperty(xc::XMLUni::fgXercesSecurityManager, &security);
    refuse_external resolver;
    reader->setEntityResolver(&resolver);
    tree_builder builder;
    reader->setContentHandler(&builder);
    reader->setErrorHandler(&builder);

    std::string name(document_name);
    xc::MemBufInputSource source(reinterpret_cast<const XMLByte*>(text.data()), text.size(), name.c_str(), false);
    try {
        reader->parse(source);
    } catch (const xc::SAXParseException& e) {
        auto line = static_cast<int>(e.getLineNumber());
        return fail(line, to_utf8(e.getMessage()), context_of(text, e.getLineNumber(), e.getColumnNumber()));
    } catch (const xc::XMLException& e) {
        return fail(static_cast<int>(e.getSrcLine()), to_utf8(e.getMessage()), {});
    } catch (const refuse_external::external_refused& e) {
        return fail(0, "refusing to load external entity '" + e.system_id + "'", {});
    } catch (const tree_builder::too_deep& e) {
        return fail(e.line, "Excessive depth in document: " + std::to_string(max_element_depth) + " use XML_PARSE_HUGE option", {});
    }
    return std::move(builder.root_);
}

void raise_xml_error(const element& where, std::string_view what, error_domain domain) {
    std::string detail(what);
    if (where.line > 0) detail += " (line " + std::to_string(where.line) + ")";
    auto info = make_error_info(error_code::xml_error, domain, detail);
    info.int1 = where.line;
    raise(info);
}

std::string escape(std::string_view raw, bool in_attribute) {
    return xml::escape(raw, in_attribute ? escape_style::attribute : escape_style::text);
}

std::string attr_text(std::string_view key, std::string_view value) {
    return " " + std::string(key) + "='" + escape(value, true) + "'";
}

std::string leaf_text(std::string_view name, std::string_view text) {
    return "<" + std::string(name) + ">" + escape(text) + "</" + std::string(name) + ">";
}

void lines::add(int depth, std::string_view text) {
    out_.append(static_cast<std::size_t>(2 * depth), ' ');
    out_ += text;
    out_ += '\n';
}

void writer::indent() { out_.append(static_cast<std::size_t>(base_indent_) + 2 * stack_.size(), ' '); }

void writer::finish_start_tag(bool for_text) {
    if (stack_.empty()) return;
    auto& top = stack_.back();
    if (top.start_open) {
        out_ += for_text ? ">" : ">\n";
        top.start_open = false;
    } else if (!for_text && top.has_text && !top.has_children) {
        out_ += "\n";  // mixed content: children after text start on their own line
    }
}

writer& writer::open(std::string_view name) {
    finish_start_tag(false);
    if (!stack_.empty()) stack_.back().has_children = true;
    indent();
    out_ += '<';
    out_ += name;
    stack_.push_back(frame{std::string(name)});
    return *this;
}

writer& writer::attr(std::string_view key, std::string_view value) {
    out_ += ' ';
    out_ += key;
    out_ += "='";
    out_ += escape(value, true);
    out_ += '\'';
    return *this;
}

writer& writer::attr(std::string_view key, std::int64_t value) { return attr(key, std::string_view(std::to_string(value))); }
writer& writer::attr(std::string_view key, std::uint64_t value) { return attr(key, std::string_view(std::to_string(value))); }

writer& writer::attr_opt(std::string_view key, const std::optional<std::string>& value) {
    if (value) attr(key, std::string_view(*value));
    return *this;
}

writer& writer::text(std::string_view content) {
    finish_start_tag(true);
    stack_.back().has_text = true;
    out_ += escape(content);
    return *this;
}

writer& writer::close() {
    auto top = std::move(stack_.back());
    stack_.pop_back();
    if (top.start_open) {
        out_ += "/>\n";
    } else if (top.has_children) {
        indent();
        out_ += "</" + top.name + ">\n";
    } else {
        out_ += "</" + top.name + ">\n";
    }
    return *this;
}

writer& writer::leaf(std::string_view name, std::string_view content) { return open(name).text(content).close(); }

writer& writer::raw_lines(std::string_view lines) {
    finish_start_tag(false);
    if (!stack_.empty()) stack_.back().has_children = true;
    std::size_t pos = 0;
    while (pos < lines.size()) {
        auto nl = lines.find('\n', pos);
        auto line = lines.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        indent();
        out_ += line;
        out_ += '\n';
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    return *this;
}

std::string writer::str() && {
    while (!stack_.empty()) close();
    return std::move(out_);
}

}  // namespace virtpp::xml::detail

namespace virtpp::xml {

std::string escape(std::string_view raw, escape_style style) {
    const bool writer = style == escape_style::text || style == escape_style::attribute;
    const bool attribute = style == escape_style::attribute;
    std::string out;
    out.reserve(raw.size());
    for (char c : raw) {
        switch (c) {
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '&': out += "&amp;"; break;
            case '\'': out += "&apos;"; break;
            case '"': out += "&quot;"; break;
            case '\r': out += writer ? "&#13;" : "\r"; break;
            case '\n': out += attribute ? "&#10;" : "\n"; break;
            case '\t': out += attribute ? "&#9;" : "\t"; break;
            default:
                // virBufferEscapeString drops the other control characters
                if (style == escape_style::libvirt_buffer && static_cast<unsigned char>(c) >= 0x01 &&
                    static_cast<unsigned char>(c) <= 0x19)
                    break;
                out += c;
        }
    }
    return out;
}

}  // namespace virtpp::xml
