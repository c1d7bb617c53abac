// SPDX-License-Identifier: Apache-2.0
// What each code of Intune's validateRequest answer means, in words an
// operator can act on (the codes are those of Microsoft's Intune library).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace scepra::validators::intune {

/// Every code Intune is known to answer, "Success" first.
const std::vector<std::string_view>& known_codes();

/// The explanation of a refusal code; for a code not in known_codes(), a
/// sentence saying so.
std::string_view code_meaning(std::string_view code);

}  // namespace scepra::validators::intune
