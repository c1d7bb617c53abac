// SPDX-License-Identifier: Apache-2.0
// Named certificate profiles (NDES templates) of the local CA: selection, contents and key limits.
#include <doctest/doctest.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "crypto/encoding.hpp"
#include "local/local_ca_backend.hpp"
#include "local_ca_fixture.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::backend;
using namespace scepra::backend::local;

namespace {

using Fixture = test::LocalCaFixture;
using test::contains;
using test::day;
using test::extension;
using test::profile_named;

/// A web-server profile and a VPN profile that differ in every setting.
void add_web_and_vpn(LocalCaConfig& config) {
    auto web = profile_named("WebServer");
    web.validity_days = 30;
    web.key_usage = "digitalSignature";
    web.extended_key_usage = "serverAuth";
    web.copy_san = true;
    config.profiles.push_back(web);
    auto vpn = profile_named("Vpn");
    vpn.validity_days = 90;
    vpn.key_usage = "digitalSignature,keyEncipherment";
    vpn.extended_key_usage = "clientAuth,ipsecIKE";
    vpn.copy_san = false;
    config.profiles.push_back(vpn);
}

crypto::EvpPkeyPtr ed25519_key() {
    crypto::EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    REQUIRE(key != nullptr);
    return key;
}

/// test::make_csr signs with SHA-256, which EdDSA refuses; EdDSA hashes internally.
Bytes ed25519_csr(EVP_PKEY& key, const std::string& cn) {
    crypto::X509ReqPtr req(X509_REQ_new());
    REQUIRE(req != nullptr);
    X509_NAME* name = X509_REQ_get_subject_name(req.get());
    REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) == 1);
    REQUIRE(X509_REQ_set_pubkey(req.get(), &key) == 1);
    REQUIRE(X509_REQ_sign(req.get(), &key, nullptr) > 0);
    return crypto::csr_der(*req);
}

std::time_t not_after(const test::ParsedResult& result) {
    REQUIRE(result.certificate != nullptr);
    std::tm tm{};
    REQUIRE(ASN1_TIME_to_tm(X509_get0_notAfter(result.certificate.get()), &tm) == 1);
    return timegm(&tm);
}

}  // namespace

TEST_SUITE("backends.local.profiles") {
    TEST_CASE(
        "the template name selects a profile; unknown names are rejected, an empty one is the default") {
        Fixture f;
        add_web_and_vpn(f.config);
        auto key = test::pooled_client_key(10);
        const std::time_t now = unix_seconds(f.clock.now());

        SUBCASE("fail/unknown template") {
            auto result = f.submit_as("Printer", *key, "CN=p1");
            CHECK(result.disposition == Disposition::rejected);
            CHECK(result.certificate == nullptr);
            CHECK(result.reason == "unknown certificate template 'Printer'");
            CHECK(f.issued_rows() == 0);
        }
        SUBCASE("fail/unknown template when no profile is configured") {
            f.config.profiles.clear();
            auto result = f.submit_as("IPSECIntermediateOffline", *key, "CN=p2");
            CHECK(result.disposition == Disposition::rejected);
            CHECK(result.reason == "unknown certificate template 'IPSECIntermediateOffline'");
        }
        SUBCASE("ok/empty name uses the top-level settings") {
            auto result = f.submit_as("", *key, "CN=p3");
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(not_after(result) == now + 365 * day);
            CHECK(X509_get_key_usage(result.certificate.get()) ==
                  (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
            CHECK(X509_get_extended_key_usage(result.certificate.get()) == XKU_SSL_CLIENT);
            CHECK(f.backend().find_profile("") != nullptr);
        }
        SUBCASE("ok/names match case-insensitively") {
            auto result = f.submit_as("webserver", *key, "CN=p4");
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(not_after(result) == now + 30 * day);
            CHECK(X509_get_extended_key_usage(result.certificate.get()) == XKU_SSL_SERVER);
            REQUIRE(f.backend().find_profile("VPN") != nullptr);
            CHECK(f.backend().find_profile("VPN")->name == "Vpn");
            CHECK(f.backend().find_profile("Printer") == nullptr);
        }
    }

    TEST_CASE("each profile sets its own validity, key usage, extended key usage and SAN copying") {
        Fixture f;
        add_web_and_vpn(f.config);
        auto key = test::pooled_client_key(11);
        const std::time_t now = unix_seconds(f.clock.now());
        const Bytes csr = crypto::csr_der(
            *test::make_csr(*key, "CN=gw1", "", {{NID_subject_alt_name, "DNS:gw1.example.com"}}));

        SUBCASE("ok/WebServer") {
            auto result = f.submit(csr, "tx-web", "WebServer");
            REQUIRE(result.disposition == Disposition::issued);
            X509& cert = *result.certificate;
            CHECK(not_after(result) == now + 30 * day);
            CHECK(X509_get_key_usage(&cert) == KU_DIGITAL_SIGNATURE);
            CHECK(X509_get_extended_key_usage(&cert) == XKU_SSL_SERVER);
            CHECK(extension(cert, NID_subject_alt_name) != nullptr);
        }
        SUBCASE("ok/Vpn") {
            auto result = f.submit(csr, "tx-vpn", "Vpn");
            REQUIRE(result.disposition == Disposition::issued);
            X509& cert = *result.certificate;
            CHECK(not_after(result) == now + 90 * day);
            CHECK(X509_get_key_usage(&cert) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
            // ipsecIKE has no XKU_ flag: check the OID list itself
            auto* ekus = static_cast<EXTENDED_KEY_USAGE*>(
                X509_get_ext_d2i(&cert, NID_ext_key_usage, nullptr, nullptr));
            REQUIRE(ekus != nullptr);
            REQUIRE(sk_ASN1_OBJECT_num(ekus) == 2);
            CHECK(OBJ_obj2nid(sk_ASN1_OBJECT_value(ekus, 0)) == NID_client_auth);
            CHECK(OBJ_obj2nid(sk_ASN1_OBJECT_value(ekus, 1)) == NID_ipsec_IKE);
            EXTENDED_KEY_USAGE_free(ekus);
            CHECK(extension(cert, NID_subject_alt_name) == nullptr);
        }
        SUBCASE("ok/empty key usages omit the extensions") {
            f.config.profiles.push_back(profile_named("Bare"));
            auto result = f.submit(csr, "tx-bare", "Bare");
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(extension(*result.certificate, NID_key_usage) == nullptr);
            CHECK(extension(*result.certificate, NID_ext_key_usage) == nullptr);
            CHECK(not_after(result) == now + 365 * day);
        }
        SUBCASE("ok/the template is recorded with the certificate") {
            auto result = f.submit(csr, "tx-web", "WEBSERVER");
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(f.count("SELECT COUNT(*) FROM issued_certs WHERE template = 'WebServer'") == 1);
        }
    }

    TEST_CASE("profiles limit RSA key size and key types") {
        Fixture f;
        auto rsa2048 = test::pooled_client_key(12);
        auto ec = test::make_key(0, true);
        auto strict = profile_named("Strict");
        strict.min_rsa_bits = 3072;
        strict.allowed_key_types = {"RSA"};
        f.config.profiles.push_back(strict);
        auto ec_only = profile_named("EcOnly");
        ec_only.allowed_key_types = {"ec"};
        f.config.profiles.push_back(ec_only);
        auto modern = profile_named("Modern");
        modern.allowed_key_types = {"ED25519", "EC"};
        modern.key_usage = "digitalSignature,keyEncipherment";
        f.config.profiles.push_back(modern);
        f.config.profiles.push_back(profile_named("Standard"));  // RSA from 2048 bits and EC

        SUBCASE("fail/RSA below the profile's minimum") {
            auto result = f.submit_as("Strict", *rsa2048, "CN=k1");
            CHECK(result.disposition == Disposition::rejected);
            CHECK(result.reason == "RSA keys must have at least 3072 bits, the request's has 2048");
            CHECK(f.issued_rows() == 0);
        }
        SUBCASE("ok/RSA at the profile's minimum") {
            auto rsa3072 = test::make_key(3072);
            CHECK(f.submit_as("Strict", *rsa3072, "CN=k2").disposition == Disposition::issued);
        }
        SUBCASE("fail/EC where only RSA is allowed") {
            auto result = f.submit_as("Strict", *ec, "CN=k3");
            CHECK(result.disposition == Disposition::rejected);
            CHECK(result.reason == "certificate template 'Strict' does not allow EC keys (allowed: RSA)");
        }
        SUBCASE("fail/RSA where only EC is allowed") {
            auto result = f.submit_as("EcOnly", *rsa2048, "CN=k4");
            CHECK(result.disposition == Disposition::rejected);
            CHECK(contains(result.reason, "does not allow RSA keys"));
            CHECK(f.issued_rows() == 0);
        }
        SUBCASE("ok/EC where EC is allowed") {
            CHECK(f.submit_as("EcOnly", *ec, "CN=k5").disposition == Disposition::issued);
        }
        SUBCASE("fail/Ed25519 under the struct's default key types") {
            auto ed = ed25519_key();
            auto result = f.submit(ed25519_csr(*ed, "k6"), "tx-k6", "Standard");
            CHECK(result.disposition == Disposition::rejected);
            CHECK(contains(result.reason, "does not allow ED25519 keys (allowed: RSA, EC)"));
        }
        SUBCASE("ok/Ed25519 where allowed, without keyEncipherment") {
            auto ed = ed25519_key();
            auto result = f.submit(ed25519_csr(*ed, "k7"), "tx-k7", "Modern");
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(X509_get_key_usage(result.certificate.get()) == KU_DIGITAL_SIGNATURE);
        }
        SUBCASE("the default profile takes the default allow-list: RSA and EC, EdDSA only where listed") {
            auto ed = ed25519_key();
            auto result = f.submit(ed25519_csr(*ed, "k8"));
            CHECK(result.disposition == Disposition::rejected);
            CHECK(contains(result.reason, "does not allow ED25519 keys (allowed: RSA, EC)"));
            CHECK(f.submit(*ec, "CN=k9").disposition == Disposition::issued);
        }
    }

    TEST_CASE("profile settings are checked when the backend is built") {
        Fixture f;
        add_web_and_vpn(f.config);

        SUBCASE("ok/valid profiles") { CHECK_NOTHROW(f.backend()); }
        SUBCASE("fail/bad settings") {
            std::string expected;
            SUBCASE("empty name") {
                f.config.profiles.push_back(profile_named(""));
                expected = "needs a name";
            }
            SUBCASE("duplicate name, any case") {
                f.config.profiles.push_back(profile_named("VPN"));
                expected = "defined twice";
            }
            SUBCASE("validity") {
                f.config.profiles[0].validity_days = 0;
                expected = "validity_days";
            }
            SUBCASE("key usage") {
                f.config.profiles[1].key_usage = "digitalSignature,flyingPigs";
                expected = "key_usage";
            }
            SUBCASE("extended key usage") {
                f.config.profiles[1].extended_key_usage = "notAnEku";
                expected = "extended_key_usage";
            }
            SUBCASE("key type") {
                f.config.profiles[0].allowed_key_types = {"RSA", "DSA"};
                expected = "unknown key type 'DSA'";
            }
            SUBCASE("RSA size") {
                f.config.profiles[0].min_rsa_bits = 0;
                expected = "min_rsa_bits";
            }
            SUBCASE("CRL validity") {
                f.config.crl_validity_hours = 0;
                expected = "crl_validity_hours";
            }
            CHECK(contains(test::thrown_message<std::invalid_argument>([&] { f.backend(); }), expected));
        }
    }
}
