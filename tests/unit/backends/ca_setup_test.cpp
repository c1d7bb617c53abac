// SPDX-License-Identifier: Apache-2.0
// Local CA setup: random serials, subject parsing, the root CA and the two RA certificates.
#include "local/ca_setup.hpp"

#include <doctest/doctest.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <ctime>
#include <set>
#include <stdexcept>
#include <string>

#include "common/clock.hpp"
#include "crypto/encoding.hpp"
#include "local/serial.hpp"
#include "local_ca_fixture.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::backend::local;

using test::is_critical;

namespace {

TimePoint whole_seconds_now() {
    return TimePoint(std::chrono::seconds(unix_seconds(std::chrono::system_clock::now())));
}

int serial_bits(const ASN1_INTEGER& serial) {
    crypto::BignumPtr bn(ASN1_INTEGER_to_BN(&serial, nullptr));
    REQUIRE(bn != nullptr);
    REQUIRE_FALSE(BN_is_negative(bn.get()));
    return BN_num_bits(bn.get());
}

bool verifies(X509& cert, X509& trust_anchor, TimePoint at) {
    crypto::X509StorePtr store(X509_STORE_new());
    REQUIRE(store != nullptr);
    REQUIRE(X509_STORE_add_cert(store.get(), &trust_anchor) == 1);
    crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), &cert, nullptr) == 1);
    X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<std::time_t>(unix_seconds(at)));
    int ok = X509_verify_cert(ctx.get());
    if (ok != 1) {
        MESSAGE(
            "verify: " << std::string(X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))));
    }
    return ok == 1;
}

bool has_extension(X509& cert, int nid) { return X509_get_ext_by_NID(&cert, nid, -1) >= 0; }

std::set<std::string> eku_oids(X509& cert) {
    std::set<std::string> out;
    auto* eku =
        static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(&cert, NID_ext_key_usage, nullptr, nullptr));
    if (eku == nullptr) {
        return out;
    }
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku); ++i) {
        char buf[128];
        OBJ_obj2txt(buf, sizeof buf, sk_ASN1_OBJECT_value(eku, i), 1);
        out.insert(buf);
    }
    EXTENDED_KEY_USAGE_free(eku);
    return out;
}

std::string message_of_invalid_argument(const std::string& subject) {
    try {
        parse_subject(subject);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "<nothing thrown>";
}

}  // namespace

TEST_SUITE("backends.local") {
    TEST_CASE("random serials are positive, under 128 bits, well spread and unique") {
        std::set<std::string> seen;
        int widest = 0;
        int narrowest = 1000;
        for (int i = 0; i < 1000; ++i) {
            auto serial = random_serial();
            REQUIRE(serial != nullptr);
            int bits = serial_bits(*serial);
            widest = std::max(widest, bits);
            narrowest = std::min(narrowest, bits);
            // top bit cleared: 16 content octets, no 0x00 sign padding
            CHECK(ASN1_STRING_length(serial.get()) <= 16);
            seen.insert(crypto::serial_hex(*serial));
        }
        CHECK(seen.size() == 1000);
        CHECK(widest == 127);    // the top bit is cleared, the next one is random
        CHECK(narrowest >= 64);  // at least 64 random bits (fails with probability 2^-53)
    }

    TEST_CASE("parse_subject reads RFC 4514 and OpenSSL slash forms") {
        SUBCASE("ok/comma form round-trips through name_string") {
            auto name = parse_subject("CN=scep-ra Root CA,O=Example,C=DE");
            CHECK(crypto::name_string(*name) == "CN=scep-ra Root CA,O=Example,C=DE");
            // RFC 4514 lists the most specific RDN first, DER stores the country first
            REQUIRE(X509_NAME_entry_count(name.get()) == 3);
            CHECK(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name.get(), 0))) ==
                  NID_countryName);
        }
        SUBCASE("ok/slash form is in DER order and equals the comma form") {
            auto slash = parse_subject("/C=DE/O=Example/CN=scep-ra Root CA");
            auto comma = parse_subject("CN=scep-ra Root CA,O=Example,C=DE");
            CHECK(X509_NAME_cmp(slash.get(), comma.get()) == 0);
            CHECK(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(slash.get(), 0))) ==
                  NID_countryName);
        }
        SUBCASE("ok/spaces around separators are ignored") {
            auto name = parse_subject(" CN = router 1 , O = Example ");
            CHECK(crypto::name_string(*name) == "CN=router 1,O=Example");
        }
        SUBCASE("ok/backslash escapes a separator") {
            auto name = parse_subject("CN=Doe\\, John,O=Example");
            REQUIRE(X509_NAME_entry_count(name.get()) == 2);
            char cn[64] = {};
            REQUIRE(X509_NAME_get_text_by_NID(name.get(), NID_commonName, cn, sizeof cn) > 0);
            CHECK(std::string(cn) == "Doe, John");
            auto slashed = parse_subject("/O=Example/CN=a\\/b");
            REQUIRE(X509_NAME_get_text_by_NID(slashed.get(), NID_commonName, cn, sizeof cn) > 0);
            CHECK(std::string(cn) == "a/b");
        }
        SUBCASE("fail/malformed text names the text") {
            for (std::string bad : {"", "CN", "=x", "CN=", "CN=x,", "/CN=x/", "NOSUCHATTR=x", "CN=a+O=b",
                                    "CN=x\\", "C=Germany"}) {
                CAPTURE(bad);
                std::string message = message_of_invalid_argument(bad);
                CHECK(message.find("bad subject '" + bad + "'") != std::string::npos);
            }
        }
    }

    TEST_CASE("create_root_ca makes a self-signed v3 CA certificate") {
        FixedClock clock(whole_seconds_now());
        const std::time_t now = unix_seconds(clock.now());
        SUBCASE("ok/rsa") {
            auto key = test::pooled_client_key(0);
            auto ca = create_root_ca(*key, "CN=Test Root,O=Example", 3650, clock);
            REQUIRE(ca != nullptr);
            CHECK(X509_get_version(ca.get()) == X509_VERSION_3);
            CHECK(crypto::name_string(*X509_get_subject_name(ca.get())) == "CN=Test Root,O=Example");
            CHECK(X509_NAME_cmp(X509_get_subject_name(ca.get()), X509_get_issuer_name(ca.get())) == 0);
            CHECK(X509_check_ca(ca.get()) == 1);
            CHECK(is_critical(*ca, NID_basic_constraints));
            CHECK(is_critical(*ca, NID_key_usage));
            CHECK(X509_get_key_usage(ca.get()) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE));
            CHECK(X509_get0_subject_key_id(ca.get()) != nullptr);
            CHECK(X509_get_signature_nid(ca.get()) == NID_sha256WithRSAEncryption);
            CHECK(serial_bits(*X509_get0_serialNumber(ca.get())) >= 64);
            CHECK(ASN1_TIME_cmp_time_t(X509_get0_notAfter(ca.get()), now + 3650L * 86400) == 0);
            CHECK(ASN1_TIME_cmp_time_t(X509_get0_notBefore(ca.get()), now) <= 0);
            CHECK(X509_verify(ca.get(), key.get()) == 1);
            CHECK(verifies(*ca, *ca, clock.now()));
        }
        SUBCASE("ok/ec keys are signed with SHA-256 too") {
            auto key = test::make_key(0, true);
            auto ca = create_root_ca(*key, "/CN=EC Root", 365, clock);
            CHECK(X509_get_signature_nid(ca.get()) == NID_ecdsa_with_SHA256);
            CHECK(X509_check_ca(ca.get()) == 1);
            CHECK(verifies(*ca, *ca, clock.now()));
        }
        SUBCASE("fail/bad arguments") {
            auto key = test::make_key(0, true);
            CHECK_THROWS_AS(create_root_ca(*key, "CN=Root", 0, clock), std::invalid_argument);
            CHECK_THROWS_AS(create_root_ca(*key, "Root", 365, clock), std::invalid_argument);
        }
    }

    TEST_CASE("issue_ra_certificate gives NDES-style RA signing and encryption certificates") {
        FixedClock clock(whole_seconds_now());
        const std::time_t now = unix_seconds(clock.now());
        auto ca_key = test::make_key(0, true);
        auto ca = create_root_ca(*ca_key, "CN=RA Test Root", 3650, clock);
        auto ra_key = test::pooled_client_key(1);

        SUBCASE("ok/signing") {
            auto ra =
                issue_ra_certificate(*ca, *ca_key, *ra_key, "CN=host-MSCEP-RA", RaRole::signing, 730, clock);
            CHECK(verifies(*ra, *ca, clock.now()));
            CHECK(X509_check_ca(ra.get()) == 0);
            CHECK(has_extension(*ra, NID_basic_constraints));
            CHECK(is_critical(*ra, NID_basic_constraints));
            CHECK(is_critical(*ra, NID_key_usage));
            CHECK(X509_get_key_usage(ra.get()) == KU_DIGITAL_SIGNATURE);
            CHECK(eku_oids(*ra) == std::set<std::string>{"1.3.6.1.4.1.311.20.2.1"});
            CHECK(X509_get0_subject_key_id(ra.get()) != nullptr);
            REQUIRE(X509_get0_authority_key_id(ra.get()) != nullptr);
            CHECK(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(ra.get()),
                                        X509_get0_subject_key_id(ca.get())) == 0);
            CHECK(X509_NAME_cmp(X509_get_issuer_name(ra.get()), X509_get_subject_name(ca.get())) == 0);
            CHECK(ASN1_TIME_cmp_time_t(X509_get0_notAfter(ra.get()), now + 730L * 86400) == 0);
            CHECK(X509_get_signature_nid(ra.get()) == NID_ecdsa_with_SHA256);
        }
        SUBCASE("ok/encryption has keyEncipherment only") {
            auto ra = issue_ra_certificate(*ca, *ca_key, *ra_key, "CN=host-MSCEP-RA-enc", RaRole::encryption,
                                           730, clock);
            CHECK(verifies(*ra, *ca, clock.now()));
            CHECK(is_critical(*ra, NID_key_usage));
            CHECK(X509_get_key_usage(ra.get()) == KU_KEY_ENCIPHERMENT);
            CHECK_FALSE(has_extension(*ra, NID_ext_key_usage));
            CHECK(X509_check_ca(ra.get()) == 0);
        }
        SUBCASE("ok/notAfter is clamped to the CA's") {
            auto short_ca = create_root_ca(*ca_key, "CN=Short Root", 10, clock);
            auto ra = issue_ra_certificate(*short_ca, *ca_key, *ra_key, "CN=ra", RaRole::signing, 365, clock);
            CHECK(ASN1_TIME_compare(X509_get0_notAfter(ra.get()), X509_get0_notAfter(short_ca.get())) == 0);
        }
        SUBCASE("fail/wrong CA key") {
            auto other = test::make_key(0, true);
            CHECK_THROWS_AS(issue_ra_certificate(*ca, *other, *ra_key, "CN=ra", RaRole::signing, 365, clock),
                            std::invalid_argument);
        }
        SUBCASE("fail/issuer is not a CA") {
            auto leaf = issue_ra_certificate(*ca, *ca_key, *ra_key, "CN=ra", RaRole::signing, 365, clock);
            CHECK_THROWS_AS(
                issue_ra_certificate(*leaf, *ra_key, *ra_key, "CN=x", RaRole::signing, 365, clock),
                std::invalid_argument);
        }
        SUBCASE("fail/CA expired") {
            clock.advance(std::chrono::hours(24 * 3651));
            CHECK_THROWS_AS(issue_ra_certificate(*ca, *ca_key, *ra_key, "CN=ra", RaRole::signing, 365, clock),
                            std::runtime_error);
        }
    }
}
