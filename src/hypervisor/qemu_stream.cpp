// The QEMU driver's streams: a running guest's pty console and its screenshot.
#include "hypervisor/qemu_ops.hpp"

#include <virtpp/stream.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace virtpp::hypervisor {

using namespace qemu_detail;

namespace {

[[noreturn]] void unsupported_flags(unsigned flags, const char* function) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%x", flags);
    raise(error_code::invalid_arg, error_domain::qemu, std::string("unsupported flags (0x") + hex + ") in function " + function);
}

}  // namespace

std::shared_ptr<virtpp::stream> qemu::state::open_console(const domain_ref& dom, const std::optional<std::string>& dev_name,
                                                          unsigned flags) {
    if ((flags & ~(console_flags::force | console_flags::safe)) != 0)
        unsupported_flags(flags & ~(console_flags::force | console_flags::safe), "qemuDomainOpenConsole");
    ops g{*driver_};
    auto o = g.lookup(dom);
    std::string path, shown;
    {
        std::lock_guard lock(driver_->mutex);
        if (!o->live) not_running();
        const auto& def = *o->live;
        // libvirt's device aliases: console<N>, serial<N>; without a name the first console,
        // else the first serial port
        const xml::chardev_def* chr = nullptr;
        std::string alias;
        auto pick = [&](const std::vector<xml::chardev_def>& list, const char* prefix) {
            for (std::size_t i = 0; i < list.size() && chr == nullptr; ++i) {
                std::string a = prefix + std::to_string(i);
                if (!dev_name || *dev_name == a) chr = &list[i], alias = a;
            }
        };
        pick(def.devices.consoles, "console");
        pick(def.devices.serials, "serial");
        if (chr == nullptr) fail(error_code::internal_error, "cannot find character device " + dev_name.value_or("<null>"));
        shown = dev_name.value_or(alias);
        if (chr->type != xml::chardev_type::pty) fail(error_code::internal_error, "character device " + shown + " is not using a PTY");
        if (!chr->path || chr->path->empty())
            fail(error_code::operation_failed, "character device " + shown + " has no pty path yet");
        path = *chr->path;
    }
    return streams::open_console_pty(path, (flags & console_flags::force) != 0);
}

virtpp::screenshot_data qemu::state::screenshot(const domain_ref& dom, unsigned screen, unsigned flags) {
    if (flags != 0) unsupported_flags(flags, "qemuDomainScreenshot");
    guest_job job(*driver_, dom);
    auto& g = job.g;
    auto& o = job.o;
    auto mon = g.running_monitor(o);
    {
        std::lock_guard lock(driver_->mutex);
        if (o->live->devices.graphics.empty()) fail(error_code::operation_invalid, "no screens to take screenshot from");
        // one video card (cirrus) with one head
        if (screen != 0) fail(error_code::invalid_arg, "no screen with index " + std::to_string(screen));
    }
    // a file of the driver's own: qemu writes it, the stream reads it from the descriptor kept
    // open, and the name is gone before anyone else could open it
    make_dirs(driver_->paths.cache_dir);
    std::string name = driver_->paths.cache_dir + "/qemu.screendump.XXXXXX";
    int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0)
        fail(error_code::system_error, "cannot create screenshot file in '" + driver_->paths.cache_dir + "': " + std::strerror(errno));
    // PNG where qemu can write it (7.1 and later), as libvirt 9.0 does; PPM from older ones
    std::string mime = "image/png";
    try {
        try {
            mon->execute("screendump", boost::json::object{{"filename", name}, {"device", "video0"}, {"format", "png"}});
        } catch (const virtpp::error&) {
            mon->execute("screendump", boost::json::object{{"filename", name}, {"device", "video0"}});
            mime = "image/x-portable-pixmap";
        }
    } catch (...) {
        ::unlink(name.c_str());
        ::close(fd);
        throw;
    }
    ::unlink(name.c_str());
    if (::lseek(fd, 0, SEEK_SET) < 0 || ::fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
        int err = errno;
        ::close(fd);
        fail(error_code::system_error, std::string("cannot read screenshot: ") + std::strerror(err));
    }
    return {mime, std::make_shared<streams::fd_stream>(fd)};
}

}  // namespace virtpp::hypervisor
