// SPDX-License-Identifier: Apache-2.0
// One scep-bench run from parsed options to printed report.
#pragma once

#include <iosfwd>

#include "bench/options.hpp"

namespace scepra::bench {

/// Learns the server's certificates (untimed), prepares the workload
/// (untimed), measures the baseline (untimed), runs the load, prints the
/// report to out and progress to log. Returns the process exit code.
int run_bench(const Options& options, std::ostream& out, std::ostream& log);

}  // namespace scepra::bench
