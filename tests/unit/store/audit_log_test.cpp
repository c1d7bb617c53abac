// SPDX-License-Identifier: Apache-2.0
// AuditLog: round trip of every field, ordering, lookup by transaction, refused rows.
#include "store/audit_log.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "store/challenge_store.hpp"
#include "store_fixture.hpp"

using namespace scepra;
using namespace scepra::store;
using namespace std::chrono_literals;
using scepra::test::scalar;

namespace {

AuditEvent minimal(const std::string& decision, std::optional<std::string> txid = std::nullopt) {
    AuditEvent e;
    e.peer = "203.0.113.9";
    e.operation = "PKIOperation";
    e.decision = decision;
    e.transaction_id = std::move(txid);
    return e;
}

}  // namespace

TEST_SUITE("store.audit") {
    TEST_CASE("a recorded event reads back with every field") {
        test::StoreFixture f;
        AuditLog log(*f.db, f.clock);

        SUBCASE("ok/all fields set") {
            ChallengeStore challenges(*f.db, f.key, f.clock);
            const auto c = challenges.issue(ChallengePolicy{}, "cli", std::nullopt);
            f.clock.advance(90s);
            const AuditEvent e{.peer = "192.0.2.10",
                               .operation = "PKIOperation",
                               .message_type = "PKCSReq",
                               .transaction_id = "ABCDEF0123",
                               .subject = "CN=router1,O=Example",
                               .decision = "issued",
                               .fail_info = "badRequest",
                               .detail = "ok after retry",
                               .serial = "01A2B3",
                               .challenge_id = c.id};
            const auto id = log.record(e);
            const auto rows = log.recent(10);
            REQUIRE(rows.size() == 1);
            const AuditRow& r = rows[0];
            CHECK(r.id == id);
            CHECK(r.at == "2025-01-01 10:01:30");
            CHECK(r.peer == e.peer);
            CHECK(r.operation == e.operation);
            CHECK(r.message_type == e.message_type);
            CHECK(r.transaction_id == e.transaction_id);
            CHECK(r.subject == e.subject);
            CHECK(r.decision == e.decision);
            CHECK(r.fail_info == e.fail_info);
            CHECK(r.detail == e.detail);
            CHECK(r.serial == e.serial);
            CHECK(r.challenge_id == c.id);
        }
        SUBCASE("ok/optional fields left empty stay empty") {
            log.record(minimal("error"));
            const auto rows = log.recent(1);
            REQUIRE(rows.size() == 1);
            const AuditRow& r = rows[0];
            CHECK(r.decision == "error");
            CHECK(r.at == "2025-01-01 10:00:00");
            CHECK_FALSE(r.message_type.has_value());
            CHECK_FALSE(r.transaction_id.has_value());
            CHECK_FALSE(r.subject.has_value());
            CHECK_FALSE(r.fail_info.has_value());
            CHECK_FALSE(r.detail.has_value());
            CHECK_FALSE(r.serial.has_value());
            CHECK_FALSE(r.challenge_id.has_value());
        }
    }

    TEST_CASE("recent lists the newest events first and honours the limit") {
        test::StoreFixture f;
        AuditLog log(*f.db, f.clock);
        std::vector<std::int64_t> ids;
        for (int i = 0; i < 5; ++i) {
            ids.push_back(log.record(minimal("pending", "tx-" + std::to_string(i))));
            f.clock.advance(1min);
        }
        const auto three = log.recent(3);
        REQUIRE(three.size() == 3);
        CHECK(three[0].id == ids[4]);
        CHECK(three[1].id == ids[3]);
        CHECK(three[2].id == ids[2]);
        CHECK(three[0].transaction_id == "tx-4");
        CHECK(three[0].at == "2025-01-01 10:04:00");
        CHECK(log.recent(100).size() == 5);
        CHECK(log.recent(0).empty());
        CHECK(log.recent(-1).empty());
    }

    TEST_CASE("by_transaction returns only that transaction's events, oldest first") {
        test::StoreFixture f;
        AuditLog log(*f.db, f.clock);
        const auto first = log.record(minimal("pending", "tx-a"));
        log.record(minimal("rejected", "tx-b"));
        log.record(minimal("error"));
        f.clock.advance(5min);
        const auto second = log.record(minimal("issued", "tx-a"));

        const auto rows = log.by_transaction("tx-a");
        REQUIRE(rows.size() == 2);
        CHECK(rows[0].id == first);
        CHECK(rows[0].decision == "pending");
        CHECK(rows[1].id == second);
        CHECK(rows[1].decision == "issued");
        CHECK(rows[1].at == "2025-01-01 10:05:00");
        CHECK(log.by_transaction("tx-b").size() == 1);
        CHECK(log.by_transaction("tx-none").empty());
    }

    TEST_CASE("invalid events are refused and leave no row behind") {
        test::StoreFixture f;
        AuditLog log(*f.db, f.clock);
        AuditEvent bad = minimal("issued", "tx");
        SUBCASE("fail/unknown decision") { bad.decision = "maybe"; }
        SUBCASE("fail/challenge that does not exist") { bad.challenge_id = 4242; }
        CHECK_THROWS_AS(log.record(bad), DbError);
        CHECK(scalar(*f.db, "SELECT COUNT(*) FROM audit_events") == 0);
        CHECK(log.record(minimal("issued", "tx")) > 0);
    }
}
