#include "line_editor.hpp"

#include "shell.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <vector>

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
        // TCSADRAIN, as readline: keys typed ahead while a command ran stay for the next line
        active_ = tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0;
    }
    ~raw_mode() {
        if (active_) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_);
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

void line_editor::add_history(const std::string& line) { history_.push_back(line); }

void line_editor::load_history(const std::string& path) {
    std::ifstream in(path);
    std::string entry;
    while (std::getline(in, entry)) history_.push_back(entry);
}

namespace {
/// mkdir -p with mode 0755 for the directories it creates.
bool make_parent_dirs(const std::string& file) {
    for (std::size_t slash = file.find('/', 1); slash != std::string::npos; slash = file.find('/', slash + 1)) {
        std::string dir = file.substr(0, slash);
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return false;
    }
    return true;
}
}  // namespace

bool line_editor::save_history(const std::string& path, std::size_t max_entries) const {
    if (!make_parent_dirs(path)) return false;
    std::string text;
    std::size_t first = history_.size() > max_entries ? history_.size() - max_entries : 0;
    for (std::size_t i = first; i < history_.size(); ++i) text += history_[i] + "\n";
    std::string tmp = path + ".XXXXXX";
    std::vector<char> name(tmp.begin(), tmp.end());
    name.push_back('\0');
    int fd = ::mkstemp(name.data());  // 0600
    if (fd < 0) return false;
    std::size_t done = 0;
    bool ok = true;
    while (ok && done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += static_cast<std::size_t>(n);
    }
    ok = ::fsync(fd) == 0 && ok;
    ok = ::close(fd) == 0 && ok;
    if (ok) ok = ::rename(name.data(), path.c_str()) == 0;
    if (!ok) {
        int e = errno;
        ::unlink(name.data());
        errno = e;
    }
    return ok;
}

int line_editor::reverse_search(const std::string& prompt, std::string& line) {
    const std::string before = line;
    std::string query;
    std::size_t match = history_.size();  // the entry shown; size() = none yet
    bool failed = false;
    // the newest entry older than `from` (exclusive) that contains the query
    auto search = [&](std::size_t from) {
        for (std::size_t i = from; i-- > 0;) {
            if (history_[i].find(query) != std::string::npos) {
                match = i;
                failed = false;
                return;
            }
        }
        failed = true;
    };
    auto show = [&] {
        const std::string& found = match < history_.size() ? history_[match] : before;
        out("\r\x1b[K(" + std::string(failed ? "failed " : "") + "reverse-i-search)`" + query + "': " + found);
    };
    show();
    for (;;) {
        int c = read_byte();
        if (c < 0) return -1;
        if (c == 18) {  // ^R again: the next older match
            search(match);
        } else if (c == 7) {  // ^G: back to the line as it was
            line = before;
            out("\r\x1b[K" + prompt + line);
            return -1;
        } else if (c == 127 || c == 8) {
            if (!query.empty()) query.pop_back();
            match = history_.size();
            if (!query.empty()) search(history_.size());
            else failed = false;
        } else if (c >= 32) {
            query.push_back(static_cast<char>(c));
            // the current match may still hold the longer query; readline stays on it then
            search(match < history_.size() ? match + 1 : history_.size());
        } else {
            if (match < history_.size()) line = history_[match];
            return c;
        }
        show();
    }
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
    int pending_key = -1;  // a key that ended a reverse search, handled as typed
    for (;;) {
        int c = pending_key >= 0 ? pending_key : read_byte();
        pending_key = -1;
        if (c < 0) return std::nullopt;
        switch (c) {
        case 18: {  // ^R: reverse incremental search through the history
            int key = reverse_search(prompt, line);
            cursor = line.size();
            hist = history_.size();
            if (key >= 0) pending_key = key;
            break;
        }
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
