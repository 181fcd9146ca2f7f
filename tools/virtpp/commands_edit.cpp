// The interactive shell's own commands beyond help/quit/connect — cd, pwd, echo —, the host's
// sysinfo and domcapabilities, and the editor
// commands edit and net-edit: the definition goes to a temporary file, $VISUAL/$EDITOR edits it,
// and the result is defined again (for domains validated against the schema first, unless
// --skip-validate), with virsh's "Failed. Try again?" loop on a terminal.
#include "command_util.hpp"
#include "shell.hpp"

#include <virtpp/error.hpp>
#include <virtpp/xml/escape.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <vector>

namespace virtpp::cli {

namespace {

// ---- cd, pwd, echo ---------------------------------------------------------------------------

bool cmd_cd(shell& sh, const parsed_command& cmd) {
    if (!sh.interactive) {
        sh.error("cd: command valid only in interactive mode");
        return false;
    }
    std::optional<std::string> dir;
    if (!sh.opt_string(cmd, "dir", dir)) return false;
    if (!dir) {
        const char* home = std::getenv("HOME");
        dir = home != nullptr && *home != '\0' ? home : "/";
    }
    if (::chdir(dir->c_str()) != 0) {
        sh.error("cd: " + std::string(std::strerror(errno)) + ": " + *dir);
        return false;
    }
    return true;
}

bool cmd_pwd(shell& sh, const parsed_command&) {
    std::vector<char> buf(4096);
    while (::getcwd(buf.data(), buf.size()) == nullptr) {
        if (errno != ERANGE) {
            sh.error("pwd: cannot get current directory: " + std::string(std::strerror(errno)));
            return false;
        }
        buf.resize(buf.size() * 2);
    }
    sh.print(std::string(buf.data()) + "\n");
    return true;
}

/// virBufferEscapeShell: as it is when no character is special to sh, else single-quoted.
std::string shell_quoted(const std::string& s) {
    if (!s.empty() && s.find_first_of(" \t\n\r'\"\\|&;()<>!#$^*?[]{}~`") == std::string::npos) return s;
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

/// vshStringToArray: pieces between commas, ",," standing for a comma; "" gives none.
std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> pieces;
    if (s.empty()) return pieces;
    std::string cur;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == ',') {
            if (i + 1 < s.size() && s[i + 1] == ',') {
                cur += ',';
                ++i;
                continue;
            }
            pieces.push_back(std::move(cur));
            cur.clear();
            continue;
        }
        cur += s[i];
    }
    pieces.push_back(std::move(cur));
    return pieces;
}

bool cmd_echo(shell& sh, const parsed_command& cmd) {
    if (!exclusive_options(sh, cmd, "shell", "xml") || !exclusive_options(sh, cmd, "shell", "split") ||
        !exclusive_options(sh, cmd, "xml", "split"))
        return false;
    bool quote_shell = cmd.has("shell"), quote_xml = cmd.has("xml"), split = cmd.has("split");
    std::string text;
    bool first = true;
    for (const auto& arg : cmd.all("string")) {
        if (!first) text += ' ';
        first = false;
        if (split) {
            for (const auto& piece : split_commas(arg)) text += piece + "\n";
        } else if (quote_shell) {
            text += shell_quoted(arg);
        } else if (quote_xml) {
            text += xml::escape(arg, xml::escape_style::entities_only);
        } else {
            text += arg;
        }
    }
    if (cmd.has("err")) sh.error(text);
    else sh.print(text);
    return true;
}

// ---- sysinfo, domcapabilities ----------------------------------------------------------------

bool cmd_sysinfo(shell& sh, const parsed_command&) {
    std::string xml;
    if (!attempt_call(sh, [&] { xml = sh.connection()->call<op::connect_get_sysinfo>({0}); }, "failed to get sysinfo"))
        return false;
    sh.print(xml);
    return true;
}

bool cmd_domcapabilities(shell& sh, const parsed_command& cmd) {
    op::connect_get_domain_capabilities::args a;
    if (!sh.opt_string(cmd, "virttype", a.virttype) || !sh.opt_string(cmd, "emulatorbin", a.emulatorbin) ||
        !sh.opt_string(cmd, "arch", a.arch) || !sh.opt_string(cmd, "machine", a.machine))
        return false;
    std::string xml;
    if (!attempt_call(sh, [&] { xml = sh.connection()->call<op::connect_get_domain_capabilities>(a); },
                      "failed to get emulator capabilities"))
        return false;
    sh.print(xml + "\n");
    return true;
}

// ---- edit, net-edit ----------------------------------------------------------------------------

constexpr std::size_t max_xml_file = 10U * 1024U * 1024U;  // virsh's VSH_MAX_XML_FILE

/// The temporary copy the editor works on; removed when the command ends.
class temp_xml_file {
public:
    temp_xml_file() = default;
    temp_xml_file(const temp_xml_file&) = delete;
    temp_xml_file& operator=(const temp_xml_file&) = delete;
    ~temp_xml_file() {
        if (!path_.empty()) ::unlink(path_.c_str());
    }

    /// vshEditWriteToTempFile: $TMPDIR (else /tmp)/virtppXXXXXX.xml, 0600.
    bool create(shell& sh, const std::string& content) {
        const char* dir = std::getenv("TMPDIR");
        std::string tmpl = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/virtppXXXXXX.xml";
        std::vector<char> name(tmpl.begin(), tmpl.end());
        name.push_back('\0');
        int fd = ::mkstemps(name.data(), 4);
        if (fd < 0) {
            sh.error("create " + tmpl + ": " + std::strerror(errno));
            return false;
        }
        path_ = name.data();
        std::size_t done = 0;
        while (done < content.size()) {
            ssize_t n = ::write(fd, content.data() + done, content.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                int e = errno;
                ::close(fd);
                sh.error("write: " + path_ + ": " + std::strerror(e));
                return false;
            }
            done += static_cast<std::size_t>(n);
        }
        if (::close(fd) != 0) {
            sh.error("close: " + path_ + ": " + std::strerror(errno));
            return false;
        }
        return true;
    }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
};

/// vshEditFile: runs $VISUAL, else $EDITOR, else vi on the file. A plain editor name runs as it
/// is; one with arguments or shell syntax runs through sh -c (the file name then must hold no
/// shell metacharacters).
bool run_editor(shell& sh, const std::string& file) {
    const char* editor = std::getenv("VISUAL");
    if (editor == nullptr || *editor == '\0') editor = std::getenv("EDITOR");
    if (editor == nullptr || *editor == '\0') editor = "vi";
    constexpr std::string_view plain =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+./:@_";
    std::string ed = editor;
    std::vector<std::string> argv;
    if (ed.find_first_not_of(plain) == std::string::npos) {
        argv = {ed, file};
    } else {
        if (file.find_first_not_of(plain) != std::string::npos) {
            sh.error(file + ": temporary filename contains shell meta or other unacceptable characters (is $TMPDIR wrong?)");
            return false;
        }
        argv = {"sh", "-c", ed + " " + file};
    }
    std::string shown;
    for (const auto& a : argv) shown += (shown.empty() ? "" : " ") + a;
    std::cout.flush();
    pid_t pid = ::fork();
    if (pid < 0) {
        sh.error("internal error: cannot run " + shown + ": " + std::strerror(errno));
        return false;
    }
    if (pid == 0) {
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        std::fprintf(stderr, "error: cannot execute %s: %s\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            sh.error("internal error: waiting for " + shown + ": " + std::strerror(errno));
            return false;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
    if (WIFEXITED(status))
        sh.error("internal error: Child process (" + shown + ") unexpected exit status " + std::to_string(WEXITSTATUS(status)));
    else
        sh.error("internal error: Child process (" + shown + ") unexpected fatal signal " + std::to_string(WTERMSIG(status)));
    return false;
}

bool read_back(shell& sh, const std::string& path, std::string& out) {
    if (!sh.read_file(path, out)) {
        sh.report_last_error();
        return false;
    }
    if (out.size() > max_xml_file) {
        sh.error(path + ": file too large (more than " + std::to_string(max_xml_file) + " bytes)");
        return false;
    }
    return true;
}

/// vshAskReedit: after a failed define on a terminal, what next. 'y' edit again, 'n' give up,
/// 'i' (when validation can be relaxed) define without it, 'f' define again as it is. Off a
/// terminal nobody can answer: the edit fails.
char ask_reedit(shell& sh, bool relax_available) {
    if (::isatty(STDIN_FILENO) == 0) {
        sh.error("Failed.");
        return 'n';
    }
    std::string prompt = relax_available ? "\rFailed. Try again? [y,n,i,f,?]: " : "\rFailed. Try again? [y,n,f,?]: ";
    termios saved{};
    bool raw = ::tcgetattr(STDIN_FILENO, &saved) == 0;
    for (;;) {
        // the terminal goes raw before the prompt shows: a key typed as soon as it shows is read,
        // not echoed by the cooked terminal and then flushed away (TCSADRAIN keeps type-ahead)
        int c = -1;
        if (raw) {
            termios t = saved;
            t.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
            t.c_cc[VMIN] = 1;
            t.c_cc[VTIME] = 0;
            ::tcsetattr(STDIN_FILENO, TCSADRAIN, &t);
        }
        std::cout << prompt << std::flush;
        unsigned char ch = 0;
        if (::read(STDIN_FILENO, &ch, 1) == 1) c = ch;
        if (raw) ::tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
        std::cout << "\r\n" << std::flush;
        switch (c) {
        case -1: return 'n';
        case 'y': case 'n': case 'f': return static_cast<char>(c);
        case 'i':
            if (relax_available) return 'i';
            [[fallthrough]];
        case '?':
        default:
            std::cout << "y - yes, start editor again\n"
                         "n - no, throw away my changes\n";
            if (relax_available) std::cout << "i - turn off validation and try to redefine again\n";
            std::cout << "f - force, try to redefine again\n"
                         "? - print this help\n";
            break;
        }
    }
}

/// The edit loop both commands share. `define(xml, validate)` defines and returns the new name;
/// it throws virtpp::error on failure.
bool edit_loop(shell& sh, const std::string& kind, bool quote_name, const std::string& current_name,
               const std::string& original, bool validate,
               bool relax_available, const std::function<std::string(const std::string&, bool)>& define) {
    temp_xml_file tmp;
    if (!tmp.create(sh, original)) return false;
    auto label = [&](const std::string& name) {
        return kind + " " + (quote_name ? "'" + name + "'" : name) + " XML configuration";
    };
    bool run = true;
    for (;;) {
        if (run && !run_editor(sh, tmp.path())) return false;
        run = false;
        std::string edited;
        if (!read_back(sh, tmp.path(), edited)) return false;
        if (edited == original) {
            sh.print_extra(label(current_name) + " not changed.\n");
            return true;
        }
        try {
            std::string name = define(edited, validate);
            sh.print_extra(label(name) + " edited.\n");
            return true;
        } catch (const virtpp::error&) {
            sh.report_last_error();
        }
        switch (ask_reedit(sh, relax_available)) {
        case 'y': run = true; break;
        case 'i': validate = false; break;
        case 'f': break;
        default: return false;
        }
    }
}

bool cmd_edit(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::string original;
    if (!attempt_call(sh, [&] { original = dom->xml_desc(xml_flags::secure | xml_flags::inactive); }, "")) return false;
    any_connection* conn = sh.connection();
    if (conn == nullptr) return false;
    constexpr unsigned define_validate = 1U << 0;  // VIR_DOMAIN_DEFINE_VALIDATE
    return edit_loop(sh, "Domain", true, dom->name(), original, !cmd.has("skip-validate"), true,
                     [conn](const std::string& xml, bool validate) {
                         return conn->call<op::domain_define_xml>({xml, validate ? define_validate : 0U}).name;
                     });
}

bool cmd_net_edit(shell& sh, const parsed_command& cmd) {
    auto net = sh.network(cmd);
    if (!net) return false;
    std::string original;
    // the inactive definition where the driver has one (libvirt 9.0's test driver refuses the flag)
    constexpr unsigned network_xml_inactive = 1U << 0;  // VIR_NETWORK_XML_INACTIVE
    try {
        original = net->xml_desc(network_xml_inactive);
    } catch (const virtpp::error& e) {
        if (e.code() != error_code::invalid_arg) return false;
        sh.reset_last_error();
        if (!attempt_call(sh, [&] { original = net->xml_desc(0); }, "")) return false;
    }
    any_connection* conn = sh.connection();
    if (conn == nullptr) return false;
    return edit_loop(sh, "Network", false, net->name(), original, false, false, [conn](const std::string& xml, bool) {
        return conn->call<op::network_define_xml>({xml}).name;
    });
}

constexpr handler_entry handlers[] = {
    {"cd", cmd_cd},         {"pwd", cmd_pwd},         {"echo", cmd_echo},
    {"edit", cmd_edit},     {"net-edit", cmd_net_edit}, {"sysinfo", cmd_sysinfo},
    {"domcapabilities", cmd_domcapabilities},
};

}  // namespace

std::span<const handler_entry> edit_handlers() { return handlers; }

}  // namespace virtpp::cli
