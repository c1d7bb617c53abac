// SPDX-License-Identifier: Apache-2.0
// AdminStore: accounts, validation, login results, the admin_logins trail and per-peer throttling.
#include "store/admin_store.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <latch>
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
using Result = AdminStore::LoginResult;

using test::contains;

namespace {

constexpr crypto::ScryptParams kFast{1024, 8, 1};
const std::string kAlicePw = "alice-long-password";
const std::string kPeer = "192.0.2.10";

std::vector<std::string> names(AdminStore& store) {
    std::vector<std::string> out;
    for (const auto& a : store.list()) {
        out.push_back(a.name);
    }
    return out;
}

std::int64_t logins(Database& db, const std::string& where = "1") {
    return scalar(db, "SELECT COUNT(*) FROM admin_logins WHERE " + where);
}

struct AdminFixture : test::StoreFixture {
    AdminStore store{*db, clock, kFast};
    AdminFixture() { store.add("alice", kAlicePw); }

    void fail_times(int n, const std::string& peer = kPeer) {
        for (int i = 0; i < n; ++i) {
            REQUIRE(store.login(peer, "alice", "wrong-password").result == Result::bad_credentials);
        }
    }
};

}  // namespace

TEST_SUITE("store.admins") {
    TEST_CASE("accounts can be added, listed and removed") {
        test::StoreFixture f;
        AdminStore store(*f.db, f.clock, kFast);
        CHECK(store.list().empty());

        store.add("bob", "bob-long-password");
        f.clock.advance(1h);
        store.add("alice", kAlicePw);

        const auto all = store.list();
        REQUIRE(all.size() == 2);
        CHECK(all[0].name == "alice");
        CHECK(all[0].created_at == "2025-01-01 11:00:00");
        CHECK(all[1].name == "bob");
        CHECK(all[1].created_at == "2025-01-01 10:00:00");

        SUBCASE("ok/remove an account") {
            CHECK(store.remove("bob"));
            CHECK(names(store) == std::vector<std::string>{"alice"});
            CHECK(store.login(kPeer, "bob", "bob-long-password").result == Result::bad_credentials);
        }
        SUBCASE("fail/remove an unknown account") {
            CHECK_FALSE(store.remove("carol"));
            CHECK_FALSE(store.remove("Bob"));
            CHECK(store.remove("bob"));
            CHECK_FALSE(store.remove("bob"));
            CHECK(names(store) == std::vector<std::string>{"alice"});
        }
    }

    TEST_CASE("an account has a role: issue by default, or view; login says which") {
        test::StoreFixture f;
        AdminStore store(*f.db, f.clock, kFast);
        store.add("issuer", "issuer-long-password");
        store.add("viewer", "viewer-long-password", AdminRole::view);
        const auto all = store.list();
        REQUIRE(all.size() == 2);
        CHECK(all[0].role == AdminRole::issue);
        CHECK(all[1].role == AdminRole::view);
        CHECK(text_of(*f.db, "SELECT role FROM admins WHERE name = 'viewer'") == "view");

        const auto issuer = store.login(kPeer, "issuer", "issuer-long-password");
        CHECK(issuer.result == Result::ok);
        CHECK(issuer.role == AdminRole::issue);
        const auto viewer = store.login(kPeer, "viewer", "viewer-long-password");
        CHECK(viewer.result == Result::ok);
        CHECK(viewer.role == AdminRole::view);

        CHECK(parse_role("issue") == AdminRole::issue);
        CHECK(parse_role("view") == AdminRole::view);
        CHECK_FALSE(parse_role("admin").has_value());
        CHECK_FALSE(parse_role("View").has_value());
        CHECK(std::string(role_name(AdminRole::view)) == "view");
        // The schema refuses any other role, whoever writes it.
        CHECK_THROWS(f.db->write(
            [](Database& db) { db.prepare("UPDATE admins SET role = 'root' WHERE name = 'viewer'").run(); }));
    }

    TEST_CASE("login_with: another scheme's check, with the same throttle and trail") {
        AdminFixture f;
        f.store.add("nt-user", "nt-user-long-password", AdminRole::view, Bytes{1, 2, 3});
        int calls = 0;
        auto check = [&](bool answer) {
            return [&calls, answer](const AdminStore::Credentials& stored) {
                ++calls;
                CHECK(stored.name == "nt-user");
                CHECK(stored.nt_hash_sealed == Bytes{1, 2, 3});
                return answer;
            };
        };
        const auto ok = f.store.login_with(kPeer, "nt-user", check(true));
        CHECK(ok.result == Result::ok);
        CHECK(ok.role == AdminRole::view);
        CHECK(f.store.login_with(kPeer, "nt-user", check(false)).result == Result::bad_credentials);
        CHECK(calls == 2);
        CHECK(f.store.login_with(kPeer, "nobody", check(true)).result == Result::bad_credentials);
        CHECK(calls == 2);  // an unknown name is never checked
        CHECK(logins(*f.db, "success = 1") == 1);
        CHECK(logins(*f.db, "success = 0") == 2);
        f.fail_times(3);
        CHECK(f.store.login_with(kPeer, "nt-user", check(true)).result == Result::throttled);
        CHECK(calls == 2);
        // An account without an NT hash gives the check an empty one.
        CHECK(f.store
                  .login_with(
                      "192.0.2.99", "alice",
                      [](const AdminStore::Credentials& stored) { return stored.nt_hash_sealed.empty(); })
                  .result == Result::ok);
    }

    TEST_CASE("only an scrypt hash of an admin password reaches the database file") {
        test::StoreFixture f;
        AdminStore store(*f.db, f.clock, kFast);
        const std::string password = "Admin-Plain-Sentinel-0815";
        store.add("root-admin", password);

        const std::string on_disk = test::file_bytes(f.db_path) + test::file_bytes(f.db_path + "-wal");
        REQUIRE(contains(on_disk, "root-admin"));
        CHECK_FALSE(contains(on_disk, password));
        CHECK_FALSE(contains(on_disk, "Plain-Sentinel"));
        const std::string hash = text_of(*f.db, "SELECT hash FROM admins WHERE name = 'root-admin'");
        CHECK(std::regex_match(hash, std::regex(R"(\$scrypt\$1024\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64})")));
        CHECK(crypto::verify_password(password, hash));
    }

    TEST_CASE("add validates names and passwords") {
        test::StoreFixture f;
        AdminStore store(*f.db, f.clock, kFast);

        SUBCASE("ok/every allowed character, 1 and 64 characters, 12-character password") {
            store.add("First.Last_01@example-corp", "123456789012");
            store.add("a", "123456789012");
            store.add(std::string(64, 'z'), "äöüäöüäöüäöü");  // 12 characters
            CHECK(store.list().size() == 3);
            CHECK(store.login(kPeer, "First.Last_01@example-corp", "123456789012").result == Result::ok);
        }
        SUBCASE("fail/invalid name") {
            std::string bad;
            SUBCASE("empty") { bad = ""; }
            SUBCASE("65 characters") { bad = std::string(65, 'z'); }
            SUBCASE("space") { bad = "alice smith"; }
            SUBCASE("slash") { bad = "alice/admin"; }
            SUBCASE("quote") { bad = "alice'"; }
            SUBCASE("dollar") { bad = "$alice"; }
            SUBCASE("non-ASCII") { bad = "jörg"; }
            SUBCASE("NUL") { bad = std::string("ali\0ce", 6); }
            SUBCASE("newline") { bad = "alice\n"; }
            CAPTURE(bad);
            CHECK_FALSE(AdminStore::valid_name(bad));
            CHECK_THROWS_AS(store.add(bad, "123456789012"), std::invalid_argument);
            CHECK(store.list().empty());
        }
        SUBCASE("fail/password shorter than 12 characters") {
            CHECK_THROWS_AS(store.add("alice", "12345678901"), std::invalid_argument);
            CHECK_THROWS_AS(store.add("alice", "äöüäöüäöüäö"), std::invalid_argument);  // 11 chars, 22 bytes
            CHECK_THROWS_AS(store.add("alice", ""), std::invalid_argument);
            CHECK(store.list().empty());
        }
        SUBCASE("fail/duplicate name keeps the first account") {
            store.add("alice", kAlicePw);
            CHECK_THROWS_AS(store.add("alice", "another-long-password"), std::invalid_argument);
            CHECK(store.list().size() == 1);
            CHECK(store.login(kPeer, "alice", kAlicePw).result == Result::ok);
            CHECK(store.login(kPeer, "alice", "another-long-password").result == Result::bad_credentials);
        }
    }

    TEST_CASE("login checks name and password and records every attempt") {
        AdminFixture f;

        SUBCASE("ok/right name and password") {
            CHECK(f.store.login(kPeer, "alice", kAlicePw).result == Result::ok);
            CHECK(logins(*f.db) == 1);
            CHECK(text_of(*f.db,
                          "SELECT at || '|' || peer || '|' || name || '|' || success FROM admin_logins") ==
                  "2025-01-01 10:00:00|192.0.2.10|alice|1");
            CHECK(f.store.slow_verifications() == 1);
        }
        SUBCASE("fail/wrong password") {
            CHECK(f.store.login(kPeer, "alice", "wrong-password").result == Result::bad_credentials);
            CHECK(f.store.login(kPeer, "alice", "").result == Result::bad_credentials);
            CHECK(f.store.login(kPeer, "alice", kAlicePw + " ").result == Result::bad_credentials);
            CHECK(logins(*f.db) == 3);
            CHECK(logins(*f.db, "success = 0 AND name = 'alice' AND peer = '192.0.2.10'") == 3);
        }
        SUBCASE("fail/unknown or differently cased name still costs one scrypt") {
            CHECK(f.store.login(kPeer, "mallory", kAlicePw).result == Result::bad_credentials);
            CHECK(f.store.slow_verifications() == 1);
            CHECK(f.store.login(kPeer, "Alice", kAlicePw).result == Result::bad_credentials);
            CHECK(f.store.slow_verifications() == 2);
            CHECK(f.store.login(kPeer, "not a valid name!", kAlicePw).result == Result::bad_credentials);
            CHECK(f.store.slow_verifications() == 3);
            CHECK(logins(*f.db, "success = 0") == 3);
            CHECK(logins(*f.db, "name = 'not a valid name!'") == 1);  // as presented
        }
        SUBCASE("fail/a removed account can no longer log in") {
            REQUIRE(f.store.login(kPeer, "alice", kAlicePw).result == Result::ok);
            REQUIRE(f.store.remove("alice"));
            CHECK(f.store.login(kPeer, "alice", kAlicePw).result == Result::bad_credentials);
            CHECK(logins(*f.db, "success = 1") == 1);
            CHECK(logins(*f.db, "success = 0") == 1);
        }
    }

    TEST_CASE("a peer is throttled after 5 failures within 15 minutes and released after them") {
        AdminFixture f;
        f.fail_times(4);
        f.clock.advance(10min);
        f.fail_times(1);

        SUBCASE("fail/the right password is refused unchecked, and the attempt recorded") {
            CHECK(f.store.login(kPeer, "alice", kAlicePw).result == Result::throttled);
            CHECK(f.store.login(kPeer, "alice", "wrong-password").result == Result::throttled);
            CHECK(f.store.slow_verifications() == 5);
            CHECK(logins(*f.db) == 7);
            CHECK(logins(*f.db, "success = 0") == 7);
            CHECK(logins(*f.db, "at = '2025-01-01 10:10:00' AND name = 'alice'") == 3);
        }
        SUBCASE("ok/released once the oldest failures leave the window") {
            f.clock.advance(4min + 59s);  // 14:59 after the first four
            CHECK(f.store.login(kPeer, "alice", kAlicePw).result == Result::throttled);
            f.clock.advance(2s);  // 15:01 after the first four: they left the window, 2 failures remain
            CHECK(f.store.login(kPeer, "alice", kAlicePw).result == Result::ok);
        }
        SUBCASE("ok/failures older than the window do not count") {
            f.clock.advance(15min + 1s);  // every failure so far is out of the window
            f.fail_times(4);
            CHECK(f.store.login(kPeer, "alice", kAlicePw).result == Result::ok);
        }
    }

    TEST_CASE("successful logins do not count towards the throttle") {
        AdminFixture f;
        for (int i = 0; i < 6; ++i) {
            REQUIRE(f.store.login(kPeer, "alice", kAlicePw).result == Result::ok);
        }
        f.fail_times(4);
        CHECK(f.store.login(kPeer, "alice", kAlicePw).result == Result::ok);
        f.fail_times(1);
        CHECK(f.store.login(kPeer, "alice", kAlicePw).result == Result::throttled);
    }

    TEST_CASE("throttled attempts count as failures and keep the peer throttled") {
        AdminFixture f;
        f.fail_times(5);
        f.clock.advance(10min);
        for (int i = 0; i < 5; ++i) {
            REQUIRE(f.store.login(kPeer, "alice", kAlicePw).result == Result::throttled);
        }
        f.clock.advance(6min);  // the first five are out of the window, the throttled five are not
        CHECK(f.store.login(kPeer, "alice", kAlicePw).result == Result::throttled);
        f.clock.advance(10min);  // only the throttled attempt of 6 minutes ago is left in the window
        CHECK(f.store.login(kPeer, "alice", kAlicePw).result == Result::ok);
        CHECK(f.store.slow_verifications() == 6);
    }

    TEST_CASE("throttling is per peer") {
        AdminFixture f;
        f.fail_times(5, "192.0.2.66");
        REQUIRE(f.store.login("192.0.2.66", "alice", kAlicePw).result == Result::throttled);

        SUBCASE("ok/another peer logs in") {
            CHECK(f.store.login("192.0.2.67", "alice", kAlicePw).result == Result::ok);
        }
        SUBCASE("fail/another peer's failures are its own") {
            CHECK(f.store.login("192.0.2.67", "alice", "wrong-password").result == Result::bad_credentials);
            CHECK(f.store.login("2001:db8::66", "alice", "wrong-password").result == Result::bad_credentials);
        }
    }

    TEST_CASE("a flood of failed logins keeps the newest failures and every successful login") {
        test::StoreFixture f;
        AdminStore store(*f.db, f.clock, kFast, ThrottlePolicy{}, 10);
        store.add("alice", kAlicePw);
        REQUIRE(store.login(kPeer, "alice", kAlicePw).result == Result::ok);
        for (int i = 0; i < 30; ++i) {  // from 30 addresses, none of them throttled
            REQUIRE(store.login("192.0.2." + std::to_string(100 + i), "alice", "guess").result ==
                    Result::bad_credentials);
        }
        CHECK(logins(*f.db, "success = 1") == 1);
        CHECK(logins(*f.db, "success = 0") == 10);
        CHECK(logins(*f.db, "success = 0 AND peer = '192.0.2.129'") == 1);  // the newest is kept
    }

    TEST_CASE("the throttle policy is configurable and validated") {
        test::StoreFixture f;
        SUBCASE("ok/two failures within one minute") {
            AdminStore store(*f.db, f.clock, kFast, ThrottlePolicy{2, 1min});
            store.add("alice", kAlicePw);
            CHECK(store.login(kPeer, "alice", "wrong-password").result == Result::bad_credentials);
            CHECK(store.login(kPeer, "alice", "wrong-password").result == Result::bad_credentials);
            CHECK(store.login(kPeer, "alice", kAlicePw).result == Result::throttled);
            f.clock.advance(61s);
            CHECK(store.login(kPeer, "alice", kAlicePw).result == Result::ok);
        }
        SUBCASE("fail/invalid policy or parameters") {
            CHECK_THROWS_AS(AdminStore(*f.db, f.clock, kFast, ThrottlePolicy{0, 1min}),
                            std::invalid_argument);
            CHECK_THROWS_AS(AdminStore(*f.db, f.clock, kFast, ThrottlePolicy{5, 0s}), std::invalid_argument);
            CHECK_THROWS_AS(AdminStore(*f.db, f.clock, crypto::ScryptParams{1000, 8, 1}),
                            std::invalid_argument);
        }
    }

    TEST_CASE("concurrent guesses from one peer cannot overrun the failure limit") {
        AdminFixture f;
        constexpr int kThreads = 16;
        std::latch start(kThreads);
        std::atomic<int> bad{0};
        std::atomic<int> throttled{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&] {
                start.arrive_and_wait();
                const auto r = f.store.login(kPeer, "alice", "wrong-password");
                (r.result == Result::bad_credentials ? bad : throttled)++;
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        CHECK(bad == 5);
        CHECK(throttled == kThreads - 5);
        CHECK(f.store.slow_verifications() == 5);
        CHECK(logins(*f.db, "success = 0") == kThreads);
    }
}
