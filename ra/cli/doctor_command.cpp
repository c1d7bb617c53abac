// SPDX-License-Identifier: Apache-2.0
// `scep-ra doctor`: checks a configured instance the way devices will use it
// and prints each finding with its fix.
#include <iostream>
#include <sstream>

#include "cli/doctor_checks.hpp"
#include "cli/options.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

int doctor_command(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file");
    po::variables_map vm;
    if (auto stop = parse_options(
            "doctor",
            "Checks the RA and CA certificates (key usage, EKU, expiry within " +
                std::to_string(expiry_warning_days) +
                " days, chain, key),\n"
                "the database (integrity, size), the permissions of the private files and the\n"
                "admin listener's TLS. Prints pass, warn or fail with the fix; exit 1 on any fail.",
            desc, args, vm)) {
        return *stop;
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
    bool failed = false;
    int warnings = 0;
    for (const auto& f : run_doctor_checks(config, std::chrono::system_clock::now())) {
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
