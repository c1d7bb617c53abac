// SPDX-License-Identifier: Apache-2.0
// Database: migrations, schema version checks and write() rollback on real files.
#include "store/database.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "store/migrations.hpp"
#include "store_fixture.hpp"

using namespace scepra;
using namespace scepra::store;
using scepra::test::scalar;

namespace {

int newest_version() { return migrations().back().version; }

std::int64_t table_count(Database& db, const std::string& name) {
    return scalar(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '" + name + "'");
}

void insert_audit_row(Database& db, const std::string& decision) {
    auto st = db.prepare(
        "INSERT INTO audit_events (at, peer, operation, decision) VALUES ('2025-01-01 00:00:00', 'p', 'op', "
        "?1)");
    st.bind(1, decision);
    st.run();
}

}  // namespace

TEST_SUITE("store.database") {
    TEST_CASE("opening a new file applies every migration and sets user_version") {
        test::StoreFixture f;
        REQUIRE_FALSE(migrations().empty());
        CHECK(newest_version() >= 1);
        CHECK(f.db->schema_version() == newest_version());
        CHECK(scalar(*f.db, "PRAGMA user_version") == newest_version());
        CHECK(table_count(*f.db, "challenges") == 1);
        CHECK(table_count(*f.db, "audit_events") == 1);
        CHECK(scalar(*f.db, "PRAGMA foreign_keys") == 1);
        CHECK(test::text_of(*f.db, "PRAGMA journal_mode") == "wal");
    }

    TEST_CASE("reopening an existing database is idempotent and keeps its data") {
        test::StoreFixture f;
        f.db->write([](Database& db) { insert_audit_row(db, "issued"); });
        f.db.reset();
        for (int i = 0; i < 2; ++i) {
            auto again = Database::open(f.db_path, false);
            CHECK(again->schema_version() == newest_version());
            CHECK(scalar(*again, "SELECT COUNT(*) FROM audit_events") == 1);
            CHECK(table_count(*again, "challenges") == 1);
        }
    }

    TEST_CASE("opening is refused when the file is missing or from a newer scep-ra") {
        test::TempDir dir;
        SUBCASE("fail/missing file without create") {
            const std::string path = dir.file("absent.db");
            CHECK_THROWS_AS(Database::open(path, false), DbError);
            CHECK_FALSE(std::filesystem::exists(path));
        }
        SUBCASE("fail/newer user_version") {
            const std::string path = dir.file("newer.db");
            {
                auto db = Database::open(path, true);
                db->write([](Database& d) {
                    d.exec("PRAGMA user_version = " + std::to_string(newest_version() + 1));
                });
            }
            try {
                Database::open(path, false);
                FAIL("a database from a newer version was opened");
            } catch (const DbError& e) {
                CHECK(e.code() == SQLITE_MISMATCH);
                CHECK(std::string(e.what()).find("newer") != std::string::npos);
                CHECK(std::string(e.what()).find(path) != std::string::npos);
            }
        }
    }

    TEST_CASE("a failed write rolls back everything it did") {
        test::StoreFixture f;
        SUBCASE("fail/exception thrown by the caller") {
            CHECK_THROWS_AS(f.db->write([](Database& db) {
                insert_audit_row(db, "issued");
                throw std::runtime_error("boom");
            }),
                            std::runtime_error);
        }
        SUBCASE("fail/constraint violation after a good insert") {
            CHECK_THROWS_AS(f.db->write([](Database& db) {
                insert_audit_row(db, "issued");
                insert_audit_row(db, "not-a-decision");
            }),
                            DbError);
        }
        CHECK(scalar(*f.db, "SELECT COUNT(*) FROM audit_events") == 0);
        // The connection is usable again: no transaction or lock left behind.
        f.db->write([](Database& db) { insert_audit_row(db, "pending"); });
        CHECK(scalar(*f.db, "SELECT COUNT(*) FROM audit_events") == 1);
    }
}
