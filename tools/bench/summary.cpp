// SPDX-License-Identifier: Apache-2.0
// Turns the per-request samples of a run into the numbers scep-bench reports.
#include "bench/summary.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

namespace scepra::bench {

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

Summary summarize(const RunResult& run) {
    Summary s;
    s.planned = run.samples.size();
    s.wall_seconds = run.wall_seconds;
    s.stopped_by_time = run.stopped_by_time;
    s.concurrency = run.concurrency;
    s.client_cpu_seconds = run.client_cpu_seconds;
    std::vector<double> latencies;
    std::set<std::string> serials;
    for (const Sample& sample : run.samples) {
        if (!sample.sent) continue;
        ++s.requests;
        latencies.push_back(sample.latency_ms);
        if (sample.outcome.success) {
            ++s.successes;
        } else {
            ++s.failures;
            ++s.failures_by_reason[sample.outcome.failure];
        }
        if (sample.outcome.verified) {
            ++s.verified;
            if (!serials.insert(sample.outcome.serial).second) ++s.duplicate_serials;
        }
    }
    std::sort(latencies.begin(), latencies.end());
    s.p50_ms = percentile(latencies, 50);
    s.p95_ms = percentile(latencies, 95);
    s.p99_ms = percentile(latencies, 99);
    s.max_ms = latencies.empty() ? 0 : latencies.back();
    s.rate = s.wall_seconds > 0 ? static_cast<double>(s.requests) / s.wall_seconds : 0;
    return s;
}

}  // namespace scepra::bench
