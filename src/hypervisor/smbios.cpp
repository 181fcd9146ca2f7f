// The host's SMBIOS for virConnectGetSysinfo: dmidecode's text turned into libvirt's XML.
#include "hypervisor/smbios.hpp"

#include "file_io.hpp"

#include "xml/tree.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <mutex>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace virtpp::hypervisor::smbios {
namespace {

using field = std::optional<std::string>;

/// The value after `label` at or after `from` (the whole rest of the text is searched, as
/// libvirt's strstr does), up to the end of its line less trailing blanks; nothing when the
/// label is absent or its value is empty.
field value_after(std::string_view text, std::size_t from, std::string_view label) {
    auto at = text.find(label, from);
    if (at == std::string_view::npos) return std::nullopt;
    auto begin = at + label.size();
    auto end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r')) --end;
    if (end == begin) return std::nullopt;
    return std::string(text.substr(begin, end - begin));
}

struct entry {
    std::string_view name;
    field value;
};

/// One <name> block with its entries in order, or nothing when every entry is absent.
void format_block(std::string& out, std::string_view name, const std::vector<entry>& entries) {
    bool any = false;
    for (const auto& e : entries) any = any || e.value.has_value();
    if (!any) return;
    out += "  <" + std::string(name) + ">\n";
    for (const auto& e : entries)
        if (e.value)
            out += "    <entry name='" + std::string(e.name) + "'>" + xml::detail::escape(*e.value) + "</entry>\n";
    out += "  </" + std::string(name) + ">\n";
}

/// Each start of `heading` in the text, in order.
std::vector<std::size_t> sections(std::string_view text, std::string_view heading) {
    std::vector<std::size_t> at;
    for (auto pos = text.find(heading); pos != std::string_view::npos; pos = text.find(heading, pos + heading.size()))
        at.push_back(pos);
    return at;
}

std::optional<std::string> run_dmidecode() {
    // found on PATH as libvirt finds it, with the sbin directories a daemon's PATH may lack
    return file_io::run_capture("dmidecode", {"-q", "-t", "0,1,2,3,4,11,17"}, "/usr/sbin:/sbin", 4U * 1024U * 1024U);
}

}  // namespace

std::string sysinfo_from_dmidecode(std::string_view t) {
    std::string body;
    if (auto at = t.find("BIOS Information"); at != std::string_view::npos)
        format_block(body, "bios",
                     {{"vendor", value_after(t, at, "Vendor: ")},
                      {"version", value_after(t, at, "Version: ")},
                      {"date", value_after(t, at, "Release Date: ")},
                      {"release", value_after(t, at, "BIOS Revision: ")}});
    if (auto at = t.find("System Information"); at != std::string_view::npos)
        format_block(body, "system",
                     {{"manufacturer", value_after(t, at, "Manufacturer: ")},
                      {"product", value_after(t, at, "Product Name: ")},
                      {"version", value_after(t, at, "Version: ")},
                      {"serial", value_after(t, at, "Serial Number: ")},
                      {"uuid", value_after(t, at, "UUID: ")},
                      {"sku", value_after(t, at, "SKU Number: ")},
                      {"family", value_after(t, at, "Family: ")}});
    for (auto heading : sections(t, "Base Board Information")) {
        auto at = heading + 22;
        format_block(body, "baseBoard",
                     {{"manufacturer", value_after(t, at, "Manufacturer: ")},
                      {"product", value_after(t, at, "Product Name: ")},
                      {"version", value_after(t, at, "Version: ")},
                      {"serial", value_after(t, at, "Serial Number: ")},
                      {"asset", value_after(t, at, "Asset Tag: ")},
                      {"location", value_after(t, at, "Location In Chassis: ")}});
    }
    if (auto at = t.find("Chassis Information"); at != std::string_view::npos)
        format_block(body, "chassis",
                     {{"manufacturer", value_after(t, at, "Manufacturer: ")},
                      {"version", value_after(t, at, "Version: ")},
                      {"serial", value_after(t, at, "Serial Number: ")},
                      {"asset", value_after(t, at, "Asset Tag: ")},
                      {"sku", value_after(t, at, "SKU Number: ")}});
    for (auto at : sections(t, "Processor Information"))
        format_block(body, "processor",
                     {{"socket_destination", value_after(t, at, "Socket Designation: ")},
                      {"type", value_after(t, at, "Type: ")},
                      {"family", value_after(t, at, "Family: ")},
                      {"manufacturer", value_after(t, at, "Manufacturer: ")},
                      {"signature", value_after(t, at, "Signature: ")},
                      {"version", value_after(t, at, "Version: ")},
                      {"external_clock", value_after(t, at, "External Clock: ")},
                      {"max_speed", value_after(t, at, "Max Speed: ")},
                      {"status", value_after(t, at, "Status: ")},
                      {"serial_number", value_after(t, at, "Serial Number: ")},
                      {"part_number", value_after(t, at, "Part Number: ")}});
    for (auto at : sections(t, "Memory Device")) {
        // an empty slot ("Size: No Module Installed") is no device
        if (auto size = t.find("Size: ", at); size != std::string_view::npos) {
            auto eol = t.find('\n', size);
            if (t.substr(size + 6, eol == std::string_view::npos ? std::string_view::npos : eol - size - 6) ==
                "No Module Installed")
                continue;
        }
        format_block(body, "memory_device",
                     {{"size", value_after(t, at, "Size: ")},
                      {"form_factor", value_after(t, at, "Form Factor: ")},
                      {"locator", value_after(t, at, "Locator: ")},
                      {"bank_locator", value_after(t, at, "Bank Locator: ")},
                      {"type", value_after(t, at, "Type: ")},
                      {"type_detail", value_after(t, at, "Type Detail: ")},
                      {"speed", value_after(t, at, "Speed: ")},
                      {"manufacturer", value_after(t, at, "Manufacturer: ")},
                      {"serial_number", value_after(t, at, "Serial Number: ")},
                      {"part_number", value_after(t, at, "Part Number: ")}});
    }
    if (auto at = t.find("OEM Strings"); at != std::string_view::npos) {
        body += "  <oemStrings>\n";
        for (auto pos = t.find("String ", at); pos != std::string_view::npos; pos = t.find("String ", pos)) {
            pos += 7;
            auto eol = t.find('\n', pos);
            if (eol == std::string_view::npos) break;  // libvirt: malformed output
            while (pos < eol && t[pos] >= '0' && t[pos] <= '9') ++pos;
            if (t[pos] != ':') break;
            pos += 2;
            auto end = eol;
            while (end > pos && (t[end - 1] == ' ' || t[end - 1] == '\t')) --end;
            if (end > pos) body += "    <entry>" + xml::detail::escape(t.substr(pos, end - pos)) + "</entry>\n";
            pos = eol;
        }
        body += "  </oemStrings>\n";
    }
    if (body.empty()) return "<sysinfo type='smbios'/>\n";
    return "<sysinfo type='smbios'>\n" + body + "</sysinfo>\n";
}

const std::optional<std::string>& host_sysinfo() {
    static std::once_flag once;
    static std::optional<std::string> cached;
    std::call_once(once, [] {
        if (auto text = run_dmidecode()) cached = sysinfo_from_dmidecode(*text);
    });
    return cached;
}

}  // namespace virtpp::hypervisor::smbios
