// xm configuration files (see include/virtpp/xen/xm_config.hpp): a small reader for the Python
// assignment subset xm files use, and the mapping to domain definitions libvirt's xen_xm made.
#include <virtpp/error.hpp>
#include <virtpp/xen/sexpr_domain.hpp>
#include <virtpp/xen/xm_config.hpp>

#include "xen/xen_detail.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace virtpp::xen {

const xm_value* xm_config::find(std::string_view name) const {
    const xm_value* found = nullptr;
    for (const auto& e : entries)
        if (e.name == name) found = &e.value;
    return found;
}

namespace {

class reader {
public:
    reader(std::string_view text, std::string_view file, const xm_limits& limits)
        : text_(text), file_(file), limits_(limits) {}

    xm_config read() {
        xm_config config;
        while (true) {
            skip_blank(true);
            if (at_end()) break;
            std::string name = identifier();
            skip_blank(false);
            expect('=');
            skip_blank(false);
            xm_value value = read_value();
            skip_blank(false);
            if (!at_end() && peek() != '\n') fail("expected end of line after the value of " + name);
            config.entries.push_back({std::move(name), std::move(value)});
        }
        return config;
    }

private:
    [[noreturn]] void fail(std::string_view what) const {
        std::size_t line = 1 + static_cast<std::size_t>(std::count(text_.begin(), text_.begin() + static_cast<std::ptrdiff_t>(pos_), '\n'));
        raise(error_code::conf_syntax, error_domain::conf, std::string(file_) + ":" + std::to_string(line) + ": " + std::string(what));
    }
    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return text_[pos_]; }
    void expect(char c) {
        if (at_end() || peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }
    /// spaces, tabs, comments; newlines too when `newlines` (between entries and inside lists)
    void skip_blank(bool newlines) {
        while (!at_end()) {
            char c = peek();
            if (c == ' ' || c == '\t' || c == '\r' || (newlines && c == '\n')) {
                ++pos_;
            } else if (c == '#') {
                while (!at_end() && peek() != '\n') ++pos_;
            } else if (c == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
                pos_ += 2;  // Python line continuation
            } else {
                break;
            }
        }
    }
    std::string identifier() {
        std::size_t start = pos_;
        while (!at_end() && (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_')) ++pos_;
        if (start == pos_) fail("expected a setting name");
        return std::string(text_.substr(start, pos_ - start));
    }
    std::string string_literal() {
        char quote = peek();
        bool triple = text_.substr(pos_, 3) == std::string(3, quote);
        pos_ += triple ? 3 : 1;
        std::string out;
        while (true) {
            if (at_end()) fail("unterminated string");
            char c = peek();
            if (triple ? text_.substr(pos_, 3) == std::string(3, quote) : c == quote) {
                pos_ += triple ? 3 : 1;
                return out;
            }
            if (!triple && c == '\n') fail("unterminated string");
            if (c == '\\' && pos_ + 1 < text_.size()) {
                ++pos_;
                c = peek();
            }
            out += c;
            ++pos_;
        }
    }
    xm_value read_value() {
        if (at_end()) fail("expected a value");
        char c = peek();
        if (c == '"' || c == '\'') return {string_literal()};
        if (c == '[') {
            ++pos_;
            std::vector<std::string> items;
            while (true) {
                skip_blank(true);
                if (at_end()) fail("unterminated list, expected ']'");
                if (peek() == ']') {
                    ++pos_;
                    return {std::move(items)};
                }
                if (peek() != '"' && peek() != '\'') fail("expected a string in the list");
                if (items.size() >= limits_.max_list) fail("list longer than " + std::to_string(limits_.max_list) + " items");
                items.push_back(string_literal());
                skip_blank(true);
                if (!at_end() && peek() == ',') ++pos_;
                else if (at_end() || peek() != ']') fail("expected ',' or ']' in the list");
            }
        }
        std::size_t start = pos_;
        if (c == '-' || c == '+') ++pos_;
        while (!at_end() && std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
        std::int64_t v = 0;
        auto digits = text_.substr(start, pos_ - start);
        auto [p, ec] = std::from_chars(digits.data() + (digits.size() && digits[0] == '+' ? 1 : 0), digits.data() + digits.size(), v);
        if (ec != std::errc{} || p != digits.data() + digits.size() || digits.empty()) {
            pos_ = start;
            fail("expected a number, a string or a list");
        }
        return {v};
    }

    std::string_view text_;
    std::string_view file_;
    xm_limits limits_;
    std::size_t pos_ = 0;
};

/// Double quotes, or libvirt's triple quotes when the text holds a double quote or a newline;
/// backslashes and a closing-quote clash are escaped so the reader gets the text back.
std::string quote_string(const std::string& s) {
    const bool triple = s.find('"') != std::string::npos || s.find('\n') != std::string::npos;
    std::string body;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '\\') body += "\\\\";
        else if (c == '"' && (!triple || i + 1 == s.size() || s[i + 1] == '"')) body += "\\\"";
        else body += c;
    }
    return triple ? "\"\"\"" + body + "\"\"\"" : "\"" + body + "\"";
}

// ---- lookups -------------------------------------------------------------------------------
const std::string* str(const xm_config& c, std::string_view name) {
    const auto* v = c.find(name);
    return v ? std::get_if<std::string>(&v->value) : nullptr;
}

std::optional<std::int64_t> num(const xm_config& c, std::string_view name) {
    const auto* v = c.find(name);
    if (!v) return std::nullopt;
    if (const auto* i = std::get_if<std::int64_t>(&v->value)) return *i;
    if (const auto* s = std::get_if<std::string>(&v->value)) {
        if (auto parsed = detail::to_integer(*s)) return parsed;
    }
    raise(error_code::internal_error, error_domain::xenxm, "config value " + std::string(name) + " was malformed");
}

bool flag(const xm_config& c, std::string_view name, bool fallback = false) {
    auto v = num(c, name);
    return v ? *v != 0 : fallback;
}

std::vector<std::string> list(const xm_config& c, std::string_view name) {
    const auto* v = c.find(name);
    if (!v) return {};
    if (const auto* l = std::get_if<std::vector<std::string>>(&v->value)) return *l;
    if (const auto* s = std::get_if<std::string>(&v->value)) return {*s};
    raise(error_code::internal_error, error_domain::xenxm, "config value " + std::string(name) + " was malformed");
}

std::vector<std::pair<std::string, std::string>> key_values(std::string_view spec) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!spec.empty()) {
        auto comma = spec.find(',');
        auto item = spec.substr(0, comma);
        auto eq = item.find('=');
        if (eq != std::string_view::npos) out.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
        spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    }
    return out;
}

xml::graphics_def vnc_from(const std::vector<std::pair<std::string, std::string>>& kv) {
    xml::graphics_def g;
    g.type = xml::graphics_type::vnc;
    bool unused = true;
    std::optional<int> display;
    for (const auto& [k, v] : kv) {
        if (k == "vncunused") unused = v != "0";
        else if (k == "vncdisplay") display = static_cast<int>(detail::to_integer(v).value_or(0));
        else if (k == "vnclisten") g.listens.push_back({"address", v, {}, {}});
        else if (k == "vncpasswd") g.passwd = v;
        else if (k == "keymap") g.keymap = v;
    }
    if (unused || !display) {
        g.autoport = true;
        g.port = -1;
    } else {
        g.port = 5900 + *display;
    }
    return g;
}

}  // namespace

xm_config parse_xm_config(std::string_view text, std::string_view file_name, const xm_limits& limits) {
    if (text.size() > limits.max_bytes)
        raise(error_code::conf_syntax, error_domain::conf,
              std::string(file_name) + ": " + std::to_string(text.size()) + " bytes is over the limit of " + std::to_string(limits.max_bytes));
    return reader(text, file_name, limits).read();
}

std::string format_xm_config(const xm_config& config) {
    std::string out;
    for (const auto& e : config.entries) {
        out += e.name + " = ";
        if (const auto* i = std::get_if<std::int64_t>(&e.value.value)) {
            out += std::to_string(*i);
        } else if (const auto* s = std::get_if<std::string>(&e.value.value)) {
            out += quote_string(*s);
        } else {
            const auto& l = std::get<std::vector<std::string>>(e.value.value);
            out += "[ ";
            for (std::size_t n = 0; n < l.size(); ++n) out += (n ? ", " : "") + quote_string(l[n]);
            out += " ]";
        }
        out += "\n";
    }
    return out;
}

xml::domain_def domain_from_xm_config(const xm_config& c, int version) {
    xml::domain_def def;
    def.type = xml::domain_virt_type::xen;
    const auto* name = str(c, "name");
    if (!name || name->empty()) raise(error_code::internal_error, error_domain::xenxm, "config value name was missing");
    def.name = *name;
    const auto* uuid = str(c, "uuid");
    if (!uuid) raise(error_code::internal_error, error_domain::xenxm, "config value uuid was missing");
    def.uuid = virtpp::uuid::parse(*uuid);
    if (!def.uuid) raise(error_code::internal_error, error_domain::xenxm, "config value uuid was not a valid UUID: " + *uuid);

    const std::string* builder = str(c, "builder");
    const bool hvm = builder && *builder == "hvm";
    def.os.type = hvm ? "hvm" : "linux";

    auto memory = num(c, "memory").value_or(128);
    auto maxmem = num(c, "maxmem").value_or(memory);
    if (memory <= 0 || maxmem <= 0) raise(error_code::internal_error, error_domain::xenxm, "config value memory was malformed");
    def.memory_kib = static_cast<std::uint64_t>(std::max(memory, maxmem)) << 10;
    def.current_memory_kib = static_cast<std::uint64_t>(memory) << 10;

    auto vcpus = num(c, "vcpus").value_or(1);
    if (vcpus < 1 || vcpus > 4096) raise(error_code::internal_error, error_domain::xenxm, "config value vcpus was malformed");
    if (auto maxv = num(c, "maxvcpus")) {
        def.vcpu.count = static_cast<unsigned>(std::clamp<std::int64_t>(*maxv, 1, 4096));
        if (static_cast<unsigned>(vcpus) < def.vcpu.count) def.vcpu.current = static_cast<unsigned>(vcpus);
    } else {
        def.vcpu.count = static_cast<unsigned>(vcpus);
        if (auto avail = num(c, "vcpu_avail")) {
            unsigned bits = static_cast<unsigned>(__builtin_popcountll(static_cast<unsigned long long>(*avail)));
            if (bits && bits < def.vcpu.count) def.vcpu.current = bits;
        }
    }
    if (const auto* cpus = str(c, "cpus"); cpus && !cpus->empty()) def.vcpu.cpuset = *cpus;

    if (hvm) {
        const auto* kernel = str(c, "kernel");
        if (!kernel) raise(error_code::internal_error, error_domain::xenxm, "config value kernel was missing");
        def.os.loader = *kernel;
        std::string boot = str(c, "boot") ? *str(c, "boot") : "c";
        for (char b : boot) {
            if (b == 'a') def.os.boot.push_back(xml::boot_device::fd);
            else if (b == 'c') def.os.boot.push_back(xml::boot_device::hd);
            else if (b == 'd') def.os.boot.push_back(xml::boot_device::cdrom);
            else if (b == 'n') def.os.boot.push_back(xml::boot_device::network);
        }
        if (def.os.boot.empty()) def.os.boot.push_back(xml::boot_device::hd);
        // xm's own defaults when a switch is left out: on
        def.features.pae = flag(c, "pae", true);
        def.features.acpi = flag(c, "acpi", true);
        def.features.apic = flag(c, "apic", true);
        if (c.find("hap")) def.features.hap = flag(c, "hap");
        def.features.viridian = flag(c, "viridian");
        if (c.find("hpet")) def.clock.timers.push_back({"hpet", flag(c, "hpet"), {}, {}});
    } else {
        if (const auto* b = str(c, "bootloader"); b && !b->empty()) def.bootloader = *b;
        if (const auto* a = str(c, "bootargs"); a && !a->empty()) def.bootloader_args = *a;
        if (const auto* k = str(c, "kernel"); k && !k->empty()) def.os.kernel = *k;
        if (const auto* r = str(c, "ramdisk"); r && !r->empty()) def.os.initrd = *r;
        std::string cmdline;
        if (const auto* root = str(c, "root"); root && !root->empty()) cmdline = "root=" + *root;
        if (const auto* extra = str(c, "extra"); extra && !extra->empty()) cmdline += (cmdline.empty() ? "" : " ") + *extra;
        if (!cmdline.empty()) def.os.cmdline = cmdline;
        if (!def.bootloader && !def.os.kernel)
            raise(error_code::internal_error, error_domain::xenxm, "config value kernel was missing (and no bootloader)");
    }
    def.clock.offset = flag(c, "localtime") ? xml::clock_offset::localtime : xml::clock_offset::utc;
    if (auto offset = num(c, "rtc_timeoffset"); offset && *offset != 0) {
        def.clock.offset = xml::clock_offset::variable;
        def.clock.adjustment = *offset;
        def.clock.basis = flag(c, "localtime") ? xml::clock_basis::localtime : xml::clock_basis::utc;
    }
    auto action = [&](std::string_view key, xml::lifecycle_action fallback) {
        const auto* v = str(c, key);
        if (!v) return fallback;
        auto a = xml::lifecycle_action_from_string(*v);
        if (!a) raise(error_code::internal_error, error_domain::xenxm, "unexpected value " + *v + " for " + std::string(key));
        return *a;
    };
    def.on_poweroff = action("on_poweroff", xml::lifecycle_action::destroy);
    def.on_reboot = action("on_reboot", xml::lifecycle_action::restart);
    def.on_crash = action("on_crash", xml::lifecycle_action::restart);
    if (const auto* dm = str(c, "device_model"); dm && !dm->empty()) def.devices.emulator = *dm;

    // disk = [ "phy:/dev/x,hda,w", "file:/x.iso,hdc:cdrom,r", ",hdc:cdrom,r" ]
    for (const auto& spec : list(c, "disk")) {
        auto first = spec.find(',');
        auto second = first == std::string::npos ? std::string::npos : spec.find(',', first + 1);
        if (second == std::string::npos)
            raise(error_code::internal_error, error_domain::xenxm, "disk entry '" + spec + "' needs source, target and mode");
        std::string src = spec.substr(0, first), dev = spec.substr(first + 1, second - first - 1), mode = spec.substr(second + 1);
        xml::disk_def d;
        if (dev.rfind("ioemu:", 0) == 0) dev.erase(0, 6);
        if (auto colon = dev.find(':'); colon != std::string::npos) {
            if (dev.substr(colon) == ":cdrom") d.device = "cdrom";
            else if (dev.substr(colon) == ":floppy") d.device = "floppy";
            dev.erase(colon);
        }
        if (dev.empty()) raise(error_code::internal_error, error_domain::xenxm, "disk entry '" + spec + "' has no target");
        if (!src.empty()) {
            auto colon = src.find(':');
            std::string driver = colon == std::string::npos ? "file" : src.substr(0, colon);
            std::string path = colon == std::string::npos ? src : src.substr(colon + 1);
            if (driver == "tap" || driver == "tap2") {
                auto c2 = path.find(':');
                if (c2 != std::string::npos) {
                    std::string type = path.substr(0, c2);
                    d.driver_type = type == "aio" ? "raw" : type;
                    path.erase(0, c2 + 1);
                }
            }
            d.driver_name = driver;
            d.type = driver == "phy" ? "block" : "file";
            if (!path.empty()) d.source = path;
        } else {
            d.driver_name = "phy";  // an empty CD-ROM drive, as libvirt reads it
        }
        d.target_dev = dev;
        d.target_bus = dev.rfind("hd", 0) == 0 ? "ide" : dev.rfind("sd", 0) == 0 ? "scsi" : dev.rfind("fd", 0) == 0 ? "fdc" : "xen";
        if (d.device == "cdrom" || mode == "r" || mode == "ro") d.readonly = true;
        if (mode == "w!" || mode == "!") d.shareable = true;
        def.devices.disks.push_back(std::move(d));
    }
    if (hvm) {
        if (const auto* cdrom = str(c, "cdrom"); cdrom && !cdrom->empty()) {
            bool has_hdc = std::any_of(def.devices.disks.begin(), def.devices.disks.end(), [](const auto& d) { return d.target_dev == "hdc"; });
            if (!has_hdc) {
                xml::disk_def d;
                d.device = "cdrom";
                d.driver_name = "file";
                d.source = *cdrom;
                d.target_dev = "hdc";
                d.target_bus = "ide";
                d.readonly = true;
                def.devices.disks.push_back(std::move(d));
            }
        }
    }
    (void)version;

    for (const auto& spec : list(c, "vif")) {
        xml::interface_def nic;
        nic.type = xml::interface_type::ethernet;
        for (const auto& [k, v] : key_values(spec)) {
            if (k == "mac") {
                std::string lower = v;
                std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
                nic.mac = lower;
            } else if (k == "bridge") {
                nic.type = xml::interface_type::bridge;
                nic.source_bridge = v;
            } else if (k == "script") {
                nic.script = v;
            } else if (k == "ip") {
                nic.ip_addresses.push_back(v);
            } else if (k == "vifname") {
                nic.target_dev = v;
            } else if (k == "model") {
                nic.model = v;
            } else if (k == "type" && v == "netfront") {
                nic.model = "netfront";
            } else if (k == "rate") {
                std::uint64_t amount = 0;
                auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), amount);
                if (ec == std::errc{}) nic.bandwidth_outbound_average = amount * (*p == 'M' ? 1024 : *p == 'G' ? 1024 * 1024 : 1);
            }
        }
        def.devices.interfaces.push_back(std::move(nic));
    }
    for (const auto& spec : list(c, "pci")) {
        unsigned dom = 0, bus = 0, slot = 0, func = 0;
        char tail = 0;
        // "DDDD:BB:SS.F", or "BB:SS.F" in domain 0
        if (std::sscanf(spec.c_str(), "%x:%x:%x.%x%c", &dom, &bus, &slot, &func, &tail) != 4 &&
            (dom = 0, std::sscanf(spec.c_str(), "%x:%x.%x%c", &bus, &slot, &func, &tail) != 3))
            raise(error_code::internal_error, error_domain::xenxm, "cannot parse pci entry '" + spec + "'");
        xml::hostdev_def h;
        h.source.type = xml::address_type::pci;
        h.source.domain = dom;
        h.source.bus = bus;
        h.source.slot = slot;
        h.source.function = func;
        def.devices.hostdevs.push_back(std::move(h));
    }

    // graphics: HVM and old PV configs in top-level keys, xend 3.0.4 PV in vfb = [ "..." ]
    auto vfb = list(c, "vfb");
    if (!vfb.empty()) {
        auto kv = key_values(vfb.front());
        bool is_vnc = std::any_of(kv.begin(), kv.end(), [](const auto& p) { return (p.first == "type" && p.second == "vnc") || (p.first == "vnc" && p.second == "1"); });
        if (is_vnc) {
            def.devices.graphics.push_back(vnc_from(kv));
        } else {
            xml::graphics_def g;
            g.type = xml::graphics_type::sdl;
            for (const auto& [k, v] : kv) {
                if (k == "display") g.display = v;
                else if (k == "xauthority") g.xauth = v;
            }
            def.devices.graphics.push_back(std::move(g));
        }
    } else if (flag(c, "vnc")) {
        std::vector<std::pair<std::string, std::string>> kv;
        for (std::string_view key : {"vncunused", "vncdisplay", "vnclisten", "vncpasswd", "keymap"}) {
            const auto* v = c.find(key);
            if (!v) continue;
            if (const auto* i = std::get_if<std::int64_t>(&v->value)) kv.emplace_back(std::string(key), std::to_string(*i));
            else if (const auto* s = std::get_if<std::string>(&v->value)) kv.emplace_back(std::string(key), *s);
        }
        def.devices.graphics.push_back(vnc_from(kv));
    } else if (flag(c, "sdl")) {
        xml::graphics_def g;
        g.type = xml::graphics_type::sdl;
        if (const auto* d = str(c, "display")) g.display = *d;
        if (const auto* x = str(c, "xauthority")) g.xauth = *x;
        def.devices.graphics.push_back(std::move(g));
    }

    if (hvm) {
        if (const auto* usb = str(c, "usbdevice")) {
            if (*usb == "mouse") def.devices.inputs.push_back({xml::input_type::mouse, xml::input_bus::usb, {}});
            else if (*usb == "tablet") def.devices.inputs.push_back({xml::input_type::tablet, xml::input_bus::usb, {}});
        }
        if (const auto* p = str(c, "parallel"))
            if (auto ch = detail::parse_chardev(*p, "parallel")) def.devices.parallels.push_back(std::move(*ch));
        int port = 0;
        for (const auto& s : list(c, "serial")) {
            if (auto ch = detail::parse_chardev(s, "serial")) {
                ch->target_port = port;
                def.devices.serials.push_back(std::move(*ch));
            }
            ++port;
        }
        if (!def.devices.serials.empty()) {
            xml::chardev_def console;
            console.type = def.devices.serials.front().type;
            console.target_type = "serial";
            console.target_port = def.devices.serials.front().target_port;
            def.devices.consoles.push_back(console);
        }
        if (const auto* sound = str(c, "soundhw")) {
            std::string_view rest = *sound;
            while (!rest.empty()) {
                auto comma = rest.find(',');
                std::string model(rest.substr(0, comma));
                if (model == "all") {
                    def.devices.sounds.push_back({"sb16", {}});
                    def.devices.sounds.push_back({"es1370", {}});
                } else {
                    def.devices.sounds.push_back({model, {}});
                }
                rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            }
        }
    } else {
        xml::chardev_def console;
        console.type = xml::chardev_type::pty;
        console.target_type = "xen";
        def.devices.consoles.push_back(console);
    }
    detail::add_display_inputs(def, hvm);
    detail::add_display_video(def, hvm);
    return def;
}

xm_config domain_to_xm_config(const xml::domain_def& def, int version) {
    xm_config c;
    auto set_str = [&](std::string name, std::string v) { c.entries.push_back({std::move(name), {std::move(v)}}); };
    auto set_num = [&](std::string name, std::int64_t v) { c.entries.push_back({std::move(name), {v}}); };
    auto set_list = [&](std::string name, std::vector<std::string> v) { c.entries.push_back({std::move(name), {std::move(v)}}); };
    const bool hvm = def.os.type == "hvm";
    const auto& d = def.devices;

    set_str("name", def.name);
    if (def.uuid) set_str("uuid", def.uuid->str());
    std::uint64_t current = def.current_memory_kib.value_or(def.memory_kib);
    if (current == 0 || current > def.memory_kib) current = def.memory_kib;
    set_num("maxmem", static_cast<std::int64_t>(def.memory_kib >> 10));
    set_num("memory", static_cast<std::int64_t>(current >> 10));
    set_num("vcpus", def.vcpu.count);
    if (def.vcpu.current && *def.vcpu.current < def.vcpu.count && *def.vcpu.current < 63)
        set_num("vcpu_avail", static_cast<std::int64_t>((1ULL << *def.vcpu.current) - 1));
    if (def.vcpu.cpuset) set_str("cpus", *def.vcpu.cpuset);

    if (hvm) {
        set_str("builder", "hvm");
        if (def.os.loader) set_str("kernel", *def.os.loader);
        std::string boot;
        for (auto b : def.os.boot)
            boot += b == xml::boot_device::fd ? 'a' : b == xml::boot_device::cdrom ? 'd' : b == xml::boot_device::network ? 'n' : 'c';
        set_str("boot", boot.empty() ? "c" : boot);
        set_num("pae", def.features.pae ? 1 : 0);
        set_num("acpi", def.features.acpi ? 1 : 0);
        set_num("apic", def.features.apic ? 1 : 0);
        if (def.features.hap) set_num("hap", *def.features.hap ? 1 : 0);
        if (def.features.viridian) set_num("viridian", 1);
        for (const auto& t : def.clock.timers)
            if (t.name == "hpet" && t.present) set_num("hpet", *t.present ? 1 : 0);
    } else {
        if (def.bootloader) set_str("bootloader", *def.bootloader);
        if (def.bootloader_args) set_str("bootargs", *def.bootloader_args);
        if (def.os.kernel) set_str("kernel", *def.os.kernel);
        if (def.os.initrd) set_str("ramdisk", *def.os.initrd);
        // "root=X rest" goes back to the root and extra settings it came from
        std::optional<std::string> root = def.os.root, extra = def.os.cmdline;
        if (!root && extra && extra->rfind("root=", 0) == 0) {
            auto space = extra->find(' ');
            root = extra->substr(5, space == std::string::npos ? std::string::npos : space - 5);
            extra = space == std::string::npos ? std::optional<std::string>{} : extra->substr(space + 1);
        }
        if (extra) set_str("extra", *extra);
        if (root) set_str("root", *root);
    }
    bool localtime = def.clock.offset == xml::clock_offset::localtime ||
                     (def.clock.offset == xml::clock_offset::variable && def.clock.basis == xml::clock_basis::localtime);
    set_num("localtime", localtime ? 1 : 0);
    if (def.clock.offset == xml::clock_offset::variable) set_num("rtc_timeoffset", def.clock.adjustment.value_or(0));
    if (hvm) {
        for (const auto& disk : d.disks)
            if (disk.device == "cdrom" && disk.target_dev == "hdc" && version == xend_config_version_3_0_2 && disk.source)
                set_str("cdrom", *disk.source);
    }
    set_str("on_poweroff", std::string(xml::to_string(def.on_poweroff)));
    set_str("on_reboot", std::string(xml::to_string(def.on_reboot)));
    set_str("on_crash", std::string(xml::to_string(def.on_crash)));

    if (hvm && d.emulator) set_str("device_model", *d.emulator);
    if (hvm) {
        for (const auto& in : d.inputs) {
            if (in.bus != xml::input_bus::usb) continue;
            set_num("usb", 1);
            set_str("usbdevice", in.type == xml::input_type::tablet ? "tablet" : "mouse");
        }
    }
    const xml::graphics_def* g = d.graphics.empty() ? nullptr : &d.graphics.front();
    if (hvm || version < xend_config_version_3_0_4) {
        if (g) {
            set_num("sdl", g->type == xml::graphics_type::sdl ? 1 : 0);
            set_num("vnc", g->type == xml::graphics_type::vnc ? 1 : 0);
            if (g->type == xml::graphics_type::vnc) {
                if (g->autoport || g->port == -1) {
                    set_num("vncunused", 1);
                } else {
                    set_num("vncunused", 0);
                    if (g->port >= 5900) set_num("vncdisplay", g->port - 5900);
                }
                if (!g->listens.empty() && g->listens.front().address) set_str("vnclisten", *g->listens.front().address);
                if (g->passwd) set_str("vncpasswd", *g->passwd);
                if (g->keymap) set_str("keymap", *g->keymap);
            } else {
                if (g->display) set_str("display", *g->display);
                if (g->xauth) set_str("xauthority", *g->xauth);
            }
        }
    } else if (g) {
        std::string spec;
        if (g->type == xml::graphics_type::vnc) {
            spec = "type=vnc";
            if (g->autoport || g->port == -1) spec += ",vncunused=1";
            else spec += ",vncunused=0,vncdisplay=" + std::to_string(g->port - 5900);
            if (!g->listens.empty() && g->listens.front().address) spec += ",vnclisten=" + *g->listens.front().address;
            if (g->passwd) spec += ",vncpasswd=" + *g->passwd;
            if (g->keymap) spec += ",keymap=" + *g->keymap;
        } else {
            spec = "type=sdl";
            if (g->display) spec += ",display=" + *g->display;
            if (g->xauth) spec += ",xauthority=" + *g->xauth;
        }
        set_list("vfb", {spec});
    }

    std::vector<std::string> disks;
    for (const auto& disk : d.disks) {
        if (hvm && disk.device == "cdrom" && disk.target_dev == "hdc" && version == xend_config_version_3_0_2 && disk.source) continue;
        std::string src;
        if (disk.source) {
            std::string driver = disk.driver_name.value_or(disk.type == "block" ? "phy" : "file");
            src = driver + ":";
            if (driver == "tap" || driver == "tap2") src += (disk.driver_type.value_or("aio") == "raw" ? std::string("aio") : disk.driver_type.value_or("aio")) + ":";
            src += *disk.source;
        }
        std::string dev = disk.target_dev;
        if (hvm && version == xend_config_version_3_0_2 && disk.device == "disk") dev = "ioemu:" + dev;
        if (disk.device == "cdrom") dev += ":cdrom";
        disks.push_back(src + "," + dev + "," + (disk.readonly ? "r" : disk.shareable ? "w!" : "w"));
    }
    set_list("disk", disks);

    std::vector<std::string> vifs;
    for (const auto& nic : d.interfaces) {
        std::string spec;
        auto add = [&](const std::string& k, const std::string& v) { spec += (spec.empty() ? "" : ",") + k + "=" + v; };
        if (nic.mac) add("mac", *nic.mac);
        if (nic.type == xml::interface_type::bridge) {
            add("bridge", nic.source_bridge.value_or(""));
            if (nic.script) add("script", *nic.script);
        } else if (nic.type == xml::interface_type::ethernet) {
            if (nic.script) add("script", *nic.script);
        } else {
            raise(error_code::config_unsupported, error_domain::xenxm, "unsupported network type for an xm config");
        }
        for (const auto& ip : nic.ip_addresses) add("ip", ip);
        if (nic.model && *nic.model == "netfront") {
            add("type", "netfront");
        } else {
            if (nic.model) add("model", *nic.model);
            if (hvm && version <= xend_config_version_3_0_4) add("type", "ioemu");
        }
        if (nic.target_dev && nic.target_dev->rfind("vif", 0) != 0) add("vifname", *nic.target_dev);
        vifs.push_back(spec);
    }
    if (!vifs.empty()) set_list("vif", vifs);
    if (!d.hostdevs.empty()) {
        std::vector<std::string> pcis;
        for (const auto& h : d.hostdevs) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", h.source.domain.value_or(0), h.source.bus.value_or(0),
                          h.source.slot.value_or(0), h.source.function.value_or(0));
            pcis.emplace_back(buf);
        }
        set_list("pci", pcis);
    }
    if (hvm) {
        set_str("parallel", d.parallels.empty() ? "none" : detail::format_chardev(d.parallels.front()));
        if (d.serials.size() > 1 || (d.serials.size() == 1 && d.serials.front().target_port != 0)) {
            int highest = 0;
            for (const auto& s : d.serials) highest = std::max(highest, s.target_port);
            std::vector<std::string> ports;
            for (int port = 0; port <= highest; ++port) {
                std::string value = "none";
                for (const auto& s : d.serials)
                    if (s.target_port == port) value = detail::format_chardev(s);
                ports.push_back(value);
            }
            set_list("serial", ports);
        } else {
            set_str("serial", d.serials.empty() ? "none" : detail::format_chardev(d.serials.front()));
        }
        if (!d.sounds.empty()) {
            std::string models;
            for (const auto& s : d.sounds) models += (models.empty() ? "" : ",") + s.model;
            set_str("soundhw", models);
        }
    }
    return c;
}

xml::domain_def domain_from_xm_text(std::string_view text, int version) {
    return domain_from_xm_config(parse_xm_config(text), version);
}

std::string domain_to_xm_text(const xml::domain_def& def, int version) {
    return format_xm_config(domain_to_xm_config(def, version));
}

}  // namespace virtpp::xen
