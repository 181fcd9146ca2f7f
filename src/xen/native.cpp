// Native format dispatch for the Xen converters (see include/virtpp/xen/native.hpp).
#include <virtpp/error.hpp>
#include <virtpp/xen/native.hpp>
#include <virtpp/xen/sexpr_domain.hpp>
#include <virtpp/xen/xm_config.hpp>

#include <algorithm>

namespace virtpp::xen {

namespace {

[[noreturn]] void unsupported(std::string_view format) {
    raise(error_code::config_unsupported, error_domain::xen, "unsupported config type " + std::string(format));
}

int version_of_record(std::string_view text) {
    sexpr_limits limits;
    limits.lenient = true;
    auto root = parse_sexpr(join_continuations(text), limits);
    const bool hvm = root.find("domain/image/hvm") != nullptr;
    if (hvm && root.value("domain/image/hvm/cdrom")) return xend_config_version_3_0_2;
    for (const sexpr* device : root.children("device")) {
        if (device->items().size() < 2) continue;
        const auto& node = device->items()[1];
        if (node.head() == "vfb" && !hvm) return xend_config_version_3_0_4;
        for (const sexpr* dev : node.children("dev"))
            if (dev->items().size() == 2 && dev->items()[1].text().rfind("ioemu:", 0) == 0) return xend_config_version_3_0_2;
    }
    return xend_config_version_3_0_3;
}

int version_of_xm(const xm_config& config) {
    if (config.find("cdrom")) return xend_config_version_3_0_2;
    if (config.find("vfb")) return xend_config_version_3_0_4;
    return xend_config_version_3_0_3;
}

bool has_ioemu_disk(const xml::domain_def& def) {
    return std::any_of(def.devices.disks.begin(), def.devices.disks.end(),
                       [](const xml::disk_def& d) { return d.target_dev.rfind("ioemu:", 0) == 0; });
}

int version_for_sexpr(const xml::domain_def& def) {
    if (def.os.type != "hvm") return def.devices.graphics.empty() ? xend_config_version_3_0_3 : xend_config_version_3_0_4;
    bool empty_cdrom = std::any_of(def.devices.disks.begin(), def.devices.disks.end(),
                                   [](const xml::disk_def& d) { return d.device == "cdrom" && !d.source; });
    bool auto_vnc = std::any_of(def.devices.graphics.begin(), def.devices.graphics.end(),
                                [](const xml::graphics_def& g) { return g.type == xml::graphics_type::vnc && (g.autoport || g.port == -1); });
    return empty_cdrom || auto_vnc ? xend_config_version_3_0_3 : xend_config_version_3_0_2;
}

int version_for_xm(const xml::domain_def& def) {
    if (def.os.type != "hvm") return def.devices.graphics.empty() ? xend_config_version_3_0_3 : xend_config_version_3_0_4;
    return has_ioemu_disk(def) ? xend_config_version_3_0_2 : xend_config_version_3_0_3;
}

}  // namespace

std::string domain_xml_from_native(std::string_view format, std::string_view config, int version) {
    if (format == native_format_sxpr) {
        // a record is no newer than the spellings it uses: an older xend's record reads the older way
        int spelled = version_of_record(config);
        return domain_xml_from_sexpr_text(config, version == xend_config_version_unknown ? spelled : std::min(version, spelled));
    }
    if (format == native_format_xm) {
        if (version == xend_config_version_unknown) version = version_of_xm(parse_xm_config(config));
        // the same parser pass as sexpr: the output carries libvirt 9.0's parser defaults
        xml::domain_format_flags keep_secrets;
        keep_secrets.secure = true;
        // as libvirt's xmconfig conversions: the VNC password stays (the file holds it in clear)
        return xml::format_domain_xml(
            xml::parse_domain_xml(xml::format_domain_xml(domain_from_xm_text(config, version), keep_secrets)), keep_secrets);
    }
    unsupported(format);
}

std::string domain_xml_to_native(std::string_view format, std::string_view xml, int version) {
    if (format == native_format_sxpr) {
        auto def = xml::parse_domain_xml(xml);
        return domain_to_sexpr_text(def, version == xend_config_version_unknown ? version_for_sexpr(def) : version);
    }
    if (format == native_format_xm) {
        auto def = xml::parse_domain_xml(xml);
        return domain_to_xm_text(def, version == xend_config_version_unknown ? version_for_xm(def) : version);
    }
    unsupported(format);
}

}  // namespace virtpp::xen
