// Validation of domain, network and capabilities documents against virtpp's XML Schemas
// (docs/schemas/*.xsd), the counterpart of libvirt's RelaxNG validation (virt-xml-validate,
// VIR_DOMAIN_DEFINE_VALIDATE). Grammars are read from local files only; nothing is ever fetched.
#pragma once

#include <virtpp/error.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::xml {

/// The kinds of documents virtpp has a schema for; each is named after its root element.
enum class document_kind { domain, network, capabilities };

/// "domain", "network", "capabilities": the root element name and the schema's base name.
[[nodiscard]] std::string_view to_string(document_kind kind) noexcept;
[[nodiscard]] std::optional<document_kind> document_kind_from_string(std::string_view name) noexcept;

/// The kind named by the document's root element, or nothing when the root is another element
/// or cannot be found (empty or garbled text). Only the prolog and the root start tag are read.
[[nodiscard]] std::optional<document_kind> guess_document_kind(std::string_view xml);

/// The directories searched for `<kind>.xsd`, in order: $VIRTPP_SCHEMA_DIR when set, the
/// install location (${prefix}/share/virtpp/schemas), then the source tree's docs/schemas.
[[nodiscard]] std::vector<std::filesystem::path> schema_search_path();

/// The schema file used for a kind: the first `<kind>.xsd` found on schema_search_path().
/// Raises internal_error (domain xml) when there is none.
[[nodiscard]] std::filesystem::path schema_file(document_kind kind);

/// Validates a document against the kind's schema.
///  - Not well-formed: xml_detail in error_domain::xml, "<name>:<line>: <what>".
///  - Well-formed but not valid (wrong root, unknown element or attribute value, bad number,
///    missing required part): xml_invalid_schema in error_domain::xml, as libvirt reports it,
///    with every problem found on its own line as "<name>:<line>: <what>"; int1 is the first
///    problem's line.
/// `document_name` names the document in messages (a file name); empty means libvirt's
/// "(domain_definition)", "(network_definition)" or "(capabilities)".
void validate_document(std::string_view xml, document_kind kind, std::string_view document_name = {});

}  // namespace virtpp::xml
