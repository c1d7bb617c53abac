// SPDX-License-Identifier: Apache-2.0
// Append-only record of every decision the RA takes on a SCEP request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "store/database.hpp"

namespace scepra::store {

struct AuditEvent {
    // Default member initialisers let callers use designated initialisers
    // without -Wmissing-field-initializers.
    std::string peer{};
    std::string operation{};
    std::optional<std::string> message_type{}, transaction_id{}, subject{};
    std::string decision{};  // issued | pending | rejected | error
    std::optional<std::string> fail_info{}, detail{}, serial{};
    std::optional<std::int64_t> challenge_id{};
    /// The CA backend's own words (SubmitResult::audit_detail): operators only.
    std::optional<std::string> ca_detail{};

    bool operator==(const AuditEvent&) const = default;
};

struct AuditRow : AuditEvent {
    std::int64_t id = 0;
    std::string at;  // sql_time() text, UTC
};

/// Filters of `scep-ra audit`; every set field must match.
struct AuditFilter {
    std::optional<std::string> since, until;  ///< 'YYYY-MM-DD[ HH:MM:SS]' UTC, inclusive / exclusive
    std::optional<std::string> subject;       ///< substring of the subject DN
    std::optional<std::string> transaction_id;
    std::optional<std::string> decision;  ///< issued | pending | rejected | error
    int limit = 1000;
};

class AuditLog final {
  public:
    AuditLog(Database& db, const Clock& clock);

    /// Writes one row in its own transaction; returns its id. Client-supplied
    /// text is capped (store/field_caps.hpp): transaction_id at 128 bytes,
    /// subject and detail at 1024, peer, operation, message_type, fail_info
    /// and serial at 128, a cut field ending in "...[truncated]". Throws DbError
    /// (nothing written) on an invalid decision or unknown challenge_id.
    std::int64_t record(const AuditEvent& event);
    /// record() inside the caller's Database::write() (e.g. the one that
    /// stores the outcome the event reports), so both are committed or neither is.
    std::int64_t record_in(Database& db, const AuditEvent& event);
    /// The database the log writes to: a caller writes its own rows and the
    /// event in one commit only when they share it.
    Database& database() const { return m_db; }

    /// The newest `limit` rows, newest first.
    std::vector<AuditRow> recent(int limit);

    /// All rows for a SCEP transactionID, oldest first.
    std::vector<AuditRow> by_transaction(const std::string& txid);

    /// Rows matching the filter, oldest first (the newest `limit` of them).
    std::vector<AuditRow> query(const AuditFilter& filter);

  private:
    Database& m_db;
    const Clock& m_clock;
};

}  // namespace scepra::store
