// SPDX-License-Identifier: Apache-2.0
// ChallengeStore: NDES password format, one-time use, expiry, cache limit, key file, races.
#include "store/challenge_store.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <latch>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/digest.hpp"
#include "store/audit_log.hpp"
#include "store_fixture.hpp"
#include "support/text.hpp"

using namespace scepra;
using namespace scepra::store;
using namespace std::chrono_literals;
using scepra::test::scalar;

using test::contains;

namespace {

std::string lowercase(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; });
    return s;
}

Bytes from_hex(const std::string& hex) {
    Bytes out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    return out;
}

ChallengePolicy roomy_policy() {
    ChallengePolicy policy;
    policy.max_outstanding = 100;
    return policy;
}

std::vector<IssuedChallenge> issue_many(ChallengeStore& store, int n, const ChallengePolicy& policy) {
    std::vector<IssuedChallenge> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(store.issue(policy, "cli", std::nullopt));
    }
    return out;
}

void write_file(const std::string& path, size_t size) {
    std::ofstream(path, std::ios::binary) << std::string(size, 'k');
}

}  // namespace

TEST_SUITE("store.challenges") {
    TEST_CASE("issued passwords are uppercase hex of twice the configured byte length") {
        test::StoreFixture f;
        ChallengeStore store(*f.db, f.key, f.clock);

        SUBCASE("ok/NDES default: 16 characters, valid 60 minutes") {
            const auto issued = issue_many(store, 5, ChallengePolicy{});
            std::set<std::string> distinct;
            std::set<std::int64_t> ids;
            for (const auto& c : issued) {
                CHECK(std::regex_match(c.password, std::regex("[0-9A-F]{16}")));
                CHECK(c.expires_at == test::test_epoch() + 60min);
                distinct.insert(c.password);
                ids.insert(c.id);
            }
            CHECK(distinct.size() == 5);
            CHECK(ids.size() == 5);
            CHECK(store.outstanding() == 5);
        }
        SUBCASE("ok/other lengths and validity") {
            for (int length : {1, 4, 12, 32}) {
                ChallengePolicy policy = roomy_policy();
                policy.length_bytes = length;
                policy.validity = 5min;
                const auto c = store.issue(policy, "cli", std::nullopt);
                CAPTURE(length);
                CHECK(
                    std::regex_match(c.password, std::regex("[0-9A-F]{" + std::to_string(2 * length) + "}")));
                CHECK(c.expires_at == test::test_epoch() + 5min);
            }
        }
        SUBCASE("fail/invalid policy") {
            ChallengePolicy bad;
            SUBCASE("length 0") { bad.length_bytes = 0; }
            SUBCASE("max_outstanding 0") { bad.max_outstanding = 0; }
            SUBCASE("validity 0") { bad.validity = 0min; }
            CHECK_THROWS_AS(store.issue(bad, "cli", std::nullopt), std::invalid_argument);
            CHECK(scalar(*f.db, "SELECT COUNT(*) FROM challenges") == 0);
        }
    }

    TEST_CASE("a store refuses an HMAC key that is too short") {
        test::StoreFixture f;
        CHECK_THROWS_AS(ChallengeStore(*f.db, Bytes(8, 1), f.clock), std::invalid_argument);
        CHECK_THROWS_AS(ChallengeStore(*f.db, Bytes{}, f.clock), std::invalid_argument);
    }

    TEST_CASE("only a keyed hash of the password reaches the database file") {
        test::StoreFixture f;
        ChallengeStore store(*f.db, f.key, f.clock);
        const auto c = store.issue(ChallengePolicy{}, "admin", std::string("192.0.2.7"));

        const std::string on_disk = test::file_bytes(f.db_path) + test::file_bytes(f.db_path + "-wal");
        REQUIRE(contains(on_disk, "192.0.2.7"));  // the row did reach the files we search
        CHECK_FALSE(contains(on_disk, c.password));
        CHECK_FALSE(contains(on_disk, lowercase(c.password)));
        CHECK_FALSE(contains(on_disk, to_string(from_hex(c.password))));

        const Bytes stored = f.db->read([&](Database& db) {
            auto st = db.prepare("SELECT hash FROM challenges WHERE id = ?1");
            st.bind(1, c.id);
            st.step();
            return st.column_blob(0);
        });
        CHECK(stored == crypto::hmac_sha256(f.key, as_bytes(c.password)));
        CHECK(test::text_of(*f.db, "SELECT issued_by FROM challenges") == "admin");
        CHECK(test::text_of(*f.db, "SELECT created_at FROM challenges") == "2025-01-01 10:00:00");
        CHECK(test::text_of(*f.db, "SELECT expires_at FROM challenges") == "2025-01-01 11:00:00");
    }

    TEST_CASE("a password is accepted once and then reported as already used") {
        test::StoreFixture f;
        ChallengeStore store(*f.db, f.key, f.clock);
        const auto a = store.issue(ChallengePolicy{}, "cli", std::nullopt);
        const auto b = store.issue(ChallengePolicy{}, "cli", std::nullopt);

        const auto first = store.consume(a.password, "tx-1");
        CHECK(first.result == ChallengeCheck::accepted);
        CHECK(first.id == a.id);
        CHECK(store.outstanding() == 1);
        CHECK(test::text_of(*f.db, "SELECT used_by_transaction FROM challenges WHERE id = " +
                                       std::to_string(a.id)) == "tx-1");
        CHECK(test::text_of(*f.db, "SELECT used_at FROM challenges WHERE id = " + std::to_string(a.id)) ==
              "2025-01-01 10:00:00");

        const auto second = store.consume(a.password, "tx-2");
        CHECK(second.result == ChallengeCheck::already_used);
        CHECK(second.id == a.id);
        CHECK(test::text_of(*f.db, "SELECT used_by_transaction FROM challenges WHERE id = " +
                                       std::to_string(a.id)) == "tx-1");

        // Using one password leaves the other untouched.
        CHECK(store.consume(b.password, "tx-3").result == ChallengeCheck::accepted);
    }

    TEST_CASE("passwords are matched case-insensitively") {
        test::StoreFixture f;
        ChallengeStore store(*f.db, f.key, f.clock);
        const auto c = store.issue(ChallengePolicy{}, "cli", std::nullopt);
        std::string typed;
        SUBCASE("ok/lowercase") { typed = lowercase(c.password); }
        SUBCASE("ok/mixed case") {
            typed = c.password;
            for (size_t i = 0; i < typed.size(); i += 2) {
                typed[i] = lowercase(std::string(1, typed[i]))[0];
            }
        }
        const auto outcome = store.consume(typed, "tx");
        CHECK(outcome.result == ChallengeCheck::accepted);
        CHECK(outcome.id == c.id);
        CHECK(store.consume(c.password, "tx-again").result == ChallengeCheck::already_used);
    }

    TEST_CASE("unknown passwords are refused without touching any other password") {
        test::StoreFixture f;
        ChallengeStore store(*f.db, f.key, f.clock);
        const auto real = store.issue(ChallengePolicy{}, "cli", std::nullopt);
        std::string attempt;
        SUBCASE("fail/random hex") { attempt = to_hex(crypto::random_bytes(8)); }
        SUBCASE("fail/empty") { attempt = ""; }
        SUBCASE("fail/prefix of a real password") { attempt = real.password.substr(0, 15); }
        SUBCASE("fail/real password with whitespace") { attempt = " " + real.password; }
        SUBCASE("fail/password issued under another key") {
            ChallengeStore other(*f.db, Bytes(32, 0x01), f.clock);
            attempt = other.issue(roomy_policy(), "cli", std::nullopt).password;
        }
        const auto outcome = store.consume(attempt, "tx");
        CHECK(outcome.result == ChallengeCheck::unknown);
        CHECK_FALSE(outcome.id.has_value());
        CHECK(scalar(*f.db, "SELECT COUNT(*) FROM challenges WHERE used_at IS NOT NULL") == 0);
        CHECK(store.consume(real.password, "tx-real").result == ChallengeCheck::accepted);
    }

    TEST_CASE("revoked passwords are refused and not outstanding") {
        test::StoreFixture f;
        ChallengeStore store(*f.db, f.key, f.clock);
        const auto c = store.issue(ChallengePolicy{}, "cli", std::nullopt);
        f.db->write([&](Database& db) {
            db.exec("UPDATE challenges SET revoked_at = '2025-01-01 10:00:00' WHERE id = " +
                    std::to_string(c.id));
        });
        CHECK(store.outstanding() == 0);
        const auto outcome = store.consume(c.password, "tx");
        CHECK(outcome.result == ChallengeCheck::revoked);
        CHECK(outcome.id == c.id);
        CHECK(scalar(*f.db, "SELECT COUNT(*) FROM challenges WHERE used_at IS NOT NULL") == 0);
    }

    TEST_CASE("passwords expire after the validity period and are then purged") {
        test::StoreFixture f;
        ChallengeStore store(*f.db, f.key, f.clock);
        const auto c = store.issue(ChallengePolicy{}, "cli", std::nullopt);

        SUBCASE("ok/one second before expiry") {
            f.clock.advance(60min - 1s);
            CHECK(store.outstanding() == 1);
            CHECK(store.consume(c.password, "tx").result == ChallengeCheck::accepted);
        }
        SUBCASE("fail/at expiry, then purged") {
            f.clock.advance(60min);
            CHECK(store.outstanding() == 0);
            const auto expired = store.consume(c.password, "tx");
            CHECK(expired.result == ChallengeCheck::expired);
            CHECK(expired.id == c.id);
            CHECK(scalar(*f.db, "SELECT COUNT(*) FROM challenges WHERE used_at IS NOT NULL") == 0);

            CHECK(store.purge_expired() == 1);
            CHECK(scalar(*f.db, "SELECT COUNT(*) FROM challenges") == 0);
            CHECK(store.consume(c.password, "tx").result == ChallengeCheck::unknown);
            CHECK(store.purge_expired() == 0);
        }
    }

    TEST_CASE("purging keeps used passwords and those an audit event refers to") {
        test::StoreFixture f;
        ChallengeStore store(*f.db, f.key, f.clock);
        AuditLog audit(*f.db, f.clock);
        const auto used = store.issue(ChallengePolicy{}, "cli", std::nullopt);
        const auto referenced = store.issue(ChallengePolicy{}, "cli", std::nullopt);
        store.issue(ChallengePolicy{}, "cli", std::nullopt);
        REQUIRE(store.consume(used.password, "tx-used").result == ChallengeCheck::accepted);
        f.clock.advance(2h);
        const auto late = store.consume(referenced.password, "tx-late");
        REQUIRE(late.result == ChallengeCheck::expired);
        audit.record(AuditEvent{.peer = "198.51.100.1",
                                .operation = "PKIOperation",
                                .decision = "rejected",
                                .challenge_id = late.id});

        CHECK(store.purge_expired() == 1);
        CHECK(scalar(*f.db, "SELECT COUNT(*) FROM challenges") == 2);
        CHECK(store.consume(used.password, "tx").result == ChallengeCheck::already_used);
        CHECK(store.consume(referenced.password, "tx").result == ChallengeCheck::expired);
    }

    TEST_CASE("issue refuses with the NDES text once max_outstanding passwords are outstanding") {
        test::StoreFixture f;
        ChallengeStore store(*f.db, f.key, f.clock);
        const auto issued = issue_many(store, 5, ChallengePolicy{});
        CHECK_THROWS_WITH_AS(store.issue(ChallengePolicy{}, "cli", std::nullopt),
                             "The password cache is full.", ChallengeCacheFull);
        CHECK(scalar(*f.db, "SELECT COUNT(*) FROM challenges") == 5);

        SUBCASE("ok/freed by using a password") {
            REQUIRE(store.consume(issued[2].password, "tx").result == ChallengeCheck::accepted);
            CHECK_NOTHROW(store.issue(ChallengePolicy{}, "cli", std::nullopt));
            CHECK_THROWS_AS(store.issue(ChallengePolicy{}, "cli", std::nullopt), ChallengeCacheFull);
        }
        SUBCASE("ok/freed by expiry, which also purges the expired ones") {
            f.clock.advance(61min);
            const auto fresh = store.issue(ChallengePolicy{}, "cli", std::nullopt);
            CHECK(store.outstanding() == 1);
            CHECK(scalar(*f.db, "SELECT COUNT(*) FROM challenges") == 1);
            CHECK(store.consume(issued[0].password, "tx").result == ChallengeCheck::unknown);
            CHECK(store.consume(fresh.password, "tx").result == ChallengeCheck::accepted);
        }
        SUBCASE("ok/a larger PasswordMax allows more") {
            ChallengePolicy larger;
            larger.max_outstanding = 6;
            CHECK_NOTHROW(store.issue(larger, "cli", std::nullopt));
            CHECK_THROWS_AS(store.issue(larger, "cli", std::nullopt), ChallengeCacheFull);
        }
    }

    TEST_CASE("the key file is created once with mode 0600 and then reused") {
        test::TempDir dir;
        const std::string path = dir.file("challenge.key");

        SUBCASE("ok/created and reused") {
            const Bytes key = ChallengeStore::load_or_create_key(path);
            CHECK(key.size() == 32);
            CHECK(key != Bytes(32, 0));
            struct stat st {};
            REQUIRE(::stat(path.c_str(), &st) == 0);
            CHECK((st.st_mode & 07777) == 0600);
            CHECK(st.st_size == 32);
            CHECK(ChallengeStore::load_or_create_key(path) == key);
            CHECK(test::file_bytes(path) == to_string(key));
        }
        SUBCASE("ok/many creators racing agree on one key") {
            std::vector<Bytes> keys(8);
            std::latch start(8);
            std::vector<std::thread> threads;
            for (size_t i = 0; i < keys.size(); ++i) {
                threads.emplace_back([&, i] {
                    start.arrive_and_wait();
                    keys[i] = ChallengeStore::load_or_create_key(path);
                });
            }
            for (auto& t : threads) {
                t.join();
            }
            for (const auto& k : keys) {
                CHECK(k == keys[0]);
            }
            CHECK(keys[0].size() == 32);
            CHECK(test::file_bytes(path) == to_string(keys[0]));
        }
        SUBCASE("fail/existing file of the wrong size") {
            for (size_t size : {size_t{0}, size_t{31}, size_t{33}, size_t{64}}) {
                CAPTURE(size);
                write_file(path, size);
                CHECK_THROWS_WITH(ChallengeStore::load_or_create_key(path), doctest::Contains(path.c_str()));
                CHECK(test::file_bytes(path).size() == size);  // left as it was
            }
        }
        SUBCASE("fail/directory does not exist") {
            const std::string missing = dir.file("nope/challenge.key");
            CHECK_THROWS_WITH(ChallengeStore::load_or_create_key(missing),
                              doctest::Contains(missing.c_str()));
        }
    }

    TEST_CASE("each password enrols exactly one request however many try it at once") {
        constexpr int kPasswords = 50;
        constexpr int kTries = 4;
        test::StoreFixture f;
        std::vector<IssuedChallenge> issued;
        {
            ChallengeStore issuer(*f.db, f.key, f.clock);
            issued = issue_many(issuer, kPasswords, roomy_policy());
        }
        std::vector<ChallengeCheck> outcomes(kPasswords * kTries, ChallengeCheck::unknown);

        SUBCASE("ok/four threads per password on one Database") {
            ChallengeStore store(*f.db, f.key, f.clock);
            std::latch start(kPasswords * kTries);
            std::vector<std::thread> threads;
            for (int i = 0; i < kPasswords * kTries; ++i) {
                threads.emplace_back([&, i] {
                    start.arrive_and_wait();
                    outcomes[i] =
                        store.consume(issued[i / kTries].password, "tx-" + std::to_string(i)).result;
                });
            }
            for (auto& t : threads) {
                t.join();
            }
        }
        SUBCASE("ok/two Database objects on one file, as two processes") {
            auto second_db = Database::open(f.db_path, false);
            ChallengeStore store_a(*f.db, f.key, f.clock);
            ChallengeStore store_b(*second_db, f.key, f.clock);
            std::latch start(kPasswords * kTries);
            std::vector<std::thread> threads;
            for (int i = 0; i < kPasswords * kTries; ++i) {
                threads.emplace_back([&, i] {
                    ChallengeStore& store = (i % 2 == 0) ? store_a : store_b;
                    start.arrive_and_wait();
                    outcomes[i] =
                        store.consume(issued[i / kTries].password, "tx-" + std::to_string(i)).result;
                });
            }
            for (auto& t : threads) {
                t.join();
            }
        }
        SUBCASE("ok/separate processes") {
            // Children must not inherit an open connection.
            f.db.reset();
            int go[2];
            REQUIRE(::pipe(go) == 0);
            std::vector<std::pair<pid_t, int>> children;
            for (int child = 0; child < kTries; ++child) {
                int out[2];
                REQUIRE(::pipe(out) == 0);
                const pid_t pid = ::fork();
                REQUIRE(pid >= 0);
                if (pid == 0) {
                    ::close(go[1]);
                    ::close(out[0]);
                    int status = 0;
                    try {
                        auto db = Database::open(f.db_path, false);
                        ChallengeStore store(*db, f.key, f.clock);
                        char byte;
                        (void)!::read(go[0], &byte, 1);  // returns 0 when the parent closes the pipe
                        for (int p = 0; p < kPasswords; ++p) {
                            const auto r = store.consume(issued[p].password, "proc-" + std::to_string(child) +
                                                                                 "-" + std::to_string(p));
                            const char code = static_cast<char>(r.result);
                            if (::write(out[1], &code, 1) != 1) {
                                status = 2;
                            }
                        }
                    } catch (...) {
                        status = 3;
                    }
                    ::_exit(status);
                }
                ::close(out[1]);
                children.emplace_back(pid, out[0]);
            }
            ::close(go[0]);
            ::close(go[1]);
            for (int child = 0; child < kTries; ++child) {
                auto [pid, fd] = children[child];
                for (int p = 0; p < kPasswords; ++p) {
                    char code = -1;
                    if (::read(fd, &code, 1) == 1) {
                        outcomes[p * kTries + child] = static_cast<ChallengeCheck>(code);
                    }
                }
                ::close(fd);
                int status = -1;
                REQUIRE(::waitpid(pid, &status, 0) == pid);
                CHECK(WIFEXITED(status));
                CHECK(WEXITSTATUS(status) == 0);
            }
            f.db = Database::open(f.db_path, false);
        }

        const auto accepted = std::count(outcomes.begin(), outcomes.end(), ChallengeCheck::accepted);
        const auto used = std::count(outcomes.begin(), outcomes.end(), ChallengeCheck::already_used);
        CHECK(accepted == kPasswords);
        CHECK(used == kPasswords * (kTries - 1));
        for (int p = 0; p < kPasswords; ++p) {
            const auto first = outcomes.begin() + p * kTries;
            CHECK(std::count(first, first + kTries, ChallengeCheck::accepted) == 1);
        }
        CHECK(scalar(*f.db, "SELECT COUNT(*) FROM challenges WHERE used_at IS NOT NULL") == kPasswords);
        CHECK(scalar(*f.db, "SELECT COUNT(DISTINCT used_by_transaction) FROM challenges") == kPasswords);
    }

    TEST_CASE("concurrent issuers never exceed max_outstanding") {
        test::StoreFixture f;
        auto second_db = Database::open(f.db_path, false);
        ChallengeStore store_a(*f.db, f.key, f.clock);
        ChallengeStore store_b(*second_db, f.key, f.clock);
        constexpr int kThreads = 20;
        std::atomic<int> ok{0};
        std::atomic<int> full{0};
        std::latch start(kThreads);
        std::vector<std::thread> threads;
        for (int i = 0; i < kThreads; ++i) {
            threads.emplace_back([&, i] {
                ChallengeStore& store = (i % 2 == 0) ? store_a : store_b;
                start.arrive_and_wait();
                try {
                    store.issue(ChallengePolicy{}, "cli", std::nullopt);
                    ++ok;
                } catch (const ChallengeCacheFull&) {
                    ++full;
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        CHECK(ok == 5);
        CHECK(full == kThreads - 5);
        CHECK(store_a.outstanding() == 5);
    }
}
