// The XML layer's one escaper, for every place that writes a value into XML text: the writer
// (src/xml/tree.hpp) and the CLI's hand-built device and echo documents use it, each in its style.
#pragma once

#include <string>
#include <string_view>

namespace virtpp::xml {

enum class escape_style {
    /// The writer's element text: < > & ' " become entities, CR a character reference.
    text,
    /// The writer's attribute values: as text, and tab and newline too, which a parser would
    /// otherwise normalise to blanks; every value survives a round trip exactly.
    attribute,
    /// libvirt's virBufferEscapeString, as virsh builds device XML: the five entities; control
    /// characters other than tab, CR and LF vanish.
    libvirt_buffer,
    /// The five entities and nothing else.
    entities_only,
};

[[nodiscard]] std::string escape(std::string_view raw, escape_style style);

}  // namespace virtpp::xml
