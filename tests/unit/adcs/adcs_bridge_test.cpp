// SPDX-License-Identifier: Apache-2.0
// The AD CS backend against the REAL bridge process (mutual TLS on a loopback
// port) in front of the fake CA RPC server: AD CS request ids, dispositions,
// an officer's decisions, a CA that goes offline, lost answers.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "adcs/adcs_backend.hpp"
#include "adcs_test_support.hpp"

using namespace scepra;
using namespace scepra::backend;
using namespace scepra::backend::adcs;
using namespace scepra::test;

TEST_SUITE("adcs backend against the real bridge") {
    TEST_CASE(
        "an issued request comes back with its certificate, the CA chain without the leaf and its serial") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        AdcsBackend backend(bridge.config());  // the chain from GET /v1/ca
        REQUIRE(backend.ca_chain().size() == 2);
        CHECK(contains(crypto::name_string(*X509_get_subject_name(backend.ca_chain()[0].get())),
                       "CN=Test Issuing CA"));
        DeviceRequest device("SCEPDevice", "txid-issue-1");
        const AdcsSubmitOutcome outcome = backend.submit_with_audit(device.request);
        REQUIRE(outcome.result.disposition == Disposition::issued);
        CHECK(certifies_key(outcome.result.certificate_der, *device.key));
        auto csr = crypto::csr_from_der(device.request.csr_der);
        CHECK(subject_of(outcome.result.certificate_der) ==
              crypto::name_string(*X509_REQ_get_subject_name(csr.get())));
        REQUIRE(outcome.result.chain_der.size() == 2);
        CHECK(outcome.result.chain_der[0] == crypto::cert_der(*backend.ca_chain()[0]));
        CHECK(outcome.result.chain_der[1] == crypto::cert_der(*backend.ca_chain()[1]));
        CHECK(outcome.serial_hex == crypto::serial_hex_of_der(outcome.result.certificate_der));
        CHECK(bridge.new_submissions() == 1);
    }

    TEST_CASE("a chain file is used instead of asking the bridge, and must be issuing CA first") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        auto config = bridge.config();
        config.chain_file = bridge.file("ca-chain.pem");
        AdcsBackend backend(config);
        CHECK(backend.ca_chain().size() == 2);

        TempDir dir;
        auto chain = crypto::load_certs_file(bridge.file("ca-chain.pem"));
        crypto::write_file(dir.file("reversed.pem"),
                           crypto::cert_pem(*chain[1]) + crypto::cert_pem(*chain[0]), 0644, false);
        config.chain_file = dir.file("reversed.pem");
        CHECK_THROWS_WITH_AS(AdcsBackend{config}, doctest::Contains("issuing CA first"), std::runtime_error);
    }

    TEST_CASE("a pending request is issued after the CA officer approves it") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        AdcsBackend backend(bridge.config());
        DeviceRequest device("SCEPPending", "txid-pending-1");
        const AdcsSubmitOutcome submitted = backend.submit_with_audit(device.request);
        REQUIRE(submitted.result.disposition == Disposition::pending);
        const std::string request_id = submitted.result.backend_ref;
        REQUIRE(bridge.state().at("rows").contains(request_id));
        CHECK(contains(submitted.audit_detail, "AD CS request " + request_id));
        CHECK(contains(submitted.audit_detail, "Taken Under Submission"));
        // Asked again after a lost answer, the CA's words reach the audit trail too.
        const auto found = backend.find_by_transaction(device.query());
        REQUIRE(found);
        CHECK(found->backend_ref == request_id);
        CHECK(contains(found->audit_detail, "AD CS request " + request_id));

        CHECK(backend.poll(device.poll(request_id)).disposition == Disposition::pending);
        bridge.control({{"approve", std::stoi(request_id)}});
        const SubmitResult issued = backend.poll(device.poll(request_id));
        REQUIRE(issued.disposition == Disposition::issued);
        CHECK(certifies_key(issued.certificate_der, *device.key));
        CHECK(issued.chain_der.size() == 2);
        // A poll without the CSR (the RA no longer holds it) still gets the certificate.
        CHECK(backend.poll({request_id, "txid-pending-1", "SCEPPending", {}}).disposition ==
              Disposition::issued);
        CHECK(bridge.new_submissions() == 1);
    }

    TEST_CASE("a pending request the officer denies is rejected, the CA's words go to the audit only") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        AdcsBackend backend(bridge.config());
        DeviceRequest device("SCEPPending", "txid-pending-2");
        const SubmitResult submitted = backend.submit(device.request);
        REQUIRE(submitted.disposition == Disposition::pending);
        bridge.control({{"deny", std::stoi(submitted.backend_ref)}});
        const AdcsSubmitOutcome denied = backend.poll_with_audit(device.poll(submitted.backend_ref));
        REQUIRE(denied.result.disposition == Disposition::rejected);
        CHECK(denied.result.reason == "the CA denied the request");
        CHECK(contains(denied.audit_detail, "Denied by Officer"));
        CHECK(contains(denied.audit_detail, "disposition 2"));
    }

    TEST_CASE(
        "a request the CA's policy denies is rejected with a short reason, the CA's message for the audit") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        AdcsBackend backend(bridge.config());
        DeviceRequest device("SCEPNotOnCa", "txid-denied-1");
        const AdcsSubmitOutcome outcome = backend.submit_with_audit(device.request);
        REQUIRE(outcome.result.disposition == Disposition::rejected);
        CHECK(outcome.result.reason == "the CA denied the request");
        CHECK_FALSE(contains(outcome.result.reason, "Policy"));
        CHECK(contains(outcome.audit_detail, "Denied by Policy Module"));
        CHECK(contains(outcome.audit_detail, "HRESULT 0x80094800"));
    }

    TEST_CASE("a template the bridge does not allow is rejected without reaching the CA") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        AdcsBackend backend(bridge.config());
        const AdcsSubmitOutcome outcome =
            backend.submit_with_audit(DeviceRequest("WebServer", "txid-tpl").request);
        CHECK(outcome.result.disposition == Disposition::rejected);
        CHECK(contains(outcome.audit_detail, "allow-list"));
        CHECK(bridge.new_submissions() == 0);
    }

    TEST_CASE("the CA offline is BackendUnavailable, and once it is back the same request is issued, once") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        AdcsBackend backend(bridge.config());
        CHECK(backend.health().ok);
        bridge.control({{"offline", true}});
        DeviceRequest device("SCEPDevice", "txid-offline-1");
        CHECK_THROWS_AS(backend.submit(device.request), BackendUnavailable);
        const Health down = backend.health();
        CHECK_FALSE(down.ok);
        CHECK(contains(down.line, "cannot reach the CA"));
        CHECK(bridge.new_submissions() == 0);

        bridge.control({{"online", true}});
        CHECK(backend.health().ok);
        const SubmitResult issued = backend.submit(device.request);
        REQUIRE(issued.disposition == Disposition::issued);
        CHECK(certifies_key(issued.certificate_der, *device.key));
        CHECK(bridge.new_submissions() == 1);
    }

    TEST_CASE("a client certificate the bridge does not allow is refused before the CA is asked") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        DeviceRequest device("SCEPDevice", "txid-client-1");
        SUBCASE("from the bridge's client CA but not on allow_client: 403") {
            auto config = bridge.config();
            config.client_cert = bridge.file("other.pem");
            config.client_key = bridge.file("other.key");
            CHECK_THROWS_WITH_AS(AdcsBackend{config}, doctest::Contains("[adcs] chain"), BackendUnavailable);
            config.chain_file = bridge.file("ca-chain.pem");
            AdcsBackend backend(config);
            CHECK_THROWS_WITH_AS(backend.submit(device.request), doctest::Contains("allow_client"),
                                 BackendUnavailable);
            CHECK(contains(backend.health().line, "allow_client"));
        }
        SUBCASE("from another CA: the TLS handshake fails") {
            auto config = bridge.config();
            config.client_cert = bridge.file("stranger.pem");
            config.client_key = bridge.file("stranger.key");
            config.chain_file = bridge.file("ca-chain.pem");
            AdcsBackend backend(config);
            CHECK_THROWS_AS(backend.submit(device.request), BackendUnavailable);
            CHECK_FALSE(backend.health().ok);
        }
        CHECK(bridge.new_submissions() == 0);
    }

    TEST_CASE("a bridge whose TLS certificate server_ca does not trust is refused before anything is sent") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        auto config = bridge.config();
        config.server_ca = bridge.file("stranger-ca.pem");
        CHECK_THROWS_AS(AdcsBackend{config}, BackendUnavailable);
        config.chain_file = bridge.file("ca-chain.pem");
        AdcsBackend backend(config);
        CHECK_THROWS_WITH_AS(backend.submit(DeviceRequest("SCEPDevice", "txid-server-1").request),
                             doctest::Contains("not trusted by server_ca"), BackendUnavailable);
        CHECK(bridge.new_submissions() == 0);
    }

    TEST_CASE(
        "a client time-out after sending is OutcomeUnknown, and find_by_transaction then gets the one "
        "certificate") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;  // the bridge waits for the CA up to 20 s, the RA only 2 s
        auto config = bridge.config();
        config.timeout_seconds = 2;
        AdcsBackend backend(config);
        DeviceRequest device("SCEPDevice", "txid-timeout-1");
        bridge.control({{"hang_next", true}});
        CHECK_THROWS_AS(backend.submit(device.request), OutcomeUnknown);
        bridge.control({{"release", true}});

        std::optional<SubmitResult> found;
        for (int attempt = 0; attempt < 100 && !found;
             ++attempt) {  // bounded: until the bridge stored the answer
            try {
                found = backend.find_by_transaction(device.query());
            } catch (const BackendUnavailable&) {  // "being submitted right now; retry"
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        }
        REQUIRE(found);
        REQUIRE(found->disposition == Disposition::issued);
        CHECK(certifies_key(found->certificate_der, *device.key));
        CHECK(bridge.new_submissions() == 1);
        // Asking again, or submitting again, never makes a second certificate.
        CHECK(backend.find_by_transaction(device.query())->certificate_der == found->certificate_der);
        CHECK(backend.submit(device.request).certificate_der == found->certificate_der);
        CHECK(bridge.new_submissions() == 1);
        // Without the CSR the bridge cannot be asked.
        CHECK_FALSE(
            backend.find_by_transaction({"txid-timeout-1", {}, "SCEPDevice", {}, std::nullopt}).has_value());
    }

    TEST_CASE(
        "the bridge's own CA time-out (202 unknown) is OutcomeUnknown, and stays so without a resubmission") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge(BridgeProcess::Options{1});  // the bridge gives the CA 1 s
        AdcsBackend backend(bridge.config());
        DeviceRequest device("SCEPDevice", "txid-unknown-1");
        bridge.control({{"hang_next", true}});
        CHECK_THROWS_WITH_AS(backend.submit(device.request), doctest::Contains("scep-ra-adcs-bridge unknown"),
                             OutcomeUnknown);
        bridge.control({{"release", true}});
        CHECK_THROWS_AS(backend.find_by_transaction(device.query()), OutcomeUnknown);
        CHECK_THROWS_AS(backend.submit(device.request), OutcomeUnknown);
        CHECK(bridge.new_submissions() == 1);
    }

    TEST_CASE(
        "find_by_transaction answers a pending request's state, and files one the bridge never saw once") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        AdcsBackend backend(bridge.config());
        DeviceRequest pending("SCEPPending", "txid-find-pending");
        const SubmitResult submitted = backend.submit(pending.request);
        REQUIRE(submitted.disposition == Disposition::pending);
        const auto found = backend.find_by_transaction(pending.query());
        REQUIRE(found);
        CHECK(found->disposition == Disposition::pending);
        CHECK(found->backend_ref == submitted.backend_ref);
        CHECK(bridge.new_submissions() == 1);

        DeviceRequest unseen("SCEPDevice", "txid-find-unseen");
        const auto filed = backend.find_by_transaction(unseen.query());
        REQUIRE(filed);
        CHECK(filed->disposition == Disposition::issued);
        CHECK(certifies_key(filed->certificate_der, *unseen.key));
        CHECK(backend.submit(unseen.request).certificate_der == filed->certificate_der);
        CHECK(bridge.new_submissions() == 2);
    }

    TEST_CASE(
        "a transactionID reused with another CSR is rejected while the first is pending at the CA, a new "
        "submission once it is decided") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        AdcsBackend backend(bridge.config());
        DeviceRequest waiting("SCEPPending", "txid-reused");
        REQUIRE(backend.submit(waiting.request).disposition == Disposition::pending);
        DeviceRequest second("SCEPPending", "txid-reused");
        const SubmitResult refused = backend.submit(second.request);
        CHECK(refused.disposition == Disposition::rejected);
        CHECK(contains(refused.reason, "already used"));
        CHECK(bridge.new_submissions() == 1);

        // scep-ra sends another CSR under a decided transaction's ID only for a new transaction.
        DeviceRequest first("SCEPDevice", "txid-decided");
        const SubmitResult issued = backend.submit(first.request);
        REQUIRE(issued.disposition == Disposition::issued);
        DeviceRequest again("SCEPDevice", "txid-decided");
        const SubmitResult renewed = backend.submit(again.request);
        REQUIRE(renewed.disposition == Disposition::issued);
        CHECK(certifies_key(renewed.certificate_der, *again.key));
        CHECK(renewed.certificate_der != issued.certificate_der);
        CHECK(bridge.new_submissions() == 3);
    }

    TEST_CASE("no bridge: BackendUnavailable at start without a chain file, and on submit with one") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;  // for its TLS files only
        auto config = bridge.config();
        config.bridge_url = "https://localhost:" + std::to_string(closed_loopback_port());
        CHECK_THROWS_WITH_AS(AdcsBackend{config}, doctest::Contains("set [adcs] chain"), BackendUnavailable);
        config.chain_file = bridge.file("ca-chain.pem");
        AdcsBackend backend(config);
        CHECK_THROWS_WITH_AS(backend.submit(DeviceRequest("SCEPDevice", "txid-down").request),
                             doctest::Contains("cannot connect to the AD CS bridge"), BackendUnavailable);
        CHECK_THROWS_AS(backend.poll({"41", "txid-down", "SCEPDevice", {}}), BackendUnavailable);
        CHECK_FALSE(backend.health().ok);
    }

    TEST_CASE("an id the CA does not know is rejected on poll, a malformed one without asking") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        AdcsBackend backend(bridge.config());
        CHECK(backend.poll({"999", "txid-x", "SCEPDevice", {}}).disposition == Disposition::rejected);
        for (const std::string bad : {"", "0", "007", "-1", "4294967296", "12a", "1 "}) {
            CHECK(backend.poll({bad, "txid-x", "SCEPDevice", {}}).disposition == Disposition::rejected);
        }
    }

    TEST_CASE("only find_by_transaction among the optional calls: AD CS publishes CRLs and revokes itself") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        auto config = bridge.config();
        config.chain_file = bridge.file("ca-chain.pem");
        AdcsBackend backend(config);
        const Capabilities capabilities = backend.capabilities();
        CHECK(capabilities.find_by_transaction);
        CHECK_FALSE(capabilities.crl);
        CHECK_FALSE(capabilities.revoke);
        CHECK_FALSE(capabilities.find_certificate);
        CHECK_FALSE(capabilities.subject_lookup);
        CHECK(backend.name() == "adcs");
        CHECK_THROWS_AS(backend.revoke("0A", 1), Unsupported);
    }

    TEST_CASE("requests the bridge could never file are rejected without a call") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        AdcsBackend backend(bridge.config());
        CHECK(backend.submit(DeviceRequest("", "txid-notpl").request).disposition == Disposition::rejected);
        CHECK(backend.submit(DeviceRequest("SCEPDevice", "tx id with spaces").request).disposition ==
              Disposition::rejected);
        CHECK(backend.submit(DeviceRequest("SCEPDevice", std::string(129, 'a')).request).disposition ==
              Disposition::rejected);
        DeviceRequest garbage("SCEPDevice", "txid-garbage");
        garbage.request.csr_der = {0x30, 0x03, 0x02, 0x01, 0x01};
        CHECK(backend.submit(garbage.request).disposition == Disposition::rejected);
        CHECK(bridge.new_submissions() == 0);
    }
}
