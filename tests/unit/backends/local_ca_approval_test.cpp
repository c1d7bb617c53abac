// SPDX-License-Identifier: Apache-2.0
// Manual approval in the local CA: pending requests, officer decisions, polling, restarts.
#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "crypto/encoding.hpp"
#include "local/local_ca_backend.hpp"
#include "local_ca_fixture.hpp"
#include "support/backend_queries.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::backend;
using namespace scepra::backend::local;

namespace {

using test::contains;
using test::thrown_message;

/// A fixture whose "Manual" template waits for an officer and whose "Auto" one does not.
struct ApprovalFixture : test::LocalCaFixture {
    ApprovalFixture() {
        auto manual = test::profile_named("Manual");
        manual.manual_approval = true;
        manual.validity_days = 60;
        manual.extended_key_usage = "serverAuth";
        manual.allowed_key_types = {"RSA"};
        config.profiles.push_back(manual);
        config.profiles.push_back(test::profile_named("Auto"));
    }

    /// Submits CN=<cn> under "Manual" and returns the backend_ref of the pending request.
    std::string submit_pending(const std::string& cn, size_t key_index = 20) {
        auto key = test::pooled_client_key(key_index);
        auto result = submit_as("Manual", *key, "CN=" + cn);
        REQUIRE(result.disposition == Disposition::pending);
        REQUIRE_FALSE(result.backend_ref.empty());
        CHECK(result.certificate == nullptr);
        return result.backend_ref;
    }

    std::int64_t request_rows() { return count("SELECT COUNT(*) FROM local_ca_requests"); }
};

std::int64_t id_of(const std::string& ref) { return std::stoll(ref); }

}  // namespace

TEST_SUITE("backends.local.approval") {
    TEST_CASE("a manual-approval request waits, and after approval the next poll issues it exactly once") {
        ApprovalFixture f;
        const TimePoint submitted = f.clock.now();
        const std::string ref = f.submit_pending("web1");
        CHECK(f.issued_rows() == 0);

        auto listed = f.backend().list_requests("pending");
        REQUIRE(listed.size() == 1);
        CHECK(listed[0].id == id_of(ref));
        CHECK(listed[0].transaction_id == "tx-CN=web1");
        CHECK(listed[0].template_name == "Manual");
        CHECK(listed[0].subject == "CN=web1");
        CHECK(listed[0].requester == "192.0.2.7");
        CHECK(listed[0].status == "pending");
        CHECK(listed[0].created_at == submitted);
        CHECK_FALSE(listed[0].decided_at.has_value());

        SUBCASE("fail/still pending before a decision") {
            f.clock.advance(std::chrono::hours(2));
            auto polled = test::parsed(f.backend().poll(test::poll_of(ref)));
            CHECK(polled.disposition == Disposition::pending);
            CHECK(polled.backend_ref == ref);
            CHECK(polled.certificate == nullptr);
            CHECK(f.issued_rows() == 0);
        }
        SUBCASE("ok/approved, then issued at the first poll, the same certificate at every later poll") {
            f.clock.advance(std::chrono::hours(1));
            f.backend().approve(id_of(ref), "alice");
            auto approved = f.backend().list_requests("approved");
            REQUIRE(approved.size() == 1);
            CHECK(approved[0].decided_by == "alice");
            CHECK(approved[0].decided_at == f.clock.now());
            CHECK(f.issued_rows() == 0);  // approval alone signs nothing

            f.clock.advance(std::chrono::hours(1));
            const std::time_t polled_at = unix_seconds(f.clock.now());
            auto first = test::parsed(f.backend().poll(test::poll_of(ref)));
            REQUIRE(first.disposition == Disposition::issued);
            REQUIRE(first.certificate != nullptr);
            REQUIRE(first.chain.size() == 1);
            CHECK(X509_cmp(first.chain[0].get(), f.ca_cert) == 0);
            CHECK(X509_verify(first.certificate.get(), X509_get0_pubkey(f.ca_cert)) == 1);
            CHECK(crypto::name_string(*X509_get_subject_name(first.certificate.get())) == "CN=web1");
            // signed with the profile, at the time of the poll
            CHECK(X509_get_extended_key_usage(first.certificate.get()) == XKU_SSL_SERVER);
            CHECK(ASN1_TIME_cmp_time_t(X509_get0_notBefore(first.certificate.get()), polled_at - 600) == 0);
            CHECK(ASN1_TIME_cmp_time_t(X509_get0_notAfter(first.certificate.get()),
                                       polled_at + 60 * test::day) == 0);
            CHECK(f.issued_rows() == 1);

            auto issued = f.backend().list_requests("issued");
            REQUIRE(issued.size() == 1);
            CHECK(issued[0].cert_serial == crypto::serial_hex(*first.certificate));
            CHECK(f.count("SELECT COUNT(*) FROM issued_certs WHERE transaction_id = 'tx-CN=web1' "
                          "AND template = 'Manual'") == 1);

            for (int i = 0; i < 3; ++i) {
                f.clock.advance(std::chrono::minutes(30));
                auto again = test::parsed(f.backend().poll(test::poll_of(ref)));
                REQUIRE(again.disposition == Disposition::issued);
                CHECK(X509_cmp(again.certificate.get(), first.certificate.get()) == 0);
                CHECK(again.chain.size() == 1);
            }
            CHECK(f.issued_rows() == 1);
        }
    }

    TEST_CASE("concurrent polls of an approved request all get one and the same certificate") {
        ApprovalFixture f;
        const std::string ref = f.submit_pending("web2");
        f.backend().approve(id_of(ref), "alice");
        LocalCaBackend& backend = f.backend();
        constexpr int threads = 8;
        std::vector<std::string> serials(threads);
        std::vector<std::thread> workers;
        std::atomic<int> ready{0};
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&, t] {
                // start together, so the polls overlap between reading and recording
                ready.fetch_add(1);
                while (ready.load() < threads) {
                    std::this_thread::yield();
                }
                try {
                    auto result = test::parsed(backend.poll(test::poll_of(ref)));
                    if (result.disposition == Disposition::issued) {
                        serials[static_cast<size_t>(t)] = crypto::serial_hex(*result.certificate);
                    }
                } catch (const std::exception&) {
                    // leaves the serial empty, which the checks below report
                }
            });
        }
        for (auto& w : workers) {
            w.join();
        }
        std::set<std::string> unique(serials.begin(), serials.end());
        CHECK(unique.size() == 1);
        CHECK(unique.count("") == 0);
        CHECK(f.issued_rows() == 1);
    }

    TEST_CASE("a denied request is rejected with the officer's reason") {
        ApprovalFixture f;
        const std::string ref = f.submit_pending("web3");
        f.backend().deny(id_of(ref), "bob", "not a device of ours");

        auto polled = test::parsed(f.backend().poll(test::poll_of(ref)));
        CHECK(polled.disposition == Disposition::rejected);
        CHECK(polled.reason == "not a device of ours");
        CHECK(polled.certificate == nullptr);
        CHECK(f.issued_rows() == 0);
        auto denied = f.backend().list_requests("denied");
        REQUIRE(denied.size() == 1);
        CHECK(denied[0].decided_by == "bob");
        CHECK(denied[0].reason == "not a device of ours");
        CHECK(f.backend().list_requests("pending").empty());
        // later polls say the same
        CHECK(f.backend().poll(test::poll_of(ref)).reason == "not a device of ours");
    }

    TEST_CASE("requests live in the database and survive restarts") {
        ApprovalFixture f;
        const std::string ref = f.submit_pending("web4");
        f.restart();

        SUBCASE(
            "ok/pending after a restart, approved while no backend polls, delivered after the next restart") {
            CHECK(f.backend().poll(test::poll_of(ref)).disposition == Disposition::pending);
            f.backend().approve(id_of(ref), "alice");
            f.restart();  // the approving process is gone
            auto issued = test::parsed(f.backend().poll(test::poll_of(ref)));
            REQUIRE(issued.disposition == Disposition::issued);
            f.restart();
            auto again = test::parsed(f.backend().poll(test::poll_of(ref)));
            REQUIRE(again.disposition == Disposition::issued);
            CHECK(X509_cmp(again.certificate.get(), issued.certificate.get()) == 0);
            CHECK(f.issued_rows() == 1);
        }
        SUBCASE("ok/approved through a second connection to the same file while the server runs") {
            LocalCaBackend& server = f.backend();
            {
                auto cli_db = store::Database::open(f.dir.file("ra.db"), false);
                LocalCaBackend cli(f.config, *cli_db, f.clock);
                REQUIRE(cli.list_requests("pending").size() == 1);
                cli.approve(id_of(ref), "alice");
            }
            CHECK(server.poll(test::poll_of(ref)).disposition == Disposition::issued);
        }
        SUBCASE("fail/denied before the restart stays denied") {
            f.backend().deny(id_of(ref), "bob", "duplicate");
            f.restart();
            CHECK(f.backend().poll(test::poll_of(ref)).reason == "duplicate");
        }
    }

    TEST_CASE("only pending requests can be decided, by a named officer") {
        ApprovalFixture f;
        const std::int64_t id = id_of(f.submit_pending("web5"));
        std::string message;

        SUBCASE("fail/unknown id") {
            message = thrown_message<std::invalid_argument>([&] { f.backend().approve(id + 100, "alice"); });
            CHECK(contains(message, "unknown request"));
            message =
                thrown_message<std::invalid_argument>([&] { f.backend().deny(id + 100, "alice", "x"); });
            CHECK(contains(message, "unknown request"));
        }
        SUBCASE("fail/approved twice") {
            f.backend().approve(id, "alice");
            message = thrown_message<std::invalid_argument>([&] { f.backend().approve(id, "carol"); });
            CHECK(contains(message, "not pending (it is approved)"));
            CHECK(f.backend().list_requests("approved").at(0).decided_by == "alice");
        }
        SUBCASE("fail/denied after approval") {
            f.backend().approve(id, "alice");
            CHECK_THROWS_AS(f.backend().deny(id, "bob", "changed my mind"), std::invalid_argument);
            CHECK(f.backend().poll(test::poll_of(std::to_string(id))).disposition == Disposition::issued);
        }
        SUBCASE("fail/approved after denial") {
            f.backend().deny(id, "bob", "no");
            CHECK_THROWS_AS(f.backend().approve(id, "alice"), std::invalid_argument);
            CHECK(f.backend().poll(test::poll_of(std::to_string(id))).disposition == Disposition::rejected);
        }
        SUBCASE("fail/approved after issuance") {
            f.backend().approve(id, "alice");
            REQUIRE(f.backend().poll(test::poll_of(std::to_string(id))).disposition == Disposition::issued);
            message = thrown_message<std::invalid_argument>([&] { f.backend().approve(id, "alice"); });
            CHECK(contains(message, "it is issued"));
        }
        SUBCASE("fail/no officer") {
            CHECK_THROWS_AS(f.backend().approve(id, ""), std::invalid_argument);
            CHECK(f.backend().list_requests("pending").size() == 1);
        }
    }

    TEST_CASE("list_requests filters by status") {
        ApprovalFixture f;
        const std::int64_t a = id_of(f.submit_pending("l1", 21));
        const std::int64_t b = id_of(f.submit_pending("l2", 22));
        const std::int64_t c = id_of(f.submit_pending("l3", 23));
        f.backend().approve(a, "alice");
        f.backend().deny(b, "bob", "no");

        SUBCASE("ok/all, oldest first") {
            auto all = f.backend().list_requests(std::nullopt);
            REQUIRE(all.size() == 3);
            CHECK(all[0].id == a);
            CHECK(all[1].id == b);
            CHECK(all[2].id == c);
            CHECK(all[0].status == "approved");
            CHECK(all[1].status == "denied");
            CHECK(all[2].status == "pending");
        }
        SUBCASE("ok/one status") {
            auto pending = f.backend().list_requests("pending");
            REQUIRE(pending.size() == 1);
            CHECK(pending[0].id == c);
        }
        SUBCASE("fail/unknown status") {
            CHECK_THROWS_AS(f.backend().list_requests("waiting"), std::invalid_argument);
        }
    }

    TEST_CASE("what cannot be issued never waits, and unknown references are rejected") {
        ApprovalFixture f;

        SUBCASE("fail/a request the profile refuses is rejected at once") {
            auto ec = test::make_key(0, true);
            auto result = f.submit_as("Manual", *ec, "CN=ec1");
            CHECK(result.disposition == Disposition::rejected);
            CHECK(contains(result.reason, "does not allow EC keys"));
            CHECK(f.request_rows() == 0);
        }
        SUBCASE("fail/templates without manual approval issue at once") {
            auto key = test::pooled_client_key(24);
            CHECK(f.submit_as("Auto", *key, "CN=auto1").disposition == Disposition::issued);
            CHECK(f.request_rows() == 0);
        }
        SUBCASE("fail/unknown references") {
            f.submit_pending("web6");
            for (const std::string ref : {"999", "0", "-1", "abc", "", "1x", "99999999999999999999"}) {
                auto polled = test::parsed(f.backend().poll(test::poll_of(ref)));
                CHECK(polled.disposition == Disposition::rejected);
                CHECK(polled.reason == "unknown request");
            }
        }
        SUBCASE("fail/an approved request whose template was removed from the config") {
            const std::int64_t id = id_of(f.submit_pending("web7"));
            f.backend().approve(id, "alice");
            f.config.profiles.erase(f.config.profiles.begin());  // "Manual"
            f.restart();
            auto polled = test::parsed(f.backend().poll(test::poll_of(std::to_string(id))));
            CHECK(polled.disposition == Disposition::rejected);
            CHECK(polled.reason == "certificate template 'Manual' no longer exists");
            CHECK(f.issued_rows() == 0);
        }
    }
}
