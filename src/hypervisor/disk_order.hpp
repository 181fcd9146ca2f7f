// Internal: the disk order libvirt's parser keeps (virDomainDiskInsert), shared by the test and
// QEMU drivers. libvirt inserts each disk as it parses it, comparing the bus attribute as written
// (a disk without one is grouped with the others without one, since the bus is derived later);
// the parsed definition has every bus filled in, so the written ones are read from the text.
#pragma once

#include <virtpp/xml/domain.hpp>

#include "xml/tree.hpp"

#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::hypervisor::detail {

/// Orders def's disks as libvirt does. source_xml is the definition as written (empty: the
/// parsed buses stand in for the written ones); index_of(disk) is the target's drive index
/// (virDiskNameToIndex), -1 for none.
template <class IndexOf>
void order_disks_as_parsed(xml::domain_def& def, std::string_view source_xml, IndexOf index_of) {
    auto& disks = def.devices.disks;
    std::vector<std::optional<std::string>> written;
    for (const auto& d : disks) written.push_back(d.target_bus);
    if (!source_xml.empty()) {
        try {
            auto root = xml::detail::parse_document(source_xml, "domain");
            std::vector<std::optional<std::string>> seen;
            if (const auto* devices = root.child("devices"))
                for (const auto* disk : devices->children_named("disk")) {
                    const auto* target = disk->child("target");
                    const std::string* bus = target ? target->attr("bus") : nullptr;
                    seen.push_back(bus ? std::optional<std::string>(*bus) : std::nullopt);
                }
            if (seen.size() == written.size()) written = std::move(seen);
        } catch (const std::exception&) {
            // parsed once already; should it fail now, the parsed buses stand
        }
    }
    std::vector<xml::disk_def> ordered;
    std::vector<std::optional<std::string>> ordered_bus;
    for (std::size_t n = 0; n < disks.size(); ++n) {
        long mine = index_of(disks[n]);
        std::optional<std::size_t> at;
        for (std::size_t i = ordered.size(); i-- > 0;) {
            if (ordered_bus[i] != written[n]) continue;
            if (index_of(ordered[i]) > mine) at = i;
            else if (!at) at = i + 1;
        }
        std::size_t pos = at.value_or(ordered.size());
        ordered.insert(ordered.begin() + static_cast<std::ptrdiff_t>(pos), std::move(disks[n]));
        ordered_bus.insert(ordered_bus.begin() + static_cast<std::ptrdiff_t>(pos), written[n]);
    }
    disks = std::move(ordered);
}

}  // namespace virtpp::hypervisor::detail
