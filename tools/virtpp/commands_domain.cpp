// Domain management commands (virsh's "domain" group).
#include "command_util.hpp"
#include "job_watch.hpp"
#include "domain_strings.hpp"
#include "shell.hpp"

#include <climits>
#include <regex>

namespace virtpp::cli {

namespace {

bool cmd_domid(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd, nullptr, false, true, true);
    if (!dom) return false;
    sh.print(dom->id() < 0 ? std::string("-\n") : std::to_string(dom->id()) + "\n");
    return true;
}

bool cmd_domname(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd, nullptr, true, true, false);
    if (!dom) return false;
    sh.print(dom->name() + "\n");
    return true;
}

bool cmd_domuuid(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd, nullptr, true, false, true);
    if (!dom) return false;
    sh.print(dom->uuid_string() + "\n");
    return true;
}

bool cmd_dumpxml(shell& sh, const parsed_command& cmd) {
    unsigned flags = 0;
    if (cmd.has("inactive")) flags |= xml_flags::inactive;
    if (cmd.has("security-info")) flags |= xml_flags::secure;
    if (cmd.has("update-cpu")) flags |= xml_flags::update_cpu;
    if (cmd.has("migratable")) flags |= xml_flags::migratable;
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    if (cmd.has("xpath")) {
        sh.error("--xpath is not supported by virtpp");
        return false;
    }
    std::string xml = dom->xml_desc(flags);
    sh.print(xml);
    return true;
}

bool cmd_create(shell& sh, const parsed_command& cmd) {
    std::optional<std::string> from;
    if (!sh.opt_string(cmd, "file", from)) return false;
    if (cmd.has("console")) {
        sh.error("Console is not supported by virtpp");
        return false;
    }
    std::string xml;
    if (!sh.read_file(*from, xml)) return false;
    unsigned flags = 0;
    if (cmd.has("paused")) flags |= 1U << 0;
    if (cmd.has("autodestroy")) flags |= 1U << 1;
    if (cmd.has("validate")) flags |= 1U << 4;
    if (cmd.has("reset-nvram")) flags |= 1U << 5;
    std::optional<any_domain> dom;
    if (!attempt_call(sh, [&] { dom = sh.connection()->create_domain_xml(xml, flags); },
                 "Failed to create domain from " + *from))
        return false;
    sh.print_extra("Domain '" + dom->name() + "' created from " + *from + "\n");
    return true;
}

bool cmd_domxml_from_native(shell& sh, const parsed_command& cmd) {
    std::optional<std::string> format, file;
    if (!sh.opt_string(cmd, "format", format) || !sh.opt_string(cmd, "config", file)) return false;
    std::string config;
    if (!sh.read_file(*file, config)) return false;
    std::string xml;
    if (!attempt_call(sh, [&] { xml = sh.connection()->call<op::connect_domain_xml_from_native>({*format, config, 0}); }, ""))
        return false;
    sh.print(xml);
    return true;
}

bool cmd_domxml_to_native(shell& sh, const parsed_command& cmd) {
    if (!exclusive_options(sh, cmd, "domain", "xml")) return false;
    std::optional<std::string> format, file;
    if (!sh.opt_string(cmd, "format", format) || !sh.opt_string(cmd, "xml", file)) return false;
    std::string xml;
    if (cmd.has("domain")) {
        auto dom = sh.domain(cmd);
        if (!dom) return false;
        if (!attempt_call(sh, [&] { xml = dom->xml_desc(0); }, "")) return false;
    } else if (file) {
        if (!sh.read_file(*file, xml)) return false;
    } else {
        sh.error("need either domain or domain XML");
        return false;
    }
    std::string native;
    if (!attempt_call(sh, [&] { native = sh.connection()->call<op::connect_domain_xml_to_native>({*format, xml, 0}); }, ""))
        return false;
    sh.print(native);
    return true;
}

bool cmd_define(shell& sh, const parsed_command& cmd) {
    std::optional<std::string> from;
    if (!sh.opt_string(cmd, "file", from)) return false;
    std::string xml;
    if (!sh.read_file(*from, xml)) return false;
    // --validate: VIR_DOMAIN_DEFINE_VALIDATE, the driver checks the XML against the schema first
    const unsigned flags = cmd.has("validate") ? 1U << 0 : 0U;
    std::string name;
    if (!attempt_call(sh, [&] { name = sh.connection()->call<op::domain_define_xml>({xml, flags}).name; },
                      "Failed to define domain from " + *from))
        return false;
    sh.print_extra("Domain '" + name + "' defined from " + *from + "\n");
    return true;
}

bool cmd_undefine(shell& sh, const parsed_command& cmd) {
    if (cmd.has("wipe-storage") && !cmd.has("storage") && !cmd.has("remove-all-storage")) {
        sh.error("'--wipe-storage' requires '--storage <string>' or '--remove-all-storage'");
        return false;
    }
    unsigned flags = 0;
    if (cmd.has("managed-save")) flags |= 1U << 0;
    if (cmd.has("snapshots-metadata")) flags |= 1U << 1;
    if (cmd.has("nvram")) flags |= 1U << 2;
    if (cmd.has("keep-nvram")) flags |= 1U << 3;
    if (cmd.has("checkpoints-metadata")) flags |= 1U << 4;
    if (cmd.has("tpm")) flags |= 1U << 5;
    if (cmd.has("keep-tpm")) flags |= 1U << 6;
    std::string name;
    auto dom = sh.domain(cmd, &name);
    if (!dom) return false;
    if (!attempt_call(sh, [&] { dom->undefine(flags); }, "Failed to undefine domain '" + name + "'")) return false;
    sh.print_extra("Domain '" + name + "' has been undefined\n");
    return true;
}

bool cmd_start(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd, nullptr, false, true, true);
    if (!dom) return false;
    if (dom->is_active()) {
        sh.error("Domain is already active");
        return false;
    }
    if (cmd.has("console")) {
        sh.error("Console is not supported by virtpp");
        return false;
    }
    unsigned flags = 0;
    if (cmd.has("paused")) flags |= 1U << 0;
    if (cmd.has("autodestroy")) flags |= 1U << 1;
    if (cmd.has("bypass-cache")) flags |= 1U << 2;
    if (cmd.has("force-boot")) flags |= 1U << 3;
    if (cmd.has("reset-nvram")) flags |= 1U << 5;
    const std::string name = dom->name();
    if (!attempt_call(sh, [&] { dom->create(flags); }, "Failed to start domain '" + name + "'")) return false;
    sh.print_extra("Domain '" + name + "' started\n");
    return true;
}

/// --mode of shutdown and reboot: a comma-separated list of methods.
bool parse_mode(shell& sh, const parsed_command& cmd, unsigned& flags) {
    std::optional<std::string> mode;
    if (!sh.opt_string(cmd, "mode", mode)) return false;
    if (!mode) return true;
    std::size_t start = 0;
    for (;;) {
        std::size_t comma = mode->find(',', start);
        std::string m = mode->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (m == "acpi") flags |= 1U << 0;
        else if (m == "agent") flags |= 1U << 1;
        else if (m == "initctl") flags |= 1U << 2;
        else if (m == "signal") flags |= 1U << 3;
        else if (m == "paravirt") flags |= 1U << 4;
        else {
            sh.error("Unknown mode " + m + " value, expecting 'acpi', 'agent', 'initctl', 'signal', or 'paravirt'");
            return false;
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return true;
}

bool cmd_shutdown(shell& sh, const parsed_command& cmd) {
    unsigned flags = 0;
    if (!parse_mode(sh, cmd, flags)) return false;
    return domain_action(sh, cmd, "shutdown", "is being shutdown", [&](any_domain& d) { d.shutdown(flags); });
}

bool cmd_reboot(shell& sh, const parsed_command& cmd) {
    unsigned flags = 0;
    if (!parse_mode(sh, cmd, flags)) return false;
    return domain_action(sh, cmd, "reboot", "is being rebooted", [&](any_domain& d) { d.reboot(flags); });
}

bool cmd_destroy(shell& sh, const parsed_command& cmd) {
    unsigned flags = 0;
    if (cmd.has("graceful")) flags |= 1U << 0;
    if (cmd.has("remove-logs")) flags |= 1U << 1;
    return domain_action(sh, cmd, "destroy", "destroyed", [&](any_domain& d) { d.destroy(flags); });
}

bool cmd_suspend(shell& sh, const parsed_command& cmd) {
    return domain_action(sh, cmd, "suspend", "suspended", [](any_domain& d) { d.suspend(); });
}

bool cmd_resume(shell& sh, const parsed_command& cmd) {
    return domain_action(sh, cmd, "resume", "resumed", [](any_domain& d) { d.resume(); });
}

bool cmd_save(shell& sh, const parsed_command& cmd) {
    std::string name;
    auto dom = sh.domain(cmd, &name);
    if (!dom) return false;
    std::optional<std::string> to, xml;
    if (!sh.opt_string(cmd, "file", to)) return false;
    if (!sh.opt_string(cmd, "xml", xml)) return false;
    if (xml) {
        sh.error("--xml is not supported by virtpp");
        return false;
    }
    if (!watch_job(sh, *dom, cmd.has("verbose"), "Save", [&] { dom->save(*to); })) {
        sh.error("Failed to save domain '" + name + "' to " + *to);
        return false;
    }
    sh.print_extra("\nDomain '" + name + "' saved to " + *to + "\n");
    return true;
}

bool cmd_restore(shell& sh, const parsed_command& cmd) {
    std::optional<std::string> from, xml;
    if (!sh.opt_string(cmd, "file", from)) return false;
    if (!sh.opt_string(cmd, "xml", xml)) return false;
    if (xml) {
        sh.error("--xml is not supported by virtpp");
        return false;
    }
    if (!attempt_call(sh, [&] { sh.connection()->restore_domain(*from); }, "Failed to restore domain from " + *from))
        return false;
    sh.print_extra("Domain restored from " + *from + "\n");
    return true;
}

bool cmd_dump(shell& sh, const parsed_command& cmd) {
    std::string name;
    auto dom = sh.domain(cmd, &name);
    if (!dom) return false;
    std::optional<std::string> to, format;
    if (!sh.opt_string(cmd, "file", to)) return false;
    unsigned flags = 0;
    if (cmd.has("live")) flags |= 1U << 1;
    if (cmd.has("crash")) flags |= 1U << 0;
    if (cmd.has("bypass-cache")) flags |= 1U << 2;
    if (cmd.has("reset")) flags |= 1U << 3;
    if (cmd.has("memory-only")) flags |= 1U << 4;
    if (!watch_job(sh, *dom, cmd.has("verbose"), "Dump", [&] { dom->core_dump(*to, flags); })) {
        sh.error("Failed to core dump domain '" + name + "' to " + *to);
        return false;
    }
    sh.print_extra("\nDomain '" + name + "' dumped to " + *to + "\n");
    return true;
}

/// --config / --live / --current as virsh combines them; false after a conflict.
bool affect_flags(shell& sh, const parsed_command& cmd, unsigned& flags) {
    if (!exclusive_options(sh, cmd, "current", "live") || !exclusive_options(sh, cmd, "current", "config")) return false;
    flags = 0;
    if (cmd.has("config")) flags |= affect::config;
    if (cmd.has("live")) flags |= affect::live;
    return true;
}

bool cmd_setmem(shell& sh, const parsed_command& cmd) {
    unsigned flags = 0;
    if (!affect_flags(sh, cmd, flags)) return false;
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::optional<std::uint64_t> bytes;
    if (!sh.opt_scaled(cmd, "size", bytes, 1024, ULONG_MAX)) return false;
    dom->set_memory((*bytes + 1023) / 1024, flags);
    return true;
}

bool cmd_setmaxmem(shell& sh, const parsed_command& cmd) {
    unsigned flags = 0;
    if (!affect_flags(sh, cmd, flags)) return false;
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::optional<std::uint64_t> bytes;
    if (!sh.opt_scaled(cmd, "size", bytes, 1024, ULONG_MAX)) return false;
    return attempt_call(sh, [&] { dom->set_memory((*bytes + 1023) / 1024, flags | affect::maximum); },
                   "Unable to change MaxMemorySize");
}

bool cmd_setvcpus(shell& sh, const parsed_command& cmd) {
    const bool maximum = cmd.has("maximum"), config = cmd.has("config"), live = cmd.has("live"),
               current = cmd.has("current"), guest = cmd.has("guest");
    if (!exclusive_options(sh, cmd, "current", "live") || !exclusive_options(sh, cmd, "current", "config") ||
        !exclusive_options(sh, cmd, "guest", "config"))
        return false;
    if (maximum && !config) {
        sh.error("Option --maximum is required by option --config");
        return false;
    }
    unsigned flags = 0;
    if (config) flags |= affect::config;
    if (live) flags |= affect::live;
    if (guest) flags |= 1U << 3;
    if (maximum) flags |= affect::maximum;
    if (cmd.has("hotpluggable")) flags |= 1U << 4;
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::optional<unsigned> count;
    if (!sh.opt_uint(cmd, "count", count)) return false;
    if (*count == 0) {
        sh.error("Can't set 0 processors for a VM");
        return false;
    }
    dom->set_vcpus(*count, (!current && flags == 0) ? affect::live : flags);
    return true;
}

bool cmd_autostart(shell& sh, const parsed_command& cmd) {
    std::string name;
    auto dom = sh.domain(cmd, &name);
    if (!dom) return false;
    const bool on = !cmd.has("disable");
    if (!attempt_call(sh, [&] { dom->set_autostart(on); },
                 on ? "Failed to mark domain '" + name + "' as autostarted"
                    : "Failed to unmark domain '" + name + "' as autostarted"))
        return false;
    sh.print_extra(on ? "Domain '" + name + "' marked as autostarted\n" : "Domain '" + name + "' unmarked as autostarted\n");
    return true;
}

bool device_command(shell& sh, const parsed_command& cmd, bool attach) {
    const bool config = cmd.has("config"), live = cmd.has("live"), persistent = cmd.has("persistent");
    if (!exclusive_options(sh, cmd, "persistent", "current") || !exclusive_options(sh, cmd, "current", "live") ||
        !exclusive_options(sh, cmd, "current", "config"))
        return false;
    unsigned flags = 0;
    if (config || persistent) flags |= affect::config;
    if (live) flags |= affect::live;
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    if (persistent && dom->is_active()) flags |= affect::live;
    std::optional<std::string> from;
    if (!sh.opt_string(cmd, "file", from)) return false;
    std::string xml;
    if (!sh.read_file(*from, xml)) return false;
    if (attach) {
        if (!attempt_call(sh, [&] { dom->attach_device(xml, hotplug_flags(flags, cmd.has("current"))); },
                     "Failed to attach device from " + *from))
            return false;
        sh.print_extra("Device attached successfully\n");
    } else {
        if (!attempt_call(sh, [&] { dom->detach_device(xml, hotplug_flags(flags, cmd.has("current"))); },
                     "Failed to detach device from " + *from))
            return false;
        sh.print_extra("Device detached successfully\n");
    }
    return true;
}

bool cmd_attach_device(shell& sh, const parsed_command& cmd) { return device_command(sh, cmd, true); }
bool cmd_detach_device(shell& sh, const parsed_command& cmd) { return device_command(sh, cmd, false); }

bool cmd_ttyconsole(shell& sh, const parsed_command& cmd) {
    auto dom = sh.domain(cmd);
    if (!dom) return false;
    std::string xml = dom->xml_desc(0);
    static const std::regex console_tty(R"(<console\b[^>]*\btty=['"]([^'"]*)['"])");
    std::smatch m;
    if (!std::regex_search(xml, m, console_tty)) return false;
    sh.print(m[1].str() + "\n");
    return true;
}

constexpr handler_entry handlers[] = {
    {"domid", cmd_domid},
    {"domname", cmd_domname},
    {"domuuid", cmd_domuuid},
    {"dumpxml", cmd_dumpxml},
    {"domxml-from-native", cmd_domxml_from_native},
    {"domxml-to-native", cmd_domxml_to_native},
    {"create", cmd_create},
    {"define", cmd_define},
    {"undefine", cmd_undefine},
    {"start", cmd_start},
    {"shutdown", cmd_shutdown},
    {"reboot", cmd_reboot},
    {"destroy", cmd_destroy},
    {"suspend", cmd_suspend},
    {"resume", cmd_resume},
    {"save", cmd_save},
    {"restore", cmd_restore},
    {"dump", cmd_dump},
    {"setmem", cmd_setmem},
    {"setmaxmem", cmd_setmaxmem},
    {"setvcpus", cmd_setvcpus},
    {"autostart", cmd_autostart},
    {"attach-device", cmd_attach_device},
    {"detach-device", cmd_detach_device},
    {"ttyconsole", cmd_ttyconsole},
};

}  // namespace

std::span<const handler_entry> domain_handlers() { return handlers; }

}  // namespace virtpp::cli
