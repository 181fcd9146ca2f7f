#!/usr/bin/env bash
# QEMU driver benchmark: virtppd's QEMU driver against Debian's libvirtd 9.0 QEMU driver, with stock
# virsh as the client of both (`qemu+unix:///system?socket=…`) so that only the daemon differs, the
# same guest XML on both sides (64 MiB, 1 vcpu, no OS, user-mode NIC, VNC on 127.0.0.1), measured
# side by side in one run (each repetition alternates which daemon goes first):
#   start → running, destroy → qemu gone (type='kvm' when /dev/kvm is usable, and type='qemu'/TCG),
#   `virsh list --all` with 50 guests defined, daemon start → first `virsh uri` answered (empty and
#   warm capabilities cache), and `virsh uri` alone (virsh's own floor). To tell virsh from the
#   daemon: create()/destroy() through one open python3-libvirt connection, and virtppd's qemu
#   command line run by the benchmark itself (qemu alone, the floor). Reading: docs/benchmarks-qemu.md.
#
# Builds nothing: configure build/bench-qemu (or VIRTPP_BUILD_DIR) with -DCMAKE_BUILD_TYPE=Release and
# build target virtppd. Run as root (qemu:///system; /dev/kvm is root-only here). About 2 minutes.
#
#   benchmarks/run_qemu.sh
#   BENCH_REPS=5 BENCH_STOCK_REPS=2 BENCH_OUT=/tmp/q benchmarks/run_qemu.sh     # a quick look
#
# Environment: VIRTPP_BUILD_DIR (default build/bench-qemu, else build/release), BENCH_REPS (20
# start/destroy pairs per guest type against libvirtd under the reaper), BENCH_STOCK_REPS (8, against
# libvirtd started directly), BENCH_LIST_REPS (30), BENCH_COLD_REPS (3), BENCH_WARM_REPS (5),
# BENCH_OUT (results directory, default benchmarks/results), BENCH_KEEP=1 (keep the work directory
# with both daemons' logs), BENCH_NO_KVM=1 (TCG only).
#
# What it changes on the machine, and how it undoes it:
# - libvirtd and virtlogd run in a private mount namespace (benchmarks/qemu/libvirt_ns.sh) over
#   directories of the work directory: /etc/libvirt (qemu.conf: user = group = "root"), /etc/passwd
#   and /etc/group (copies with a libvirt-qemu system user and group, which the driver looks up; the
#   host's files are not touched and no user is created), /run/libvirt and /var. Their sockets and
#   pid files are in the work directory too. Only libvirt's QEMU driver module is loadable
#   (LIBVIRT_DRIVER_DIR is a directory holding just that module).
# - libvirt's QEMU driver puts each guest in cgroups under /sys/fs/cgroup/<controller>/machine and
#   removes the guest's group when it stops; the `machine` groups it leaves are removed at the end
#   when they did not exist before (rmdir: only when empty).
# - virtppd keeps its state in the work directory (VIRTPP_QEMU_STATE_DIR).
# Every daemon is started and stopped by its PID; qemu processes left behind (none when all goes
# well) are killed by the PIDs the two daemons recorded, after checking /proc/PID/cmdline names
# one of this run's guests. Other qemu processes on the machine are never touched.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
if [[ -n ${VIRTPP_BUILD_DIR:-} ]]; then build=$VIRTPP_BUILD_DIR
elif [[ -x $root/build/bench-qemu/tools/virtppd ]]; then build=$root/build/bench-qemu
else build=$root/build/release; fi
virtppd=$build/tools/virtppd
out_dir=${BENCH_OUT:-$here/results}
python=/usr/bin/python3

die() { echo "run_qemu.sh: $*" >&2; exit 2; }
[[ $(id -u) == 0 ]] || die "run as root (qemu:///system on both daemons)"
[[ -x $virtppd ]] || die "$virtppd is missing: build target virtppd (Release) first"
for f in /usr/sbin/libvirtd /usr/sbin/virtlogd /usr/bin/virsh /usr/bin/qemu-system-x86_64 /usr/bin/nsenter /usr/bin/unshare; do
  [[ -x $f ]] || die "$f is missing"
done
qemu_module=$(ls /usr/lib/*/libvirt/connection-driver/libvirt_driver_qemu.so 2>/dev/null | head -1)
[[ -n $qemu_module ]] || die "libvirt's QEMU driver module is missing (libvirt-daemon-driver-qemu)"

kvm=""
if [[ ${BENCH_NO_KVM:-0} != 1 ]] && "$python" -c 'import os; os.close(os.open("/dev/kvm", os.O_RDWR))' 2>/dev/null; then
  kvm=--kvm
fi

work=$(mktemp -d /tmp/vqb.XXXXXX)  # short: virtppd's monitor sockets live under it
lv=$work/lv
vp=$work/vp
mkdir -p "$work/pids" "$vp/sock" "$vp/s" \
  "$lv/etc" "$lv/run" "$lv/sock" "$lv/drivers" "$lv/log" \
  "$lv/var/lib/libvirt" "$lv/var/cache/libvirt" "$lv/var/log/libvirt" "$lv/var/tmp"
ln -s /run "$lv/var/run"
ln -s /run/lock "$lv/var/lock"
chmod 1777 "$lv/var/tmp"

cgroups_before=$(find /sys/fs/cgroup -maxdepth 4 -type d -name machine 2>/dev/null | sort || true)
declare -a started_pids=()
cleanup() {
  set +e
  # daemons bench.py left running (it stops them itself; this is for an interrupted run)
  for f in "$work"/pids/*; do
    [[ -f $f ]] && kill "$(cat "$f")" 2>/dev/null
  done
  sleep 1
  for f in "$work"/pids/*; do
    [[ -f $f ]] && kill -9 "$(cat "$f")" 2>/dev/null
  done
  # qemu processes of this run's guests that are still there, by the pids the daemons recorded
  for f in "$vp"/s/run/*.json "$lv"/run/qemu/*.pid; do
    [[ -f $f ]] || continue
    name=$(basename "${f%.*}")
    if [[ $f == *.json ]]; then p=$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f" 2>/dev/null)
    else p=$(cat "$f"); fi
    if [[ -n $p ]] && tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q -- "guest=$name,"; then
      echo "run_qemu.sh: killing leftover qemu $p ($name)" >&2
      kill -9 "$p"
    fi
  done
  for p in "${started_pids[@]}"; do kill "$p" 2>/dev/null; done   # virtlogd, then the namespace holder
  for p in "${started_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  for d in $(find /sys/fs/cgroup -maxdepth 4 -type d -name machine 2>/dev/null); do
    grep -qxF "$d" <<< "$cgroups_before" || rmdir "$d" 2>/dev/null
  done
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- virtppd: its own sockets, state in the work directory
cat > "$vp/conf" <<CONF
listen_tls = 0
unix_sock_dir = "$vp/sock"
log_outputs = "3:file:$vp/log"
CONF

# ---- libvirtd + virtlogd: private namespace, only the QEMU driver module
cp /etc/libvirt/libvirt.conf "$lv/etc/" 2>/dev/null || true
printf 'user = "root"\ngroup = "root"\n' > "$lv/etc/qemu.conf"
cp /etc/passwd "$lv/passwd"
cp /etc/group "$lv/group"
getent passwd libvirt-qemu > /dev/null ||
  echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin' >> "$lv/passwd"
getent group libvirt-qemu > /dev/null || echo 'libvirt-qemu:x:64055:' >> "$lv/group"
ln -s "$qemu_module" "$lv/drivers/"
cat > "$lv/libvirtd.conf" <<CONF
listen_tls = 0
listen_tcp = 0
unix_sock_dir = "$lv/sock"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_level = 3
log_outputs = "3:file:$lv/log/libvirtd.log"
CONF
cat > "$lv/virtlogd.conf" <<CONF
log_level = 3
log_outputs = "3:file:$lv/log/virtlogd.log"
CONF

unshare -m --propagation private bash "$here/qemu/libvirt_ns.sh" "$lv" > "$lv/log/ns.out" 2>&1 &
ns_pid=$!   # unshare execs bash, which execs sleep: this pid holds the namespace
started_pids=("$ns_pid")
for _ in $(seq 100); do [[ -f $lv/ns-ready ]] && break; kill -0 "$ns_pid" 2>/dev/null || break; sleep 0.05; done
[[ -f $lv/ns-ready ]] || { cat "$lv/log/ns.out" >&2; die "could not set up libvirt's mount namespace"; }
nsenter -t "$ns_pid" -m -- /usr/sbin/virtlogd -f "$lv/virtlogd.conf" -p "$lv/virtlogd.pid" > "$lv/log/virtlogd.out" 2>&1 &
started_pids=("$!" "$ns_pid")
for _ in $(seq 100); do [[ -S $lv/run/virtlogd-sock ]] && break; sleep 0.05; done
[[ -S $lv/run/virtlogd-sock ]] || { cat "$lv/log/virtlogd.out" >&2; die "virtlogd did not start"; }

stamp=$(date -u +%Y%m%d-%H%M%S)
rc=0
"$python" "$here/qemu/bench.py" --work "$work" --virtppd "$virtppd" --ns-pid "$ns_pid" \
  --reaper "$here/qemu/reaper.py" $kvm \
  --reps "${BENCH_REPS:-20}" --stock-reps "${BENCH_STOCK_REPS:-8}" --list-reps "${BENCH_LIST_REPS:-30}" \
  --cold-reps "${BENCH_COLD_REPS:-3}" --warm-reps "${BENCH_WARM_REPS:-5}" \
  --out "$out_dir/qemu-$stamp" || rc=$?
exit $rc
