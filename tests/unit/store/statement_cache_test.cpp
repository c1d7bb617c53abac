// SPDX-License-Identifier: Apache-2.0
// Database::prepare reuses compiled statements; a text already in use gets a
// statement of its own, and a reused one starts fresh (no old bindings or rows).
#include <doctest/doctest.h>

#include "store/database.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

TEST_SUITE("store.database") {
    TEST_CASE("reused statements start fresh, and nested use of one SQL text gets its own statement") {
        test::TempDir dir;
        auto db = store::Database::open(dir.file("cache.db"), true);
        db->write([](store::Database& d) {
            d.exec("CREATE TABLE t (n INTEGER)");
            for (int i = 1; i <= 3; ++i) {
                d.prepare("INSERT INTO t (n) VALUES (?1)").bind(1, i).run();
            }
        });
        const char* select = "SELECT n FROM t WHERE n >= ?1 ORDER BY n";
        db->read([&](store::Database& d) {
            {
                auto first = d.prepare(select);
                first.bind(1, 2);
                REQUIRE(first.step());
                CHECK(first.column_int(0) == 2);
                // Left mid-result on purpose; the same text is prepared while it is alive.
                auto nested = d.prepare(select);
                nested.bind(1, 1);
                REQUIRE(nested.step());
                CHECK(nested.column_int(0) == 1);
                REQUIRE(first.step());
                CHECK(first.column_int(0) == 3);
            }
            // The cached statement comes back reset: no binding from before, rows from the start.
            auto again = d.prepare(select);
            again.bind(1, 3);
            REQUIRE(again.step());
            CHECK(again.column_int(0) == 3);
            CHECK_FALSE(again.step());
            auto unbound = d.prepare(select);
            CHECK_FALSE(unbound.step());  // NULL parameter: no row matches
            return 0;
        });
        CHECK(db->read([](store::Database& d) {
            auto count = d.prepare("SELECT count(*) FROM t");
            count.step();
            return count.column_int(0);
        }) == 3);
    }
}
