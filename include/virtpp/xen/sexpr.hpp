// S-expressions as xend speaks them (GET /xend/domain/NAME?detail=1 answers one, POST /xend/domain
// with op=create sends one): lists in parentheses, atoms bare or in single/double quotes with
// backslash escapes. Parsed with Boost.Spirit X3 (depth- and size-limited), printed in xend's
// compact form "(vm (name 'x')(memory 420))". The domain mapping is sexpr_domain.hpp.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::xen {

/// One S-expression: an atom (text, remembering whether it was written quoted) or a list.
class sexpr {
public:
    using list_type = std::vector<sexpr>;

    sexpr() = default;  ///< the empty list "()"
    [[nodiscard]] static sexpr atom(std::string text, bool quoted = false);
    /// A quoted atom: printed as 'text' (xend's spelling for names, paths, uuids).
    [[nodiscard]] static sexpr quoted(std::string text) { return atom(std::move(text), true); }
    [[nodiscard]] static sexpr list(list_type items = {});
    /// (key value) with value a bare atom, e.g. (memory 420)
    [[nodiscard]] static sexpr pair(std::string key, std::string value);
    /// (key 'value')
    [[nodiscard]] static sexpr quoted_pair(std::string key, std::string value);

    [[nodiscard]] bool is_atom() const noexcept { return is_atom_; }
    [[nodiscard]] bool is_list() const noexcept { return !is_atom_; }
    [[nodiscard]] bool was_quoted() const noexcept { return quoted_; }
    /// The atom's text (empty for a list).
    [[nodiscard]] const std::string& text() const noexcept { return text_; }
    [[nodiscard]] const list_type& items() const noexcept { return items_; }
    [[nodiscard]] list_type& items() noexcept { return items_; }
    /// The head atom's text of a list ("vbd" for (vbd (dev 'xvda'))), empty otherwise.
    [[nodiscard]] std::string_view head() const noexcept;

    /// Appends to a list (no effect on an atom); returns *this for chaining.
    sexpr& push(sexpr child);

    /// libvirt's sexpr_lookup: "domain/image/hvm" walks from this list (whose head must be
    /// "domain") through children whose heads match; the list found, or nullptr.
    [[nodiscard]] const sexpr* find(std::string_view path) const;
    /// libvirt's sexpr_node: the atom after the key of the list at path ("domain/name" -> "pvtest");
    /// nullopt when absent or when the list holds no atom value.
    [[nodiscard]] std::optional<std::string> value(std::string_view path) const;
    /// Every direct child list whose head is `name` (the (device ...) entries of a domain).
    [[nodiscard]] std::vector<const sexpr*> children(std::string_view name) const;

    friend bool operator==(const sexpr&, const sexpr&) = default;

private:
    bool is_atom_ = false;
    bool quoted_ = false;
    std::string text_;
    list_type items_;
};

/// Bounds checked before anything is built: a hostile xend or file cannot exhaust the stack or memory.
struct sexpr_limits {
    std::size_t max_depth = 64;
    std::size_t max_bytes = 16 * 1024 * 1024;
    /// libvirt's reader closes lists still open at the end of the text and ignores what follows
    /// a complete expression; libvirt's own fixtures rely on it. Off by default.
    bool lenient = false;
};

/// Parses exactly one S-expression (surrounding whitespace allowed; continuation backslash-newlines
/// are NOT joined here). Malformed text raises SEXPR_SERIAL in the SEXPR domain, naming the line,
/// the column and what was expected ("line 2 column 7: expected ')'").
[[nodiscard]] sexpr parse_sexpr(std::string_view text, const sexpr_limits& limits = {});

/// xend's compact form: "(a b (c 'd e')(f g))" — a space after an atom, none between lists. Atoms
/// that were quoted, or that must be (empty, spaces, parens, quotes), are written in single quotes
/// with ' and \ escaped by a backslash.
[[nodiscard]] std::string format_sexpr(const sexpr& value);

}  // namespace virtpp::xen
