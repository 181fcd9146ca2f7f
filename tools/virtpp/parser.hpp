// virsh's command-line grammar: a command string ("cmd --opt v; cmd2 'quoted arg'") or an argv
// vector becomes a list of commands with their options, with virsh's rules for positional
// arguments, --opt=value, aliases, "--" and --help, and virsh's error messages.
#pragma once

#include "command_def.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::cli {

/// One option as given: its definition and its value (empty for a boolean).
struct given_option {
    const option_def* def = nullptr;
    std::string value;
};

struct parsed_command {
    const command_def* def = nullptr;
    std::vector<given_option> options;

    /// The option if given (the first one for argv options).
    [[nodiscard]] const given_option* find(std::string_view name) const {
        for (const auto& o : options)
            if (o.def->name == name) return &o;
        return nullptr;
    }
    [[nodiscard]] bool has(std::string_view name) const { return find(name) != nullptr; }
    /// Every value of an argv option, in order.
    [[nodiscard]] std::vector<std::string> all(std::string_view name) const {
        std::vector<std::string> out;
        for (const auto& o : options)
            if (o.def->name == name) out.push_back(o.value);
        return out;
    }
};

/// Where the parser reports errors (virsh prints each as "error: <text>").
using error_sink_fn = std::function<void(const std::string&)>;

/// The option every command has.
inline constexpr option_def help_option{"help", opt_type::boolean, 0, "print help for this function"};

/// Finds a command by exact name.
[[nodiscard]] inline const command_def* find_command(std::span<const command_def> table, std::string_view name) {
    for (const auto& c : table)
        if (c.name == name) return &c;
    return nullptr;
}

namespace detail {

enum class token { arg, command_end, end, error };

/// Hands out the words of a command string with virsh's quoting: blanks separate words, ';' and
/// newline end a command, '#' at a word start comments to the end of the line, '...' is literal,
/// "..." allows \ escapes, and \ escapes one character outside single quotes.
class string_tokens {
public:
    explicit string_tokens(std::string_view text) : text_(text) {}

    token next(std::string& out, bool report, const error_sink_fn& error) {
        out.clear();
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                       (text_[pos_] == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n')))
            pos_ += text_[pos_] == '\\' ? 2 : 1;
        if (pos_ >= text_.size()) return token::end;
        if (text_[pos_] == ';' || text_[pos_] == '\n') {
            ++pos_;
            return token::command_end;
        }
        if (text_[pos_] == '#') {
            while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
            if (pos_ < text_.size()) ++pos_;
            return token::command_end;
        }
        bool single = false, dbl = false;
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (!single && !dbl && (c == ' ' || c == '\t' || c == ';' || c == '\n')) break;
            if (!dbl && c == '\'') {
                single = !single;
                ++pos_;
                continue;
            }
            if (!single && c == '\\') {
                ++pos_;
                if (pos_ >= text_.size()) {
                    if (report) error("dangling \\");
                    return token::error;
                }
                if (text_[pos_] == '\n') {
                    ++pos_;
                    continue;
                }
                c = text_[pos_];
            } else if (!single && c == '"') {
                dbl = !dbl;
                ++pos_;
                continue;
            }
            out.push_back(c);
            ++pos_;
        }
        if (dbl && report) {
            error("missing \"");
            return token::error;
        }
        return token::arg;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

/// Hands out argv words as they are: one command, no quoting.
class argv_tokens {
public:
    explicit argv_tokens(std::span<const std::string> words) : words_(words) {}
    token next(std::string& out, bool, const error_sink_fn&) {
        if (pos_ >= words_.size()) {
            out.clear();
            return token::end;
        }
        out = words_[pos_++];
        return token::arg;
    }

private:
    std::span<const std::string> words_;
    std::size_t pos_ = 0;
};

inline bool is_alnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// Resolves --name (following aliases) to an option index; -1 for --help; nullopt after an error.
inline std::optional<int> lookup_option(const command_def& cmd, std::string name, std::uint64_t& seen,
                                        std::optional<std::string>& inline_value, const error_sink_fn& error) {
    if (name == "help") return -1;
    for (std::size_t i = 0; i < cmd.opts.size(); ++i) {
        const option_def& opt = cmd.opts[i];
        if (opt.name != name) continue;
        if (opt.type == opt_type::alias) {
            std::string target(opt.help);
            if (auto eq = target.find('='); eq != std::string::npos) {
                if (inline_value) {
                    error("invalid '=' after option --" + std::string(opt.name));
                    return std::nullopt;
                }
                inline_value = target.substr(eq + 1);
                target.resize(eq);
            }
            name = target;
            continue;  // virsh looks for the real option further down the list
        }
        if ((seen & (1ULL << i)) != 0 && opt.type != opt_type::argv) {
            error("option --" + name + " already seen");
            return std::nullopt;
        }
        seen |= 1ULL << i;
        return static_cast<int>(i);
    }
    if (cmd.name != "help") error("command '" + std::string(cmd.name) + "' doesn't support option --" + name);
    return std::nullopt;
}

template <class Tokens>
bool parse_commands(std::span<const command_def> table, Tokens& tokens, std::vector<parsed_command>& out,
                    const error_sink_fn& error, const error_sink_fn& debug) {
    out.clear();
    std::string word;
    for (;;) {
        const command_def* cmd = nullptr;
        std::vector<given_option> options;
        std::uint64_t need_arg = 0, required = 0, seen = 0;
        bool data_only = false;
        token tk = token::end;
        for (;;) {
            tk = tokens.next(word, true, error);
            if (tk == token::error) return out.clear(), false;
            if (tk != token::arg) break;
            if (cmd == nullptr) {
                if (!word.empty() && word[0] == '#') {
                    do tk = tokens.next(word, false, error);
                    while (tk == token::arg);
                    break;
                }
                cmd = find_command(table, word);
                if (cmd == nullptr) {
                    error("unknown command: '" + word + "'");
                    return out.clear(), false;
                }
                for (std::size_t i = 0; i < cmd->opts.size(); ++i) {
                    const auto& o = cmd->opts[i];
                    if (o.type == opt_type::boolean || o.type == opt_type::alias) continue;
                    if ((o.flags & opt_flag::required_name) == 0) need_arg |= 1ULL << i;
                    if ((o.flags & opt_flag::required) != 0) required |= 1ULL << i;
                }
                continue;
            }
            const option_def* opt = nullptr;
            if (!data_only && word.size() > 2 && word[0] == '-' && word[1] == '-' && is_alnum(word[2])) {
                std::string name = word.substr(2);
                std::optional<std::string> inline_value;
                if (auto eq = name.find('='); eq != std::string::npos) {
                    inline_value = name.substr(eq + 1);
                    name.resize(eq);
                }
                auto index = lookup_option(*cmd, name, seen, inline_value, error);
                if (!index) {
                    if (cmd->name == "help") continue;
                    return out.clear(), false;
                }
                opt = *index < 0 ? &help_option : &cmd->opts[static_cast<std::size_t>(*index)];
                if (opt->type != opt_type::boolean) {
                    if (inline_value) {
                        word = *inline_value;
                    } else {
                        tk = tokens.next(word, true, error);
                        if (tk == token::error) return out.clear(), false;
                        if (tk != token::arg) {
                            error("expected syntax: --" + std::string(opt->name) + " <" +
                                  (opt->type == opt_type::integer ? "number" : "string") + ">");
                            return out.clear(), false;
                        }
                    }
                    if (opt->type != opt_type::argv) need_arg &= ~(1ULL << *index);
                } else {
                    if (inline_value) {
                        error("invalid '=' after option --" + std::string(opt->name));
                        return out.clear(), false;
                    }
                    word.clear();
                }
            } else if (!data_only && word == "--") {
                data_only = true;
                continue;
            } else {
                if (need_arg != 0) {
                    auto i = static_cast<std::size_t>(__builtin_ctzll(need_arg));
                    opt = &cmd->opts[i];
                    if (opt->type != opt_type::argv) need_arg &= ~(1ULL << i);
                    seen |= 1ULL << i;
                } else if (cmd->name != "help") {
                    error("unexpected data '" + word + "'");
                    return out.clear(), false;
                }
            }
            if (opt != nullptr) {
                // virsh's -d trace of every option as the parser takes it
                if (debug) {
                    const bool flag = opt->type == opt_type::boolean;
                    debug(std::string(cmd->name) + ": " + std::string(opt->name) + (flag ? "(bool): (none)\n" : "(optdata): " + word + "\n"));
                }
                options.push_back({opt, word});
            }
        }
        if (cmd != nullptr) {
            parsed_command pc{cmd, std::move(options)};
            for (const auto& o : pc.options) {
                if (o.def->name != "help" || o.def != &help_option) continue;
                // --help anywhere turns the command into "help <command>"
                const command_def* help = find_command(table, "help");
                pc = parsed_command{help, {{&help->opts[0], std::string(cmd->name)}}};
                required = seen = 0;
                break;
            }
            required &= ~seen;
            if (required != 0) {
                for (std::size_t i = 0; i < pc.def->opts.size(); ++i) {
                    if ((required & (1ULL << i)) == 0) continue;
                    const auto& o = pc.def->opts[i];
                    bool positional = o.type == opt_type::data || o.type == opt_type::argv;
                    error("command '" + std::string(pc.def->name) + "' requires " +
                          (positional ? "<" + std::string(o.name) + ">" : "--" + std::string(o.name)) + " option");
                }
                return out.clear(), false;
            }
            out.push_back(std::move(pc));
        }
        if (tk == token::end) break;
    }
    return true;
}

}  // namespace detail

/// Parses a command string (one argument, interactive line or stdin line). False after a
/// syntax error, reported through error; nothing of the string runs then.
inline bool parse_string(std::span<const command_def> table, std::string_view text, std::vector<parsed_command>& out,
                         const error_sink_fn& error, const error_sink_fn& debug = {}) {
    if (text.empty()) return out.clear(), false;
    detail::string_tokens tokens(text);
    return detail::parse_commands(table, tokens, out, error, debug);
}

/// Parses argv words: the first is the command, the rest its arguments, taken literally.
inline bool parse_argv(std::span<const command_def> table, std::span<const std::string> words,
                       std::vector<parsed_command>& out, const error_sink_fn& error, const error_sink_fn& debug = {}) {
    if (words.empty()) return out.clear(), false;
    detail::argv_tokens tokens(words);
    return detail::parse_commands(table, tokens, out, error, debug);
}

}  // namespace virtpp::cli
