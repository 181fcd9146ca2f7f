// A small line editor on termios (no readline: the binary links statically): cursor movement,
// editing keys, history, and tab completion through a callback. When stdin is not a terminal it
// behaves like readline does there: prints the prompt, reads a line and echoes it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace virtpp::cli {

class shell;

class line_editor {
public:
    /// Candidates for the word that ends at `cursor` in `line`.
    using completer = std::function<std::vector<std::string>(const std::string& line, std::size_t cursor)>;

    explicit line_editor(bool terminal) : terminal_(terminal) {}
    void set_completer(completer c) { complete_ = std::move(c); }
    /// Every line is kept, repeats too, as readline's add_history does.
    void add_history(const std::string& line);
    /// Reads a history file (one entry a line) kept by an earlier session; a missing file is none.
    void load_history(const std::string& path);
    /// Writes the last `max_entries` entries to `path` atomically (a temporary file renamed over
    /// it, mode 0600), creating its directory (0755). False, errno set, when it cannot.
    bool save_history(const std::string& path, std::size_t max_entries) const;
    [[nodiscard]] const std::vector<std::string>& history() const noexcept { return history_; }
    /// The next line without its newline; nullopt at end of input.
    std::optional<std::string> read_line(const std::string& prompt);

private:
    std::optional<std::string> read_raw(const std::string& prompt);
    /// Ctrl-R: readline's incremental reverse search. Returns the key that ended the search
    /// (to be handled as usual: '\r' runs the found line) with `line` set to the match, or -1
    /// when it was cancelled (^G) and `line` is as before.
    int reverse_search(const std::string& prompt, std::string& line);
    bool terminal_;
    completer complete_;
    std::vector<std::string> history_;
};

/// What tab completes at `cursor`: command names first, then the command's --options, and
/// domain or network names for those options.
std::vector<std::string> complete_line(shell& sh, const std::string& line, std::size_t cursor);

}  // namespace virtpp::cli
