// SPDX-License-Identifier: Apache-2.0
// Reads an instance's SQLite database from its file (a server may be running on it, or be dead).
#pragma once

#include <filesystem>
#include <string>

#include "store/database.hpp"

namespace scepra::test {

/// The first column of the first row of query on the database in db_file ("" when there is no row).
inline std::string query_text(const std::filesystem::path& db_file, const std::string& query) {
    auto db = store::Database::open(db_file, false);
    return db->read([&](store::Database& d) {
        auto st = d.prepare(query);
        return st.step() ? st.column_text(0) : std::string();
    });
}

}  // namespace scepra::test
