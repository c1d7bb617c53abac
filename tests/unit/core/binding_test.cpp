// SPDX-License-Identifier: Apache-2.0
// A one-time password bound to a subject: every CN and every subjectAltName
// must match the glob, and names the glob cannot judge are refused.
#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include "core/challenge_verifier.hpp"
#include "crypto/encoding.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

namespace {

std::string mismatch(const std::string& glob, const std::string& subject, const std::string& san = "") {
    std::vector<test::Ext> exts;
    if (!san.empty()) exts.push_back({NID_subject_alt_name, san});
    const scep::Csr csr =
        scep::Csr::parse(crypto::csr_der(*test::make_csr(*test::pooled_client_key(0), subject, "", exts)));
    const std::string template_name = "T";
    const std::string txid = "TX";
    store::ChallengeBinding binding;
    binding.expected_subject = glob;
    return core::binding_mismatch(binding, {csr, template_name, txid}).value_or("");
}

}  // namespace

TEST_SUITE("core.binding") {
    TEST_CASE("every CN and every subjectAltName must match the subject glob") {
        const std::string glob = "router-*.example.com";
        CHECK(mismatch(glob, "CN=router-1.example.com").empty());
        CHECK(mismatch(glob, "CN=ROUTER-1.example.com,O=Example,OU=Net")
                  .empty());  // O and OU are the template's
        CHECK(mismatch(glob, "CN=router-1.example.com", "DNS:router-1.example.com,DNS:router-2.example.com")
                  .empty());
        CHECK(mismatch(glob, "O=Example", "DNS:router-1.example.com").empty());
        CHECK(mismatch(glob, "CN=router-1.example.com", "email:router-x.example.com").empty());

        const std::string other = "the challenge password is bound to another subject";
        CHECK(mismatch(glob, "CN=router-1.example.com", "DNS:vpn.corp") == other);
        CHECK(mismatch(glob, "CN=router-1.example.com", "email:admin@corp") == other);
        CHECK(mismatch(glob, "CN=router-1.example.com,CN=admin") == other);
        CHECK(mismatch(glob, "CN=other.example.com", "DNS:router-1.example.com").find("another subject") !=
              std::string::npos);
        CHECK(mismatch(glob, "O=Example").find("no common name") != std::string::npos);
    }

    TEST_CASE("subjectAltName types the binding does not name are refused") {
        const std::string glob = "*";  // even a glob that matches any text
        CHECK(mismatch(glob, "CN=router-1", "IP:127.0.0.1").find("IP:127.0.0.1") != std::string::npos);
        CHECK(mismatch(glob, "CN=router-1", "URI:http://router-1/").find("URI") != std::string::npos);
        CHECK(mismatch(glob, "CN=router-1", "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:administrator@corp")
                  .find("otherName (UPN)") != std::string::npos);
        CHECK(mismatch(glob, "CN=router-1", "RID:1.2.3.4").find("registeredID") != std::string::npos);
    }

    TEST_CASE("a subject emailAddress must match the glob as a CN does") {
        // Without an email subjectAltName, mail clients and X509_check_email read the subject's.
        const std::string glob = "router-*.example.com";
        const std::string other = "the challenge password is bound to another subject";
        CHECK(mismatch(glob, "CN=router-1.example.com,emailAddress=ceo@example.com") == other);
        CHECK(mismatch(glob, "CN=router-1.example.com,emailAddress=router-1.example.com").empty());
        CHECK(mismatch("*@example.com", "emailAddress=ops@example.com").empty());
        CHECK(mismatch("*@example.com", "emailAddress=ops@corp.example").find("another subject") !=
              std::string::npos);
    }

    TEST_CASE("a wildcard name is refused under any binding, even where '?' or '*' would match it") {
        const std::string wildcard =
            "the challenge password is bound to another subject (a wildcard name is not allowed)";
        CHECK(mismatch("host?.example.com", "CN=host1.example.com", "DNS:host*.example.com") == wildcard);
        CHECK(mismatch("*.corp", "CN=*.corp") == wildcard);
        CHECK(mismatch("*", "CN=router-1,emailAddress=*@corp") == wildcard);
        CHECK(mismatch("host?.example.com", "CN=host1.example.com", "DNS:host1.example.com").empty());
    }
}
