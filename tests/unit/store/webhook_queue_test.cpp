// SPDX-License-Identifier: Apache-2.0
#include "store/webhook_queue.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "store_fixture.hpp"

using namespace scepra;
using namespace std::chrono_literals;
using store::WebhookQueue;

TEST_SUITE("store.webhook_queue") {
    TEST_CASE("notifications are handed out oldest first and deleted once delivered") {
        test::StoreFixture f;
        WebhookQueue queue(*f.db, f.clock);
        REQUIRE(queue.enqueue(R"({"event":"decision"})"));
        REQUIRE(queue.enqueue(R"({"event":"outcome"})"));
        auto first = queue.next_due();
        REQUIRE(first);
        CHECK(first->body == R"({"event":"decision"})");
        CHECK(first->attempts == 0);
        queue.delivered(first->id);
        auto second = queue.next_due();
        REQUIRE(second);
        CHECK(second->body == R"({"event":"outcome"})");
        queue.delivered(second->id);
        CHECK_FALSE(queue.next_due());
        CHECK_FALSE(queue.seconds_until_due());
        CHECK(queue.size() == 0);
    }

    TEST_CASE("a notification waiting out its backoff holds back the newer ones, so order is kept") {
        test::StoreFixture f;
        WebhookQueue queue(*f.db, f.clock);
        REQUIRE(queue.enqueue("decision"));
        auto decision = queue.next_due();
        REQUIRE(decision);
        queue.failed(decision->id, "cannot connect", 2s);
        // The outcome arrives while the receiver is still down, never tried yet.
        REQUIRE(queue.enqueue("outcome"));
        CHECK_FALSE(queue.next_due());
        CHECK(queue.seconds_until_due() == 2);
        f.clock.advance(1s);
        CHECK_FALSE(queue.next_due());
        CHECK(queue.seconds_until_due() == 1);
        f.clock.advance(1s);
        auto again = queue.next_due();
        REQUIRE(again);
        CHECK(again->body == "decision");
        CHECK(again->attempts == 1);
        CHECK(test::text_of(*f.db, "SELECT last_error FROM webhook_notifications WHERE body = 'decision'") ==
              "cannot connect");
        queue.delivered(again->id);
        auto outcome = queue.next_due();
        REQUIRE(outcome);
        CHECK(outcome->body == "outcome");
    }

    TEST_CASE("decisions fill the queue only up to the outcomes' reserve") {
        // A flood of refused requests (each a decision) must not crowd out the outcome of an enrolment.
        test::StoreFixture f;
        WebhookQueue queue(*f.db, f.clock);
        f.db->write([](store::Database& db) {
            auto fill = db.prepare(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) "
                "INSERT INTO webhook_notifications (body, next_attempt_at, created_at) "
                "SELECT 'decision', 0, '2025-01-01 00:00:00' FROM n");
            fill.bind(1, WebhookQueue::max_rows - WebhookQueue::outcome_reserve - 1);
            fill.run();
        });
        CHECK(queue.enqueue("the last decision with room", store::NotificationKind::decision));
        CHECK_FALSE(queue.enqueue("a decision into the reserve", store::NotificationKind::decision));
        CHECK(queue.enqueue("an outcome", store::NotificationKind::outcome));
        CHECK(queue.size() == WebhookQueue::max_rows - WebhookQueue::outcome_reserve + 1);
    }

    TEST_CASE("a full queue and an oversized body are refused without pushing anything out") {
        test::StoreFixture f;
        WebhookQueue queue(*f.db, f.clock);
        CHECK_FALSE(queue.enqueue(std::string(WebhookQueue::max_body_bytes + 1, 'x')));
        CHECK(queue.enqueue(std::string(WebhookQueue::max_body_bytes, 'x')));
        f.db->write([](store::Database& db) {
            auto fill = db.prepare(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) "
                "INSERT INTO webhook_notifications (body, next_attempt_at, created_at) "
                "SELECT 'filler', 0, '2025-01-01 00:00:00' FROM n");
            fill.bind(1, WebhookQueue::max_rows - 1);
            fill.run();
        });
        REQUIRE(queue.size() == WebhookQueue::max_rows);
        CHECK_FALSE(queue.enqueue("one too many"));
        CHECK_FALSE(queue.enqueue("one too many", store::NotificationKind::decision));
        CHECK(queue.size() == WebhookQueue::max_rows);
        auto oldest = queue.next_due();
        REQUIRE(oldest);
        CHECK(oldest->body.size() == WebhookQueue::max_body_bytes);
    }
}
