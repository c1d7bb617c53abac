// SPDX-License-Identifier: Apache-2.0
// The SCEP codec: requests built with the client helpers are parsed and
// decrypted by the server side, and replies read back, on real OpenSSL.
#include <doctest/doctest.h>
#include <openssl/pkcs7.h>

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "scep/caps.hpp"
#include "scep/cert_rep.hpp"
#include "scep/client.hpp"
#include "scep/csr.hpp"
#include "scep/degenerate.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::scep;

namespace {

struct ClientFixture {
    const test::TestPki& pki = test::shared_test_pki();
    crypto::EvpPkeyPtr key = test::pooled_client_key(0);
    crypto::X509Ptr self_signed = test::make_cert("CN=device-1,O=Example", *key, nullptr, nullptr, {});
    crypto::X509ReqPtr csr = test::make_csr(*key, "CN=device-1,O=Example", "S3CRET");
    TimePoint now = std::chrono::system_clock::now();

    Bytes request(const std::string& cipher = "AES-128-CBC", const std::string& digest = "SHA256",
                  bool oaep = false) {
        Signer signer{*self_signed, *key, digest};
        return build_pki_request({MessageType::pkcs_req, "TX-1", Bytes(16, 7)}, crypto::csr_der(*csr),
                                 *pki.ra_enc_cert, {cipher, oaep}, signer, now);
    }
    std::vector<Recipient> ra() { return {{*pki.ra_enc_cert, *pki.ra_enc_key}}; }
    Signer ra_signer() { return Signer{*pki.ra_sign_cert, *pki.ra_sign_key, "SHA256", {pki.ca_cert.get()}}; }
};

}  // namespace

TEST_SUITE("scep.codec") {
    TEST_CASE_FIXTURE(ClientFixture, "a PKCSReq is parsed, verified and decrypted") {
        for (const char* cipher : {"AES-128-CBC", "AES-256-CBC", "DES-EDE3-CBC"}) {
            for (const char* digest : {"SHA1", "SHA256", "SHA512"}) {
                CAPTURE(cipher);
                CAPTURE(digest);
                SignedMessage msg = parse_signed_message(request(cipher, digest));
                CHECK(msg.signature_valid);
                CHECK(msg.attrs.message_type == 19);
                CHECK(msg.attrs.transaction_id == "TX-1");
                CHECK(msg.attrs.sender_nonce == Bytes(16, 7));
                CHECK(X509_cmp(msg.signer_cert.get(), self_signed.get()) == 0);
                OpenedEnvelope env = open_envelope(msg.content, ra(), {});
                CHECK(env.algorithms.cipher == cipher);
                CHECK_FALSE(env.algorithms.oaep);
                Csr parsed = parse_csr(env.content);
                CHECK(parsed.signature_valid());
                CHECK(parsed.subject() == "O=Example,CN=device-1");  // RFC 2253 order: last RDN first
                REQUIRE(parsed.challenge_password());
                CHECK(*parsed.challenge_password() == "S3CRET");
            }
        }
    }

    TEST_CASE_FIXTURE(ClientFixture, "OAEP key transport is decrypted and reported") {
        SignedMessage msg = parse_signed_message(request("AES-128-CBC", "SHA256", true));
        OpenedEnvelope env = open_envelope(msg.content, ra(), {});
        CHECK(env.algorithms.oaep);
    }

    TEST_CASE_FIXTURE(ClientFixture, "single DES is refused unless allowed") {
        enable_legacy_ciphers();
        SignedMessage msg = parse_signed_message(request("DES-CBC", "SHA1"));
        SUBCASE("fail/des-not-allowed") {
            try {
                open_envelope(msg.content, ra(), {});
                FAIL("single DES accepted");
            } catch (const ScepFailure& e) {
                CHECK(e.info() == FailInfo::bad_alg);
            }
        }
        SUBCASE("ok/des-allowed") {
            OpenedEnvelope env = open_envelope(msg.content, ra(), {.allow_single_des = true});
            CHECK(env.algorithms.cipher == "DES-CBC");
            CHECK(reply_cipher_for(env.algorithms.cipher) == "DES-EDE3-CBC");
        }
    }

    TEST_CASE_FIXTURE(ClientFixture, "the RA picks its own recipientInfo among several") {
        // Encrypt to the CA and the RA encryption cert, like micromdm scepclient does.
        crypto::X509StackPtr recips(sk_X509_new_null());
        for (X509* c : {pki.ca_cert.get(), pki.ra_sign_cert.get(), pki.ra_enc_cert.get()}) {
            sk_X509_push(recips.get(), crypto::up_ref(*c).release());
        }
        Bytes csr_der = crypto::csr_der(*csr);
        crypto::BioPtr in(BIO_new_mem_buf(csr_der.data(), static_cast<int>(csr_der.size())));
        crypto::CmsPtr cms(CMS_encrypt(recips.get(), in.get(), EVP_aes_128_cbc(), CMS_BINARY));
        REQUIRE(cms);
        unsigned char* der = nullptr;
        int len = i2d_CMS_ContentInfo(cms.get(), &der);
        Bytes env_der(der, der + len);
        OPENSSL_free(der);
        OpenedEnvelope env = open_envelope(env_der, ra(), {});
        CHECK(env.content == csr_der);
    }

    TEST_CASE_FIXTURE(ClientFixture, "an envelope for someone else is badCertId") {
        Signer signer{*self_signed, *key, "SHA256"};
        Bytes req = build_pki_request({MessageType::pkcs_req, "TX-2", {}}, crypto::csr_der(*csr),
                                      *pki.ca_cert, {"AES-128-CBC", false}, signer, now);
        SignedMessage msg = parse_signed_message(req);
        try {
            open_envelope(msg.content, ra(), {});
            FAIL("decrypted an envelope not addressed to the RA");
        } catch (const ScepFailure& e) {
            CHECK(e.info() == FailInfo::bad_cert_id);
        }
    }

    TEST_CASE_FIXTURE(ClientFixture, "a tampered signature is reported, not thrown") {
        Bytes req = request();
        // The last bytes of the DER are the signature value.
        req[req.size() - 5] ^= 0x55;
        SignedMessage msg = parse_signed_message(req);
        CHECK_FALSE(msg.signature_valid);
        CHECK(msg.attrs.transaction_id == "TX-1");
    }

    TEST_CASE("garbage is a DecodeError") {
        SUBCASE("fail/empty") { CHECK_THROWS_AS(parse_signed_message(Bytes{}), DecodeError); }
        SUBCASE("fail/random") {
            CHECK_THROWS_AS(parse_signed_message(crypto::random_bytes(300)), DecodeError);
        }
        SUBCASE("fail/degenerate-has-no-signer") {
            const auto& pki = test::shared_test_pki();
            CHECK_THROWS_AS(parse_signed_message(make_degenerate({pki.ca_cert.get()})), DecodeError);
        }
    }

    TEST_CASE_FIXTURE(ClientFixture, "CertRep SUCCESS carries the certificate to the requester only") {
        Bytes reply = make_cert_rep_success({"TX-1", Bytes(16, 7)}, ra_signer(),
                                            make_degenerate({pki.ra_sign_cert.get(), pki.ca_cert.get()}),
                                            *self_signed, {"AES-256-CBC", false}, now);
        CertRepView view = read_cert_rep(reply, *pki.ra_sign_cert, {*self_signed, *key});
        CHECK(view.status == PkiStatus::success);
        CHECK(view.signature_valid);
        CHECK(view.signed_by_expected);
        CHECK(view.message_type == 3);
        CHECK(view.transaction_id == "TX-1");
        REQUIRE(view.recipient_nonce);
        CHECK(*view.recipient_nonce == Bytes(16, 7));
        CHECK(view.sender_nonce.size() == 16);
        CHECK(view.sender_nonce != Bytes(16, 7));
        CHECK(view.algorithms.cipher == "AES-256-CBC");
        REQUIRE(view.certs.size() == 2);
        CHECK(X509_cmp(view.certs[0].get(), pki.ra_sign_cert.get()) == 0);
        // Another key cannot open it.
        auto other = test::pooled_client_key(1);
        auto other_cert = test::make_cert("CN=other", *other, nullptr, nullptr, {});
        CHECK_THROWS(read_cert_rep(reply, *pki.ra_sign_cert, {*other_cert, *other}));
    }

    TEST_CASE_FIXTURE(ClientFixture, "CertRep FAILURE verifies with PKCS7_verify and carries failInfo") {
        Bytes reply = make_cert_rep_failure({"TX-9", Bytes(16, 1)}, ra_signer(), FailInfo::bad_request,
                                            "the challenge password was already used", now);
        CertRepView view = read_cert_rep(reply, *pki.ra_sign_cert, {*self_signed, *key});
        CHECK(view.status == PkiStatus::failure);
        REQUIRE(view.fail_info);
        CHECK(*view.fail_info == FailInfo::bad_request);
        CHECK(view.fail_info_text.value_or("") == "the challenge password was already used");
        // certmonger verifies replies with PKCS7_verify, which refuses detached content.
        const unsigned char* p = reply.data();
        crypto::Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(reply.size())));
        REQUIRE(p7);
        crypto::X509StorePtr store(X509_STORE_new());
        X509_STORE_add_cert(store.get(), pki.ca_cert.get());
        crypto::BioPtr out(BIO_new(BIO_s_mem()));
        CHECK(PKCS7_verify(p7.get(), nullptr, store.get(), nullptr, out.get(), 0) == 1);
    }

    TEST_CASE_FIXTURE(ClientFixture, "CertRep PENDING has status 3 and no content") {
        Bytes reply = make_cert_rep_pending({"TX-3", Bytes(16, 2)}, ra_signer(), now);
        SignedMessage msg = parse_signed_message(reply);
        CHECK(msg.attrs.pki_status == PkiStatus::pending);
        CHECK(msg.content.empty());
        CHECK_FALSE(msg.attrs.fail_info);
    }

    TEST_CASE("degenerate PKCS#7 keeps certificates in order") {
        const auto& pki = test::shared_test_pki();
        auto certs = parse_degenerate(
            make_degenerate({pki.ra_sign_cert.get(), pki.ra_enc_cert.get(), pki.ca_cert.get()}));
        REQUIRE(certs.size() == 3);
        CHECK(X509_cmp(certs[0].get(), pki.ra_sign_cert.get()) == 0);
        CHECK(X509_cmp(certs[1].get(), pki.ra_enc_cert.get()) == 0);
        CHECK(X509_cmp(certs[2].get(), pki.ca_cert.get()) == 0);
    }

    TEST_CASE("GetCACaps lists only what is implemented") {
        std::string caps = render_caps({});
        for (const char* kw : {"POSTPKIOperation", "SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512", "AES",
                               "DES3", "SCEPStandard"}) {
            CHECK(caps.find(std::string(kw) + "\r\n") != std::string::npos);
        }
        CHECK(caps.find("Renewal") == std::string::npos);
        CHECK(caps.find("GetNextCACert") == std::string::npos);
        CHECK(render_caps({.renewal = true}).find("Renewal\r\n") != std::string::npos);
    }
}
