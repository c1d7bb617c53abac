// SPDX-License-Identifier: Apache-2.0
// renewal_refusal on its own: dates computed in 64-bit seconds (certificates
// valid for centuries), fail-closed revocation, and subjectAltName rules.
#include "core/renewal_policy.hpp"

#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include "crypto/encoding.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace std::chrono_literals;

namespace {

/// A CA backend that knows one certificate (or none), in a given state.
class OneCertificateCa final : public backend::CaBackend {
  public:
    crypto::X509Ptr known;
    backend::CertState state = backend::CertState::valid;

    std::string name() const override { return "test"; }
    backend::SubmitResult submit(const backend::SubmitRequest&) override { return {}; }
    backend::SubmitResult poll(const backend::PollRequest&) override { return {}; }
    std::vector<crypto::X509Ptr> ca_chain() const override { return {}; }
    std::optional<backend::IssuedCertificate> find_certificate(const std::string&,
                                                               const std::string& serial) override {
        if (!known || crypto::serial_hex(*known) != serial) {
            return std::nullopt;
        }
        return backend::IssuedCertificate{crypto::up_ref(*known), state};
    }
};

/// A certificate of the shared test CA for key, valid from one hour ago until not_after (ASN.1 text).
crypto::X509Ptr issued_until(EVP_PKEY& key, const std::string& not_after,
                             const std::vector<test::Ext>& exts = {}, long serial = 10) {
    const auto& pki = test::shared_test_pki();
    auto cert =
        test::make_cert("CN=device,O=Example", key, pki.ca_cert.get(), pki.ca_key.get(), exts, 365, serial);
    REQUIRE(ASN1_TIME_set_string_X509(X509_getm_notAfter(cert.get()), not_after.c_str()) == 1);
    REQUIRE(X509_sign(cert.get(), pki.ca_key.get(), EVP_sha256()) > 0);
    return cert;
}

/// renewal_refusal, with the revocation status asked of this CA's records.
std::optional<std::string> refusal(X509& signer, const scep::Csr& csr, backend::CaBackend& ca,
                                   const core::RenewalPolicy& policy, TimePoint now) {
    core::BackendRevocationCheck check(ca);
    return core::renewal_refusal(signer, csr, check, policy, now);
}

scep::Csr csr_for(EVP_PKEY& key, const std::vector<test::Ext>& exts = {}) {
    scep::Csr csr = scep::Csr::parse(crypto::csr_der(*test::make_csr(key, "CN=device,O=Example", "", exts)));
    REQUIRE(csr.signature_valid());
    return csr;
}

}  // namespace

TEST_SUITE("core.renewal") {
    TEST_CASE("the renewal window of a certificate valid for centuries is computed without overflow") {
        auto key = test::pooled_client_key(0);
        OneCertificateCa ca;
        core::RenewalPolicy policy;
        const auto now = std::chrono::system_clock::now();
        for (const char* not_after : {"22260101000000Z", "99991231235959Z"}) {
            CAPTURE(not_after);
            ca.known = issued_until(*key, not_after);
            SUBCASE("fail/window_percent-early-in-the-life") {
                policy.window_percent = 50;
                auto why = refusal(*ca.known, csr_for(*key), ca, policy, now);
                REQUIRE(why);
                CHECK(why->find("too early") != std::string::npos);
            }
            SUBCASE("fail/window_days-early-in-the-life") {
                policy.window_days = 30;
                auto why = refusal(*ca.known, csr_for(*key), ca, policy, now);
                REQUIRE(why);
                CHECK(why->find("too early") != std::string::npos);
            }
            SUBCASE("ok/no-window") { CHECK_FALSE(refusal(*ca.known, csr_for(*key), ca, policy, now)); }
        }
    }

    TEST_CASE("a certificate the backend does not know, or knows under another body, is refused") {
        auto key = test::pooled_client_key(0);
        OneCertificateCa ca;
        auto cert = issued_until(*key, "20991231235959Z", {}, 11);
        const auto now = std::chrono::system_clock::now();
        SUBCASE("fail/unknown") {
            auto why = refusal(*cert, csr_for(*key), ca, {}, now);
            REQUIRE(why);
            CHECK(why->find("not in the CA's records") != std::string::npos);
        }
        SUBCASE("fail/same-serial-other-certificate") {
            ca.known = issued_until(*key, "20981231235959Z", {}, 11);
            auto why = refusal(*cert, csr_for(*key), ca, {}, now);
            REQUIRE(why);
            CHECK(why->find("differs") != std::string::npos);
        }
        SUBCASE("fail/revoked") {
            ca.known = crypto::up_ref(*cert);
            ca.state = backend::CertState::revoked;
            auto why = refusal(*cert, csr_for(*key), ca, {}, now);
            REQUIRE(why);
            CHECK(why->find("revoked") != std::string::npos);
        }
        SUBCASE("ok/known-and-valid") {
            ca.known = crypto::up_ref(*cert);
            CHECK_FALSE(refusal(*cert, csr_for(*key), ca, {}, now));
        }
    }

    TEST_CASE("a renewal never adds a subjectAltName; same keeps them all, subset may drop some") {
        auto key = test::pooled_client_key(0);
        OneCertificateCa ca;
        ca.known = issued_until(
            *key, "20991231235959Z",
            {{NID_subject_alt_name, "DNS:printer.example.com,IP:192.0.2.7,email:p@example.com"}});
        const auto now = std::chrono::system_clock::now();
        core::RenewalPolicy same;
        core::RenewalPolicy subset;
        subset.san = core::RenewalSanRule::subset;
        auto refusal = [&](const core::RenewalPolicy& policy, const std::string& san) {
            std::vector<test::Ext> exts;
            if (!san.empty()) exts.push_back({NID_subject_alt_name, san});
            return ::refusal(*ca.known, csr_for(*key, exts), ca, policy, now).value_or("");
        };
        const std::string all = "IP:192.0.2.7,email:p@example.com,DNS:printer.example.com";
        CHECK(refusal(same, all).empty());
        CHECK(refusal(same, "DNS:PRINTER.Example.COM,IP:192.0.2.7,email:p@example.com")
                  .empty());                                             // DNS ignores case
        CHECK(refusal(same, all + ",DNS:printer.example.com").empty());  // a set
        CHECK(refusal(same, all + ",DNS:vpn.corp").find("may not add") != std::string::npos);
        CHECK(refusal(same, all + ",otherName:1.3.6.1.4.1.311.20.2.3;UTF8:administrator@corp").find("UPN") !=
              std::string::npos);
        CHECK(refusal(subset, "IP:192.0.2.8").find("IP:192.0.2.8") != std::string::npos);
        // Text equal, type different: a URI is not the DNS name.
        CHECK(refusal(subset, "URI:printer.example.com").find("may not add") != std::string::npos);
        CHECK(refusal(same, "DNS:printer.example.com").find("missing") != std::string::npos);
        CHECK(refusal(same, "").find("missing") != std::string::npos);
        CHECK(refusal(subset, "DNS:printer.example.com").empty());
        CHECK(refusal(subset, "").empty());
    }
}
