#!/usr/bin/python3
"""QEMU driver benchmark: virtppd against Debian's libvirtd 9.0, stock virsh as the client of both.

Run by benchmarks/run_qemu.sh, which prepares WORK (configuration files, libvirt's private mount
namespace held by a process, virtlogd inside it) and cleans up after. This program starts and stops
the two daemons itself (first-connection runs restart them), times every `virsh` invocation with a
monotonic clock, checks that each side did the work, and writes the results files.

Sides: "virtppd" (our daemon, VIRTPP_QEMU_STATE_DIR in WORK), "libvirtd" (run under reaper.py, a
child subreaper that reaps orphans at once, as systemd does on an ordinary host) and, for
start/destroy only, "libvirtd-stock" (libvirtd started directly: its daemonized qemu is reaped by
this machine's PID 1, which does so about 1.6 s late, and libvirt's destroy waits for that).
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

perf = time.perf_counter
GUEST_COUNT = 50


class Failure(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def guest_xml(name, kind, mac=None):
    mac_line = f"<mac address='{mac}'/>" if mac else ""
    return f"""<domain type='{kind}'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <interface type='user'>{mac_line}</interface>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>
  </devices>
</domain>
"""


def proc_state(pid):
    """'absent', 'zombie' or 'alive' for a pid."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except FileNotFoundError:
        return "absent"
    return "zombie" if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X") else "alive"


def kill(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def empty_dir(path):
    """Remove what is in a directory, keeping the directory (the daemons expect it)."""
    if not os.path.isdir(path):
        return
    for entry in os.listdir(path):
        full = os.path.join(path, entry)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        else:
            os.unlink(full)


def is_guest_qemu(pid, name):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f"guest={name},".encode() in f.read()
    except OSError:
        return False


def free_vnc_display():
    for display in range(100, 1000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", 5900 + display))
                return display
            except OSError:
                continue
    raise Failure("no free VNC port")


def qmp_until(f, key):
    """Read QMP lines until one carries `key` (events in between are skipped)."""
    while True:
        line = f.readline()
        if not line:
            raise Failure("qemu closed the monitor")
        msg = json.loads(line)
        if key in msg:
            return msg
        if "error" in msg:
            raise Failure(f"QMP error: {msg['error']}")


def qemu_floor_once(argv, work):
    """What qemu alone costs for the same command line: exec with the monitor socket bound as
    fd 3 (as virtppd passes it), QMP greeting, qmp_capabilities, cont → running; then SIGTERM →
    exited and reaped. No daemon, no virsh."""
    path = os.path.join(work, "floor.monitor")
    if os.path.exists(path):
        os.unlink(path)
    argv = list(argv)
    i = argv.index("-vnc")
    argv[i + 1] = re.sub(r"^([^:]*):\d+", lambda m: f"{m.group(1)}:{free_vnc_display()}", argv[i + 1])
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(1)
    fd = listener.fileno()
    t0 = perf()
    child = subprocess.Popen(argv, preexec_fn=lambda: os.dup2(fd, 3), pass_fds=(fd,),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    listener.close()
    try:
        mon = socket.socket(socket.AF_UNIX)
        mon.connect(path)
        f = mon.makefile("rw")
        qmp_until(f, "QMP")
        for command in ("qmp_capabilities", "cont"):
            f.write(json.dumps({"execute": command}) + "\n")
            f.flush()
            qmp_until(f, "return")
        t_running = perf() - t0
        t1 = perf()
        child.send_signal(signal.SIGTERM)
        child.wait()
        t_gone = perf() - t1
        mon.close()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return t_running, t_gone


class Daemon:
    def __init__(self, name, work):
        self.name = name
        self.work = work
        self.popen = None
        self.pid = None

    @property
    def uri(self):
        return f"qemu+unix:///system?socket={self.sock}"

    def record_pid(self, pid):
        with open(os.path.join(self.work, "pids", self.name), "w") as f:
            f.write(f"{pid}\n")

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def stop(self):
        if self.popen is None:
            return
        if self.popen.poll() is None:
            kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                kill(self.pid, signal.SIGKILL)
                self.popen.wait(10)
        self.popen = None
        self.pid = None
        try:
            os.unlink(os.path.join(self.work, "pids", self.name))
        except FileNotFoundError:
            pass


class Virtppd(Daemon):
    def __init__(self, work, binary):
        super().__init__("virtppd", work)
        self.binary = binary
        self.dir = os.path.join(work, "vp")
        self.state = os.path.join(self.dir, "s")
        self.sock = os.path.join(self.dir, "sock", "libvirt-sock")

    def cache_dir(self):
        return os.path.join(self.state, "cache")

    def start(self, reaper=False):
        env = dict(os.environ, VIRTPP_QEMU_STATE_DIR=self.state)
        out = open(os.path.join(self.dir, "stdout"), "ab")
        self.popen = subprocess.Popen([self.binary, "-f", os.path.join(self.dir, "conf"),
                                       "-p", os.path.join(self.dir, "pid")],
                                      env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        self.pid = self.popen.pid
        self.record_pid(self.pid)

    def qemu_pid(self, guest):
        with open(os.path.join(self.state, "run", guest + ".json")) as f:
            return json.load(f)["pid"]


class Libvirtd(Daemon):
    def __init__(self, work, ns_pid, reaper_script):
        super().__init__("libvirtd", work)
        self.dir = os.path.join(work, "lv")
        self.ns_pid = ns_pid
        self.reaper_script = reaper_script
        self.sock = os.path.join(self.dir, "sock", "libvirt-sock")
        self.reaped = False

    def cache_dir(self):
        return os.path.join(self.dir, "var", "cache", "libvirt", "qemu")

    def start(self, reaper=True):
        # Only the QEMU driver module is loadable (libvirtd skips the missing optional ones).
        env = dict(os.environ, LIBVIRT_DRIVER_DIR=os.path.join(self.dir, "drivers"))
        cmd = ["nsenter", "-t", str(self.ns_pid), "-m", "--", "/usr/sbin/libvirtd",
               "-f", os.path.join(self.dir, "libvirtd.conf"), "-p", os.path.join(self.dir, "libvirtd.pid")]
        out = open(os.path.join(self.dir, "log", "libvirtd.out"), "ab")
        pidfile = os.path.join(self.dir, "libvirtd.realpid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        self.reaped = reaper
        if reaper:
            self.popen = subprocess.Popen([sys.executable, self.reaper_script, pidfile] + cmd,
                                          env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
            self.record_pid(self.popen.pid)  # the reaper; libvirtd's own pid follows
            deadline = perf() + 10
            while not os.path.exists(pidfile):
                if perf() > deadline or self.popen.poll() is not None:
                    raise Failure("libvirtd under reaper.py did not start")
                time.sleep(0.001)
            with open(pidfile) as f:
                self.pid = int(f.read())
            with open(os.path.join(self.work, "pids", "libvirtd-under-reaper"), "w") as f:
                f.write(f"{self.pid}\n")
        else:
            # nsenter execs libvirtd: the child's pid is libvirtd's
            self.popen = subprocess.Popen(cmd, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
            self.pid = self.popen.pid
            self.record_pid(self.pid)

    def stop(self):
        if self.popen is not None and self.popen.poll() is None:
            kill(self.pid, signal.SIGTERM)  # libvirtd itself; the reaper exits after it
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                kill(self.pid, signal.SIGKILL)
                if self.reaped:
                    kill(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        self.popen = None
        self.pid = None
        for n in ("libvirtd", "libvirtd-under-reaper"):
            try:
                os.unlink(os.path.join(self.work, "pids", n))
            except FileNotFoundError:
                pass

    def qemu_pid(self, guest):
        with open(os.path.join(self.dir, "run", "qemu", guest + ".pid")) as f:
            return int(f.read())


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = args.work
        self.vp = Virtppd(self.work, args.virtppd)
        self.lv = Libvirtd(self.work, args.ns_pid, args.reaper)
        self.samples = {}    # test -> side -> [seconds]
        self.checks = {}     # test -> side -> {check: count}
        self.failures = []   # {"side", "test", "command", "error"}
        self.broken = set()  # (side, test) that failed: not measured further
        self.kinds = ["kvm", "qemu"] if args.kvm else ["qemu"]
        self.floor_argv = {}  # guest type -> virtppd's qemu command line, for the qemu-alone floor

    # ---- helpers
    def virsh(self, d, *args, check=True):
        cmd = ["virsh", "-q", "-c", d.uri, *args]
        t0 = perf()
        r = subprocess.run(cmd, capture_output=True, text=True)
        elapsed = perf() - t0
        if check and r.returncode != 0:
            raise Failure(f"`{' '.join(cmd)}` exited {r.returncode}: {(r.stderr or r.stdout).strip()}")
        return elapsed, r

    def add(self, test, side, seconds):
        self.samples.setdefault(test, {}).setdefault(side, []).append(seconds)

    def count(self, test, side, check, ok=True):
        c = self.checks.setdefault(test, {}).setdefault(side, {})
        key = check if ok else check + " FAILED"
        c[key] = c.get(key, 0) + 1

    def fail(self, side, test, err):
        log(f"FAILURE {side} {test}: {err}")
        self.failures.append({"side": side, "test": test, "error": str(err)})
        self.broken.add((side, test))

    def domstate(self, d, guest):
        _, r = self.virsh(d, "domstate", guest)
        return r.stdout.strip()

    # ---- phases
    def define_guests(self, d):
        xml_dir = os.path.join(self.work, "xml")
        os.makedirs(xml_dir, exist_ok=True)
        names = []
        for i, kind in enumerate(self.kinds):
            names.append((f"vqb-{'tcg' if kind == 'qemu' else kind}", kind, f"52:54:00:aa:bb:{i + 1:02x}"))
        for i in range(GUEST_COUNT - len(names)):
            names.append((f"vqb-idle-{i:02d}", "qemu", None))
        for name, kind, mac in names:
            path = os.path.join(xml_dir, name + ".xml")
            with open(path, "w") as f:
                f.write(guest_xml(name, kind, mac))
            self.virsh(d, "define", path)

    def lifecycle_once(self, d, side, kind, record):
        guest = f"vqb-{'tcg' if kind == 'qemu' else kind}"
        tag = "tcg" if kind == "qemu" else kind
        t_start, _ = self.virsh(d, "start", guest)
        state = self.domstate(d, guest)
        if state != "running":
            raise Failure(f"domstate {guest} after start: '{state}'")
        pid = d.qemu_pid(guest)
        if not is_guest_qemu(pid, guest):
            raise Failure(f"pid {pid} from the state file is not {guest}'s qemu")
        if d is self.vp and kind not in self.floor_argv:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                self.floor_argv[kind] = [a.decode() for a in f.read().split(b"\0")[:-1]]
        t_destroy, _ = self.virsh(d, "destroy", guest)
        after = proc_state(pid)
        state = self.domstate(d, guest)
        if state != "shut off":
            raise Failure(f"domstate {guest} after destroy: '{state}'")
        if record:
            self.add(f"start_{tag}", side, t_start)
            self.add(f"destroy_{tag}", side, t_destroy)
            self.count(f"start_{tag}", side, "domstate running")
            self.count(f"destroy_{tag}", side, "domstate shut off")
            self.count(f"destroy_{tag}", side, "qemu exited when virsh returned", after != "alive")
            self.count(f"destroy_{tag}", side, "qemu reaped when virsh returned", after == "absent")
        if after == "alive":
            raise Failure(f"qemu pid {pid} of {guest} still running after `virsh destroy` returned")

    def lifecycle(self, reps, lv_side, floor=False):
        for i in range(reps):
            for kind in self.kinds:
                tag = "tcg" if kind == "qemu" else kind
                if floor and kind in self.floor_argv and ("qemu-floor", f"start_{tag}") not in self.broken:
                    try:
                        t_running, t_gone = qemu_floor_once(self.floor_argv[kind], self.work)
                        self.add(f"start_{tag}", "qemu-floor", t_running)
                        self.add(f"destroy_{tag}", "qemu-floor", t_gone)
                    except (Failure, OSError, ValueError) as e:
                        self.fail("qemu-floor", f"start_{tag}", e)
                pair = [(self.vp, "virtppd"), (self.lv, lv_side)]
                if i % 2:
                    pair.reverse()
                for d, side in pair:
                    if (side, f"start_{tag}") in self.broken:
                        continue
                    try:
                        self.lifecycle_once(d, side, kind, record=True)
                    except Failure as e:
                        self.fail(side, f"start_{tag}", e)
            log(f"  lifecycle {lv_side} {i + 1}/{reps}")

    def api_calls(self, reps):
        """create()/destroy() timed inside one python3-libvirt connection per daemon: the daemon's
        own share of `virsh start`/`destroy`, without virsh's process start, connect and lookup."""
        import libvirt
        libvirt.registerErrorHandler(lambda *_: None, None)
        conns = {"virtppd": (self.vp, libvirt.open(self.vp.uri)), "libvirtd": (self.lv, libvirt.open(self.lv.uri))}
        try:
            for i in range(reps):
                for kind in self.kinds:
                    tag = "tcg" if kind == "qemu" else kind
                    guest = f"vqb-{tag}"
                    order = ["virtppd", "libvirtd"] if i % 2 == 0 else ["libvirtd", "virtppd"]
                    for side in order:
                        d, conn = conns[side]
                        if (side, f"api_create_{tag}") in self.broken:
                            continue
                        try:
                            dom = conn.lookupByName(guest)
                            t0 = perf()
                            dom.create()
                            t_create = perf() - t0
                            if dom.state()[0] != libvirt.VIR_DOMAIN_RUNNING:
                                raise Failure(f"{guest} not running after create(): state {dom.state()}")
                            pid = d.qemu_pid(guest)
                            t0 = perf()
                            dom.destroy()
                            t_destroy = perf() - t0
                            after = proc_state(pid)
                            if after == "alive":
                                raise Failure(f"qemu pid {pid} still running after destroy() returned")
                            self.add(f"api_create_{tag}", side, t_create)
                            self.add(f"api_destroy_{tag}", side, t_destroy)
                            self.count(f"api_destroy_{tag}", side, "qemu reaped when destroy() returned",
                                       after == "absent")
                        except (Failure, libvirt.libvirtError) as e:
                            self.fail(side, f"api_create_{tag}", e)
        finally:
            for _, conn in conns.values():
                conn.close()

    def alternating(self, test, reps):
        """(daemon, side) pairs for reps rounds, the order swapped every round, skipping a side
        once it has failed this test."""
        for i in range(reps):
            pair = [(self.vp, "virtppd"), (self.lv, "libvirtd")]
            if i % 2:
                pair.reverse()
            for d, side in pair:
                if (side, test) not in self.broken:
                    yield d, side

    def simple(self, test, reps, *args, expect_lines=None):
        for d, side in self.alternating(test, reps):
            try:
                t, r = self.virsh(d, *args)
                if expect_lines is not None:
                    n = len([ln for ln in r.stdout.splitlines() if ln.strip()])
                    if n != expect_lines:
                        raise Failure(f"`virsh {' '.join(args)}` listed {n} guests, not {expect_lines}")
                    self.count(test, side, f"{expect_lines} guests listed")
                self.add(test, side, t)
            except Failure as e:
                self.fail(side, test, e)

    def first_connection(self, d, side, cold, reaper):
        test = "first_conn_cold" if cold else "first_conn_warm"
        d.stop()
        if cold:
            empty_dir(d.cache_dir())
        t0 = perf()
        d.start(reaper=reaper)
        tries = 0
        while True:
            if not os.path.exists(d.sock):
                if not d.alive():
                    raise Failure(f"{side} exited during start-up")
                if perf() - t0 > 120:
                    raise Failure(f"{side} made no socket within 120 s")
                time.sleep(0.002)
                continue
            tries += 1
            _, r = self.virsh(d, "uri", check=False)
            if r.returncode == 0 and r.stdout.strip():
                break
            if perf() - t0 > 120 or not d.alive():
                raise Failure(f"`virsh -c {d.uri} uri` never answered: {r.stderr.strip()}")
            time.sleep(0.005)
        elapsed = perf() - t0
        self.add(test, side, elapsed)
        # the restarted daemon still knows every guest
        _, r = self.virsh(d, "list", "--all", "--name")
        n = len([ln for ln in r.stdout.splitlines() if ln.strip()])
        self.count(test, side, f"{GUEST_COUNT} guests listed after restart", n == GUEST_COUNT)
        if cold:
            # work a daemon defers past its first answer (a capabilities probe) shows in its first start
            t_start, _ = self.virsh(d, "start", "vqb-tcg")
            self.add("first_start_cold", side, t_start)
            self.count("first_start_cold", side, "domstate running", self.domstate(d, "vqb-tcg") == "running")
            self.virsh(d, "destroy", "vqb-tcg")
        return elapsed, tries

    def first_connections(self, cold, reps, final_reaper):
        test = "first_conn_cold" if cold else "first_conn_warm"
        for d, side in self.alternating(test, reps):
            try:
                t, tries = self.first_connection(d, side, cold, reaper=final_reaper)
                log(f"  {test} {side}: {t * 1000:.0f} ms ({tries} virsh attempts)")
            except Failure as e:
                self.fail(side, test, e)
                if not d.alive():
                    d.stop()
                    d.start(reaper=final_reaper)

    def run(self):
        a = self.args
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        load_before = open("/proc/loadavg").read().split()[:3]
        wall0 = perf()
        self.vp.start()
        self.lv.start(reaper=False)
        for d in (self.vp, self.lv):
            deadline = perf() + 60
            while True:
                _, r = self.virsh(d, "uri", check=False)
                if r.returncode == 0:
                    break
                if perf() > deadline or not d.alive():
                    raise Failure(f"{d.name} did not start: {r.stderr.strip()}")
                time.sleep(0.02)
        log("defining guests (libvirtd probes qemu's capabilities on the first define)")
        for d, side in ((self.vp, "virtppd"), (self.lv, "libvirtd")):
            try:
                self.define_guests(d)
            except Failure as e:
                self.fail(side, "define", e)
        # warm-up: one start/destroy of each guest on each side, not recorded
        for kind in self.kinds:
            for d, side in ((self.vp, "virtppd"), (self.lv, "libvirtd-stock")):
                try:
                    self.lifecycle_once(d, side, kind, record=False)
                except Failure as e:
                    self.fail(side, f"start_{'tcg' if kind == 'qemu' else kind}", e)
        log("virsh uri (connect, one call, close) and list --all")
        self.simple("connect_uri", a.list_reps, "uri")
        self.simple("list_all_50", a.list_reps, "list", "--all", expect_lines=GUEST_COUNT)
        log("start/destroy, libvirtd started directly (this machine's PID 1 reaps its qemu)")
        self.lifecycle(a.stock_reps, "libvirtd-stock")
        log("first connection after a daemon start, empty capabilities cache")
        self.first_connections(True, a.cold_reps, final_reaper=True)
        log("first connection after a daemon start, capabilities cached")
        self.first_connections(False, a.warm_reps, final_reaper=True)
        log("start/destroy, libvirtd under a prompt child subreaper")
        self.lifecycle(a.reps, "libvirtd", floor=True)
        log("create()/destroy() alone through python3-libvirt")
        self.api_calls(a.reps)
        self.vp.stop()
        self.lv.stop()
        return {
            "started": started,
            "wall_seconds": round(perf() - wall0, 1),
            "load_before": load_before,
            "load_after": open("/proc/loadavg").read().split()[:3],
        }


def kvm_modules():
    try:
        names = sorted(n for n in os.listdir("/sys/module") if n.startswith("kvm"))
    except OSError:
        names = []
    return ", ".join(names) or "kvm"


def describe_machine(args):
    def cmd(*c):
        try:
            return subprocess.run(c, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "kvm": f"usable ({kvm_modules()})" if args.kvm else "not usable",
        "qemu": cmd("qemu-system-x86_64", "--version").splitlines()[0] if shutil.which("qemu-system-x86_64") else "",
        "libvirtd": cmd("/usr/sbin/libvirtd", "--version"),
        "virsh": cmd("virsh", "--version"),
        "virtppd": cmd(args.virtppd, "--version"),
        "virtppd_binary": args.virtppd,
        "virtpp_commit": source_commit(args.virtppd),
        "virtppd_built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.stat(args.virtppd).st_mtime)),
    }


def source_commit(binary):
    """The commit virtppd was built from: its build directory's source tree, either a git checkout
    (with "+changes" when src/, include/ or tools/ differ from HEAD now: the binary may hold them)
    or a `git archive` export holding a .commit file."""
    build = os.path.dirname(os.path.dirname(os.path.abspath(binary)))
    source = ""
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_HOME_DIRECTORY:"):
                    source = line.split("=", 1)[1].strip()
    except OSError:
        return "unknown"
    try:
        with open(os.path.join(source, ".commit")) as f:
            return f.read().strip() + " (git archive export)"
    except OSError:
        pass
    r = subprocess.run(["git", "-C", source, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if r.returncode != 0:
        return "unknown"
    dirty = subprocess.run(["git", "-C", source, "status", "--porcelain", "--", "src", "include", "tools"],
                           capture_output=True, text=True).stdout.strip()
    return r.stdout.strip() + (" +changes in the working tree" if dirty else "")


TESTS = [
    ("start_kvm", "`virsh start` → running, type='kvm'"),
    ("destroy_kvm", "`virsh destroy` → qemu gone, type='kvm'"),
    ("start_tcg", "`virsh start` → running, type='qemu' (TCG)"),
    ("destroy_tcg", "`virsh destroy` → qemu gone, type='qemu' (TCG)"),
    ("api_create_kvm", "create() alone (python3-libvirt, open connection), type='kvm'"),
    ("api_destroy_kvm", "destroy() alone (python3-libvirt, open connection), type='kvm'"),
    ("api_create_tcg", "create() alone (python3-libvirt, open connection), type='qemu'"),
    ("api_destroy_tcg", "destroy() alone (python3-libvirt, open connection), type='qemu'"),
    ("list_all_50", "`virsh list --all`, 50 guests defined"),
    ("first_conn_cold", "daemon start → first `virsh uri` answered, 50 guests defined, empty capabilities cache"),
    ("first_conn_warm", "daemon start → first `virsh uri` answered, 50 guests defined, capabilities cached"),
    ("first_start_cold", "the first `virsh start` (type='qemu') after that cold daemon start"),
    ("connect_uri", "`virsh uri` on a running daemon (virsh's own floor: connect, one call, close)"),
]


def stats(xs):
    xs = sorted(xs)
    q = statistics.quantiles(xs, n=10, method="inclusive") if len(xs) >= 2 else [xs[0]] * 9
    return {"n": len(xs), "median_ms": statistics.median(xs) * 1000, "min_ms": xs[0] * 1000,
            "p10_ms": q[0] * 1000, "p90_ms": q[8] * 1000, "max_ms": xs[-1] * 1000}


def summarize(bench, meta, machine, args):
    summary = []
    for test, what in TESTS:
        sides = bench.samples.get(test, {})
        if not sides:
            continue
        row = {"test": test, "what": what, "sides": {s: stats(v) for s, v in sides.items()}}
        vp = row["sides"].get("virtppd")
        for lv_side in ("libvirtd", "libvirtd-stock"):
            lv = row["sides"].get(lv_side)
            if vp and lv:
                row[f"ratio_vs_{lv_side}"] = vp["median_ms"] / lv["median_ms"]
        summary.append(row)
    return {
        "benchmark": "qemu", **meta, "machine": machine,
        "parameters": {"reps": args.reps, "stock_reps": args.stock_reps, "list_reps": args.list_reps,
                       "cold_reps": args.cold_reps, "warm_reps": args.warm_reps, "guests": GUEST_COUNT},
        "summary": summary, "checks": bench.checks, "failures": bench.failures,
        "samples_s": bench.samples,
    }


def fmt(ms):
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 100:
        return f"{ms:.0f} ms"
    return f"{ms:.1f} ms"


def markdown(res):
    m = res["machine"]
    lines = [
        f"# QEMU driver benchmark {res['started']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Linux {m['kernel']}, /dev/kvm {m['kvm']}; "
        f"load average {' '.join(res['load_before'])} at the start, {' '.join(res['load_after'])} at the end; "
        f"{res['wall_seconds']} s in all.",
        f"{m['qemu']}; {m['libvirtd']}; {m['virsh'] and 'virsh ' + m['virsh']}; {m['virtppd']} "
        f"(commit {m['virtpp_commit']}, {m['virtppd_binary']}, built {m['virtppd_built']}).",
        "",
        "Client: stock virsh for both daemons, `qemu+unix:///system?socket=…`; each figure is the wall time "
        "of one whole `virsh` process. `libvirtd` = under a child subreaper that reaps at once (as systemd "
        "would); `libvirtd-stock` = started directly, its daemonized qemu reaped by this machine's PID 1. "
        "`qemu alone` = virtppd's qemu command line run by the benchmark itself (exec → QMP greeting → "
        "qmp_capabilities → cont; SIGTERM → reaped), no daemon and no virsh: the floor.",
        "",
        "| test | virtppd median | libvirtd median | virtppd / libvirtd | libvirtd-stock median | virtppd / libvirtd-stock | qemu alone | n (vp/lv/stock/qemu) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in res["summary"]:
        s = row["sides"]
        def med(side):
            return fmt(s[side]["median_ms"]) if side in s else "—"
        def ratio(side):
            r = row.get(f"ratio_vs_{side}")
            return f"**{r:.3f}**" if r is not None and r < 0.1 else (f"**{r:.2f}**" if r is not None else "—")
        n = "/".join(str(s[x]["n"]) if x in s else "0" for x in ("virtppd", "libvirtd", "libvirtd-stock", "qemu-floor"))
        lines.append(f"| {row['what']} | {med('virtppd')} | {med('libvirtd')} | {ratio('libvirtd')} | "
                     f"{med('libvirtd-stock')} | {ratio('libvirtd-stock')} | {med('qemu-floor')} | {n} |")
    lines += ["", "Spread (ms: min / p10 / median / p90 / max):", "",
              "| test | side | min | p10 | median | p90 | max |", "|---|---|---:|---:|---:|---:|---:|"]
    for row in res["summary"]:
        for side, st in row["sides"].items():
            lines.append(f"| {row['test']} | {side} | {st['min_ms']:.1f} | {st['p10_ms']:.1f} | "
                         f"{st['median_ms']:.1f} | {st['p90_ms']:.1f} | {st['max_ms']:.1f} |")
    lines += ["", "Checks (counts of runs):", ""]
    for test, sides in res["checks"].items():
        for side, c in sides.items():
            lines.append(f"- {test} / {side}: " + ", ".join(f"{k} ×{v}" for k, v in sorted(c.items())))
    lines += ["", "Failures:", ""]
    if res["failures"]:
        for f in res["failures"]:
            lines.append(f"- {f['side']} / {f['test']}: {f['error']}")
    else:
        lines.append("- none")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--work", required=True)
    p.add_argument("--virtppd", required=True)
    p.add_argument("--ns-pid", type=int, required=True)
    p.add_argument("--reaper", required=True)
    p.add_argument("--kvm", action="store_true")
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--stock-reps", type=int, default=8)
    p.add_argument("--list-reps", type=int, default=30)
    p.add_argument("--cold-reps", type=int, default=3)
    p.add_argument("--warm-reps", type=int, default=5)
    p.add_argument("--out", required=True, help="results path without extension")
    args = p.parse_args()
    os.makedirs(os.path.join(args.work, "pids"), exist_ok=True)
    bench = Bench(args)
    try:
        meta = bench.run()
    except Failure as e:
        log(f"bench.py: {e}")
        bench.vp.stop()
        bench.lv.stop()
        return 1
    finally:
        bench.vp.stop()
        bench.lv.stop()
    res = summarize(bench, meta, describe_machine(args), args)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".json", "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    md = markdown(res)
    with open(args.out + ".md", "w") as f:
        f.write(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
