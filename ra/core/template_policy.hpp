// SPDX-License-Identifier: Apache-2.0
// The RA's own policy per certificate template ([profile.NAME]), applied in
// front of whatever CA backend issues: it holds for every backend alike.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "crypto/key_policy.hpp"

namespace scepra::core {

struct TemplatePolicy {
    /// Requests wait, held by the RA with their CSR sealed, until an operator
    /// approves them (`scep-ra request approve`) or denies them; no CA sees
    /// them before.
    bool manual_approval = false;
    /// The subject keys it accepts, checked before the challenge so that a
    /// refused key does not use up a one-time password.
    crypto::KeyPolicy keys;
    /// The challenge validator that decides its requests ([profile.NAME]
    /// validator); empty: [challenge] validator.
    std::string validator;
};

/// The policies of the configured templates, by name (matched
/// case-insensitively, like Windows template names).
class TemplatePolicies {
  public:
    /// Sets (or replaces) the policy of this template.
    void set(const std::string& template_name, TemplatePolicy policy);
    /// The template's policy; a template without one has the defaults.
    TemplatePolicy of(const std::string& template_name) const;
    /// Every template with a policy of its own, in the order they were set.
    const std::vector<std::pair<std::string, TemplatePolicy>>& all() const { return m_policies; }

  private:
    std::vector<std::pair<std::string, TemplatePolicy>> m_policies;
};

}  // namespace scepra::core
