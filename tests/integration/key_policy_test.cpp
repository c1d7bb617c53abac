// SPDX-License-Identifier: Apache-2.0
// Weak keys through the real server: a request for a DSA, short RSA or small
// or non-NIST EC key gets a FAILURE badRequest saying why; EdDSA only where a
// template lists it. MD5 and SHA-1 certificate digests are config errors.
#include <doctest/doctest.h>
#include <openssl/dsa.h>
#include <openssl/evp.h>

#include "cli/app_config.hpp"
#include "crypto/encoding.hpp"
#include "integration/scep_exchange.hpp"
#include "integration/server_fixture.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::PkiStatus;

namespace {

crypto::EvpPkeyPtr generated(const char* type, const char* curve = nullptr) {
    crypto::EvpPkeyPtr key(curve ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                                 : EVP_PKEY_Q_keygen(nullptr, nullptr, type));
    REQUIRE(key);
    return key;
}

crypto::EvpPkeyPtr dsa_1024() {
    crypto::EvpPkeyCtxPtr param_ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr));
    REQUIRE(EVP_PKEY_paramgen_init(param_ctx.get()) == 1);
    REQUIRE(EVP_PKEY_CTX_set_dsa_paramgen_bits(param_ctx.get(), 1024) == 1);
    EVP_PKEY* params = nullptr;
    REQUIRE(EVP_PKEY_paramgen(param_ctx.get(), &params) == 1);
    crypto::EvpPkeyPtr owned_params(params);
    crypto::EvpPkeyCtxPtr key_ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, params, nullptr));
    REQUIRE(EVP_PKEY_keygen_init(key_ctx.get()) == 1);
    EVP_PKEY* key = nullptr;
    REQUIRE(EVP_PKEY_keygen(key_ctx.get(), &key) == 1);
    return crypto::EvpPkeyPtr(key);
}

/// A PKCS#10 for key with a challenge, signed the way the key type signs (EdDSA without a digest).
crypto::X509ReqPtr csr_for(EVP_PKEY& key, const std::string& cn, const std::string& challenge) {
    crypto::X509ReqPtr req(X509_REQ_new());
    REQUIRE(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) == 1);
    REQUIRE(X509_REQ_set_pubkey(req.get(), &key) == 1);
    REQUIRE(X509_REQ_add1_attr_by_NID(req.get(), NID_pkcs9_challengePassword, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(challenge.c_str()), -1) == 1);
    const bool eddsa = EVP_PKEY_is_a(&key, "ED25519") == 1 || EVP_PKEY_is_a(&key, "ED448") == 1;
    REQUIRE(X509_REQ_sign(req.get(), &key, eddsa ? nullptr : EVP_sha256()) > 0);
    return req;
}

/// Enrols a CSR for key; the message is signed by an RSA device (the reply must be encrypted to it).
scep::CertRepView enrol_key(ServerFixture& server, EVP_PKEY& key, const std::string& txid,
                            const std::string& password = {}) {
    Device device(0, "weak-" + txid);
    Bytes req = scep::build_pki_request(
        {scep::MessageType::pkcs_req, txid, {}},
        crypto::csr_der(*csr_for(key, "weak-" + txid, password.empty() ? server.password() : password)),
        server.ra_encryption_cert(), {"AES-128-CBC", false}, device.signer(), server.clock().now());
    Reply reply = send_pki(server, req);
    REQUIRE(reply.http_status == 200);
    return scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), device.recipient());
}

void check_issued(const scep::CertRepView& view, EVP_PKEY& key) {
    CAPTURE(view.fail_info_text.value_or(""));
    REQUIRE(view.status == PkiStatus::success);
    REQUIRE(!view.certs.empty());
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(view.certs[0].get()), &key) == 1);
}

}  // namespace

TEST_SUITE("http.key_policy") {
    TEST_CASE("the default templates refuse weak keys with a FAILURE that says why") {
        ServerFixture server(many_passwords);
        SUBCASE("fail/dsa-1024") {
            check_refused(enrol_key(server, *dsa_1024(), "TX-DSA"), "does not allow DSA keys");
        }
        SUBCASE("fail/rsa-1024") {
            check_refused(enrol_key(server, *make_key(1024), "TX-RSA1024"), "at least 2048 bits");
        }
        SUBCASE("fail/ec-p224") {
            check_refused(enrol_key(server, *generated("EC", "P-224"), "TX-P224"), "not P-224");
        }
        SUBCASE("fail/ec-secp256k1") {
            check_refused(enrol_key(server, *generated("EC", "secp256k1"), "TX-K1"), "not secp256k1");
        }
        SUBCASE("fail/ed25519-not-listed") {
            check_refused(enrol_key(server, *generated("ED25519"), "TX-ED"), "does not allow ED25519 keys");
        }
        SUBCASE("ok/ec-p384") {
            auto key = generated("EC", "P-384");
            check_issued(enrol_key(server, *key, "TX-P384"), *key);
        }
        SUBCASE("ok/rsa-2048") {
            auto key = pooled_client_key(1);
            check_issued(enrol_key(server, *key, "TX-RSA"), *key);
        }
    }

    TEST_CASE("a weak key is refused before the challenge: its one-time password stays usable") {
        ServerFixture server(many_passwords);
        const std::string password = server.password();
        check_refused(enrol_key(server, *make_key(1024), "TX-WEAK-FIRST", password), "at least 2048 bits");
        CHECK(server.sql("SELECT count(*) FROM challenges WHERE used_at IS NOT NULL") == "0");
        auto key = pooled_client_key(2);
        check_issued(enrol_key(server, *key, "TX-STRONG-SECOND", password), *key);
    }

    TEST_CASE("Ed25519 is issued where the template lists it") {
        ServerFixture server([](std::string& conf) {
            many_passwords(conf);
            conf += "\n[profile.IPSECIntermediateOffline]\nallowed_key_types = RSA,EC,ED25519\n";
        });
        auto key = generated("ED25519");
        check_issued(enrol_key(server, *key, "TX-ED"), *key);
        check_refused(enrol_key(server, *generated("ED448"), "TX-ED448"), "does not allow ED448 keys");
    }

    TEST_CASE("[local_ca] digest refuses MD5 and SHA-1 as a config error naming the key") {
        for (const char* weak : {"SHA1", "MD5"}) {
            CAPTURE(weak);
            std::string message;
            try {
                ServerFixture server([&](std::string& conf) { set_key(conf, "digest", weak); });
            } catch (const cli::ConfigError& e) {
                message = e.what();
            }
            CHECK(message.find("[local_ca] digest") != std::string::npos);
        }
    }
}
