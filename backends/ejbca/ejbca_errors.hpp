// SPDX-License-Identifier: Apache-2.0
// The failure the backend contract does not have yet: the request may have
// reached EJBCA, so a certificate may have been issued.
#pragma once

#include <stdexcept>

#include "api/ca_backend.hpp"

namespace scepra::backend::ejbca {

/// EJBCA may have acted on the request (a timeout after it was sent, a 5xx,
/// an answer that could not be understood). Retrying blindly could issue a
/// second certificate: ask find_issued_for() first.
class OutcomeUnknown : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace scepra::backend::ejbca
