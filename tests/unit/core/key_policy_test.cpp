// SPDX-License-Identifier: Apache-2.0
// The local CA's default key allow-list (RSA >= 2048, EC P-256/P-384/P-521,
// EdDSA only when listed, DSA never) and its refusal of weak digests.
#include <doctest/doctest.h>
#include <openssl/dsa.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "local/profile.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using backend::local::CertificateProfile;
using backend::local::digest_refusal;
using backend::local::key_rejection;

namespace {

crypto::EvpPkeyPtr ec_key(const char* curve) {
    crypto::EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
    REQUIRE(key);
    return key;
}

crypto::EvpPkeyPtr key_of_type(const char* type) {
    crypto::EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
    REQUIRE(key);
    return key;
}

crypto::EvpPkeyPtr dsa_key(unsigned bits) {
    crypto::EvpPkeyCtxPtr param_ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr));
    REQUIRE(param_ctx);
    REQUIRE(EVP_PKEY_paramgen_init(param_ctx.get()) == 1);
    REQUIRE(EVP_PKEY_CTX_set_dsa_paramgen_bits(param_ctx.get(), bits) == 1);
    EVP_PKEY* params = nullptr;
    REQUIRE(EVP_PKEY_paramgen(param_ctx.get(), &params) == 1);
    crypto::EvpPkeyPtr owned_params(params);
    crypto::EvpPkeyCtxPtr key_ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, params, nullptr));
    REQUIRE(EVP_PKEY_keygen_init(key_ctx.get()) == 1);
    EVP_PKEY* key = nullptr;
    REQUIRE(EVP_PKEY_keygen(key_ctx.get(), &key) == 1);
    return crypto::EvpPkeyPtr(key);
}

/// A P-256 key whose SubjectPublicKeyInfo spells out the curve parameters, read back from DER.
crypto::EvpPkeyPtr explicit_p256() {
    crypto::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    REQUIRE(EVP_PKEY_keygen_init(ctx.get()) == 1);
    REQUIRE(EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") == 1);
    REQUIRE(EVP_PKEY_CTX_set_ec_param_enc(ctx.get(), OPENSSL_EC_EXPLICIT_CURVE) == 1);
    EVP_PKEY* generated = nullptr;
    REQUIRE(EVP_PKEY_keygen(ctx.get(), &generated) == 1);
    crypto::EvpPkeyPtr key(generated);
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(key.get(), &der);
    REQUIRE(len > 0);
    const unsigned char* p = der;
    crypto::EvpPkeyPtr decoded(d2i_PUBKEY(nullptr, &p, len));
    OPENSSL_free(der);
    REQUIRE(decoded);
    return decoded;
}

std::string rejection(const CertificateProfile& profile, EVP_PKEY& key) {
    return key_rejection(profile, key).value_or("");
}

}  // namespace

TEST_SUITE("core.key_policy") {
    TEST_CASE("the default allow-list: RSA of 2048 bits and more, EC on the NIST curves") {
        CertificateProfile any_listed;  // allowed_key_types empty: the default list
        any_listed.name = "T";
        any_listed.allowed_key_types.clear();
        CertificateProfile rsa_ec;  // the struct's default: RSA, EC
        rsa_ec.name = "T";
        for (const CertificateProfile* profile : {&any_listed, &rsa_ec}) {
            CHECK(rejection(*profile, *test::pooled_client_key(0)).empty());
            CHECK(rejection(*profile, *ec_key("P-256")).empty());
            CHECK(rejection(*profile, *ec_key("P-384")).empty());
            CHECK(rejection(*profile, *ec_key("P-521")).empty());
            CHECK(rejection(*profile, *test::make_key(1024)).find("at least 2048 bits") != std::string::npos);
            CHECK(rejection(*profile, *ec_key("P-224")).find("not P-224") != std::string::npos);
            CHECK(rejection(*profile, *ec_key("secp256k1")).find("not secp256k1") != std::string::npos);
            CHECK(rejection(*profile, *ec_key("brainpoolP256r1")).find("P-256, P-384 or P-521") !=
                  std::string::npos);
            CHECK(rejection(*profile, *key_of_type("ED25519")).find("does not allow ED25519") !=
                  std::string::npos);
            CHECK(rejection(*profile, *key_of_type("ED448")).find("does not allow ED448") !=
                  std::string::npos);
        }
        CHECK(rejection(any_listed, *explicit_p256()).find("name their curve") != std::string::npos);
        CHECK(rejection(any_listed, *dsa_key(1024)).find("does not allow DSA keys (allowed: RSA, EC)") !=
              std::string::npos);
    }

    TEST_CASE("EdDSA only when the template lists it; the EC curve rule holds whatever is listed") {
        CertificateProfile profile;
        profile.name = "Modern";
        profile.allowed_key_types = {"ED25519", "EC"};
        CHECK(rejection(profile, *key_of_type("ED25519")).empty());
        CHECK(rejection(profile, *key_of_type("ED448")).find("does not allow ED448") != std::string::npos);
        CHECK(rejection(profile, *ec_key("P-224")).find("not P-224") != std::string::npos);
        CHECK(rejection(profile, *test::pooled_client_key(0)).find("does not allow RSA") !=
              std::string::npos);
        // DSA cannot be listed at all.
        profile.allowed_key_types = {"DSA"};
        CHECK_THROWS_AS(backend::local::check_profile(profile), std::invalid_argument);
    }

    TEST_CASE("certificate digests: SHA-2 and SHA-3 only") {
        CHECK_FALSE(digest_refusal("SHA256"));
        CHECK_FALSE(digest_refusal("sha384"));
        CHECK_FALSE(digest_refusal("SHA512"));
        CHECK_FALSE(digest_refusal("SHA3-256"));
        CHECK(digest_refusal("SHA1").value_or("").find("SHA-2") != std::string::npos);
        CHECK(digest_refusal("sha-1"));
        CHECK(digest_refusal("MD5"));
        CHECK(digest_refusal("MD5-SHA1"));
        CHECK(digest_refusal("no-such-digest").value_or("").find("unknown") != std::string::npos);
    }
}
