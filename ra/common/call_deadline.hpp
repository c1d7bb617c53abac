// SPDX-License-Identifier: Apache-2.0
// Ends an HTTP call that outlasts its whole time. httplib's timeouts are per
// read and per write: a peer trickling its answer a byte at a time meets none
// of them, and would hold the caller (a worker, a lock) for hours.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace scepra {

class CallDeadline {
  public:
    /// Calls stop() (httplib's Client::stop: thread safe, it shuts the socket
    /// of the call in flight) when the call is still under way after total.
    CallDeadline(std::function<void()> stop, std::chrono::seconds total)
        : m_watch([this, stop = std::move(stop), total] {
              std::unique_lock lock(m_mutex);
              if (!m_ended.wait_for(lock, total, [this] { return m_done; })) {
                  m_expired = true;
                  stop();
              }
          }) {}
    ~CallDeadline() {
        {
            std::lock_guard lock(m_mutex);
            m_done = true;
        }
        m_ended.notify_one();
        m_watch.join();
    }
    CallDeadline(const CallDeadline&) = delete;
    CallDeadline& operator=(const CallDeadline&) = delete;

    bool expired() const {
        std::lock_guard lock(m_mutex);
        return m_expired;
    }

  private:
    mutable std::mutex m_mutex;
    std::condition_variable m_ended;
    bool m_done = false;
    bool m_expired = false;
    std::thread m_watch;  // last: it starts once the members above exist
};

}  // namespace scepra
