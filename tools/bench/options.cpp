// SPDX-License-Identifier: Apache-2.0
// Parses and validates the scep-bench command line with Boost.Program_options.
#include "bench/options.hpp"

#include <boost/program_options.hpp>
#include <iostream>
#include <stdexcept>

#include "crypto/keys.hpp"

namespace scepra::bench {

namespace po = boost::program_options;

std::string mode_name(Mode mode) {
    switch (mode) {
        case Mode::enroll:
            return "enroll";
        case Mode::getcacert:
            return "getcacert";
        case Mode::getcacaps:
            return "getcacaps";
        case Mode::renew:
            return "renew";
        case Mode::poll:
            return "poll";
    }
    return "?";
}

namespace {

Mode parse_mode(const std::string& text) {
    for (Mode m : {Mode::enroll, Mode::getcacert, Mode::getcacaps, Mode::renew, Mode::poll}) {
        if (text == mode_name(m)) return m;
    }
    throw std::invalid_argument("unknown mode '" + text + "' (enroll, getcacert, getcacaps, renew, poll)");
}

void require_one_of(const std::string& what, const std::string& value,
                    std::initializer_list<const char*> allowed) {
    std::string list;
    for (const char* a : allowed) {
        if (value == a) return;
        list += (list.empty() ? "" : ", ") + std::string(a);
    }
    throw std::invalid_argument(what + " must be one of " + list + ", not '" + value + "'");
}

void validate(Options& o) {
    if (o.requests == 0 || o.requests > max_requests) {
        throw std::invalid_argument("--requests must be 1.." + std::to_string(max_requests));
    }
    if (o.concurrency == 0 || o.concurrency > max_concurrency) {
        throw std::invalid_argument("--concurrency must be 1.." + std::to_string(max_concurrency));
    }
    if (!(o.max_seconds > 0) || o.max_seconds > max_run_seconds) {
        throw std::invalid_argument("--max-seconds must be in (0, " + std::to_string(int(max_run_seconds)) +
                                    "]");
    }
    if (o.verify_every == 0) {
        throw std::invalid_argument("--verify-every must be at least 1 (1 = every reply)");
    }
    auto spec = crypto::KeySpec::parse(o.key_type);
    if (spec.type != crypto::KeySpec::Type::rsa) {
        // The CertRep is enveloped to the client's certificate by RSA key transport.
        throw std::invalid_argument("--key-type must be rsa:BITS (SCEP replies are encrypted to an RSA key)");
    }
    o.key_type = spec.to_string();
    require_one_of("--cipher", o.cipher, {"AES-128-CBC", "AES-256-CBC", "DES-EDE3-CBC", "DES-CBC"});
    require_one_of("--digest", o.digest, {"SHA256", "SHA1", "SHA512"});
    if (o.idle_connections > max_idle_connections) {
        throw std::invalid_argument("--idle-connections must be at most " +
                                    std::to_string(max_idle_connections));
    }
    if (o.baseline_threads > 1024) {
        throw std::invalid_argument("--baseline-threads must be at most 1024");
    }
    if (o.challenge && o.challenge_file) {
        throw std::invalid_argument("give --challenge or --challenge-file, not both");
    }
}

}  // namespace

std::optional<Options> parse_options(int argc, char** argv, std::ostream& out, std::ostream& err,
                                     int& exit_code) {
    Options o;
    std::string method = "post";
    std::string mode;
    po::options_description visible(
        "Usage: scep-bench URL MODE [options]\n"
        "  MODE: enroll | getcacert | getcacaps | renew (enrols first, then RenewalReq) |\n"
        "        poll (enrols first into a manual-approval template, then CertPoll; PENDING counts as "
        "success)\n"
        "  Exit 0 when every request succeeded, 1 on any failure or duplicate serial, 2 on a usage error.\n"
        "Options");
    // clang-format off
    visible.add_options()
        ("help,h", "this text")
        ("requests,n", po::value(&o.requests)->default_value(o.requests), "requests to send (at most 100000)")
        ("concurrency,c", po::value(&o.concurrency)->default_value(o.concurrency), "concurrent keep-alive connections, one thread each")
        ("max-seconds", po::value(&o.max_seconds)->default_value(o.max_seconds), "stop sending after this many seconds")
        ("key-type", po::value(&o.key_type)->default_value(o.key_type), "client key: rsa:BITS")
        ("cipher", po::value(&o.cipher)->default_value(o.cipher), "AES-128-CBC | AES-256-CBC | DES-EDE3-CBC | DES-CBC")
        ("digest", po::value(&o.digest)->default_value(o.digest), "SHA256 | SHA1 | SHA512")
        ("method", po::value(&method)->default_value(method), "post | get (PKIOperation transport)")
        ("challenge", po::value<std::string>(), "one challenge password for every request")
        ("challenge-file", po::value<std::string>(), "one one-time password per line, one per request")
        ("verify-every", po::value(&o.verify_every)->default_value(o.verify_every), "decrypt and check the certificate of 1 in K successes (1 = all)")
        ("cache", po::value<std::string>(), "file of pre-generated client keys and certificates, created or extended as needed")
        ("json", po::bool_switch(&o.json), "print the result as one JSON object")
        ("allow-remote", po::bool_switch(&o.allow_remote), "allow a host outside 127.0.0.0/8, localhost and [::1]")
        ("skip-baseline", po::bool_switch(&o.skip_baseline), "do not measure the RSA private-key rate")
        ("distinct-keys", po::value(&o.distinct_keys)->default_value(0), "enroll: at most K device keys, reused in turn by several transactions (0 = one key per request)")
        ("baseline-threads", po::value(&o.baseline_threads)->default_value(0), "threads of the RSA baseline (0 = every core; 1 for a server pinned to one core)")
        ("pin", po::value<std::string>(), "run scep-bench on these CPUs only (sched_setaffinity), e.g. 1 or 1,3 or 2-3")
        ("server-pid", po::value<long>(), "report this server process's CPU time per success and its memory, from /proc")
        ("idle-connections", po::value(&o.idle_connections)->default_value(0), "hold this many idle keep-alive connections during the run (reconnecting when closed)")
        ("idle-sources", po::value(&o.idle_sources)->default_value(o.idle_sources), "their source addresses: A or A-B (last octet), within 127/8");
    // clang-format on
    po::options_description hidden;
    hidden.add_options()("url", po::value(&o.url))("mode", po::value(&mode));
    po::options_description all;
    all.add(visible).add(hidden);
    po::positional_options_description positional;
    positional.add("url", 1).add("mode", 1);

    try {
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        if (vm.count("help")) {
            out << visible << '\n';
            exit_code = 0;
            return std::nullopt;
        }
        po::notify(vm);
        if (o.url.empty() || mode.empty()) {
            throw std::invalid_argument("URL and MODE are required (see --help)");
        }
        o.mode = parse_mode(mode);
        if (method != "post" && method != "get") {
            throw std::invalid_argument("--method must be post or get");
        }
        o.use_get = method == "get";
        if (vm.count("challenge")) o.challenge = vm["challenge"].as<std::string>();
        if (vm.count("challenge-file")) o.challenge_file = vm["challenge-file"].as<std::string>();
        if (vm.count("cache")) o.cache_file = vm["cache"].as<std::string>();
        if (vm.count("pin")) o.pin = vm["pin"].as<std::string>();
        if (vm.count("server-pid")) o.server_pid = vm["server-pid"].as<long>();
        validate(o);
    } catch (const std::exception& e) {
        err << "scep-bench: " << e.what() << '\n';
        exit_code = 2;
        return std::nullopt;
    }
    return o;
}

}  // namespace scepra::bench
