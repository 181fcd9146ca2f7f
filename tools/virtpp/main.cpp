// virtpp: a virsh-compatible shell on the virtpp library. Options, command grammar, output and
// exit statuses follow Debian's virsh 9.0; see docs/cli.md for the deliberate differences.
#include "complete.hpp"
#include "help.hpp"
#include "line_editor.hpp"
#include "shell.hpp"

#include <virtpp/transport/remote.hpp>
#include <virtpp/version.hpp>

#include <cerrno>
#include <chrono>
#include <clocale>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <getopt.h>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using virtpp::cli::shell;

void print_usage(const char* progname) {
    std::printf("\n%s [options]... [<command_string>]\n%s [options]... <command> [args...]\n\n"
                "  options:\n"
                "    -c | --connect=URI      hypervisor connection URI\n"
                "    -d | --debug=NUM        debug level [0-4]\n"
                "    -e | --escape <char>    set escape sequence for console\n"
                "    -h | --help             this help\n"
                "    -k | --keepalive-interval=NUM\n"
                "                            keepalive interval in seconds, 0 for disable\n"
                "    -K | --keepalive-count=NUM\n"
                "                            number of possible missed keepalive messages\n"
                "    -l | --log=FILE         output logging to file\n"
                "    -q | --quiet            quiet mode\n"
                "    -r | --readonly         connect readonly\n"
                "    -t | --timing           print timing information\n"
                "    -v                      short version\n"
                "    -V                      long version\n"
                "         --version[=TYPE]   version, TYPE is short or long (default short)\n"
                "  commands (non interactive mode):\n\n",
                progname, progname);
    for (const auto& g : virtpp::cli::groups) {
        std::printf(" %s (help keyword '%s')\n", std::string(g.name).c_str(), std::string(g.keyword).c_str());
        for (const auto& c : virtpp::cli::command_table())
            if (c.group == g.keyword) std::fputs(virtpp::cli::command_list_line(c).c_str(), stdout);
        std::printf("\n");
    }
    std::printf("\n  (specify help <group> for details about the commands in the group)\n");
    std::printf("\n  (specify help <command> for details about the command)\n\n");
}

void print_long_version() {
    std::printf("virtpp command line tool, version %s\n", VIRTPP_VERSION_STRING);
    std::printf("See web site at %s\n\n", "https://libvirt.org/");
    std::printf("Compiled with support for:\n");
    std::printf(" Hypervisors: Test\n");
    std::printf(" Networking: Network\n");
    std::printf(" Storage:\n");
    std::printf(" Miscellaneous: Debug\n");
}

bool valid_escape(const char* s) {
    auto allowed = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '@' && c <= '_'); };
    std::size_t len = std::strlen(s);
    return (len == 2 && s[0] == '^' && allowed(s[1])) || (len == 1 && s[0] != '^');
}

bool parse_int(const char* s, int base, int& out) {
    errno = 0;
    char* end = nullptr;
    long v = std::strtol(s, &end, base);
    if (errno != 0 || end == s || *end != '\0' || v < INT32_MIN || v > INT32_MAX) return false;
    out = static_cast<int>(v);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::setlocale(LC_ALL, "");
    const char* progname = std::strrchr(argv[0], '/') != nullptr ? std::strrchr(argv[0], '/') + 1 : argv[0];
    shell sh;
    sh.progname = progname;
    const bool stdin_tty = ::isatty(STDIN_FILENO) != 0;

    static const option long_options[] = {
        {"connect", required_argument, nullptr, 'c'},
        {"debug", required_argument, nullptr, 'd'},
        {"escape", required_argument, nullptr, 'e'},
        {"help", no_argument, nullptr, 'h'},
        {"keepalive-interval", required_argument, nullptr, 'k'},
        {"keepalive-count", required_argument, nullptr, 'K'},
        {"log", required_argument, nullptr, 'l'},
        {"quiet", no_argument, nullptr, 'q'},
        {"readonly", no_argument, nullptr, 'r'},
        {"timing", no_argument, nullptr, 't'},
        {"version", optional_argument, nullptr, 'v'},
        {nullptr, 0, nullptr, 0},
    };
    opterr = 0;
    int longindex = -1;
    int arg = 0;
    while ((arg = getopt_long(argc, argv, "+:c:d:e:hk:K:l:qrtvV", long_options, &longindex)) != -1) {
        switch (arg) {
        case 'c': sh.connect_name = optarg; break;
        case 'd': {
            int level = 0;
            if (!parse_int(optarg, 10, level)) {
                sh.error(std::string("option ") + (longindex == -1 ? "-d" : "--debug") + " takes a numeric argument");
                return EXIT_FAILURE;
            }
            if (level < 0 || level > 4)
                sh.error("ignoring debug level " + std::to_string(level) + " out of range [0-4]");
            else
                sh.debug_level = level;
            break;
        }
        case 'e':
            if (!valid_escape(optarg)) {
                sh.error(std::string("Invalid string '") + optarg + "' for escape sequence");
                return EXIT_FAILURE;
            }
            sh.escape = optarg;
            break;
        case 'h': print_usage(progname); return EXIT_SUCCESS;
        case 'k':
        case 'K': {
            const char* name = arg == 'k' ? (longindex == -1 ? "-k" : "--keepalive-interval")
                                          : (longindex == -1 ? "-K" : "--keepalive-count");
            int value = 0;
            if (!parse_int(optarg, 0, value)) {
                sh.error(std::string("Invalid value for option ") + name);
                return EXIT_FAILURE;
            }
            if (value < 0) {
                sh.error(std::string("option ") + name + " requires a positive integer argument");
                return EXIT_FAILURE;
            }
            // connections to a daemon ping it after `interval` s of silence and give up after
            // `count` unanswered PINGs; -k 0 turns keepalive off (local drivers have none)
            auto ka = virtpp::rpc::default_client_options();
            if (arg == 'k') {
                ka.keepalive_interval = std::chrono::seconds(value);
                ka.keepalive = value > 0;
            } else {
                ka.keepalive_count = static_cast<unsigned>(value);
            }
            virtpp::rpc::set_default_client_options(ka);
            break;
        }
        case 'l':
            sh.log_file = optarg;
            if (!sh.open_log()) return EXIT_FAILURE;
            break;
        case 'q': sh.quiet = true; break;
        case 't': sh.timing = true; break;
        case 'r': sh.readonly = true; break;
        case 'v':
            if (optarg == nullptr || std::strcmp(optarg, "long") != 0) {
                std::printf("virtpp %s\n", VIRTPP_VERSION_STRING);
                return EXIT_SUCCESS;
            }
            [[fallthrough]];
        case 'V': print_long_version(); return EXIT_SUCCESS;
        case ':': {
            const option* o = nullptr;
            for (const auto& lo : long_options)
                if (lo.name != nullptr && lo.val == optopt) o = &lo;
            if (o != nullptr)
                sh.error(std::string("option '-") + static_cast<char>(optopt) + "'/'--" + o->name + "' requires an argument");
            else
                sh.error(std::string("option '-") + static_cast<char>(optopt) + "' requires an argument");
            return EXIT_FAILURE;
        }
        case '?':
            if (optopt != 0)
                sh.error(std::string("unsupported option '-") + static_cast<char>(optopt) + "'. See --help.");
            else
                sh.error(std::string("unsupported option '") + argv[optind - 1] + "'. See --help.");
            return EXIT_FAILURE;
        default: sh.error("unknown option"); return EXIT_FAILURE;
        }
        longindex = -1;
    }

    // virsh's hidden `complete -- WORDS...`, which bash completion runs: not in help, needs no
    // connection until a candidate list (domain names) asks for one
    if (optind < argc && std::strcmp(argv[optind], "complete") == 0) {
        std::vector<std::string> words(argv + optind + 1, argv + argc);
        if (!words.empty() && words.front() == "--") words.erase(words.begin());
        if (!sh.connect_name)
            if (const char* env = std::getenv("VIRSH_DEFAULT_CONNECT_URI"); env != nullptr) sh.connect_name = env;
        for (const auto& candidate : virtpp::cli::complete_words(sh, words)) std::printf("%s\n", candidate.c_str());
        std::printf("\n");
        return EXIT_SUCCESS;
    }

    std::vector<virtpp::cli::parsed_command> commands;
    auto report = [&sh](const std::string& m) { sh.error(m); };
    auto trace = [&sh](const std::string& m) { sh.debug(shell::debug_info, m); };
    sh.interactive = argc == optind;
    if (!sh.interactive) {
        bool parsed = false;
        if (argc - optind == 1) {
            sh.debug(shell::debug_info, std::string("commands: \"") + argv[optind] + "\"\n");
            parsed = virtpp::cli::parse_string(virtpp::cli::command_table(), argv[optind], commands, report, trace);
        } else {
            std::vector<std::string> words(argv + optind, argv + argc);
            parsed = virtpp::cli::parse_argv(virtpp::cli::command_table(), words, commands, report, trace);
        }
        if (!parsed) return EXIT_FAILURE;
    }
    // a named connection must work at once; the default one waits for the first command needing it
    if (sh.connect_name && !sh.reconnect(std::nullopt, false, false)) {
        sh.report_last_error();
        return EXIT_FAILURE;
    }
    if (!sh.connect_name)
        if (const char* env = std::getenv("VIRSH_DEFAULT_CONNECT_URI"); env != nullptr) sh.connect_name = env;

    if (!sh.interactive) {
        bool ok = sh.run(commands);
        std::cout.flush();
        return ok ? EXIT_SUCCESS : EXIT_FAILURE;
    }

    if (!sh.quiet) {
        std::printf("Welcome to %s, the virtualization interactive terminal.\n\n", progname);
        std::printf("Type:  'help' for help with commands\n       'quit' to quit\n\n");
    }
    std::fflush(stdout);
    virtpp::cli::line_editor editor(stdin_tty);
    editor.set_completer([&sh](const std::string& line, std::size_t cursor) {
        return virtpp::cli::complete_line(sh, line, cursor);
    });
    // History across sessions, as virsh keeps it (readline's file under the user's cache
    // directory): $XDG_CACHE_HOME/virtpp/history, else ~/.cache/virtpp/history; the last
    // $VIRTPP_HISTSIZE entries (500 unless set; at most 100000) are kept.
    std::size_t history_size = 500;
    if (const char* env = std::getenv("VIRTPP_HISTSIZE"); env != nullptr) {
        char* end = nullptr;
        errno = 0;
        long n = std::strtol(env, &end, 10);
        if (end != env && *end == '\0' && errno == 0) {
            if (n < 0 || n > 100000) sh.error("Bad $VIRTPP_HISTSIZE value.");
            else history_size = static_cast<std::size_t>(n);
        }
    }
    std::string history_file;
    if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache != nullptr && *cache == '/') {
        history_file = std::string(cache) + "/virtpp/history";
    } else if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
        history_file = std::string(home) + "/.cache/virtpp/history";
    }
    if (!history_file.empty()) editor.load_history(history_file);
    bool eof = false;
    while (!sh.quit_requested) {
        std::optional<std::string> line = editor.read_line(sh.readonly ? "virtpp > " : "virtpp # ");
        if (!line) {
            eof = true;
            break;
        }
        if (!line->empty()) {
            editor.add_history(*line);
            sh.run_string(*line);
        }
        std::cout.flush();
    }
    // readline ends a non-terminal session with a newline either way
    if (eof || !stdin_tty) std::fputc('\n', stdout);
    std::fflush(stdout);
    if (!history_file.empty() && !editor.save_history(history_file, history_size))
        sh.error("Failed to save history to " + history_file + ": " + std::strerror(errno));
    return EXIT_SUCCESS;
}
