// SPDX-License-Identifier: Apache-2.0
// The Intune validator against the fake Entra ID, Graph and Intune service
// (tests/support/fake_intune) over real loopback TLS: Intune's answer codes,
// tokens and their expiry, endpoint discovery, failures that must fail
// closed, and the notifications after the CA's answer.
#include "validators/intune/intune_validator.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <regex>
#include <thread>
#include <vector>

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "http/base64.hpp"
#include "scep/csr.hpp"
#include "support/fake_intune/fake_intune_process.hpp"
#include "support/test_pki.hpp"
#include "support/text.hpp"
#include "validators/intune/notification_body.hpp"
#include "validators/intune/result_codes.hpp"
#include "validators/intune/token_client.hpp"

using namespace scepra;
using validators::intune::IntuneValidator;

using test::contains;

namespace {

using validators::intune::intune_scope;

/// An Intune-like challenge: a few KB of base64 text, distinct per seed.
std::string long_challenge(char seed, std::size_t size = 4000) {
    std::string text;
    for (std::size_t i = 0; text.size() < size; ++i) {
        text += static_cast<char>('A' + (seed + i * 7) % 26);
        text += static_cast<char>('a' + (seed * 3 + i) % 26);
        text += "0+/";
    }
    return text.substr(0, size);
}

struct Request {
    scep::Csr csr;
    std::string template_name = "IPSECIntermediateOffline";
    std::string transaction_id;

    Request(const std::string& challenge, const std::string& tx)
        : csr(scep::parse_csr(crypto::csr_der(
              *test::make_csr(*test::pooled_client_key(0), "CN=device,O=Example", challenge)))),
          transaction_id(tx) {}
    core::ChallengeRequest view() const { return {csr, template_name, transaction_id}; }
};

std::size_t count_actions(const nlohmann::json& state, const std::string& action) {
    std::size_t n = 0;
    for (const auto& a : state["actions"]) {
        n += a["action"] == action ? 1 : 0;
    }
    return n;
}

std::size_t count_tokens(const nlohmann::json& state, const std::string& wanted_scope) {
    std::size_t n = 0;
    for (const auto& t : state["token_requests"]) {
        n += t["scope"] == wanted_scope ? 1 : 0;
    }
    return n;
}

struct Fixture {
    test::FakeIntune fake;
    FixedClock clock{std::chrono::system_clock::now()};

    std::unique_ptr<IntuneValidator> validator(validators::intune::IntuneSettings settings) {
        return std::make_unique<IntuneValidator>(std::move(settings), clock);
    }
    std::unique_ptr<IntuneValidator> validator() { return validator(fake.settings()); }
    std::string secret() const { return crypto::read_file(fake.file("app-secret.txt")); }
    void check_no_violations() const {
        const auto state = fake.state();
        INFO(state["violations"].dump());
        CHECK(state["violations"].empty());
    }
};

core::EnrolmentOutcome issued_outcome(const Request& r, const crypto::X509Ptr& cert) {
    core::EnrolmentOutcome o;
    o.kind = core::EnrolmentOutcome::Kind::issued;
    o.transaction_id = r.transaction_id;
    o.template_name = r.template_name;
    o.message_type = "PKCSReq";
    o.csr_der = r.csr.der();
    o.certificate_der = crypto::cert_der(*cert);
    return o;
}

}  // namespace

TEST_SUITE("intune validator") {
    TEST_CASE_FIXTURE(Fixture,
                      "a challenge Intune accepts is accepted, asked with the library's request shape") {
        auto v = validator();
        const Request r(long_challenge('a'), "tx-accept-1");
        const core::ChallengeVerdict verdict = v->verify(r.view());
        CHECK(verdict.accepted);
        CHECK(contains(verdict.note, "Intune validated the request"));
        const auto state = fake.state();
        REQUIRE(state["actions"].size() == 1);
        const auto& action = state["actions"][0];
        CHECK(action["action"] == "validateRequest");
        CHECK(action["body"]["transactionId"] == "tx-accept-1");
        CHECK(action["body"]["callerInfo"] == "scep-ra");
        CHECK(action["body"]["certificateRequest"] == backend::http::base64_encode(r.csr.der()));
        CHECK(action["challenge_length"] == 4000);  // the whole challenge travelled inside the CSR
        CHECK(count_tokens(state, intune_scope) == 1);
        CHECK(count_tokens(state, "https://localhost:" + std::to_string(fake.port()) + "/graph/.default") ==
              1);
        CHECK(state["token_requests"][0]["credential"] == "secret");
        CHECK(state["discovery_requests"] == 1);
        check_no_violations();
    }

    TEST_CASE_FIXTURE(Fixture,
                      "every refusal code Intune answers is a refusal naming the code and its meaning") {
        auto v = validator();
        nlohmann::json codes = nlohmann::json::object();
        std::vector<std::string> refusals;
        for (auto code : validators::intune::known_codes()) {
            if (code != "Success") {
                refusals.emplace_back(code);
                codes[long_challenge(static_cast<char>(refusals.size()), 600)] = std::string(code);
            }
        }
        refusals.emplace_back("SomethingIntuneAddedLater");
        codes[long_challenge(static_cast<char>(refusals.size()), 600)] = refusals.back();
        fake.control({{"codes", codes}, {"description", "Challenge expired at 2026-12-01T10:00:00Z"}});
        CHECK(refusals.size() >= 24);
        for (std::size_t i = 0; i < refusals.size(); ++i) {
            CAPTURE(refusals[i]);
            const Request r(long_challenge(static_cast<char>(i + 1), 600), "tx-code-" + std::to_string(i));
            const core::ChallengeVerdict verdict = v->verify(r.view());
            CHECK_FALSE(verdict.accepted);
            CHECK_FALSE(verdict.retry_later);  // the device's fault: counts against it
            CHECK(contains(verdict.reason, "Intune refused the request: " + refusals[i] + " ("));
            CHECK(contains(verdict.reason, std::string(validators::intune::code_meaning(refusals[i]))));
            // Intune's own words go to the audit trail, not to the device.
            CHECK(contains(verdict.note, "Challenge expired at 2026-12-01T10:00:00Z"));
            CHECK_FALSE(contains(verdict.reason, "Challenge expired"));
        }
        CHECK(contains(validators::intune::code_meaning("ChallengeExpired"), "expired"));
        CHECK(contains(validators::intune::code_meaning("SomethingIntuneAddedLater"), "does not know"));
        check_no_violations();
    }

    TEST_CASE_FIXTURE(Fixture, "a request without a challenge is refused without asking Intune") {
        auto v = validator();
        const Request r("", "tx-none");
        const auto verdict = v->verify(r.view());
        CHECK_FALSE(verdict.accepted);
        CHECK(contains(verdict.reason, "ChallengePasswordMissing"));
        CHECK(fake.state()["actions"].empty());
    }

    TEST_CASE_FIXTURE(Fixture, "tokens are reused until shortly before they expire, then fetched anew") {
        auto v = validator();
        CHECK(v->verify(Request(long_challenge('t'), "tx-t1").view()).accepted);
        CHECK(v->verify(Request(long_challenge('t'), "tx-t2").view()).accepted);
        CHECK(count_tokens(fake.state(), intune_scope) == 1);
        clock.advance(std::chrono::seconds(3599 - 301));  // still more than five minutes left
        CHECK(v->verify(Request(long_challenge('t'), "tx-t3").view()).accepted);
        CHECK(count_tokens(fake.state(), intune_scope) == 1);
        clock.advance(std::chrono::seconds(2));  // within five minutes of expiry
        CHECK(v->verify(Request(long_challenge('t'), "tx-t4").view()).accepted);
        CHECK(count_tokens(fake.state(), intune_scope) == 2);
        check_no_violations();
    }

    TEST_CASE_FIXTURE(Fixture,
                      "a short-lived token given as text (Entra ID's v1 form) is renewed at half its life") {
        fake.control({{"token_lifetime", 60}, {"expires_as_text", true}});
        auto v = validator();
        CHECK(v->verify(Request(long_challenge('s'), "tx-s1").view()).accepted);
        clock.advance(std::chrono::seconds(29));
        CHECK(v->verify(Request(long_challenge('s'), "tx-s2").view()).accepted);
        CHECK(count_tokens(fake.state(), intune_scope) == 1);
        clock.advance(std::chrono::seconds(2));
        CHECK(v->verify(Request(long_challenge('s'), "tx-s3").view()).accepted);
        CHECK(count_tokens(fake.state(), intune_scope) == 2);
    }

    TEST_CASE_FIXTURE(Fixture,
                      "a token the services refuse before its expiry is fetched anew and the call retried") {
        auto v = validator();
        CHECK(v->verify(Request(long_challenge('r'), "tx-r1").view()).accepted);
        fake.control({{"revoke_tokens", true}});
        CHECK(v->verify(Request(long_challenge('r'), "tx-r2").view()).accepted);
        const auto state = fake.state();
        CHECK(count_tokens(state, intune_scope) == 2);
        CHECK(count_actions(state, "validateRequest") ==
              2);  // the refused call never reached the fake's handler
        check_no_violations();
    }

    TEST_CASE_FIXTURE(Fixture,
                      "Entra ID refusing the application fails closed with its error, never the secret") {
        fake.control(
            {{"token_error", {401, "invalid_client", "AADSTS7000215: Invalid client secret provided."}}});
        auto v = validator();
        const auto verdict = v->verify(Request(long_challenge('e'), "tx-e1").view());
        CHECK_FALSE(verdict.accepted);
        CHECK(verdict.retry_later);  // not the device's fault
        CHECK(contains(verdict.note, "AADSTS7000215"));
        CHECK(verdict.reason == "Intune could not validate the request; try again later");
        CHECK_FALSE(contains(verdict.note, secret().substr(0, 20)));
        CHECK(fake.state()["actions"].empty());
    }

    TEST_CASE_FIXTURE(Fixture, "a wrong client secret is refused by Entra ID and the request fails closed") {
        test::TempDir dir;
        crypto::write_file(dir.file("wrong.txt"), "not-the-secret\n", 0600, false);
        auto settings = fake.settings();
        settings.client_secret_file = dir.file("wrong.txt");
        auto v = validator(settings);
        const auto verdict = v->verify(Request(long_challenge('w'), "tx-w1").view());
        CHECK_FALSE(verdict.accepted);
        CHECK(contains(verdict.note, "invalid_client"));
        CHECK(verdict.reason == "Intune could not validate the request; try again later");
        CHECK_FALSE(contains(verdict.note, "not-the-secret"));
    }

    TEST_CASE_FIXTURE(Fixture,
                      "a registered certificate signs in with a client assertion Entra ID verifies") {
        auto settings = fake.settings();
        settings.client_secret_file.clear();
        settings.client_cert = fake.file("app-cert.pem");
        settings.client_key = fake.file("app-key.pem");
        auto v = validator(settings);
        CHECK(v->verify(Request(long_challenge('c'), "tx-c1").view()).accepted);
        const auto state = fake.state();
        REQUIRE(state["token_requests"].size() == 2);
        CHECK(state["token_requests"][0]["credential"] == "certificate");
        check_no_violations();
    }

    TEST_CASE_FIXTURE(
        Fixture, "a certificate not registered on the application is refused and the request fails closed") {
        auto settings = fake.settings();
        settings.client_secret_file.clear();
        settings.client_cert = fake.file("other-cert.pem");
        settings.client_key = fake.file("other-key.pem");
        auto v = validator(settings);
        const auto verdict = v->verify(Request(long_challenge('o'), "tx-o1").view());
        CHECK_FALSE(verdict.accepted);
        CHECK(verdict.retry_later);
        CHECK(contains(verdict.note, "x5t names no certificate registered"));
        CHECK(verdict.reason == "Intune could not validate the request; try again later");
    }

    TEST_CASE_FIXTURE(Fixture,
                      "a key that does not match the certificate is refused when the validator is built") {
        auto settings = fake.settings();
        settings.client_secret_file.clear();
        settings.client_cert = fake.file("app-cert.pem");
        settings.client_key = fake.file("other-key.pem");
        CHECK_THROWS_WITH_AS(validator(settings), doctest::Contains("does not belong to client_cert"),
                             std::runtime_error);
    }

    TEST_CASE_FIXTURE(Fixture, "a failed discovery fails closed, and the next request asks Graph again") {
        auto v = validator();
        fake.control({{"discovery", "fail"}});
        auto verdict = v->verify(Request(long_challenge('d'), "tx-d1").view());
        CHECK_FALSE(verdict.accepted);
        CHECK(verdict.retry_later);
        CHECK(contains(verdict.note, "Graph answered HTTP 503"));
        CHECK(verdict.reason == "Intune could not validate the request; try again later");
        fake.control({{"discovery", "missing"}});
        verdict = v->verify(Request(long_challenge('d'), "tx-d2").view());
        CHECK_FALSE(verdict.accepted);
        CHECK(contains(verdict.note, "no ScepRequestValidationFEService"));
        CHECK(verdict.reason == "Intune could not validate the request; try again later");
        fake.control({{"discovery", "garbage"}});
        CHECK_FALSE(v->verify(Request(long_challenge('d'), "tx-d3").view()).accepted);
        fake.control({{"discovery", "normal"}});
        CHECK(v->verify(Request(long_challenge('d'), "tx-d4").view()).accepted);
        CHECK(v->verify(Request(long_challenge('d'), "tx-d5").view()).accepted);
        const auto state = fake.state();
        CHECK(state["discovery_requests"] == 4);  // cached once found
        CHECK(count_actions(state, "validateRequest") == 2);
        check_no_violations();
    }

    TEST_CASE_FIXTURE(
        Fixture, "requests arriving during a slow, failing discovery share it instead of each asking Graph") {
        auto v = validator();  // no endpoint known yet; Graph slow, and failing
        fake.control({{"discovery", "fail"}, {"discovery_slow_seconds", 2}});
        constexpr int requests = 6;
        std::vector<std::unique_ptr<Request>> sent;
        for (int i = 0; i < requests; ++i) {
            sent.push_back(std::make_unique<Request>(long_challenge('p'), "tx-p" + std::to_string(i + 1)));
        }
        const int before = fake.state()["discovery_requests"];
        std::atomic<int> failed_closed{0};
        std::vector<std::thread> threads;
        for (const auto& request : sent) {
            threads.emplace_back([&, r = request.get()] {
                const auto verdict = v->verify(r->view());
                failed_closed += !verdict.accepted && verdict.retry_later ? 1 : 0;
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        CHECK(failed_closed == requests);
        // One discovery shared by all (two at most, should a thread start late); each
        // asking in turn made six, and the last request waited for all of them.
        CHECK(fake.state()["discovery_requests"].get<int>() - before <= 2);
        fake.control({{"discovery", "normal"}, {"discovery_slow_seconds", 0}});
        CHECK(v->verify(Request(long_challenge('p'), "tx-p9").view()).accepted);
    }

    TEST_CASE_FIXTURE(Fixture, "a service that moved is discovered anew and the request retried once") {
        auto v = validator();
        fake.control({{"discovery", "moved"}});
        // The old address answers 404: discovery is refreshed, and the retry goes to the new one.
        const auto first = v->verify(Request(long_challenge('m'), "tx-m1").view());
        CHECK_FALSE(first.accepted);  // Graph still lists the old address on the retry
        CHECK(first.retry_later);
        fake.control({{"discovery", "normal"}});
        CHECK(v->verify(Request(long_challenge('m'), "tx-m2").view()).accepted);
        CHECK(fake.state()["discovery_requests"] == 3);
    }

    TEST_CASE_FIXTURE(
        Fixture, "one 5xx from Intune is retried with a fresh discovery; more fail closed after two calls") {
        auto v = validator();
        fake.control({{"intune_fail", 1}});
        CHECK(v->verify(Request(long_challenge('f'), "tx-f1").view()).accepted);
        auto state = fake.state();
        CHECK(count_actions(state, "validateRequest") == 2);
        CHECK(state["discovery_requests"] == 2);
        fake.control({{"intune_fail", 5}});
        const auto verdict = v->verify(Request(long_challenge('f'), "tx-f2").view());
        CHECK_FALSE(verdict.accepted);
        CHECK(verdict.retry_later);
        CHECK(contains(verdict.note, "HTTP 503"));
        CHECK(verdict.reason == "Intune could not validate the request; try again later");
        state = fake.state();
        CHECK(count_actions(state, "validateRequest") == 4);  // bounded: two calls per request
        fake.control({{"intune_fail", 0}});
    }

    TEST_CASE_FIXTURE(Fixture,
                      "a service slower than timeout_seconds fails closed after two bounded attempts") {
        auto settings = fake.settings();
        settings.timeout_seconds = 1;
        auto v = validator(settings);
        CHECK(v->verify(Request(long_challenge('l'), "tx-l1").view()).accepted);  // token and endpoint cached
        fake.control({{"slow_seconds", 3}});
        const auto verdict = v->verify(Request(long_challenge('l'), "tx-l2").view());
        CHECK_FALSE(verdict.accepted);
        CHECK(verdict.retry_later);
        CHECK(contains(verdict.note, "no answer from Intune"));
        CHECK(verdict.reason == "Intune could not validate the request; try again later");
        CHECK(count_actions(fake.state(), "validateRequest") == 3);
        fake.control({{"slow_seconds", 0}});
    }

    TEST_CASE_FIXTURE(Fixture, "answers that are not Intune's JSON fail closed without a crash") {
        auto v = validator();
        for (const char* answer : {"garbage", "no_code", "deep", "huge"}) {
            CAPTURE(answer);
            fake.control({{"answer", answer}});
            const auto verdict =
                v->verify(Request(long_challenge('g'), std::string("tx-g-") + answer).view());
            CHECK_FALSE(verdict.accepted);
            CHECK(verdict.retry_later);
        }
        fake.control({{"answer", "normal"}});
        CHECK(v->verify(Request(long_challenge('g'), "tx-g-ok").view()).accepted);
    }

    TEST_CASE_FIXTURE(Fixture, "nothing secret reaches a verdict") {
        auto v = validator();
        CHECK(v->verify(Request(long_challenge('n'), "tx-n1").view()).accepted);
        fake.control({{"intune_fail", 5}});
        const auto verdict = v->verify(Request(long_challenge('n'), "tx-n2").view());
        fake.control({{"intune_fail", 0}});
        for (const std::string& text : {verdict.reason, verdict.note}) {
            CHECK_FALSE(contains(text, "Bearer"));
            CHECK_FALSE(contains(text, "eyJ0eXAiOiJKV1Qi"));
            CHECK_FALSE(contains(text, long_challenge('n').substr(0, 40)));
            CHECK_FALSE(contains(text, secret().substr(0, 20)));
        }
    }
}

TEST_SUITE("intune notifications") {
    TEST_CASE_FIXTURE(Fixture, "an issued certificate is told to Intune in a successNotification") {
        auto v = validator();
        const Request r(long_challenge('i'), "tx-issued");
        REQUIRE(v->verify(r.view()).accepted);
        const auto& pki = test::shared_test_pki();
        auto device_key = test::pooled_client_key(0);
        auto cert = test::make_cert("CN=device,O=Example", *device_key, pki.ca_cert.get(), pki.ca_key.get(),
                                    {}, 30, 0x1234abcd);
        v->on_outcome(issued_outcome(r, cert));
        v->flush();
        CHECK(v->notification_counts().sent == 1);
        const auto state = fake.state();
        REQUIRE(count_actions(state, "successNotification") == 1);
        const auto& body = state["actions"].back()["body"];
        CHECK(body["transactionId"] == "tx-issued");
        CHECK(body["certificateRequest"] == backend::http::base64_encode(r.csr.der()));
        std::string thumbprint;
        for (auto b : crypto::sha1(crypto::cert_der(*cert))) {
            static const char* digits = "0123456789ABCDEF";
            thumbprint += digits[b >> 4];
            thumbprint += digits[b & 15];
        }
        CHECK(body["certificateThumbprint"] == thumbprint);
        CHECK(body["certificateSerialNumber"] == crypto::serial_hex(*cert));
        CHECK(std::regex_match(body["certificateExpirationDateUtc"].get<std::string>(),
                               std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z)")));
        CHECK(body["issuingCertificateAuthority"] ==
              crypto::name_string(*X509_get_subject_name(pki.ca_cert.get())));
        CHECK(body["callerInfo"] == "scep-ra");
        check_no_violations();
    }

    TEST_CASE_FIXTURE(Fixture,
                      "a refused request is told to Intune in a failureNotification with an HRESULT") {
        auto v = validator();
        const Request r(long_challenge('j'), "tx-rejected");
        REQUIRE(v->verify(r.view()).accepted);
        core::EnrolmentOutcome o;
        o.kind = core::EnrolmentOutcome::Kind::rejected;
        o.transaction_id = r.transaction_id;
        o.csr_der = r.csr.der();
        o.reason = "rejected by the CA: " + std::string(400, 'x');
        v->on_outcome(o);
        v->flush();
        const auto state = fake.state();
        REQUIRE(count_actions(state, "failureNotification") == 1);
        const auto& body = state["actions"].back()["body"];
        CHECK(body["transactionId"] == "tx-rejected");
        CHECK(body["hResult"] == validators::intune::enroll_denied_hresult);
        CHECK(body["errorDescription"].get<std::string>().size() == 255);  // the library's limit
        CHECK(v->notification_counts().sent == 1);
        check_no_violations();
    }

    TEST_CASE_FIXTURE(Fixture, "outcomes of requests Intune did not validate, or told twice, are not sent") {
        auto v = validator();
        const Request r(long_challenge('k'), "tx-other");
        core::EnrolmentOutcome o;
        o.kind = core::EnrolmentOutcome::Kind::rejected;
        o.transaction_id = "tx-never-validated";
        o.csr_der = r.csr.der();
        v->on_outcome(o);
        REQUIRE(v->verify(r.view()).accepted);
        o.transaction_id = "tx-other";
        v->on_outcome(o);
        v->on_outcome(o);
        v->flush();
        CHECK(count_actions(fake.state(), "failureNotification") == 1);
    }

    TEST_CASE_FIXTURE(Fixture,
                      "on_outcome returns before Intune answers, and a failed notification is counted") {
        auto v = validator();
        const Request r(long_challenge('q'), "tx-slow");
        REQUIRE(v->verify(r.view()).accepted);
        core::EnrolmentOutcome o;
        o.kind = core::EnrolmentOutcome::Kind::rejected;
        o.transaction_id = r.transaction_id;
        o.csr_der = r.csr.der();
        fake.control({{"slow_seconds", 2}, {"intune_fail", 2}});
        v->on_outcome(o);
        CHECK(v->notification_counts().sent + v->notification_counts().failed == 0);  // still in flight
        v->flush();
        CHECK(v->notification_counts().failed == 1);
        fake.control({{"slow_seconds", 0}});
    }
}
