// SPDX-License-Identifier: Apache-2.0
// Keeps scep-bench off the server's cores: what `taskset -c LIST` does.
#pragma once

#include <string>

namespace scepra::bench {

/// Binds this process (every thread it starts afterwards) to the CPUs of
/// `list` ("1", "0,2", "2-3"). Throws std::invalid_argument on a bad list or
/// CPUs it may not use.
void pin_to_cpus(const std::string& list);

}  // namespace scepra::bench
