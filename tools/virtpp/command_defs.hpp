// virsh 9.0's definitions of the commands virtpp implements: option names, types, flags and
// help texts, in virsh's order (help output and option parsing must match virsh byte for byte).
// Generated once from virsh's command tables; edit by hand from here on.
#pragma once

#include "command_def.hpp"

namespace virtpp::cli::defs {

inline constexpr option_def opts_attach_device[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"file", opt_type::data, opt_flag::required, "XML file"},
    {"persistent", opt_type::boolean, 0, "make live change persistent"},
    {"config", opt_type::boolean, 0, "affect next boot"},
    {"live", opt_type::boolean, 0, "affect running domain"},
    {"current", opt_type::boolean, 0, "affect current domain"},
};
inline constexpr option_def opts_attach_disk[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"source", opt_type::data, opt_flag::required | opt_flag::empty_ok, "source of disk device or name of network disk"},
    {"target", opt_type::data, opt_flag::required, "target of disk device"},
    {"targetbus", opt_type::string, 0, "target bus of disk device"},
    {"driver", opt_type::string, 0, "driver of disk device"},
    {"subdriver", opt_type::string, 0, "subdriver of disk device"},
    {"iothread", opt_type::string, 0, "IOThread to be used by supported device"},
    {"cache", opt_type::string, 0, "cache mode of disk device"},
    {"io", opt_type::string, 0, "io policy of disk device"},
    {"type", opt_type::string, 0, "target device type"},
    {"shareable", opt_type::alias, 0, "mode=shareable"},
    {"mode", opt_type::string, 0, "mode of device reading and writing"},
    {"sourcetype", opt_type::string, 0, "type of source (block|file|network)"},
    {"serial", opt_type::string, 0, "serial of disk device"},
    {"wwn", opt_type::string, 0, "wwn of disk device"},
    {"alias", opt_type::string, 0, "custom alias name of disk device"},
    {"rawio", opt_type::boolean, 0, "needs rawio capability"},
    {"address", opt_type::string, 0, "address of disk device"},
    {"multifunction", opt_type::boolean, 0, "use multifunction pci under specified address"},
    {"print-xml", opt_type::boolean, 0, "print XML document rather than attach the disk"},
    {"source-protocol", opt_type::string, 0, "protocol used by disk device source"},
    {"source-host-name", opt_type::string, 0, "host name for source of disk device"},
    {"source-host-transport", opt_type::string, 0, "host transport for source of disk device"},
    {"source-host-socket", opt_type::string, 0, "host socket for source of disk device"},
    {"persistent", opt_type::boolean, 0, "make live change persistent"},
    {"config", opt_type::boolean, 0, "affect next boot"},
    {"live", opt_type::boolean, 0, "affect running domain"},
    {"current", opt_type::boolean, 0, "affect current domain"},
};
inline constexpr option_def opts_attach_interface[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"type", opt_type::data, opt_flag::required, "network interface type"},
    {"source", opt_type::data, opt_flag::required, "source of network interface"},
    {"target", opt_type::string, 0, "target network name"},
    {"mac", opt_type::string, 0, "MAC address"},
    {"script", opt_type::string, 0, "script used to bridge network interface"},
    {"model", opt_type::string, 0, "model type"},
    {"alias", opt_type::string, 0, "custom alias name of interface device"},
    {"inbound", opt_type::string, 0, "control domain's incoming traffics"},
    {"outbound", opt_type::string, 0, "control domain's outgoing traffics"},
    {"persistent", opt_type::boolean, 0, "make live change persistent"},
    {"config", opt_type::boolean, 0, "affect next boot"},
    {"live", opt_type::boolean, 0, "affect running domain"},
    {"current", opt_type::boolean, 0, "affect current domain"},
    {"print-xml", opt_type::boolean, 0, "print XML document rather than attach the interface"},
    {"managed", opt_type::boolean, 0, "libvirt will automatically detach/attach the device from/to host"},
    {"source-mode", opt_type::string, 0, "mode attribute of <source/> element"},
};
inline constexpr option_def opts_detach_disk[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"target", opt_type::data, opt_flag::required, "target of disk device"},
    {"persistent", opt_type::boolean, 0, "make live change persistent"},
    {"config", opt_type::boolean, 0, "affect next boot"},
    {"live", opt_type::boolean, 0, "affect running domain"},
    {"current", opt_type::boolean, 0, "affect current domain"},
    {"print-xml", opt_type::boolean, 0, "print XML document rather than detach the disk"},
};
inline constexpr option_def opts_detach_interface[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"type", opt_type::data, opt_flag::required, "network interface type"},
    {"mac", opt_type::string, 0, "MAC address"},
    {"persistent", opt_type::boolean, 0, "make live change persistent"},
    {"config", opt_type::boolean, 0, "affect next boot"},
    {"live", opt_type::boolean, 0, "affect running domain"},
    {"current", opt_type::boolean, 0, "affect current domain"},
    {"print-xml", opt_type::boolean, 0, "print XML document rather than detach the interface"},
};
inline constexpr option_def opts_migrate[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"desturi", opt_type::data, opt_flag::required, "connection URI of the destination host as seen from the client(normal migration) or source(p2p migration)"},
    {"live", opt_type::boolean, 0, "live migration"},
    {"offline", opt_type::boolean, 0, "offline migration"},
    {"p2p", opt_type::boolean, 0, "peer-2-peer migration"},
    {"direct", opt_type::boolean, 0, "direct migration"},
    {"tunneled", opt_type::alias, 0, "tunnelled"},
    {"tunnelled", opt_type::boolean, 0, "tunnelled migration"},
    {"persistent", opt_type::boolean, 0, "persist VM on destination"},
    {"undefinesource", opt_type::boolean, 0, "undefine VM on source"},
    {"suspend", opt_type::boolean, 0, "do not restart the domain on the destination host"},
    {"copy-storage-all", opt_type::boolean, 0, "migration with non-shared storage with full disk copy"},
    {"copy-storage-inc", opt_type::boolean, 0, "migration with non-shared storage with incremental copy (same base image shared between source and destination)"},
    {"copy-storage-synchronous-writes", opt_type::boolean, 0, "force guest disk writes to be synchronously written to the destination to improve storage migration convergence"},
    {"change-protection", opt_type::boolean, 0, "prevent any configuration changes to domain until migration ends"},
    {"unsafe", opt_type::boolean, 0, "force migration even if it may be unsafe"},
    {"verbose", opt_type::boolean, 0, "display the progress of migration"},
    {"compressed", opt_type::boolean, 0, "compress repeated pages during live migration"},
    {"auto-converge", opt_type::boolean, 0, "force convergence during live migration"},
    {"rdma-pin-all", opt_type::boolean, 0, "pin all memory before starting RDMA live migration"},
    {"abort-on-error", opt_type::boolean, 0, "abort on soft errors during migration"},
    {"postcopy", opt_type::boolean, 0, "enable post-copy migration; switch to it using migrate-postcopy command"},
    {"postcopy-after-precopy", opt_type::boolean, 0, "automatically switch to post-copy migration after one pass of pre-copy"},
    {"postcopy-resume", opt_type::boolean, 0, "resume failed post-copy migration"},
    {"zerocopy", opt_type::boolean, 0, "use zero-copy mechanism for migrating memory pages"},
    {"migrateuri", opt_type::string, 0, "migration URI, usually can be omitted"},
    {"graphicsuri", opt_type::string, 0, "graphics URI to be used for seamless graphics migration"},
    {"listen-address", opt_type::string, 0, "listen address that destination should bind to for incoming migration"},
    {"dname", opt_type::string, 0, "rename to new name during migration (if supported)"},
    {"timeout", opt_type::integer, 0, "run action specified by --timeout-* option (suspend by default) if live migration exceeds timeout (in seconds)"},
    {"timeout-suspend", opt_type::boolean, 0, "suspend the guest after timeout"},
    {"timeout-postcopy", opt_type::boolean, 0, "switch to post-copy after timeout"},
    {"xml", opt_type::string, 0, "filename containing updated XML for the target"},
    {"migrate-disks", opt_type::string, 0, "comma separated list of disks to be migrated"},
    {"disks-port", opt_type::integer, 0, "port to use by target server for incoming disks migration"},
    {"disks-uri", opt_type::string, 0, "URI to use for disks migration (overrides --disks-port)"},
    {"comp-methods", opt_type::string, 0, "comma separated list of compression methods to be used"},
    {"comp-mt-level", opt_type::integer, 0, "compress level for multithread compression"},
    {"comp-mt-threads", opt_type::integer, 0, "number of compression threads for multithread compression"},
    {"comp-mt-dthreads", opt_type::integer, 0, "number of decompression threads for multithread compression"},
    {"comp-xbzrle-cache", opt_type::integer, 0, "page cache size for xbzrle compression"},
    {"auto-converge-initial", opt_type::integer, 0, "initial CPU throttling rate for auto-convergence"},
    {"auto-converge-increment", opt_type::integer, 0, "CPU throttling rate increment for auto-convergence"},
    {"persistent-xml", opt_type::string, 0, "filename containing updated persistent XML for the target"},
    {"tls", opt_type::boolean, 0, "use TLS for migration"},
    {"postcopy-bandwidth", opt_type::integer, 0, "post-copy migration bandwidth limit in MiB/s"},
    {"parallel", opt_type::boolean, 0, "enable parallel migration"},
    {"parallel-connections", opt_type::integer, 0, "number of connections for parallel migration"},
    {"bandwidth", opt_type::integer, 0, "migration bandwidth limit in MiB/s"},
    {"tls-destination", opt_type::string, 0, "override the destination host name used for TLS verification"},
};
inline constexpr option_def opts_vcpupin[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"vcpu", opt_type::integer, 0, "vcpu number"},
    {"cpulist", opt_type::string, opt_flag::empty_ok, "host cpu number(s) to set, or omit option to query"},
    {"config", opt_type::boolean, 0, "affect next boot"},
    {"live", opt_type::boolean, 0, "affect running domain"},
    {"current", opt_type::boolean, 0, "affect current domain"},
};
inline constexpr option_def opts_schedinfo[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"weight", opt_type::integer, opt_flag::required_name, "weight for XEN_CREDIT"},
    {"cap", opt_type::integer, opt_flag::required_name, "cap for XEN_CREDIT"},
    {"current", opt_type::boolean, 0, "get/set current scheduler info"},
    {"config", opt_type::boolean, 0, "get/set value to be used on next boot"},
    {"live", opt_type::boolean, 0, "get/set value from running domain"},
    {"set", opt_type::argv, 0, "parameter=value"},
};
inline constexpr option_def opts_autostart[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"disable", opt_type::boolean, 0, "disable autostarting"},
};
inline constexpr option_def opts_console[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"devname", opt_type::string, 0, "character device name"},
    {"force", opt_type::boolean, 0, "force console connection (disconnect already connected sessions)"},
    {"safe", opt_type::boolean, 0, "only connect if safe console handling is supported"},
};
inline constexpr option_def opts_screenshot[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"file", opt_type::string, 0, "where to store the screenshot"},
    {"screen", opt_type::integer, 0, "ID of a screen to take screenshot of"},
};
inline constexpr option_def opts_create[] = {
    {"file", opt_type::data, opt_flag::required, "file containing an XML domain description"},
    {"console", opt_type::boolean, 0, "attach to console after creation"},
    {"paused", opt_type::boolean, 0, "leave the guest paused after creation"},
    {"autodestroy", opt_type::boolean, 0, "automatically destroy the guest when virsh disconnects"},
    {"pass-fds", opt_type::string, 0, "pass file descriptors N,M,... to the guest"},
    {"validate", opt_type::boolean, 0, "validate the XML against the schema"},
    {"reset-nvram", opt_type::boolean, 0, "re-initialize NVRAM from its pristine template"},
};
inline constexpr option_def opts_define[] = {
    {"file", opt_type::data, opt_flag::required, "file containing an XML domain description"},
    {"validate", opt_type::boolean, 0, "validate the XML against the schema"},
};
inline constexpr option_def opts_destroy[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"graceful", opt_type::boolean, 0, "terminate gracefully"},
    {"remove-logs", opt_type::boolean, 0, "remove domain logs"},
};
inline constexpr option_def opts_detach_device[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"file", opt_type::data, opt_flag::required, "XML file"},
    {"persistent", opt_type::boolean, 0, "make live change persistent"},
    {"config", opt_type::boolean, 0, "affect next boot"},
    {"live", opt_type::boolean, 0, "affect running domain"},
    {"current", opt_type::boolean, 0, "affect current domain"},
};
inline constexpr option_def opts_domid[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name or uuid"},
};
inline constexpr option_def opts_domname[] = {
    {"domain", opt_type::data, opt_flag::required, "domain id or uuid"},
};
inline constexpr option_def opts_domjobabort[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"postcopy", opt_type::boolean, 0, "interrupt post-copy migration"},
};
inline constexpr option_def opts_domjobinfo[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"completed", opt_type::boolean, 0, "return statistics of a recently completed job"},
    {"keep-completed", opt_type::boolean, 0, "don't destroy statistics of a recently completed job when reading"},
    {"anystats", opt_type::boolean, 0, "print statistics for any kind of job (even failed ones)"},
    {"rawstats", opt_type::boolean, 0, "print the raw data returned by libvirt"},
};
inline constexpr option_def opts_domuuid[] = {
    {"domain", opt_type::data, opt_flag::required, "domain id or name"},
};
inline constexpr option_def opts_dump[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"file", opt_type::data, opt_flag::required, "where to dump the core"},
    {"live", opt_type::boolean, 0, "perform a live core dump if supported"},
    {"crash", opt_type::boolean, 0, "crash the domain after core dump"},
    {"bypass-cache", opt_type::boolean, 0, "avoid file system cache when dumping"},
    {"reset", opt_type::boolean, 0, "reset the domain after core dump"},
    {"verbose", opt_type::boolean, 0, "display the progress of dump"},
    {"memory-only", opt_type::boolean, 0, "dump domain's memory only"},
    {"format", opt_type::string, 0, "specify the format of memory-only dump"},
};
inline constexpr option_def opts_domxml_from_native[] = {
    {"format", opt_type::data, opt_flag::required, "source config data format"},
    {"config", opt_type::data, opt_flag::required, "config data file to import from"},
};
inline constexpr option_def opts_domxml_to_native[] = {
    {"format", opt_type::data, opt_flag::required, "target config data type format"},
    {"domain", opt_type::string, opt_flag::required_name, "domain name, id or uuid"},
    {"xml", opt_type::string, 0, "xml data file to export from"},
};
inline constexpr option_def opts_dumpxml[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"inactive", opt_type::boolean, 0, "show inactive defined XML"},
    {"security-info", opt_type::boolean, 0, "include security sensitive information in XML dump"},
    {"update-cpu", opt_type::boolean, 0, "update guest CPU according to host CPU"},
    {"migratable", opt_type::boolean, 0, "provide XML suitable for migrations"},
    {"xpath", opt_type::string, opt_flag::required_name, "xpath expression to filter the XML document"},
    {"wrap", opt_type::boolean, 0, "wrap xpath results in an common root element"},
};
inline constexpr option_def opts_reboot[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"mode", opt_type::string, 0, "shutdown mode: acpi|agent|initctl|signal|paravirt"},
};
inline constexpr option_def opts_restore[] = {
    {"file", opt_type::data, opt_flag::required, "the state to restore"},
    {"bypass-cache", opt_type::boolean, 0, "avoid file system cache when restoring"},
    {"xml", opt_type::string, 0, "filename containing updated XML for the target"},
    {"running", opt_type::boolean, 0, "restore domain into running state"},
    {"paused", opt_type::boolean, 0, "restore domain into paused state"},
    {"reset-nvram", opt_type::boolean, 0, "re-initialize NVRAM from its pristine template"},
};
inline constexpr option_def opts_resume[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
};
inline constexpr option_def opts_save[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"file", opt_type::data, opt_flag::required, "where to save the data"},
    {"bypass-cache", opt_type::boolean, 0, "avoid file system cache when saving"},
    {"xml", opt_type::string, 0, "filename containing updated XML for the target"},
    {"running", opt_type::boolean, 0, "set domain to be running on restore"},
    {"paused", opt_type::boolean, 0, "set domain to be paused on restore"},
    {"verbose", opt_type::boolean, 0, "display the progress of save"},
};
inline constexpr option_def opts_setmaxmem[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"kilobytes", opt_type::alias, 0, "size"},
    {"size", opt_type::integer, opt_flag::required, "new maximum memory size, as scaled integer (default KiB)"},
    {"config", opt_type::boolean, 0, "affect next boot"},
    {"live", opt_type::boolean, 0, "affect running domain"},
    {"current", opt_type::boolean, 0, "affect current domain"},
};
inline constexpr option_def opts_setmem[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"kilobytes", opt_type::alias, 0, "size"},
    {"size", opt_type::integer, opt_flag::required, "new memory size, as scaled integer (default KiB)"},
    {"config", opt_type::boolean, 0, "affect next boot"},
    {"live", opt_type::boolean, 0, "affect running domain"},
    {"current", opt_type::boolean, 0, "affect current domain"},
};
inline constexpr option_def opts_setvcpus[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"count", opt_type::integer, opt_flag::required, "number of virtual CPUs"},
    {"maximum", opt_type::boolean, 0, "set maximum limit on next boot"},
    {"config", opt_type::boolean, 0, "affect next boot"},
    {"live", opt_type::boolean, 0, "affect running domain"},
    {"current", opt_type::boolean, 0, "affect current domain"},
    {"guest", opt_type::boolean, 0, "modify cpu state in the guest"},
    {"hotpluggable", opt_type::boolean, 0, "make added vcpus hot(un)pluggable"},
};
inline constexpr option_def opts_shutdown[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"mode", opt_type::string, 0, "shutdown mode: acpi|agent|initctl|signal|paravirt"},
};
inline constexpr option_def opts_start[] = {
    {"domain", opt_type::data, opt_flag::required, "name of the inactive domain"},
    {"console", opt_type::boolean, 0, "attach to console after creation"},
    {"paused", opt_type::boolean, 0, "leave the guest paused after creation"},
    {"autodestroy", opt_type::boolean, 0, "automatically destroy the guest when virsh disconnects"},
    {"bypass-cache", opt_type::boolean, 0, "avoid file system cache when loading"},
    {"force-boot", opt_type::boolean, 0, "force fresh boot by discarding any managed save"},
    {"pass-fds", opt_type::string, 0, "pass file descriptors N,M,... to the guest"},
    {"reset-nvram", opt_type::boolean, 0, "re-initialize NVRAM from its pristine template"},
};
inline constexpr option_def opts_suspend[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
};
inline constexpr option_def opts_ttyconsole[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
};
inline constexpr option_def opts_undefine[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"managed-save", opt_type::boolean, 0, "remove domain managed state file"},
    {"storage", opt_type::string, 0, "remove associated storage volumes (comma separated list of targets or source paths) (see domblklist)"},
    {"remove-all-storage", opt_type::boolean, 0, "remove all associated storage volumes (use with caution)"},
    {"delete-snapshots", opt_type::alias, 0, "delete-storage-volume-snapshots"},
    {"delete-storage-volume-snapshots", opt_type::boolean, 0, "delete snapshots associated with volume(s), requires --remove-all-storage (must be supported by storage driver)"},
    {"wipe-storage", opt_type::boolean, 0, "wipe data on the removed volumes"},
    {"snapshots-metadata", opt_type::boolean, 0, "remove all domain snapshot metadata (vm must be inactive)"},
    {"checkpoints-metadata", opt_type::boolean, 0, "remove all domain checkpoint metadata (vm must be inactive)"},
    {"nvram", opt_type::boolean, 0, "remove nvram file"},
    {"keep-nvram", opt_type::boolean, 0, "keep nvram file"},
    {"tpm", opt_type::boolean, 0, "remove TPM state"},
    {"keep-tpm", opt_type::boolean, 0, "keep TPM state"},
};
inline constexpr option_def opts_vcpuinfo[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"pretty", opt_type::boolean, 0, "return human readable output"},
};
inline constexpr option_def opts_domblkstat[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"device", opt_type::string, opt_flag::empty_ok, "block device"},
    {"human", opt_type::boolean, 0, "print a more human readable output"},
};
inline constexpr option_def opts_domifstat[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"interface", opt_type::data, opt_flag::required, "interface device specified by name or MAC Address"},
};
inline constexpr option_def opts_dominfo[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
};
inline constexpr option_def opts_event[] = {
    {"domain", opt_type::string, 0, "filter by domain name, id or uuid"},
    {"event", opt_type::string, 0, "which event type to wait for"},
    {"all", opt_type::boolean, 0, "wait for all events instead of just one type"},
    {"loop", opt_type::boolean, 0, "loop until timeout or interrupt, rather than one-shot"},
    {"timeout", opt_type::integer, 0, "timeout seconds"},
    {"list", opt_type::boolean, 0, "list valid event types"},
    {"timestamp", opt_type::boolean, 0, "show timestamp for each printed event"},
};
inline constexpr option_def opts_net_event[] = {
    {"network", opt_type::string, 0, "filter by network name or uuid"},
    {"event", opt_type::string, 0, "which event type to wait for"},
    {"loop", opt_type::boolean, 0, "loop until timeout or interrupt, rather than one-shot"},
    {"timeout", opt_type::integer, 0, "timeout seconds"},
    {"list", opt_type::boolean, 0, "list valid event types"},
    {"timestamp", opt_type::boolean, 0, "show timestamp for each printed event"},
};
inline constexpr option_def opts_domstats[] = {
    {"state", opt_type::boolean, 0, "report domain state"},
    {"cpu-total", opt_type::boolean, 0, "report domain physical cpu usage"},
    {"balloon", opt_type::boolean, 0, "report domain balloon statistics"},
    {"vcpu", opt_type::boolean, 0, "report domain virtual cpu information"},
    {"interface", opt_type::boolean, 0, "report domain network interface information"},
    {"block", opt_type::boolean, 0, "report domain block device statistics"},
    {"perf", opt_type::boolean, 0, "report domain perf event statistics"},
    {"iothread", opt_type::boolean, 0, "report domain IOThread information"},
    {"memory", opt_type::boolean, 0, "report domain memory usage"},
    {"dirtyrate", opt_type::boolean, 0, "report domain dirty rate information"},
    {"vm", opt_type::boolean, 0, "report hypervisor-specific statistics"},
    {"list-active", opt_type::boolean, 0, "list only active domains"},
    {"list-inactive", opt_type::boolean, 0, "list only inactive domains"},
    {"list-persistent", opt_type::boolean, 0, "list only persistent domains"},
    {"list-transient", opt_type::boolean, 0, "list only transient domains"},
    {"list-running", opt_type::boolean, 0, "list only running domains"},
    {"list-paused", opt_type::boolean, 0, "list only paused domains"},
    {"list-shutoff", opt_type::boolean, 0, "list only shutoff domains"},
    {"list-other", opt_type::boolean, 0, "list only domains in other states"},
    {"raw", opt_type::boolean, 0, "do not pretty-print the fields"},
    {"enforce", opt_type::boolean, 0, "enforce requested stats parameters"},
    {"backing", opt_type::boolean, 0, "add backing chain information to block stats"},
    {"nowait", opt_type::boolean, 0, "report only stats that are accessible instantly"},
    {"domain", opt_type::argv, 0, "list of domains to get stats for"},
};
inline constexpr option_def opts_domstate[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"reason", opt_type::boolean, 0, "also print reason for the state"},
};
inline constexpr option_def opts_list[] = {
    {"inactive", opt_type::boolean, 0, "list inactive domains"},
    {"all", opt_type::boolean, 0, "list inactive & active domains"},
    {"transient", opt_type::boolean, 0, "list transient domains"},
    {"persistent", opt_type::boolean, 0, "list persistent domains"},
    {"with-snapshot", opt_type::boolean, 0, "list domains with existing snapshot"},
    {"without-snapshot", opt_type::boolean, 0, "list domains without a snapshot"},
    {"with-checkpoint", opt_type::boolean, 0, "list domains with existing checkpoint"},
    {"without-checkpoint", opt_type::boolean, 0, "list domains without a checkpoint"},
    {"state-running", opt_type::boolean, 0, "list domains in running state"},
    {"state-paused", opt_type::boolean, 0, "list domains in paused state"},
    {"state-shutoff", opt_type::boolean, 0, "list domains in shutoff state"},
    {"state-other", opt_type::boolean, 0, "list domains in other states"},
    {"autostart", opt_type::boolean, 0, "list domains with autostart enabled"},
    {"no-autostart", opt_type::boolean, 0, "list domains with autostart disabled"},
    {"with-managed-save", opt_type::boolean, 0, "list domains with managed save state"},
    {"without-managed-save", opt_type::boolean, 0, "list domains without managed save"},
    {"uuid", opt_type::boolean, 0, "list uuid's only"},
    {"name", opt_type::boolean, 0, "list domain names only"},
    {"id", opt_type::boolean, 0, "list domain IDs only"},
    {"table", opt_type::boolean, 0, "list table (default)"},
    {"managed-save", opt_type::boolean, 0, "mark inactive domains with managed save state"},
    {"title", opt_type::boolean, 0, "show domain title"},
};
inline constexpr option_def opts_version[] = {
    {"daemon", opt_type::boolean, 0, "report daemon version too"},
};
inline constexpr option_def opts_net_autostart[] = {
    {"network", opt_type::data, opt_flag::required, "network name or uuid"},
    {"disable", opt_type::boolean, 0, "disable autostarting"},
};
inline constexpr option_def opts_net_create[] = {
    {"file", opt_type::data, opt_flag::required, "file containing an XML network description"},
    {"validate", opt_type::boolean, 0, "validate the XML against the schema"},
};
inline constexpr option_def opts_net_define[] = {
    {"file", opt_type::data, opt_flag::required, "file containing an XML network description"},
    {"validate", opt_type::boolean, 0, "validate the XML against the schema"},
};
inline constexpr option_def opts_net_destroy[] = {
    {"network", opt_type::data, opt_flag::required, "network name or uuid"},
};
inline constexpr option_def opts_net_dumpxml[] = {
    {"network", opt_type::data, opt_flag::required, "network name or uuid"},
    {"inactive", opt_type::boolean, 0, "show inactive defined XML"},
    {"xpath", opt_type::string, opt_flag::required_name, "xpath expression to filter the XML document"},
    {"wrap", opt_type::boolean, 0, "wrap xpath results in an common root element"},
};
inline constexpr option_def opts_net_info[] = {
    {"network", opt_type::data, opt_flag::required, "network name or uuid"},
};
inline constexpr option_def opts_net_list[] = {
    {"inactive", opt_type::boolean, 0, "list inactive networks"},
    {"all", opt_type::boolean, 0, "list inactive & active networks"},
    {"persistent", opt_type::boolean, 0, "list persistent networks"},
    {"transient", opt_type::boolean, 0, "list transient networks"},
    {"autostart", opt_type::boolean, 0, "list networks with autostart enabled"},
    {"no-autostart", opt_type::boolean, 0, "list networks with autostart disabled"},
    {"uuid", opt_type::boolean, 0, "list uuid's only"},
    {"name", opt_type::boolean, 0, "list network names only"},
    {"table", opt_type::boolean, 0, "list table (default)"},
};
inline constexpr option_def opts_net_name[] = {
    {"network", opt_type::data, opt_flag::required, "network uuid"},
};
inline constexpr option_def opts_net_start[] = {
    {"network", opt_type::data, opt_flag::required, "network name or uuid"},
};
inline constexpr option_def opts_net_undefine[] = {
    {"network", opt_type::data, opt_flag::required, "network name or uuid"},
};
inline constexpr option_def opts_net_uuid[] = {
    {"network", opt_type::data, opt_flag::required, "network name"},
};
inline constexpr option_def opts_net_update[] = {
    {"network", opt_type::data, opt_flag::required, "network name or uuid"},
    {"command", opt_type::data, opt_flag::required, "type of update (add-first, add-last (add), delete, or modify)"},
    {"section", opt_type::data, opt_flag::required, "which section of network configuration to update"},
    {"xml", opt_type::data, opt_flag::required, "name of file containing xml (or, if it starts with '<', the complete xml element itself) to add/modify, or to be matched for search"},
    {"parent-index", opt_type::integer, 0, "which parent object to search through"},
    {"config", opt_type::boolean, 0, "affect next network startup"},
    {"live", opt_type::boolean, 0, "affect running network"},
    {"current", opt_type::boolean, 0, "affect current state of network"},
};
inline constexpr option_def opts_net_dhcp_leases[] = {
    {"network", opt_type::data, opt_flag::required, "network name or uuid"},
    {"mac", opt_type::string, 0, "MAC address"},
};
inline constexpr option_def opts_domifaddr[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"interface", opt_type::string, 0, "network interface name"},
    {"full", opt_type::boolean, 0, "always display names and MACs of interfaces"},
    {"source", opt_type::string, 0, "address source: 'lease', 'agent', or 'arp'"},
};
inline constexpr option_def opts_edit[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"skip-validate", opt_type::boolean, 0, "skip validation of the XML against the schema"},
};
inline constexpr option_def opts_net_edit[] = {
    {"network", opt_type::data, opt_flag::required, "network name or uuid"},
};
inline constexpr option_def opts_cd[] = {
    {"dir", opt_type::string, 0, "directory to switch to (default: home or else root)"},
};
inline constexpr option_def opts_echo[] = {
    {"shell", opt_type::boolean, 0, "escape for shell use"},
    {"xml", opt_type::boolean, 0, "escape for XML use"},
    {"split", opt_type::boolean, 0, "split each argument on ','; ',,' is an escape sequence"},
    {"err", opt_type::boolean, 0, "output to stderr"},
    {"string", opt_type::argv, 0, "arguments to echo"},
};
inline constexpr option_def opts_domcapabilities[] = {
    {"virttype", opt_type::string, 0, "virtualization type (/domain/@type)"},
    {"emulatorbin", opt_type::string, 0, "path to emulator binary (/domain/devices/emulator)"},
    {"arch", opt_type::string, 0, "domain architecture (/domain/os/type/@arch)"},
    {"machine", opt_type::string, 0, "machine type (/domain/os/type/@machine)"},
};
inline constexpr option_def opts_connect[] = {
    {"name", opt_type::string, opt_flag::empty_ok, "hypervisor connection URI"},
    {"readonly", opt_type::boolean, 0, "read-only connection"},
};
inline constexpr option_def opts_help[] = {
    {"command", opt_type::string, 0, "Prints global help, command specific help, or help for a group of related commands"},
};

/// In virsh's group order, and within a group in virsh's order.
inline constexpr option_def opts_pool_list[] = {
    {"inactive", opt_type::boolean, 0, "list inactive pools"},
    {"all", opt_type::boolean, 0, "list inactive & active pools"},
    {"transient", opt_type::boolean, 0, "list transient pools"},
    {"persistent", opt_type::boolean, 0, "list persistent pools"},
    {"autostart", opt_type::boolean, 0, "list pools with autostart enabled"},
    {"no-autostart", opt_type::boolean, 0, "list pools with autostart disabled"},
    {"type", opt_type::string, 0, "only list pool of specified type(s) (if supported)"},
    {"details", opt_type::boolean, 0, "display extended details for pools"},
    {"uuid", opt_type::boolean, 0, "list UUID of active pools only"},
    {"name", opt_type::boolean, 0, "list name of active pools only"},
};
inline constexpr option_def opts_pool_info[] = {
    {"pool", opt_type::data, opt_flag::required, "pool name or uuid"},
    {"bytes", opt_type::boolean, 0, "Return pool info in bytes"},
};
inline constexpr option_def opts_pool_dumpxml[] = {
    {"pool", opt_type::data, opt_flag::required, "pool name or uuid"},
    {"inactive", opt_type::boolean, 0, "show inactive defined XML"},
    {"xpath", opt_type::string, opt_flag::required_name, "xpath expression to filter the XML document"},
    {"wrap", opt_type::boolean, 0, "wrap xpath results in an common root element"},
};
inline constexpr option_def opts_pool_uuid[] = {
    {"pool", opt_type::data, opt_flag::required, "pool name or uuid"},
};
inline constexpr option_def opts_pool_name[] = {
    {"pool", opt_type::data, opt_flag::required, "pool name or uuid"},
};
inline constexpr option_def opts_vol_list[] = {
    {"pool", opt_type::data, opt_flag::required, "pool name or uuid"},
    {"details", opt_type::boolean, 0, "display extended details for volumes"},
};
inline constexpr option_def opts_vol_create_as[] = {
    {"pool", opt_type::data, opt_flag::required, "pool name"},
    {"name", opt_type::data, opt_flag::required, "name of the volume"},
    {"capacity", opt_type::data, opt_flag::required, "size of the vol, as scaled integer (default bytes)"},
    {"allocation", opt_type::string, 0, "initial allocation size, as scaled integer (default bytes)"},
    {"format", opt_type::string, 0, "file format type raw,bochs,qcow,qcow2,qed,vmdk"},
    {"backing-vol", opt_type::string, 0, "the backing volume if taking a snapshot"},
    {"backing-vol-format", opt_type::string, 0, "format of backing volume if taking a snapshot"},
    {"prealloc-metadata", opt_type::boolean, 0, "preallocate metadata (for qcow2 instead of full allocation)"},
    {"print-xml", opt_type::boolean, 0, "print XML document, but don't define/create"},
};
inline constexpr option_def opts_vol_create[] = {
    {"pool", opt_type::data, opt_flag::required, "pool name"},
    {"file", opt_type::data, opt_flag::required, "file containing an XML vol description"},
    {"prealloc-metadata", opt_type::boolean, 0, "preallocate metadata (for qcow2 instead of full allocation)"},
    {"validate", opt_type::boolean, 0, "validate the XML against the schema"},
};
inline constexpr option_def opts_vol_info[] = {
    {"vol", opt_type::data, opt_flag::required, "vol name, key or path"},
    {"pool", opt_type::string, 0, "pool name or uuid"},
    {"bytes", opt_type::boolean, 0, "sizes are represented in bytes rather than pretty units"},
    {"physical", opt_type::boolean, 0, "return the physical size of the volume in allocation field"},
};
inline constexpr option_def opts_vol_dumpxml[] = {
    {"vol", opt_type::data, opt_flag::required, "vol name, key or path"},
    {"pool", opt_type::string, 0, "pool name or uuid"},
    {"xpath", opt_type::string, opt_flag::required_name, "xpath expression to filter the XML document"},
    {"wrap", opt_type::boolean, 0, "wrap xpath results in an common root element"},
};
inline constexpr option_def opts_vol_delete[] = {
    {"vol", opt_type::data, opt_flag::required, "vol name, key or path"},
    {"pool", opt_type::string, 0, "pool name or uuid"},
    {"delete-snapshots", opt_type::boolean, 0, "delete snapshots associated with volume (must be supported by storage driver)"},
};
inline constexpr option_def opts_vol_path[] = {
    {"vol", opt_type::data, opt_flag::required, "volume name or key"},
    {"pool", opt_type::string, 0, "pool name or uuid"},
};
inline constexpr option_def opts_vol_key[] = {
    {"vol", opt_type::data, opt_flag::required, "volume name or path"},
    {"pool", opt_type::string, 0, "pool name or uuid"},
};
inline constexpr option_def opts_vol_name[] = {
    {"vol", opt_type::data, opt_flag::required, "volume key or path"},
};
inline constexpr option_def opts_vol_pool[] = {
    {"vol", opt_type::data, opt_flag::required, "volume key or path"},
    {"uuid", opt_type::boolean, 0, "return the pool uuid rather than pool name"},
};
inline constexpr option_def opts_iface_list[] = {
    {"inactive", opt_type::boolean, 0, "list inactive interfaces"},
    {"all", opt_type::boolean, 0, "list inactive & active interfaces"},
};
inline constexpr option_def opts_iface_dumpxml[] = {
    {"interface", opt_type::data, opt_flag::required, "interface name or MAC address"},
    {"inactive", opt_type::boolean, 0, "show inactive defined XML"},
    {"xpath", opt_type::string, opt_flag::required_name, "xpath expression to filter the XML document"},
    {"wrap", opt_type::boolean, 0, "wrap xpath results in an common root element"},
};
inline constexpr option_def opts_iface_mac[] = {
    {"interface", opt_type::data, opt_flag::required, "interface name"},
};
inline constexpr option_def opts_iface_name[] = {
    {"interface", opt_type::data, opt_flag::required, "interface mac"},
};
inline constexpr option_def opts_nodedev_list[] = {
    {"tree", opt_type::boolean, 0, "list devices in a tree"},
    {"cap", opt_type::string, 0, "capability names, separated by comma"},
    {"inactive", opt_type::boolean, 0, "list inactive devices"},
    {"all", opt_type::boolean, 0, "list inactive & active devices"},
};
inline constexpr option_def opts_nodedev_dumpxml[] = {
    {"device", opt_type::data, opt_flag::required, "device name or wwn pair in 'wwnn,wwpn' format"},
    {"xpath", opt_type::string, opt_flag::required_name, "xpath expression to filter the XML document"},
    {"wrap", opt_type::boolean, 0, "wrap xpath results in an common root element"},
};
inline constexpr option_def opts_snapshot_create[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"xmlfile", opt_type::string, 0, "domain snapshot XML"},
    {"redefine", opt_type::boolean, 0, "redefine metadata for existing snapshot"},
    {"current", opt_type::boolean, 0, "with redefine, set current snapshot"},
    {"no-metadata", opt_type::boolean, 0, "take snapshot but create no metadata"},
    {"halt", opt_type::boolean, 0, "halt domain after snapshot is created"},
    {"disk-only", opt_type::boolean, 0, "capture disk state but not vm state"},
    {"reuse-external", opt_type::boolean, 0, "reuse any existing external files"},
    {"quiesce", opt_type::boolean, 0, "quiesce guest's file systems"},
    {"atomic", opt_type::boolean, 0, "require atomic operation"},
    {"live", opt_type::boolean, 0, "take a live snapshot"},
    {"validate", opt_type::boolean, 0, "validate the XML against the schema"},
};
inline constexpr option_def opts_snapshot_create_as[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"name", opt_type::string, 0, "name of snapshot"},
    {"description", opt_type::string, 0, "description of snapshot"},
    {"print-xml", opt_type::boolean, 0, "print XML document rather than create"},
    {"no-metadata", opt_type::boolean, 0, "take snapshot but create no metadata"},
    {"halt", opt_type::boolean, 0, "halt domain after snapshot is created"},
    {"disk-only", opt_type::boolean, 0, "capture disk state but not vm state"},
    {"reuse-external", opt_type::boolean, 0, "reuse any existing external files"},
    {"quiesce", opt_type::boolean, 0, "quiesce guest's file systems"},
    {"atomic", opt_type::boolean, 0, "require atomic operation"},
    {"live", opt_type::boolean, 0, "take a live snapshot"},
    {"validate", opt_type::boolean, 0, "validate the XML against the schema"},
    {"memspec", opt_type::string, opt_flag::required_name, "memory attributes: [file=]name[,snapshot=type]"},
    {"diskspec", opt_type::argv, 0, "disk attributes: disk[,snapshot=type][,driver=type][,stype=type][,file=name]"},
};
inline constexpr option_def opts_snapshot_list[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"parent", opt_type::boolean, 0, "add a column showing parent snapshot"},
    {"roots", opt_type::boolean, 0, "list only snapshots without parents"},
    {"leaves", opt_type::boolean, 0, "list only snapshots without children"},
    {"no-leaves", opt_type::boolean, 0, "list only snapshots that are not leaves (with children)"},
    {"metadata", opt_type::boolean, 0, "list only snapshots that have metadata that would prevent undefine"},
    {"no-metadata", opt_type::boolean, 0, "list only snapshots that have no metadata managed by libvirt"},
    {"inactive", opt_type::boolean, 0, "filter by snapshots taken while inactive"},
    {"active", opt_type::boolean, 0, "filter by snapshots taken while active (full system snapshots)"},
    {"disk-only", opt_type::boolean, 0, "filter by disk-only snapshots"},
    {"internal", opt_type::boolean, 0, "filter by internal snapshots"},
    {"external", opt_type::boolean, 0, "filter by external snapshots"},
    {"tree", opt_type::boolean, 0, "list snapshots in a tree"},
    {"from", opt_type::string, 0, "limit list to children of given snapshot"},
    {"current", opt_type::boolean, 0, "limit list to children of current snapshot"},
    {"descendants", opt_type::boolean, 0, "with --from, list all descendants"},
    {"name", opt_type::boolean, 0, "list snapshot names only"},
    {"topological", opt_type::boolean, 0, "sort list topologically rather than by name"},
};
inline constexpr option_def opts_snapshot_info[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"snapshotname", opt_type::string, 0, "snapshot name"},
    {"current", opt_type::boolean, 0, "info on current snapshot"},
};
inline constexpr option_def opts_snapshot_dumpxml[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"snapshotname", opt_type::data, opt_flag::required, "snapshot name"},
    {"security-info", opt_type::boolean, 0, "include security sensitive information in XML dump"},
    {"xpath", opt_type::string, opt_flag::required_name, "xpath expression to filter the XML document"},
    {"wrap", opt_type::boolean, 0, "wrap xpath results in an common root element"},
};
inline constexpr option_def opts_snapshot_current[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"name", opt_type::boolean, 0, "list the name, rather than the full xml"},
    {"security-info", opt_type::boolean, 0, "include security sensitive information in XML dump"},
    {"snapshotname", opt_type::string, 0, "name of existing snapshot to make current"},
};
inline constexpr option_def opts_snapshot_parent[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"snapshotname", opt_type::string, 0, "find parent of snapshot name"},
    {"current", opt_type::boolean, 0, "find parent of current snapshot"},
};
inline constexpr option_def opts_snapshot_delete[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"snapshotname", opt_type::string, 0, "snapshot name"},
    {"current", opt_type::boolean, 0, "delete current snapshot"},
    {"children", opt_type::boolean, 0, "delete snapshot and all children"},
    {"children-only", opt_type::boolean, 0, "delete children but not snapshot"},
    {"metadata", opt_type::boolean, 0, "delete only libvirt metadata, leaving snapshot contents behind"},
};
inline constexpr option_def opts_checkpoint_create[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"xmlfile", opt_type::string, 0, "domain checkpoint XML"},
    {"redefine", opt_type::boolean, 0, "redefine metadata for existing checkpoint"},
    {"redefine-validate", opt_type::boolean, 0, "validate the redefined checkpoint"},
    {"quiesce", opt_type::boolean, 0, "quiesce guest's file systems"},
};
inline constexpr option_def opts_checkpoint_create_as[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"name", opt_type::string, 0, "name of checkpoint"},
    {"description", opt_type::string, 0, "description of checkpoint"},
    {"print-xml", opt_type::boolean, 0, "print XML document rather than create"},
    {"quiesce", opt_type::boolean, 0, "quiesce guest's file systems"},
    {"diskspec", opt_type::argv, 0, "disk attributes: disk[,checkpoint=type][,bitmap=name]"},
};
inline constexpr option_def opts_checkpoint_list[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"parent", opt_type::boolean, 0, "add a column showing parent checkpoint"},
    {"roots", opt_type::boolean, 0, "list only checkpoints without parents"},
    {"leaves", opt_type::boolean, 0, "list only checkpoints without children"},
    {"no-leaves", opt_type::boolean, 0, "list only checkpoints that are not leaves (with children)"},
    {"tree", opt_type::boolean, 0, "list checkpoints in a tree"},
    {"from", opt_type::string, 0, "limit list to children of given checkpoint"},
    {"descendants", opt_type::boolean, 0, "with --from, list all descendants"},
    {"name", opt_type::boolean, 0, "list checkpoint names only"},
    {"topological", opt_type::boolean, 0, "sort list topologically rather than by name"},
};
inline constexpr option_def opts_checkpoint_dumpxml[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"checkpointname", opt_type::string, 0, "checkpoint name"},
    {"security-info", opt_type::boolean, 0, "include security sensitive information in XML dump"},
    {"no-domain", opt_type::boolean, 0, "exclude <domain> from XML"},
    {"size", opt_type::boolean, 0, "include backup size estimate in XML dump"},
    {"xpath", opt_type::string, opt_flag::required_name, "xpath expression to filter the XML document"},
    {"wrap", opt_type::boolean, 0, "wrap xpath results in an common root element"},
};
inline constexpr option_def opts_checkpoint_info[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"checkpointname", opt_type::string, 0, "checkpoint name"},
};
inline constexpr option_def opts_checkpoint_parent[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"checkpointname", opt_type::string, 0, "find parent of checkpoint name"},
};
inline constexpr option_def opts_checkpoint_delete[] = {
    {"domain", opt_type::data, opt_flag::required, "domain name, id or uuid"},
    {"checkpointname", opt_type::string, 0, "checkpoint name"},
    {"children", opt_type::boolean, 0, "delete checkpoint and all children"},
    {"children-only", opt_type::boolean, 0, "delete children but not checkpoint"},
    {"metadata", opt_type::boolean, 0, "delete only libvirt metadata, leaving checkpoint contents behind"},
};
inline constexpr command_def commands[] = {
    {"attach-device", "domain", "attach device from an XML file", "Attach device from an XML <file>.", opts_attach_device, 0},
    {"attach-disk", "domain", "attach disk device", "Attach new disk device.", opts_attach_disk, 0},
    {"attach-interface", "domain", "attach network interface", "Attach new network interface.", opts_attach_interface, 0},
    {"autostart", "domain", "autostart a domain", "Configure a domain to be automatically started at boot.", opts_autostart, 0},
    {"console", "domain", "connect to the guest console", "Connect the virtual serial console for the guest", opts_console, 0},
    {"create", "domain", "create a domain from an XML file", "Create a domain.", opts_create, 0},
    {"define", "domain", "define (but don't start) a domain from an XML file", "Define a domain.", opts_define, 0},
    {"destroy", "domain", "destroy (stop) a domain", "Forcefully stop a given domain, but leave its resources intact.", opts_destroy, 0},
    {"detach-device", "domain", "detach device from an XML file", "Detach device from an XML <file>", opts_detach_device, 0},
    {"detach-disk", "domain", "detach disk device", "Detach disk device.", opts_detach_disk, 0},
    {"detach-interface", "domain", "detach network interface", "Detach network interface.", opts_detach_interface, 0},
    {"domid", "domain", "convert a domain name or UUID to domain id", "", opts_domid, 0},
    {"domjobabort", "domain", "abort active domain job", "Aborts the currently running domain job", opts_domjobabort, 0},
    {"domjobinfo", "domain", "domain job information", "Returns information about jobs running on a domain.", opts_domjobinfo, 0},
    {"domname", "domain", "convert a domain id or UUID to domain name", "", opts_domname, 0},
    {"domuuid", "domain", "convert a domain name or id to domain UUID", "", opts_domuuid, 0},
    {"domxml-from-native", "domain", "Convert native config to domain XML", "Convert native guest configuration format to domain XML format.", opts_domxml_from_native, 0},
    {"domxml-to-native", "domain", "Convert domain XML to native config", "Convert domain XML config to a native guest configuration format.", opts_domxml_to_native, 0},
    {"dump", "domain", "dump the core of a domain to a file for analysis", "Core dump a domain.", opts_dump, 0},
    {"dumpxml", "domain", "domain information in XML", "Output the domain information as an XML dump to stdout.", opts_dumpxml, 0},
    {"edit", "domain", "edit XML configuration for a domain", "Edit the XML configuration for a domain.", opts_edit, 0},
    {"migrate", "domain", "migrate domain to another host", "Migrate domain to another host.  Add --live for live migration.", opts_migrate, 0},
    {"reboot", "domain", "reboot a domain", "Run a reboot command in the target domain.", opts_reboot, 0},
    {"restore", "domain", "restore a domain from a saved state in a file", "Restore a domain.", opts_restore, 0},
    {"resume", "domain", "resume a domain", "Resume a previously suspended domain.", opts_resume, 0},
    {"save", "domain", "save a domain state to a file", "Save the RAM state of a running domain.", opts_save, 0},
    {"schedinfo", "domain", "show/set scheduler parameters", "Show/Set scheduler parameters.", opts_schedinfo, 0},
    {"screenshot", "domain", "take a screenshot of a current domain console and store it into a file", "screenshot of a current domain console", opts_screenshot, 0},
    {"setmaxmem", "domain", "change maximum memory limit", "Change the maximum memory allocation limit in the guest domain.", opts_setmaxmem, 0},
    {"setmem", "domain", "change memory allocation", "Change the current memory allocation in the guest domain.", opts_setmem, 0},
    {"setvcpus", "domain", "change number of virtual CPUs", "Change the number of virtual CPUs in the guest domain.", opts_setvcpus, 0},
    {"shutdown", "domain", "gracefully shutdown a domain", "Run shutdown in the target domain.", opts_shutdown, 0},
    {"start", "domain", "start a (previously defined) inactive domain", "Start a domain, either from the last managedsave\n    state, or via a fresh boot if no managedsave state\n    is present.", opts_start, 0},
    {"suspend", "domain", "suspend a domain", "Suspend a running domain.", opts_suspend, 0},
    {"ttyconsole", "domain", "tty console", "Output the device for the TTY console.", opts_ttyconsole, 0},
    {"undefine", "domain", "undefine a domain", "Undefine an inactive domain, or convert persistent to transient.", opts_undefine, 0},
    {"vcpuinfo", "domain", "detailed domain vcpu information", "Returns basic information about the domain virtual CPUs.", opts_vcpuinfo, 0},
    {"vcpupin", "domain", "control or query domain vcpu affinity", "Pin domain VCPUs to host physical CPUs.", opts_vcpupin, 0},
    {"domblkstat", "monitor", "get device block stats for a domain", "Get device block stats for a running domain. See man page or use --human for explanation of fields", opts_domblkstat, 0},
    {"domifaddr", "monitor", "Get network interfaces' addresses for a running domain", "Get network interfaces' addresses for a running domain", opts_domifaddr, 0},
    {"domifstat", "monitor", "get network interface stats for a domain", "Get network interface stats for a running domain.", opts_domifstat, 0},
    {"dominfo", "monitor", "domain information", "Returns basic information about the domain.", opts_dominfo, 0},
    {"domstate", "monitor", "domain state", "Returns state about a domain.", opts_domstate, 0},
    {"domstats", "monitor", "get statistics about one or multiple domains", "Gets statistics about one or more (or all) domains", opts_domstats, 0},
    {"list", "monitor", "list domains", "Returns list of domains.", opts_list, 0},
    {"event", "events", "Domain Events", "List event types, or wait for domain events to occur", opts_event, 0},
    {"capabilities", "host", "capabilities", "Returns capabilities of hypervisor/driver.", {}, 0},
    {"domcapabilities", "host", "domain capabilities", "Returns capabilities of emulator with respect to host and libvirt.", opts_domcapabilities, 0},
    {"hostname", "host", "print the hypervisor hostname", "", {}, 0},
    {"nodeinfo", "host", "node information", "Returns basic information about the node.", {}, 0},
    {"sysinfo", "host", "print the hypervisor sysinfo", "output an XML string for the hypervisor sysinfo, if available", {}, 0},
    {"uri", "host", "print the hypervisor canonical URI", "", {}, 0},
    {"version", "host", "show version", "Display the system version information.", opts_version, 0},
{"checkpoint-create", "checkpoint", "Create a checkpoint from XML", "Create a checkpoint from XML for use in future incremental backups", opts_checkpoint_create, 0},
    {"checkpoint-create-as", "checkpoint", "Create a checkpoint from a set of args", "Create a checkpoint from arguments for use in future incremental backups", opts_checkpoint_create_as, 0},
    {"checkpoint-delete", "checkpoint", "Delete a domain checkpoint", "Checkpoint Delete", opts_checkpoint_delete, 0},
    {"checkpoint-dumpxml", "checkpoint", "Dump XML for a domain checkpoint", "Checkpoint Dump XML", opts_checkpoint_dumpxml, 0},
    {"checkpoint-info", "checkpoint", "checkpoint information", "Returns basic information about a checkpoint.", opts_checkpoint_info, 0},
    {"checkpoint-list", "checkpoint", "List checkpoints for a domain", "Checkpoint List", opts_checkpoint_list, 0},
    {"checkpoint-parent", "checkpoint", "Get the name of the parent of a checkpoint", "Extract the checkpoint's parent, if any", opts_checkpoint_parent, 0},
    {"iface-dumpxml", "interface", "interface information in XML", "Output the physical host interface information as an XML dump to stdout.", opts_iface_dumpxml, 0},
    {"iface-list", "interface", "list physical host interfaces", "Returns list of physical host interfaces.", opts_iface_list, 0},
    {"iface-mac", "interface", "convert an interface name to interface MAC address", "", opts_iface_mac, 0},
    {"iface-name", "interface", "convert an interface MAC address to interface name", "", opts_iface_name, 0},
    {"net-autostart", "network", "autostart a network", "Configure a network to be automatically started at boot.", opts_net_autostart, 0},
    {"net-create", "network", "create a network from an XML file", "Create a network.", opts_net_create, 0},
    {"net-define", "network", "define an inactive persistent virtual network or modify an existing persistent one from an XML file", "Define or modify a persistent virtual network.", opts_net_define, 0},
    {"net-destroy", "network", "destroy (stop) a network", "Forcefully stop a given network.", opts_net_destroy, 0},
    {"net-dhcp-leases", "network", "print lease info for a given network", "Print lease info for a given network", opts_net_dhcp_leases, 0},
    {"net-dumpxml", "network", "network information in XML", "Output the network information as an XML dump to stdout.", opts_net_dumpxml, 0},
    {"net-edit", "network", "edit XML configuration for a network", "Edit the XML configuration for a network.", opts_net_edit, 0},
    {"net-event", "network", "Network Events", "List event types, or wait for network events to occur", opts_net_event, 0},
    {"net-info", "network", "network information", "Returns basic information about the network", opts_net_info, 0},
    {"net-list", "network", "list networks", "Returns list of networks.", opts_net_list, 0},
    {"net-name", "network", "convert a network UUID to network name", "", opts_net_name, 0},
    {"net-start", "network", "start a (previously defined) inactive network", "Start a network.", opts_net_start, 0},
    {"net-undefine", "network", "undefine a persistent network", "Undefine the configuration for a persistent network.", opts_net_undefine, 0},
    {"net-update", "network", "update parts of an existing network's configuration", "", opts_net_update, 0},
    {"net-uuid", "network", "convert a network name to network UUID", "", opts_net_uuid, 0},
    {"nodedev-dumpxml", "nodedev", "node device details in XML", "Output the node device details as an XML dump to stdout.", opts_nodedev_dumpxml, 0},
    {"nodedev-list", "nodedev", "enumerate devices on this host", "", opts_nodedev_list, 0},
    {"snapshot-create", "snapshot", "Create a snapshot from XML", "Create a snapshot (disk and RAM) from XML", opts_snapshot_create, 0},
    {"snapshot-create-as", "snapshot", "Create a snapshot from a set of args", "Create a snapshot (disk and RAM) from arguments", opts_snapshot_create_as, 0},
    {"snapshot-current", "snapshot", "Get or set the current snapshot", "Get or set the current snapshot", opts_snapshot_current, 0},
    {"snapshot-delete", "snapshot", "Delete a domain snapshot", "Snapshot Delete", opts_snapshot_delete, 0},
    {"snapshot-dumpxml", "snapshot", "Dump XML for a domain snapshot", "Snapshot Dump XML", opts_snapshot_dumpxml, 0},
    {"snapshot-info", "snapshot", "snapshot information", "Returns basic information about a snapshot.", opts_snapshot_info, 0},
    {"snapshot-list", "snapshot", "List snapshots for a domain", "Snapshot List", opts_snapshot_list, 0},
    {"snapshot-parent", "snapshot", "Get the name of the parent of a snapshot", "Extract the snapshot's parent, if any", opts_snapshot_parent, 0},
    {"pool-dumpxml", "pool", "pool information in XML", "Output the pool information as an XML dump to stdout.", opts_pool_dumpxml, 0},
    {"pool-info", "pool", "storage pool information", "Returns basic information about the storage pool.", opts_pool_info, 0},
    {"pool-list", "pool", "list pools", "Returns list of pools.", opts_pool_list, 0},
    {"pool-name", "pool", "convert a pool UUID to pool name", "", opts_pool_name, 0},
    {"pool-uuid", "pool", "convert a pool name to pool UUID", "", opts_pool_uuid, 0},
    {"vol-create-as", "volume", "create a volume from a set of args", "Create a vol.", opts_vol_create_as, 0},
    {"vol-create", "volume", "create a vol from an XML file", "Create a vol.", opts_vol_create, 0},
    {"vol-delete", "volume", "delete a vol", "Delete a given vol.", opts_vol_delete, 0},
    {"vol-dumpxml", "volume", "vol information in XML", "Output the vol information as an XML dump to stdout.", opts_vol_dumpxml, 0},
    {"vol-info", "volume", "storage vol information", "Returns basic information about the storage vol.", opts_vol_info, 0},
    {"vol-key", "volume", "returns the volume key for a given volume name or path", "", opts_vol_key, 0},
    {"vol-list", "volume", "list vols", "Returns list of vols by pool.", opts_vol_list, 0},
    {"vol-name", "volume", "returns the volume name for a given volume key or path", "", opts_vol_name, 0},
    {"vol-path", "volume", "returns the volume path for a given volume name or key", "", opts_vol_path, 0},
    {"vol-pool", "volume", "returns the storage pool for a given volume key or path", "", opts_vol_pool, 0},
    {"cd", "virsh", "change the current directory", "Change the current directory.", opts_cd, cmd_flag::no_connect},
    {"echo", "virsh", "echo arguments. Used for internal testing.", "Echo back arguments, possibly with quoting. Used for internal testing.", opts_echo, cmd_flag::no_connect},
    {"exit", "virsh", "quit this interactive terminal", "", {}, cmd_flag::no_connect},
    {"help", "virsh", "print help", "Prints global help, command specific help, or help for a\n    group of related commands", opts_help, cmd_flag::no_connect},
    {"pwd", "virsh", "print the current directory", "Print the current directory.", {}, cmd_flag::no_connect},
    {"quit", "virsh", "quit this interactive terminal", "", {}, cmd_flag::no_connect},
    {"connect", "virsh", "(re)connect to hypervisor", "Connect to local hypervisor. This is built-in command after shell start up.", opts_connect, cmd_flag::no_connect},
};

}  // namespace virtpp::cli::defs
