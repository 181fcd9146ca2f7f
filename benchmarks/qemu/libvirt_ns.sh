#!/usr/bin/env bash
# Private mount namespace for Debian's libvirtd + virtlogd in the QEMU benchmark: run as
#   unshare -m --propagation private bash libvirt_ns.sh <dir>
# It bind-mounts <dir>'s private trees over the paths libvirt's QEMU driver uses, then becomes a
# `sleep` that holds the namespace; run_qemu.sh enters it (nsenter -t <pid> -m) to start virtlogd
# and libvirtd, and kills it by PID at the end. Nothing on the host's /etc, /run or /var changes:
#   /etc/libvirt         <- <dir>/etc   (qemu.conf: user/group root; libvirt.conf copied)
#   /etc/passwd, /etc/group <- copies with a libvirt-qemu system user and group added (the driver
#                           looks that user up before it reads qemu.conf)
#   /run/libvirt         <- <dir>/run
#   /var                 <- <dir>/var   (lib/libvirt, cache/libvirt, log/libvirt, tmp; run and lock
#                           are symlinks into /run as on the host)
set -euo pipefail
dir=$1
mount --make-rprivate /
mount --bind "$dir/etc" /etc/libvirt
mount --bind "$dir/passwd" /etc/passwd
mount --bind "$dir/group" /etc/group
mount --bind "$dir/run" /run/libvirt
mount --bind "$dir/var" /var
echo ready > "$dir/ns-ready"
exec sleep infinity
