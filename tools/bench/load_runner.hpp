// SPDX-License-Identifier: Apache-2.0
// The timed part: C threads, each with its own keep-alive connection, drain a workload.
#pragma once

#include <cstddef>
#include <vector>

#include "bench/target_url.hpp"
#include "bench/workload.hpp"

namespace scepra::bench {

struct Sample {
    bool sent = false;
    double latency_ms = 0;  ///< request written to reply read (HTTP round trip only)
    Outcome outcome;
};

struct RunResult {
    std::vector<Sample> samples;  ///< one per prepared request; unsent ones have sent = false
    double wall_seconds = 0;      ///< first send to last reply
    bool stopped_by_time = false;
    size_t concurrency = 0;
    double client_cpu_seconds =
        0;  ///< this process's user + system CPU during the run (sending and checking)
};

/// Sends every request of the workload (or as many as fit in max_seconds) on
/// `concurrency` connections and checks each reply on the thread that got it.
RunResult run_load(const TargetUrl& target, const Workload& workload, size_t concurrency, double max_seconds);

}  // namespace scepra::bench
