// Internal: whole-buffer reads and writes on a file descriptor, for the drivers' save images.
#pragma once

#include <cerrno>
#include <cstddef>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtpp::hypervisor {

/// Writes all len bytes; false with errno set otherwise.
inline bool write_all(int fd, const void* data, std::size_t len) {
    const auto* p = static_cast<const char*>(data);
    while (len > 0) {
        auto n = ::write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (n == 0) {
            errno = EIO;
            return false;
        }
        p += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

/// Reads exactly len bytes; false otherwise, with errno 0 when the file ended first.
inline bool read_all(int fd, void* data, std::size_t len) {
    auto* p = static_cast<char*>(data);
    while (len > 0) {
        auto n = ::read(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (n == 0) {
            errno = 0;
            return false;
        }
        p += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

/// Opens a file a caller named for an image (save, restore, core dump) without ever blocking:
/// non-blocking open (a FIFO or a device cannot hold the thread, which may serve other clients),
/// then only a regular file is kept. -1 with errno set otherwise; EINVAL: not a regular file.
inline int open_regular_file(const char* path, int flags, mode_t mode = 0600) {
    int fd = ::open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode);
    if (fd < 0) return -1;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = S_ISREG(st.st_mode) ? errno : EINVAL;
        ::close(fd);
        errno = e;
        return -1;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

/// The reason open_regular_file failed, for a message.
inline const char* open_failure_text(int err) { return err == EINVAL ? "not a regular file" : nullptr; }

}  // namespace virtpp::hypervisor
