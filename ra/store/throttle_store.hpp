// SPDX-License-Identifier: Apache-2.0
// Failed challenge passwords per client address and per subject, and the
// lockouts they cause ([throttle]). Kept in SQLite, so every process sharing
// the database sees them and they survive a restart.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "store/database.hpp"

namespace scepra::store {

/// max_failures failed challenges within window lock the address (or the
/// subject) out for lockout; counting starts afresh after a lockout.
struct ThrottleSettings {
    int max_failures = 5;
    std::chrono::minutes window{15};
    std::chrono::minutes lockout{15};
};

/// One tracked address or subject.
struct ThrottleEntry {
    std::string kind;  ///< "address" | "subject"
    std::string key;
    int failures = 0;  ///< since window_start
    std::string window_start, last_failure;
    std::optional<std::string> locked_until;
};

class ThrottleStore final {
  public:
    static constexpr std::size_t kDefaultMaxEntries = 20000;

    /// Throws std::invalid_argument for max_failures < 1 or a window or
    /// lockout that is not positive, or max_entries < 1.
    ThrottleStore(Database& db, const Clock& clock, ThrottleSettings settings,
                  std::size_t max_entries = kDefaultMaxEntries);

    /// The entry (address first) that is locked out now, if any. One indexed read.
    std::optional<ThrottleEntry> locked(const std::string& address, const std::string& subject);

    /// Counts one failed challenge against the address and the subject, in one
    /// transaction; returns the entries this failure locked out. Stale entries
    /// are pruned and the table is capped at max_entries rows (entries that are
    /// not locked, least recently failed, go first).
    std::vector<ThrottleEntry> record_failure(const std::string& address, const std::string& subject);

    /// Every tracked entry, locked ones first.
    std::vector<ThrottleEntry> list();
    /// How many addresses and how many subjects are locked out now (for metrics).
    struct LockedCounts {
        int addresses = 0;
        int subjects = 0;
    };
    LockedCounts locked_counts();

    /// Forgets one address or subject (its failures and its lockout); false if not tracked.
    bool clear(const std::string& kind, const std::string& key);
    /// Forgets every entry; returns how many.
    int clear_all();

    /// Deletes entries that neither count failures within the window nor hold a lockout.
    int prune();

    const ThrottleSettings& settings() const { return m_settings; }

  private:
    Database& m_db;
    const Clock& m_clock;
    ThrottleSettings m_settings;
    std::size_t m_max_entries;
};

}  // namespace scepra::store
