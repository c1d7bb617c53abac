// SPDX-License-Identifier: Apache-2.0
// The result of one scep-bench run, printed as text or as one JSON object.
#pragma once

#include <iosfwd>
#include <optional>

#include "bench/baseline.hpp"
#include "bench/idle_holder.hpp"
#include "bench/options.hpp"
#include "bench/server_probe.hpp"
#include "bench/summary.hpp"

namespace scepra::bench {

struct Report {
    const Options& options;
    int ra_rsa_bits = 0;
    std::optional<Baseline> baseline;
    Summary summary;
    std::optional<ServerUsage> server;  ///< with --server-pid
    std::optional<IdleStats> idle;      ///< with --idle-connections

    /// Server CPU milliseconds per successful request (with --server-pid).
    std::optional<double> server_cpu_ms_per_success() const;

    /// Enrolment rate as a percentage of the baseline limit (enroll mode with a baseline only).
    std::optional<double> percent_of_limit() const;
    /// Exit status: 0 when every request succeeded and no serial repeated.
    int exit_code() const;
};

void print_text(std::ostream& out, const Report& report);
void print_json(std::ostream& out, const Report& report);

}  // namespace scepra::bench
