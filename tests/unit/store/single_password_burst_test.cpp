// SPDX-License-Identifier: Apache-2.0
// SinglePasswordStore under a burst: distinct guesses beyond max_waiting are
// answered busy at once, while copies of one password share a single check.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store/single_password_store.hpp"
#include "unit/store/store_fixture.hpp"

using namespace scepra;
using namespace scepra::test;
using store::SinglePasswordCheck;

TEST_SUITE("store.single_password") {
    TEST_CASE("a burst of one password shares one scrypt check and is never answered busy") {
        StoreFixture f;
        store::SinglePasswordStore setter(*f.db, f.clock);
        setter.set("the-right-secret", "cli");
        store::SinglePasswordStore server(*f.db, f.clock, {}, 1);  // one seat only
        std::atomic<int> accepted{0}, other{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 16; ++i) {
            threads.emplace_back([&] {
                (server.check("the-right-secret") == SinglePasswordCheck::accepted ? accepted : other)++;
            });
        }
        for (auto& t : threads) t.join();
        CHECK(accepted == 16);
        CHECK(other == 0);
        CHECK(server.slow_verifications() == 1);
    }

    TEST_CASE("distinct wrong guesses beyond max_waiting are answered busy without a scrypt") {
        StoreFixture f;
        store::SinglePasswordStore setter(*f.db, f.clock);
        setter.set("the-right-secret", "cli");
        store::SinglePasswordStore server(*f.db, f.clock, {}, 2);
        std::atomic<int> refused{0}, busy{0}, other{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 24; ++i) {
            threads.emplace_back([&, i] {
                switch (server.check("wrong-guess-" + std::to_string(i))) {
                    case SinglePasswordCheck::refused:
                        ++refused;
                        break;
                    case SinglePasswordCheck::busy:
                        ++busy;
                        break;
                    default:
                        ++other;
                }
            });
        }
        for (auto& t : threads) t.join();
        CHECK(other == 0);
        CHECK(refused + busy == 24);
        CHECK(refused >= 1);
        CHECK(server.slow_verifications() == static_cast<std::uint64_t>(refused.load()));
        CHECK_THROWS_AS(store::SinglePasswordStore(*f.db, f.clock, {}, 0), std::invalid_argument);
    }
}
