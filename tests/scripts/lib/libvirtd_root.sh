# Debian's libvirtd as a system daemon inside a private mount namespace (the caller's unshare -m
# --propagation private): /etc/libvirt, /var, /etc/passwd and /etc/group become copies under a
# work directory, so nothing on the host changes. Sourced; usage:
#   libvirtd_start_private WORKDIR     (sets DPID and SOCK)
libvirtd_start_private() {
    local w=$1
    mkdir -p "$w/etc" "$w/var"
    cp -a /etc/libvirt/. "$w/etc/"
    mount --bind "$w/etc" /etc/libvirt
    # no network definitions from the host: each run defines its own
    rm -rf /etc/libvirt/qemu/networks
    mkdir -p /etc/libvirt/qemu/networks
    # guests: qemu's log written by libvirtd itself (no virtlogd daemon), and no cgroups (the
    # namespace's fresh sysfs hides the host's; virtppd does not use cgroups either)
    printf 'user = "root"\ngroup = "root"\nstdio_handler = "file"\ncgroup_controllers = [ ]\n' >/etc/libvirt/qemu.conf
    mount --bind "$w/var" /var
    mkdir -p /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /var/lib/misc
    ln -sfn /run /var/run
    # the QEMU driver looks its user up before it reads qemu.conf
    cp /etc/passwd /etc/group "$w/"
    echo "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin" >>"$w/passwd"
    echo "libvirt-qemu:x:64055:" >>"$w/group"
    mount --bind "$w/passwd" /etc/passwd
    mount --bind "$w/group" /etc/group
    /usr/sbin/libvirtd -p /run/libvirtd.pid 2>"$w/stderr" &
    DPID=$!
    SOCK=/run/libvirt/libvirt-sock
}
