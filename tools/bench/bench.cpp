// SPDX-License-Identifier: Apache-2.0
// Orchestrates a run: guard, GetCACert, workload, baseline, load, report.
#include "bench/bench.hpp"

#include <algorithm>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "bench/baseline.hpp"
#include "bench/challenges.hpp"
#include "bench/enroll_workload.hpp"
#include "bench/get_workload.hpp"
#include "bench/http_client.hpp"
#include "bench/identity_pool.hpp"
#include "bench/idle_holder.hpp"
#include "bench/load_runner.hpp"
#include "bench/parallel.hpp"
#include "bench/pinning.hpp"
#include "bench/report.hpp"
#include "bench/server_probe.hpp"
#include "scep/ca_certs.hpp"
#include "scep/client.hpp"
#include "scep/envelope.hpp"

namespace scepra::bench {

namespace {

/// Renew and poll need a first enrolment (not timed): renew then signs with
/// the issued certificates, poll asks again about the PENDING requests.
std::unique_ptr<Workload> make_staged_workload(const Options& o, const TargetUrl& target, const CaCerts& ca,
                                               httplib::Client& setup, std::ostream& log) {
    auto challenges = challenges_for(o, o.requests);
    auto identities = prepare_identities(crypto::KeySpec::parse(o.key_type), o.requests, o.cache_file, log);
    log << "scep-bench: enrolling " << o.requests << " devices first (not timed)\n";
    EnrollWorkload first(target, o, ca, std::move(identities), challenges);
    std::vector<std::string> bodies(first.size());
    MessagePlan plan;
    for (size_t i = 0; i < first.size(); ++i) {
        auto res = first.send(setup, i);
        if (!res || res->status != 200) {
            throw std::runtime_error("the first enrolment of device " + std::to_string(i) + " failed");
        }
        bodies[i] = res->body;
        plan.transaction_ids.push_back(first.transaction_id(i));
    }
    identities = first.take_identities();
    const scep::PkiStatus wanted =
        o.mode == Mode::renew ? scep::PkiStatus::success : scep::PkiStatus::pending;
    for (size_t i = 0; i < identities.size(); ++i) {
        Identity& id = identities[i];
        scep::CertRepView view =
            scep::read_cert_rep(as_bytes(bodies[i]), *ca.ra_signing, {*id.cert, *id.key});
        if (view.status != wanted) {
            throw std::runtime_error(
                o.mode == Mode::renew
                    ? "the first enrolment was not issued (check the challenge options)"
                    : "the first enrolment was not PENDING (poll mode needs a template with "
                      "manual approval)");
        }
        if (o.mode == Mode::renew) {
            id.cert = crypto::up_ref(*view.certs.at(0));  // renewals are signed by the issued certificate
        }
    }
    plan.type = o.mode == Mode::renew ? scep::MessageType::renewal_req : scep::MessageType::cert_poll;
    log << "scep-bench: building " << identities.size() << " " << mode_name(o.mode)
        << " messages (not timed)\n";
    return std::make_unique<EnrollWorkload>(target, o, ca, std::move(identities), std::vector<std::string>{},
                                            plan);
}

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
            const size_t distinct = o.distinct_keys > 0 ? std::min(o.distinct_keys, o.requests) : o.requests;
            auto identities =
                prepare_identities(crypto::KeySpec::parse(o.key_type), distinct, o.cache_file, log);
            repeat_identities(identities, o.requests);
            log << "scep-bench: building " << o.requests << " PKCSReq messages (not timed)\n";
            return std::make_unique<EnrollWorkload>(target, o, ca, std::move(identities), challenges);
        }
        case Mode::renew:
        case Mode::poll:
            return make_staged_workload(o, target, ca, setup, log);
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
        const CaCerts ca = scep::read_ca_certs(cacert.body, cacert.get_header_value("Content-Type"));
        const int bits = scep::ra_rsa_bits(ca);
        auto workload = make_workload(o, target, ca, *setup, log);
        setup.reset();

        // From here on (baseline, load threads) on the chosen CPUs only.
        if (o.pin) {
            pin_to_cpus(*o.pin);
        }
        std::optional<Baseline> baseline;
        const unsigned baseline_threads =
            o.baseline_threads > 0 ? static_cast<unsigned>(o.baseline_threads) : core_count();
        if (!o.skip_baseline && bits > 0) {
            log << "scep-bench: measuring RSA-" << bits << " private-key rate on " << baseline_threads
                << " threads (not timed)\n";
            baseline = measure_rsa_sign_rate(bits, baseline_threads);
        } else if (!o.skip_baseline) {
            log << "scep-bench: the RA key is not RSA: no baseline\n";
        }

        log << "scep-bench: sending " << workload->size() << " requests on " << o.concurrency
            << " connections\n";
        std::unique_ptr<IdleHolder> idle;
        if (o.idle_connections > 0) {
            idle =
                std::make_unique<IdleHolder>(target, o.idle_connections, parse_source_range(o.idle_sources));
            log << "scep-bench: opening " << o.idle_connections << " idle keep-alive connections from "
                << o.idle_sources << '\n';
            idle->start();
        }
        std::unique_ptr<ServerProbe> probe;
        if (o.server_pid) {
            probe = std::make_unique<ServerProbe>(static_cast<pid_t>(*o.server_pid));
            probe->start();
        }
        RunResult run = run_load(target, *workload, o.concurrency, o.max_seconds);
        Report report{o, bits, baseline, summarize(run), {}, {}};
        if (probe) {
            report.server = probe->finish();
        }
        if (idle) {
            report.idle = idle->stop();
        }
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
