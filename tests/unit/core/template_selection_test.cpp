// SPDX-License-Identifier: Apache-2.0
// NDES template choice by the key usage a CSR asks for.
#include "core/template_selection.hpp"

#include <doctest/doctest.h>

#include "crypto/encoding.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

TEST_SUITE("core.templates") {
    TEST_CASE("the CSR's keyUsage picks the signature, encryption or general-purpose template") {
        const core::TemplateNames names{"Sig", "Enc", "General"};
        auto key = test::pooled_client_key(0);
        auto pick = [&](const std::string& ku) {
            std::vector<test::Ext> exts;
            if (!ku.empty()) {
                exts.push_back({NID_key_usage, ku});
            }
            const auto csr = scep::Csr::parse(crypto::csr_der(*test::make_csr(*key, "CN=t", "", exts)));
            return core::select_template(csr, names);
        };
        CHECK(pick("critical,digitalSignature") == "Sig");
        CHECK(pick("nonRepudiation") == "Sig");
        CHECK(pick("digitalSignature,nonRepudiation") == "Sig");
        CHECK(pick("keyEncipherment") == "Enc");
        CHECK(pick("dataEncipherment") == "Enc");
        CHECK(pick("keyAgreement") == "Enc");
        CHECK(pick("digitalSignature,keyEncipherment") == "General");
        // No keyUsage extension: NDES reads it as 0xA0, both bits.
        CHECK(pick("") == "General");
        // Bits that neither sign nor encrypt select nothing in particular.
        CHECK(pick("keyCertSign") == "General");
        CHECK(pick("cRLSign,keyCertSign") == "General");
        // An extensionRequest without keyUsage is the same as none.
        const auto csr = scep::Csr::parse(crypto::csr_der(
            *test::make_csr(*key, "CN=t", "", {{NID_subject_alt_name, "DNS:t.example.com"}})));
        CHECK(core::select_template(csr, names) == "General");
    }

    TEST_CASE("a certificate's own keyUsage picks the template the same way") {
        const core::TemplateNames names{"Sig", "Enc", "General"};
        auto key = test::pooled_client_key(0);
        auto pick = [&](const std::string& ku) {
            std::vector<test::Ext> exts;
            if (!ku.empty()) {
                exts.push_back({NID_key_usage, ku});
            }
            auto cert = test::make_cert("CN=t", *key, nullptr, nullptr, exts);
            return core::select_template(*cert, names);
        };
        CHECK(pick("critical,digitalSignature") == "Sig");
        CHECK(pick("critical,keyEncipherment") == "Enc");
        CHECK(pick("critical,digitalSignature,keyEncipherment") == "General");
        CHECK(pick("") == "General");
    }
}
