// SPDX-License-Identifier: Apache-2.0
// scep-ra with [ca] backend = ejbca, end to end: the real server in front of
// the fake EJBCA (tests/support/fake_ejbca) on loopback, mutual TLS and all.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <thread>

#include "cli/commands.hpp"
#include "crypto/encoding.hpp"
#include "integration/ejbca_test_support.hpp"
#include "integration/scep_exchange.hpp"
#include "integration/server_fixture.hpp"
#include "scep/degenerate.hpp"
#include "scep/message_data.hpp"
#include "support/fake_ejbca/fake_ejbca_process.hpp"
#include "support/loopback_port.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::MessageType;
using scep::PkiStatus;

namespace {

// --- configuration
// ----------------------------------------------------------------------------------------------

/// Edits an instance made by `init` into one whose CA is the fake EJBCA;
/// `more` is appended (e.g. [ejbca.template.NAME] sections).
std::function<void(std::string&)> use_ejbca(const FakeEjbca& fake, const Settings& changes = {},
                                            const std::string& more = "") {
    return [&fake, changes, more](std::string& conf) {
        set_key(conf, "backend", "ejbca");
        set_key(conf, "PasswordMax", "100");
        conf += ejbca_section(fake, changes) + more;
    };
}

/// A fake EJBCA and scep-ra in front of it.
struct EjbcaSetup {
    FakeEjbca ejbca;
    ServerFixture server;
    explicit EjbcaSetup(const Settings& changes = {}, const std::string& more = "",
                        FakeEjbca::Options options = {})
        : ejbca(options), server(use_ejbca(ejbca, changes, more)) {}
};

// --- SCEP messages
// ----------------------------------------------------------------------------------------------

crypto::X509Ptr load_pem(const std::string& file) { return crypto::load_cert_file(file); }

/// Whether cert chains to the fake EJBCA's root through its issuing CA.
bool chains_to_ejbca(const FakeEjbca& fake, X509& cert) {
    auto root = load_pem(fake.file("root-ca.pem"));
    auto issuing = load_pem(fake.file("issuing-ca.pem"));
    crypto::X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), root.get());
    crypto::X509StackPtr untrusted(sk_X509_new_null());
    sk_X509_push(untrusted.get(), issuing.release());  // the stack owns it now
    crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), &cert, untrusted.get());
    return X509_verify_cert(ctx.get()) == 1;
}

X509& check_issued_by_ejbca(const FakeEjbca& fake, const scep::CertRepView& view, EVP_PKEY& key) {
    REQUIRE(view.status == PkiStatus::success);
    REQUIRE(!view.certs.empty());
    X509& cert = *view.certs[0];
    CHECK(chains_to_ejbca(fake, cert));
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(&cert), &key) == 1);
    return cert;
}

/// FAILURE badRequest: its text.
std::string bad_request_text(const scep::CertRepView& view) {
    CHECK(view.status == PkiStatus::failure);
    REQUIRE(view.fail_info);
    CHECK(*view.fail_info == FailInfo::bad_request);
    return view.fail_info_text.value_or("");
}

int certificates_in(const FakeEjbca& fake) { return static_cast<int>(fake.state()["certificates"].size()); }

}  // namespace

TEST_CASE(
    "ejbca: a device enrols through scep-ra into EJBCA; GetCACert serves the RA certificates and EJBCA's "
    "chain") {
    EjbcaSetup setup;
    auto& server = setup.server;

    auto res = server.client().Get(server.base_path() + "?operation=GetCACert");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    const auto served = scep::degenerate_cert_ders(as_bytes(res->body));
    auto has = [&](X509& cert) {
        const Bytes der = crypto::cert_der(cert);
        return std::find(served.begin(), served.end(), der) != served.end();
    };
    CHECK(has(server.ra_signing_cert()));
    CHECK(has(server.ra_encryption_cert()));
    CHECK(has(*load_pem(setup.ejbca.file("issuing-ca.pem"))));
    CHECK(has(*load_pem(setup.ejbca.file("root-ca.pem"))));

    Device device(0, "router-7");
    auto view = pkcs_req(server, device, *device.csr(server.password()), "TX-EJBCA-1");
    X509& cert = check_issued_by_ejbca(setup.ejbca, view, *device.key);
    CHECK(crypto::name_string(*X509_get_subject_name(&cert)) == "O=Example,CN=router-7");
    const auto state = setup.ejbca.state();
    CHECK(state["enrolments"] == 1);
    CHECK(state["last_enroll"]["username"] == "router-7");
    CHECK(state["last_enroll"]["certificate_profile_name"] == "SCEP_DEVICE");
    CHECK(server.sql("SELECT backend FROM requests WHERE transaction_id = 'TX-EJBCA-1'") == "ejbca");
}

TEST_CASE("ejbca: templates use the [ejbca] profiles unless their own section names others") {
    EjbcaSetup setup;
    auto& server = setup.server;
    Device device(1, "gateway");
    // IPSECIntermediateOffline, the default of every [templates] name, has no section.
    auto view = pkcs_req(server, device, *device.csr(server.password()), "TX-TPL-1");
    check_issued_by_ejbca(setup.ejbca, view, *device.key);
    CHECK(setup.ejbca.state()["last_enroll"]["certificate_profile_name"] == "SCEP_DEVICE");
    CHECK(setup.ejbca.state()["last_enroll"]["end_entity_profile_name"] == "SCEP_EEP");
    server.restart([](std::string& conf) {
        conf +=
            "\n[ejbca.template.IPSECIntermediateOffline]\ncertificate_profile = SCEP_SERVER\n"
            "end_entity_profile = SERVER_EEP\n";
    });
    Device other(2, "gateway-2");
    view = pkcs_req(server, other, *other.csr(server.password()), "TX-TPL-2");
    check_issued_by_ejbca(setup.ejbca, view, *other.key);
    CHECK(setup.ejbca.state()["last_enroll"]["certificate_profile_name"] == "SCEP_SERVER");
    CHECK(setup.ejbca.state()["last_enroll"]["end_entity_profile_name"] == "SERVER_EEP");
}

TEST_CASE(
    "ejbca: each EJBCA refusal is FAILURE badRequest with a short text that keeps EJBCA's message out") {
    EjbcaSetup setup;
    auto& server = setup.server;
    const std::string secret = "ORA-00942 at db-internal-7.corp: table EJBCA.USERDATA";
    int n = 0;
    for (int status : {400, 403, 404, 409, 422}) {
        CAPTURE(status);
        setup.ejbca.control({{"enroll_error", {status, secret}}});
        Device device(3, "refused-" + std::to_string(status));
        const std::string txid = "TX-REFUSED-" + std::to_string(++n);
        const std::string text =
            bad_request_text(pkcs_req(server, device, *device.csr(server.password()), txid));
        CAPTURE(text);
        CHECK(!text.empty());
        CHECK(text.size() < 120);
        CHECK(text.find("ORA-") == std::string::npos);
        CHECK(text.find("USERDATA") == std::string::npos);
        CHECK(server.sql("SELECT status FROM requests WHERE transaction_id = '" + txid + "'") == "rejected");
        CHECK(server.sql("SELECT decision FROM audit_events WHERE transaction_id = '" + txid + "'") ==
              "rejected");
        // EJBCA's words are kept for the operator, beside the decision.
        CHECK(server.sql("SELECT ca_detail FROM audit_events WHERE transaction_id = '" + txid + "'")
                  .find("ORA-00942") != std::string::npos);
    }
    CHECK(certificates_in(setup.ejbca) == 0);
}

TEST_CASE("ejbca: scep-ra's manual approval holds a request from EJBCA until an officer decides") {
    EjbcaSetup setup({}, "\n[profile.IPSECIntermediateOffline]\nmanual_approval = 1\n");
    auto& server = setup.server;
    auto issuing = load_pem(setup.ejbca.file("issuing-ca.pem"));
    Device device(7, "held-for-approval");
    auto csr = device.csr(server.password());
    check_pending(pkcs_req(server, device, *csr, "TX-HELD"));
    check_pending(cert_poll(server, device, *issuing, "TX-HELD"));
    CHECK(setup.ejbca.state()["enrolments"] == 0);  // EJBCA has seen nothing
    auto held = server.instance().requests().list_awaiting_approval(10);
    REQUIRE(held.size() == 1);

    SUBCASE("approved: the next poll submits to EJBCA once and delivers its certificate") {
        REQUIRE(server.instance().requests().approve(held.front().id, "officer"));
        check_issued_by_ejbca(setup.ejbca, cert_poll(server, device, *issuing, "TX-HELD"), *device.key);
        check_issued_by_ejbca(setup.ejbca, pkcs_req(server, device, *csr, "TX-HELD"), *device.key);
        CHECK(setup.ejbca.state()["enrolments"] == 1);
    }
    SUBCASE("denied: FAILURE with the officer's reason, and EJBCA never sees it") {
        REQUIRE(server.instance().requests().deny(held.front().id, "not in the inventory"));
        CHECK(bad_request_text(cert_poll(server, device, *issuing, "TX-HELD")).find("not in the inventory") !=
              std::string::npos);
        CHECK(setup.ejbca.state()["enrolments"] == 0);
    }
}

TEST_CASE("ejbca: a profile that needs approval in EJBCA (CE answers 400) is FAILURE, nothing issued") {
    EjbcaSetup setup(Settings{{"certificate_profile", "APPROVAL_CP"}});
    auto& server = setup.server;
    Device device(4, "needs-approval");
    const std::string text =
        bad_request_text(pkcs_req(server, device, *device.csr(server.password()), "TX-APPROVAL"));
    CHECK(text.find("approvals are enabled") == std::string::npos);
    CHECK(certificates_in(setup.ejbca) == 0);
}

TEST_CASE(
    "ejbca: a 5xx from EJBCA is PENDING, not FAILURE; once EJBCA is back and has no record of it, the "
    "re-sent request is issued once") {
    // timeout_seconds = 2: EJBCA's settle time (how long it may still act on a call the RA gave up
    // on) is 6 s, after which "no record" means the lost attempts never reached it.
    EjbcaSetup setup(Settings{{"timeout_seconds", "2"}});
    auto& server = setup.server;
    Device device(5, "server-error");
    const std::string password = server.password();
    auto csr = device.csr(password);
    for (int status : {500, 503}) {
        CAPTURE(status);
        setup.ejbca.control({{"enroll_error", {status, "Internal Server Error"}}});
        check_pending(pkcs_req(server, device, *csr, "TX-5XX"));
        // Polling meanwhile is PENDING too, never a final FAILURE.
        check_pending(cert_poll(server, device, *load_pem(setup.ejbca.file("issuing-ca.pem")), "TX-5XX"));
    }
    // Meanwhile the held request is on the operator's list (the commands need no local CA).
    const std::string id = server.sql("SELECT id FROM requests WHERE transaction_id = 'TX-5XX'");
    const std::string conf = server.instance_dir() + "/scep-ra.conf";
    TempDir dir;
    std::string out;
    REQUIRE(scep_ra(dir, "request list --unknown-outcome --config " + conf, &out) == 0);
    CAPTURE(out);
    CHECK(out.find("\n" + id + "\t") != std::string::npos);
    CHECK(out.find("TX-5XX") != std::string::npos);
    // EJBCA is back: scep-ra first asks it (search by username, matched on
    // the key), finds nothing, so the lost attempts never reached it: the
    // re-sent request is submitted, and issued once.
    setup.ejbca.control({{"enroll_error", nullptr}});
    CHECK(setup.ejbca.state()["enrolments"] == 0);
    // Within the settle time a re-sent request is only asked about (core.enrolment_state tests it).
    std::this_thread::sleep_for(std::chrono::seconds(7));  // past the settle time, not a speed check
    auto view = pkcs_req(server, device, *csr, "TX-5XX");
    check_issued_by_ejbca(setup.ejbca, view, *device.key);
    CHECK(setup.ejbca.state()["enrolments"] == 1);
    CHECK(certificates_in(setup.ejbca) == 1);
    // Sent yet again: the stored answer, nothing new at EJBCA.
    check_issued_by_ejbca(setup.ejbca, pkcs_req(server, device, *csr, "TX-5XX"), *device.key);
    CHECK(setup.ejbca.state()["enrolments"] == 1);
    CHECK(server.sql("SELECT count(*) FROM requests WHERE transaction_id = 'TX-5XX' AND status = 'issued'") ==
          "1");
}

TEST_CASE(
    "ejbca: EJBCA issues and then times out: PENDING, and the re-sent request gets that one certificate") {
    EjbcaSetup setup(Settings{{"timeout_seconds", "2"}});
    auto& server = setup.server;
    setup.ejbca.control({{"enroll_mode", "issue_then_stall"}, {"stall_seconds", 5}});
    Device device(6, "slow-ca");
    auto csr = device.csr(server.password());
    check_pending(pkcs_req(server, device, *csr, "TX-SLOW"));
    CHECK(certificates_in(setup.ejbca) == 1);  // EJBCA did issue; scep-ra never heard
    setup.ejbca.control({{"enroll_mode", "normal"}});
    // The device sends the same request again (RFC 8894 §3.3.1): scep-ra asks
    // EJBCA first, finds the certificate for this key, and submits nothing.
    auto view = pkcs_req(server, device, *csr, "TX-SLOW");
    X509& cert = check_issued_by_ejbca(setup.ejbca, view, *device.key);
    CHECK(setup.ejbca.state()["enrolments"] == 1);
    REQUIRE(certificates_in(setup.ejbca) == 1);
    // EJBCA writes serials without leading zeros; scep-ra pads to whole octets: compare the numbers.
    auto number = [](std::string hex) {
        return hex.erase(0, std::min(hex.find_first_not_of('0'), hex.size() - 1));
    };
    const std::string serial = setup.ejbca.state()["certificates"].begin().key();
    CHECK(number(crypto::serial_hex(cert)) == number(serial));
    // Asked again, the stored answer: still one certificate.
    check_issued_by_ejbca(setup.ejbca, pkcs_req(server, device, *csr, "TX-SLOW"), *device.key);
    CHECK(certificates_in(setup.ejbca) == 1);
}

TEST_CASE(
    "ejbca: a server certificate from another CA is refused; nothing reaches EJBCA, the request is held "
    "until trust is fixed") {
    FakeEjbca fake;
    ServerFixture server(use_ejbca(fake, {{"chain", fake.file("chain.pem")}}));
    // Point server_ca at an unrelated CA, as a spoofed EJBCA would look.
    server.restart([&](std::string& conf) { set_key(conf, "server_ca", fake.file("other-ca.pem")); });
    Device device(7, "spoofed");
    auto csr = device.csr(server.password());
    // Not trusted is not reached: the request is held (PENDING, [ca] unavailable = pending) and the
    // reason is in the audit trail for the operator.
    check_pending(pkcs_req(server, device, *csr, "TX-SPOOF"));
    CHECK(fake.state()["enrolments"] == 0);
    const std::string detail =
        server.sql("SELECT detail FROM audit_events WHERE transaction_id = 'TX-SPOOF'");
    CAPTURE(detail);
    CHECK(detail.find("not trusted by server_ca") != std::string::npos);
    CHECK(detail.find("unavailable") != std::string::npos);
    // Trust fixed, the same request completes (its password was used once only).
    server.restart([&](std::string& conf) { set_key(conf, "server_ca", fake.file("tls-ca.pem")); });
    check_issued_by_ejbca(fake, pkcs_req(server, device, *csr, "TX-SPOOF"), *device.key);
}

TEST_CASE(
    "ejbca: a client certificate EJBCA does not accept gets nothing issued, both ways EJBCA is deployed") {
    SUBCASE("TLS accepts any client, the API answers 403: FAILURE") {
        FakeEjbca fake(FakeEjbca::Options{.client_cert_optional = true});
        ServerFixture server(use_ejbca(fake, {{"chain", fake.file("chain.pem")}}));
        server.restart([&](std::string& conf) {
            set_key(conf, "client_cert", fake.file("stranger.pem"));
            set_key(conf, "client_key", fake.file("stranger.key"));
        });
        Device device(8, "stranger");
        const std::string text =
            bad_request_text(pkcs_req(server, device, *device.csr(server.password()), "TX-403"));
        CHECK(text.find("Authorization") == std::string::npos);
        CHECK(fake.state()["enrolments"] == 0);
    }
    SUBCASE("TLS requires a client certificate from its own CA: the handshake fails, no certificate") {
        FakeEjbca fake;
        ServerFixture server(use_ejbca(fake, {{"chain", fake.file("chain.pem")}}));
        // A client certificate EJBCA's truststore does not know.
        TempDir dir;
        auto key = pooled_client_key(9);
        auto foreign = make_cert("CN=foreign RA", *key, nullptr, nullptr, {});
        crypto::save_cert_file(dir.file("foreign.pem"), *foreign, true);
        crypto::save_key_file(dir.file("foreign.key"), *key, true);
        server.restart([&](std::string& conf) {
            set_key(conf, "client_cert", dir.file("foreign.pem"));
            set_key(conf, "client_key", dir.file("foreign.key"));
        });
        Device device(10, "foreign");
        auto view = pkcs_req(server, device, *device.csr(server.password()), "TX-NO-TLS");
        CHECK(view.status != PkiStatus::success);
        CHECK(view.certs.empty());
        CHECK(fake.state()["enrolments"] == 0);
    }
}

TEST_CASE("ejbca: GetCRL answers EJBCA's CRL, and scep-ra revoke revokes in EJBCA") {
    EjbcaSetup setup;
    auto& server = setup.server;
    Device device(11, "to-revoke");
    auto view = pkcs_req(server, device, *device.csr(server.password()), "TX-CRL");
    X509& cert = check_issued_by_ejbca(setup.ejbca, view, *device.key);
    const std::string serial = crypto::serial_hex(cert);

    TempDir dir;
    const std::string conf = server.instance_dir() + "/scep-ra.conf";
    std::string out;
    CHECK(scep_ra(dir, "revoke --config " + conf + " " + serial + " --reason keyCompromise", &out) == 0);
    CAPTURE(out);
    CHECK(out.find("revoked " + serial) != std::string::npos);
    // Revoking it again: EJBCA's 409, refused with a clear message.
    CHECK(scep_ra(dir, "revoke --config " + conf + " " + serial + " --reason 1", &out) == 3);
    CHECK(out.find("already revoked") != std::string::npos);
    CHECK(scep_ra(dir, "revoke --config " + conf + " ABCDEF0123", &out) == 3);

    auto crl_view = send_scep(server, MessageType::get_crl, "TX-GETCRL", scep::issuer_and_serial_der(cert),
                              {*device.self_signed, *device.key});
    REQUIRE(crl_view.status == PkiStatus::success);
    REQUIRE(crl_view.crls.size() == 1);
    X509_CRL& crl = *crl_view.crls[0];
    auto issuing = load_pem(setup.ejbca.file("issuing-ca.pem"));
    CHECK(X509_CRL_verify(&crl, X509_get0_pubkey(issuing.get())) == 1);
    X509_REVOKED* entry = nullptr;
    CHECK(X509_CRL_get0_by_cert(&crl, &entry, &cert) == 1);
}

TEST_CASE("ejbca: a certificate EJBCA issued signs its renewal; once revoked in EJBCA it no longer does") {
    EjbcaSetup setup;
    auto& server = setup.server;
    Device device(12, "renewing");
    auto first = pkcs_req(server, device, *device.csr(server.password()), "TX-RENEW-0");
    X509& old_cert = check_issued_by_ejbca(setup.ejbca, first, *device.key);

    // RenewalReq signed by the EJBCA certificate, no challenge password.
    auto renewal = send_scep(server, MessageType::renewal_req, "TX-RENEW-1", crypto::csr_der(*device.csr("")),
                             {old_cert, *device.key});
    check_issued_by_ejbca(setup.ejbca, renewal, *device.key);
    CHECK(setup.ejbca.state()["enrolments"] == 2);

    // GetCert finds it in EJBCA.
    auto got = send_scep(server, MessageType::get_cert, "TX-GETCERT", scep::issuer_and_serial_der(old_cert),
                         {*device.self_signed, *device.key});
    REQUIRE(got.status == PkiStatus::success);
    REQUIRE(!got.certs.empty());
    CHECK(X509_cmp(got.certs[0].get(), &old_cert) == 0);

    TempDir dir;
    REQUIRE(scep_ra(dir, "revoke --config " + server.instance_dir() + "/scep-ra.conf " +
                             crypto::serial_hex(old_cert)) == 0);
    auto refused = send_scep(server, MessageType::renewal_req, "TX-RENEW-2", crypto::csr_der(*device.csr("")),
                             {old_cert, *device.key});
    CHECK(refused.status == PkiStatus::failure);
    CHECK(setup.ejbca.state()["enrolments"] == 2);
}

// --- scep-ra serve at start
// -------------------------------------------------------------------------------------

namespace {

/// `scep-ra serve` for a fresh instance whose [ejbca] section is `section`.
ServeResult serve_with(const std::string& section) {
    TempDir dir;
    const std::string conf = init_instance(dir);
    std::string text = crypto::read_file(conf);
    set_key(text, "backend", "ejbca");
    text += section;
    crypto::write_file(conf, text, 0640, true);
    return serve_instance(conf);
}

}  // namespace

TEST_CASE("ejbca: serve starts while EJBCA cannot be used and says why in one line") {
    FakeEjbca fake;
    const Settings chain = {{"chain", fake.file("chain.pem")}, {"timeout_seconds", "3"}};
    SUBCASE("working") {
        auto r = serve_with(ejbca_section(fake, chain));
        CAPTURE(r.log);
        CHECK(r.answers);
        CHECK(r.log.find("CA backend ejbca ready: EJBCA at") != std::string::npos);
    }
    SUBCASE("wrong URL: nothing listens there") {
        Settings wrong = chain;
        wrong["url"] =
            "https://localhost:" + std::to_string(closed_loopback_port()) + "/ejbca/ejbca-rest-api";
        auto r = serve_with(ejbca_section(fake, wrong));
        CAPTURE(r.log);
        CHECK(r.answers);
        CHECK(r.log.find("CA backend ejbca NOT READY: ") != std::string::npos);
    }
    SUBCASE("wrong URL: a path with no REST API") {
        Settings wrong = chain;
        wrong["url"] = "https://localhost:" + std::to_string(fake.port()) + "/ejbca/wrong-path";
        auto r = serve_with(ejbca_section(fake, wrong));
        CAPTURE(r.log);
        CHECK(r.answers);
        CHECK(r.log.find("NOT READY: no EJBCA REST API at") != std::string::npos);
    }
    SUBCASE("client certificate not an administrator") {
        Settings stranger = chain;
        stranger["client_cert"] = fake.file("stranger.pem");
        stranger["client_key"] = fake.file("stranger.key");
        auto r = serve_with(ejbca_section(fake, stranger));
        CAPTURE(r.log);
        CHECK(r.answers);
        CHECK(r.log.find("NOT READY: EJBCA at") != std::string::npos);
        CHECK(r.log.find("does not accept the RA's client certificate") != std::string::npos);
    }
    SUBCASE("REST protocol disabled") {
        fake.control({{"rest_disabled", true}});
        auto r = serve_with(ejbca_section(fake, chain));
        CAPTURE(r.log);
        CHECK(r.answers);
        CHECK(r.log.find("has the REST protocol disabled") != std::string::npos);
    }
}

TEST_CASE("ejbca: the sample configuration passes check-config") {
    TempDir dir;
    std::string out;
    CHECK(scep_ra(dir, "check-config --skip-files --config " SCEPRA_SOURCE_DIR "/config/scep-ra.conf.ejbca",
                  &out) == 0);
    CAPTURE(out);
}
