// SPDX-License-Identifier: Apache-2.0
// `scep-ra lockout list|clear`: client addresses and subjects throttled for
// failed challenge passwords ([throttle]).
#include <iostream>

#include "cli/instance.hpp"
#include "cli/options.hpp"
#include "common/json.hpp"
#include "common/utf8.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

namespace {

int lockout_list(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "json", po::bool_switch(), "one JSON object per line");
    po::variables_map vm;
    if (auto stop =
            parse_options("lockout list",
                          "Lists the client addresses and subjects with recent failed challenge passwords,\n"
                          "locked-out ones first.",
                          desc, args, vm)) {
        return *stop;
    }
    AppConfig config = load_config(vm["config"].as<std::string>());
    SystemClock clock;
    Stores stores = open_stores(config, clock);
    const std::string now = sql_time(clock.now());
    const bool json = vm["json"].as<bool>();
    for (const auto& e : stores.throttle->list()) {
        const bool locked = e.locked_until && *e.locked_until > now;
        if (json) {
            std::cout << JsonObject()
                             .add("kind", e.kind)
                             .add("key", e.key)
                             .add("locked", locked)
                             .add("locked_until", locked ? e.locked_until : std::nullopt)
                             .add("failures", e.failures)
                             .add("window_start", e.window_start)
                             .add("last_failure", e.last_failure)
                             .str()
                      << "\n";
        } else {
            std::cout << e.kind << '\t' << escape_for_terminal(e.key) << '\t'
                      << (locked ? "locked until " + *e.locked_until
                                 : std::to_string(e.failures) + " failures")
                      << "\tlast failure " << e.last_failure << "\n";
        }
    }
    return exit_ok;
}

int lockout_clear(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "address", po::value<std::string>(), "the client address to release")(
        "subject", po::value<std::string>(), "the subject DN to release, as `lockout list` shows it")(
        "all", po::bool_switch(), "release every address and subject");
    po::variables_map vm;
    if (auto stop =
            parse_options("lockout clear",
                          "Forgets the failed challenge passwords of one address or subject (or all),\n"
                          "lifting their lockout. Give exactly one of --address, --subject, --all.",
                          desc, args, vm)) {
        return *stop;
    }
    const bool all = vm["all"].as<bool>();
    if (vm.count("address") + vm.count("subject") + (all ? 1 : 0) != 1) {
        std::cerr << "scep-ra lockout clear: give exactly one of --address, --subject, --all\n";
        return exit_usage;
    }
    AppConfig config = load_config(vm["config"].as<std::string>());
    SystemClock clock;
    Stores stores = open_stores(config, clock);
    if (all) {
        std::cout << "cleared " << stores.throttle->clear_all() << " entries\n";
        return exit_ok;
    }
    const std::string kind = vm.count("address") ? "address" : "subject";
    const std::string key = vm[kind].as<std::string>();
    if (!stores.throttle->clear(kind, key)) {
        std::cerr << "scep-ra lockout clear: no failed attempts recorded for " << kind << " '"
                  << escape_for_terminal(key) << "'\n";
        return exit_failure;
    }
    std::cout << "cleared " << kind << " " << escape_for_terminal(key) << "\n";
    return exit_ok;
}

}  // namespace

int lockout_command(const Args& args) {
    const std::string summary =
        "usage: scep-ra lockout SUBCOMMAND [OPTIONS]\n\n"
        "subcommands:\n"
        "  list    addresses and subjects with failed challenge passwords (--json)\n"
        "  clear   lift a lockout: --address A | --subject S | --all\n";
    return run_subcommand("lockout", summary, args, {{"list", lockout_list}, {"clear", lockout_clear}});
}

}  // namespace scepra::cli
