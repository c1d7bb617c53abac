// SPDX-License-Identifier: Apache-2.0
// Retention: old rows go in batches, rows that others still refer to stay.
#include "store/retention.hpp"

#include <doctest/doctest.h>

#include "unit/store/store_fixture.hpp"

using namespace scepra;
using namespace scepra::test;

namespace {

void exec(store::Database& db, const std::string& sql) {
    db.write([&](store::Database& d) { d.exec(sql); });
}

/// An old and a new row in every table retention covers, and an old used
/// password that a new audit event still refers to (a repeated request).
void seed(store::Database& db) {
    exec(db,
         "INSERT INTO challenges (id, hash, created_at, expires_at, issued_by, used_at) VALUES "
         "(1, x'01', '2020-01-01 00:00:00', '2020-01-01 01:00:00', 'cli', '2020-01-01 00:10:00'),"
         "(2, x'02', '2020-01-01 00:00:00', '2020-01-01 01:00:00', 'cli', '2020-01-01 00:10:00'),"
         "(3, x'03', '2020-01-01 00:00:00', '2020-01-01 01:00:00', 'cli', '2020-01-01 00:10:00'),"
         "(4, x'04', '2020-01-01 00:00:00', '2020-01-01 01:00:00', 'cli', NULL)");
    exec(db,
         "INSERT INTO audit_events (at, peer, operation, decision, challenge_id) VALUES "
         "('2020-01-01 00:10:00', 'p', 'PKIOperation', 'issued', 1),"
         "('2020-01-01 00:10:00', 'p', 'PKIOperation', 'issued', 2),"
         "('2030-01-01 00:00:00', 'p', 'PKIOperation', 'issued', 2)");
    exec(db,
         "INSERT INTO requests (transaction_id, kind, key_hash, subject, template, status, backend, "
         "challenge_id, "
         "created_at, updated_at) VALUES ('T3', 'PKCSReq', x'00', 'CN=r', 't', 'issued', 'local', 3, "
         "'2020-01-01 00:10:00', '2020-01-01 00:10:00')");
    exec(db,
         "INSERT INTO admin_logins (at, peer, name, success) VALUES ('2020-01-01 00:00:00', 'p', 'a', 0),"
         "('2030-01-01 00:00:00', 'p', 'a', 1)");
    exec(db,
         "INSERT INTO password_events (at, challenge_id, event) VALUES ('2020-01-01 00:00:00', 1, 'issued'),"
         "('2030-01-01 00:00:00', NULL, 'single-set')");
    exec(db,
         "INSERT INTO challenge_failures (kind, key, failures, window_start, last_failure, locked_until) "
         "VALUES "
         "('address', 'old', 1, '2020-01-01 00:00:00', '2020-01-01 00:00:00', NULL),"
         "('address', 'locked', 0, '2020-01-01 00:00:00', '2020-01-01 00:00:00', '2031-01-01 00:00:00'),"
         "('subject', 'new', 1, '2030-01-01 00:00:00', '2030-01-01 00:00:00', NULL)");
}

}  // namespace

TEST_SUITE("store.retention") {
    TEST_CASE("purge deletes what is older than the cutoff and keeps what others refer to") {
        StoreFixture f;
        seed(*f.db);
        const store::PurgeCounts n = store::Retention(*f.db).purge_before("2025-01-01 00:00:00");
        CHECK(n.audit_events == 2);
        CHECK(n.admin_logins == 1);
        CHECK(n.password_events == 1);
        CHECK(n.challenge_failures == 1);
        // 1: its audit events are gone; 2: a new audit event refers to it;
        // 3: a request refers to it; 4: never used (ChallengeStore purges it when it expires).
        CHECK(n.challenges == 1);
        CHECK(text_of(*f.db, "SELECT group_concat(id) FROM (SELECT id FROM challenges ORDER BY id)") ==
              "2,3,4");
        CHECK(scalar(*f.db, "SELECT count(*) FROM audit_events") == 1);
        CHECK(scalar(*f.db, "SELECT count(*) FROM admin_logins WHERE at < '2025-01-01'") == 0);
        CHECK(text_of(*f.db,
                      "SELECT group_concat(key) FROM (SELECT key FROM challenge_failures ORDER BY key)") ==
              "locked,new");
        CHECK(scalar(*f.db, "SELECT count(*) FROM pragma_foreign_key_check") == 0);
    }

    TEST_CASE("a large purge runs in batches and can be stopped between them") {
        StoreFixture f;
        exec(*f.db,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1050) "
             "INSERT INTO audit_events (at, peer, operation, decision) "
             "SELECT '2020-01-01 00:00:00', 'p', 'PKIOperation', 'rejected' FROM n");
        int batches = 0;
        store::Retention retention(*f.db, 100);
        auto first = retention.purge_before("2025-01-01", [&] { return ++batches <= 3; });
        CHECK(first.audit_events == 300);
        CHECK(scalar(*f.db, "SELECT count(*) FROM audit_events") == 750);
        CHECK(retention.purge_before("2025-01-01").audit_events == 750);
        CHECK(scalar(*f.db, "SELECT count(*) FROM audit_events") == 0);
    }
}
