// SPDX-License-Identifier: Apache-2.0
// The requests table: one claim per transactionID and kind, and the atomic
// take-over of a claim the CA never took (held after an outage, or left by an
// RA that stopped), so that a resumed request reaches the CA once.
#include "store/request_store.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store/challenge_store.hpp"
#include "store_fixture.hpp"

using namespace scepra;
using namespace scepra::test;

namespace {

store::RequestRecord claim(const std::string& txid) {
    store::RequestRecord r;
    r.transaction_id = txid;
    r.kind = "PKCSReq";
    r.key_hash = Bytes(32, 0x11);
    r.subject = "CN=device";
    r.status = "pending";
    r.backend = "local";
    r.challenge_id = 7;
    return r;
}

}  // namespace

TEST_SUITE("store.requests") {
    TEST_CASE("a transactionID is claimed once per kind") {
        StoreFixture f;
        store::RequestStore requests(*f.db, f.clock);
        auto id = requests.insert(claim("TX-1"));
        REQUIRE(id);
        CHECK_FALSE(requests.insert(claim("TX-1")));
        auto renewal = claim("TX-1");
        renewal.kind = "Renewal:01AB";
        CHECK(requests.insert(renewal));
        auto found = requests.find("TX-1", "PKCSReq");
        REQUIRE(found);
        CHECK(found->id == *id);
        CHECK(found->updated_at == sql_time(f.clock.now()));
        CHECK(found->challenge_id == 7);
    }

    TEST_CASE("hold_for_retry marks a claim, and exactly one of many callers takes it over") {
        StoreFixture f;
        store::RequestStore requests(*f.db, f.clock);
        auto id = requests.insert(claim("TX-HELD"));
        REQUIRE(id);
        requests.hold_for_retry(*id, "CA unavailable: connection refused");
        auto held = requests.find("TX-HELD", "PKCSReq");
        REQUIRE(held);
        CHECK(held->fail_text == "CA unavailable: connection refused");

        constexpr int callers = 8;
        std::atomic<int> winners{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < callers; ++i) {
            threads.emplace_back([&] {
                if (requests.take_over(*held)) {
                    ++winners;
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        CHECK(winners == 1);
        auto taken = requests.find("TX-HELD", "PKCSReq");
        REQUIRE(taken);
        CHECK_FALSE(taken->fail_text);  // the mark is gone with the take-over
        CHECK(taken->status == "pending");
        // What a caller saw before the take-over no longer matches.
        CHECK_FALSE(requests.take_over(*held));
    }

    TEST_CASE("an old claim is taken over once, even within the same second") {
        StoreFixture f;
        store::RequestStore requests(*f.db, f.clock);
        REQUIRE(requests.insert(claim("TX-OLD")));
        f.clock.advance(std::chrono::minutes(11));
        auto old = requests.find("TX-OLD", "PKCSReq");
        REQUIRE(old);
        CHECK(requests.take_over(*old));
        CHECK_FALSE(requests.take_over(*old));  // same clock second: updated_at has moved on
    }

    TEST_CASE("finished or CA-tracked requests cannot be taken over or held") {
        StoreFixture f;
        store::RequestStore requests(*f.db, f.clock);
        auto issued = claim("TX-DONE");
        auto id = requests.insert(issued);
        REQUIRE(id);
        issued.id = *id;
        issued.status = "issued";
        issued.cert_der = Bytes{0x30, 0x00};
        requests.update(issued);
        auto done = requests.find("TX-DONE", "PKCSReq");
        REQUIRE(done);
        CHECK_FALSE(requests.take_over(*done));
        requests.hold_for_retry(*id, "CA unavailable");
        CHECK_FALSE(requests.find("TX-DONE", "PKCSReq")->fail_text);

        auto queued = claim("TX-QUEUED");
        auto queued_id = requests.insert(queued);
        REQUIRE(queued_id);
        queued.id = *queued_id;
        queued.backend_ref = "42";  // pending at the CA: polled, never resubmitted
        requests.update(queued);
        CHECK_FALSE(requests.take_over(*requests.find("TX-QUEUED", "PKCSReq")));
    }
}

TEST_SUITE("store.requests.durability") {
    TEST_CASE("a claim keeps the hashes of its CSR's signed part and of its signer") {
        StoreFixture f;
        store::RequestStore requests(*f.db, f.clock);
        auto with_hashes = claim("TX-H");
        with_hashes.csr_info_hash = Bytes(32, 0x21);
        with_hashes.signer_hash = Bytes(32, 0x22);
        REQUIRE(requests.insert(with_hashes));
        auto found = requests.find("TX-H", "PKCSReq");
        REQUIRE(found);
        CHECK(found->csr_info_hash == Bytes(32, 0x21));
        CHECK(found->signer_hash == Bytes(32, 0x22));
        // Claims of older versions have neither.
        REQUIRE(requests.insert(claim("TX-OLD")));
        CHECK(requests.find("TX-OLD", "PKCSReq")->csr_info_hash.empty());
    }

    TEST_CASE("a claim made inside another transaction is undone with it") {
        StoreFixture f;
        store::RequestStore requests(*f.db, f.clock);
        CHECK_THROWS_AS(f.db->write([&](store::Database& db) {
            REQUIRE(requests.insert_in(db, claim("TX-UNDONE")));
            throw std::runtime_error("the password could not be used");
        }),
                        std::runtime_error);
        CHECK_FALSE(requests.find("TX-UNDONE", "PKCSReq"));
        auto id = f.db->write([&](store::Database& db) { return requests.insert_in(db, claim("TX-KEPT")); });
        REQUIRE(id);
        CHECK(f.db->write([&](store::Database& db) { return requests.insert_in(db, claim("TX-KEPT")); }) ==
              std::nullopt);
    }

    TEST_CASE("the password is used up in the claim's transaction: a failed claim leaves it usable") {
        StoreFixture f;
        store::RequestStore requests(*f.db, f.clock);
        store::ChallengeStore passwords(*f.db, f.key, f.clock);
        const auto issued = passwords.issue(store::ChallengePolicy{}, "cli", std::nullopt);
        auto failing_claim = [&](store::Database&, std::int64_t) { throw store::ClaimExists(); };
        CHECK_THROWS_AS(passwords.consume(issued.password, "TX-A", {}, failing_claim), store::ClaimExists);
        CHECK(passwords.outstanding() == 1);

        std::optional<std::int64_t> claim_id;
        auto record = claim("TX-A");
        const auto outcome =
            passwords.consume(issued.password, "TX-A", {}, [&](store::Database& db, std::int64_t id) {
                record.challenge_id = id;
                claim_id = requests.insert_in(db, record);
            });
        CHECK(outcome.result == store::ChallengeCheck::accepted);
        REQUIRE(claim_id);
        CHECK(requests.find("TX-A", "PKCSReq")->challenge_id == issued.id);
        CHECK(passwords.outstanding() == 0);
    }
}
