// SPDX-License-Identifier: Apache-2.0
// The contract's one table of CRLReason codes, as revoke() and the CLI read it.
#include <doctest/doctest.h>

#include "api/ca_backend.hpp"
#include "local/crl.hpp"

using namespace scepra;

TEST_SUITE("backend.crl_reasons") {
    TEST_CASE("a revocation names a CRLReason by name (any case) or code, never removeFromCRL or 7") {
        CHECK(backend::revocation_reason_code("keyCompromise") == 1);
        CHECK(backend::revocation_reason_code("KEYCOMPROMISE") == 1);
        CHECK(backend::revocation_reason_code("10") == 10);
        CHECK(backend::revocation_reason_code("aACompromise") == 10);
        CHECK_FALSE(backend::revocation_reason_code("removeFromCRL"));
        CHECK_FALSE(backend::revocation_reason_code("8"));
        CHECK_FALSE(backend::revocation_reason_code("7"));
        CHECK_FALSE(backend::revocation_reason_code("-1"));
        CHECK_FALSE(backend::revocation_reason_code("1x"));
        CHECK_FALSE(backend::revocation_reason_code(""));
        CHECK_FALSE(backend::revocation_reason_code("keyCompromise "));
    }

    TEST_CASE("every CRLReason keeps its RFC 5280 name, removeFromCRL included, for CRLs and records") {
        for (const auto& reason : backend::crl_reasons) {
            CHECK(backend::crl_reason_code(reason.name) == reason.code);
            CHECK(backend::local::crl_reason_name(reason.code) == std::string(reason.name));
            CHECK(backend::is_revocation_reason(reason.code) == (reason.code != 8));
        }
        CHECK(backend::local::crl_reason_code("removeFromCRL") == 8);
        CHECK_FALSE(backend::crl_reason_name(7));
    }
}
