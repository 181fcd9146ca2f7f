// Internal: whole-buffer reads and writes on a file descriptor, for the drivers' save images.
#pragma once

#include <cerrno>
#include <cstddef>
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

}  // namespace virtpp::hypervisor
