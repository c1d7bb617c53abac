// SPDX-License-Identifier: Apache-2.0
// EjbcaBackend::submit against the fake EJBCA: issuance, refusals, pending,
// 5xx, timeouts, hostile answers and the no-double-issue look-up.
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

#include "ejbca/ejbca_backend.hpp"
#include "ejbca_test_support.hpp"
#include "support/backend_queries.hpp"
#include "support/fake_ejbca/fake_ejbca_process.hpp"
#include "support/loopback_port.hpp"

using namespace scepra;
using namespace scepra::backend;
using namespace scepra::backend::ejbca;
using scepra::test::FakeEjbca;

TEST_CASE("pkcs10enroll issues the certificate with its chain and a fresh random password per request") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    auto key = test::pooled_client_key(0);
    std::set<std::string> passwords;
    for (const char* txid : {"tx-one", "tx-two"}) {
        const auto outcome = backend.submit_with_audit(test::request_for(*key, "CN=router1,O=Test", txid));
        REQUIRE(outcome.result.disposition == Disposition::issued);
        CHECK(test::certifies_key(outcome.result.certificate_der, *key));
        CHECK(test::subject_of(outcome.result.certificate_der) == "O=Test,CN=router1");  // RFC 2253 reverses
        REQUIRE(outcome.result.chain_der.size() == 2);
        CHECK(test::subject_of(outcome.result.chain_der[0]) == "CN=IssuingCA,O=Fake EJBCA");
        CHECK(test::subject_of(outcome.result.chain_der[1]) == "CN=Fake Root CA,O=Fake EJBCA");
        CHECK(outcome.serial_hex ==
              crypto::serial_hex(*crypto::cert_from_der(outcome.result.certificate_der)));
        CHECK(outcome.username == "router1");  // the default rule, cn: one end entity per device name

        const auto sent = fake.state()["last_enroll"];
        CHECK(sent["include_chain"] == true);
        CHECK(sent["response_format"] == "DER");
        CHECK(sent["certificate_authority_name"] == "IssuingCA");
        CHECK(sent["certificate_profile_name"] == "SCEP_DEVICE");
        CHECK(sent["end_entity_profile_name"] == "SCEP_EEP");
        CHECK(sent["username"] == "router1");
        const std::string password = sent["password"];
        CHECK(password.size() == 32);
        passwords.insert(password);
    }
    CHECK(passwords.size() == 2);
}

TEST_CASE("a template's profiles are sent; a template without a section gets the default profiles") {
    FakeEjbca fake;
    auto config = fake.config();
    config.template_profiles["WebServer"] = {"SCEP_SERVER", "SERVER_EEP"};
    config.template_profiles["OnlyCp"] = {"SCEP_SERVER", ""};
    EjbcaBackend backend(config);
    auto key = test::pooled_client_key(1);

    auto request = test::request_for(*key, "CN=web1", "tx-web");
    request.template_name = "webserver";
    REQUIRE(backend.submit(request).disposition == Disposition::issued);
    CHECK(fake.state()["last_enroll"]["certificate_profile_name"] == "SCEP_SERVER");
    CHECK(fake.state()["last_enroll"]["end_entity_profile_name"] == "SERVER_EEP");

    request.template_name = "OnlyCp";
    REQUIRE(backend.submit(request).disposition == Disposition::issued);
    CHECK(fake.state()["last_enroll"]["end_entity_profile_name"] == "SCEP_EEP");

    // scep-ra's [templates] names (IPSECIntermediateOffline by default) need no section of their own.
    request.template_name = "IPSECIntermediateOffline";
    REQUIRE(backend.submit(request).disposition == Disposition::issued);
    CHECK(fake.state()["last_enroll"]["certificate_profile_name"] == "SCEP_DEVICE");
    CHECK(fake.state()["last_enroll"]["end_entity_profile_name"] == "SCEP_EEP");
    CHECK(fake.state()["enrolments"] == 3);
}

TEST_CASE("the username rules take the CN, CN and transaction, or the first SAN of a kind") {
    FakeEjbca fake;
    auto key = test::pooled_client_key(2);
    const auto request =
        test::request_for(*key, "CN=dev7,O=Test", "tx7", "DNS:dev7.example.net,email:ops@example.net");
    const std::pair<UsernameRule, std::string> cases[] = {{UsernameRule::cn, "dev7"},
                                                          {UsernameRule::cn_transaction, "dev7_tx7"},
                                                          {UsernameRule::san_dns, "dev7.example.net"},
                                                          {UsernameRule::san_email, "ops@example.net"}};
    for (const auto& [rule, expected] : cases) {
        auto config = fake.config();
        config.username_rule = rule;
        EjbcaBackend backend(config);
        REQUIRE(backend.submit(request).disposition == Disposition::issued);
        CHECK(fake.state()["last_enroll"]["username"] == expected);
    }

    auto config = fake.config();
    config.username_rule = UsernameRule::san_dns;
    EjbcaBackend backend(config);
    const auto without_san = backend.submit(test::request_for(*key, "CN=dev8", "tx8"));
    CHECK(without_san.disposition == Disposition::rejected);
    config.username_rule = UsernameRule::cn_transaction;
    EjbcaBackend by_transaction(config);
    for (const std::string& txid :
         {std::string("tx\xff\xfe"), std::string("tx\nline"), std::string(300, 'a')}) {
        CHECK(by_transaction.submit(test::request_for(*key, "CN=dev9", txid)).disposition ==
              Disposition::rejected);
    }
    CHECK(fake.state()["enrolments"] == 4);
    // Two devices never share an end entity through the separator.
    REQUIRE(by_transaction.submit(test::request_for(*key, "CN=dev", "a-T")).disposition ==
            Disposition::issued);
    const std::string first = fake.state()["last_enroll"]["username"];
    REQUIRE(by_transaction.submit(test::request_for(*key, "CN=dev-a", "T")).disposition ==
            Disposition::issued);
    CHECK(fake.state()["last_enroll"]["username"] != first);
    // Names EJBCA would file under another name (and so merge) are refused, by every rule.
    EjbcaBackend by_cn(fake.config());
    for (const char* cn : {"dev;1", "dev?1", "dev!1", "dev\\1", " dev1", "dev1 "}) {
        CAPTURE(cn);
        CHECK(by_cn.submit(test::request_for(*key, std::string("CN=") + cn, "tx10")).disposition ==
              Disposition::rejected);
    }
    CHECK(fake.state()["enrolments"] == 6);
    CHECK_THROWS_AS(parse_username_rule("uid"), std::invalid_argument);
    CHECK(parse_username_rule("cn+transaction") == UsernameRule::cn_transaction);
}

TEST_CASE(
    "each EJBCA refusal is a rejection whose reason leaks nothing; EJBCA's words go to the audit detail") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    auto key = test::pooled_client_key(3);
    for (int status : {400, 403, 404, 409, 413, 422}) {
        CAPTURE(status);
        fake.control({{"enroll_error", {status, "internal detail: table ejbca.UserData row 17"}}});
        const auto outcome = backend.submit_with_audit(test::request_for(*key, "CN=dev", "tx"));
        CHECK(outcome.result.disposition == Disposition::rejected);
        CHECK_FALSE(outcome.result.reason.empty());
        CHECK(outcome.result.reason.find("UserData") == std::string::npos);
        CHECK(outcome.audit_detail ==
              "EJBCA HTTP " + std::to_string(status) + ": internal detail: table ejbca.UserData row 17");
        // The contract's submit() carries the same words for the RA's audit trail.
        const SubmitResult result = backend.submit(test::request_for(*key, "CN=dev", "tx"));
        CHECK(result.reason == outcome.result.reason);
        CHECK(result.audit_detail == outcome.audit_detail);
    }
}

TEST_CASE("a profile that needs approval in EJBCA is refused with 400, a rejection") {
    FakeEjbca fake;
    auto config = fake.config();
    config.certificate_profile = "APPROVAL_CP";
    EjbcaBackend backend(config);
    auto key = test::pooled_client_key(4);
    const auto outcome = backend.submit_with_audit(test::request_for(*key, "CN=dev", "tx"));
    CHECK(outcome.result.disposition == Disposition::rejected);
    CHECK(outcome.audit_detail.find("approvals are enabled") != std::string::npos);
}

TEST_CASE("a 202 from EJBCA is pending, and polling it is rejected") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    fake.control({{"enroll_mode", "pending"}});
    auto key = test::pooled_client_key(5);
    CHECK(backend.submit(test::request_for(*key, "CN=dev", "tx")).disposition == Disposition::pending);
    CHECK(backend.poll(test::poll_of("")).disposition == Disposition::rejected);
}

TEST_CASE("a 5xx after the request was sent is outcome unknown") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    auto key = test::pooled_client_key(6);
    for (int status : {500, 503}) {
        CAPTURE(status);
        fake.control({{"enroll_error", {status, "General failure."}}});
        CHECK_THROWS_AS(backend.submit(test::request_for(*key, "CN=dev", "tx")), OutcomeUnknown);
    }
}

TEST_CASE("an EJBCA that stalls past timeout_seconds is outcome unknown") {
    FakeEjbca fake;
    auto config = fake.config();
    config.timeout_seconds = 1;
    EjbcaBackend backend(config);
    fake.control({{"enroll_mode", "stall"}, {"stall_seconds", 4}});
    auto key = test::pooled_client_key(7);
    CHECK_THROWS_AS(backend.submit(test::request_for(*key, "CN=dev", "tx")), OutcomeUnknown);
}

TEST_CASE("an EJBCA trickling its answer a byte at a time is cut off after three timeouts: outcome unknown") {
    FakeEjbca fake;
    auto config = fake.config();
    config.timeout_seconds = 1;  // each byte comes within it; the whole answer, after 8 s, does not
    EjbcaBackend backend(config);
    auto key = test::pooled_client_key(16);
    const auto request = test::request_for(*key, "CN=dev,O=Test", "tx-trickle");
    fake.control({{"enroll_mode", "trickle"}, {"stall_seconds", 8}});
    CHECK_THROWS_AS(backend.submit(request), OutcomeUnknown);
    fake.control({{"enroll_mode", "normal"}});
    // EJBCA did issue: the search after the lost answer finds that certificate.
    const auto found = backend.find_issued_for(request);
    REQUIRE(found.has_value());
    CHECK(test::certifies_key(found->certificate_der, *key));
}

TEST_CASE("no connection is BackendUnavailable: the request certainly did not reach EJBCA") {
    FakeEjbca fake;  // for its chain file only
    auto config = fake.config();
    config.url =
        "https://127.0.0.1:" + std::to_string(test::closed_loopback_port()) + "/ejbca/ejbca-rest-api";
    config.chain_file = fake.file("chain.pem");
    EjbcaBackend backend(config);
    auto key = test::pooled_client_key(8);
    CHECK_THROWS_AS(backend.submit(test::request_for(*key, "CN=dev", "tx")), BackendUnavailable);
}

TEST_CASE("hostile enrolment answers are outcome unknown, never a crash") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    auto key = test::pooled_client_key(9);
    for (const std::string mode :
         {"huge", "invalid_json", "deep_json", "wrong_types", "bad_base64", "empty_201", "other_key",
          "wrong_serial", "rogue_issuer", "trailing_bytes"}) {
        CAPTURE(mode);
        fake.control({{"enroll_mode", mode}});
        CHECK_THROWS_AS(backend.submit(test::request_for(*key, "CN=dev", "tx")), OutcomeUnknown);
    }
}

TEST_CASE("issued, then timed out: find_issued_for finds that certificate, so none is issued twice") {
    FakeEjbca fake;
    auto config = fake.config();
    config.timeout_seconds = 1;
    EjbcaBackend backend(config);
    auto key = test::pooled_client_key(10);
    const auto request = test::request_for(*key, "CN=dev,O=Test", "tx-lost");
    CHECK_FALSE(backend.find_issued_for(request).has_value());

    fake.control({{"enroll_mode", "issue_then_stall"}, {"stall_seconds", 4}});
    CHECK_THROWS_AS(backend.submit(request), OutcomeUnknown);
    fake.control({{"enroll_mode", "normal"}});

    const auto found = backend.find_issued_for(request);
    REQUIRE(found.has_value());
    CHECK(found->disposition == Disposition::issued);
    CHECK(test::certifies_key(found->certificate_der, *key));
    CHECK(found->chain_der.size() == 2);
    auto serial = crypto::serial_hex(*crypto::cert_from_der(found->certificate_der));
    serial.erase(0, serial.find_first_not_of('0'));  // EJBCA writes serials without leading zeros
    CHECK(fake.state()["certificates"].contains(serial));
    CHECK(fake.state()["enrolments"] == 1);
}

TEST_CASE("find_issued_for ignores an older certificate of the same username for another key") {
    FakeEjbca fake;
    auto config = fake.config();
    config.username_rule = UsernameRule::cn;
    EjbcaBackend backend(config);
    auto old_key = test::pooled_client_key(11);
    auto new_key = test::pooled_client_key(12);
    REQUIRE(backend.submit(test::request_for(*old_key, "CN=printer", "tx-old")).disposition ==
            Disposition::issued);

    const auto renewal = test::request_for(*new_key, "CN=printer", "tx-new");
    CHECK_FALSE(backend.find_issued_for(renewal).has_value());
    const auto issued = backend.submit(renewal);
    REQUIRE(issued.disposition == Disposition::issued);
    const auto found = backend.find_issued_for(renewal);
    REQUIRE(found.has_value());
    CHECK(found->certificate_der == issued.certificate_der);
}

TEST_CASE("find_issued_for after a same-key renewal's lost answer ignores the certificate it replaces") {
    FakeEjbca fake;
    auto config = fake.config();
    config.username_rule = UsernameRule::cn;
    EjbcaBackend backend(config);
    auto key = test::pooled_client_key(15);
    fake.control({{"backdate_minutes", 3 * 24 * 60}});  // issued three days before the renewal
    const auto first = backend.submit(test::request_for(*key, "CN=phone", "tx-first"));
    REQUIRE(first.disposition == Disposition::issued);
    fake.control({{"backdate_minutes", 10}});

    const auto renewal = test::request_for(*key, "CN=phone", "tx-renew");
    const TimePoint claimed_at = std::chrono::system_clock::now();
    CHECK_FALSE(backend.find_issued_for(renewal, claimed_at).has_value());
    const auto renewed = backend.submit(renewal);
    REQUIRE(renewed.disposition == Disposition::issued);
    const auto found = backend.find_issued_for(renewal, claimed_at);
    REQUIRE(found.has_value());
    CHECK(found->certificate_der == renewed.certificate_der);
    CHECK(found->certificate_der != first.certificate_der);
}

TEST_CASE("a search cut short without a match is outcome unknown; with a match it is found") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    auto key = test::pooled_client_key(14);
    const auto request = test::request_for(*key, "CN=dev", "tx-more");
    fake.control({{"search_more", true}});
    CHECK_THROWS_AS(backend.find_issued_for(request), OutcomeUnknown);
    REQUIRE(backend.submit(request).disposition == Disposition::issued);
    CHECK(backend.find_issued_for(request).has_value());
}

TEST_CASE("a search answer that cannot be understood is outcome unknown, never \"not issued\"") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    auto key = test::pooled_client_key(13);
    const auto request = test::request_for(*key, "CN=dev", "tx");
    for (const std::string mode : {"invalid_json", "not_certificates"}) {
        CAPTURE(mode);
        fake.control({{"search_mode", mode}});
        CHECK_THROWS_AS(backend.find_issued_for(request), OutcomeUnknown);
    }
}

TEST_CASE("one backend serves several threads at once") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    constexpr int threads = 4;
    constexpr int per_thread = 3;
    std::atomic<int> issued{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            auto key = test::pooled_client_key(40 + static_cast<size_t>(t));
            for (int i = 0; i < per_thread; ++i) {
                const auto txid = "tx-" + std::to_string(t) + "-" + std::to_string(i);
                try {
                    if (backend.submit(test::request_for(*key, "CN=dev" + std::to_string(t), txid))
                            .disposition == Disposition::issued) {
                        ++issued;
                    }
                } catch (const std::exception&) {
                    // counted as not issued; the CHECK below fails
                }
            }
        });
    }
    for (auto& worker : workers) {
        worker.join();
    }
    CHECK(issued == threads * per_thread);
    CHECK(fake.state()["enrolments"] == threads * per_thread);
}
