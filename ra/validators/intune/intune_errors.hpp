// SPDX-License-Identifier: Apache-2.0
// Intune could not give an answer (Entra ID, Graph or the validation service
// unreachable, refusing the RA's credentials, or answering nonsense): the
// request is refused (fail closed) and the device may try again later.
#pragma once

#include <stdexcept>

namespace scepra::validators::intune {

class IntuneUnavailable : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace scepra::validators::intune
