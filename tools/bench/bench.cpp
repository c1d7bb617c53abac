// SPDX-License-Identifier: Apache-2.0
// Orchestrates a run: guard, GetCACert, workload, baseline, load, report.
#include "bench/bench.hpp"

#include <iostream>
#include <memory>
#include <stdexcept>

#include "bench/baseline.hpp"
#include "bench/ca_certs.hpp"
#include "bench/challenges.hpp"
#include "bench/enroll_workload.hpp"
#include "bench/get_workload.hpp"
#include "bench/http_client.hpp"
#include "bench/identity_pool.hpp"
#include "bench/load_runner.hpp"
#include "bench/parallel.hpp"
#include "bench/report.hpp"
#include "scep/envelope.hpp"

namespace scepra::bench {

namespace {

std::unique_ptr<Workload> make_workload(const Options& o, const TargetUrl& target, const CaCerts& ca,
                                        httplib::Client& setup, std::ostream& log) {
    switch (o.mode) {
        case Mode::getcacert:
            return std::make_unique<GetWorkload>(target, "GetCACert", o.requests, ca.body);
        case Mode::getcacaps:
            return std::make_unique<GetWorkload>(target, "GetCACaps", o.requests,
                                                 get_operation(setup, target, "GetCACaps").body);
        case Mode::enroll: {
            // Challenges first: they go into the CSRs.
            auto challenges = challenges_for(o, o.requests);
            auto identities =
                prepare_identities(crypto::KeySpec::parse(o.key_type), o.requests, o.cache_file, log);
            log << "scep-bench: building " << o.requests << " PKCSReq messages (not timed)\n";
            return std::make_unique<EnrollWorkload>(target, o, ca, std::move(identities), challenges);
        }
        case Mode::renew:
        case Mode::poll:
            break;
    }
    throw std::logic_error("unreachable mode");
}

}  // namespace

int run_bench(const Options& o, std::ostream& out, std::ostream& log) {
    TargetUrl target;
    try {
        target = parse_target_url(o.url);
    } catch (const std::exception& e) {
        log << "scep-bench: " << e.what() << '\n';
        return 2;
    }
    if (!o.allow_remote && !is_loopback_host(target.host)) {
        log << "scep-bench: refusing host '" << target.host
            << "': not 127.0.0.0/8, localhost or [::1] (--allow-remote to load a remote server)\n";
        return 2;
    }
    if (o.mode == Mode::renew || o.mode == Mode::poll) {
        log << "scep-bench: mode " << mode_name(o.mode) << " is not supported yet\n";
        return 2;
    }
    try {
        // Single DES: for --cipher DES-CBC, and for servers (micromdm) whose replies use it.
        try {
            scep::enable_legacy_ciphers();
        } catch (const std::exception& e) {
            if (o.cipher == "DES-CBC") throw;
            log << "scep-bench: note: " << e.what() << '\n';
        }
        auto setup = make_client(target);
        httplib::Response cacert = get_operation(*setup, target, "GetCACert");
        const CaCerts ca = read_ca_certs(cacert.body, cacert.get_header_value("Content-Type"));
        const int bits = ra_rsa_bits(ca);
        auto workload = make_workload(o, target, ca, *setup, log);
        setup.reset();

        std::optional<Baseline> baseline;
        if (!o.skip_baseline && bits > 0) {
            log << "scep-bench: measuring RSA-" << bits << " private-key rate on " << core_count()
                << " threads (not timed)\n";
            baseline = measure_rsa_sign_rate(bits, core_count());
        } else if (!o.skip_baseline) {
            log << "scep-bench: the RA key is not RSA: no baseline\n";
        }

        log << "scep-bench: sending " << workload->size() << " requests on " << o.concurrency
            << " connections\n";
        RunResult run = run_load(target, *workload, o.concurrency, o.max_seconds);
        Report report{o, bits, baseline, summarize(run)};
        if (o.json) {
            print_json(out, report);
        } else {
            print_text(out, report);
        }
        return report.exit_code();
    } catch (const std::exception& e) {
        log << "scep-bench: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace scepra::bench
