// Typed domain XML: every element and attribute of the 0.3 format (Xen paravirt, Xen HVM, KVM,
// QEMU guests) and the later spellings the conformance fixtures use, read leniently and written in
// libvirt 9.0's canonical layout. Plain aggregates, so drivers can hold and edit definitions.
// The element-by-element description is docs/xml-domain.md.
#pragma once

#include <virtpp/error_codes.hpp>
#include <virtpp/uuid.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtpp::xml {

/// <domain type=...>: the hypervisor kind (libvirt's virDomainVirtType, same spellings).
enum class domain_virt_type {
    qemu, kqemu, kvm, xen, lxc, uml, openvz, test, vmware, hyperv, vbox, phyp, parallels, bhyve, vz
};

/// on_poweroff / on_reboot / on_crash
enum class lifecycle_action { destroy, restart, rename_restart, preserve, coredump_destroy, coredump_restart };

/// <boot dev=...>
enum class boot_device { fd, cdrom, hd, network };

/// <clock offset=...>; the 0.3 spelling <clock sync='localtime'> reads as localtime.
enum class clock_offset { utc, localtime, timezone, variable, absolute };
/// <clock offset='variable' basis=...>
enum class clock_basis { utc, localtime };

/// <os><type arch='' machine=''>hvm</type>, kernel/initrd/cmdline/root for direct boot, loader and
/// <boot> order for firmware boot.
struct os_def {
    std::string type;  ///< "hvm", "linux", "xen", "exe", ...
    std::optional<std::string> arch;
    std::optional<std::string> machine;
    std::optional<std::string> loader;
    std::optional<std::string> loader_type;  ///< <loader type='rom|pflash'>
    std::optional<std::string> kernel;
    std::optional<std::string> initrd;
    std::optional<std::string> cmdline;
    std::optional<std::string> root;
    std::vector<boot_device> boot;  ///< one entry per <boot>, in order
    std::optional<bool> bootmenu;              ///< <bootmenu enable='yes|no'/>
    std::optional<int> bootmenu_timeout;       ///< <bootmenu timeout='ms'/> (0..65535)
    std::optional<bool> bios_useserial;        ///< <bios useserial='yes|no'/>: firmware output on the serial port
    std::optional<int> bios_reboot_timeout;    ///< <bios rebootTimeout='ms'/> (-1..65535)
};

/// <features>: the switches the 0.3 format defines plus the ones the fixtures use.
struct features_def {
    bool acpi = false;
    bool apic = false;
    bool pae = false;
    std::optional<bool> hap;  ///< <hap/> or <hap state='on|off'/>
    bool viridian = false;
    bool privnet = false;
};

/// <clock><timer name='hpet' present='no'/>
struct clock_timer_def {
    std::string name;  ///< "platform", "pit", "rtc", "hpet", "tsc", "kvmclock", ...
    std::optional<bool> present;
    std::optional<std::string> tickpolicy;
    std::optional<std::string> track;
};

struct clock_def {
    clock_offset offset = clock_offset::utc;
    /// utc/localtime: adjustment='reset' or a number of seconds; variable: seconds (default 0).
    bool adjustment_reset = false;
    std::optional<std::int64_t> adjustment;
    clock_basis basis = clock_basis::utc;  ///< variable only
    std::optional<std::string> timezone;   ///< offset='timezone'
    std::optional<std::uint64_t> start;    ///< offset='absolute'
    std::vector<clock_timer_def> timers;
};

/// <address type=...> of a device, for the address kinds the fixtures use. Numbers are kept as
/// numbers and written in libvirt's notation (hex for pci, decimal for the others).
enum class address_type { pci, drive, virtio_serial, ccid, usb };
struct device_address {
    address_type type = address_type::pci;
    std::optional<unsigned> domain, bus, slot, function;  ///< pci (bus also drive/usb/virtio-serial)
    std::optional<bool> multifunction;                    ///< pci
    std::optional<unsigned> controller, target, unit;     ///< drive (controller also virtio-serial/ccid)
    std::optional<std::string> port;                      ///< usb ("1.2") / virtio-serial
};

struct disk_def {
    std::string type = "file";    ///< file, block, dir, network, volume, nvme, vhostuser
    std::string device = "disk";  ///< disk, cdrom, floppy, lun
    std::optional<std::string> driver_name;   ///< <driver name=> e.g. qemu, phy, tap, file
    std::optional<std::string> driver_type;   ///< <driver type=> e.g. raw, qcow2, aio
    std::optional<std::string> driver_cache;  ///< <driver cache=>
    std::optional<std::string> source;        ///< <source file=> or <source dev=> (by type)
    std::string target_dev;
    std::optional<std::string> target_bus;  ///< ide, scsi, virtio, xen, usb, sata, fdc
    bool readonly = false;  ///< always set for cdroms, as libvirt does
    bool shareable = false;
    bool backing_store_terminated = false;  ///< <backingStore/>: the chain ends here
    /// <source index='N'/> of running definitions: the storage's number (QEMU's libvirt-N nodes);
    /// not read from input, as libvirt ignores it outside status XML
    std::optional<unsigned> source_index;
    std::optional<std::string> alias;  ///< the driver's name for the device (live definitions)
    std::optional<device_address> address;
};

enum class controller_type { ide, fdc, scsi, sata, virtio_serial, ccid, usb, pci, xenbus, isa };
struct controller_def {
    controller_type type = controller_type::ide;
    unsigned index = 0;
    std::optional<std::string> model;
    std::optional<std::string> alias;  ///< the driver's name for the device (live definitions)
    std::optional<device_address> address;
};

/// The seven network kinds of the 0.3 format (others are refused with CONFIG_UNSUPPORTED).
enum class interface_type { user, network, bridge, ethernet, mcast, server, client };
struct interface_def {
    interface_type type = interface_type::user;
    /// lower-case "aa:bb:cc:dd:ee:ff"; empty when the input had none (a driver generates one on
    /// define, as libvirt does; parsing stays deterministic)
    std::optional<std::string> mac;
    std::optional<std::string> source_network;  ///< network
    std::optional<std::string> source_bridge;   ///< bridge
    std::optional<std::string> source_address;  ///< mcast/server/client
    std::optional<int> source_port;             ///< mcast/server/client
    std::vector<std::string> ip_addresses;      ///< <ip address=>
    std::optional<std::string> script;          ///< <script path=>
    std::optional<std::string> target_dev;      ///< vnetN / vifN.M names are runtime-only
    std::optional<std::string> model;           ///< <model type=>
    std::optional<std::uint64_t> bandwidth_inbound_average;   ///< <bandwidth><inbound average=>
    std::optional<std::uint64_t> bandwidth_outbound_average;  ///< <bandwidth><outbound average=>
    std::optional<std::string> alias;  ///< the driver's name for the device (live definitions)
    std::optional<device_address> address;
};

/// Character device source kinds (<serial>/<parallel>/<console> type=...).
enum class chardev_type { null, vc, pty, dev, file, pipe, stdio, udp, tcp, unix_socket };
struct chardev_def {
    chardev_type type = chardev_type::pty;
    /// dev/file/pipe/unix source path, or the pty's runtime path (also read from <console tty=>)
    std::optional<std::string> path;
    bool listen = false;  ///< tcp/unix: <source mode='bind'> (else 'connect')
    std::optional<std::string> host, service;            ///< tcp; udp connect side
    std::optional<std::string> bind_host, bind_service;  ///< udp bind side
    std::string protocol = "raw";                        ///< tcp: raw, telnet, telnets, tls
    /// serial: isa, usb, pci, ... (absent = none); console: serial, xen, virtio, ...
    std::optional<std::string> target_type;
    std::optional<std::string> target_model;  ///< serial: <target><model name=.../> (isa-serial, ...)
    int target_port = 0;
    std::optional<std::string> alias;  ///< the driver's name for the device (live definitions)
    std::optional<device_address> address;
};

enum class input_type { mouse, tablet, keyboard };
enum class input_bus { ps2, usb, xen, virtio };
struct input_def {
    input_type type = input_type::mouse;
    std::optional<input_bus> bus;  ///< absent: libvirt picks (ps2 for x86 HVM, xen for Xen PV)
    std::optional<std::string> alias;  ///< the driver's name for the device (live definitions)
    std::optional<device_address> address;
};

/// The two kinds of the 0.3 format; others are refused with CONFIG_UNSUPPORTED (see docs).
enum class graphics_type { sdl, vnc };
struct graphics_listen_def {
    std::string type = "address";  ///< address, network, socket, none (vnc)
    std::optional<std::string> address;
    std::optional<std::string> network;
    std::optional<std::string> socket;
};
struct graphics_def {
    graphics_type type = graphics_type::vnc;
    int port = 0;           ///< vnc; 0 = none, -1 (legacy) = pick one, which also sets autoport
    bool autoport = false;  ///< vnc
    std::optional<std::string> keymap;  ///< vnc
    std::optional<std::string> passwd;  ///< vnc; written only with domain_format_flags::secure
    std::optional<std::string> display, xauth;  ///< sdl
    std::optional<bool> fullscreen;             ///< sdl
    std::vector<graphics_listen_def> listens;   ///< listen='x' reads as the first <listen>
};

struct sound_def {
    std::string model;  ///< sb16, es1370, pcspk, ac97, ich6, ...
    std::optional<std::string> alias;  ///< the driver's name for the device (live definitions)
    std::optional<device_address> address;
};

/// <audio id='1' type='none'/>: an audio backend (its per-direction settings are not kept).
struct audio_def {
    unsigned id = 1;
    std::string type;  ///< none, alsa, coreaudio, jack, oss, pulseaudio, sdl, spice, file, dbus, pipewire
};

/// <video><model type='cirrus' vram='16384' heads='1' primary='yes'/></video>
struct video_def {
    std::string model = "cirrus";  ///< vga, cirrus, vmvga, xen, vbox, qxl, virtio, gop, bochs, ramfb, none
    std::optional<unsigned> ram;    ///< KiB, qxl only
    std::optional<unsigned> vram;   ///< KiB
    std::optional<unsigned> heads;
    bool primary = false;
    std::optional<std::string> alias;  ///< the driver's name for the device (live definitions)
    std::optional<device_address> address;
};

/// <seclabel>: a security driver's label for the guest (the QEMU driver's DAC label while it runs).
struct seclabel_def {
    std::string type = "dynamic";  ///< dynamic, static, none
    std::optional<std::string> model;  ///< dac, selinux, apparmor
    std::optional<bool> relabel;
    std::optional<std::string> label, imagelabel;
};

/// <cpu>: the guest CPU model and topology.
struct cpu_feature {
    std::string policy;  ///< force, require, optional, disable, forbid
    std::string name;
};
struct cpu_def {
    std::optional<std::string> mode;   ///< custom, host-model, host-passthrough, maximum
    std::optional<std::string> match;  ///< minimum, exact, strict (custom)
    std::optional<std::string> check;  ///< none, partial, full
    std::optional<std::string> migratable;  ///< on, off (host-passthrough, maximum)
    std::optional<std::string> model;
    std::optional<std::string> fallback;  ///< allow, forbid
    std::optional<std::string> vendor;
    struct topology_def {
        unsigned sockets = 1, dies = 1, cores = 1, threads = 1;
    };
    std::optional<topology_def> topology;
    std::vector<cpu_feature> features;
};

/// <hostdev mode='subsystem' type='pci'> with the host PCI address.
struct hostdev_def {
    std::string mode = "subsystem";
    std::string type = "pci";
    bool managed = false;
    device_address source;  ///< <source><address domain= bus= slot= function=/>
    std::optional<std::string> alias;  ///< the driver's name for the device (live definitions)
    std::optional<device_address> address;
};

struct memballoon_def {
    std::string model;  ///< virtio, xen, none
    std::optional<bool> autodeflate;          ///< autodeflate='on|off'
    std::optional<bool> free_page_reporting;  ///< freePageReporting='on|off'
    int period = 0;  ///< <stats period='N'/>: seconds between the guest's memory statistics (0: never)
    std::optional<std::string> alias;  ///< the driver's name for the device (live definitions)
    std::optional<device_address> address;
};

/// <devices>, each kind in the order libvirt 9.0 writes them.
struct devices_def {
    std::optional<std::string> emulator;
    std::vector<disk_def> disks;
    std::vector<controller_def> controllers;
    std::vector<interface_def> interfaces;
    std::vector<chardev_def> serials;
    std::vector<chardev_def> parallels;
    std::vector<chardev_def> consoles;
    std::vector<input_def> inputs;
    std::vector<graphics_def> graphics;
    std::vector<sound_def> sounds;
    std::vector<audio_def> audios;
    std::vector<video_def> videos;
    std::vector<hostdev_def> hostdevs;
    std::optional<memballoon_def> memballoon;
};

/// <vcpu placement='static' cpuset='1-4'>N</vcpu>
struct vcpu_def {
    unsigned count = 1;
    std::optional<unsigned> current;     ///< current='N' when fewer are online
    std::string placement = "static";    ///< static / auto
    std::optional<std::string> cpuset;
};

struct domain_def {
    domain_virt_type type = domain_virt_type::test;
    std::optional<int> id;  ///< runtime id; written only for running domains (not with inactive)
    std::string name;
    /// parsed with or without dashes, written dashed; empty when the input had none (a driver
    /// generates one on define, as libvirt does; parsing stays deterministic)
    std::optional<virtpp::uuid> uuid;
    std::optional<std::string> title;
    std::optional<std::string> description;
    std::uint64_t memory_kib = 0;   ///< <memory>, converted to KiB like libvirt
    std::optional<std::uint64_t> current_memory_kib;  ///< <currentMemory>; written as memory when absent
    std::optional<std::uint64_t> max_memory_kib;      ///< <maxMemory>
    std::optional<unsigned> max_memory_slots;         ///< <maxMemory slots=>
    vcpu_def vcpu;
    std::optional<std::string> bootloader;
    std::optional<std::string> bootloader_args;
    os_def os;
    features_def features;
    std::optional<cpu_def> cpu;
    clock_def clock;
    lifecycle_action on_poweroff = lifecycle_action::destroy;
    lifecycle_action on_reboot = lifecycle_action::restart;
    lifecycle_action on_crash = lifecycle_action::destroy;
    devices_def devices;
    std::vector<seclabel_def> seclabels;
};

/// Options for format_domain_xml, mirroring virDomainGetXMLDesc's flags.
struct domain_format_flags {
    bool inactive = false;  ///< VIR_DOMAIN_XML_INACTIVE: no id, no runtime-only parts (pty paths, vif targets)
    bool secure = false;    ///< VIR_DOMAIN_XML_SECURE: include graphics passwords
};

/// Parses a domain document. Malformed XML raises error_code::xml_detail; a document whose content
/// is wrong (missing name, bad uuid, non-numeric memory, unknown type or action...) raises
/// error_code::xml_error (or libvirt's specific code), naming the element/attribute and the line.
[[nodiscard]] domain_def parse_domain_xml(std::string_view text);

/// One device on its own, as virDomainAttachDevice / DetachDevice take it: a <disk> or an
/// <interface> (the devices hot-plug covers).
struct device_def {
    std::optional<disk_def> disk;
    std::optional<interface_def> interface;
};
/// Parses a device snippet with the domain parser's rules for that element. Another element is
/// CONFIG_UNSUPPORTED in `domain`, naming it and `driver` ("device type 'video' cannot be attached
/// or detached by the test driver"); malformed XML is the domain parser's error.
[[nodiscard]] device_def parse_device_xml(std::string_view snippet, std::string_view driver, error_domain domain);

/// Writes libvirt 9.0's canonical layout, filling only the defaults libvirt's parser fills.
[[nodiscard]] std::string format_domain_xml(const domain_def& def, domain_format_flags flags = {});

// String tables, shared with the drivers for their own messages and with tests.
[[nodiscard]] std::string_view to_string(domain_virt_type v) noexcept;
[[nodiscard]] std::string_view to_string(lifecycle_action v) noexcept;
[[nodiscard]] std::optional<domain_virt_type> domain_virt_type_from_string(std::string_view s) noexcept;
[[nodiscard]] std::optional<lifecycle_action> lifecycle_action_from_string(std::string_view s) noexcept;

}  // namespace virtpp::xml
