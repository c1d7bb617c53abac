// SPDX-License-Identifier: Apache-2.0
// `scep-ra doctor`: checks a configured instance the way devices will use it
// and prints each finding with its fix.
#include <iostream>
#include <sstream>

#include "cli/doctor_checks.hpp"
#include "cli/doctor_server.hpp"
#include "cli/options.hpp"
#include "cli/secret_input.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

namespace {

void append(std::vector<DoctorFinding>& to, std::vector<DoctorFinding> more) {
    to.insert(to.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

}  // namespace

int doctor_command(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "url", po::value<std::string>(),
        "where the running server answers SCEP (default: [server] listen, /certsrv/mscep/mscep.dll)")(
        "no-server", po::bool_switch(), "do not ask the running server (GetCACaps)")(
        "enroll", po::bool_switch(),
        "also enrol a test certificate through the server (uses a one-time password in that mode)")(
        "single-password-file", po::value<std::string>(),
        "with --enroll when UseSinglePassword = 1: the single password's file, - for stdin");
    po::variables_map vm;
    if (auto stop =
            parse_options("doctor",
                          "Checks the RA and CA certificates (key usage, EKU, expiry within " +
                              std::to_string(expiry_warning_days) +
                              " days, chain, key),\n"
                              "the database (integrity, size), the permissions of the private files, the\n"
                              "admin listener's TLS, the CA backend, and what the running server advertises\n"
                              "in GetCACaps. --enroll also enrols (and revokes) a test certificate\n"
                              "CN=scep-ra-doctor-<UTC time> through the server. Prints pass, warn or fail\n"
                              "with the fix; exit 1 on any fail.",
                          desc, args, vm)) {
        return *stop;
    }
    const bool ask_server = !vm["no-server"].as<bool>();
    if (!ask_server && vm["enroll"].as<bool>()) {
        std::cerr << "scep-ra doctor: --enroll needs the server: leave out --no-server\n";
        return exit_usage;
    }
    AppConfig config;
    try {
        config = load_config(vm["config"].as<std::string>());
    } catch (const ConfigError& e) {
        std::istringstream problems(e.what());
        for (std::string line; std::getline(problems, line);) {
            std::cout << "fail  configuration: " << line << "\n";
        }
        std::cout << "      fix: correct the file (`scep-ra check-config` lists every problem)\n";
        return exit_failure;
    }
    std::optional<ScepHttpClient> server;
    TestEnrolment enrolment;
    try {
        if (ask_server) {
            server.emplace(vm.count("url") ? parse_scep_url(vm["url"].as<std::string>())
                                           : configured_scep_url(config));
        }
        if (vm.count("single-password-file")) {
            enrolment.single_password =
                read_secret(vm["single-password-file"].as<std::string>(), "single password");
        }
    } catch (const std::exception& e) {
        std::cerr << "scep-ra doctor: " << e.what() << "\n";
        return exit_usage;
    }
    const TimePoint now = std::chrono::system_clock::now();
    std::vector<DoctorFinding> findings = run_doctor_checks(config, now);
    if (server) {
        append(findings, check_advertised_caps(config, *server));
        if (vm["enroll"].as<bool>()) {
            append(findings, run_test_enrolment(config, *server, enrolment, now));
        }
    }
    bool failed = false;
    int warnings = 0;
    for (const auto& f : findings) {
        std::cout << verdict_name(f.verdict) << "  " << f.check << ": " << f.detail << "\n";
        if (!f.fix.empty() && (f.verdict == Verdict::warn || f.verdict == Verdict::fail)) {
            std::cout << "      fix: " << f.fix << "\n";
        }
        failed = failed || f.verdict == Verdict::fail;
        warnings += f.verdict == Verdict::warn ? 1 : 0;
    }
    std::cout << (failed ? "problems found" : warnings ? "ok, with warnings" : "ok") << "\n";
    return failed ? exit_failure : exit_ok;
}

}  // namespace scepra::cli
