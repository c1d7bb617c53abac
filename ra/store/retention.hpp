// SPDX-License-Identifier: Apache-2.0
// Deletes records older than the retention period ([audit] retention_days,
// `scep-ra audit purge`) in small batches, so that a large purge never holds
// the database's write lock for long.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "store/database.hpp"

namespace scepra::store {

/// Rows deleted per table.
struct PurgeCounts {
    std::int64_t audit_events = 0;
    std::int64_t admin_logins = 0;
    std::int64_t password_events = 0;
    std::int64_t challenges = 0;
    std::int64_t challenge_failures = 0;
    std::int64_t total() const {
        return audit_events + admin_logins + password_events + challenges + challenge_failures;
    }
};

class Retention final {
  public:
    static constexpr int kDefaultBatch = 500;

    explicit Retention(Database& db, int batch = kDefaultBatch);

    /// Deletes what happened before `before` (sql_time() text, UTC): audit
    /// events, admin logins, password events, the throttle's entries, and used
    /// or revoked one-time passwords that no remaining audit event or request
    /// refers to. Each batch is its own transaction; between batches
    /// keep_going() is asked whether to go on (false stops early, e.g. on shutdown).
    PurgeCounts purge_before(const std::string& before, const std::function<bool()>& keep_going = {});

  private:
    /// Runs the batched DELETE (binding ?1 = before, ?2 = batch size) until it deletes less than a batch.
    std::int64_t in_batches(const std::string& sql, const std::string& before,
                            const std::function<bool()>& keep_going);

    Database& m_db;
    int m_batch;
};

}  // namespace scepra::store
