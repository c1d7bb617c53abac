// SPDX-License-Identifier: Apache-2.0
// `scep-ra reload`: asks the running server to re-read its [password] settings.
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <optional>

#include "cli/app_config.hpp"
#include "cli/options.hpp"
#include "crypto/encoding.hpp"
#include "http/log_text.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

namespace {

/// The pid a pid file names: digits and an optional newline, nothing else.
std::optional<pid_t> pid_from(const std::string& text) {
    const std::string digits = text.ends_with('\n') ? text.substr(0, text.size() - 1) : text;
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    const auto pid = static_cast<pid_t>(std::stol(digits));
    return pid > 1 ? std::optional(pid) : std::nullopt;
}

/// Whether `pid` is a `scep-ra serve` process. A pid file left by a server
/// that was killed may name a pid the system has given to another program
/// since, which SIGHUP would end.
bool is_scep_ra_server(pid_t pid) {
    const std::string proc = "/proc/" + std::to_string(pid);
    std::string comm, cmdline;
    try {
        comm = crypto::read_file(proc + "/comm");
        cmdline = crypto::read_file(proc + "/cmdline");
    } catch (const std::exception&) {
        return false;  // gone, or not ours to read
    }
    if (comm != "scep-ra\n") {
        return false;
    }
    // The arguments, NUL-separated: "serve" is one of them.
    for (std::size_t start = 0; start < cmdline.size();) {
        const std::size_t end = std::min(cmdline.find('\0', start), cmdline.size());
        if (cmdline.compare(start, end - start, "serve") == 0) {
            return true;
        }
        start = end + 1;
    }
    return false;
}

}  // namespace

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
    const std::optional<pid_t> pid = pid_from(text);
    if (!pid || !is_scep_ra_server(*pid) || ::kill(*pid, SIGHUP) != 0) {
        std::cerr << "scep-ra reload: no scep-ra server with pid '"
                  << http::log_safe(text.substr(0, text.find('\n')), 20) << "' (from "
                  << config.pid_file.string() << "; a server that was killed leaves its pid file behind)\n";
        return exit_failure;
    }
    std::cout << "reload requested (pid " << *pid << ")\n";
    return exit_ok;
}

}  // namespace scepra::cli
