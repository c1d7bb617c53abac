// SPDX-License-Identifier: Apache-2.0
// kill -9 of a real `scep-ra serve` process at random moments of an enrolment
// load (issue 16): after every restart the database is whole, no one-time
// password enrolled twice, every certificate the CA issued belongs to exactly
// one transaction, and a device that sends its request again gets the
// certificate the CA already issued for it, at once, never a second one.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "crypto/encoding.hpp"
#include "integration/database_queries.hpp"
#include "integration/server_fixture.hpp"
#include "store/challenge_store.hpp"
#include "store/database.hpp"
#include "support/scep_ra_process.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::MessageType;
using scep::PkiStatus;

namespace {

constexpr int kill_rounds = 20;
constexpr int load_clients = 3;
constexpr int requests_per_client = 4;  // at most 12 new enrolments per round
constexpr int enrolments = kill_rounds * load_clients * requests_per_client;

/// `scep-ra serve` on free loopback ports, for round N (its files DIR/serve-N.*), killed with SIGKILL.
ServeOptions round_options(int round) { return {.name = "serve-" + std::to_string(round)}; }

/// One device's enrolment: the very message it sends, and sends again after a crash.
struct Attempt {
    std::string transaction_id;
    std::unique_ptr<Device> device;
    Bytes message;
    Bytes certificate;  ///< DER, once a SUCCESS reached the device
};

Bytes query_blob(const std::filesystem::path& db_file, const std::string& sql) {
    auto db = store::Database::open(db_file, false);
    return db->read([&](store::Database& d) {
        auto st = d.prepare(sql);
        return st.step() ? st.column_blob(0) : Bytes();
    });
}

/// What must hold whenever the server has (re)started, whatever moment it was killed at.
void check_consistent(const std::filesystem::path& db_file) {
    CHECK(query_text(db_file, "PRAGMA integrity_check") == "ok");
    // A one-time password is used up in the transaction that records the claim: one claim each.
    CHECK(query_text(db_file,
                     "SELECT count(*) FROM (SELECT challenge_id FROM requests WHERE challenge_id IS NOT NULL "
                     "GROUP BY challenge_id HAVING count(*) > 1)") == "0");
    CHECK(query_text(db_file,
                     "SELECT count(*) FROM challenges c WHERE used_at IS NOT NULL AND NOT EXISTS "
                     "(SELECT 1 FROM requests r WHERE r.challenge_id = c.id)") == "0");
    // Every certificate the CA issued to a device: one per transaction, and that transaction claimed.
    CHECK(
        query_text(db_file,
                   "SELECT count(*) FROM (SELECT transaction_id FROM issued_certs WHERE transaction_id LIKE "
                   "'KILL-%' GROUP BY transaction_id HAVING count(*) > 1)") == "0");
    CHECK(query_text(db_file,
                     "SELECT count(*) FROM issued_certs i WHERE i.transaction_id LIKE 'KILL-%' AND (SELECT "
                     "count(*) FROM requests r WHERE r.transaction_id = i.transaction_id) != 1") == "0");
    // A request the RA recorded as issued holds exactly the CA's certificate.
    CHECK(query_text(
              db_file,
              "SELECT count(*) FROM requests r WHERE r.status = 'issued' AND NOT EXISTS (SELECT 1 FROM "
              "issued_certs i WHERE i.transaction_id = r.transaction_id AND i.der = r.cert_der)") == "0");
}

/// POSTs the message; the decoded reply, or nothing when the server went away.
std::optional<scep::CertRepView> post(int port, Attempt& attempt, X509& ra_signing) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    auto res =
        c.Post("/certsrv/mscep/mscep.dll?operation=PKIOperation",
               std::string(attempt.message.begin(), attempt.message.end()), "application/x-pki-message");
    if (!res || res->status != 200) {
        return std::nullopt;
    }
    return scep::read_cert_rep(as_bytes(res->body), ra_signing, attempt.device->recipient());
}

}  // namespace

TEST_SUITE("http.crash") {
    TEST_CASE(
        "kill -9 at random moments of an enrolment load: every re-sent request gets its one certificate at "
        "once") {
        TempDir dir;
        const std::string inst = dir.file("ra");
        const std::string conf = inst + "/scep-ra.conf";
        const std::filesystem::path db_file = inst + "/scep-ra.db";
        init_from_template(inst, "--admin-listen none");
        auto ra_signing = crypto::load_cert_file(inst + "/ra-signing.pem");
        auto ra_encryption = crypto::load_cert_file(inst + "/ra-encryption.pem");

        // Every device's request, with its own one-time password, made before any server runs.
        std::vector<Attempt> attempts(enrolments);
        {
            auto db = store::Database::open(db_file, false);
            SystemClock clock;
            store::ChallengeStore passwords(
                *db, store::ChallengeStore::load_or_create_key(inst + "/private/challenge-hmac.key"), clock);
            const store::ChallengePolicy policy{enrolments + 1, 8, std::chrono::minutes(60)};
            for (int i = 0; i < enrolments; ++i) {
                Attempt& a = attempts[static_cast<size_t>(i)];
                a.transaction_id = "KILL-" + std::to_string(i);
                a.device = std::make_unique<Device>(static_cast<size_t>(i), "kill-" + std::to_string(i));
                auto csr = a.device->csr(passwords.issue(policy, "cli", std::nullopt).password);
                a.message = scep::build_pki_request(
                    {MessageType::pkcs_req, a.transaction_id, {}}, crypto::csr_der(*csr), *ra_encryption,
                    {"AES-128-CBC", false}, a.device->signer(), std::chrono::system_clock::now());
            }
        }

        const unsigned seed = std::random_device{}();
        INFO("random seed " << seed);
        std::mt19937 rng(seed);
        std::uniform_int_distribution<int> kill_after_ms(0, 400);

        // The devices a crash left without an answer send again; each must get the
        // certificate the CA issued for its transaction if there is one, and SUCCESS.
        int issued_before_answer = 0;  // the CA had issued, the device had not heard
        auto resend_unanswered = [&](int port, int upto) {
            int resent = 0;
            for (int i = 0; i < upto; ++i) {
                Attempt& a = attempts[static_cast<size_t>(i)];
                if (!a.certificate.empty()) continue;
                CAPTURE(a.transaction_id);
                const Bytes issued_before =
                    query_blob(db_file, "SELECT der FROM issued_certs WHERE transaction_id = '" +
                                            a.transaction_id + "'");
                auto view = post(port, a, *ra_signing);
                REQUIRE(view);
                CAPTURE(view->fail_info_text.value_or(""));
                REQUIRE(view->status == PkiStatus::success);  // never PENDING for a claim of a dead server
                REQUIRE(!view->certs.empty());
                a.certificate = crypto::cert_der(*view->certs[0]);
                if (!issued_before.empty()) {
                    CHECK(a.certificate == issued_before);
                    ++issued_before_answer;
                }
                CHECK(query_text(db_file, "SELECT count(*) FROM issued_certs WHERE transaction_id = '" +
                                              a.transaction_id + "'") == "1");
                ++resent;
            }
            return resent;
        };

        int sent = 0, resent = 0;
        for (int round = 0; round < kill_rounds; ++round) {
            CAPTURE(round);
            ServeProcess server(dir, conf, round_options(round));
            check_consistent(db_file);
            resent += resend_unanswered(server.port(), sent);

            // The load: a few clients, each with its own bounded list of new devices.
            std::atomic<int> answered{0};
            std::mutex failures_mutex;
            std::vector<std::string> failures;
            std::vector<std::thread> clients;
            for (int c = 0; c < load_clients; ++c) {
                clients.emplace_back([&, c] {
                    for (int k = 0; k < requests_per_client; ++k) {
                        Attempt& a = attempts[static_cast<size_t>(sent + c * requests_per_client + k)];
                        auto view = post(server.port(), a, *ra_signing);
                        if (!view) return;  // killed
                        if (view->status == PkiStatus::success && !view->certs.empty()) {
                            a.certificate = crypto::cert_der(*view->certs[0]);
                            ++answered;
                        } else {
                            std::lock_guard lock(failures_mutex);
                            failures.push_back(a.transaction_id + ": " +
                                               view->fail_info_text.value_or("PENDING"));
                        }
                    }
                });
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms(rng)));
            server.kill9();
            for (auto& t : clients) t.join();
            sent += load_clients * requests_per_client;
            CHECK(failures.empty());
            for (const auto& f : failures) MESSAGE(f);
        }

        // A last start: every device still without an answer sends again.
        ServeProcess server(dir, conf, round_options(kill_rounds));
        check_consistent(db_file);
        resent += resend_unanswered(server.port(), sent);
        MESSAGE(resent << " of " << sent << " requests were interrupted by a kill -9 and sent again; for "
                       << issued_before_answer << " of them the CA had issued before the kill");
        // Each device holds the one certificate the CA issued for its transaction, and the RA recorded it.
        CHECK(query_text(db_file, "SELECT count(*) FROM issued_certs WHERE transaction_id LIKE 'KILL-%'") ==
              std::to_string(sent));
        CHECK(query_text(
                  db_file,
                  "SELECT count(*) FROM requests WHERE transaction_id LIKE 'KILL-%' AND status = 'issued'") ==
              std::to_string(sent));
        for (const Attempt& a : attempts) {
            CAPTURE(a.transaction_id);
            CHECK(a.certificate ==
                  query_blob(db_file, "SELECT der FROM issued_certs WHERE transaction_id = '" +
                                          a.transaction_id + "'"));
        }
        server.kill9();
    }
}
