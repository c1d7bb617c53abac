// SPDX-License-Identifier: Apache-2.0
// ThrottleStore: failed challenges per address and subject, lockouts, and the bound on its table.
#include "store/throttle_store.hpp"

#include <doctest/doctest.h>

#include "unit/store/store_fixture.hpp"

using namespace scepra;
using namespace scepra::test;
using namespace std::chrono_literals;

namespace {

struct ThrottleFixture : StoreFixture {
    store::ThrottleStore throttle{*db, clock, {.max_failures = 3, .window = 15min, .lockout = 10min}, 50};
};

}  // namespace

TEST_SUITE("store.throttle") {
    TEST_CASE("max_failures within the window lock the address and the subject out, and the lockout ends") {
        ThrottleFixture f;
        CHECK(f.throttle.record_failure("192.0.2.1", "CN=a").empty());
        CHECK(f.throttle.record_failure("192.0.2.1", "CN=a").empty());
        CHECK_FALSE(f.throttle.locked("192.0.2.1", "CN=other"));
        auto locked = f.throttle.record_failure("192.0.2.1", "CN=a");
        REQUIRE(locked.size() == 2);
        CHECK(locked[0].kind == "address");
        CHECK(locked[1].kind == "subject");
        CHECK(locked[0].locked_until == sql_time(f.clock.now() + 10min));
        auto by_address = f.throttle.locked("192.0.2.1", "CN=other");
        REQUIRE(by_address);
        CHECK(by_address->kind == "address");
        auto by_subject = f.throttle.locked("192.0.2.99", "CN=a");
        REQUIRE(by_subject);
        CHECK(by_subject->kind == "subject");
        f.clock.advance(10min + 1s);
        CHECK_FALSE(f.throttle.locked("192.0.2.1", "CN=a"));
        // Counting started afresh with the lockout.
        CHECK(f.throttle.record_failure("192.0.2.1", "CN=a").empty());
        CHECK_FALSE(f.throttle.locked("192.0.2.1", "CN=a"));
    }

    TEST_CASE("failures older than the window do not count") {
        ThrottleFixture f;
        f.throttle.record_failure("192.0.2.1", "CN=a");
        f.throttle.record_failure("192.0.2.1", "CN=a");
        f.clock.advance(16min);
        CHECK(f.throttle.record_failure("192.0.2.1", "CN=a").empty());
        CHECK(f.throttle.record_failure("192.0.2.1", "CN=a").empty());
        CHECK_FALSE(f.throttle.locked("192.0.2.1", "CN=a"));
        CHECK(f.throttle.record_failure("192.0.2.1", "CN=a").size() == 2);
    }

    TEST_CASE("clear forgets one address or subject, clear_all every entry") {
        ThrottleFixture f;
        for (int i = 0; i < 3; ++i) f.throttle.record_failure("192.0.2.1", "CN=a");
        CHECK(f.throttle.list().size() == 2);
        CHECK(f.throttle.clear("address", "192.0.2.1"));
        CHECK_FALSE(f.throttle.clear("address", "192.0.2.1"));
        auto still = f.throttle.locked("192.0.2.1", "CN=a");
        REQUIRE(still);
        CHECK(still->kind == "subject");
        CHECK(f.throttle.clear_all() == 1);
        CHECK_FALSE(f.throttle.locked("192.0.2.1", "CN=a"));
    }

    TEST_CASE("an attacker with many addresses and subjects cannot grow the table beyond its cap") {
        ThrottleFixture f;  // cap: 50 entries
        for (int i = 0; i < 3; ++i) f.throttle.record_failure("198.51.100.7", "CN=victim");
        for (int i = 0; i < 200; ++i) {
            f.clock.advance(1s);
            f.throttle.record_failure("203.0.113." + std::to_string(i), "CN=junk-" + std::to_string(i));
        }
        CHECK(scalar(*f.db, "SELECT count(*) FROM challenge_failures") <= 50);
        // Entries that are not locked go first: the lockout survives the flood.
        CHECK(f.throttle.locked("198.51.100.7", "CN=victim"));
    }

    TEST_CASE("stale entries are pruned") {
        ThrottleFixture f;
        f.throttle.record_failure("192.0.2.1", "CN=a");
        f.clock.advance(16min);
        CHECK(f.throttle.prune() == 2);
        CHECK(f.throttle.list().empty());
    }

    TEST_CASE("a 2 MiB subject is stored capped") {
        ThrottleFixture f;
        const std::string huge = "CN=" + std::string(2 << 20, 'x');
        for (int i = 0; i < 3; ++i) f.throttle.record_failure("192.0.2.1", huge);
        CHECK(scalar(*f.db, "SELECT max(length(key)) FROM challenge_failures") <= 1024);
        CHECK(f.throttle.locked("192.0.2.2", huge));
    }

    TEST_CASE("settings are validated") {
        StoreFixture f;
        CHECK_THROWS_AS(
            store::ThrottleStore(*f.db, f.clock, {.max_failures = 0, .window = 1min, .lockout = 1min}),
            std::invalid_argument);
        CHECK_THROWS_AS(
            store::ThrottleStore(*f.db, f.clock, {.max_failures = 1, .window = 0min, .lockout = 1min}),
            std::invalid_argument);
    }
}
