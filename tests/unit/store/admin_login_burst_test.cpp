// SPDX-License-Identifier: Apache-2.0
// AdminStore under a burst of password logins from many addresses (each under
// its own throttle): the scrypts take turns, and those past the queue are
// answered busy without a scrypt or a trail row.
#include <doctest/doctest.h>

#include <atomic>
#include <string>

#include "store/admin_store.hpp"
#include "support/all_at_once.hpp"
#include "unit/store/store_fixture.hpp"

using namespace scepra;
using namespace scepra::test;
using Result = store::AdminStore::LoginResult;

namespace {

// The real cost (N = 2^15, ~100 ms each): the guesses must overlap.
constexpr crypto::ScryptParams kRealCost{};
const std::string kPassword = "alice-long-password";

std::string peer(int i) { return "2001:db8:" + std::to_string(i) + "::1"; }

}  // namespace

TEST_SUITE("store.admins") {
    TEST_CASE("concurrent password logins from many addresses never run more scrypts at once than allowed") {
        StoreFixture f;
        store::AdminStore admins(*f.db, f.clock, kRealCost, {}, store::AdminStore::kDefaultMaxLoginRows,
                                 {.running = 2, .waiting = 16});
        admins.add("alice", kPassword);
        constexpr int kLogins = 8;
        std::atomic<int> ok{0}, bad{0}, other{0};
        all_at_once(kLogins, [&](int i) {
            switch (admins.login(peer(i), "alice", i % 2 == 0 ? kPassword : "guess-" + std::to_string(i))
                        .result) {
                case Result::ok:
                    ++ok;
                    break;
                case Result::bad_credentials:
                    ++bad;
                    break;
                default:
                    ++other;
            }
        });
        CHECK(ok == kLogins / 2);  // all waited for a turn: none was turned away
        CHECK(bad == kLogins / 2);
        CHECK(other == 0);
        CHECK(admins.slow_verifications() == kLogins);
        CHECK(admins.most_slow_at_once() >= 1);
        CHECK(admins.most_slow_at_once() <= 2);
    }

    TEST_CASE("password logins past the waiting queue are answered busy at once, unchecked and unrecorded") {
        StoreFixture f;
        store::AdminStore admins(*f.db, f.clock, kRealCost, {}, store::AdminStore::kDefaultMaxLoginRows,
                                 {.running = 1, .waiting = 1});
        admins.add("alice", kPassword);
        constexpr int kLogins = 12;
        std::atomic<int> bad{0}, busy{0}, other{0};
        all_at_once(kLogins, [&](int i) {
            const Result result = admins.login(peer(i), "alice", "guess-" + std::to_string(i)).result;
            if (result == Result::busy) {
                ++busy;
            } else if (result == Result::bad_credentials) {
                ++bad;
            } else {
                ++other;
            }
        });
        CHECK(other == 0);
        CHECK(bad + busy == kLogins);
        CHECK(bad >= 1);
        CHECK(busy >= 1);
        CHECK(admins.most_slow_at_once() == 1);
        // A busy answer ran no scrypt: every verification counted belongs to a checked guess.
        CHECK(admins.slow_verifications() == static_cast<std::uint64_t>(bad.load()));
        // Only the checked guesses are in the trail, so a busy answer never counts towards the throttle.
        CHECK(scalar(*f.db, "SELECT COUNT(*) FROM admin_logins") == bad);
    }

    TEST_CASE("login concurrency allows at least one scrypt and no negative queue") {
        StoreFixture f;
        const auto rows = store::AdminStore::kDefaultMaxLoginRows;
        CHECK_THROWS_AS(store::AdminStore(*f.db, f.clock, {}, {}, rows, {.running = 0, .waiting = 4}),
                        std::invalid_argument);
        CHECK_THROWS_AS(store::AdminStore(*f.db, f.clock, {}, {}, rows, {.running = 1, .waiting = -1}),
                        std::invalid_argument);
        CHECK_NOTHROW(store::AdminStore(*f.db, f.clock, {}, {}, rows, {.running = 1, .waiting = 0}));
    }
}
