// SPDX-License-Identifier: Apache-2.0
// Decisions that survive a crash and resumes that re-check (issue 9): through
// the real HTTP server, and for the kill -9 case a real `scep-ra serve` process.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "crypto/encoding.hpp"
#include "integration/database_queries.hpp"
#include "integration/scep_exchange.hpp"
#include "integration/server_fixture.hpp"
#include "scep/message_data.hpp"
#include "store/database.hpp"
#include "support/scep_ra_process.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::MessageType;
using scep::PkiStatus;

namespace {

scep::CertRepView cert_poll_signed_by(ServerFixture& server, Identity as, const std::string& subject,
                                      const std::string& txid) {
    auto csr = make_csr(as.key, subject);
    Bytes data = scep::issuer_and_subject_der(*X509_get_subject_name(&server.ca_cert()),
                                              *X509_REQ_get_subject_name(csr.get()));
    return send_scep(server, MessageType::cert_poll, txid, data, as);
}

Bytes blob(ServerFixture& server, const std::string& query) {
    return server.instance().database().read([&](store::Database& db) {
        auto st = db.prepare(query);
        return st.step() ? st.column_blob(0) : Bytes();
    });
}

bool contains_bytes(const Bytes& haystack, ByteView needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

// --- a real `scep-ra serve` process
// -----------------------------------------------------------------------------

std::string post(int port, const Bytes& message) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    auto res = c.Post("/certsrv/mscep/mscep.dll?operation=PKIOperation",
                      std::string(reinterpret_cast<const char*>(message.data()), message.size()),
                      "application/x-pki-message");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return res->body;
}

void sql_on(const std::filesystem::path& db_file, const std::string& sql) {
    auto db = store::Database::open(db_file, false);
    db->write([&](store::Database& d) { d.exec(sql); });
}

}  // namespace

TEST_SUITE("http.durability") {
    TEST_CASE("a resumed claim must carry the request first sent") {
        ServerFixture server(many_passwords);
        Device device(0, "resumer");
        const std::string password = server.password();
        // An EC key: its CSR signature differs every time it is signed.
        auto ec_key = make_key(0, true);
        auto csr = make_csr(*ec_key, device.subject, password);
        // The CA cannot take the request: the claim is held for the device's next attempt.
        server.sql(
            "CREATE TRIGGER ca_down BEFORE INSERT ON issued_certs BEGIN SELECT RAISE(ABORT, 'disk full'); "
            "END");
        CHECK(pkcs_req(server, device, *csr, "TX-RESUME").status == PkiStatus::pending);
        server.sql("DROP TRIGGER ca_down");

        SUBCASE("fail/changed-subject-same-key") {
            auto changed = make_csr(*ec_key, "CN=somebody-else,O=Example", password);
            check_failure(pkcs_req(server, device, *changed, "TX-RESUME"), FailInfo::bad_request,
                          "differs from the one first sent");
            CHECK(server.sql("SELECT count(*) FROM issued_certs WHERE transaction_id = 'TX-RESUME'") == "0");
            CHECK(server.sql("SELECT status FROM requests WHERE transaction_id = 'TX-RESUME'") == "pending");
            // The request first sent still resumes.
            CHECK(pkcs_req(server, device, *csr, "TX-RESUME").status == PkiStatus::success);
        }
        SUBCASE("fail/added-subject-alt-name") {
            auto changed =
                make_csr(*ec_key, device.subject, password, {{NID_subject_alt_name, "DNS:evil.example"}});
            check_failure(pkcs_req(server, device, *changed, "TX-RESUME"), FailInfo::bad_request,
                          "differs from the one first sent");
        }
        SUBCASE("ok/same-request-signed-again") {
            crypto::X509ReqPtr again(X509_REQ_dup(csr.get()));
            REQUIRE(X509_REQ_sign(again.get(), ec_key.get(), EVP_sha256()) > 0);
            REQUIRE(crypto::csr_der(*again) != crypto::csr_der(*csr));
            auto view = pkcs_req(server, device, *again, "TX-RESUME");
            REQUIRE(view.status == PkiStatus::success);
            CHECK(EVP_PKEY_eq(X509_get0_pubkey(view.certs[0].get()), ec_key.get()) == 1);
            CHECK(server.sql("SELECT subject FROM issued_certs WHERE transaction_id = 'TX-RESUME'") ==
                  crypto::name_string(*X509_REQ_get_subject_name(csr.get())));
        }
    }

    TEST_CASE("a claim that cannot be recorded leaves the one-time password unused") {
        ServerFixture server(many_passwords);
        Device device(1, "unlucky");
        auto csr = device.csr(server.password());
        server.sql(
            "CREATE TRIGGER no_claims BEFORE INSERT ON requests BEGIN SELECT RAISE(ABORT, 'disk full'); END");
        check_failure(pkcs_req(server, device, *csr, "TX-NO-CLAIM"), FailInfo::bad_request, "internal error");
        CHECK(server.sql("SELECT count(*) FROM challenges WHERE used_at IS NULL") == "1");
        CHECK(server.sql("SELECT count(*) FROM password_events WHERE event = 'used'") == "0");
        server.sql("DROP TRIGGER no_claims");
        auto view = pkcs_req(server, device, *csr, "TX-NO-CLAIM");
        REQUIRE(view.status == PkiStatus::success);
        CHECK(server.sql("SELECT count(*) FROM challenges WHERE used_at IS NULL") == "0");
    }

    TEST_CASE(
        "a CertPoll for a renewal must be signed by the renewing certificate, not one with its serial") {
        ServerFixture server(manual_approval);
        Device device(2, "renewer");
        REQUIRE(pkcs_req(server, device, *device.csr(server.password()), "TX-FIRST").status ==
                PkiStatus::pending);
        REQUIRE(server.instance().requests().approve(only_pending_request(server), "officer"));
        auto issued =
            cert_poll_signed_by(server, {*device.self_signed, *device.key}, device.subject, "TX-FIRST");
        REQUIRE(issued.status == PkiStatus::success);
        X509& cert = *issued.certs[0];
        auto new_key = pooled_client_key(3);
        auto renewal = send_scep(server, MessageType::renewal_req, "TX-RENEW",
                                 crypto::csr_der(*make_csr(*new_key, device.subject)), {cert, *device.key});
        REQUIRE(renewal.status == PkiStatus::pending);

        // Another CA's certificate with the same serial and subject, for the attacker's key.
        auto other_ca_key = make_key();
        auto other_ca = make_cert("CN=Other CA", *other_ca_key, nullptr, nullptr,
                                  {{NID_basic_constraints, "critical,CA:TRUE"}});
        auto attacker_key = pooled_client_key(4);
        auto forged = make_cert(device.subject, *attacker_key, other_ca.get(), other_ca_key.get(), {});
        REQUIRE(X509_set_serialNumber(forged.get(),
                                      const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(&cert))) == 1);
        REQUIRE(X509_sign(forged.get(), other_ca_key.get(), EVP_sha256()) > 0);
        REQUIRE(crypto::serial_hex(*forged) == crypto::serial_hex(cert));

        check_failure(cert_poll_signed_by(server, {*forged, *attacker_key}, device.subject, "TX-RENEW"),
                      FailInfo::bad_cert_id, "no request for this transaction from this requester");
        REQUIRE(server.instance().requests().approve(only_pending_request(server), "officer"));
        check_failure(cert_poll_signed_by(server, {*forged, *attacker_key}, device.subject, "TX-RENEW"),
                      FailInfo::bad_cert_id, "from this requester");
        // The renewing certificate itself collects it.
        auto renewed = cert_poll_signed_by(server, {cert, *device.key}, device.subject, "TX-RENEW");
        REQUIRE(renewed.status == PkiStatus::success);
        CHECK(EVP_PKEY_eq(X509_get0_pubkey(renewed.certs[0].get()), new_key.get()) == 1);
    }

    TEST_CASE(
        "a request held for approval keeps its CSR sealed, reaches the CA only once approved, and loses it "
        "at its outcome") {
        ServerFixture server(manual_approval);
        Device device(5, "sealed");
        const std::string password = server.password();
        auto csr = device.csr(password);
        REQUIRE(pkcs_req(server, device, *csr, "TX-SEALED").status == PkiStatus::pending);
        const std::int64_t id = only_pending_request(server);
        const std::string row = "SELECT csr_sealed FROM requests WHERE id = " + std::to_string(id);
        CHECK(server.sql("SELECT count(*) FROM local_ca_requests") == "0");  // no CA has seen it

        const Bytes stored = blob(server, row);
        REQUIRE(!stored.empty());
        CHECK(stored.front() != 0x30);  // not a DER CSR
        CHECK(!contains_bytes(stored, as_bytes(password)));
        const Bytes challenge_password_oid{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x07};
        CHECK(!contains_bytes(stored, challenge_password_oid));
        CHECK(!contains_bytes(stored, as_bytes(std::string("sealed"))));  // the subject's CN
        struct stat key_file {};
        REQUIRE(::stat((server.instance_dir() + "/private/csr-seal.key").c_str(), &key_file) == 0);
        CHECK((key_file.st_mode & 0777) == 0600);

        SUBCASE("ok/issued-after-approval") {
            REQUIRE(server.instance().requests().approve(id, "officer"));
            auto view =
                cert_poll_signed_by(server, {*device.self_signed, *device.key}, device.subject, "TX-SEALED");
            REQUIRE(view.status == PkiStatus::success);
            CHECK(EVP_PKEY_eq(X509_get0_pubkey(view.certs[0].get()), device.key.get()) == 1);
            CHECK(blob(server, row).empty());
            CHECK(server.sql(
                      "SELECT detail FROM audit_events WHERE transaction_id = 'TX-SEALED' ORDER BY id DESC "
                      "LIMIT 1") == "approved by officer: submitted to the CA");
        }
        SUBCASE("ok/deleted-when-denied") {
            REQUIRE(server.instance().requests().deny(id, "not ours"));
            check_failure(
                cert_poll_signed_by(server, {*device.self_signed, *device.key}, device.subject, "TX-SEALED"),
                FailInfo::bad_request, "not ours");
            CHECK(blob(server, row).empty());
        }
        SUBCASE("fail/another-rows-sealed-csr-does-not-open") {
            // Sealed for its own transaction: copied to another row it does not open, and nothing is
            // submitted.
            Device other(6, "other");
            auto other_csr = other.csr(server.password());
            REQUIRE(pkcs_req(server, other, *other_csr, "TX-OTHER").status == PkiStatus::pending);
            server.sql("UPDATE requests SET csr_sealed = (SELECT csr_sealed FROM requests WHERE id = " +
                       std::to_string(id) + ") WHERE transaction_id = 'TX-OTHER'");
            auto held = server.instance().requests().list_awaiting_approval(10);
            REQUIRE(held.size() == 2);
            REQUIRE(server.instance().requests().approve(held.back().id, "officer"));
            check_failure(
                cert_poll_signed_by(server, {*other.self_signed, *other.key}, other.subject, "TX-OTHER"),
                FailInfo::bad_request, "send the request again");
            CHECK(server.sql("SELECT count(*) FROM issued_certs WHERE transaction_id IS NOT NULL") == "0");
            // The device's own request, sent again, is the one submitted.
            auto resent = pkcs_req(server, other, *other_csr, "TX-OTHER");
            REQUIRE(resent.status == PkiStatus::success);
            CHECK(EVP_PKEY_eq(X509_get0_pubkey(resent.certs[0].get()), other.key.get()) == 1);
        }
    }

    TEST_CASE(
        "the RA and admin TLS certificates of init and ra rollover can be revoked with scep-ra revoke") {
        TempDir dir;
        const std::string inst = dir.file("ra");
        const std::string conf = " --config " + inst + "/scep-ra.conf";
        init_from_template(inst, "");
        REQUIRE(run_scep_ra(dir, "ra rollover" + conf) == 0);
        for (const std::string file : {"ra-signing.pem", "ra-encryption.pem", "admin-tls.pem",
                                       "next/ra-signing.pem", "next/ra-encryption.pem"}) {
            CAPTURE(file);
            auto cert = crypto::load_cert_file(inst + "/" + file);
            const std::string serial = crypto::serial_hex(*cert);
            CHECK(run_scep_ra(dir, "revoke " + serial + " --reason superseded" + conf) == 0);
            CHECK(query_text(inst + "/scep-ra.db",
                             "SELECT revocation_reason FROM issued_certs WHERE serial = '" + serial + "'") ==
                  "superseded");
        }
    }

    TEST_CASE(
        "kill -9 when the outcome's commit fails: nothing of the certificate is left, the re-sent request "
        "gets "
        "one") {
        TempDir dir;
        const std::string inst = dir.file("ra");
        const std::string conf = inst + "/scep-ra.conf";
        const std::filesystem::path db_file = inst + "/scep-ra.db";
        init_from_template(inst, "--admin-listen none");
        std::string password;
        REQUIRE(run_scep_ra(dir, "password issue --config " + conf, &password) == 0);
        password = password.substr(0, password.find('\n'));
        auto ra_signing = crypto::load_cert_file(inst + "/ra-signing.pem");
        auto ra_encryption = crypto::load_cert_file(inst + "/ra-encryption.pem");

        Device device(7, "crashed");
        auto csr = device.csr(password);
        const Bytes request = scep::build_pki_request(
            {MessageType::pkcs_req, "TX-KILLED", Bytes(16, 7)}, crypto::csr_der(*csr), *ra_encryption,
            {"AES-128-CBC", false}, device.signer(), std::chrono::system_clock::now());

        {
            // The local CA records its certificate in the commit that stores the request's outcome
            // (SubmitRequest::record_issued): there is no moment with one and not the other. This trigger
            // makes that commit fail after the certificate was signed, and the process is killed then.
            sql_on(
                db_file,
                "CREATE TRIGGER stop_after_ca BEFORE UPDATE OF status ON requests WHEN NEW.status = 'issued' "
                "BEGIN SELECT RAISE(ABORT, 'stopped after the CA'); END");
            ServeProcess serve(dir, conf, {.name = "first"});
            auto view =
                scep::read_cert_rep(as_bytes(post(serve.port(), request)), *ra_signing, device.recipient());
            REQUIRE(view.status == PkiStatus::pending);  // held: [ca] unavailable = pending
            serve.kill9();
        }
        // Both rolled back together: no certificate row, the claim still pending without a CA reference.
        CHECK(query_text(db_file, "SELECT count(*) FROM issued_certs WHERE transaction_id = 'TX-KILLED'") ==
              "0");
        CHECK(query_text(db_file,
                         "SELECT status || ',' || (backend_ref IS NULL) FROM requests "
                         "WHERE transaction_id = 'TX-KILLED'") == "pending,1");
        sql_on(db_file, "DROP TRIGGER stop_after_ca");
        // The device re-sends after the interrupted-claim age.
        sql_on(db_file,
               "UPDATE requests SET updated_at = datetime('now', '-11 minutes') WHERE transaction_id = "
               "'TX-KILLED'");

        ServeProcess serve(dir, conf, {.name = "second"});
        auto view =
            scep::read_cert_rep(as_bytes(post(serve.port(), request)), *ra_signing, device.recipient());
        REQUIRE(view.status == PkiStatus::success);
        REQUIRE(!view.certs.empty());
        CHECK(query_text(db_file, "SELECT count(*) FROM issued_certs WHERE transaction_id = 'TX-KILLED'") ==
              "1");
        auto db = store::Database::open(db_file, false);
        const Bytes recorded = db->read([](store::Database& d) {
            auto st = d.prepare("SELECT der FROM issued_certs WHERE transaction_id = 'TX-KILLED'");
            return st.step() ? st.column_blob(0) : Bytes();
        });
        CHECK(recorded == crypto::cert_der(*view.certs[0]));
        CHECK(query_text(db_file, "SELECT status FROM requests WHERE transaction_id = 'TX-KILLED'") ==
              "issued");
        // And a further re-send is the stored outcome.
        auto again =
            scep::read_cert_rep(as_bytes(post(serve.port(), request)), *ra_signing, device.recipient());
        REQUIRE(again.status == PkiStatus::success);
        CHECK(X509_cmp(again.certs[0].get(), view.certs[0].get()) == 0);
        serve.stop();
    }
}
