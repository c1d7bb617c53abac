// SPDX-License-Identifier: Apache-2.0
// The JSON body the policy webhook is asked with: the request as the RA sees
// it (transaction, challenge, CSR, subject, subjectAltNames, key, template,
// peer, renewal), when it was sent and a nonce (so that a receiver can refuse
// a replayed one). Every string comes from the device and is escaped.
#pragma once

#include <optional>
#include <string>

#include "common/clock.hpp"
#include "core/challenge_verifier.hpp"

namespace scepra::validators::webhook {

/// The body, or nullopt with *why when the request holds something the
/// webhook cannot be shown faithfully (a subjectAltName it has no type for,
/// one that does not decode): such a request is refused, never half-described.
std::optional<std::string> webhook_request_body(const core::ChallengeRequest& request, TimePoint at,
                                                std::string* why);

/// UTC, ISO 8601 to the second: 2026-12-03T17:04:05Z.
std::string iso_time(TimePoint t);

}  // namespace scepra::validators::webhook
