// SPDX-License-Identifier: Apache-2.0
// The server's daily retention task.
#include "cli/retention_task.hpp"

#include "store/retention.hpp"

namespace scepra::cli {

RetentionTask::RetentionTask(store::Database& db, store::ThrottleStore& throttle, const Clock& clock,
                             int retention_days, std::ostream& log, std::chrono::seconds interval)
    : m_db(db),
      m_throttle(throttle),
      m_clock(clock),
      m_retention_days(retention_days),
      m_log(log),
      m_interval(interval) {}

RetentionTask::~RetentionTask() { stop(); }

void RetentionTask::start() {
    m_thread = std::thread([this] { run(); });
}

void RetentionTask::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

bool RetentionTask::stopping() {
    std::lock_guard lock(m_mutex);
    return m_stop;
}

void RetentionTask::run() {
    for (;;) {
        run_once();
        std::unique_lock lock(m_mutex);
        if (m_wake.wait_for(lock, m_interval, [this] { return m_stop; })) {
            return;
        }
    }
}

void RetentionTask::run_once() {
    // A failed purge (e.g. the database busy for longer than its timeout) is
    // logged and tried again at the next run; it never stops the server.
    try {
        const int stale = m_throttle.prune();
        std::int64_t purged = 0;
        std::string before;
        if (m_retention_days > 0) {
            before = sql_time(m_clock.now() - std::chrono::hours(24) * m_retention_days);
            purged = store::Retention(m_db).purge_before(before, [this] { return !stopping(); }).total();
        }
        if (stale + purged > 0) {
            m_log << "scep-ra retention: deleted " << purged << " records from before " << before << " and "
                  << stale << " stale throttle entries" << std::endl;
        }
    } catch (const std::exception& e) {
        m_log << "scep-ra retention failed (tried again in a day): " << e.what() << std::endl;
    }
}

}  // namespace scepra::cli
