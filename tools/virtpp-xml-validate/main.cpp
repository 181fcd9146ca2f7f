// virtpp-xml-validate: checks a domain, network or capabilities document against virtpp's XML
// Schema and its typed parser, as libvirt's virt-xml-validate checks one against libvirt's
// RelaxNG schemas. With --format it also prints the canonical form of what it parsed.
//
// Exit status, as virt-xml-validate's: 0 valid; 1 invalid or a usage error; 2 the file does not
// exist; 3 the kind cannot be told from the root element; 4 there is no schema for that kind.

#include <virtpp/error.hpp>
#include <virtpp/xml/capabilities.hpp>
#include <virtpp/xml/domain.hpp>
#include <virtpp/xml/network.hpp>
#include <virtpp/xml/schema.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <virtpp/version.hpp>
#ifndef VIRTPP_VERSION_STRING
#define VIRTPP_VERSION_STRING "0.1.0"
#endif

namespace {

constexpr std::string_view program = "virtpp-xml-validate";

enum exit_status : int { valid = 0, invalid = 1, no_such_file = 2, unknown_kind = 3, no_schema = 4 };

void usage(std::ostream& out) {
    out << "Usage:\n"
        << "  " << program << " [--format] XML-FILE [SCHEMA-NAME]\n"
        << "  " << program << " OPTION\n"
        << "\n"
        << "Validates XML-FILE ('-' reads standard input) against virtpp's XML Schema for\n"
        << "SCHEMA-NAME (domain, network or capabilities; guessed from the root element when\n"
        << "omitted) and parses it with virtpp's typed parser. Both must accept it.\n"
        << "\n"
        << "Options:\n"
        << "  -f | --format      Also print the canonical form of the parsed document\n"
        << "  -h | --help        Display program help\n"
        << "  -V | --version     Display program version\n";
}

// The message of a virtpp error, each line prefixed with the file it concerns.
void report(std::string_view file, const virtpp::error& e) {
    std::cerr << program << ": " << file << ": " << e.info().message << "\n";
}

std::string canonical_form(std::string_view text, virtpp::xml::document_kind kind) {
    using virtpp::xml::document_kind;
    switch (kind) {
        case document_kind::domain: {
            virtpp::xml::domain_format_flags flags;
            flags.secure = true;  // exactly what was parsed, passwords included
            return virtpp::xml::format_domain_xml(virtpp::xml::parse_domain_xml(text), flags);
        }
        case document_kind::network:
            return virtpp::xml::format_network_xml(virtpp::xml::parse_network_xml(text));
        case document_kind::capabilities:
            return virtpp::xml::format_capabilities_xml(virtpp::xml::parse_capabilities_xml(text));
    }
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    // Errors are printed here, once, with the file name; the library's default handler stays quiet.
    virtpp::set_error_handler([](const virtpp::error_info&) {});

    bool format = false;
    std::vector<std::string> operands;
    bool options_done = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (!options_done && arg == "--") {
            options_done = true;
        } else if (!options_done && (arg == "-h" || arg == "--help")) {
            usage(std::cout);
            return valid;
        } else if (!options_done && (arg == "-V" || arg == "--version")) {
            std::cout << program << " (virtpp) " << VIRTPP_VERSION_STRING << "\n";
            return valid;
        } else if (!options_done && (arg == "-f" || arg == "--format")) {
            format = true;
        } else if (!options_done && arg.size() > 1 && arg[0] == '-') {
            std::cerr << program << ": unrecognized option '" << arg << "'\n";
            usage(std::cerr);
            return invalid;
        } else {
            operands.emplace_back(arg);
        }
    }
    if (operands.empty() || operands.size() > 2) {
        std::cerr << "syntax: " << program << " [--format] XMLFILE [TYPE]\n";
        return invalid;
    }
    const std::string& file = operands[0];

    std::string text;
    if (file == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec)) {
            std::cerr << program << ": document " << file << " does not exist\n";
            return no_such_file;
        }
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::cerr << program << ": cannot read " << file << "\n";
            return no_such_file;
        }
        std::ostringstream buf;
        buf << in.rdbuf();
        text = std::move(buf).str();
    }

    std::optional<virtpp::xml::document_kind> kind;
    if (operands.size() == 2) {
        kind = virtpp::xml::document_kind_from_string(operands[1]);
        if (!kind) {
            std::cerr << program << ": no schema for '" << operands[1]
                      << "' (known: domain, network, capabilities)\n";
            return no_schema;
        }
    } else {
        kind = virtpp::xml::guess_document_kind(text);
        if (!kind) {
            std::cerr << program << ": cannot determine schema type for " << file << "\n";
            return unknown_kind;
        }
    }

    try {
        virtpp::xml::validate_document(text, *kind, file);
        std::string canonical = canonical_form(text, *kind);
        if (format) std::cout << canonical;
    } catch (const virtpp::error& e) {
        report(file, e);
        std::cerr << file << " fails to validate\n";
        return invalid;
    }
    std::cerr << file << " validates\n";
    return valid;
}
