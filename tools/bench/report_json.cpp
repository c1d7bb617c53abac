// SPDX-License-Identifier: Apache-2.0
// Machine-readable report: the same numbers as the text one, as a single JSON object.
#include <cstdio>
#include <ostream>
#include <sstream>

#include "bench/report.hpp"
#include "common/json.hpp"

namespace scepra::bench {

namespace {

std::string quoted(const std::string& s) { return json_string(s); }

std::string number(double v) {
    std::ostringstream s;
    s.precision(6);
    s << v;
    return s.str();
}

}  // namespace

void print_json(std::ostream& out, const Report& r) {
    const Options& o = r.options;
    const Summary& s = r.summary;
    out << "{\"mode\":" << quoted(mode_name(o.mode)) << ",\"url\":" << quoted(o.url)
        << ",\"concurrency\":" << o.concurrency;
    if (o.mode == Mode::enroll) {
        out << ",\"key_type\":" << quoted(o.key_type) << ",\"cipher\":" << quoted(o.cipher)
            << ",\"digest\":" << quoted(o.digest) << ",\"method\":" << quoted(o.use_get ? "get" : "post")
            << ",\"challenge\":"
            << quoted(o.challenge_file ? "one-time"
                      : o.challenge    ? "single"
                                       : "none")
            << ",\"verify_every\":" << o.verify_every;
    }
    out << ",\"requests_planned\":" << s.planned << ",\"requests\":" << s.requests
        << ",\"successes\":" << s.successes << ",\"failures\":" << s.failures << ",\"failures_by_reason\":{";
    bool first = true;
    for (const auto& [reason, count] : s.failures_by_reason) {
        out << (first ? "" : ",") << quoted(reason) << ':' << count;
        first = false;
    }
    out << "},\"wall_seconds\":" << number(s.wall_seconds) << ",\"rate_per_second\":" << number(s.rate)
        << ",\"latency_ms\":{\"p50\":" << number(s.p50_ms) << ",\"p95\":" << number(s.p95_ms)
        << ",\"p99\":" << number(s.p99_ms) << ",\"max\":" << number(s.max_ms) << '}'
        << ",\"client_cpu_seconds\":" << number(s.client_cpu_seconds)
        << ",\"stopped_by_time\":" << (s.stopped_by_time ? "true" : "false");
    if (o.mode == Mode::enroll) {
        out << ",\"verified\":" << s.verified << ",\"duplicate_serials\":" << s.duplicate_serials;
    }
    out << ",\"ra_rsa_bits\":" << r.ra_rsa_bits << ",\"baseline\":";
    if (r.baseline) {
        const Baseline& b = *r.baseline;
        out << "{\"rsa_bits\":" << b.rsa_bits << ",\"threads\":" << b.threads
            << ",\"sign_ops_per_second\":" << number(b.sign_ops_per_second)
            << ",\"enrolment_limit_per_second\":" << number(b.enrolment_limit()) << '}';
    } else {
        out << "null";
    }
    if (r.server) {
        out << ",\"server\":{\"cpu_seconds\":" << number(r.server->cpu_seconds) << ",\"cpu_ms_per_success\":";
        if (auto ms = r.server_cpu_ms_per_success()) {
            out << number(*ms);
        } else {
            out << "null";
        }
        out << ",\"rss_peak_kib\":" << r.server->rss_peak_kib << ",\"rss_end_kib\":" << r.server->rss_end_kib
            << ",\"threads_peak\":" << r.server->threads_peak << '}';
    }
    if (r.idle) {
        out << ",\"idle\":{\"connections\":" << r.idle->connections
            << ",\"held_at_end\":" << r.idle->held_at_end << ",\"connects\":" << r.idle->connects
            << ",\"answered\":" << r.idle->answered << ",\"refused\":" << r.idle->refused << '}';
    }
    out << ",\"percent_of_limit\":";
    if (auto pct = r.percent_of_limit()) {
        out << number(*pct);
    } else {
        out << "null";
    }
    out << ",\"exit_code\":" << r.exit_code() << "}\n";
}

}  // namespace scepra::bench
