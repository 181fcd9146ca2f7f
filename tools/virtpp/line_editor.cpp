#include "line_editor.hpp"

#include "shell.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <termios.h>
#include <unistd.h>

namespace virtpp::cli {

namespace {
/// Puts the terminal in raw mode for the life of the object.
class raw_mode {
public:
    raw_mode() {
        if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
        termios raw = saved_;
        raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | ISIG | IEXTEN);
        raw.c_iflag &= ~static_cast<tcflag_t>(IXON | ICRNL);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0;
    }
    ~raw_mode() {
        if (active_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
    }
    raw_mode(const raw_mode&) = delete;
    raw_mode& operator=(const raw_mode&) = delete;

private:
    termios saved_{};
    bool active_ = false;
};

void out(const std::string& s) {
    std::size_t done = 0;
    while (done < s.size()) {
        ssize_t n = ::write(STDOUT_FILENO, s.data() + done, s.size() - done);
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

int read_byte() {
    unsigned char c = 0;
    return ::read(STDIN_FILENO, &c, 1) == 1 ? c : -1;
}

std::string common_prefix(const std::vector<std::string>& v) {
    if (v.empty()) return {};
    std::string p = v[0];
    for (const auto& s : v) {
        std::size_t i = 0;
        while (i < p.size() && i < s.size() && p[i] == s[i]) ++i;
        p.resize(i);
    }
    return p;
}
}  // namespace

void line_editor::add_history(const std::string& line) {
    if (history_.empty() || history_.back() != line) history_.push_back(line);
}

std::optional<std::string> line_editor::read_line(const std::string& prompt) {
    std::cout.flush();
    if (terminal_) return read_raw(prompt);
    std::fputs(prompt.c_str(), stdout);
    std::string line;
    int c = 0;
    bool any = false;
    while ((c = std::fgetc(stdin)) != EOF) {
        any = true;
        if (c == '\n') break;
        line.push_back(static_cast<char>(c));
    }
    if (!any) {
        std::fflush(stdout);
        return std::nullopt;
    }
    std::fputs(line.c_str(), stdout);  // readline echoes what it read when input is not a terminal
    std::fputc('\n', stdout);
    std::fflush(stdout);
    return line;
}

std::optional<std::string> line_editor::read_raw(const std::string& prompt) {
    std::fflush(stdout);
    raw_mode raw;
    std::string line;
    std::size_t cursor = 0;
    std::size_t hist = history_.size();
    std::string pending;  // the line being typed while browsing history
    auto redraw = [&] {
        std::string s = "\r" + prompt + line + "\x1b[K";
        if (cursor < line.size()) s += "\x1b[" + std::to_string(line.size() - cursor) + "D";
        out(s);
    };
    out(prompt);
    for (;;) {
        int c = read_byte();
        if (c < 0) return std::nullopt;
        switch (c) {
        case '\r':
        case '\n': out("\r\n"); return line;
        case 4:  // ^D: end of input on an empty line, else delete under the cursor
            if (line.empty()) return std::nullopt;
            if (cursor < line.size()) line.erase(cursor, 1);
            break;
        case 3:  // ^C: drop the line
            out("^C\r\n");
            line.clear();
            cursor = 0;
            out(prompt);
            continue;
        case 127:
        case 8:
            if (cursor > 0) line.erase(--cursor, 1);
            break;
        case 1: cursor = 0; break;
        case 5: cursor = line.size(); break;
        case 2: if (cursor > 0) --cursor; break;
        case 6: if (cursor < line.size()) ++cursor; break;
        case 11: line.erase(cursor); break;
        case 21: line.erase(0, cursor); cursor = 0; break;
        case 23: {
            std::size_t start = cursor;
            while (start > 0 && line[start - 1] == ' ') --start;
            while (start > 0 && line[start - 1] != ' ') --start;
            line.erase(start, cursor - start);
            cursor = start;
            break;
        }
        case 12: out("\x1b[H\x1b[2J"); break;
        case '\t': {
            if (!complete_) break;
            auto candidates = complete_(line, cursor);
            std::size_t start = cursor;
            while (start > 0 && line[start - 1] != ' ' && line[start - 1] != ';') --start;
            std::string word = line.substr(start, cursor - start);
            if (candidates.empty()) break;
            std::string prefix = common_prefix(candidates);
            if (candidates.size() == 1) prefix += ' ';
            if (prefix.size() > word.size() || candidates.size() == 1) {
                line.replace(start, cursor - start, prefix);
                cursor = start + prefix.size();
            } else {
                // listed sorted, as readline lists them
                std::sort(candidates.begin(), candidates.end());
                std::string list = "\r\n";
                for (const auto& cand : candidates) list += cand + "  ";
                out(list + "\r\n");
            }
            break;
        }
        case 27: {
            int a = read_byte();
            int b = read_byte();
            if (a != '[') break;
            if (b == 'A' && hist > 0) {
                if (hist == history_.size()) pending = line;
                line = history_[--hist];
                cursor = line.size();
            } else if (b == 'B' && hist < history_.size()) {
                ++hist;
                line = hist == history_.size() ? pending : history_[hist];
                cursor = line.size();
            } else if (b == 'C') {
                if (cursor < line.size()) ++cursor;
            } else if (b == 'D') {
                if (cursor > 0) --cursor;
            } else if (b == 'H') {
                cursor = 0;
            } else if (b == 'F') {
                cursor = line.size();
            } else if (b == '3') {
                if (read_byte() == '~' && cursor < line.size()) line.erase(cursor, 1);
            }
            break;
        }
        default:
            if (c >= 32) line.insert(cursor++, 1, static_cast<char>(c));
            break;
        }
        redraw();
    }
}

std::vector<std::string> complete_line(shell& sh, const std::string& line, std::size_t cursor) {
    std::size_t cmd_start = line.rfind(';', cursor == 0 ? 0 : cursor - 1);
    cmd_start = cmd_start == std::string::npos || cmd_start >= cursor ? 0 : cmd_start + 1;
    std::string segment = line.substr(cmd_start, cursor - cmd_start);
    std::vector<std::string> words;
    std::string w;
    for (char c : segment) {
        if (c == ' ' || c == '\t') {
            if (!w.empty()) words.push_back(w), w.clear();
        } else {
            w.push_back(c);
        }
    }
    const bool fresh_word = segment.empty() || segment.back() == ' ' || segment.back() == '\t';
    std::string current = fresh_word ? std::string() : w;
    if (!fresh_word && !w.empty()) words.push_back(w);
    std::vector<std::string> out;
    auto offer = [&](const std::string& cand) {
        if (cand.compare(0, current.size(), current) == 0) out.push_back(cand);
    };
    if (words.empty() || (words.size() == 1 && !fresh_word)) {
        for (const auto& c : command_table()) offer(std::string(c.name));
        return out;
    }
    const command_def* def = find_command(command_table(), words[0]);
    if (def == nullptr) return out;
    if (current.starts_with("-")) {
        for (const auto& o : def->opts)
            if (o.type != opt_type::alias) offer("--" + std::string(o.name));
        return out;
    }
    // a positional word: names of domains or networks when the command takes one
    bool wants_domain = false, wants_network = false;
    for (const auto& o : def->opts) {
        wants_domain = wants_domain || (o.name == "domain" && o.type == opt_type::data);
        wants_network = wants_network || (o.name == "network" && o.type == opt_type::data);
    }
    if (!wants_domain && !wants_network) return out;
    try {
        any_connection* c = sh.connection();
        if (c == nullptr) return out;
        if (wants_domain)
            for (const auto& d : c->list_all_domains()) offer(d.name());
        if (wants_network)
            for (const auto& n : c->list_all_networks()) offer(n.name());
    } catch (const virtpp::error&) {
        sh.reset_last_error();
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace virtpp::cli
