// SPDX-License-Identifier: Apache-2.0
// The challenge throttle counts an IPv6 client by its /64: a host that picks a
// new address inside its network for every guess is still locked out.
#include "core/challenge_throttle.hpp"

#include <doctest/doctest.h>

#include <chrono>

#include "crypto/encoding.hpp"
#include "scep/csr.hpp"
#include "store/audit_log.hpp"
#include "store/database.hpp"
#include "store/throttle_store.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

namespace {

/// Refuses every password.
class Refusing final : public core::ChallengeVerifier {
  public:
    core::ChallengeVerdict verify(const core::ChallengeRequest&) override {
        core::ChallengeVerdict verdict;
        verdict.reason = "wrong password";
        return verdict;
    }
};

}  // namespace

TEST_SUITE("core.challenge_throttle") {
    TEST_CASE("guesses from many addresses of one IPv6 /64 lock that /64 out; another /64 is not") {
        test::TempDir dir;
        FixedClock clock{std::chrono::system_clock::now()};
        auto db = store::Database::open(dir.file("ra.db"), true);
        store::AuditLog audit{*db, clock};
        store::ThrottleStore throttle{*db, clock, store::ThrottleSettings{}};
        Refusing refusing;
        core::ThrottledVerifier verifier(refusing, throttle, audit);
        const auto key = test::make_key(0, true);
        const std::string txid = "TX";
        const std::string template_name;
        for (int i = 0; i < 5; ++i) {  // five subjects, so that no subject is locked out
            const scep::Csr csr =
                scep::parse_csr(crypto::csr_der(*test::make_csr(*key, "CN=guess-" + std::to_string(i))));
            const std::string peer = "2001:db8:1:2::" + std::to_string(100 + i);
            CHECK(verifier.verify({csr, template_name, txid, peer}).reason == "wrong password");
        }
        const scep::Csr fresh = scep::parse_csr(crypto::csr_der(*test::make_csr(*key, "CN=fresh")));
        CHECK(verifier.verify({fresh, template_name, txid, "2001:db8:1:2:ffff::1"}).reason ==
              core::kLockedOutText);
        CHECK(verifier.verify({fresh, template_name, txid, "2001:db8:1:3::1"}).reason == "wrong password");
    }
}
