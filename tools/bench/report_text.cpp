// SPDX-License-Identifier: Apache-2.0
// Human-readable report, plus the verdict helpers shared by both formats.
#include <iomanip>
#include <ostream>

#include "bench/report.hpp"

namespace scepra::bench {

std::optional<double> Report::percent_of_limit() const {
    if (options.mode != Mode::enroll || !baseline || baseline->enrolment_limit() <= 0) return std::nullopt;
    return 100.0 * summary.rate / baseline->enrolment_limit();
}

std::optional<double> Report::server_cpu_ms_per_success() const {
    if (!server || summary.successes == 0) return std::nullopt;
    return 1000 * server->cpu_seconds / static_cast<double>(summary.successes);
}

int Report::exit_code() const {
    return summary.failures == 0 && summary.duplicate_serials == 0 && summary.requests > 0 ? 0 : 1;
}

void print_text(std::ostream& out, const Report& r) {
    const Options& o = r.options;
    const Summary& s = r.summary;
    out << std::fixed;
    out << "scep-bench " << mode_name(o.mode) << ' ' << o.url << '\n';
    out << "  concurrency " << o.concurrency;
    if (o.mode == Mode::enroll) {
        out << ", " << o.key_type << ", " << o.cipher << ", " << o.digest << ", "
            << (o.use_get ? "GET" : "POST") << ", challenge "
            << (o.challenge_file ? "one-time (file)"
                : o.challenge    ? "single"
                                 : "none")
            << ", verify 1 in " << o.verify_every;
    }
    out << '\n';
    out << "  requests    " << s.requests << " of " << s.planned
        << (s.stopped_by_time ? " (stopped at --max-seconds)" : "") << '\n';
    out << "  successes   " << s.successes << '\n';
    out << "  failures    " << s.failures << '\n';
    for (const auto& [reason, count] : s.failures_by_reason) {
        out << "    " << std::setw(6) << count << "  " << reason << '\n';
    }
    out << std::setprecision(3) << "  wall time   " << s.wall_seconds << " s\n";
    out << std::setprecision(1) << "  rate        " << s.rate << " req/s\n";
    out << std::setprecision(1) << "  latency ms  p50 " << s.p50_ms << "  p95 " << s.p95_ms << "  p99 "
        << s.p99_ms << "  max " << s.max_ms << '\n';
    out << std::setprecision(3) << "  client CPU  " << s.client_cpu_seconds << " s";
    if (s.requests > 0) {
        out << std::setprecision(2) << " (" << 1000 * s.client_cpu_seconds / static_cast<double>(s.requests)
            << " ms per request)";
    }
    out << '\n';
    if (o.mode == Mode::enroll) {
        out << "  verified    " << s.verified << " certificates, " << s.duplicate_serials
            << " duplicate serials\n";
    }
    if (r.server) {
        out << std::setprecision(3) << "  server CPU  " << r.server->cpu_seconds << " s";
        if (auto ms = r.server_cpu_ms_per_success()) {
            out << std::setprecision(2) << " (" << *ms << " ms per success)";
        }
        out << "; RSS peak " << r.server->rss_peak_kib / 1024.0 << " MiB, end "
            << r.server->rss_end_kib / 1024.0 << " MiB; threads peak " << r.server->threads_peak << '\n';
    }
    if (r.idle) {
        out << "  idle conns  " << r.idle->connections << " asked, " << r.idle->held_at_end
            << " held at the end, " << r.idle->connects << " connects, " << r.idle->answered << " answered, "
            << r.idle->refused << " refused\n";
    }
    if (r.baseline) {
        const Baseline& b = *r.baseline;
        out << "  baseline    RSA-" << b.rsa_bits << " private-key signs on " << b.threads
            << " threads: " << b.sign_ops_per_second << "/s; limit " << b.enrolment_limit()
            << " enrolments/s (/3)\n";
        if (auto pct = r.percent_of_limit()) {
            out << "  of limit    " << *pct << " %\n";
        }
    } else {
        out << "  baseline    skipped\n";
    }
}

}  // namespace scepra::bench
