// S-expression parsing (Boost.Spirit X3 for the tokens, an explicit stack for nesting so depth is
// bounded without recursion) and xend's compact printing.
#include <virtpp/error.hpp>
#include <virtpp/xen/sexpr.hpp>

#include <boost/spirit/home/x3.hpp>

#include <algorithm>
#include <string>
#include <utility>

namespace virtpp::xen {

sexpr sexpr::atom(std::string text, bool quoted) {
    sexpr s;
    s.is_atom_ = true;
    s.quoted_ = quoted;
    s.text_ = std::move(text);
    return s;
}

sexpr sexpr::list(list_type items) {
    sexpr s;
    s.items_ = std::move(items);
    return s;
}

sexpr sexpr::pair(std::string key, std::string value) {
    return list({atom(std::move(key)), atom(std::move(value))});
}

sexpr sexpr::quoted_pair(std::string key, std::string value) {
    return list({atom(std::move(key)), quoted(std::move(value))});
}

std::string_view sexpr::head() const noexcept {
    if (is_atom_ || items_.empty() || !items_.front().is_atom_) return {};
    return items_.front().text_;
}

sexpr& sexpr::push(sexpr child) {
    if (!is_atom_) items_.push_back(std::move(child));
    return *this;
}

const sexpr* sexpr::find(std::string_view path) const {
    const sexpr* cur = this;
    bool first = true;
    while (!path.empty()) {
        auto slash = path.find('/');
        auto step = path.substr(0, slash);
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
        if (first) {
            // the first step names this list itself
            first = false;
            if (cur->head() != step) return nullptr;
            continue;
        }
        const sexpr* next = nullptr;
        for (std::size_t i = 1; i < cur->items_.size(); ++i) {
            if (cur->items_[i].head() == step) {
                next = &cur->items_[i];
                break;
            }
        }
        if (!next) return nullptr;
        cur = next;
    }
    return cur;
}

std::optional<std::string> sexpr::value(std::string_view path) const {
    const sexpr* s = find(path);
    if (!s || s->items_.size() < 2 || !s->items_[1].is_atom_) return std::nullopt;
    return s->items_[1].text_;
}

std::vector<const sexpr*> sexpr::children(std::string_view name) const {
    std::vector<const sexpr*> out;
    for (std::size_t i = 1; i < items_.size(); ++i)
        if (items_[i].head() == name) out.push_back(&items_[i]);
    return out;
}

namespace {

namespace x3 = boost::spirit::x3;

[[noreturn]] void fail_at(std::string_view text, const char* at, std::string_view what) {
    std::size_t offset = static_cast<std::size_t>(at - text.data());
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    raise(error_code::sexpr_serial, error_domain::sexpr,
          "line " + std::to_string(line) + " column " + std::to_string(column) + ": " + std::string(what));
}

// Tokens: a quoted atom ('..' or "..", backslash escapes the next character) or a bare atom (any
// run of characters other than whitespace, parens and quotes).
const auto escaped_char = x3::lit('\\') >> x3::char_;
const auto single_quoted = x3::lexeme['\'' >> *(escaped_char | ~x3::char_("'\\")) >> '\''];
const auto double_quoted = x3::lexeme['"' >> *(escaped_char | ~x3::char_("\"\\")) >> '"'];
const auto bare = x3::lexeme[+~x3::char_(" \t\r\n()'\"")];

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

sexpr parse_sexpr(std::string_view text, const sexpr_limits& limits) {
    if (text.size() > limits.max_bytes)
        raise(error_code::sexpr_serial, error_domain::sexpr,
              "S-expression of " + std::to_string(text.size()) + " bytes is over the limit of " +
                  std::to_string(limits.max_bytes));
    const char* it = text.data();
    const char* const end = text.data() + text.size();
    auto skip_space = [&] {
        while (it != end && is_space(*it)) ++it;
    };

    // open lists, innermost last; the finished top-level value lands in `result`
    std::vector<sexpr> stack;
    std::optional<sexpr> result;
    auto emit = [&](sexpr v) {
        if (stack.empty())
            result = std::move(v);
        else
            stack.back().push(std::move(v));
    };

    skip_space();
    if (it == end) fail_at(text, it, "empty input, expected an S-expression");
    while (!result) {
        skip_space();
        if (it == end) {
            if (!limits.lenient) fail_at(text, it, "unexpected end of input, expected ')'");
            while (!stack.empty()) {
                sexpr done = std::move(stack.back());
                stack.pop_back();
                emit(std::move(done));
            }
            break;
        }
        const char* start = it;
        char c = *it;
        if (c == '(') {
            if (stack.size() >= limits.max_depth)
                fail_at(text, it, "nesting deeper than " + std::to_string(limits.max_depth) + " lists");
            ++it;
            stack.push_back(sexpr::list());
        } else if (c == ')') {
            if (stack.empty()) fail_at(text, it, "unexpected ')'");
            ++it;
            sexpr done = std::move(stack.back());
            stack.pop_back();
            emit(std::move(done));
        } else if (c == '\'' || c == '"') {
            std::string value;
            bool ok = c == '\'' ? x3::parse(it, end, single_quoted, value) : x3::parse(it, end, double_quoted, value);
            if (!ok) fail_at(text, start, std::string("unterminated quoted atom, expected closing ") + c);
            emit(sexpr::atom(std::move(value), true));
        } else {
            std::string value;
            if (!x3::parse(it, end, bare, value)) fail_at(text, it, "expected an atom");
            emit(sexpr::atom(std::move(value)));
        }
    }
    skip_space();
    if (it != end && !limits.lenient) fail_at(text, it, "trailing characters after the S-expression");
    return std::move(*result);
}

namespace {

bool needs_quotes(const std::string& s) {
    if (s.empty()) return true;
    return std::any_of(s.begin(), s.end(), [](char c) {
        return is_space(c) || c == '(' || c == ')' || c == '\'' || c == '"' || c == '\\';
    });
}

void print(const sexpr& v, std::string& out) {
    if (v.is_atom()) {
        if (v.was_quoted() || needs_quotes(v.text())) {
            out += '\'';
            for (char c : v.text()) {
                if (c == '\'' || c == '\\') out += '\\';
                out += c;
            }
            out += '\'';
        } else {
            out += v.text();
        }
        return;
    }
    out += '(';
    bool first = true, previous_was_list = false;
    for (const auto& child : v.items()) {
        // xend's spacing: "(vm (name 'x')(memory 420))" — only lists follow lists unspaced
        if (!first && (!previous_was_list || child.is_atom())) out += ' ';
        first = false;
        print(child, out);
        previous_was_list = child.is_list();
    }
    out += ')';
}

}  // namespace

std::string format_sexpr(const sexpr& value) {
    std::string out;
    print(value, out);
    return out;
}

}  // namespace virtpp::xen
