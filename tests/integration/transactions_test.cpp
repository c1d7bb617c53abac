// SPDX-License-Identifier: Apache-2.0
// The SCEP transaction set through the real HTTP server: renewal, idempotent re-sends, pending requests
// with CertPoll, GetCert and GetCRL (issue 4).
#include <doctest/doctest.h>
#include <openssl/x509v3.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "crypto/encoding.hpp"
#include "integration/scep_exchange.hpp"
#include "integration/server_fixture.hpp"
#include "scep/message_data.hpp"
#include "store/database.hpp"
#include "store/request_store.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::MessageType;
using scep::PkiStatus;
using namespace std::chrono_literals;

namespace {

// --- configuration
// ------------------------------------------------------------------------------------------------

auto with(const std::string& key, const std::string& value) {
    return [=](std::string& conf) {
        set_key(conf, "PasswordMax", "100");
        set_key(conf, key, value);
    };
}

// --- sending each message type
// ------------------------------------------------------------------------------------

/// Encrypts message_data to the RA, signs it as `as`, POSTs it and reads the CertRep.
scep::CertRepView send_checked(ServerFixture& server, MessageType type, const std::string& txid,
                               const Bytes& message_data, Identity as, const Bytes& nonce = {}) {
    Bytes req =
        scep::build_pki_request({type, txid, nonce}, message_data, server.ra_encryption_cert(),
                                {"AES-128-CBC", false}, {as.cert, as.key, "SHA256"}, server.clock().now());
    Reply reply = send_pki(server, req);
    REQUIRE(reply.http_status == 200);
    REQUIRE(reply.content_type == "application/x-pki-message");
    auto view = scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), {as.cert, as.key});
    CHECK(view.signature_valid);
    CHECK(view.signed_by_expected);
    CHECK(view.transaction_id == txid);
    return view;
}

scep::CertRepView pkcs_req_as(ServerFixture& server, Identity as, const X509_REQ& csr,
                              const std::string& txid) {
    return send_checked(server, MessageType::pkcs_req, txid, crypto::csr_der(csr), as);
}

scep::CertRepView renewal_req(ServerFixture& server, Identity as, const X509_REQ& csr,
                              const std::string& txid) {
    return send_checked(server, MessageType::renewal_req, txid, crypto::csr_der(csr), as);
}

/// CertPoll (GetCertInitial): IssuerAndSubject of our CA and the requested subject.
scep::CertRepView cert_poll_as(ServerFixture& server, Identity as, const std::string& subject,
                               const std::string& txid) {
    auto csr = make_csr(as.key, subject);
    Bytes data = scep::issuer_and_subject_der(*X509_get_subject_name(&server.ca_cert()),
                                              *X509_REQ_get_subject_name(csr.get()));
    return send_checked(server, MessageType::cert_poll, txid, data, as);
}

scep::CertRepView get_cert(ServerFixture& server, Identity as, const X509& wanted) {
    return send_checked(server, MessageType::get_cert, "TX-GETCERT", scep::issuer_and_serial_der(wanted), as);
}

scep::CertRepView get_crl(ServerFixture& server, Identity as, const X509& issued) {
    return send_checked(server, MessageType::get_crl, "TX-GETCRL", scep::issuer_and_serial_der(issued), as);
}

/// A PKCSReq with a fresh one-time password, signed by the device's self-signed certificate.
scep::CertRepView enrol(ServerFixture& server, Device& device, const std::string& txid) {
    return pkcs_req_as(server, self_signed(device), *device.csr(server.password()), txid);
}

/// Enrols the device and returns the issued certificate.
crypto::X509Ptr enrolled(ServerFixture& server, Device& device, const std::string& txid) {
    auto view = enrol(server, device, txid);
    REQUIRE(view.status == PkiStatus::success);
    REQUIRE(!view.certs.empty());
    return std::move(view.certs[0]);
}

// --- checks
// ---------------------------------------------------------------------------------------------------------

/// Verifies cert against our CA at the server's (possibly advanced) time.
bool chains_to(ServerFixture& server, X509& cert) {
    crypto::X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), &server.ca_cert());
    crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), &cert, nullptr);
    X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(server.clock().now()));
    return X509_verify_cert(ctx.get()) == 1;
}

/// SUCCESS with a certificate for key, issued by our CA; returns it.
X509& check_issued(ServerFixture& server, const scep::CertRepView& view, EVP_PKEY& key) {
    REQUIRE(view.status == PkiStatus::success);
    REQUIRE(!view.certs.empty());
    X509& fresh = *view.certs[0];
    CHECK(chains_to(server, fresh));
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(&fresh), &key) == 1);
    return fresh;
}

/// A new certificate for key, issued by our CA, that is not `old`.
void check_renewed(ServerFixture& server, const scep::CertRepView& view, const X509& old, EVP_PKEY& key) {
    X509& fresh = check_issued(server, view, key);
    CHECK(crypto::serial_hex(fresh) != crypto::serial_hex(old));
}

bool lists_renewal(const std::string& caps) {
    return ("\r\n" + caps).find("\r\nRenewal\r\n") != std::string::npos;
}

/// Rows of table; for issued_certs, the certificates issued over SCEP (init's RA and admin TLS certificates
/// are there too, without a transaction).
std::string count(ServerFixture& server, const std::string& table) {
    return server.sql("SELECT count(*) FROM " + table +
                      (table == "issued_certs" ? " WHERE transaction_id IS NOT NULL" : ""));
}

Bytes crl_der(X509_CRL& crl) {
    unsigned char* out = nullptr;
    int len = i2d_X509_CRL(&crl, &out);
    REQUIRE(len > 0);
    Bytes der(out, out + len);
    OPENSSL_free(out);
    return der;
}

bool crl_lists(X509_CRL& crl, const X509& cert) {
    X509_REVOKED* entry = nullptr;
    return X509_CRL_get0_by_serial(&crl, &entry, const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(&cert))) ==
           1;
}

}  // namespace

TEST_SUITE("http.transactions") {
    // --- renewal
    // ------------------------------------------------------------------------------------------------------

    TEST_CASE("a RenewalReq signed by the issued certificate renews without a challenge") {
        ServerFixture server(with("PasswordMax", "100"));
        Device device(0, "renewer");
        auto cert = enrolled(server, device, "TX-FIRST");
        Identity by_cert{*cert, *device.key};

        SUBCASE("ok/new-key") {
            auto new_key = pooled_client_key(1);
            auto view = renewal_req(server, by_cert, *make_csr(*new_key, device.subject), "TX-RENEW-NEW");
            check_renewed(server, view, *cert, *new_key);
            CHECK(server.sql("SELECT message_type FROM audit_events WHERE transaction_id = 'TX-RENEW-NEW'") ==
                  "RenewalReq");
            CHECK(server.sql("SELECT detail FROM audit_events WHERE transaction_id = 'TX-RENEW-NEW'")
                      .find("renewal") != std::string::npos);
            CHECK(
                server.sql(
                    "SELECT challenge_id IS NULL FROM audit_events WHERE transaction_id = 'TX-RENEW-NEW'") ==
                "1");
        }
        SUBCASE("ok/same-key") {
            auto view = renewal_req(server, by_cert, *make_csr(*device.key, device.subject), "TX-RENEW-SAME");
            check_renewed(server, view, *cert, *device.key);
        }
        SUBCASE("ok/pkcsreq-signed-by-the-certificate") {
            auto view = pkcs_req_as(server, by_cert, *make_csr(*device.key, device.subject), "TX-PKCS-RENEW");
            check_renewed(server, view, *cert, *device.key);
            CHECK(server.sql("SELECT detail FROM audit_events WHERE transaction_id = 'TX-PKCS-RENEW'")
                      .find("renewal") != std::string::npos);
        }
        SUBCASE("ok/resent-renewal-gets-the-same-certificate") {
            auto new_key = pooled_client_key(1);
            auto csr = make_csr(*new_key, device.subject);
            auto first = renewal_req(server, by_cert, *csr, "TX-RENEW-TWICE");
            auto second = renewal_req(server, by_cert, *csr, "TX-RENEW-TWICE");
            REQUIRE(first.status == PkiStatus::success);
            REQUIRE(second.status == PkiStatus::success);
            CHECK(X509_cmp(first.certs[0].get(), second.certs[0].get()) == 0);
            CHECK(count(server, "issued_certs") == "2");
        }
        SUBCASE("ok/caps-list-renewal") { CHECK(lists_renewal(ca_caps(server))); }
        SUBCASE("fail/pkcsreq-without-challenge-signed-self") {
            // The same CSR without the certificate's authority is an ordinary PKCSReq: it needs a challenge.
            auto view =
                pkcs_req_as(server, self_signed(device), *make_csr(*device.key, device.subject), "TX-NO-PW");
            check_failure(view, FailInfo::bad_request, "required");
        }
    }

    TEST_CASE("a renewal signed by a certificate that is not a valid one of ours is refused") {
        ServerFixture server(with("PasswordMax", "100"));
        Device device(0, "renewer");
        auto cert = enrolled(server, device, "TX-FIRST");
        auto csr = make_csr(*device.key, device.subject);

        SUBCASE("fail/self-signed") {
            check_failure(renewal_req(server, self_signed(device), *csr, "TX-R-SELF"), FailInfo::bad_cert_id,
                          "issued by this CA");
        }
        SUBCASE("fail/another-ca") {
            auto other_key = pooled_client_key(2);
            auto other_ca = make_cert("CN=Other CA,O=Elsewhere", *other_key, nullptr, nullptr,
                                      {{NID_basic_constraints, "critical,CA:TRUE"},
                                       {NID_key_usage, "critical,keyCertSign,cRLSign"}});
            auto foreign =
                make_cert(device.subject, *device.key, other_ca.get(), other_key.get(), {}, 365, 77);
            check_failure(renewal_req(server, {*foreign, *device.key}, *csr, "TX-R-OTHER"),
                          FailInfo::bad_cert_id, "issued by this CA");
        }
        SUBCASE("fail/our-ca-name-but-another-key") {
            // Our CA's name as issuer, signed by another key: only the signature tells them apart.
            auto impostor_key = pooled_client_key(3);
            auto forged =
                make_cert(device.subject, *device.key, &server.ca_cert(), impostor_key.get(), {}, 365, 78);
            check_failure(renewal_req(server, {*forged, *device.key}, *csr, "TX-R-FORGED"),
                          FailInfo::bad_cert_id, "issued by this CA");
        }
        SUBCASE("fail/revoked") {
            server.instance().local_ca().revoke(crypto::serial_hex(*cert), 1, server.clock().now() - 1s);
            check_failure(renewal_req(server, {*cert, *device.key}, *csr, "TX-R-REVOKED"),
                          FailInfo::bad_request, "revoked");
            // A PKCSReq signed by it is refused the same way, not waved through as a renewal.
            check_failure(pkcs_req_as(server, {*cert, *device.key}, *csr, "TX-P-REVOKED"),
                          FailInfo::bad_request, "revoked");
        }
        SUBCASE("fail/subject-changed") {
            auto other = make_csr(*device.key, "CN=someone-else,O=Example");
            check_failure(renewal_req(server, {*cert, *device.key}, *other, "TX-R-SUBJECT"),
                          FailInfo::bad_request, "subject");
        }
        CHECK(count(server, "issued_certs") == "1");
    }

    TEST_CASE("an expired certificate renews only within grace_days") {
        ServerFixture server([](std::string& conf) { set_key(conf, "validity_days", "1"); });
        Device device(0, "expiring");
        auto cert = enrolled(server, device, "TX-FIRST");
        auto csr = make_csr(*device.key, device.subject);
        server.clock().advance(48h);  // a day past notAfter

        SUBCASE("fail/no-grace") {
            check_failure(renewal_req(server, {*cert, *device.key}, *csr, "TX-R-EXPIRED"),
                          FailInfo::bad_request, "expired");
        }
        SUBCASE("ok/grace-covers-it") {
            server.restart([](std::string& conf) { set_key(conf, "grace_days", "2"); });
            check_renewed(server, renewal_req(server, {*cert, *device.key}, *csr, "TX-R-GRACE"), *cert,
                          *device.key);
        }
        SUBCASE("fail/grace-too-short") {
            server.restart([](std::string& conf) { set_key(conf, "grace_days", "2"); });
            server.clock().advance(48h);  // three days past notAfter
            check_failure(renewal_req(server, {*cert, *device.key}, *csr, "TX-R-LATE"), FailInfo::bad_request,
                          "expired");
        }
    }

    TEST_CASE("renewal policy: same subject, new key, renewal window") {
        SUBCASE("ok/subject-change-allowed-with-same_subject-0") {
            ServerFixture server(with("same_subject", "0"));
            Device device(0, "rename-me");
            auto cert = enrolled(server, device, "TX-FIRST");
            auto view = renewal_req(server, {*cert, *device.key},
                                    *make_csr(*device.key, "CN=renamed,O=Example"), "TX-R-RENAMED");
            check_renewed(server, view, *cert, *device.key);
            CHECK(crypto::name_string(*X509_get_subject_name(view.certs[0].get())) == "O=Example,CN=renamed");
        }
        SUBCASE("require_new_key-1") {
            ServerFixture server(with("require_new_key", "1"));
            Device device(0, "rekey");
            auto cert = enrolled(server, device, "TX-FIRST");
            SUBCASE("fail/same-key") {
                check_failure(renewal_req(server, {*cert, *device.key},
                                          *make_csr(*device.key, device.subject), "TX-R-SAMEKEY"),
                              FailInfo::bad_request, "new key");
            }
            SUBCASE("ok/new-key") {
                auto new_key = pooled_client_key(4);
                check_renewed(
                    server,
                    renewal_req(server, {*cert, *device.key}, *make_csr(*new_key, device.subject), "TX-R-NK"),
                    *cert, *new_key);
            }
        }
        SUBCASE("window_days-5-of-30") {
            ServerFixture server([](std::string& conf) {
                set_key(conf, "validity_days", "30");
                set_key(conf, "window_days", "5");
            });
            Device device(0, "windowed");
            auto cert = enrolled(server, device, "TX-FIRST");
            auto csr = make_csr(*device.key, device.subject);
            SUBCASE("fail/too-early") {
                server.clock().advance(24h * 24);  // six days left
                check_failure(renewal_req(server, {*cert, *device.key}, *csr, "TX-R-EARLY"),
                              FailInfo::bad_request, "too early");
            }
            SUBCASE("ok/inside-the-window") {
                server.clock().advance(24h * 26);  // four days left
                check_renewed(server, renewal_req(server, {*cert, *device.key}, *csr, "TX-R-WINDOW"), *cert,
                              *device.key);
            }
        }
        SUBCASE("window_percent-20-of-30-days") {
            ServerFixture server([](std::string& conf) {
                set_key(conf, "validity_days", "30");
                set_key(conf, "window_percent", "20");
            });
            Device device(0, "windowed");
            auto cert = enrolled(server, device, "TX-FIRST");
            auto csr = make_csr(*device.key, device.subject);
            SUBCASE("fail/too-early") {
                server.clock().advance(24h * 23);  // seven days (23%) left
                check_failure(renewal_req(server, {*cert, *device.key}, *csr, "TX-R-EARLY"),
                              FailInfo::bad_request, "too early");
            }
            SUBCASE("ok/inside-the-window") {
                server.clock().advance(24h * 25);  // five days (17%) left
                check_renewed(server, renewal_req(server, {*cert, *device.key}, *csr, "TX-R-WINDOW"), *cert,
                              *device.key);
            }
        }
    }

    TEST_CASE("with [renewal] enabled = 0 Renewal is not advertised and renewals are refused") {
        ServerFixture server(with("enabled", "0"));
        CHECK(ca_caps(server).find("Renewal") == std::string::npos);
        CHECK(ca_caps(server).find("SCEPStandard") != std::string::npos);
        Device device(0, "no-renewal");
        auto cert = enrolled(server, device, "TX-FIRST");
        auto csr = make_csr(*device.key, device.subject);
        SUBCASE("fail/renewalreq") {
            check_failure(renewal_req(server, {*cert, *device.key}, *csr, "TX-R"), FailInfo::bad_request,
                          "disabled");
        }
        SUBCASE("fail/pkcsreq-signed-by-the-certificate") {
            // An ordinary PKCSReq then: without a password it is refused (renewal_policy_test: with one it is
            // issued).
            check_failure(pkcs_req_as(server, {*cert, *device.key}, *csr, "TX-P"), FailInfo::bad_request,
                          "required");
        }
        CHECK(count(server, "issued_certs") == "1");
    }

    // --- idempotence
    // --------------------------------------------------------------------------------------------------

    TEST_CASE("a re-sent PKCSReq gets the stored certificate, never a second one") {
        ServerFixture server(with("PasswordMax", "100"));
        Device device(0, "resender");
        auto csr = device.csr(server.password());
        Bytes req = scep::build_pki_request({MessageType::pkcs_req, "TX-TWICE", Bytes(16, 1)},
                                            crypto::csr_der(*csr), server.ra_encryption_cert(),
                                            {"AES-128-CBC", false}, device.signer(), server.clock().now());
        auto read = [&](const Reply& reply) {
            REQUIRE(reply.http_status == 200);
            return scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), device.recipient());
        };
        auto first = read(send_pki(server, req));
        REQUIRE(first.status == PkiStatus::success);
        const std::string serial = crypto::serial_hex(*first.certs[0]);

        SUBCASE("ok/identical-bytes") {
            // The password is used by now: only the stored outcome can answer this.
            auto second = read(send_pki(server, req));
            REQUIRE(second.status == PkiStatus::success);
            CHECK(crypto::serial_hex(*second.certs[0]) == serial);
            CHECK(X509_cmp(second.certs[0].get(), first.certs[0].get()) == 0);
            CHECK(server.sql(
                      "SELECT detail FROM audit_events WHERE transaction_id = 'TX-TWICE' ORDER BY id DESC") ==
                  "repeated request: stored outcome returned");
        }
        SUBCASE("ok/rebuilt-with-a-new-nonce") {
            auto second = send_checked(server, MessageType::pkcs_req, "TX-TWICE", crypto::csr_der(*csr),
                                       self_signed(device), Bytes(16, 2));
            REQUIRE(second.status == PkiStatus::success);
            CHECK(crypto::serial_hex(*second.certs[0]) == serial);
            CHECK(second.recipient_nonce == Bytes(16, 2));
        }
        SUBCASE("fail/same-transaction-another-key") {
            Device other(1, "resender");
            const std::string pw = server.password();
            check_failure(pkcs_req_as(server, self_signed(other), *other.csr(pw), "TX-TWICE"),
                          FailInfo::bad_request, "another key");
            // The refusal did not use the password.
            CHECK(pkcs_req_as(server, self_signed(other), *other.csr(pw), "TX-OTHER").status ==
                  PkiStatus::success);
            CHECK(count(server, "issued_certs") == "2");
            return;
        }
        CHECK(count(server, "issued_certs") == "1");
        CHECK(server.sql("SELECT count(*) FROM challenges WHERE used_at IS NOT NULL") == "1");
    }

    TEST_CASE("a request the RA claimed but never finished is submitted again when the device re-sends it") {
        // The state an RA leaves when it stops after claiming a transaction and
        // before storing the CA's answer: pending, no CA reference.
        ServerFixture server(with("PasswordMax", "100"));
        Device device(4, "interrupted");
        auto csr = device.csr(server.password());
        auto first = pkcs_req_as(server, self_signed(device), *csr, "TX-INTERRUPTED");
        REQUIRE(first.status == PkiStatus::success);
        server.sql(
            "UPDATE requests SET status = 'pending', backend_ref = NULL, cert_der = NULL, chain_der = NULL "
            "WHERE transaction_id = 'TX-INTERRUPTED'");

        SUBCASE("ok/in-flight-claims-are-left-alone") {
            // Just claimed: another thread may be waiting for the CA right now.
            check_pending(pkcs_req_as(server, self_signed(device), *csr, "TX-INTERRUPTED"));
            CHECK(count(server, "issued_certs") == "1");
        }
        SUBCASE("ok/completed-with-the-certificate-the-ca-issued-before") {
            server.clock().advance(std::chrono::minutes(11));
            // CertPoll cannot resubmit (it carries no request): the device is told to send it again.
            check_failure(cert_poll_as(server, self_signed(device), device.subject, "TX-INTERRUPTED"),
                          FailInfo::bad_request, "send the request again");
            // The CA had issued before the RA stopped: that certificate, not a second one.
            auto again = pkcs_req_as(server, self_signed(device), *csr, "TX-INTERRUPTED");
            REQUIRE(again.status == PkiStatus::success);
            CHECK(X509_cmp(again.certs[0].get(), first.certs[0].get()) == 0);
            CHECK(count(server, "issued_certs") == "1");
            CHECK(server.sql("SELECT status FROM requests WHERE transaction_id = 'TX-INTERRUPTED'") ==
                  "issued");
            CHECK(server.sql("SELECT detail FROM audit_events WHERE transaction_id = 'TX-INTERRUPTED' ORDER "
                             "BY id DESC") ==
                  "completed an interrupted request with the CA's earlier answer");
        }
        SUBCASE("ok/resumed-after-ten-minutes") {
            // The RA stopped before the CA issued anything.
            server.sql("DELETE FROM issued_certs WHERE transaction_id = 'TX-INTERRUPTED'");
            server.clock().advance(std::chrono::minutes(11));
            // The one-time password was used by the first attempt; the claim is authenticated already.
            auto again = pkcs_req_as(server, self_signed(device), *csr, "TX-INTERRUPTED");
            check_renewed(server, again, *first.certs[0], *device.key);  // a new certificate, same key
            CHECK(server.sql("SELECT status FROM requests WHERE transaction_id = 'TX-INTERRUPTED'") ==
                  "issued");
            CHECK(server.sql("SELECT detail FROM audit_events WHERE transaction_id = 'TX-INTERRUPTED' ORDER "
                             "BY id DESC") ==
                  "resumed a request that was interrupted before the CA answered it");
            CHECK(server.sql("SELECT challenge_id IS NOT NULL FROM audit_events WHERE transaction_id = "
                             "'TX-INTERRUPTED' "
                             "ORDER BY id DESC") == "1");
            // Once finished, it is a stored outcome like any other.
            auto third = pkcs_req_as(server, self_signed(device), *csr, "TX-INTERRUPTED");
            REQUIRE(third.status == PkiStatus::success);
            CHECK(X509_cmp(third.certs[0].get(), again.certs[0].get()) == 0);
            CHECK(count(server, "issued_certs") == "1");
        }
        SUBCASE("fail/another-key-cannot-take-it-over") {
            server.clock().advance(std::chrono::minutes(11));
            Device other(5, "interrupted");
            check_failure(
                pkcs_req_as(server, self_signed(other), *other.csr(server.password()), "TX-INTERRUPTED"),
                FailInfo::bad_request, "another key");
            CHECK(server.sql("SELECT status FROM requests WHERE transaction_id = 'TX-INTERRUPTED'") ==
                  "pending");
        }
    }

    TEST_CASE(
        "a request the CA could not take is PENDING and submitted again from its stored CSR at the next "
        "poll") {
        ServerFixture server(with("PasswordMax", "100"));
        Device device(6, "outage");
        auto csr = device.csr(server.password());
        // The CA's store refuses to record certificates: the local CA is unavailable.
        server.sql(
            "CREATE TRIGGER ca_down BEFORE INSERT ON issued_certs BEGIN SELECT RAISE(ABORT, 'disk full'); "
            "END");
        CHECK(pkcs_req_as(server, self_signed(device), *csr, "TX-OUTAGE").status == PkiStatus::pending);
        CHECK(server.sql(
                  "SELECT status || ',' || (backend_ref IS NULL) || ',' || (fail_text LIKE 'CA unavailable: "
                  "%disk full') "
                  "|| ',' || (length(csr_sealed) > 0) FROM requests WHERE transaction_id = 'TX-OUTAGE'") ==
              "pending,1,1,1");
        CHECK(server.sql("SELECT decision FROM audit_events WHERE transaction_id = 'TX-OUTAGE'") ==
              "pending");
        // Still down: the poll tries again and stays PENDING.
        CHECK(cert_poll_as(server, self_signed(device), device.subject, "TX-OUTAGE").status ==
              PkiStatus::pending);
        CHECK(count(server, "issued_certs") == "0");

        server.sql("DROP TRIGGER ca_down");
        SUBCASE("ok/the-next-poll-submits-the-stored-csr") {
            check_issued(server, cert_poll_as(server, self_signed(device), device.subject, "TX-OUTAGE"),
                         *device.key);
        }
        SUBCASE("ok/the-re-sent-request-submits-it") {
            check_issued(server, pkcs_req_as(server, self_signed(device), *csr, "TX-OUTAGE"), *device.key);
        }
        CHECK(count(server, "issued_certs") == "1");
        CHECK(server.sql(
                  "SELECT status || ',' || (fail_text IS NULL) || ',' || (csr_sealed IS NULL) FROM requests "
                  "WHERE transaction_id = 'TX-OUTAGE'") == "issued,1,1");
        CHECK(server.sql(
                  "SELECT detail FROM audit_events WHERE transaction_id = 'TX-OUTAGE' ORDER BY id DESC") ==
              "resumed a request the CA could not take before");
        // The password was used once: a new transaction cannot spend it again.
        check_failure(pkcs_req_as(server, self_signed(device), *csr, "TX-OUTAGE-NEW"), FailInfo::bad_request,
                      "already used");
    }

    TEST_CASE(
        "[ca] unavailable = fail: a request the CA could not take is FAILURE, and the device's re-send "
        "resumes it") {
        ServerFixture server(with("unavailable", "fail"));
        Device device(6, "outage");
        auto csr = device.csr(server.password());
        // The CA's store refuses to record certificates: the local CA is unavailable.
        server.sql(
            "CREATE TRIGGER ca_down BEFORE INSERT ON issued_certs BEGIN SELECT RAISE(ABORT, 'disk full'); "
            "END");
        check_failure(pkcs_req_as(server, self_signed(device), *csr, "TX-OUTAGE"), FailInfo::bad_request,
                      "the CA is unavailable");
        CHECK(server.sql("SELECT status || ',' || (backend_ref IS NULL) || ',' || (fail_text LIKE 'CA "
                         "unavailable: %disk full') "
                         "FROM requests WHERE transaction_id = 'TX-OUTAGE'") == "pending,1,1");
        CHECK(server.sql("SELECT decision FROM audit_events WHERE transaction_id = 'TX-OUTAGE'") == "error");
        // Still down: the re-sent request fails the same way and the claim stays.
        check_failure(pkcs_req_as(server, self_signed(device), *csr, "TX-OUTAGE"), FailInfo::bad_request,
                      "the CA is unavailable");
        CHECK(server.sql("SELECT count(*) FROM requests WHERE transaction_id = 'TX-OUTAGE' AND fail_text IS "
                         "NOT NULL") == "1");

        server.sql("DROP TRIGGER ca_down");
        auto again = pkcs_req_as(server, self_signed(device), *csr, "TX-OUTAGE");
        check_issued(server, again, *device.key);
        CHECK(count(server, "issued_certs") == "1");
        CHECK(server.sql("SELECT status || ',' || (fail_text IS NULL) FROM requests WHERE transaction_id = "
                         "'TX-OUTAGE'") == "issued,1");
        CHECK(server.sql(
                  "SELECT detail FROM audit_events WHERE transaction_id = 'TX-OUTAGE' ORDER BY id DESC") ==
              "resumed a request the CA could not take before");
        // The password stays used: a new transaction cannot spend it again.
        check_failure(pkcs_req_as(server, self_signed(device), *csr, "TX-OUTAGE-NEW"), FailInfo::bad_request,
                      "already used");
    }

    TEST_CASE(
        "a new transaction for a subject that holds a valid certificate follows [policy] existing_subject") {
        SUBCASE("ok/allow-by-default") {
            ServerFixture server(with("PasswordMax", "100"));
            Device device(0, "again");
            auto first = enrolled(server, device, "TX-1");
            auto second = enrolled(server, device, "TX-2");
            CHECK(crypto::serial_hex(*first) != crypto::serial_hex(*second));
            CHECK(count(server, "issued_certs") == "2");
        }
        SUBCASE("require-renewal") {
            ServerFixture server(with("existing_subject", "require-renewal"));
            Device device(0, "again");
            auto first_csr = device.csr(server.password());
            auto first_view = pkcs_req_as(server, self_signed(device), *first_csr, "TX-1");
            REQUIRE(first_view.status == PkiStatus::success);
            auto first = std::move(first_view.certs.at(0));
            SUBCASE("fail/new-pkcsreq") {
                check_failure(enrol(server, device, "TX-2"), FailInfo::bad_request,
                              "already holds a valid certificate");
                CHECK(count(server, "issued_certs") == "1");
                // The refusal comes before the challenge: only the first enrolment used a password.
                CHECK(server.sql("SELECT count(*) FROM challenges WHERE used_at IS NOT NULL") == "1");
            }
            SUBCASE("ok/renewal") {
                check_renewed(server,
                              renewal_req(server, {*first, *device.key},
                                          *make_csr(*device.key, device.subject), "TX-R"),
                              *first, *device.key);
            }
            SUBCASE("ok/same-transaction-resent") {
                auto again = pkcs_req_as(server, self_signed(device), *first_csr, "TX-1");
                REQUIRE(again.status == PkiStatus::success);
                CHECK(crypto::serial_hex(*again.certs[0]) == crypto::serial_hex(*first));
            }
            SUBCASE("fail/new-request-same-transaction") {
                // Another request under the same transactionID (a key-derived
                // one) is a new transaction, and the policy applies to it.
                check_failure(enrol(server, device, "TX-1"), FailInfo::bad_request,
                              "already holds a valid certificate");
                CHECK(count(server, "issued_certs") == "1");
            }
            SUBCASE("ok/after-revocation") {
                server.instance().local_ca().revoke(crypto::serial_hex(*first), 1, server.clock().now() - 1s);
                CHECK(enrol(server, device, "TX-3").status == PkiStatus::success);
            }
            SUBCASE("ok/other-subject") {
                Device other(0, "someone-else");
                CHECK(enrol(server, other, "TX-4").status == PkiStatus::success);
            }
        }
    }

    // --- pending and polling
    // ------------------------------------------------------------------------------------------

    TEST_CASE(
        "a manual-approval request is pending until an officer decides, and polling delivers the decision") {
        ServerFixture server(manual_approval);
        Device device(0, "waiting");
        auto csr = device.csr(server.password());
        check_pending(pkcs_req_as(server, self_signed(device), *csr, "TX-WAIT"));
        check_pending(cert_poll_as(server, self_signed(device), device.subject, "TX-WAIT"));
        check_pending(
            pkcs_req_as(server, self_signed(device), *csr, "TX-WAIT"));  // micromdm scepclient re-sends
        CHECK(server.sql(
                  "SELECT decision FROM audit_events WHERE transaction_id = 'TX-WAIT' ORDER BY id DESC") ==
              "pending");
        const auto id = only_pending_request(server);
        CHECK(count(server, "issued_certs") == "0");
        // Held by the RA with its CSR sealed: no CA has seen it.
        CHECK(count(server, "local_ca_requests") == "0");
        CHECK(server.sql(
                  "SELECT detail FROM audit_events WHERE transaction_id = 'TX-WAIT' ORDER BY id LIMIT 1") ==
              "awaiting approval (template Manual)");
        CHECK(server.sql("SELECT length(csr_sealed) > 0 FROM requests WHERE transaction_id = 'TX-WAIT'") ==
              "1");

        SUBCASE("ok/approved") {
            REQUIRE(server.instance().requests().approve(id, "officer"));
            auto polled = cert_poll_as(server, self_signed(device), device.subject, "TX-WAIT");
            REQUIRE(polled.status == PkiStatus::success);
            REQUIRE(polled.certs.size() >= 2);
            CHECK(chains_to(server, *polled.certs[0]));
            CHECK(EVP_PKEY_eq(X509_get0_pubkey(polled.certs[0].get()), device.key.get()) == 1);
            CHECK(X509_cmp(polled.certs[1].get(), &server.ca_cert()) == 0);
            auto resent = pkcs_req_as(server, self_signed(device), *csr, "TX-WAIT");
            REQUIRE(resent.status == PkiStatus::success);
            CHECK(X509_cmp(resent.certs[0].get(), polled.certs[0].get()) == 0);
            auto polled_again = cert_poll_as(server, self_signed(device), device.subject, "TX-WAIT");
            REQUIRE(polled_again.status == PkiStatus::success);
            CHECK(X509_cmp(polled_again.certs[0].get(), polled.certs[0].get()) == 0);
            CHECK(count(server, "issued_certs") == "1");
            CHECK(server.sql("SELECT status FROM requests WHERE transaction_id = 'TX-WAIT'") == "issued");
        }
        SUBCASE("ok/approved-then-resent-pkcsreq-first") {
            REQUIRE(server.instance().requests().approve(id, "officer"));
            auto resent = pkcs_req_as(server, self_signed(device), *csr, "TX-WAIT");
            REQUIRE(resent.status == PkiStatus::success);
            auto polled = cert_poll_as(server, self_signed(device), device.subject, "TX-WAIT");
            REQUIRE(polled.status == PkiStatus::success);
            CHECK(X509_cmp(resent.certs[0].get(), polled.certs[0].get()) == 0);
        }
        SUBCASE("fail/denied-with-the-officers-reason") {
            REQUIRE(server.instance().requests().deny(id, "device not in inventory"));
            check_failure(cert_poll_as(server, self_signed(device), device.subject, "TX-WAIT"),
                          FailInfo::bad_request, "device not in inventory");
            check_failure(pkcs_req_as(server, self_signed(device), *csr, "TX-WAIT"), FailInfo::bad_request,
                          "device not in inventory");
            CHECK(count(server, "issued_certs") == "0");
            CHECK(server.sql("SELECT csr_sealed IS NULL FROM requests WHERE transaction_id = 'TX-WAIT'") ==
                  "1");
            CHECK_FALSE(server.instance().requests().approve(id, "officer"));  // decided already
        }
        SUBCASE("fail/unknown-transaction") {
            check_failure(cert_poll_as(server, self_signed(device), device.subject, "TX-NEVER-SEEN"),
                          FailInfo::bad_cert_id, "no request");
        }
        SUBCASE("fail/poll-from-another-key") {
            Device other(1, "waiting");  // same subject, another key
            check_failure(cert_poll_as(server, self_signed(other), device.subject, "TX-WAIT"),
                          FailInfo::bad_cert_id, "no request");
            // and the other key cannot collect the certificate once approved either
            REQUIRE(server.instance().requests().approve(id, "officer"));
            check_failure(cert_poll_as(server, self_signed(other), device.subject, "TX-WAIT"),
                          FailInfo::bad_cert_id, "no request");
            CHECK(cert_poll_as(server, self_signed(device), device.subject, "TX-WAIT").status ==
                  PkiStatus::success);
        }
    }

    TEST_CASE("a renewal under manual approval waits and is collected by polling with the old certificate") {
        ServerFixture server(manual_approval);
        Device device(0, "slow-renewer");
        check_pending(enrol(server, device, "TX-FIRST"));
        REQUIRE(server.instance().requests().approve(only_pending_request(server), "officer"));
        auto first = cert_poll_as(server, self_signed(device), device.subject, "TX-FIRST");
        REQUIRE(first.status == PkiStatus::success);
        Identity by_cert{*first.certs[0], *device.key};

        auto new_key = pooled_client_key(1);
        check_pending(renewal_req(server, by_cert, *make_csr(*new_key, device.subject), "TX-RENEW"));
        check_pending(cert_poll_as(server, by_cert, device.subject, "TX-RENEW"));
        REQUIRE(server.instance().requests().approve(only_pending_request(server), "officer"));
        auto renewed = cert_poll_as(server, by_cert, device.subject, "TX-RENEW");
        check_renewed(server, renewed, *first.certs[0], *new_key);
    }

    TEST_CASE("a request approved while the server is down is delivered at the next poll") {
        ServerFixture server(manual_approval);
        Device device(0, "patient");
        check_pending(pkcs_req_as(server, self_signed(device), *device.csr(server.password()), "TX-RESTART"));
        const cli::AppConfig config = server.config();
        server.restart([&](std::string&) {
            // Between stop and start: another process (an officer's CLI) approves on the same database file.
            auto db = store::Database::open(config.database, false);
            store::RequestStore requests(*db, server.clock());
            auto held = requests.list_awaiting_approval(10);
            REQUIRE(held.size() == 1);
            CHECK(held.front().transaction_id == "TX-RESTART");
            REQUIRE(requests.approve(held.front().id, "officer"));
        });
        auto polled = cert_poll_as(server, self_signed(device), device.subject, "TX-RESTART");
        REQUIRE(polled.status == PkiStatus::success);
        CHECK(chains_to(server, *polled.certs[0]));
        CHECK(EVP_PKEY_eq(X509_get0_pubkey(polled.certs[0].get()), device.key.get()) == 1);
    }

    TEST_CASE("a pending request is still pending after a restart") {
        ServerFixture server(manual_approval);
        Device device(0, "patient");
        auto csr = device.csr(server.password());
        check_pending(pkcs_req_as(server, self_signed(device), *csr, "TX-RESTART"));
        server.restart();
        check_pending(cert_poll_as(server, self_signed(device), device.subject, "TX-RESTART"));
        check_pending(pkcs_req_as(server, self_signed(device), *csr, "TX-RESTART"));
        REQUIRE(server.instance().requests().approve(only_pending_request(server), "officer"));
        CHECK(pkcs_req_as(server, self_signed(device), *csr, "TX-RESTART").status == PkiStatus::success);
    }

    // --- GetCert and GetCRL
    // -------------------------------------------------------------------------------------------

    TEST_CASE("GetCert returns a certificate we issued by issuer and serial") {
        ServerFixture server;
        Device device(0, "fetched");
        auto cert = enrolled(server, device, "TX-FIRST");
        Device asker(1, "asker");
        SUBCASE("ok/known-serial") {
            auto view = get_cert(server, self_signed(asker), *cert);
            REQUIRE(view.status == PkiStatus::success);
            REQUIRE(!view.certs.empty());
            CHECK(X509_cmp(view.certs[0].get(), cert.get()) == 0);
        }
        SUBCASE("fail/unknown-serial") {
            auto unknown =
                make_cert(device.subject, *device.key, &server.ca_cert(), device.key.get(), {}, 365, 4242);
            check_failure(get_cert(server, self_signed(asker), *unknown), FailInfo::bad_cert_id,
                          "no certificate");
        }
        SUBCASE("fail/known-serial-other-issuer") {
            auto foreign = make_cert(device.subject, *device.key, nullptr, nullptr, {}, 365, 1);
            X509_set_serialNumber(foreign.get(),
                                  const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(cert.get())));
            check_failure(get_cert(server, self_signed(asker), *foreign), FailInfo::bad_cert_id,
                          "no certificate");
        }
    }

    TEST_CASE(
        "a CRL the CA cannot produce is 503 over HTTP and FAILURE 'the CA is unavailable' over GetCRL") {
        ServerFixture server(with("PasswordMax", "100"));
        Device device(0, "crl-outage");
        auto kept = enrolled(server, device, "TX-KEPT");
        // Any CRL on record must be signed again, and the CA's store refuses to record it.
        server.sql("UPDATE local_ca_crls SET stale = 1");
        server.sql(
            "CREATE TRIGGER crl_down_insert BEFORE INSERT ON local_ca_crls BEGIN SELECT RAISE(ABORT, 'disk "
            "full'); END");
        server.sql(
            "CREATE TRIGGER crl_down_update BEFORE UPDATE ON local_ca_crls BEGIN SELECT RAISE(ABORT, 'disk "
            "full'); END");
        auto res = server.client().Get("/crl/scep-ra.crl");
        REQUIRE(res);
        CHECK(res->status == 503);
        CHECK(res->get_header_value("Retry-After") == "60");
        check_failure(get_crl(server, self_signed(device), *kept), FailInfo::bad_request,
                      "the CA is unavailable");

        server.sql("DROP TRIGGER crl_down_insert");
        server.sql("DROP TRIGGER crl_down_update");
        auto back = server.client().Get("/crl/scep-ra.crl");
        REQUIRE(back);
        CHECK(back->status == 200);
    }

    TEST_CASE(
        "GetCRL returns the CA's signed CRL, which lists revoked certificates and is also served over HTTP") {
        ServerFixture server(with("PasswordMax", "100"));
        Device device(0, "crl-watcher");
        auto kept = enrolled(server, device, "TX-KEPT");
        auto revoked = enrolled(server, device, "TX-REVOKED");
        EVP_PKEY* ca_key = X509_get0_pubkey(&server.ca_cert());

        auto before = get_crl(server, self_signed(device), *kept);
        REQUIRE(before.status == PkiStatus::success);
        REQUIRE(before.crls.size() == 1);
        CHECK(X509_CRL_verify(before.crls[0].get(), ca_key) == 1);
        CHECK(X509_NAME_cmp(X509_CRL_get_issuer(before.crls[0].get()),
                            X509_get_subject_name(&server.ca_cert())) == 0);
        CHECK(!crl_lists(*before.crls[0], *revoked));

        server.instance().local_ca().revoke(crypto::serial_hex(*revoked), 1, server.clock().now() - 1s);
        auto after = get_crl(server, self_signed(device), *kept);
        REQUIRE(after.status == PkiStatus::success);
        REQUIRE(after.crls.size() == 1);
        X509_CRL& crl = *after.crls[0];
        CHECK(X509_CRL_verify(&crl, ca_key) == 1);
        CHECK(crl_lists(crl, *revoked));
        CHECK(!crl_lists(crl, *kept));
        const Bytes der = crl_der(crl);

        SUBCASE("ok/openssl-crl-verifies-it") {
            TempDir dir;
            crypto::write_file(dir.file("scep.crl"), to_string(der), 0644, true);
            const std::string cmd = "openssl crl -inform DER -in " + dir.file("scep.crl") + " -CAfile " +
                                    server.config().local_ca.cert_file.string() + " -noout > " +
                                    dir.file("out") + " 2>&1";
            const int rc = std::system(cmd.c_str());
            const std::string out = crypto::read_file(dir.file("out"));
            CAPTURE(out);
            CHECK(WIFEXITED(rc));
            CHECK(WEXITSTATUS(rc) == 0);
            CHECK(out.find("verify OK") != std::string::npos);
        }
        SUBCASE("ok/served-at-crl_path") {
            auto res = server.client().Get("/crl/scep-ra.crl");
            REQUIRE(res);
            CHECK(res->status == 200);
            CHECK(res->get_header_value("Content-Type") == "application/pkix-crl");
            CHECK(Bytes(res->body.begin(), res->body.end()) == der);
        }
        SUBCASE("fail/another-issuer") {
            auto foreign = make_cert(device.subject, *device.key, nullptr, nullptr, {}, 365, 9);
            check_failure(get_crl(server, self_signed(device), *foreign), FailInfo::bad_cert_id, "CRL");
        }
    }
}
