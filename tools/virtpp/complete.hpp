// virsh's hidden `complete` command (what bash completion runs).
#pragma once

#include <string>
#include <vector>

namespace virtpp::cli {

class shell;

/// The candidates for the last of `words` (a command line after the global options, the last
/// word being completed, possibly empty): command names, option names not yet given, or the
/// values of the option being typed (domain and network names as virsh's completers filter
/// them, shutdown modes, command names for help).
[[nodiscard]] std::vector<std::string> complete_words(shell& sh, const std::vector<std::string>& words);

}  // namespace virtpp::cli
