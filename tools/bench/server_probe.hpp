// SPDX-License-Identifier: Apache-2.0
// The server's own cost over a run, read from /proc/PID: CPU time (utime +
// stime) and resident memory (sampled every 50 ms, and the kernel's peak).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <optional>
#include <thread>

namespace scepra::bench {

struct ServerUsage {
    double cpu_seconds = 0;  ///< utime + stime during the run
    long rss_peak_kib = 0;   ///< the highest VmRSS sampled during the run
    long rss_end_kib = 0;    ///< VmRSS after the run
    long threads_peak = 0;   ///< the most threads sampled during the run
};

class ServerProbe {
  public:
    /// Throws std::runtime_error when /proc/PID cannot be read.
    explicit ServerProbe(pid_t pid);
    ~ServerProbe();
    ServerProbe(const ServerProbe&) = delete;
    ServerProbe& operator=(const ServerProbe&) = delete;

    /// Starts counting (and sampling memory).
    void start();
    ServerUsage finish();

  private:
    double cpu_seconds() const;
    void sample();

    pid_t m_pid;
    double m_cpu_at_start = 0;
    std::atomic<bool> m_running{false};
    std::atomic<long> m_rss_peak{0}, m_threads_peak{0};
    std::thread m_sampler;
};

}  // namespace scepra::bench
