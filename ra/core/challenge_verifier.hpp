// SPDX-License-Identifier: Apache-2.0
// Decides whether a PKCSReq's challengePassword authorises it, in the NDES
// password mode the configuration selects (reloadable while serving).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "scep/csr.hpp"
#include "store/challenge_store.hpp"
#include "store/single_password_store.hpp"

namespace scepra::core {

/// The [password] settings under their NDES names.
struct PasswordSettings {
    bool enforce_password = true;      ///< EnforcePassword
    bool use_single_password = false;  ///< UseSinglePassword
    store::ChallengePolicy one_time;   ///< PasswordMax, PasswordLength, PasswordValidity
};

/// What the verifier looks at in a request.
struct ChallengeRequest {
    const scep::Csr& csr;
    const std::string& template_name;
    const std::string& transaction_id;
    std::string_view peer{};  ///< client address, for the throttle
    /// Optional: records the request's claim in the transaction that uses up
    /// a one-time password, so that a failed claim leaves the password unused.
    /// Not called in the other modes (there is nothing to use up).
    store::OnConsumed claim = {};
    std::string_view message_type = "PKCSReq";  ///< or "RenewalReq"
    bool renewal = false;                       ///< authenticated by an existing certificate
};

struct ChallengeVerdict {
    bool accepted = false;
    std::string reason;                        ///< for the client's failInfoText when refused; never a secret
    std::optional<std::int64_t> challenge_id;  ///< the one-time password used, for the audit trail
    std::string
        note;  ///< for the audit trail (e.g. unauthenticated; a webhook's reason), never for the device
    bool retry_later = false;  ///< refused for load, not for the password: not a failed attempt
};

class ChallengeVerifier {
  public:
    virtual ~ChallengeVerifier() = default;
    /// Checks (and, for one-time passwords, uses up) the request's password.
    virtual ChallengeVerdict verify(const ChallengeRequest& request) = 0;
    /// Whether renewals (authenticated by their certificate) of this template
    /// are also put to verify(), with ChallengeRequest::renewal set. Password
    /// modes: no, the certificate is the credential; a policy webhook: yes,
    /// it sees every request (as an NDES policy module does).
    virtual bool judges_renewals(const std::string& /*template_name*/) const { return false; }
};

/// The three NDES modes: none (EnforcePassword = 0), one reusable password
/// (UseSinglePassword = 1), or one-time passwords (the default).
class PasswordModes final : public ChallengeVerifier {
  public:
    PasswordModes(PasswordSettings settings, store::ChallengeStore& one_time,
                  store::SinglePasswordStore& single);

    ChallengeVerdict verify(const ChallengeRequest& request) override;

    /// Switches to new settings (SIGHUP / `scep-ra reload`); requests already
    /// being verified finish under the old ones.
    void apply(const PasswordSettings& settings);
    PasswordSettings settings() const;

  private:
    ChallengeVerdict verify_one_time(const ChallengeRequest& request, const std::string& password);

    mutable std::mutex m_mutex;
    PasswordSettings m_settings;
    store::ChallengeStore& m_one_time;
    store::SinglePasswordStore& m_single;
};

/// A one-time password's binding against the request: nullopt when it
/// matches, else why not. The subject glob ('*' and '?', case-insensitive)
/// must match every CN and every subjectAltName entry, which may only be DNS
/// names and email addresses (an IP, URI, UPN, directoryName, ... is refused);
/// a request with neither a CN nor a subjectAltName is refused.
std::optional<std::string> binding_mismatch(const store::ChallengeBinding& binding,
                                            const ChallengeRequest& request);

/// Case-insensitive glob with '*' (any run) and '?' (one character).
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace scepra::core
