// SPDX-License-Identifier: Apache-2.0
// Shared setup for the store tests: a fresh database file and a FixedClock.
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "store/database.hpp"
#include "support/test_pki.hpp"

namespace scepra::test {

inline TimePoint test_epoch() {
    using namespace std::chrono;
    return sys_days{year{2025} / 1 / 1} + hours{10};
}

/// One value from a query run directly on the database.
inline std::int64_t scalar(store::Database& db, const std::string& sql) {
    return db.read([&](store::Database& d) {
        auto st = d.prepare(sql);
        st.step();
        return st.column_int(0);
    });
}

inline std::string text_of(store::Database& db, const std::string& sql) {
    return db.read([&](store::Database& d) {
        auto st = d.prepare(sql);
        st.step();
        return st.column_text(0);
    });
}

inline std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct StoreFixture {
    TempDir dir;
    std::string db_path = dir.file("scep-ra.db");
    FixedClock clock{test_epoch()};
    std::unique_ptr<store::Database> db = store::Database::open(db_path, true);
    Bytes key = Bytes(32, 0x5a);
};

}  // namespace scepra::test
