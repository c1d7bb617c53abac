// SPDX-License-Identifier: Apache-2.0
// Idle keep-alive clients during a run: N connections from other loopback
// addresses (as other hosts), each sends one GetCACaps, reads the answer and
// then stays silent; when the server closes one (idle timeout, a cap), it
// connects again 100 ms later. One thread, poll(), bounded by stop().
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "bench/target_url.hpp"

namespace scepra::bench {

struct IdleStats {
    size_t connections = 0;  ///< asked for
    size_t held_at_end = 0;  ///< connected and answered when the run ended
    size_t connects = 0;     ///< connections made, first ones and reconnections
    size_t answered = 0;     ///< GetCACaps answered 200
    size_t refused = 0;      ///< answered 503, or closed before any answer
};

/// "127.0.0.2-127.0.0.11" (last octet range) or one address.
std::vector<std::string> parse_source_range(const std::string& text);

class IdleHolder {
  public:
    IdleHolder(const TargetUrl& target, size_t connections, std::vector<std::string> sources);
    ~IdleHolder();
    IdleHolder(const IdleHolder&) = delete;
    IdleHolder& operator=(const IdleHolder&) = delete;

    /// Opens the connections and returns once each has been answered (or
    /// refused) or 30 s have passed; keeps holding them in the background.
    void start();
    IdleStats stop();

  private:
    void loop();

    std::string m_host;
    int m_port;
    std::string m_path;
    size_t m_count;
    std::vector<std::string> m_sources;
    std::atomic<bool> m_running{false};
    std::atomic<size_t> m_settled{0};
    IdleStats m_stats;
    std::thread m_thread;
};

}  // namespace scepra::bench
