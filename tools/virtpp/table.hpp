// virsh's tables (vshTable): columns as wide as their widest cell, one leading blank a cell,
// two blanks between columns, a dash line of (width + 3) per column under the header. Control
// characters and unprintable bytes are shown as \xNN and counted as four columns; wide
// characters count two, zero-width ones none (in the current locale, as virsh does).
#pragma once

#include <cstdio>
#include <cstring>
#include <cwchar>
#include <cwctype>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::cli {

/// One cell made printable, and how many terminal columns it takes.
struct table_cell {
    std::string text;
    std::size_t width = 0;
};

/// Escapes a cell like vshTableSafeEncode.
[[nodiscard]] inline table_cell encode_table_cell(std::string_view s) {
    table_cell out;
    std::mbstate_t st{};
    auto hex = [&](char c) {
        // virsh formats the (signed) char with %02x into a 5-byte buffer: a byte >= 0x80 shows as \xff
        char buf[16];
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(static_cast<int>(c)));
        out.text.append(buf, 4);
        out.width += 4;
    };
    std::size_t i = 0;
    while (i < s.size()) {
        char c = s[i];
        if (c == '\0') break;
        auto uc = static_cast<unsigned char>(c);
        if ((c == '\\' && i + 1 < s.size() && s[i + 1] == 'x') || uc < 0x20 || uc == 0x7f) {
            hex(c);
            ++i;
            continue;
        }
        wchar_t wc = 0;
        std::size_t len = std::mbrtowc(&wc, s.data() + i, s.size() - i, &st);
        if (len == 0) break;
        if (len == static_cast<std::size_t>(-1) || len == static_cast<std::size_t>(-2)) {
            st = std::mbstate_t{};
            if (uc >= 0x20 && uc < 0x7f) {
                out.text.push_back(c);
                ++out.width;
            } else {
                hex(c);
            }
            ++i;
            continue;
        }
        if (!std::iswprint(static_cast<wint_t>(wc))) {
            for (std::size_t k = 0; k < len; ++k) hex(s[i + k]);
        } else {
            out.text.append(s.substr(i, len));
            int w = ::wcwidth(wc);
            out.width += w < 0 ? 1 : static_cast<std::size_t>(w);
        }
        i += len;
    }
    return out;
}

class table {
public:
    explicit table(std::vector<std::string> header) : rows_{std::move(header)} {}
    void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

    /// The table as virsh prints it; without the header (and dash line) in quiet mode.
    [[nodiscard]] std::string str(bool header = true) const {
        const std::size_t ncols = rows_[0].size();
        std::vector<std::vector<table_cell>> cells(rows_.size());
        std::vector<std::size_t> max(ncols, 0);
        for (std::size_t r = 0; r < rows_.size(); ++r) {
            for (const auto& c : rows_[r]) cells[r].push_back(encode_table_cell(c));
            if (r == 0 && !header) continue;
            for (std::size_t j = 0; j < cells[r].size() && j < ncols; ++j)
                if (cells[r][j].width > max[j]) max[j] = cells[r][j].width;
        }
        std::string out;
        auto print_row = [&](const std::vector<table_cell>& row) {
            for (std::size_t j = 0; j < row.size(); ++j) {
                out += ' ';
                out += row[j].text;
                if (j + 1 < row.size()) out.append(max[j] - row[j].width + 2, ' ');
            }
            out += '\n';
        };
        if (header) {
            print_row(cells[0]);
            for (std::size_t j = 0; j < ncols; ++j) out.append(max[j] + 3, '-');
            out += '\n';
        }
        for (std::size_t r = 1; r < cells.size(); ++r) print_row(cells[r]);
        return out;
    }

private:
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace virtpp::cli
