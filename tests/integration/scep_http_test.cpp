// SPDX-License-Identifier: Apache-2.0
// Every SCEP behaviour through the real HTTP server, real OpenSSL and a real
// SQLite file, with requests built by the test.
#include <doctest/doctest.h>

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "integration/server_fixture.hpp"
#include "scep/degenerate.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::PkiStatus;

namespace {

ServerFixture& shared_server() {
    // Many tests share it, so allow more outstanding passwords than NDES's 5.
    static ServerFixture server(
        [](std::string& conf) { conf.replace(conf.find("PasswordMax = 5"), 15, "PasswordMax = 1000"); });
    return server;
}

struct Exchange {
    Bytes request;
    Reply reply;
    scep::CertRepView view;
};

/// Builds a PKCSReq for the device and sends it.
Exchange enrol_exchange(ServerFixture& server, Device& device, const std::string& challenge,
                        const std::string& txid, const std::string& cipher = "AES-128-CBC",
                        const std::string& digest = "SHA256", bool get = false, bool oaep = false,
                        TimePoint signing_time = std::chrono::system_clock::now()) {
    Exchange ex;
    auto csr = device.csr(challenge);
    ex.request = scep::build_pki_request({scep::MessageType::pkcs_req, txid, Bytes(16, 0x42)},
                                         crypto::csr_der(*csr), server.ra_encryption_cert(), {cipher, oaep},
                                         device.signer(digest), signing_time);
    ex.reply = send_pki(server, ex.request, get);
    REQUIRE(ex.reply.http_status == 200);
    ex.view = scep::read_cert_rep(as_bytes(ex.reply.body), server.ra_signing_cert(), device.recipient());
    return ex;
}

bool chains_to(X509& cert, X509& ca) {
    crypto::X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), &ca);
    crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), &cert, nullptr);
    return X509_verify_cert(ctx.get()) == 1;
}

void check_failure(const Exchange& ex, FailInfo info, const std::string& text_part) {
    CHECK(ex.view.status == PkiStatus::failure);
    REQUIRE(ex.view.fail_info);
    CHECK(*ex.view.fail_info == info);
    CHECK(ex.view.signature_valid);
    CHECK(ex.view.signed_by_expected);
    CHECK(ex.view.fail_info_text.value_or("").find(text_part) != std::string::npos);
}

}  // namespace

TEST_SUITE("http.scep") {
    TEST_CASE("GetCACert returns RA signing, RA encryption and CA certificates on every NDES path") {
        auto& server = shared_server();
        auto c = server.client();
        for (const char* path :
             {"/certsrv/mscep/mscep.dll", "/certsrv/mscep/mscep.dll/pkiclient.exe", "/certsrv/mscep/",
              "/cgi-bin/pkiclient.exe", "/certsrv/mscep.dll", "/CertSrv/MSCEP/mscep.dll"}) {
            for (const char* message : {"", "&message=0", "&message=SCEP%20Authority", "&message=default"}) {
                CAPTURE(path);
                CAPTURE(message);
                auto res = c.Get(std::string(path) + "?operation=GetCACert" + message);
                REQUIRE(res);
                CHECK(res->status == 200);
                CHECK(res->get_header_value("Content-Type") == "application/x-x509-ca-ra-cert");
                auto certs = scep::parse_degenerate(as_bytes(res->body));
                REQUIRE(certs.size() == 3);
                CHECK(X509_cmp(certs[0].get(), &server.ra_signing_cert()) == 0);
                CHECK(X509_cmp(certs[1].get(), &server.ra_encryption_cert()) == 0);
                CHECK(X509_cmp(certs[2].get(), &server.ca_cert()) == 0);
                CHECK((X509_get_key_usage(certs[0].get()) & KU_DIGITAL_SIGNATURE) != 0);
                CHECK((X509_get_key_usage(certs[1].get()) & KU_KEY_ENCIPHERMENT) != 0);
                CHECK(chains_to(*certs[0], server.ca_cert()));
                CHECK(chains_to(*certs[1], server.ca_cert()));
            }
        }
    }

    TEST_CASE("GetCACaps advertises what is implemented and no more") {
        auto res = shared_server().client().Get("/certsrv/mscep/mscep.dll?operation=GetCACaps&message=0");
        REQUIRE(res);
        CHECK(res->status == 200);
        CHECK(res->get_header_value("Content-Type") == "text/plain");
        for (const char* kw :
             {"POSTPKIOperation", "SHA-1", "SHA-256", "SHA-512", "AES", "DES3", "SCEPStandard", "Renewal"}) {
            CHECK(res->body.find(kw) != std::string::npos);
        }
        CHECK(res->body.find("GetNextCACert") == std::string::npos);
    }

    TEST_CASE("requests that are not SCEP get plain HTTP answers") {
        auto c = shared_server().client();
        SUBCASE("fail/unknown-path") { CHECK(c.Get("/index.html")->status == 404); }
        SUBCASE("fail/unknown-operation") {
            auto res = c.Get("/certsrv/mscep/mscep.dll?operation=Frobnicate");
            CHECK(res->status == 400);
            CHECK(res->body.find("Frobnicate") != std::string::npos);
        }
        SUBCASE("ok/info-page-without-operation") {
            auto res = c.Get("/certsrv/mscep/mscep.dll");
            CHECK(res->status == 200);
            CHECK(res->body.find("Network Device Enrollment Service") != std::string::npos);
        }
    }

    TEST_CASE("a PKCSReq by POST is issued and returned encrypted to the requester") {
        auto& server = shared_server();
        Device device(1, "post-device");
        for (const char* content_type : {"application/x-pki-message", "application/octet-stream", ""}) {
            CAPTURE(content_type);
            auto csr = device.csr(server.password());
            Bytes req = scep::build_pki_request({scep::MessageType::pkcs_req, "TX-POST", Bytes(16, 9)},
                                                crypto::csr_der(*csr), server.ra_encryption_cert(),
                                                {"AES-256-CBC", false}, device.signer(),
                                                std::chrono::system_clock::now());
            Reply reply = send_pki(server, req, false, content_type);
            CHECK(reply.http_status == 200);
            CHECK(reply.content_type == "application/x-pki-message");
            auto view =
                scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), device.recipient());
            CHECK(view.status == PkiStatus::success);
            CHECK(view.signature_valid);
            CHECK(view.signed_by_expected);
            CHECK(view.message_type == 3);
            CHECK(view.transaction_id == "TX-POST");
            CHECK(view.recipient_nonce == Bytes(16, 9));
            CHECK(view.sender_nonce.size() == 16);
            CHECK(view.sender_nonce != Bytes(16, 9));
            CHECK(view.algorithms.cipher == "AES-256-CBC");
            REQUIRE(view.certs.size() >= 2);
            X509& issued = *view.certs[0];
            CHECK(EVP_PKEY_eq(X509_get0_pubkey(&issued), device.key.get()) == 1);
            CHECK(chains_to(issued, server.ca_cert()));
            CHECK(crypto::name_string(*X509_get_subject_name(&issued)) == "O=Example,CN=post-device");
            CHECK(X509_cmp(view.certs[1].get(), &server.ca_cert()) == 0);
        }
    }

    TEST_CASE("a PKCSReq by GET is decoded from standard base64, escaped or not") {
        auto& server = shared_server();
        // Find a request whose base64 contains '+', so that form decoding would break it.
        for (int attempt = 0; attempt < 50; ++attempt) {
            Device device(static_cast<size_t>(attempt), "get-device");
            auto csr = device.csr(server.password());
            Bytes req = scep::build_pki_request(
                {scep::MessageType::pkcs_req, "TX-GET-" + std::to_string(attempt), {}}, crypto::csr_der(*csr),
                server.ra_encryption_cert(), {"AES-128-CBC", false}, device.signer(),
                std::chrono::system_clock::now());
            std::string escaped = base64_url_escaped(req);
            if (escaped.find("%2B") == std::string::npos) {
                continue;
            }
            SUBCASE("ok/percent-escaped") {
                auto res =
                    server.client().Get(server.base_path() + "?operation=PKIOperation&message=" + escaped);
                REQUIRE(res);
                auto view =
                    scep::read_cert_rep(as_bytes(res->body), server.ra_signing_cert(), device.recipient());
                CHECK(view.status == PkiStatus::success);
            }
            SUBCASE("ok/raw-plus-and-slash") {
                // NOTE(client: macOS): '+' and '/' arrive unescaped and only '=' as %3D.
                std::string raw = escaped;
                for (auto [from, to] : {std::pair{"%2B", "+"}, std::pair{"%2F", "/"}}) {
                    for (size_t p; (p = raw.find(from)) != std::string::npos;) raw.replace(p, 3, to);
                }
                auto res = server.client().Get(server.base_path() + "?operation=PKIOperation&message=" + raw);
                REQUIRE(res);
                auto view =
                    scep::read_cert_rep(as_bytes(res->body), server.ra_signing_cert(), device.recipient());
                CHECK(view.status == PkiStatus::success);
            }
            return;
        }
        FAIL("no request with '+' in its base64 was produced");
    }

    TEST_CASE("the reply mirrors the request's cipher and digest") {
        auto& server = shared_server();
        Device device(2, "mirror");
        SUBCASE("ok/3des-sha1") {
            auto ex = enrol_exchange(server, device, server.password(), "TX-3DES", "DES-EDE3-CBC", "SHA1");
            CHECK(ex.view.status == PkiStatus::success);
            CHECK(ex.view.algorithms.cipher == "DES-EDE3-CBC");
            CHECK(ex.view.digest == "SHA1");
        }
        SUBCASE("ok/aes128-sha512-oaep") {
            auto ex = enrol_exchange(server, device, server.password(), "TX-OAEP", "AES-128-CBC", "SHA512",
                                     false, true);
            CHECK(ex.view.status == PkiStatus::success);
            CHECK(ex.view.algorithms.cipher == "AES-128-CBC");
            CHECK(ex.view.algorithms.oaep);
            CHECK(ex.view.digest == "SHA512");
        }
    }

    TEST_CASE("challenge passwords are checked and used once") {
        auto& server = shared_server();
        Device device(3, "challenged");
        SUBCASE("fail/wrong") {
            check_failure(enrol_exchange(server, device, "0123456789ABCDEF", "TX-WRONG"),
                          FailInfo::bad_request, "not valid");
        }
        SUBCASE("fail/missing") {
            check_failure(enrol_exchange(server, device, "", "TX-NONE"), FailInfo::bad_request, "required");
        }
        SUBCASE("fail/reused") {
            std::string pw = server.password();
            CHECK(enrol_exchange(server, device, pw, "TX-ONCE").view.status == PkiStatus::success);
            check_failure(enrol_exchange(server, device, pw, "TX-TWICE"), FailInfo::bad_request,
                          "already used");
        }
    }

    TEST_CASE("integrity failures are badMessageCheck") {
        auto& server = shared_server();
        Device device(4, "tampered");
        SUBCASE("fail/request-signature") {
            auto csr = device.csr(server.password());
            Bytes req =
                scep::build_pki_request({scep::MessageType::pkcs_req, "TX-TAMPER", {}}, crypto::csr_der(*csr),
                                        server.ra_encryption_cert(), {"AES-128-CBC", false}, device.signer(),
                                        std::chrono::system_clock::now());
            req[req.size() - 3] ^= 0x5a;  // inside the signature value
            Reply reply = send_pki(server, req);
            auto view =
                scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), device.recipient());
            CHECK(view.status == PkiStatus::failure);
            CHECK(view.fail_info == FailInfo::bad_message_check);
        }
        SUBCASE("fail/csr-signature") {
            auto csr = device.csr(server.password());
            Bytes der = crypto::csr_der(*csr);
            der[der.size() - 3] ^= 0x5a;
            Bytes req = scep::build_pki_request({scep::MessageType::pkcs_req, "TX-CSR", {}}, der,
                                                server.ra_encryption_cert(), {"AES-128-CBC", false},
                                                device.signer(), std::chrono::system_clock::now());
            Reply reply = send_pki(server, req);
            auto view =
                scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), device.recipient());
            CHECK(view.fail_info == FailInfo::bad_message_check);
        }
    }

    TEST_CASE("a request encrypted to another certificate is badCertId") {
        auto& server = shared_server();
        Device device(5, "misdirected");
        auto csr = device.csr(server.password());
        Bytes req = scep::build_pki_request({scep::MessageType::pkcs_req, "TX-CA", {}}, crypto::csr_der(*csr),
                                            server.ca_cert(), {"AES-128-CBC", false}, device.signer(),
                                            std::chrono::system_clock::now());
        auto view = scep::read_cert_rep(as_bytes(send_pki(server, req).body), server.ra_signing_cert(),
                                        device.recipient());
        CHECK(view.fail_info == FailInfo::bad_cert_id);
    }

    TEST_CASE("a CertPoll for an unknown transaction is badCertId") {
        auto& server = shared_server();
        Device device(5, "poller");
        Bytes req = scep::build_pki_request(
            {scep::MessageType::cert_poll, "TX-UNKNOWN", {}}, Bytes{0x30, 0x00}, server.ra_encryption_cert(),
            {"AES-128-CBC", false}, device.signer(), std::chrono::system_clock::now());
        auto view = scep::read_cert_rep(as_bytes(send_pki(server, req).body), server.ra_signing_cert(),
                                        device.recipient());
        CHECK(view.fail_info == FailInfo::bad_cert_id);
        CHECK(view.transaction_id == "TX-UNKNOWN");
    }

    TEST_CASE("an MD5-signed request is badAlg") {
        auto& server = shared_server();
        Device device(0, "md5");
        auto csr = device.csr(server.password());
        Bytes req = scep::build_pki_request(
            {scep::MessageType::pkcs_req, "TX-MD5", {}}, crypto::csr_der(*csr), server.ra_encryption_cert(),
            {"AES-128-CBC", false}, device.signer("MD5"), std::chrono::system_clock::now());
        auto view = scep::read_cert_rep(as_bytes(send_pki(server, req).body), server.ra_signing_cert(),
                                        device.recipient());
        CHECK(view.fail_info == FailInfo::bad_alg);
        CHECK(view.digest == "SHA256");  // never answered with MD5
    }

    TEST_CASE("unparseable PKIOperations get HTTP 400 and an audit row") {
        auto& server = shared_server();
        auto before = std::stoi(server.sql("SELECT count(*) FROM audit_events WHERE decision = 'error'"));
        SUBCASE("fail/garbage-post") {
            CHECK(send_pki(server, crypto::random_bytes(512)).http_status == 400);
        }
        SUBCASE("fail/empty-post") { CHECK(send_pki(server, Bytes{}).http_status == 400); }
        SUBCASE("fail/bad-base64-get") {
            auto res = server.client().Get(server.base_path() + "?operation=PKIOperation&message=%%%***");
            CHECK(res->status == 400);
        }
        SUBCASE("fail/degenerate-instead-of-request") {
            CHECK(send_pki(server, scep::make_degenerate({&server.ca_cert()})).http_status == 400);
        }
        CHECK(std::stoi(server.sql("SELECT count(*) FROM audit_events WHERE decision = 'error'")) ==
              before + 1);
    }

    TEST_CASE("every decision is audited in SQLite") {
        auto& server = shared_server();
        Device device(1, "audited");
        auto ok = enrol_exchange(server, device, server.password(), "TX-AUDIT-OK");
        REQUIRE(ok.view.status == PkiStatus::success);
        const std::string serial = crypto::serial_hex(*ok.view.certs[0]);
        CHECK(
            server.sql(
                "SELECT decision || '|' || message_type || '|' || subject || '|' || serial || '|' || peer || "
                "'|' || (challenge_id IS NOT NULL) FROM audit_events WHERE transaction_id = 'TX-AUDIT-OK'") ==
            "issued|PKCSReq|O=Example,CN=audited|" + serial + "|127.0.0.1|1");
        CHECK(server.sql("SELECT count(*) FROM issued_certs WHERE serial = '" + serial +
                         "' AND transaction_id = 'TX-AUDIT-OK'") == "1");
        CHECK(server.sql("SELECT used_by_transaction FROM challenges WHERE id = (SELECT challenge_id FROM "
                         "audit_events "
                         "WHERE transaction_id = 'TX-AUDIT-OK')") == "TX-AUDIT-OK");
        enrol_exchange(server, device, "WRONGWRONGWRONG0", "TX-AUDIT-BAD");
        CHECK(server.sql("SELECT decision || '|' || fail_info || '|' || detail FROM audit_events WHERE "
                         "transaction_id = "
                         "'TX-AUDIT-BAD'") == "rejected|badRequest|the challenge password is not valid");
    }

    TEST_CASE("HTTP limits answer with 413 and 414") {
        auto& server = shared_server();
        SUBCASE("fail/body-over-2MiB") {
            CHECK(send_pki(server, Bytes((2 << 20) + 1, 0x30)).http_status == 413);
        }
        SUBCASE("fail/request-line-over-8KiB") {
            auto res = server.client().Get(server.base_path() +
                                           "?operation=PKIOperation&message=" + std::string(9000, 'A'));
            REQUIRE(res);
            CHECK(res->status == 414);
            CHECK(res->body.find("POST") != std::string::npos);
        }
    }
}

TEST_SUITE("http.scep.config") {
    TEST_CASE("single DES is refused by default and served, answered with 3DES, when allowed") {
        Device device(2, "legacy");
        scep::enable_legacy_ciphers();  // for the test's own client; the server's policy is what is tested
        SUBCASE("fail/default") {
            auto& server = shared_server();
            check_failure(enrol_exchange(server, device, server.password(), "TX-DES-NO", "DES-CBC", "SHA1"),
                          FailInfo::bad_alg, "DES");
        }
        SUBCASE("ok/allowed") {
            ServerFixture server([](std::string& conf) {
                conf.replace(conf.find("allow_single_des = 0"), 20, "allow_single_des = 1");
            });
            auto ex = enrol_exchange(server, device, server.password(), "TX-DES-YES", "DES-CBC", "SHA1");
            CHECK(ex.view.status == PkiStatus::success);
            CHECK(ex.view.algorithms.cipher == "DES-EDE3-CBC");
        }
    }

    TEST_CASE("signingTime far from the RA clock is badTime when a skew limit is set") {
        ServerFixture server([](std::string& conf) {
            conf.replace(conf.find("max_clock_skew_minutes = 0"), 26, "max_clock_skew_minutes = 5");
        });
        Device device(3, "clock");
        auto late = std::chrono::system_clock::now() - std::chrono::hours(2);
        check_failure(enrol_exchange(server, device, server.password(), "TX-TIME", "AES-128-CBC", "SHA256",
                                     false, false, late),
                      FailInfo::bad_time, "signingTime");
        CHECK(enrol_exchange(server, device, server.password(), "TX-TIME-OK").view.status ==
              PkiStatus::success);
    }

    TEST_CASE("EnforcePassword = 0 accepts requests without a challenge and audits them as unauthenticated") {
        ServerFixture server([](std::string& conf) {
            conf.replace(conf.find("EnforcePassword = 1"), 19, "EnforcePassword = 0");
        });
        Device device(4, "open");
        CHECK(enrol_exchange(server, device, "", "TX-OPEN").view.status == PkiStatus::success);
        CHECK(server.sql("SELECT detail FROM audit_events WHERE transaction_id = 'TX-OPEN'")
                  .find("unauthenticated") != std::string::npos);
    }
}
