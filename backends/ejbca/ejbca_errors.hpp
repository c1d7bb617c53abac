// SPDX-License-Identifier: Apache-2.0
// The EJBCA client's name for the contract's OutcomeUnknown: the request may
// have reached EJBCA, so a certificate may have been issued.
#pragma once

#include <stdexcept>

#include "api/ca_backend.hpp"

namespace scepra::backend::ejbca {

/// EJBCA may have acted on the request (a timeout after it was sent, a 5xx,
/// an answer that could not be understood): the contract's OutcomeUnknown.
/// Retrying blindly could issue a second certificate: ask find_issued_for() first.
using OutcomeUnknown = backend::OutcomeUnknown;

}  // namespace scepra::backend::ejbca
