// SPDX-License-Identifier: Apache-2.0
// Random (version 4) UUIDs: Intune's client-request-id, a JWT's jti.
#pragma once

#include <string>

namespace scepra::validators::intune {

/// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lower-case hex.
std::string new_request_id();

}  // namespace scepra::validators::intune
