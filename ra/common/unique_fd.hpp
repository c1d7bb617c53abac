// SPDX-License-Identifier: Apache-2.0
// Owns a POSIX file descriptor: closed when the owner goes, unless released.
#pragma once

#include <unistd.h>

#include <utility>

namespace scepra {

class UniqueFd final {
  public:
    explicit UniqueFd(int fd) : m_fd(fd) {}
    ~UniqueFd() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const { return m_fd; }
    /// Gives up ownership: the caller closes the descriptor.
    int release() { return std::exchange(m_fd, -1); }

  private:
    int m_fd;
};

}  // namespace scepra
