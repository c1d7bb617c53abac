// SPDX-License-Identifier: Apache-2.0
// `scep-ra password ...`: enrollment challenge passwords from the command line.
#include <iostream>

#include "cli/instance.hpp"
#include "cli/options.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

namespace {

int password_issue(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file");
    po::variables_map vm;
    if (auto stop = parse_options("password issue",
                                  "Issues one one-time challenge password and prints it alone on stdout.", desc, args,
                                  vm)) {
        return *stop;
    }
    AppConfig config = load_config(vm["config"].as<std::string>());
    if (!config.password.enforce_password) {
        std::cerr << "scep-ra password issue: note: EnforcePassword is 0, so requests need no password\n";
    }
    SystemClock clock;
    auto store = open_password_store(config, clock);
    try {
        store::IssuedChallenge issued = store.challenges->issue(config.password.one_time, "cli", std::nullopt);
        std::cout << issued.password << std::endl;
    } catch (const store::ChallengeCacheFull& e) {
        std::cerr << "scep-ra password issue: " << e.what() << " " << config.password.one_time.max_outstanding
                  << " unused passwords are outstanding (PasswordMax); use or let one expire first\n";
        return exit_refused;
    }
    return exit_ok;
}

}  // namespace

int password_command(const Args& args) {
    const std::string summary =
        "usage: scep-ra password SUBCOMMAND [OPTIONS]\n\n"
        "subcommands:\n"
        "  issue   issue a one-time challenge password and print it\n";
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        (args.empty() ? std::cerr : std::cout) << summary;
        return args.empty() ? exit_usage : exit_ok;
    }
    const Args rest(args.begin() + 1, args.end());
    if (args[0] == "issue") {
        return password_issue(rest);
    }
    std::cerr << "scep-ra password: unknown subcommand '" << args[0] << "'\n\n" << summary;
    return exit_usage;
}

}  // namespace scepra::cli
