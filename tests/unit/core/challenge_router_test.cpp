// SPDX-License-Identifier: Apache-2.0
// The challenge router: each template's requests go to its own validator (by
// name, case-insensitively), the others to [challenge]'s; a reload replaces
// every route at once.
#include "core/challenge_router.hpp"

#include <doctest/doctest.h>

#include "crypto/encoding.hpp"
#include "scep/csr.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

namespace {

/// Accepts and counts; judges renewals when asked to.
class Counting final : public core::ChallengeVerifier {
  public:
    explicit Counting(bool renewals = false) : m_renewals(renewals) {}
    int asked = 0;
    core::ChallengeVerdict verify(const core::ChallengeRequest&) override {
        ++asked;
        core::ChallengeVerdict verdict;
        verdict.accepted = true;
        return verdict;
    }
    bool judges_renewals(const std::string&) const override { return m_renewals; }

  private:
    bool m_renewals;
};

void verify_for(core::ChallengeRouter& router, const std::string& template_name) {
    static const auto key = test::make_key();
    static const scep::Csr csr = scep::parse_csr(crypto::csr_der(*test::make_csr(*key, "CN=router-test")));
    const std::string txid = "TX";
    CHECK(router.verify({csr, template_name, txid}).accepted);
}

}  // namespace

TEST_SUITE("core.challenge_router") {
    TEST_CASE("a template with its own validator goes to it, every other to the fallback") {
        auto local = std::make_shared<Counting>();
        auto webhook = std::make_shared<Counting>(true);
        core::ChallengeRouter router({{"local", local}, {{"MdmDevices", {"webhook", webhook}}}});
        verify_for(router, "mdmdevices");
        verify_for(router, "Routers");
        verify_for(router, "MdmDevices");
        CHECK(webhook->asked == 2);
        CHECK(local->asked == 1);
        CHECK(router.validator_name("MDMDEVICES") == "webhook");
        CHECK(router.validator_name("Routers") == "local");
        CHECK(router.judges_renewals("MdmDevices"));
        CHECK_FALSE(router.judges_renewals("Routers"));
    }

    TEST_CASE("a reload replaces the routes; a route without a verifier is refused and changes nothing") {
        auto local = std::make_shared<Counting>();
        auto webhook = std::make_shared<Counting>(true);
        core::ChallengeRouter router({{"local", local}, {}});
        CHECK_THROWS_AS(router.apply({{"webhook", nullptr}, {}}), std::invalid_argument);
        CHECK(router.validator_name("Any") == "local");
        router.apply({{"webhook", webhook}, {}});
        verify_for(router, "Any");
        CHECK(webhook->asked == 1);
        CHECK(local->asked == 0);
    }
}
