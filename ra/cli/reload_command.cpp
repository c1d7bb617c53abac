// SPDX-License-Identifier: Apache-2.0
// `scep-ra reload`: asks the running server to re-read its [password] settings.
#include <signal.h>

#include <iostream>

#include "cli/app_config.hpp"
#include "cli/options.hpp"
#include "crypto/encoding.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

int reload_command(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file");
    po::variables_map vm;
    if (auto stop =
            parse_options("reload",
                          "Checks the configuration, then sends SIGHUP to the server named by its pid file;\n"
                          "the server applies the [password] settings without a restart.",
                          desc, args, vm)) {
        return *stop;
    }
    // Refuse a broken file here, where the operator sees the message.
    AppConfig config = load_config(vm["config"].as<std::string>());
    if (!std::filesystem::exists(config.pid_file)) {
        std::cerr << "scep-ra reload: " << config.pid_file.string()
                  << " does not exist: is `scep-ra serve` running?\n";
        return exit_failure;
    }
    const std::string text = crypto::read_file(config.pid_file);
    pid_t pid = 0;
    try {
        pid = static_cast<pid_t>(std::stol(text));
    } catch (const std::exception&) {
    }
    if (pid <= 1 || ::kill(pid, SIGHUP) != 0) {
        std::cerr << "scep-ra reload: no server with pid '" << text.substr(0, text.find('\n')) << "' (from "
                  << config.pid_file.string() << ")\n";
        return exit_failure;
    }
    std::cout << "reload requested (pid " << pid << ")\n";
    return exit_ok;
}

}  // namespace scepra::cli
