// Internal: a small element tree read with Xerces-C (with line numbers for error messages) and a
// writer that lays XML out the way libvirt 9.0 formats it. The typed definitions in
// include/virtpp/xml/ are built from and written through these; users never see them.
#pragma once

#include <virtpp/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace virtpp::xml::detail {

struct element {
    std::string name;
    std::vector<std::pair<std::string, std::string>> attributes;
    std::vector<element> children;
    std::string text;  ///< character data directly inside this element, concatenated
    int line = 0;      ///< line of the start tag

    [[nodiscard]] const std::string* attr(std::string_view key) const noexcept;
    [[nodiscard]] const element* child(std::string_view child_name) const noexcept;
    [[nodiscard]] std::vector<const element*> children_named(std::string_view child_name) const;
    /// text with leading/trailing white space removed
    [[nodiscard]] std::string trimmed_text() const;
};

/// Parses a whole document. Never fetches anything: external entities, DTDs and schema locations
/// are refused. Malformed input raises error_code::xml_detail in `domain`, naming the line and
/// what is wrong, as libvirt does ("(domain_definition):3: Opening and ending tag mismatch...").
/// `document_name` is what libvirt prints for the document, e.g. "(domain_definition)".
/// Elements nest at most this deep (libxml2's limit without XML_PARSE_HUGE); deeper documents
/// are refused with libxml2's message, before any recursive walk of the tree.
inline constexpr std::size_t max_element_depth = 256;

/// How a parse error describes the document: libvirt's way (the parser's message, the source
/// line and a pointer under the column), or only where (for files the caller may not read
/// back: a test host file named by a daemon client).
enum class error_detail { source_line, location_only };

[[nodiscard]] element parse_document(std::string_view text, std::string_view document_name,
                                     error_domain domain = error_domain::xml,
                                     error_detail detail = error_detail::source_line);

/// Raises libvirt's XML_ERROR for a document whose content is wrong, naming the element or
/// attribute and the line: "XML error: <what> (line N)".
[[noreturn]] void raise_xml_error(const element& where, std::string_view what,
                                  error_domain domain = error_domain::domain);

/// Writes libvirt's layout: two-space indentation, attributes in single quotes, empty elements as
/// `<x/>`, text children inline, special characters escaped as libvirt escapes them.
class writer {
public:
    explicit writer(int base_indent = 0) : base_indent_(base_indent) {}

    writer& open(std::string_view name);  ///< start an element; attributes may follow
    writer& attr(std::string_view key, std::string_view value);
    writer& attr(std::string_view key, std::int64_t value);
    writer& attr(std::string_view key, std::uint64_t value);
    writer& attr(std::string_view key, int value) { return attr(key, static_cast<std::int64_t>(value)); }
    writer& attr(std::string_view key, unsigned value) { return attr(key, static_cast<std::uint64_t>(value)); }
    writer& attr_opt(std::string_view key, const std::optional<std::string>& value);  ///< only when set
    writer& text(std::string_view content);  ///< text inside the open element (closes its start tag)
    writer& close();  ///< ends the innermost open element (`/>` when it had no content)
    /// `<name>content</name>` in one go
    writer& leaf(std::string_view name, std::string_view content);
    /// raw, already formatted lines (each indented by the current depth)
    writer& raw_lines(std::string_view lines);

    [[nodiscard]] std::string str() &&;
    [[nodiscard]] const std::string& peek() const noexcept { return out_; }

private:
    void finish_start_tag(bool for_text);
    void indent();

    struct frame {
        std::string name;
        bool start_open = true;  ///< "<name attrs" written, no ">" yet
        bool has_children = false;
        bool has_text = false;
    };
    std::string out_;
    std::vector<frame> stack_;
    int base_indent_ = 0;
};

/// libvirt's escaping of text and attribute values (< > & ' " become entities), plus character
/// references for the white space a parser would otherwise normalise away (CR anywhere; tab and
/// newline inside attribute values), so that every value survives a round trip exactly.
[[nodiscard]] std::string escape(std::string_view raw, bool in_attribute = false);

/// For formatters that lay out whole lines themselves (capabilities' blank-line separated
/// sections): ` key='value'` and `<name>text</name>`, escaped as the writer escapes them.
[[nodiscard]] std::string attr_text(std::string_view key, std::string_view value);
[[nodiscard]] std::string leaf_text(std::string_view name, std::string_view text);

/// Lines indented two spaces a level.
class lines {
public:
    void add(int depth, std::string_view text);
    void blank() { out_ += '\n'; }
    std::string out_;
};

}  // namespace virtpp::xml::detail
