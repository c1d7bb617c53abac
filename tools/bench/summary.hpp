// SPDX-License-Identifier: Apache-2.0
// Aggregates a run: counts, failures by reason, rate, latency percentiles, duplicate serials.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "bench/load_runner.hpp"

namespace scepra::bench {

struct Summary {
    size_t planned = 0;
    size_t requests = 0;  ///< sent
    size_t successes = 0;
    size_t failures = 0;
    std::map<std::string, size_t> failures_by_reason;
    double wall_seconds = 0;
    double rate = 0;  ///< replies per second over the wall time
    double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
    size_t verified = 0;
    size_t duplicate_serials = 0;  ///< verified certificates whose serial an earlier one already had
    bool stopped_by_time = false;
    size_t concurrency = 0;
    double client_cpu_seconds = 0;
};

Summary summarize(const RunResult& run);

/// Nearest-rank percentile (p in 0..100) of ascending values; 0 for none.
double percentile(const std::vector<double>& sorted, double p);

}  // namespace scepra::bench
