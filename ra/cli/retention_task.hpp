// SPDX-License-Identifier: Apache-2.0
// The server's retention task: a background thread that applies [audit]
// retention_days (and prunes stale throttle entries) at start and then once a
// day, and stops promptly when asked.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <ostream>
#include <thread>

#include "common/clock.hpp"
#include "store/database.hpp"
#include "store/throttle_store.hpp"

namespace scepra::cli {

class RetentionTask final {
  public:
    /// retention_days = 0 keeps records forever (only stale throttle entries go).
    RetentionTask(store::Database& db, store::ThrottleStore& throttle, const Clock& clock, int retention_days,
                  std::ostream& log, std::chrono::seconds interval = std::chrono::hours(24));
    ~RetentionTask();
    RetentionTask(const RetentionTask&) = delete;
    RetentionTask& operator=(const RetentionTask&) = delete;

    /// Starts the thread; the first run happens at once.
    void start();
    /// Stops the thread (a purge in progress stops after its current batch) and joins it.
    void stop();

  private:
    void run();
    void run_once();
    bool stopping();

    store::Database& m_db;
    store::ThrottleStore& m_throttle;
    const Clock& m_clock;
    int m_retention_days;
    std::ostream& m_log;
    std::chrono::seconds m_interval;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    std::thread m_thread;
};

}  // namespace scepra::cli
