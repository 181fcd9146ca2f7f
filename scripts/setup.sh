#!/usr/bin/env bash
# Installs every Debian 12 package that building and testing virtpp needs.
# Idempotent: apt-get runs only when something is missing. Must run as root.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang-14 libclang-rt-14-dev lld-14
  # libraries
  libboost1.81-dev libboost-json1.81-dev
  libxerces-c-dev libbotan-2-dev
  libgtest-dev
  # static linking of the single-binary tools
  libicu-dev libcurl4-openssl-dev
  # oracles and peers used by the tests
  libvirt-daemon libvirt-clients python3-libvirt libsys-virt-perl libxml2-utils
  python3 util-linux procps iproute2 expect
  gnutls-bin socat netcat-openbsd openssh-server openssh-client
  qemu-system-x86
  # virtual networks (bridges, DHCP/DNS, firewall) and the libvirtd network oracle
  dnsmasq-base nftables libnftables-dev iptables
  # the network tests' DHCP client and resolver (udhcpc, nslookup)
  busybox
  # Xen: Debian's xenstore clients prove the in-test xenstored
  xenstore-utils
  # the Python module (python3-lxml: libvirt-python's test_api_coverage.py imports it at load time)
  pybind11-dev python3-dev python3-lxml
  # the Debian package and the service: cpack's dpkg-shlibdeps, socket activation in the tests,
  # rendering the manual pages, running the bash completion
  dpkg-dev systemd man-db bash-completion
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
