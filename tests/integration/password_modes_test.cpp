// SPDX-License-Identifier: Apache-2.0
// NDES password modes through the real HTTP server: one-time passwords
// (limits, expiry, reuse, binding, concurrency), the single password, and
// switching modes on a running server.
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

#include "crypto/encoding.hpp"
#include "integration/server_fixture.hpp"
#include "store/single_password_store.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::PkiStatus;

namespace {

scep::CertRepView enrol_with_challenge(ServerFixture& server, Device& device, const std::string& challenge,
                                       const std::string& txid, const std::vector<Ext>& exts = {}) {
    auto csr = device.csr(challenge, exts);
    Bytes req = scep::build_pki_request({scep::MessageType::pkcs_req, txid, {}}, crypto::csr_der(*csr),
                                        server.ra_encryption_cert(), {"AES-128-CBC", false}, device.signer(),
                                        std::chrono::system_clock::now());
    Reply reply = send_pki(server, req);
    REQUIRE(reply.http_status == 200);
    return scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), device.recipient());
}

std::string failure_text(const scep::CertRepView& view) { return view.fail_info_text.value_or(""); }

}  // namespace

TEST_SUITE("http.passwords") {
    TEST_CASE("one-time passwords expire after PasswordValidity and are purged") {
        ServerFixture server([](std::string& conf) { set_key(conf, "PasswordValidity", "60"); });
        Device device(0, "expiring");
        const std::string pw = server.password();
        const std::string still_good = server.password();
        server.clock().advance(std::chrono::minutes(59));
        CHECK(enrol_with_challenge(server, device, still_good, "TX-59").status == PkiStatus::success);
        server.clock().advance(std::chrono::minutes(2));
        auto view = enrol_with_challenge(server, device, pw, "TX-61");
        CHECK(view.fail_info == FailInfo::bad_request);
        CHECK(failure_text(view) == "the challenge password has expired");
        // The next issue purges it: the lifecycle trail keeps an 'expired' row.
        server.password();
        CHECK(server.sql("SELECT count(*) FROM password_events WHERE event = 'expired'") == "1");
        CHECK(failure_text(enrol_with_challenge(server, device, pw, "TX-62")) ==
              "the challenge password is not valid");
    }

    TEST_CASE("the NDES password modes still refuse a challengePassword over PKCS#9's 255 characters") {
        ServerFixture server;
        Device device(0, "long-password");
        server.password();
        auto view = enrol_with_challenge(server, device, std::string(256, 'p'), "TX-LONG-PW");
        CHECK(view.fail_info == FailInfo::bad_request);
        CHECK(failure_text(view) == "the challengePassword is longer than 255 characters");
    }

    TEST_CASE("the password cache holds PasswordMax unused passwords") {
        ServerFixture server([](std::string& conf) { set_key(conf, "PasswordMax", "3"); });
        std::vector<std::string> pws;
        for (int i = 0; i < 3; ++i) pws.push_back(server.password());
        CHECK_THROWS_WITH_AS(server.password(), "The password cache is full.", store::ChallengeCacheFull);
        Device device(1, "cache");
        CHECK(enrol_with_challenge(server, device, pws[0], "TX-CACHE").status == PkiStatus::success);
        CHECK_NOTHROW(server.password());  // a use frees a slot
    }

    TEST_CASE("a bound password only enrols the device it was issued for, and a mismatch does not use it") {
        ServerFixture server([](std::string& conf) {
            set_key(conf, "SignatureTemplate", "SigOnly");
            set_key(conf, "EncryptionTemplate", "EncOnly");
        });
        auto& store = server.instance().challenges();
        const auto& policy = server.config().password.one_time;
        SUBCASE("subject glob on the CN") {
            auto pw = store.issue(policy, "test", std::nullopt, {.expected_subject = "router-*.example.com"})
                          .password;
            Device wrong(2, "laptop.example.com");
            auto refused = enrol_with_challenge(server, wrong, pw, "TX-BIND-1");
            CHECK(refused.fail_info == FailInfo::bad_request);
            CHECK(failure_text(refused) == "the challenge password is bound to another subject");
            Device right(3, "ROUTER-7.example.com");
            CHECK(enrol_with_challenge(server, right, pw, "TX-BIND-2").status == PkiStatus::success);
            CHECK(failure_text(enrol_with_challenge(server, right, pw, "TX-BIND-3")) ==
                  "the challenge password was already used");
        }
        SUBCASE("subject glob on a DNS subjectAltName") {
            auto pw =
                store.issue(policy, "test", std::nullopt, {.expected_subject = "*.vpn.example.com"}).password;
            // Every name must match: the CN too (binding_policy_test has the refusals).
            Device device(4, "gw1.vpn.example.com");
            CHECK(enrol_with_challenge(server, device, pw, "TX-SAN",
                                       {{NID_subject_alt_name, "DNS:gw1.vpn.example.com"}})
                      .status == PkiStatus::success);
        }
        SUBCASE("template chosen by key usage") {
            auto pw = store.issue(policy, "test", std::nullopt, {.template_name = "SigOnly"}).password;
            Device device(5, "signer");
            auto refused = enrol_with_challenge(server, device, pw, "TX-T1",
                                                {{NID_key_usage, "critical,keyEncipherment"}});
            CHECK(failure_text(refused) == "the challenge password is bound to another certificate template");
            CHECK(enrol_with_challenge(server, device, pw, "TX-T2",
                                       {{NID_key_usage, "critical,digitalSignature"}})
                      .status == PkiStatus::success);
        }
        SUBCASE("own validity") {
            auto pw =
                store.issue(policy, "test", std::nullopt, {.validity = std::chrono::minutes(5)}).password;
            server.clock().advance(std::chrono::minutes(6));
            Device device(0, "late");
            CHECK(failure_text(enrol_with_challenge(server, device, pw, "TX-V")) ==
                  "the challenge password has expired");
        }
    }

    TEST_CASE(
        "200 one-time passwords, each tried by 4 concurrent enrolments, issue exactly 200 certificates") {
        ServerFixture server([](std::string& conf) {
            set_key(conf, "PasswordMax", "1000");
            // 600 losers of the race fail with "already used": not meant to lock 127.0.0.1 out here.
            set_key(conf, "max_failures", "1000000");
        });
        constexpr int passwords = 200, tries = 4;
        struct Attempt {
            Bytes request;
            std::string password;
            size_t device;
        };
        std::vector<Device> devices;
        for (size_t d = 0; d < 6; ++d) devices.emplace_back(d, "race-" + std::to_string(d));
        std::vector<Attempt> attempts;
        for (int p = 0; p < passwords; ++p) {
            const std::string pw = server.password();
            for (int t = 0; t < tries; ++t) {
                size_t d = static_cast<size_t>(p * tries + t) % devices.size();
                auto csr = devices[d].csr(pw);
                attempts.push_back(
                    {scep::build_pki_request({scep::MessageType::pkcs_req,
                                              "TX-RACE-" + std::to_string(p) + "-" + std::to_string(t),
                                              {}},
                                             crypto::csr_der(*csr), server.ra_encryption_cert(),
                                             {"AES-128-CBC", false}, devices[d].signer(),
                                             std::chrono::system_clock::now()),
                     pw, d});
            }
        }
        // Interleave so that the 4 tries of one password run at the same time.
        std::atomic<size_t> next{0};
        std::atomic<int> issued{0}, refused{0}, other{0};
        std::vector<std::thread> workers;
        for (int w = 0; w < 8; ++w) {
            workers.emplace_back([&] {
                for (size_t i; (i = next++) < attempts.size();) {
                    Reply reply = send_pki(server, attempts[i].request);
                    auto view = scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(),
                                                    devices[attempts[i].device].recipient());
                    if (view.status == PkiStatus::success) {
                        ++issued;
                    } else if (view.fail_info == FailInfo::bad_request &&
                               failure_text(view) == "the challenge password was already used") {
                        ++refused;
                    } else {
                        ++other;
                    }
                }
            });
        }
        for (auto& w : workers) w.join();
        CHECK(issued == passwords);
        CHECK(refused == passwords * (tries - 1));
        CHECK(other == 0);
        CHECK(server.sql("SELECT count(*) FROM issued_certs WHERE transaction_id IS NOT NULL") ==
              std::to_string(passwords));
        CHECK(
            server.sql("SELECT count(DISTINCT serial) FROM issued_certs WHERE transaction_id IS NOT NULL") ==
            std::to_string(passwords));
        // No password enrolled twice: every used password has exactly one issued audit row.
        CHECK(server.sql(
                  "SELECT count(*) FROM (SELECT challenge_id FROM audit_events WHERE decision = 'issued' "
                  "GROUP BY challenge_id HAVING count(*) > 1)") == "0");
        CHECK(server.sql("SELECT count(DISTINCT challenge_id) FROM audit_events WHERE decision = 'issued'") ==
              std::to_string(passwords));
    }

    TEST_CASE("single password mode accepts the operator's password, and a change needs no restart") {
        ServerFixture server([](std::string& conf) { set_key(conf, "UseSinglePassword", "1"); });
        // The CLI writes through its own connection, as another process would.
        auto db = store::Database::open(server.config().database, false);
        store::SinglePasswordStore cli_store(*db, server.clock());
        Device device(1, "single");
        CHECK(failure_text(enrol_with_challenge(server, device, "first-secret", "TX-S0")) ==
              "the challenge password is not valid");
        cli_store.set("first-secret", "cli");
        CHECK(enrol_with_challenge(server, device, "first-secret", "TX-S1").status == PkiStatus::success);
        CHECK(enrol_with_challenge(server, device, "first-secret", "TX-S2").status ==
              PkiStatus::success);  // reusable
        cli_store.set("second-secret", "cli");
        CHECK(failure_text(enrol_with_challenge(server, device, "first-secret", "TX-S3")) ==
              "the challenge password is not valid");
        CHECK(enrol_with_challenge(server, device, "second-secret", "TX-S4").status == PkiStatus::success);
        // One-time passwords are not accepted in this mode.
        auto otp = server.instance().challenges().issue(server.config().password.one_time, "t", std::nullopt);
        CHECK(enrol_with_challenge(server, device, otp.password, "TX-S5").status == PkiStatus::failure);
        CHECK(server.sql("SELECT detail FROM audit_events WHERE transaction_id = 'TX-S1'") ==
              "single password");
    }

    TEST_CASE("a reload switches the password mode of a running server") {
        ServerFixture server;
        Device device(2, "reloaded");
        CHECK(enrol_with_challenge(server, device, "", "TX-R1").status == PkiStatus::failure);
        cli::AppConfig fresh = server.config();
        fresh.password.enforce_password = false;
        server.instance().reload(fresh);
        CHECK(enrol_with_challenge(server, device, "", "TX-R2").status == PkiStatus::success);
        fresh.password.enforce_password = true;
        server.instance().reload(fresh);
        CHECK(enrol_with_challenge(server, device, "", "TX-R3").status == PkiStatus::failure);
    }

    TEST_CASE("the password lifecycle is in password_events and the views answer the common questions") {
        ServerFixture server;
        Device device(3, "lifecycle");
        auto& store = server.instance().challenges();
        auto used = store.issue(server.config().password.one_time, "alice", std::string("192.0.2.10"));
        auto revoked = store.issue(server.config().password.one_time, "bob", std::nullopt);
        REQUIRE(store.revoke(revoked.id, "carol"));
        REQUIRE(enrol_with_challenge(server, device, used.password, "TX-LIFE").status == PkiStatus::success);
        CHECK(failure_text(enrol_with_challenge(server, device, revoked.password, "TX-REV")) ==
              "the challenge password was revoked");
        CHECK(server.sql("SELECT group_concat(event || ':' || coalesce(actor, '') || ':' || coalesce(peer, "
                         "'') || ':' || "
                         "coalesce(transaction_id, ''), ',') FROM password_events WHERE challenge_id = " +
                         std::to_string(used.id)) == "issued:alice:192.0.2.10:,used:::TX-LIFE");
        CHECK(server.sql("SELECT actor FROM password_events WHERE event = 'revoked'") == "carol");
        CHECK(server.sql("SELECT issued || '/' || rejected FROM enrolments_per_day") == "1/1");
        CHECK(server.sql("SELECT requests FROM failures_by_reason WHERE reason = 'the challenge password was "
                         "revoked'") == "1");
        CHECK(server.sql("SELECT issued_by || '@' || issued_from FROM certificate_password_origin WHERE "
                         "transaction_id "
                         "= 'TX-LIFE'") == "alice@192.0.2.10");
    }
}
