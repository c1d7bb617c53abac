// SPDX-License-Identifier: Apache-2.0
// scep::Csr: what policy code reads of a request, decoded once.
#include "scep/csr.hpp"

#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include "crypto/encoding.hpp"
#include "scep/types.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

namespace {

scep::Csr parsed(EVP_PKEY& key, const std::string& subject, const std::string& challenge = "",
                 const std::vector<test::Ext>& exts = {}) {
    return scep::Csr::parse(crypto::csr_der(*test::make_csr(key, subject, challenge, exts)));
}

}  // namespace

TEST_SUITE("scep.csr") {
    TEST_CASE("the accessors give the subject, names, challenge, key and requested key usage") {
        auto key = test::pooled_client_key(0);
        const scep::Csr csr =
            parsed(*key, "CN=router-1.example.com,CN=second,O=Example", "S3CRET",
                   {{NID_subject_alt_name, "DNS:router-1.example.com,email:ops@example.com"},
                    {NID_key_usage, "critical,digitalSignature"}});
        CHECK(csr.signature_valid());
        CHECK(csr.subject() == "O=Example,CN=second,CN=router-1.example.com");
        REQUIRE(csr.common_names().size() == 2);
        CHECK(csr.common_names()[0] == "router-1.example.com");
        CHECK(csr.common_names()[1] == "second");
        REQUIRE(csr.challenge_password());
        CHECK(*csr.challenge_password() == "S3CRET");
        CHECK(csr.alt_names().error.empty());
        REQUIRE(csr.alt_names().count() == 2);
        CHECK(crypto::describe_alt_name(csr.alt_names().at(0)) == "DNS:router-1.example.com");
        CHECK(crypto::dns_or_email(csr.alt_names().at(1)) == "ops@example.com");
        REQUIRE(csr.requested_key_usage());
        CHECK(*csr.requested_key_usage() == KU_DIGITAL_SIGNATURE);
        CHECK(csr.key_info().type == "RSA");
        CHECK(csr.key_info().bits == 2048);
        CHECK(csr.key_info().curve.empty());
        REQUIRE(csr.public_key() != nullptr);
        CHECK(csr.key_hash() == crypto::spki_hash(*X509_REQ_get_X509_PUBKEY(&csr.req())));
        CHECK(csr.der() == crypto::csr_der(csr.req()));
    }

    TEST_CASE("an EC key reports its curve; a request without extensions has no names and no key usage") {
        auto key = test::make_key(256, true);
        const scep::Csr csr = parsed(*key, "CN=ec-device");
        CHECK(csr.key_info().type == "EC");
        CHECK(csr.key_info().bits == 256);
        CHECK(csr.key_info().curve == "prime256v1");
        CHECK(csr.alt_names().count() == 0);
        CHECK_FALSE(csr.requested_key_usage());
        CHECK_FALSE(csr.challenge_password());
    }

    TEST_CASE("the request-info hash ignores the signature and follows every signed field") {
        auto key = test::make_key(256, true);
        // ECDSA signs differently every time: same request, new signature.
        const scep::Csr a = parsed(*key, "CN=same");
        const scep::Csr b = parsed(*key, "CN=same");
        REQUIRE(a.der() != b.der());
        CHECK(a.request_info_hash() == b.request_info_hash());
        CHECK(a.request_info_hash() != parsed(*key, "CN=other").request_info_hash());
    }

    TEST_CASE("the subject and key compare with a certificate's") {
        auto key = test::pooled_client_key(1);
        auto other = test::pooled_client_key(2);
        auto cert = test::make_cert("CN=device,O=Example", *key, nullptr, nullptr, {});
        CHECK(parsed(*key, "CN=device,O=Example").has_subject_of(*cert));
        CHECK_FALSE(parsed(*key, "CN=device,O=Other").has_subject_of(*cert));
        CHECK(parsed(*key, "CN=x").has_key_of(*cert));
        CHECK_FALSE(parsed(*other, "CN=x").has_key_of(*cert));
    }

    TEST_CASE("copies share one decoding and outlive the original") {
        auto key = test::pooled_client_key(3);
        std::optional<scep::Csr> original = parsed(*key, "CN=copied");
        const scep::Csr copy = *original;
        X509_REQ* decoded = &original->req();
        original.reset();
        CHECK(&copy.req() == decoded);
        CHECK(copy.subject() == "CN=copied");
    }

    TEST_CASE("anything that is not a PKCS#10 is badRequest") {
        const Bytes junk{0x30, 0x03, 0x02, 0x01, 0x00};
        CHECK_THROWS_AS(scep::Csr::parse(junk), scep::ScepFailure);
    }
}
