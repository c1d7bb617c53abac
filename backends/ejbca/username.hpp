// SPDX-License-Identifier: Apache-2.0
// The EJBCA end-entity username for a request, by the configured rule.
#pragma once

#include <optional>
#include <string>

#include "crypto/handles.hpp"
#include "ejbca/ejbca_config.hpp"

namespace scepra::backend::ejbca {

/// The username rule applied to csr (and transaction_id for cn+transaction);
/// nullopt when the CSR lacks the part the rule needs, or the result is
/// empty, longer than 200 bytes, not UTF-8 or holds control characters.
std::optional<std::string> username_for(UsernameRule rule, X509_REQ& csr, const std::string& transaction_id);

}  // namespace scepra::backend::ejbca
