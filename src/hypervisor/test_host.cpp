// hypervisor::test: opening hosts (the shared built-in one and host definition files), and the
// connection- and node-level operations.
#include "hypervisor/test_detail.hpp"
#include "xml/tree.hpp"

#include <virtpp/error.hpp>

#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtpp::hypervisor {

using test_detail::domain_obj;
using test_detail::host_facts;

namespace test_detail {

void raise_verbatim(error_code code, error_domain domain, std::string text) {
    auto info = make_error_info(code, domain, text);
    info.message = std::move(text);
    raise(info);
}

void check_flags(unsigned flags, unsigned allowed, std::string_view function) {
    if ((flags & ~allowed) == 0) return;
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%x", flags & ~allowed);
    raise_verbatim(error_code::invalid_arg, error_domain::test,
                   std::string("unsupported flags (") + buf + ") in function " + std::string(function));
}

std::string errno_text(int err) {
    char buf[256];
    // GNU strerror_r returns the message pointer (which may not be buf)
    return std::string(::strerror_r(err, buf, sizeof buf));
}

namespace {

// The built-in host's definitions, as 9.0's test driver defines them (its defaultConnXML).
constexpr std::string_view default_domain_xml = R"(<domain type='test'>
  <name>test</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory>8388608</memory>
  <currentMemory>2097152</currentMemory>
  <vcpu>2</vcpu>
  <os>
    <type>hvm</type>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/diskimage1'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </disk>
    <interface type='network'>
      <mac address='aa:bb:cc:dd:ee:ff'/>
      <source network='default'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x1' function='0x0'/>
    </interface>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x2' function='0x0'/>
    </memballoon>
  </devices>
</domain>
)";

constexpr std::string_view default_network_xml = R"(<network>
  <name>default</name>
  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>
  <bridge name='virbr0'/>
  <forward/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
)";

/// 9.0's defaultNodeInfo: also the starting point of hosts read from files.
node_info default_node_info() {
    node_info n;
    n.model = "i686";
    n.memory_kib = 3145728;
    n.cpus = 16;
    n.mhz = 1400;
    n.nodes = 2;
    n.sockets = 2;
    n.cores = 2;
    n.threads = 2;
    return n;
}

/// Writes an element subtree back out as XML text, so inline definitions go through the typed parsers.
void write_element(const xml::detail::element& e, std::string& out) {
    out += '<';
    out += e.name;
    for (const auto& [k, v] : e.attributes) {
        out += ' ';
        out += k;
        out += "='";
        out += xml::detail::escape(v);
        out += '\'';
    }
    out += '>';
    out += xml::detail::escape(e.text);
    for (const auto& c : e.children) write_element(c, out);
    out += "</";
    out += e.name;
    out += '>';
}

/// A test host file (or a file it names) may be this large: a host of hundreds of guests fits.
constexpr std::size_t host_file_max = 16U << 20;

/// Reads a host file without ever blocking or reading without end: opened non-blocking (a FIFO
/// or a device does not hold the caller), only a regular file, at most host_file_max bytes.
/// Errors name the path, never what the file holds.
std::string read_whole_file(const std::string& path) {
    auto refuse = [&](const std::string& why) {
        raise(error_code::xml_error, error_domain::xml, "failed to parse xml document '" + path + "'" + why);
    };
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) refuse("");
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } guard{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) refuse(std::string(": ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) refuse(": not a regular file");
    if (static_cast<std::uint64_t>(st.st_size) > host_file_max)
        refuse(": larger than " + std::to_string(host_file_max >> 20) + " MiB");
    std::string text;
    text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t have = 0;
    for (;;) {
        if (have == text.size()) {
            // the file grew since fstat: read on, within the cap
            if (text.size() > host_file_max) refuse(": larger than " + std::to_string(host_file_max >> 20) + " MiB");
            text.resize(std::min(host_file_max + 1, text.size() + 4096));
        }
        auto n = ::read(fd, text.data() + have, text.size() - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) refuse(std::string(": ") + std::strerror(errno));
        if (n == 0) break;
        have += static_cast<std::size_t>(n);
    }
    text.resize(have);
    return text;
}

std::string directory_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

/// The namespace of the test driver's own per-domain elements.
constexpr std::string_view test_namespace_uri = "http://libvirt.org/schemas/domain/test/1.0";

/// The local name of `name` when its prefix is bound to the test namespace on `self` or `outer`.
std::optional<std::string_view> test_local_name(const std::string& name, const xml::detail::element& self,
                                                const xml::detail::element* outer) {
    auto colon = name.find(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string decl = "xmlns:" + name.substr(0, colon);
    const std::string* uri = self.attr(decl);
    if (uri == nullptr && outer != nullptr) uri = outer->attr(decl);
    if (uri == nullptr || *uri != test_namespace_uri) return std::nullopt;
    return std::string_view(name).substr(colon + 1);
}

/// The test driver's own per-domain settings (<test:runstate>, <test:transient/>, <test:hasmanagedsave/>).
struct test_namespace {
    std::optional<int> runstate;
    bool transient = false;
    bool has_managed_save = false;
};

test_namespace read_test_namespace(const xml::detail::element& dom, const xml::detail::element* outer) {
    test_namespace ns;
    for (const auto& c : dom.children) {
        auto local = test_local_name(c.name, dom, outer);
        if (!local) continue;
        if (*local == "transient") ns.transient = true;
        if (*local == "hasmanagedsave") ns.has_managed_save = true;
        if (*local == "runstate") {
            auto text = c.trimmed_text();
            int v = -1;
            try {
                std::size_t used = 0;
                v = std::stoi(text, &used);
                if (used != text.size()) v = -1;
            } catch (const std::exception&) {
                v = -1;
            }
            if (v < 0) raise(error_code::xml_error, error_domain::test, "invalid runstate");
            if (v > 7) raise(error_code::xml_error, error_domain::test, "runstate '" + std::to_string(v) + "' out of range'");
            ns.runstate = v;
        }
    }
    if (ns.transient && ns.runstate == static_cast<int>(domain_state::shutoff))
        raise(error_code::xml_error, error_domain::test, "transient domain cannot have runstate 'shutoff'");
    if (ns.has_managed_save && ns.runstate.value_or(1) != static_cast<int>(domain_state::shutoff))
        raise(error_code::xml_error, error_domain::test,
              "domain with managedsave data can only have runstate 'shutoff'");
    return ns;
}

/// An unsigned number of /node/cpu or /node/memory; absent leaves `into` alone.
template <class T>
void read_node_number(const xml::detail::element* e, T& into, std::string_view what) {
    if (e == nullptr) return;
    auto text = e->trimmed_text();
    bool ok = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos && text.size() < 20;
    if (ok) {
        auto v = std::stoull(text);
        if (v > static_cast<unsigned long long>(std::numeric_limits<T>::max())) ok = false;
        else into = static_cast<T>(v);
    }
    if (!ok)
        raise(error_code::xml_error, error_domain::test,
              "invalid node " + std::string(what) + " value (line " + std::to_string(e->line) + ")");
}

void read_node_info(const xml::detail::element& root, node_info& n) {
    if (const auto* cpu = root.child("cpu")) {
        read_node_number(cpu->child("nodes"), n.nodes, "cpu nodes");
        read_node_number(cpu->child("sockets"), n.sockets, "cpu sockets");
        read_node_number(cpu->child("cores"), n.cores, "cpu cores");
        read_node_number(cpu->child("threads"), n.threads, "cpu threads");
        n.cpus = n.cores * n.threads * n.sockets * n.nodes;
        unsigned active = n.cpus;
        read_node_number(cpu->child("active"), active, "cpu active");
        if (active < n.cpus) n.cpus = active;
        read_node_number(cpu->child("mhz"), n.mhz, "cpu mhz");
        if (const auto* model = cpu->child("model")) {
            auto text = model->trimmed_text();
            if (text.size() >= 32)
                raise(error_code::internal_error, error_domain::test, "Model " + text + " too big for destination");
            n.model = text;
        }
    } else {
        n.cpus = n.cores * n.threads * n.sockets * n.nodes;
    }
    read_node_number(root.child("memory"), n.memory_kib, "memory");
}

/// An inline definition, or the root of the file its file= attribute names (relative to the host file).
struct definition_source {
    std::string text;
    xml::detail::element root;
};

definition_source resolve_definition(const xml::detail::element& e, const std::string& host_path,
                                     std::string_view kind) {
    definition_source src;
    if (const auto* file = e.attr("file")) {
        std::string path = (!file->empty() && file->front() == '/') ? *file : directory_of(host_path) + "/" + *file;
        src.text = read_whole_file(path);
        src.root = xml::detail::parse_document(src.text, path, error_domain::xml, xml::detail::error_detail::location_only);
        if (src.root.name != kind)
            raise(error_code::xml_error, error_domain::xml,
                  "expecting root element of '" + std::string(kind) + "', not '" + src.root.name + "' in '" + path + "'");
    } else {
        src.root = e;
        write_element(e, src.text);
    }
    return src;
}

}  // namespace

void add_host_domain(test::state::impl& host, xml::domain_def def, bool running, bool persistent) {
    host.check_domain_conflicts(def, false);
    auto obj = std::make_unique<domain_obj>();
    obj->config = std::move(def);
    obj->persistent = persistent;
    auto& added = host.add_domain(std::move(obj));
    if (running) {
        host.start(added, reason::running_booted);
        added.reason = 0;  // 9.0 sets a host file's run state afterwards with reason 0
    }
}

std::shared_ptr<test::state::impl> make_default_host() {
    auto host = std::make_shared<test::state::impl>();
    host->host.node = default_node_info();
    host->host.numa_cells = true;
    add_host_domain(*host, host->parse_domain(default_domain_xml), true, true);
    host->add_network(xml::parse_network_xml(default_network_xml), true);
    add_default_host_objects(*host);
    return host;
}

std::shared_ptr<test::state::impl> load_host_file(const std::string& path) {
    auto text = read_whole_file(path);
    auto root = xml::detail::parse_document(text, path, error_domain::xml, xml::detail::error_detail::location_only);
    if (root.name != "node")
        raise(error_code::xml_error, error_domain::xml, "expecting root element of 'node', not '" + root.name + "'");
    auto host = std::make_shared<test::state::impl>();
    host->host.node = default_node_info();
    read_node_info(root, host->host.node);
    for (const auto* dom : root.children_named("domain")) {
        auto src = resolve_definition(*dom, path, "domain");
        // an inline definition may use a prefix bound on <node>
        auto ns = read_test_namespace(src.root, dom->attr("file") ? nullptr : &root);
        auto def = host->parse_domain(src.text);
        bool running = ns.runstate.value_or(1) != static_cast<int>(domain_state::shutoff);
        std::string name = def.name;
        add_host_domain(*host, std::move(def), running, !ns.transient);
        auto& obj = *host->find_domain_by_name(name);
        obj.managed_save = ns.has_managed_save;
        if (ns.runstate && running) {
            obj.state = static_cast<domain_state>(*ns.runstate);
            obj.reason = 0;
        }
    }
    for (const auto* net : root.children_named("network")) {
        auto src = resolve_definition(*net, path, "network");
        auto def = xml::parse_network_xml(src.text);
        if (host->find_network_by_name(def.name) != nullptr || (def.uuid && host->find_network_by_uuid(*def.uuid)))
            raise(error_code::operation_failed, error_domain::network,
                  "network '" + def.name + "' is defined twice in '" + path + "'");
        host->add_network(std::move(def), true);
    }
    return host;
}

std::string capabilities_xml(const host_facts& host) {
    std::string out =
        "<capabilities>\n\n"
        "  <host>\n"
        "    <cpu>\n"
        "      <arch>i686</arch>\n"
        "      <features>\n"
        "        <pae/>\n"
        "        <nonpae/>\n"
        "      </features>\n"
        "      <pages unit='KiB' size='4'/>\n"
        "      <pages unit='KiB' size='8'/>\n"
        "      <pages unit='KiB' size='2048'/>\n"
        "      <pages unit='KiB' size='1048576'/>\n"
        "    </cpu>\n"
        "    <power_management/>\n"
        "    <iommu support='no'/>\n";
    if (host.numa_cells) {
        // 9.0's two cells of eight CPUs: cell i has (i+1) * 2 GiB, in 4 KiB (cell 0) or 8 KiB (cell 1) pages
        out += "    <topology>\n      <cells num='2'>\n";
        for (int cell = 0; cell < 2; ++cell) {
            std::uint64_t mem = static_cast<std::uint64_t>(cell + 1) * 2048 * 1024;
            unsigned page = cell == 1 ? 8 : 4;
            out += "        <cell id='" + std::to_string(cell) + "'>\n";
            out += "          <memory unit='KiB'>" + std::to_string(mem) + "</memory>\n";
            out += "          <pages unit='KiB' size='" + std::to_string(page) + "'>" + std::to_string(mem / page) + "</pages>\n";
            out += "          <pages unit='KiB' size='2048'>0</pages>\n";
            out += "          <pages unit='KiB' size='1048576'>0</pages>\n";
            out += "          <cpus num='8'>\n";
            for (int i = cell * 8; i < cell * 8 + 8; ++i) {
                auto n = std::to_string(i);
                out += "            <cpu id='" + n + "' socket_id='" + std::to_string(cell) + "' die_id='0' core_id='" +
                       std::to_string(i % 8) + "' siblings='" + n + "'/>\n";
            }
            out += "          </cpus>\n        </cell>\n";
        }
        out += "      </cells>\n    </topology>\n";
    }
    out +=
        "    <secmodel>\n"
        "      <model>testSecurity</model>\n"
        "      <doi></doi>\n"
        "    </secmodel>\n"
        "  </host>\n\n";
    for (std::string_view os : {"hvm", "xen"}) {
        out += "  <guest>\n    <os_type>";
        out += os;
        out +=
            "</os_type>\n"
            "    <arch name='i686'>\n"
            "      <wordsize>32</wordsize>\n"
            "      <emulator>/usr/bin/test-hv</emulator>\n"
            "      <domain type='test'/>\n"
            "    </arch>\n"
            "    <features>\n"
            "      <pae/>\n"
            "      <nonpae/>\n"
            "    </features>\n"
            "  </guest>\n\n";
    }
    out += "</capabilities>\n";
    return out;
}

}  // namespace test_detail

// ---- opening ---------------------------------------------------------------------------------

namespace {
std::mutex default_host_mutex;
std::weak_ptr<test::state::impl> default_host;  // alive while a test:///default connection is open

unsigned delay_from(const virtpp::uri& u) {
    auto p = u.param("virtpp_delay_ms");
    if (!p) return 0;
    std::string text(*p);
    if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos)
        raise(error_code::invalid_arg, error_domain::test, "virtpp_delay_ms must be a number of milliseconds up to 999999, not '" + text + "'");
    return static_cast<unsigned>(std::stoul(text));
}
}  // namespace

bool test::accepts(const virtpp::uri& u) { return u.driver() == "test" && !u.is_remote(); }

std::shared_ptr<test::state> test::open(const virtpp::uri& u, unsigned flags) {
    test_detail::check_flags(flags, open_flags::read_only, "testConnectOpen");
    const auto& path = u.path();
    if (path.empty() || path == "/")
        raise(error_code::invalid_arg, error_domain::test, "testOpen: supply a path or use test:///default");
    unsigned delay = delay_from(u);
    if (path == "/default") {
        std::lock_guard lock(default_host_mutex);
        auto host = default_host.lock();
        if (!host) {
            host = test_detail::make_default_host();
            default_host = host;
        }
        return std::make_shared<state>(std::move(host), delay);
    }
    return std::make_shared<state>(test_detail::load_host_file(path), delay);
}

test::state::state(std::shared_ptr<impl> host, unsigned delay_ms) : impl_(std::move(host)), delay_ms_(delay_ms) {}
test::state::~state() {
    // The last connection to test:///default takes the host down under the lock, so a concurrent
    // open either shares it or builds a fresh one, never a half-destroyed one.
    std::lock_guard lock(default_host_mutex);
    impl_.reset();
}

unsigned test::state::delay_ms() const noexcept { return delay_ms_; }
void test::state::pause() const {
    if (delay_ms_ != 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
}

// ---- connection and node ---------------------------------------------------------------------

std::string test::state::perform(op::connect_get_type, const op::none&) {
    pause();
    return "TEST";
}
std::uint64_t test::state::perform(op::connect_get_version, const op::none&) {
    pause();
    return 2;
}
namespace {
/// This host's name as libvirt's virGetHostname makes it: gethostname, canonicalised through
/// getaddrinfo when it is a short name other than localhost.
std::string canonical_hostname() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0)
        raise(error_code::system_error, error_domain::none,
              "failed to determine host name: " + test_detail::errno_text(errno));
    std::string host(name);
    if (host.starts_with("localhost") || host.find('.') != std::string::npos) return host;
    addrinfo hints{};
    hints.ai_flags = AI_CANONNAME;
    hints.ai_family = AF_UNSPEC;
    addrinfo* info = nullptr;
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &info) != 0) return host;
    std::string result = host;
    if (info->ai_canonname != nullptr && !std::string_view(info->ai_canonname).starts_with("localhost"))
        result = info->ai_canonname;
    ::freeaddrinfo(info);
    return result;
}
}  // namespace

std::string test::state::perform(op::connect_get_hostname, const op::none&) {
    pause();
    // resolved once: a daemon answering many clients should not ask the resolver each time
    static const std::string name = canonical_hostname();
    return name;
}
int test::state::perform(op::connect_get_max_vcpus, const op::connect_get_max_vcpus::args&) {
    pause();
    return 32;
}
std::string test::state::perform(op::connect_get_capabilities, const op::none&) {
    pause();
    std::shared_lock lock(impl_->mutex);
    return test_detail::capabilities_xml(impl_->host);
}
node_info test::state::perform(op::node_get_info, const op::none&) {
    pause();
    std::shared_lock lock(impl_->mutex);
    return impl_->host.node;
}
security_model test::state::perform(op::node_get_security_model, const op::none&) {
    pause();
    return {"testSecurity", ""};
}
std::vector<bool> test::state::perform(op::node_get_cpu_map, const op::none&) {
    pause();
    // 9.0 answers eight CPUs of which 0, 2 and 4 are online, whatever the host definition says
    return {true, false, true, false, true, false, false, false};
}
std::string test::state::perform(op::connect_get_sysinfo, const op::connect_get_sysinfo::args& a) {
    pause();
    test_detail::check_flags(a.flags, 0, "testConnectGetSysinfo");
    // libvirt 9.0's test driver describes the same fixed machine for every host
    return "<sysinfo type='smbios'>\n"
           "  <bios>\n"
           "    <entry name='vendor'>LENOVO</entry>\n"
           "    <entry name='version'>G4ETA1WW (2.61 )</entry>\n"
           "    <entry name='date'>05/07/2014</entry>\n"
           "    <entry name='release'>2.61</entry>\n"
           "  </bios>\n"
           "</sysinfo>\n";
}

bool test::state::perform(op::connect_supports_feature, const op::connect_supports_feature::args& a) {
    pause();
    // FD_PASSING (8), TYPED_PARAM_STRING (9), NETWORK_UPDATE_HAS_CORRECT_ORDER (16): what every 9.0 driver says
    return a.feature == 8 || a.feature == 9 || a.feature == 16;
}

}  // namespace virtpp::hypervisor
