// A scanner for the XML documents drivers hand back (domain descriptions): elements with their
// attributes, children and byte span in the text, so detach-disk/detach-interface can pick a
// device and hand it back as virsh does. The text comes from a driver, not from a user; anything
// it cannot read makes scan_xml return nullopt.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace virtpp::cli {

struct scanned_element {
    std::string name;
    std::vector<std::pair<std::string, std::string>> attrs;  ///< values with entities resolved
    std::size_t begin = 0, end = 0;                          ///< [begin, end) of the element in the text
    std::vector<scanned_element> children;

    [[nodiscard]] const std::string* attr(std::string_view n) const {
        for (const auto& [k, v] : attrs)
            if (k == n) return &v;
        return nullptr;
    }
    [[nodiscard]] const scanned_element* child(std::string_view n) const {
        for (const auto& c : children)
            if (c.name == n) return &c;
        return nullptr;
    }
};

namespace detail {

inline std::optional<std::string> resolve_entities(std::string_view v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] != '&') {
            out.push_back(v[i]);
            continue;
        }
        auto semi = v.find(';', i);
        if (semi == std::string_view::npos) return std::nullopt;
        std::string_view ent = v.substr(i + 1, semi - i - 1);
        if (ent == "lt") out.push_back('<');
        else if (ent == "gt") out.push_back('>');
        else if (ent == "amp") out.push_back('&');
        else if (ent == "quot") out.push_back('"');
        else if (ent == "apos") out.push_back('\'');
        else if (ent.size() > 1 && ent[0] == '#') {
            unsigned long code = 0;
            const bool hex = ent[1] == 'x';
            for (char c : ent.substr(hex ? 2 : 1)) {
                int d = c >= '0' && c <= '9' ? c - '0' : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10 : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (d < 0 || code > 0x10FFFF) return std::nullopt;
                code = code * (hex ? 16 : 10) + static_cast<unsigned long>(d);
            }
            if (code < 0x80) out.push_back(static_cast<char>(code));
            else return std::nullopt;  // driver output escapes only ASCII control characters
        } else {
            return std::nullopt;
        }
        i = semi;
    }
    return out;
}

class xml_scanner {
public:
    explicit xml_scanner(std::string_view text) : t_(text) {}

    std::optional<scanned_element> document() {
        for (;;) {
            skip_space();
            if (t_.compare(p_, 2, "<?") == 0 || t_.compare(p_, 4, "<!--") == 0) {
                if (!skip_markup()) return std::nullopt;
                continue;
            }
            break;
        }
        if (p_ >= t_.size() || t_[p_] != '<') return std::nullopt;
        return element(0);
    }

private:
    static bool name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == ':' || c == '.';
    }
    void skip_space() {
        while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\n' || t_[p_] == '\t' || t_[p_] == '\r')) ++p_;
    }
    std::string name() {
        std::size_t s = p_;
        while (p_ < t_.size() && name_char(t_[p_])) ++p_;
        return std::string(t_.substr(s, p_ - s));
    }
    bool skip_markup() {
        std::string_view close = t_.compare(p_, 4, "<!--") == 0 ? "-->" : t_.compare(p_, 9, "<![CDATA[") == 0 ? "]]>" : "?>";
        auto e = t_.find(close, p_);
        if (e == std::string_view::npos) return false;
        p_ = e + close.size();
        return true;
    }

    std::optional<scanned_element> element(int depth) {
        if (depth > 64) return std::nullopt;  // driver documents are shallow
        scanned_element el;
        el.begin = p_++;
        el.name = name();
        if (el.name.empty()) return std::nullopt;
        for (;;) {
            skip_space();
            if (p_ >= t_.size()) return std::nullopt;
            if (t_.compare(p_, 2, "/>") == 0) {
                p_ += 2;
                el.end = p_;
                return el;
            }
            if (t_[p_] == '>') {
                ++p_;
                break;
            }
            std::string key = name();
            skip_space();
            if (key.empty() || p_ >= t_.size() || t_[p_] != '=') return std::nullopt;
            ++p_;
            skip_space();
            if (p_ >= t_.size() || (t_[p_] != '\'' && t_[p_] != '"')) return std::nullopt;
            char q = t_[p_++];
            auto e = t_.find(q, p_);
            if (e == std::string_view::npos) return std::nullopt;
            auto value = resolve_entities(t_.substr(p_, e - p_));
            if (!value) return std::nullopt;
            el.attrs.emplace_back(std::move(key), std::move(*value));
            p_ = e + 1;
        }
        for (;;) {
            auto lt = t_.find('<', p_);
            if (lt == std::string_view::npos) return std::nullopt;
            p_ = lt;
            if (t_.compare(p_, 2, "</") == 0) {
                p_ += 2;
                if (name() != el.name) return std::nullopt;
                skip_space();
                if (p_ >= t_.size() || t_[p_] != '>') return std::nullopt;
                el.end = ++p_;
                return el;
            }
            if (t_.compare(p_, 2, "<!") == 0 || t_.compare(p_, 2, "<?") == 0) {
                if (!skip_markup()) return std::nullopt;
                continue;
            }
            auto child = element(depth + 1);
            if (!child) return std::nullopt;
            el.children.push_back(std::move(*child));
        }
    }

    std::string_view t_;
    std::size_t p_ = 0;
};

}  // namespace detail

/// The document's root element, or nullopt when the text is not XML the scanner reads.
[[nodiscard]] inline std::optional<scanned_element> scan_xml(std::string_view text) {
    return detail::xml_scanner(text).document();
}

/// An element's text as libxml2 serialises a node: the original layout, attribute values in
/// double quotes (virsh hands devices to the API in this form).
[[nodiscard]] inline std::string node_text(std::string_view text, const scanned_element& el,
                                           const std::vector<const scanned_element*>& drop = {}) {
    std::string out;
    bool in_tag = false;
    for (std::size_t i = el.begin; i < el.end; ++i) {
        bool dropped = false;
        for (const auto* d : drop)
            if (i == d->begin) {
                i = d->end - 1;
                dropped = true;
            }
        if (dropped) continue;
        char c = text[i];
        if (!in_tag) {
            in_tag = c == '<' && i + 1 < el.end && text[i + 1] != '/' && text[i + 1] != '!' && text[i + 1] != '?';
            out.push_back(c);
            continue;
        }
        if (c == '>') in_tag = false;
        if (c == '=' && i + 1 < el.end && (text[i + 1] == '\'' || text[i + 1] == '"')) {
            const char q = text[i + 1];
            auto close = text.find(q, i + 2);
            if (close == std::string_view::npos || close >= el.end) return std::string(text.substr(el.begin, el.end - el.begin));
            std::string_view raw = text.substr(i + 2, close - i - 2);
            out += "=\"";
            for (std::size_t k = 0; k < raw.size(); ++k) {
                if (raw.compare(k, 6, "&apos;") == 0) {
                    out.push_back('\'');
                    k += 5;
                } else if (raw[k] == '"') {
                    out += "&quot;";
                } else {
                    out.push_back(raw[k]);
                }
            }
            out.push_back('"');
            i = close;
            continue;
        }
        out.push_back(c);
    }
    return out;
}

}  // namespace virtpp::cli
