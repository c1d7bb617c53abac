// SPDX-License-Identifier: Apache-2.0
// The RA's checks of a new enrolment request, run in order before the CA sees
// it: each refuses by throwing scep::ScepFailure. The ones that cost nothing
// come first, the challenge (which may use up a one-time password) last.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/ca_backend.hpp"
#include "common/clock.hpp"
#include "core/challenge_verifier.hpp"
#include "core/renewal_policy.hpp"
#include "core/template_policy.hpp"
#include "scep/csr.hpp"
#include "store/audit_log.hpp"

namespace scepra::core {

/// A request being decided: what the validators read, and what they record.
struct Candidate {
    const scep::Csr& csr;
    X509& signer;         ///< the certificate that signed the pkiMessage
    bool by_certificate;  ///< a renewal, authenticated by signer
    const std::string& template_name;
    const std::string& transaction_id;
    const std::string& peer;
    TimePoint now;
    store::AuditEvent& event;
    /// Records the RA's claim of the transaction inside the transaction that
    /// uses up a one-time password (see store::OnConsumed).
    store::OnConsumed claim;
    /// Set by the validator that authorised the request with a one-time password.
    std::optional<std::int64_t> challenge_id{};
};

class EnrolmentValidator {
  public:
    virtual ~EnrolmentValidator() = default;
    /// Throws scep::ScepFailure when the request must be refused.
    virtual void check(Candidate& candidate) = 0;
};

using EnrolmentValidators = std::vector<std::unique_ptr<EnrolmentValidator>>;

/// The request carries no instruction for the CA that the RA does not check
/// (AD CS name-value pairs, application policies, a second set of extensions).
std::unique_ptr<EnrolmentValidator> ca_directives_validator();
/// A renewal: the signing certificate is still good and the CSR keeps to the renewal policy.
std::unique_ptr<EnrolmentValidator> renewal_validator(RevocationCheck& revocation, RenewalPolicy policy);
/// The subject key is one the template's RA policy accepts ([profile.NAME] min_rsa_bits, allowed_key_types).
std::unique_ptr<EnrolmentValidator> template_key_validator(const TemplatePolicies& policies);
/// A new request (not a renewal) for a subject that holds a valid certificate is refused.
std::unique_ptr<EnrolmentValidator> existing_subject_validator(backend::CaBackend& backend);
/// A new request (not a renewal) carries a challenge password the verifier accepts.
std::unique_ptr<EnrolmentValidator> challenge_validator(ChallengeVerifier& challenges);

}  // namespace scepra::core
