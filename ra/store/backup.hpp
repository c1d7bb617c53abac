// SPDX-License-Identifier: Apache-2.0
// An online, consistent copy of the instance database through SQLite's backup
// API, while `scep-ra serve` keeps writing to it; and its integrity check.
#pragma once

#include <cstdint>
#include <filesystem>

namespace scepra::store {

struct BackupResult {
    std::int64_t pages = 0;
    std::uintmax_t bytes = 0;
};

/// Copies the database `from` into the new file `to` (mode 0600; refused when
/// it exists): one read transaction, so the copy is the database as of one
/// commit, whatever other processes write meanwhile. The copy is checked
/// (PRAGMA integrity_check), made a single self-contained file (rollback
/// journal mode; the server turns WAL on again when it opens it), synced, and
/// only then given its name. Throws DbError or std::runtime_error naming the
/// file; a failed backup leaves nothing at `to`.
BackupResult backup_database(const std::filesystem::path& from, const std::filesystem::path& to);

/// "ok", or what PRAGMA integrity_check finds wrong with the database file
/// (first problem only). Opens its own connection; writes nothing.
std::string integrity_check(const std::filesystem::path& file);

}  // namespace scepra::store
