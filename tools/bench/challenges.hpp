// SPDX-License-Identifier: Apache-2.0
// The challenge password each enrolment request carries.
#pragma once

#include <string>
#include <vector>

#include "bench/options.hpp"

namespace scepra::bench {

/// n challenges: --challenge repeated, the first n lines of --challenge-file
/// (throws when it has fewer), or n empty strings (no challengePassword).
std::vector<std::string> challenges_for(const Options& options, size_t n);

}  // namespace scepra::bench
