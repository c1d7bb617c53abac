// SPDX-License-Identifier: Apache-2.0
// The challenge throttle counts an IPv6 client by its /64: a host that picks a
// new address inside its network for every guess is still locked out.
#include "core/challenge_throttle.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <memory>

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

/// Accepts one password only.
class OnePassword final : public core::ChallengeVerifier {
  public:
    core::ChallengeVerdict verify(const core::ChallengeRequest& request) override {
        core::ChallengeVerdict verdict;
        verdict.accepted = request.csr.challenge_password() == "the-right-one";
        verdict.reason = verdict.accepted ? "" : "wrong password";
        return verdict;
    }
};

/// A throttle on a fresh database, in front of `inner`.
struct ThrottleFixture {
    test::TempDir dir;
    FixedClock clock{std::chrono::system_clock::now()};
    std::unique_ptr<store::Database> db = store::Database::open(dir.file("ra.db"), true);
    store::AuditLog audit{*db, clock};
    store::ThrottleStore throttle{*db, clock, store::ThrottleSettings{}};
    crypto::EvpPkeyPtr key = test::make_key(0, true);
};

}  // namespace

TEST_SUITE("core.challenge_throttle") {
    TEST_CASE("guesses from many addresses of one IPv6 /64 lock that /64 out; another /64 is not") {
        ThrottleFixture f;
        Refusing refusing;
        core::ThrottledVerifier verifier(refusing, f.throttle, f.audit);
        const auto& key = f.key;
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
    TEST_CASE("a subject locked out by others' guesses still enrols with the right password") {
        ThrottleFixture f;
        OnePassword one;
        core::ThrottledVerifier verifier(one, f.throttle, f.audit);
        const auto& key = f.key;
        auto& throttle = f.throttle;
        auto csr_with = [&](const std::string& password) {
            return scep::parse_csr(crypto::csr_der(*test::make_csr(*key, "CN=router-7", password)));
        };
        const scep::Csr wrong = csr_with("0000000000000000");
        for (int i = 0; i < 5; ++i) {  // five addresses: only the subject is locked out
            CHECK(verifier.verify({wrong, "", "TX", "192.0.2." + std::to_string(i + 1)}).reason ==
                  "wrong password");
        }
        REQUIRE(throttle.locked("198.51.100.7", "CN=router-7"));
        // A wrong password is told the subject is locked out, and counts against its address.
        for (int i = 0; i < 5; ++i) {
            CHECK(verifier.verify({wrong, "", "TX", "198.51.100.9"}).reason == core::kLockedOutText);
        }
        CHECK(throttle.locked("198.51.100.9", "CN=other")->kind == "address");
        // The device itself, elsewhere, with its password: enrolled.
        const scep::Csr right = csr_with("the-right-one");
        CHECK(verifier.verify({right, "", "TX", "198.51.100.7"}).accepted);
        // A locked-out address is refused before the password is looked at.
        CHECK_FALSE(verifier.verify({right, "", "TX", "198.51.100.9"}).accepted);
    }
}
