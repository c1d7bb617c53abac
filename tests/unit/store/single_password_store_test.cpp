// SPDX-License-Identifier: Apache-2.0
// SinglePasswordStore: set/verify/change across processes, minimum length, storage, events, fast path.
#include "store/single_password_store.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "crypto/password_hash.hpp"
#include "store_fixture.hpp"
#include "support/text.hpp"

using namespace scepra;
using namespace scepra::store;
using namespace std::chrono_literals;
using scepra::test::scalar;
using scepra::test::text_of;

using test::contains;

namespace {

constexpr crypto::ScryptParams kFast{1024, 8, 1};

/// A second connection to the same file, as another process (e.g. the CLI) would have.
struct OtherProcess {
    std::unique_ptr<Database> db;
    SinglePasswordStore store;
    OtherProcess(const std::string& path, const Clock& clock)
        : db(Database::open(path, false)), store(*db, clock, kFast) {}
};

}  // namespace

TEST_SUITE("store.single_password") {
    TEST_CASE("the password set is accepted and others are refused") {
        test::StoreFixture f;
        SinglePasswordStore store(*f.db, f.clock, kFast);
        store.set("Secret-Enrol-1", "cli");

        SUBCASE("ok/the same password, repeatedly") {
            CHECK(store.verify("Secret-Enrol-1"));
            CHECK(store.verify("Secret-Enrol-1"));
        }
        SUBCASE("fail/any other password") {
            for (const std::string& wrong : {std::string(""), std::string("secret-enrol-1"),
                                             std::string("Secret-Enrol-"), std::string("Secret-Enrol-12")}) {
                CAPTURE(wrong);
                CHECK_FALSE(store.verify(wrong));
            }
        }
    }

    TEST_CASE("nothing is accepted before a password is set") {
        test::StoreFixture f;
        SinglePasswordStore store(*f.db, f.clock, kFast);
        CHECK_FALSE(store.verify(""));
        CHECK_FALSE(store.verify("anything-at-all"));
        CHECK(store.slow_verifications() == 0);
        CHECK_FALSE(store.set_at().has_value());
    }

    TEST_CASE("the default parameters store an N=2^15 scrypt hash that verifies") {
        test::StoreFixture f;
        SinglePasswordStore store(*f.db, f.clock);
        store.set("default-cost-pw", "cli");
        CHECK(std::regex_match(text_of(*f.db, "SELECT hash FROM single_password"),
                               std::regex(R"(\$scrypt\$32768\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64})")));
        OtherProcess other(f.db_path, f.clock);
        CHECK(other.store.verify("default-cost-pw"));
        CHECK_FALSE(other.store.verify("default-cost-pX"));
    }

    TEST_CASE("a change made through another connection takes effect at the next verify") {
        test::StoreFixture f;
        SinglePasswordStore server(*f.db, f.clock, kFast);
        OtherProcess cli(f.db_path, f.clock);

        cli.store.set("first-password", "cli");
        REQUIRE(server.verify("first-password"));
        REQUIRE(server.verify("first-password"));  // now served from the cache

        cli.store.set("second-password", "cli");
        SUBCASE("ok/the new password is accepted") {
            CHECK(server.verify("second-password"));
            CHECK(server.verify("second-password"));
        }
        SUBCASE("fail/the old password is refused") {
            CHECK_FALSE(server.verify("first-password"));
            CHECK_FALSE(server.verify("first-password"));
        }
        SUBCASE("ok/setting the same password again keeps it valid") {
            cli.store.set("first-password", "cli");
            CHECK(server.verify("first-password"));
            CHECK_FALSE(server.verify("second-password"));
        }
    }

    TEST_CASE("passwords shorter than 8 characters are refused") {
        test::StoreFixture f;
        SinglePasswordStore store(*f.db, f.clock, kFast);

        SUBCASE("fail/too short") {
            std::string short_pw;
            SUBCASE("empty") { short_pw = ""; }
            SUBCASE("7 ASCII characters") { short_pw = "1234567"; }
            SUBCASE("7 characters in 14 bytes") { short_pw = "äöüäöüä"; }
            CHECK_THROWS_AS(store.set(short_pw, "cli"), std::invalid_argument);
            CHECK(scalar(*f.db, "SELECT COUNT(*) FROM single_password") == 0);
            CHECK(scalar(*f.db, "SELECT COUNT(*) FROM password_events") == 0);
        }
        SUBCASE("fail/a refused change keeps the old password") {
            store.set("12345678", "cli");
            CHECK_THROWS_AS(store.set("1234567", "cli"), std::invalid_argument);
            CHECK(store.verify("12345678"));
            CHECK_FALSE(store.verify("1234567"));
            CHECK(scalar(*f.db, "SELECT COUNT(*) FROM password_events") == 1);
        }
        SUBCASE("ok/exactly 8 characters") {
            store.set("12345678", "cli");
            CHECK(store.verify("12345678"));
        }
    }

    TEST_CASE("only an scrypt hash of the password reaches the database file") {
        test::StoreFixture f;
        SinglePasswordStore store(*f.db, f.clock, kFast);
        const std::string password = "Plain-Text-Sentinel-4711";
        store.set(password, "operator-xyz");

        const std::string on_disk = test::file_bytes(f.db_path) + test::file_bytes(f.db_path + "-wal");
        REQUIRE(contains(on_disk, "operator-xyz"));  // the row did reach the files we search
        CHECK_FALSE(contains(on_disk, password));
        CHECK_FALSE(contains(on_disk, "Plain-Text"));

        const std::string hash = text_of(*f.db, "SELECT hash FROM single_password WHERE id = 1");
        CHECK(std::regex_match(hash, std::regex(R"(\$scrypt\$1024\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64})")));
        CHECK(crypto::verify_password(password, hash));
        CHECK(scalar(*f.db, "SELECT COUNT(*) FROM single_password") == 1);
    }

    TEST_CASE("set_at and set_by tell when and by whom the password was last set") {
        test::StoreFixture f;
        SinglePasswordStore store(*f.db, f.clock, kFast);
        CHECK_FALSE(store.set_at().has_value());

        store.set("first-password", "cli");
        CHECK(store.set_at() == std::optional<std::string>("2025-01-01 10:00:00"));
        CHECK(text_of(*f.db, "SELECT set_by FROM single_password") == "cli");

        f.clock.advance(90min);
        store.set("second-password", "admin-anna");
        CHECK(store.set_at() == std::optional<std::string>("2025-01-01 11:30:00"));
        CHECK(text_of(*f.db, "SELECT set_by FROM single_password") == "admin-anna");
        CHECK(scalar(*f.db, "SELECT COUNT(*) FROM single_password") == 1);

        OtherProcess other(f.db_path, f.clock);
        CHECK(other.store.set_at() == store.set_at());
    }

    TEST_CASE("every set writes a single-set password event") {
        test::StoreFixture f;
        SinglePasswordStore store(*f.db, f.clock, kFast);
        store.set("first-password", "cli");
        f.clock.advance(1h);
        store.set("second-password", "admin-anna");

        CHECK(scalar(*f.db, "SELECT COUNT(*) FROM password_events") == 2);
        CHECK(scalar(*f.db,
                     "SELECT COUNT(*) FROM password_events WHERE event = 'single-set' AND "
                     "challenge_id IS NULL AND peer IS NULL AND transaction_id IS NULL") == 2);
        CHECK(text_of(*f.db, "SELECT actor || ' ' || at FROM password_events ORDER BY id LIMIT 1") ==
              "cli 2025-01-01 10:00:00");
        CHECK(text_of(*f.db, "SELECT actor || ' ' || at FROM password_events ORDER BY id DESC LIMIT 1") ==
              "admin-anna 2025-01-01 11:00:00");
    }

    TEST_CASE("verify runs scrypt only for passwords not yet verified against the stored hash") {
        test::StoreFixture f;
        SinglePasswordStore server(*f.db, f.clock, kFast);
        OtherProcess cli(f.db_path, f.clock);
        cli.store.set("first-password", "cli");

        SUBCASE("ok/repeated correct verifies after the first run no scrypt") {
            CHECK(server.verify("first-password"));
            CHECK(server.slow_verifications() == 1);
            for (int i = 0; i < 20; ++i) {
                CHECK(server.verify("first-password"));
            }
            CHECK(server.slow_verifications() == 1);
        }
        SUBCASE("fail/every wrong password costs a scrypt, and does not evict the cache") {
            REQUIRE(server.verify("first-password"));
            CHECK_FALSE(server.verify("wrong-password"));
            CHECK(server.slow_verifications() == 2);
            CHECK_FALSE(server.verify("wrong-password"));
            CHECK(server.slow_verifications() == 3);
            CHECK(server.verify("first-password"));
            CHECK(server.slow_verifications() == 3);
        }
        SUBCASE("fail/a change by another connection forces scrypt again") {
            REQUIRE(server.verify("first-password"));
            cli.store.set("second-password", "cli");
            CHECK_FALSE(server.verify("first-password"));
            CHECK(server.slow_verifications() == 2);
            CHECK(server.verify("second-password"));
            CHECK(server.slow_verifications() == 3);
            CHECK(server.verify("second-password"));
            CHECK(server.slow_verifications() == 3);
        }
        SUBCASE("ok/the store that sets a password knows it without scrypt") {
            server.set("third-password", "cli");
            CHECK(server.verify("third-password"));
            CHECK(server.slow_verifications() == 0);
        }
    }

    TEST_CASE("concurrent verifies of the right password run scrypt once in all, not once per thread") {
        test::StoreFixture f;
        SinglePasswordStore server(*f.db, f.clock, kFast);
        OtherProcess cli(f.db_path, f.clock);
        cli.store.set("shared-password", "cli");

        constexpr int kThreads = 8;
        constexpr int kRounds = 50;
        std::atomic<int> accepted{0};
        std::atomic<int> refused{0};
        std::vector<std::thread> threads;
        std::atomic<int> ready{0};
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                // Start together, as devices arriving at once would.
                ready.fetch_add(1);
                while (ready.load() < kThreads) {
                    std::this_thread::yield();
                }
                for (int i = 0; i < kRounds; ++i) {
                    (server.verify("shared-password") ? accepted : refused)++;
                }
                // Distinct guesses: copies of one guess in flight together share one check.
                (server.verify("not-the-password-" + std::to_string(t)) ? accepted : refused)++;
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        CHECK(accepted == kThreads * kRounds);
        CHECK(refused == kThreads);
        // One scrypt for the right password (the others wait and find it cached), one per wrong guess.
        CHECK(server.slow_verifications() == 1 + kThreads);
    }

    TEST_CASE("a store refuses scrypt parameters out of range") {
        test::StoreFixture f;
        CHECK_THROWS_AS(SinglePasswordStore(*f.db, f.clock, crypto::ScryptParams{1000, 8, 1}),
                        std::invalid_argument);
        CHECK_THROWS_AS(SinglePasswordStore(*f.db, f.clock, crypto::ScryptParams{1 << 21, 8, 1}),
                        std::invalid_argument);
    }
}
