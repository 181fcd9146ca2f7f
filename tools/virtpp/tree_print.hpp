// vshTreePrint: a forest as virsh draws it (nodedev-list --tree, snapshot-list --tree,
// checkpoint-list --tree): each root, then its children in list order under "+- " branches.
#pragma once

#include "shell.hpp"

#include <optional>
#include <string>
#include <vector>

namespace virtpp::cli {

namespace detail {
inline void print_tree_node(shell& sh, const std::vector<std::string>& names,
                            const std::vector<std::optional<std::string>>& parents, std::size_t at, std::size_t last,
                            bool root, std::string& indent) {
    sh.print(indent + (root ? "" : "+- ") + names[at] + "\n");
    if (!root) indent += at == last ? "  " : "| ";
    std::optional<std::size_t> last_child;
    for (std::size_t i = 0; i < names.size(); ++i)
        if (parents[i] && *parents[i] == names[at]) last_child = i;
    // a spacer line before the children; a blank line after the last leaf of a level
    if (last_child) sh.print(indent + "  |\n");
    indent += "  ";
    for (std::size_t i = 0; i < names.size(); ++i)
        if (parents[i] && *parents[i] == names[at]) print_tree_node(sh, names, parents, i, *last_child, false, indent);
    indent.resize(indent.size() - 2);
    if (!last_child && at == last) sh.print(indent + "\n");
    if (!root) indent.resize(indent.size() - 2);
}
}  // namespace detail

/// Prints every entry without a parent as the root of its tree; parents[i] names names[i]'s parent.
inline void print_forest(shell& sh, const std::vector<std::string>& names,
                         const std::vector<std::optional<std::string>>& parents) {
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (parents[i]) continue;
        std::string indent;
        detail::print_tree_node(sh, names, parents, i, i, true, indent);
    }
}

}  // namespace virtpp::cli
