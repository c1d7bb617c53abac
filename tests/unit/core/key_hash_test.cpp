// SPDX-License-Identifier: Apache-2.0
// key_hash identifies a requester's key across PKCSReq, re-sent requests and
// CertPoll (stored in requests.key_hash). Hashing the parsed SPKI must give
// the value hashing OpenSSL's own encoding of the key gives, so that rows
// written before the change still match.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/renewal_policy.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

namespace {

Bytes encoder_hash(EVP_PKEY& key) {
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(&key, &der);
    REQUIRE(len > 0);
    Bytes hash = crypto::sha256(ByteView(der, static_cast<size_t>(len)));
    OPENSSL_free(der);
    return hash;
}

Bytes csr_key_hash(EVP_PKEY& key) {
    crypto::X509ReqPtr request(X509_REQ_new());
    REQUIRE(X509_REQ_set_pubkey(request.get(), &key) == 1);
    // EdDSA signs without a separate digest.
    const EVP_MD* md = EVP_PKEY_is_a(&key, "ED25519") ? nullptr : EVP_sha256();
    REQUIRE(X509_REQ_sign(request.get(), &key, md) > 0);
    // Through DER, as the RA sees a request.
    auto csr = crypto::csr_from_der(crypto::csr_der(*request));
    return core::key_hash(*X509_REQ_get_X509_PUBKEY(csr.get()));
}

}  // namespace

TEST_CASE("key_hash of a parsed request equals the hash of the key's own encoding") {
    crypto::EvpPkeyPtr rsa = test::pooled_client_key(3);
    crypto::EvpPkeyPtr ec(EVP_EC_gen("P-256"));
    crypto::EvpPkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    REQUIRE(ec != nullptr);
    REQUIRE(ed != nullptr);
    for (EVP_PKEY* key : {rsa.get(), ec.get(), ed.get()}) {
        CAPTURE(EVP_PKEY_get0_type_name(key));
        CHECK(csr_key_hash(*key) == encoder_hash(*key));
    }
    CHECK(csr_key_hash(*rsa) != csr_key_hash(*test::pooled_client_key(4)));
}

TEST_CASE("key_hash of a certificate equals key_hash of a request for the same key") {
    const auto& pki = test::shared_test_pki();
    CHECK(core::key_hash(*X509_get_X509_PUBKEY(pki.ra_sign_cert.get())) == encoder_hash(*pki.ra_sign_key));
    CHECK(core::key_hash(*X509_get_X509_PUBKEY(pki.ra_sign_cert.get())) == csr_key_hash(*pki.ra_sign_key));
}
