// The test driver against the oracle: the same sequence of calls on our driver and on Debian's
// libvirt 9.0 test driver (through /usr/bin/python3 and python3-libvirt), compared step by step:
// XML documents, info tuples (without CPU time), ids, states, and error codes, domains and
// messages of the invalid operations. Save images are exchanged both ways. Skips when the oracle
// is not installed.
#include <virtpp/connection.hpp>
#include <virtpp/hypervisor/test.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace virtpp;
using conn_t = basic_connection<hypervisor::test>;

// Each step prints "label OK value" or "label ERR code domain message", newlines escaped.
constexpr std::string_view oracle_script = R"PY(
import sys, libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
mode, workdir = sys.argv[1], sys.argv[2]
c = libvirt.open("test:///default")
if mode == "save":
    c.lookupByName("test").save(workdir + "/py.sav")
    sys.exit(0)
other = workdir + "/cpp.sav"
def esc(s): return str(s).replace("\\", "\\\\").replace("\n", "\\n")
def t(label, f):
    try:
        r = f()
        print(label, "OK", esc(0 if r is None else r))
    except libvirt.libvirtError as e:
        print(label, "ERR", e.get_error_code(), e.get_error_domain(), esc(e.get_error_message()))
def info(d): return "%d %d %d %d" % tuple(d.info()[:4])
def state(d): return "%d %d" % tuple(d.state())
def vcpus(d): return ";".join("%d %d %d" % (v[0], v[1], v[3]) for v in d.vcpus()[0])
def ok(x): return ""
UA = "11111111-2222-3333-4444-555555555555"
UT = "dc97e77d-d581-4b83-9b42-661867150411"
AXML = ("<domain type='test'><name>a</name><uuid>" + UA + "</uuid><memory>1024</memory><os><type>hvm</type></os>"
        "<devices><disk type='file' device='disk'><source file='/a.img'/><target dev='vda' bus='virtio'/></disk>"
        "<interface type='network'><mac address='52:54:00:12:34:56'/><source network='default'/></interface></devices></domain>")
TXML = "<domain type='test'><name>tr</name><uuid>" + UT + "</uuid><memory>2048</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>"
def small(name, uuid): return "<domain type='test'><name>%s</name><uuid>%s</uuid><memory>1024</memory><os><type>hvm</type></os></domain>" % (name, uuid)

t("type", c.getType)
t("version", c.getVersion)
t("maxvcpus", lambda: c.getMaxVcpus(None))
t("hostname", c.getHostname)
t("nodeinfo", lambda: "%s %d %d %d %d %d %d %d" % tuple(c.getInfo()))
t("secmodel", lambda: "|".join(c.getSecurityModel()))
t("cpumap", lambda: (lambda m: "%d %s %d" % (m[0], "".join("1" if b else "0" for b in m[1]), m[2]))(c.getCPUMap(0)))
t("caps", c.getCapabilities)
d = c.lookupByName("test")
t("xml", lambda: d.XMLDesc(0))
t("xml-inactive", lambda: d.XMLDesc(2))
t("xml-badflags", lambda: d.XMLDesc(16))
t("info", lambda: info(d))
t("state", lambda: state(d))
t("state-flags", lambda: d.state(1))
t("ostype", d.OSType)
t("maxmem", d.maxMemory)
t("maxvcpus-dom", d.maxVcpus)
t("seclabel", lambda: "%s %d" % tuple(d.securityLabel()))
t("vcpus", lambda: vcpus(d))
t("schedtype", lambda: "%s %d" % d.schedulerType())
t("schedparams", lambda: d.schedulerParameters()["weight"])
t("blockstats-empty", lambda: d.blockStats(""))
t("blockstats-bad", lambda: d.blockStats("vdz"))
t("ifstats-bad", lambda: d.interfaceStats("x"))
t("managedsave", lambda: d.hasManagedSaveImage(0))
t("snapnum", lambda: d.snapshotNum(0))
t("lookup-name", lambda: c.lookupByName("nope"))
t("lookup-id", lambda: c.lookupByID(99))
t("lookup-uuid", lambda: c.lookupByUUIDString("6695eb01-f6a4-8304-79aa-97f2502e1930"))
t("netlookup-name", lambda: c.networkLookupByName("x"))
t("netlookup-uuid", lambda: c.networkLookupByUUIDString("6695eb01-f6a4-8304-79aa-97f2502e1930"))
t("resume-running", d.resume)
t("create-running", d.create)
t("suspend", d.suspend)
t("suspend-again", d.suspend)
t("state-paused", lambda: state(d))
t("resume", d.resume)
t("state-resumed", lambda: state(d))
a = c.defineXML(AXML)
t("a-xml", lambda: a.XMLDesc(0))
t("a-id", a.ID)
t("a-state", lambda: state(a))
t("a-suspend", a.suspend)
t("a-resume", a.resume)
t("a-shutdown", a.shutdown)
t("a-destroy", a.destroy)
t("a-reboot", a.reboot)
t("a-save", lambda: a.save(workdir + "/never"))
t("a-coredump", lambda: a.coreDump(workdir + "/never", 0))
t("a-vcpus", lambda: vcpus(a))
t("a-pin", lambda: a.pinVcpu(0, (True,)))
t("a-blockstats", lambda: a.blockStats("vda"))
t("a-seclabel", lambda: "%s %d" % tuple(a.securityLabel()))
t("a-maxvcpus", a.maxVcpus)
t("a-setmem-live", lambda: a.setMemoryFlags(512, 1))
t("a-setmem", lambda: a.setMemoryFlags(512, 0))
t("a-info", lambda: info(a))
t("a-setmem-big", lambda: a.setMemoryFlags(5000, 0))
t("a-setmem-both", lambda: a.setMemoryFlags(5000, 3))
t("a-setmaxmem", lambda: a.setMaxMemory(2048))
t("a-info2", lambda: info(a))
t("a-setvcpus-live", lambda: a.setVcpusFlags(1, 1))
t("a-setvcpus-40", lambda: a.setVcpusFlags(40, 0))
t("a-setvcpus-3", lambda: a.setVcpusFlags(3, 0))
t("a-setvcpus-max-nocfg", lambda: a.setVcpusFlags(4, 4))
t("a-setvcpus-max", lambda: a.setVcpusFlags(4, 6))
t("a-setvcpus-3b", lambda: a.setVcpusFlags(3, 0))
t("a-vcpusflags-cfg", lambda: a.vcpusFlags(2))
t("a-vcpusflags-max", lambda: a.vcpusFlags(6))
t("a-vcpusflags-both", lambda: a.vcpusFlags(3))
t("a-xml2", lambda: a.XMLDesc(0))
t("a-create", a.create)
t("a-id2", a.ID)
t("a-state2", lambda: state(a))
t("a-xml3", lambda: a.XMLDesc(0))
t("a-setmem-maxlive", lambda: a.setMemoryFlags(4096, 5))
t("a-setmem-cfg", lambda: a.setMemoryFlags(100, 2))
t("a-info3", lambda: info(a))
t("a-xml-inactive", lambda: a.XMLDesc(2))
t("a-setvcpus-4live", lambda: a.setVcpusFlags(4, 1))
t("a-setvcpus-5live", lambda: a.setVcpusFlags(5, 1))
t("a-vcpus2", lambda: vcpus(a))
t("a-pin-9", lambda: a.pinVcpu(9, (True,)))
t("a-pin-1", lambda: a.pinVcpu(1, (True, False, True)))
t("a-vcpus3", lambda: vcpus(a))
t("a-ifstats-bad", lambda: a.interfaceStats("y"))
t("a-destroy2", a.destroy)
t("a-state3", lambda: state(a))
t("a-id3", a.ID)
t("a-info4", lambda: info(a))
t("a-create2", a.create)
t("a-id4", a.ID)
t("dup-name", lambda: c.defineXML(small("a", "11111111-2222-3333-4444-555555555556")))
t("dup-uuid", lambda: c.defineXML(small("b", UA)))
t("create-dup-test", lambda: c.createXML(small("test", "11111111-2222-3333-4444-555555555557"), 0))
t("create-active-test", lambda: c.createXML(small("test", "6695eb01-f6a4-8304-79aa-97f2502e193f"), 0))
t("create-badflags", lambda: c.createXML(small("zz", "11111111-2222-3333-4444-555555555558"), 2))
tr = c.createXML(TXML, 0)
t("tr-id", tr.ID)
t("tr-persistent", tr.isPersistent)
t("tr-xml", lambda: tr.XMLDesc(0))
t("tr-setmem-cfg", lambda: tr.setMemoryFlags(100, 2))
t("tr-undefine", tr.undefine)
t("tr-suspend", tr.suspend)
t("tr-shutdown", tr.shutdown)
t("tr-info", lambda: info(tr))
t("tr-lookup", lambda: c.lookupByName("tr"))
t("numdom", c.numOfDomains)
t("listdom", lambda: " ".join(str(i) for i in sorted(c.listDomainsID())))
t("numdef", c.numOfDefinedDomains)
t("a-undefine-running", a.undefine)
t("a-persistent", a.isPersistent)
t("a-destroy3", a.destroy)
t("a-lookup", lambda: c.lookupByName("a"))
t("undefine-badflags", lambda: d.undefineFlags(4))
t("destroy-badflags", lambda: d.destroyFlags(2))
n = c.networkLookupByName("default")
t("net-xml", lambda: n.XMLDesc(0))
t("net-xml-inactive", lambda: n.XMLDesc(1))
t("net-bridge", n.bridgeName)
t("net-active", n.isActive)
t("net-persistent", n.isPersistent)
t("net-autostart", n.autostart)
t("net-create-active", n.create)
t("net-undefine-active", n.undefine)
t("net-createxml-active", lambda: c.networkCreateXML("<network><name>default</name><uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid></network>"))
t("net-destroy", n.destroy)
t("net-active2", n.isActive)
t("net-listdef", lambda: " ".join(c.listDefinedNetworks()))
t("net-create", n.create)
n1 = c.networkDefineXML("<network><name>n1</name><uuid>" + UA + "</uuid></network>")
t("n1-xml", lambda: n1.XMLDesc(0))
t("n1-bridge", n1.bridgeName)
t("n1-dup-name", lambda: c.networkDefineXML("<network><name>n1</name><uuid>11111111-2222-3333-4444-555555555556</uuid></network>"))
t("n1-dup-uuid", lambda: c.networkDefineXML("<network><name>n2</name><uuid>" + UA + "</uuid></network>"))
t("n1-setautostart", lambda: n1.setAutostart(1))
t("n1-autostart", n1.autostart)
t("n1-create", n1.create)
t("n1-create-again", n1.create)
t("n1-undefine-running", n1.undefine)
t("n1-destroy", n1.destroy)
t("n1-undefine", n1.undefine)
nt = c.networkCreateXML("<network><name>nt</name><uuid>" + UT + "</uuid><bridge name='virbr7'/></network>")
t("nt-xml", lambda: nt.XMLDesc(0))
t("nt-persistent", nt.isPersistent)
t("nt-destroy", nt.destroy)
t("nt-lookup", lambda: c.networkLookupByName("nt"))
t("nt-isactive", nt.isActive)
t("nt-bridge", nt.bridgeName)
t("numnet", c.numOfNetworks)
t("numdefnet", c.numOfDefinedNetworks)
t("save-badpath", lambda: d.save("/nonexistent/dir/x"))
t("coredump-badpath", lambda: d.coreDump("/nonexistent/dir/x", 0))
t("restore-missing", lambda: c.restore("/nonexistent/x"))
open(workdir + "/garbage", "w").write("hello world garbage data")
t("restore-garbage", lambda: c.restore(workdir + "/garbage"))
t("test-destroy", d.destroy)
t("restore-other", lambda: c.restore(other))
t("test-after-restore", lambda: c.lookupByName("test").XMLDesc(0))
t("test-state-restored", lambda: state(c.lookupByName("test")))
t("restore-again", lambda: c.restore(other))
t("test-coredump-crash", lambda: c.lookupByName("test").coreDump(workdir + "/core", 1))
t("test-state-crashed", lambda: state(c.lookupByName("test")))
)PY";

std::string escape(std::string_view s) {
    std::string out;
    for (char ch : s) {
        if (ch == '\\') out += "\\\\";
        else if (ch == '\n') out += "\\n";
        else out += ch;
    }
    return out;
}

/// Our side of the sequence, in the oracle's output format.
class recorder {
public:
    void step(const std::string& label, const std::function<std::string()>& body) {
        try {
            auto value = body();
            out_ << label << " OK " << escape(value) << "\n";
        } catch (const virtpp::error& e) {
            out_ << label << " ERR " << static_cast<int>(e.code()) << " " << static_cast<int>(e.domain()) << " "
                 << escape(e.what()) << "\n";
        }
    }
    void act(const std::string& label, const std::function<void()>& body) {
        step(label, [&] {
            body();
            return std::string("0");  // what libvirt-python answers for a call that returns nothing
        });
    }
    [[nodiscard]] std::string str() const { return out_.str(); }

private:
    std::ostringstream out_;
};

std::string info_text(const domain_info& i) {
    return std::to_string(static_cast<int>(i.state)) + " " + std::to_string(i.max_memory_kib) + " " +
           std::to_string(i.memory_kib) + " " + std::to_string(i.vcpus);
}
std::string state_text(const domain_state_info& s) {
    return std::to_string(static_cast<int>(s.state)) + " " + std::to_string(s.reason);
}
std::string vcpus_text(const std::vector<vcpu_info>& v) {
    std::string out;
    for (const auto& x : v) {
        if (!out.empty()) out += ";";
        out += std::to_string(x.number) + " " + std::to_string(x.state) + " " + std::to_string(x.cpu);
    }
    return out;
}
std::string bool_text(bool b) { return b ? "1" : "0"; }

std::string run_ours(const std::string& workdir) {
    const std::string ua = "11111111-2222-3333-4444-555555555555";
    const std::string ut = "dc97e77d-d581-4b83-9b42-661867150411";
    const std::string axml =
        "<domain type='test'><name>a</name><uuid>" + ua + "</uuid><memory>1024</memory><os><type>hvm</type></os>"
        "<devices><disk type='file' device='disk'><source file='/a.img'/><target dev='vda' bus='virtio'/></disk>"
        "<interface type='network'><mac address='52:54:00:12:34:56'/><source network='default'/></interface></devices></domain>";
    const std::string txml = "<domain type='test'><name>tr</name><uuid>" + ut +
                             "</uuid><memory>2048</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>";
    auto small = [](const std::string& name, const std::string& uuid) {
        return "<domain type='test'><name>" + name + "</name><uuid>" + uuid +
               "</uuid><memory>1024</memory><os><type>hvm</type></os></domain>";
    };
    const std::string other = workdir + "/py.sav";

    auto c = conn_t::open("test:///default");
    recorder r;
    r.step("type", [&] { return c.type(); });
    r.step("version", [&] { return std::to_string(c.version()); });
    r.step("maxvcpus", [&] { return std::to_string(c.max_vcpus()); });
    r.step("hostname", [&] { return c.hostname(); });
    r.step("nodeinfo", [&] {
        auto n = c.node_info();
        return n.model + " " + std::to_string(n.memory_kib / 1024) + " " + std::to_string(n.cpus) + " " +
               std::to_string(n.mhz) + " " + std::to_string(n.nodes) + " " + std::to_string(n.sockets) + " " +
               std::to_string(n.cores) + " " + std::to_string(n.threads);
    });
    r.step("secmodel", [&] {
        auto s = c.call<op::node_get_security_model>({});
        return s.model + "|" + s.doi;
    });
    r.step("cpumap", [&] {
        auto m = c.call<op::node_get_cpu_map>({});
        std::string bits;
        int online = 0;
        for (bool b : m) {
            bits += b ? '1' : '0';
            online += b ? 1 : 0;
        }
        return std::to_string(m.size()) + " " + bits + " " + std::to_string(online);
    });
    r.step("caps", [&] { return c.capabilities(); });
    auto d = c.lookup_domain_by_name("test");
    r.step("xml", [&] { return d.xml_desc(); });
    r.step("xml-inactive", [&] { return d.xml_desc(xml_flags::inactive); });
    r.step("xml-badflags", [&] { return d.xml_desc(16); });
    r.step("info", [&] { return info_text(d.info()); });
    r.step("state", [&] { return state_text(d.state()); });
    r.step("state-flags", [&] { return state_text(d.state(1)); });
    r.step("ostype", [&] { return d.os_type(); });
    r.step("maxmem", [&] { return std::to_string(d.max_memory()); });
    r.step("maxvcpus-dom", [&] { return std::to_string(d.max_vcpus()); });
    r.step("seclabel", [&] {
        auto l = d.security_label();
        return l.label + " " + bool_text(l.enforcing);
    });
    r.step("vcpus", [&] { return vcpus_text(d.vcpus()); });
    r.step("schedtype", [&] {
        auto s = d.scheduler_type();
        return s.name + " " + std::to_string(s.nparams);
    });
    r.step("schedparams", [&] { return std::to_string(std::get<std::uint32_t>(d.scheduler_parameters()[0].value)); });
    r.act("blockstats-empty", [&] { (void)d.block_stats(""); });
    r.act("blockstats-bad", [&] { (void)d.block_stats("vdz"); });
    r.act("ifstats-bad", [&] { (void)d.interface_stats("x"); });
    r.step("managedsave", [&] { return bool_text(d.has_managed_save_image()); });
    r.step("snapnum", [&] { return std::to_string(d.call<op::domain_snapshot_num>({d.ref(), 0})); });
    r.act("lookup-name", [&] { (void)c.lookup_domain_by_name("nope"); });
    r.act("lookup-id", [&] { (void)c.lookup_domain_by_id(99); });
    r.act("lookup-uuid", [&] { (void)c.lookup_domain_by_uuid_string("6695eb01-f6a4-8304-79aa-97f2502e1930"); });
    r.act("netlookup-name", [&] { (void)c.lookup_network_by_name("x"); });
    r.act("netlookup-uuid", [&] { (void)c.lookup_network_by_uuid_string("6695eb01-f6a4-8304-79aa-97f2502e1930"); });
    r.act("resume-running", [&] { d.resume(); });
    r.act("create-running", [&] { d.create(); });
    r.act("suspend", [&] { d.suspend(); });
    r.act("suspend-again", [&] { d.suspend(); });
    r.step("state-paused", [&] { return state_text(d.state()); });
    r.act("resume", [&] { d.resume(); });
    r.step("state-resumed", [&] { return state_text(d.state()); });
    auto a = c.define_domain_xml(axml);
    r.step("a-xml", [&] { return a.xml_desc(); });
    r.step("a-id", [&] { return std::to_string(a.id()); });
    r.step("a-state", [&] { return state_text(a.state()); });
    r.act("a-suspend", [&] { a.suspend(); });
    r.act("a-resume", [&] { a.resume(); });
    r.act("a-shutdown", [&] { a.shutdown(); });
    r.act("a-destroy", [&] { a.destroy(); });
    r.act("a-reboot", [&] { a.reboot(); });
    r.act("a-save", [&] { a.save(workdir + "/never"); });
    r.act("a-coredump", [&] { a.core_dump(workdir + "/never"); });
    r.step("a-vcpus", [&] { return vcpus_text(a.vcpus()); });
    r.act("a-pin", [&] { a.pin_vcpu(0, {true}); });
    r.act("a-blockstats", [&] { (void)a.block_stats("vda"); });
    r.step("a-seclabel", [&] {
        auto l = a.security_label();
        return l.label + " " + bool_text(l.enforcing);
    });
    r.step("a-maxvcpus", [&] { return std::to_string(a.max_vcpus()); });
    r.act("a-setmem-live", [&] { a.set_memory(512, affect::live); });
    r.act("a-setmem", [&] { a.set_memory(512, affect::current); });
    r.step("a-info", [&] { return info_text(a.info()); });
    r.act("a-setmem-big", [&] { a.set_memory(5000, affect::current); });
    r.act("a-setmem-both", [&] { a.set_memory(5000, affect::live | affect::config); });
    r.act("a-setmaxmem", [&] { a.set_max_memory(2048); });
    r.step("a-info2", [&] { return info_text(a.info()); });
    r.act("a-setvcpus-live", [&] { a.set_vcpus(1, affect::live); });
    r.act("a-setvcpus-40", [&] { a.set_vcpus(40, affect::current); });
    r.act("a-setvcpus-3", [&] { a.set_vcpus(3, affect::current); });
    r.act("a-setvcpus-max-nocfg", [&] { a.set_vcpus(4, affect::maximum); });
    r.act("a-setvcpus-max", [&] { a.set_vcpus(4, affect::maximum | affect::config); });
    r.act("a-setvcpus-3b", [&] { a.set_vcpus(3, affect::current); });
    r.step("a-vcpusflags-cfg", [&] { return std::to_string(a.vcpus_flags(affect::config)); });
    r.step("a-vcpusflags-max", [&] { return std::to_string(a.vcpus_flags(affect::config | affect::maximum)); });
    r.step("a-vcpusflags-both", [&] { return std::to_string(a.vcpus_flags(affect::config | affect::live)); });
    r.step("a-xml2", [&] { return a.xml_desc(); });
    r.act("a-create", [&] { a.create(); });
    r.step("a-id2", [&] { return std::to_string(a.id()); });
    r.step("a-state2", [&] { return state_text(a.state()); });
    r.step("a-xml3", [&] { return a.xml_desc(); });
    r.act("a-setmem-maxlive", [&] { a.set_memory(4096, affect::live | affect::maximum); });
    r.act("a-setmem-cfg", [&] { a.set_memory(100, affect::config); });
    r.step("a-info3", [&] { return info_text(a.info()); });
    r.step("a-xml-inactive", [&] { return a.xml_desc(xml_flags::inactive); });
    r.act("a-setvcpus-4live", [&] { a.set_vcpus(4, affect::live); });
    r.act("a-setvcpus-5live", [&] { a.set_vcpus(5, affect::live); });
    r.step("a-vcpus2", [&] { return vcpus_text(a.vcpus()); });
    r.act("a-pin-9", [&] { a.pin_vcpu(9, {true}); });
    r.act("a-pin-1", [&] { a.pin_vcpu(1, {true, false, true}); });
    r.step("a-vcpus3", [&] { return vcpus_text(a.vcpus()); });
    r.act("a-ifstats-bad", [&] { (void)a.interface_stats("y"); });
    r.act("a-destroy2", [&] { a.destroy(); });
    r.step("a-state3", [&] { return state_text(a.state()); });
    r.step("a-id3", [&] { return std::to_string(a.id()); });
    r.step("a-info4", [&] { return info_text(a.info()); });
    r.act("a-create2", [&] { a.create(); });
    r.step("a-id4", [&] { return std::to_string(a.id()); });
    r.act("dup-name", [&] { (void)c.define_domain_xml(small("a", "11111111-2222-3333-4444-555555555556")); });
    r.act("dup-uuid", [&] { (void)c.define_domain_xml(small("b", ua)); });
    r.act("create-dup-test", [&] { (void)c.create_domain_xml(small("test", "11111111-2222-3333-4444-555555555557")); });
    r.act("create-active-test", [&] { (void)c.create_domain_xml(small("test", "6695eb01-f6a4-8304-79aa-97f2502e193f")); });
    r.act("create-badflags", [&] { (void)c.create_domain_xml(small("zz", "11111111-2222-3333-4444-555555555558"), 2); });
    auto tr = c.create_domain_xml(txml);
    r.step("tr-id", [&] { return std::to_string(tr.id()); });
    r.step("tr-persistent", [&] { return bool_text(tr.is_persistent()); });
    r.step("tr-xml", [&] { return tr.xml_desc(); });
    r.act("tr-setmem-cfg", [&] { tr.set_memory(100, affect::config); });
    r.act("tr-undefine", [&] { tr.undefine(); });
    r.act("tr-suspend", [&] { tr.suspend(); });
    r.act("tr-shutdown", [&] { tr.shutdown(); });
    r.step("tr-info", [&] { return info_text(tr.info()); });
    r.act("tr-lookup", [&] { (void)c.lookup_domain_by_name("tr"); });
    r.step("numdom", [&] { return std::to_string(c.num_of_domains()); });
    r.step("listdom", [&] {
        std::string out;
        for (int id : c.list_domains()) out += (out.empty() ? "" : " ") + std::to_string(id);
        return out;
    });
    r.step("numdef", [&] { return std::to_string(c.num_of_defined_domains()); });
    r.act("a-undefine-running", [&] { a.undefine(); });
    r.step("a-persistent", [&] { return bool_text(a.is_persistent()); });
    r.act("a-destroy3", [&] { a.destroy(); });
    r.act("a-lookup", [&] { (void)c.lookup_domain_by_name("a"); });
    r.act("undefine-badflags", [&] { d.undefine(4); });
    r.act("destroy-badflags", [&] { d.destroy(2); });
    auto n = c.lookup_network_by_name("default");
    r.step("net-xml", [&] { return n.xml_desc(); });
    r.step("net-xml-inactive", [&] { return n.xml_desc(1); });
    r.step("net-bridge", [&] { return n.bridge_name(); });
    r.step("net-active", [&] { return bool_text(n.is_active()); });
    r.step("net-persistent", [&] { return bool_text(n.is_persistent()); });
    r.step("net-autostart", [&] { return bool_text(n.autostart()); });
    r.act("net-create-active", [&] { n.create(); });
    r.act("net-undefine-active", [&] { n.undefine(); });
    r.act("net-createxml-active", [&] {
        (void)c.create_network_xml("<network><name>default</name><uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid></network>");
    });
    r.act("net-destroy", [&] { n.destroy(); });
    r.step("net-active2", [&] { return bool_text(n.is_active()); });
    r.step("net-listdef", [&] {
        std::string out;
        for (const auto& name : c.list_defined_networks()) out += (out.empty() ? "" : " ") + name;
        return out;
    });
    r.act("net-create", [&] { n.create(); });
    auto n1 = c.define_network_xml("<network><name>n1</name><uuid>" + ua + "</uuid></network>");
    r.step("n1-xml", [&] { return n1.xml_desc(); });
    r.step("n1-bridge", [&] { return n1.bridge_name(); });
    r.act("n1-dup-name", [&] {
        (void)c.define_network_xml("<network><name>n1</name><uuid>11111111-2222-3333-4444-555555555556</uuid></network>");
    });
    r.act("n1-dup-uuid", [&] { (void)c.define_network_xml("<network><name>n2</name><uuid>" + ua + "</uuid></network>"); });
    r.act("n1-setautostart", [&] { n1.set_autostart(true); });
    r.step("n1-autostart", [&] { return bool_text(n1.autostart()); });
    r.act("n1-create", [&] { n1.create(); });
    r.act("n1-create-again", [&] { n1.create(); });
    r.act("n1-undefine-running", [&] { n1.undefine(); });
    r.act("n1-destroy", [&] { n1.destroy(); });
    r.act("n1-undefine", [&] { n1.undefine(); });
    auto nt = c.create_network_xml("<network><name>nt</name><uuid>" + ut + "</uuid><bridge name='virbr7'/></network>");
    r.step("nt-xml", [&] { return nt.xml_desc(); });
    r.step("nt-persistent", [&] { return bool_text(nt.is_persistent()); });
    r.act("nt-destroy", [&] { nt.destroy(); });
    r.act("nt-lookup", [&] { (void)c.lookup_network_by_name("nt"); });
    r.step("nt-isactive", [&] { return bool_text(nt.is_active()); });
    r.step("nt-bridge", [&] { return nt.bridge_name(); });
    r.step("numnet", [&] { return std::to_string(c.num_of_networks()); });
    r.step("numdefnet", [&] { return std::to_string(c.num_of_defined_networks()); });
    r.act("save-badpath", [&] { d.save("/nonexistent/dir/x"); });
    r.act("coredump-badpath", [&] { d.core_dump("/nonexistent/dir/x"); });
    r.act("restore-missing", [&] { c.restore_domain("/nonexistent/x"); });
    std::ofstream(workdir + "/garbage") << "hello world garbage data";
    r.act("restore-garbage", [&] { c.restore_domain(workdir + "/garbage"); });
    r.act("test-destroy", [&] { d.destroy(); });
    r.act("restore-other", [&] { c.restore_domain(other); });
    r.step("test-after-restore", [&] { return c.lookup_domain_by_name("test").xml_desc(); });
    r.step("test-state-restored", [&] { return state_text(c.lookup_domain_by_name("test").state()); });
    r.act("restore-again", [&] { c.restore_domain(other); });
    r.act("test-coredump-crash", [&] { c.lookup_domain_by_name("test").core_dump(workdir + "/core", 1); });
    r.step("test-state-crashed", [&] { return state_text(c.lookup_domain_by_name("test").state()); });
    return r.str();
}

std::string run_command(const std::string& cmd, int& status) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        status = -1;
        return out;
    }
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    status = ::pclose(p);
    return out;
}

bool oracle_available() {
    int status = 0;
    (void)run_command("/usr/bin/python3 -c 'import libvirt' 2>/dev/null", status);
    return status == 0;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        char templ[] = "/tmp/virtpp-oracle-XXXXXX";
        path = ::mkdtemp(templ);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

struct test_driver_oracle : ::testing::Test {
    void SetUp() override {
        if (!oracle_available()) GTEST_SKIP() << "python3-libvirt (the 9.0 oracle) is not installed";
        set_error_handler([](const error_info&) {});
    }
    void TearDown() override { set_error_handler({}); }
};

TEST_F(test_driver_oracle, same_calls_same_results) {
    temp_dir dir;
    auto script = (dir.path / "oracle.py").string();
    std::ofstream(script) << oracle_script;
    // each side restores the other's save image
    {
        auto c = conn_t::open("test:///default");
        c.lookup_domain_by_name("test").save((dir.path / "cpp.sav").string());
    }
    int status = 0;
    (void)run_command("/usr/bin/python3 " + script + " save " + dir.path.string() + " 2>&1", status);
    ASSERT_EQ(status, 0);
    auto theirs = lines_of(run_command("/usr/bin/python3 " + script + " run " + dir.path.string() + " 2>&1", status));
    ASSERT_EQ(status, 0);
    auto ours = lines_of(run_ours(dir.path.string()));
    ASSERT_GT(theirs.size(), 150u);
    EXPECT_EQ(ours.size(), theirs.size());
    for (std::size_t i = 0; i < std::min(ours.size(), theirs.size()); ++i) EXPECT_EQ(ours[i], theirs[i]) << "step " << i;
}

TEST_F(test_driver_oracle, save_images_are_interchangeable) {
    temp_dir dir;
    auto ours_file = (dir.path / "ours.sav").string();
    {
        auto c = conn_t::open("test:///default");
        c.lookup_domain_by_name("test").save(ours_file);
    }
    int status = 0;
    auto out = run_command("/usr/bin/python3 -c \"import libvirt\nlibvirt.registerErrorHandler(lambda c,e: None, None)\n"
                           "c = libvirt.open('test:///default')\nc.lookupByName('test').destroy()\nc.restore('" +
                               ours_file + "')\nprint(c.lookupByName('test').ID())\"",
                           status);
    ASSERT_EQ(status, 0) << out;
    EXPECT_EQ(out, "2\n");
}

TEST_F(test_driver_oracle, default_capabilities_match) {
    int status = 0;
    auto theirs = run_command("/usr/bin/python3 -c \"import libvirt\nprint(libvirt.open('test:///default')"
                              ".getCapabilities(), end='')\" 2>&1",
                              status);
    ASSERT_EQ(status, 0);
    auto c = conn_t::open("test:///default");
    EXPECT_EQ(c.capabilities(), theirs);
}

TEST_F(test_driver_oracle, host_file_node_info_matches) {
    // a host file 9.0 accepts (its own testnode.xml needs <maxMemory slots=>, see docs/test-driver.md)
    const std::string file = std::string(VIRTPP_SOURCE_DIR) + "/tests/data/testhost/host.xml";
    int status = 0;
    auto theirs = run_command("virsh -c test://" + file + " nodeinfo 2>&1", status);
    ASSERT_EQ(status, 0) << theirs;
    auto c = conn_t::open("test://" + file);
    auto n = c.node_info();
    EXPECT_NE(theirs.find("CPU model:           " + n.model + "\n"), std::string::npos) << theirs;
    EXPECT_NE(theirs.find("CPU(s):              " + std::to_string(n.cpus) + "\n"), std::string::npos) << theirs;
    EXPECT_NE(theirs.find("CPU frequency:       " + std::to_string(n.mhz) + " MHz\n"), std::string::npos) << theirs;
    EXPECT_NE(theirs.find("Memory size:         " + std::to_string(n.memory_kib) + " KiB\n"), std::string::npos) << theirs;
    auto list = run_command("virsh -c test://" + file + " list --all 2>&1", status);
    EXPECT_NE(list.find(" 1    guest-a   running"), std::string::npos) << list;
    EXPECT_NE(list.find(" -    guest-b   shut off"), std::string::npos) << list;
}

TEST_F(test_driver_oracle, host_file_domains_match) {
    // the test namespace (run state, transient, managed save) and a foreign prefix, read both ways
    const std::string file = std::string(VIRTPP_SOURCE_DIR) + "/tests/data/testhost/managed.xml";
    const std::string script =
        "import libvirt\n"
        "libvirt.registerErrorHandler(lambda c, e: None, None)\n"
        "c = libvirt.open('test://" + file + "')\n"
        "for name in ['saved', 'fleeting', 'other']:\n"
        "    d = c.lookupByName(name)\n"
        "    print(name, d.ID(), d.state()[0], d.state()[1], d.isPersistent(), d.hasManagedSaveImage(0))\n"
        "try:\n"
        "    c.lookupByName('saved').undefine()\n"
        "except libvirt.libvirtError as e:\n"
        "    print(e.get_error_code(), e.get_error_domain(), e.get_error_message())\n";
    temp_dir dir;
    auto path = (dir.path / "host.py").string();
    std::ofstream(path) << script;
    int status = 0;
    auto theirs = run_command("/usr/bin/python3 " + path + " 2>&1", status);
    ASSERT_EQ(status, 0) << theirs;
    auto c = conn_t::open("test://" + file);
    std::string ours;
    for (const char* name : {"saved", "fleeting", "other"}) {
        auto d = c.lookup_domain_by_name(name);
        auto st = d.state();
        ours += std::string(name) + " " + std::to_string(d.id()) + " " + std::to_string(static_cast<int>(st.state)) + " " +
                std::to_string(st.reason) + " " + bool_text(d.is_persistent()) + " " + bool_text(d.has_managed_save_image()) +
                "\n";
    }
    try {
        c.lookup_domain_by_name("saved").undefine();
    } catch (const virtpp::error& e) {
        ours += std::to_string(static_cast<int>(e.code())) + " " + std::to_string(static_cast<int>(e.domain())) + " " +
                e.what() + "\n";
    }
    // python prints booleans of isPersistent / hasManagedSaveImage as 0/1 too
    EXPECT_EQ(ours, theirs);
}

}  // namespace
