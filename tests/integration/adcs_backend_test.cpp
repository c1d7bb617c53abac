// SPDX-License-Identifier: Apache-2.0
// scep-ra with `[ca] backend = adcs` end to end: SCEP clients -> the real HTTP
// server -> the AD CS backend -> the REAL bridge process (mutual TLS) -> the
// fake CA RPC server (MS-ICPR on impacket). The fake CA's templates decide:
// SCEPDevice is issued at once, SCEPPending waits for an officer, any other
// template is denied by its policy module.
#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include "crypto/encoding.hpp"
#include "integration/scep_exchange.hpp"
#include "integration/server_fixture.hpp"
#include "scep/degenerate.hpp"
#include "scep/message_data.hpp"
#include "unit/adcs/adcs_test_support.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::MessageType;
using scep::PkiStatus;

namespace {

/// keyUsage picks the [templates] name, and so the fake CA's behaviour.
const Ext signature_only{NID_key_usage, "critical,digitalSignature"};    // SCEPPending
const Ext encipherment_only{NID_key_usage, "critical,keyEncipherment"};  // SCEPNotOnCa: denied

/// Turns init's local-CA configuration into one for the AD CS backend behind bridge,
/// reaching it with the client certificate `client` (a stem the harness wrote).
std::function<void(std::string&)> adcs_config(const BridgeProcess& bridge, const std::string& client = "ra",
                                              bool chain_file = false) {
    return [&bridge, client, chain_file](std::string& conf) {
        set_key(conf, "backend", "adcs");
        // The bridge has no find_certificate: the renewal signer's status is explicitly not checked.
        set_key(conf, "revocation", "none");
        set_key(conf, "PasswordMax", "100");
        set_key(conf, "SignatureTemplate", "SCEPPending");
        set_key(conf, "EncryptionTemplate", "SCEPNotOnCa");
        set_key(conf, "GeneralPurposeTemplate", "SCEPDevice");
        conf +=
            "\n[adcs]\nbridge_url = https://localhost:" + std::to_string(bridge.port()) +
            "\nclient_cert = " + bridge.file(client + ".pem") +
            "\nclient_key = " + bridge.file(client + ".key") + "\nserver_ca = " + bridge.file("tls-ca.pem") +
            "\ntimeout_seconds = 30\nchain = " + (chain_file ? bridge.file("ca-chain.pem") : std::string()) +
            "\n";
    };
}

scep::CertRepView enrol_through_bridge(ServerFixture& server, Device& device, const std::string& txid,
                                       const std::vector<Ext>& exts = {}) {
    return send_scep(server, MessageType::pkcs_req, txid,
                     crypto::csr_der(*device.csr(server.password(), exts)),
                     {*device.self_signed, *device.key});
}

/// The fake CA's chain as the harness wrote it: issuing CA, then root.
std::vector<crypto::X509Ptr> fake_ca_chain(const BridgeProcess& bridge) {
    auto chain = crypto::load_certs_file(bridge.file("ca-chain.pem"));
    REQUIRE(chain.size() == 2);
    return chain;
}

/// cert verifies up to the fake CA's root (at the server's possibly advanced time).
bool chains_to_fake_ca(ServerFixture& server, const BridgeProcess& bridge, X509& cert) {
    auto chain = fake_ca_chain(bridge);
    crypto::X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), chain[1].get());
    crypto::X509StackPtr untrusted(sk_X509_new_null());
    REQUIRE(sk_X509_push(untrusted.get(), chain[0].release()) == 1);
    crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), &cert, untrusted.get());
    X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(server.clock().now()));
    return X509_verify_cert(ctx.get()) == 1;
}

/// SUCCESS with a certificate for key that chains to the fake CA; returns it.
crypto::X509Ptr check_issued(ServerFixture& server, const BridgeProcess& bridge, scep::CertRepView& view,
                             EVP_PKEY& key) {
    REQUIRE(view.status == PkiStatus::success);
    REQUIRE(!view.certs.empty());
    CHECK(chains_to_fake_ca(server, bridge, *view.certs[0]));
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(view.certs[0].get()), &key) == 1);
    return std::move(view.certs[0]);
}

std::string request_column(ServerFixture& server, const std::string& column, const std::string& txid) {
    return server.sql("SELECT " + column + " FROM requests WHERE transaction_id = '" + txid + "'");
}

std::string audit_details(ServerFixture& server, const std::string& txid) {
    return server.sql("SELECT group_concat(detail, ' | ') FROM audit_events WHERE transaction_id = '" + txid +
                      "'");
}

}  // namespace

TEST_SUITE("http.adcs") {
    TEST_CASE(
        "a device enrols through the bridge: the certificate chains to the AD CS CA, GetCACert serves the RA "
        "certificates and the AD CS chain") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        ServerFixture server(adcs_config(bridge));
        auto chain = fake_ca_chain(bridge);

        auto res = server.client().Get(server.base_path() + "?operation=GetCACert");
        REQUIRE(res);
        REQUIRE(res->status == 200);
        auto certs = scep::parse_degenerate(as_bytes(res->body));
        REQUIRE(certs.size() == 4);
        CHECK(X509_cmp(certs[0].get(), &server.ra_signing_cert()) == 0);
        CHECK(X509_cmp(certs[1].get(), &server.ra_encryption_cert()) == 0);
        CHECK(X509_cmp(certs[2].get(), chain[0].get()) == 0);
        CHECK(X509_cmp(certs[3].get(), chain[1].get()) == 0);

        Device device(0, "adcs-issued");
        const Bytes csr = crypto::csr_der(*device.csr(server.password()));
        const Identity signer{*device.self_signed, *device.key};
        auto view = send_scep(server, MessageType::pkcs_req, "TX-ADCS-ISSUE", csr, signer);
        auto cert = check_issued(server, bridge, view, *device.key);
        CHECK(crypto::name_string(*X509_get_issuer_name(cert.get())) ==
              crypto::name_string(*X509_get_subject_name(chain[0].get())));
        CHECK(request_column(server, "status", "TX-ADCS-ISSUE") == "issued");
        CHECK(bridge.new_submissions() == 1);

        // A re-sent PKCSReq answers the stored outcome, without a second submission to the CA.
        CHECK(send_scep(server, MessageType::pkcs_req, "TX-ADCS-ISSUE", csr, signer).status ==
              PkiStatus::success);
        CHECK(bridge.new_submissions() == 1);
        // Another request under that transactionID (a key-derived one) is a new transaction.
        auto again = enrol_through_bridge(server, device, "TX-ADCS-ISSUE");
        INFO(again.fail_info_text.value_or(""));
        CHECK(again.status == PkiStatus::success);
        CHECK(bridge.new_submissions() == 2);

        // GetCert: the bridge cannot look certificates up, so the RA answers from what it delivered;
        // the same serial under another issuer is not that certificate.
        auto got = send_scep(server, MessageType::get_cert, "TX-ADCS-GETCERT",
                             scep::issuer_and_serial_der(*cert), {*device.self_signed, *device.key});
        REQUIRE(got.status == PkiStatus::success);
        REQUIRE(got.certs.size() == 1);
        CHECK(X509_cmp(got.certs[0].get(), cert.get()) == 0);
        crypto::X509Ptr stranger(X509_dup(cert.get()));
        auto other_issuer = make_cert("CN=Another CA", *device.key, nullptr, nullptr, {});
        REQUIRE(X509_set_issuer_name(stranger.get(), X509_get_subject_name(other_issuer.get())) == 1);
        auto missing = send_scep(server, MessageType::get_cert, "TX-ADCS-GETCERT-2",
                                 scep::issuer_and_serial_der(*stranger), {*device.self_signed, *device.key});
        CHECK(missing.status == PkiStatus::failure);
        REQUIRE(missing.fail_info);
        CHECK(*missing.fail_info == FailInfo::bad_cert_id);
    }

    TEST_CASE("a pending request reaches the device hours later, after the CA officer issues it") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        ServerFixture server(adcs_config(bridge));
        auto chain = fake_ca_chain(bridge);
        Device device(1, "adcs-pending");
        auto first = enrol_through_bridge(server, device, "TX-ADCS-PEND", {signature_only});
        CHECK(first.status == PkiStatus::pending);
        const std::string request_id = request_column(server, "backend_ref", "TX-ADCS-PEND");
        REQUIRE(!request_id.empty());
        REQUIRE(bridge.state().at("rows").contains(request_id));
        CHECK(cert_poll(server, device, *chain[0], "TX-ADCS-PEND").status == PkiStatus::pending);

        bridge.control({{"approve", std::stoi(request_id)}});
        server.clock().advance(std::chrono::hours(6));
        auto polled = cert_poll(server, device, *chain[0], "TX-ADCS-PEND");
        check_issued(server, bridge, polled, *device.key);
        CHECK(request_column(server, "status", "TX-ADCS-PEND") == "issued");
        CHECK(bridge.new_submissions() == 1);
    }

    TEST_CASE("a pending request the officer denies is FAILURE badRequest, without the CA's message") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        ServerFixture server(adcs_config(bridge));
        auto chain = fake_ca_chain(bridge);
        Device device(2, "adcs-pending-denied");
        CHECK(enrol_through_bridge(server, device, "TX-ADCS-DENY-LATER", {signature_only}).status ==
              PkiStatus::pending);
        const std::string request_id = request_column(server, "backend_ref", "TX-ADCS-DENY-LATER");
        REQUIRE(!request_id.empty());

        bridge.control({{"deny", std::stoi(request_id)}});
        auto view = cert_poll(server, device, *chain[0], "TX-ADCS-DENY-LATER");
        CHECK(view.status == PkiStatus::failure);
        REQUIRE(view.fail_info);
        CHECK(*view.fail_info == FailInfo::bad_request);
        CHECK(view.certs.empty());
        CHECK(!contains(view.fail_info_text.value_or(""), "Denied by"));
        CHECK(contains(audit_details(server, "TX-ADCS-DENY-LATER"), "rejected by the CA"));
        CHECK(request_column(server, "status", "TX-ADCS-DENY-LATER") == "rejected");
    }

    TEST_CASE("a request the CA denies at once is FAILURE badRequest, without the policy module's message") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        ServerFixture server(adcs_config(bridge));
        Device device(3, "adcs-denied");
        auto view = enrol_through_bridge(server, device, "TX-ADCS-DENY", {encipherment_only});
        CHECK(view.status == PkiStatus::failure);
        REQUIRE(view.fail_info);
        CHECK(*view.fail_info == FailInfo::bad_request);
        const std::string text = view.fail_info_text.value_or("");
        CAPTURE(text);
        CHECK(!contains(text, "Policy Module"));
        CHECK(contains(audit_details(server, "TX-ADCS-DENY"), "rejected by the CA"));
        CHECK(request_column(server, "status", "TX-ADCS-DENY") == "rejected");
    }

    TEST_CASE(
        "a denial's policy-module message and AD CS request id reach the RA's audit trail, not the device") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        ServerFixture server(adcs_config(bridge));
        Device device(3, "adcs-denied-audit");
        CHECK(enrol_through_bridge(server, device, "TX-ADCS-DENY-AUDIT", {encipherment_only}).status ==
              PkiStatus::failure);
        const std::string audit = server.sql(
            "SELECT group_concat(ca_detail, ' | ') FROM audit_events WHERE transaction_id = "
            "'TX-ADCS-DENY-AUDIT'");
        CAPTURE(audit);
        CHECK(contains(audit, "Denied by Policy Module"));
        CHECK(contains(audit, "SCEPNotOnCa"));
    }

    TEST_CASE(
        "while the CA is offline a pending request stays PENDING, a new one is told to come back, and both "
        "complete once it is back") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        ServerFixture server(adcs_config(bridge));
        auto chain = fake_ca_chain(bridge);
        Device waiting(4, "adcs-offline-pending");
        CHECK(enrol_through_bridge(server, waiting, "TX-ADCS-OFF-PEND", {signature_only}).status ==
              PkiStatus::pending);
        const std::string request_id = request_column(server, "backend_ref", "TX-ADCS-OFF-PEND");
        REQUIRE(!request_id.empty());

        bridge.control({{"offline", true}});
        // A device takes FAILURE as final: a request that waits at the CA is never failed for an outage.
        auto polled = cert_poll(server, waiting, *chain[0], "TX-ADCS-OFF-PEND");
        CHECK(polled.status == PkiStatus::pending);
        CHECK(contains(audit_details(server, "TX-ADCS-OFF-PEND"), "unavailable"));

        // A new request never reached the CA: [ca] unavailable = pending (the default) holds it, PENDING,
        // with its CSR sealed, and the device's next attempt submits it.
        Device fresh(5, "adcs-offline-new");
        const std::string password = server.password();
        auto csr = fresh.csr(password);
        auto held = send_scep(server, MessageType::pkcs_req, "TX-ADCS-OFF-NEW", crypto::csr_der(*csr),
                              {*fresh.self_signed, *fresh.key});
        CHECK(held.status == PkiStatus::pending);
        CHECK(contains(audit_details(server, "TX-ADCS-OFF-NEW"), "the CA is unavailable"));

        bridge.control({{"online", true}});
        bridge.control({{"approve", std::stoi(request_id)}});
        auto issued = cert_poll(server, waiting, *chain[0], "TX-ADCS-OFF-PEND");
        check_issued(server, bridge, issued, *waiting.key);
        // The same request again (same transaction, same one-time password) now completes.
        auto retried = send_scep(server, MessageType::pkcs_req, "TX-ADCS-OFF-NEW", crypto::csr_der(*csr),
                                 {*fresh.self_signed, *fresh.key});
        check_issued(server, bridge, retried, *fresh.key);
    }

    TEST_CASE(
        "a client certificate the bridge does not allow: the RA holds the request as for a CA outage and "
        "logs why") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        // The chain from a file: without it the RA could not even start (GET /v1/ca is refused too).
        ServerFixture server(adcs_config(bridge, "other", true));
        Device device(6, "adcs-wrong-client");
        auto view = enrol_through_bridge(server, device, "TX-ADCS-403");
        CHECK(view.status == PkiStatus::pending);  // never a final FAILURE for the RA's own trouble
        const std::string audit = audit_details(server, "TX-ADCS-403");
        CAPTURE(audit);
        CHECK(contains(audit, "the CA is unavailable"));
        CHECK(contains(audit, "allow_client"));
        CHECK(bridge.new_submissions() == 0);
    }

    TEST_CASE("with the adcs backend, [renewal] revocation = backend is refused at start") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        const auto configure = adcs_config(bridge);
        CHECK_THROWS_WITH(ServerFixture([&](std::string& conf) {
                              configure(conf);
                              set_key(conf, "revocation", "backend");
                          }),
                          doctest::Contains("[renewal] revocation = backend"));
    }

    TEST_CASE("GetCRL answers a clear failInfo: the AD CS CA publishes its own CRL") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        ServerFixture server(adcs_config(bridge));
        Device device(7, "adcs-crl");
        auto enrolled = enrol_through_bridge(server, device, "TX-ADCS-CRL-ENROL");
        auto cert = check_issued(server, bridge, enrolled, *device.key);
        auto view = send_scep(server, MessageType::get_crl, "TX-ADCS-GETCRL",
                              scep::issuer_and_serial_der(*cert), {*cert, *device.key});
        CHECK(view.status == PkiStatus::failure);
        REQUIRE(view.fail_info);
        CHECK(*view.fail_info == FailInfo::bad_request);
        CHECK(contains(view.fail_info_text.value_or(""), "no CRL"));
    }

    TEST_CASE(
        "with [renewal] revocation = crl a renewal is checked against the CRL at the AD CS certificate's "
        "HTTP distribution point") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess::Options options;
        options.crl_distribution_point = true;  // the harness serves the issuing CA's CRL on loopback
        BridgeProcess bridge(options);
        const auto configure = adcs_config(bridge);
        ServerFixture server([&](std::string& conf) {
            configure(conf);
            set_key(conf, "revocation", "crl");
        });
        Device good(10, "adcs-crl-good"), revoked(11, "adcs-crl-revoked");
        auto good_view = enrol_through_bridge(server, good, "TX-ADCS-CRL-GOOD");
        auto good_cert = check_issued(server, bridge, good_view, *good.key);
        auto revoked_view = enrol_through_bridge(server, revoked, "TX-ADCS-CRL-REVOKED");
        auto revoked_cert = check_issued(server, bridge, revoked_view, *revoked.key);
        bridge.control({{"revoke", crypto::serial_hex(*revoked_cert)}});

        auto renewed =
            send_scep(server, MessageType::renewal_req, "TX-ADCS-CRL-RENEW-GOOD",
                      crypto::csr_der(*make_csr(*good.key, good.subject)), {*good_cert, *good.key});
        check_issued(server, bridge, renewed, *good.key);

        auto refused = send_scep(server, MessageType::renewal_req, "TX-ADCS-CRL-RENEW-REVOKED",
                                 crypto::csr_der(*make_csr(*revoked.key, revoked.subject)),
                                 {*revoked_cert, *revoked.key});
        CHECK(refused.status == PkiStatus::failure);
        CAPTURE(audit_details(server, "TX-ADCS-CRL-RENEW-REVOKED"));
        CHECK(contains(audit_details(server, "TX-ADCS-CRL-RENEW-REVOKED"), "revoked"));
        CHECK(bridge.new_submissions() == 3);
    }

    TEST_CASE(
        "a RenewalReq signed by an AD CS certificate renews through the bridge ([renewal] revocation = "
        "none)") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        ServerFixture server(adcs_config(bridge));
        Device device(8, "adcs-renewer");
        auto enrolled = enrol_through_bridge(server, device, "TX-ADCS-RENEW-FIRST");
        auto cert = check_issued(server, bridge, enrolled, *device.key);
        auto new_key = pooled_client_key(9);
        auto view = send_scep(server, MessageType::renewal_req, "TX-ADCS-RENEW",
                              crypto::csr_der(*make_csr(*new_key, device.subject)), {*cert, *device.key});
        auto renewed = check_issued(server, bridge, view, *new_key);
        CHECK(crypto::serial_hex(*renewed) != crypto::serial_hex(*cert));
        CHECK(bridge.new_submissions() == 2);
    }
}
