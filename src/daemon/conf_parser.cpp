// virConf text (libvirtd.conf, libvirt.conf) read with Boost.Spirit X3. The grammar is libvirt's:
// `name = value` entries separated by newlines or ';', values that are integers, strings ('...',
// "..." or """...""") or [ lists ] of values, '#' comments. Every refusal is a config_error
// "FILE:LINE: what" whose wording and line libvirtd's reader and the tests expect.
#include <virtpp/rpc/server.hpp>

#include <boost/spirit/home/x3.hpp>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace virtpp::daemon {

namespace {

namespace x3 = boost::spirit::x3;
using iterator = std::string_view::const_iterator;

/// What the grammar's actions share: the text's start and a cursor into it (lines are counted
/// up to a value's start, or an error's place, when one is asked for, not as the parser goes), how
/// deep lists nest now, and the entry's name (the assignment error names it).
struct parse_state {
    iterator begin;
    iterator counted;  ///< lines are known up to here
    int line = 1;
    int depth = 0;
    std::string key;

    [[nodiscard]] int line_at(iterator where) {
        if (where < counted) {  // an error may point back into a value already counted
            counted = begin;
            line = 1;
        }
        line += static_cast<int>(std::count(counted, where, '\n'));
        counted = where;
        return line;
    }
};
struct state_tag;

/// A refusal raised inside the grammar: where and what (the message without file and line).
struct syntax_failure {
    iterator where;
    std::string what;
};

// ---- lexical pieces -----------------------------------------------------------------------
// Character classes are spelled as ranges: x3::alpha & co. call <cctype> with the C locale's idea
// of a letter and are undefined for bytes above 0x7f as plain char.
const auto blank = x3::omit[x3::char_(" \t")];
const auto eol_char = x3::omit[x3::char_("\r\n")];
const auto letter = x3::char_('a', 'z') | x3::char_('A', 'Z');
const auto digit = x3::char_('0', '9');
const auto comment = x3::omit[x3::lit('#') >> *~x3::char_("\r\n")];
/// Between entries: blanks, line ends and comments.
const auto entry_space = *(blank | eol_char | comment);
/// Inside a list the same is allowed, between any two tokens.
const auto list_space = entry_space;
const auto triple_quote = x3::lit("\"\"\"");
const auto more_text = !x3::eoi;

// ---- semantic actions -------------------------------------------------------------------------
auto& state_of(const auto& ctx) { return x3::get<state_tag>(ctx).get(); }

const auto remember_key = [](auto& ctx) {
    const auto& range = x3::_attr(ctx);
    state_of(ctx).key.assign(range.begin(), range.end());
};
const auto take_number = [](auto& ctx) {
    const auto& range = x3::_attr(ctx);
    auto it = range.begin();
    bool negative = *it == '-';
    if (*it == '-' || *it == '+') ++it;
    unsigned long long n = 0;
    for (; it != range.end(); ++it) {
        n = n * 10 + static_cast<unsigned>(*it - '0');
        if (n > static_cast<unsigned long long>(std::numeric_limits<long long>::max()))
            throw syntax_failure{range.begin(), "number out of range"};
    }
    x3::_val(ctx) = negative ? -static_cast<long long>(n) : static_cast<long long>(n);
};
const auto open_list = [](auto& ctx) {
    auto& state = state_of(ctx);
    if (state.depth >= conf_max_depth)
        throw syntax_failure{x3::_where(ctx).begin(),
                             "lists nested deeper than " + std::to_string(conf_max_depth) + " levels"};
    ++state.depth;
};
const auto close_list = [](auto& ctx) { --state_of(ctx).depth; };
const auto mark_line = [](auto& ctx) { x3::_val(ctx).line = state_of(ctx).line_at(x3::_where(ctx).begin()); };
const auto set_data = [](auto& ctx) { x3::_val(ctx).data = std::move(x3::_attr(ctx)); };
const auto append = [](auto& ctx) { x3::_val(ctx).push_back(std::move(x3::_attr(ctx))); };
const auto add_entry = [](auto& ctx) {
    x3::_val(ctx).push_back(conf_entry{std::move(state_of(ctx).key), std::move(x3::_attr(ctx))});
};

// ---- rules ------------------------------------------------------------------------------------
// A rule's name is the message an expectation failure on it gives ("assignment" is completed
// with the entry's name where it is reported).
const x3::rule<class name_id> name = "expecting a name";
const x3::rule<class assignment_id> assignment = "assignment";
const x3::rule<class separator_id> separator = "expecting a separator";
const x3::rule<class value_id, conf_value> value = "expecting a value";
const x3::rule<class list_id, std::vector<conf_value>> list = "list";
const x3::rule<class list_close_id> list_close = "list is not closed with ]";
const x3::rule<class string_id, std::string> string = "string";
const x3::rule<class quoted_id, std::string> triple_quoted = "unterminated string";
const x3::rule<class double_quoted_id, std::string> double_quoted = "unterminated string";
const x3::rule<class single_quoted_id, std::string> single_quoted = "unterminated string";
const x3::rule<class number_id, long long> number = "number";
const x3::rule<class digits_id> digits = "unterminated number";
const x3::rule<class file_id, std::vector<conf_entry>> file = "file";

const auto name_def = x3::raw[letter >> *(letter | digit | x3::char_('_'))][remember_key];
const auto assignment_def = x3::lit('=');
// a value ends at a line end, a comment, a ';' or the end of the text
const auto separator_def = *blank >> (x3::eoi | comment | &eol_char | x3::lit(';'));

const auto value_def = x3::omit[x3::eps[mark_line] >> (string[set_data] | list[set_data] | number[set_data])];

// "[" then items separated by ',' (a trailing one allowed), any list_space between tokens; at
// the end of the text, where an item could start, the list is unclosed rather than missing a value
const auto list_def = x3::omit[(x3::lit('[')[open_list] >> list_space >>
                               -(!x3::lit(']') >> !x3::eoi >> x3::expect[value][append] >>
                                 *(list_space >> ',' >> list_space >> (&x3::lit(']') | x3::expect[value][append]))) >>
                               list_space) > list_close];
const auto list_close_def = x3::lit(']')[close_list];

const auto string_def = (triple_quote > triple_quoted) | (x3::lit('"') > double_quoted) | (x3::lit('\'') > single_quoted);
const auto triple_quoted_def = x3::raw[*(x3::char_ - triple_quote)] >> triple_quote;
const auto double_quoted_def = x3::raw[*~x3::char_("\"\r\n")] >> '"';
const auto single_quoted_def = x3::raw[*~x3::char_("'\r\n")] >> '\'';

const auto number_def = x3::omit[x3::raw[((x3::lit('-') | '+') > digits) | +digit][take_number]];
const auto digits_def = +digit;

const auto file_def = entry_space >>
                      *((more_text > name > (*blank > assignment) > x3::omit[(*blank > value)[add_entry]] > separator) >> entry_space);

BOOST_SPIRIT_DEFINE(name, assignment, separator, value, list, list_close, string, triple_quoted, double_quoted,
                    single_quoted, number, digits, file)

}  // namespace

std::vector<conf_entry> parse_conf(std::string_view text, std::string_view filename) {
    parse_state state{text.begin(), text.begin(), 1, 0, {}};
    auto fail = [&](iterator where, const std::string& what) -> config_error {
        return config_error(std::string(filename) + ":" + std::to_string(state.line_at(where)) + ": " + what);
    };

    std::vector<conf_entry> entries;
    auto first = text.begin();
    try {
        const auto grammar = x3::with<state_tag>(std::ref(state))[file];
        if (!x3::parse(first, text.end(), grammar, entries) || first != text.end())
            throw fail(first, "expecting a name");
    } catch (const x3::expectation_failure<iterator>& e) {
        if (e.which() == "assignment") throw fail(e.where(), "expecting an assignment after '" + state.key + "'");
        throw fail(e.where(), e.which());
    } catch (const syntax_failure& e) {
        throw fail(e.where, e.what);
    }
    return entries;
}

}  // namespace virtpp::daemon
