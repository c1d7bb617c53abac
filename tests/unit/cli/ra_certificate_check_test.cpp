// SPDX-License-Identifier: Apache-2.0
// The checks an RA certificate passes before init or ra enroll writes it.
#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include "cli/init_remote.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::test;

namespace {

cli::RaPair pair_with(const std::vector<Ext>& exts, crypto::EvpPkeyPtr key = pooled_client_key(0)) {
    auto cert = make_cert("CN=ra,O=Test", *key, nullptr, nullptr, exts);
    return {std::move(cert), std::move(key)};
}

std::string refusal(const std::string& role, const cli::RaPair& pair) {
    try {
        cli::check_ra_pair(role, pair, "CERT", "KEY");
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("an RA certificate must allow its role's key usage when it has a keyUsage at all") {
    const Ext signature{NID_key_usage, "critical,digitalSignature"};
    const Ext encipherment{NID_key_usage, "critical,keyEncipherment"};
    CHECK(refusal("signing", pair_with({signature})).empty());
    CHECK(refusal("encryption", pair_with({encipherment})).empty());
    CHECK(refusal("signing", pair_with({})).empty());  // no keyUsage: every use
    CHECK(refusal("encryption", pair_with({})).empty());
    const std::string signing = refusal("signing", pair_with({encipherment}));
    CHECK(signing.find("CERT has a keyUsage without digitalSignature") != std::string::npos);
    const std::string encryption = refusal("encryption", pair_with({signature}));
    CHECK(encryption.find("CERT has a keyUsage without keyEncipherment") != std::string::npos);
}

TEST_CASE("an RA certificate must be the key's, and RSA") {
    auto other = pair_with({});
    other.key = pooled_client_key(1);
    CHECK(refusal("signing", other).find("KEY is not the key of CERT") != std::string::npos);
    CHECK(refusal("encryption", pair_with({}, make_key(0, true))).find("must be RSA") != std::string::npos);
}
