// SPDX-License-Identifier: Apache-2.0
// Client-supplied fields are stored within their bounds (audit_events, admin_logins).
#include "store/field_caps.hpp"

#include <doctest/doctest.h>

#include "store/admin_store.hpp"
#include "store/audit_log.hpp"
#include "unit/store/store_fixture.hpp"

using namespace scepra;
using namespace scepra::test;

TEST_SUITE("store.caps") {
    TEST_CASE("capped cuts at a UTF-8 boundary and marks the cut") {
        CHECK(store::capped("short", 10) == "short");
        const std::string cut = store::capped(std::string(100, 'a'), 20);
        CHECK(cut.size() == 20);
        CHECK(cut == std::string(6, 'a') + "...[truncated]");
        // "é" is two bytes: a cut in its middle keeps neither half.
        const std::string accents = std::string(5, 'a') + "\xc3\xa9\xc3\xa9" + std::string(30, 'b');
        CHECK(store::capped(accents, 20) == "aaaaa...[truncated]");
        CHECK(store::capped(accents, 21) == "aaaaa\xc3\xa9...[truncated]");
    }

    TEST_CASE("an audit row stores 2 MiB fields capped") {
        StoreFixture f;
        store::AuditLog log(*f.db, f.clock);
        const std::string huge(2 << 20, 'x');
        log.record({.peer = huge,
                    .operation = huge,
                    .message_type = huge,
                    .transaction_id = huge,
                    .subject = huge,
                    .decision = "rejected",
                    .fail_info = huge,
                    .detail = huge,
                    .serial = huge});
        CHECK(scalar(*f.db, "SELECT length(transaction_id) FROM audit_events") == 128);
        CHECK(scalar(*f.db, "SELECT length(subject) FROM audit_events") == 1024);
        CHECK(scalar(*f.db, "SELECT length(detail) FROM audit_events") == 1024);
        CHECK(scalar(*f.db,
                     "SELECT max(length(peer), length(operation), length(message_type), length(fail_info), "
                     "length(serial)) FROM audit_events") == 128);
        CHECK(text_of(*f.db, "SELECT substr(subject, -14) FROM audit_events") == "...[truncated]");
        auto rows = log.recent(1);
        REQUIRE(rows.size() == 1);
        CHECK(rows[0].transaction_id->size() == 128);
    }

    TEST_CASE("admin_logins stores capped names and keeps only the newest attempts") {
        StoreFixture f;
        store::AdminStore admins(*f.db, f.clock, {.n = 1024, .r = 1, .p = 1},
                                 {.max_failures = 1000, .window = std::chrono::minutes(1)}, 10);
        const std::string huge(1 << 20, 'n');
        for (int i = 0; i < 30; ++i) {
            CHECK(admins.login("192.0.2." + std::to_string(i), huge, "wrong-password").result ==
                  store::AdminStore::LoginResult::bad_credentials);
        }
        CHECK(scalar(*f.db, "SELECT count(*) FROM admin_logins") == 10);
        CHECK(scalar(*f.db, "SELECT min(id) FROM admin_logins") == 21);
        CHECK(scalar(*f.db, "SELECT max(length(name)) FROM admin_logins") == 128);
    }
}
