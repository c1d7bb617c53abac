// SPDX-License-Identifier: Apache-2.0
// `scep-ra backup`: a consistent copy of the instance database, taken while
// the server runs (SQLite's online backup API).
#include <iostream>

#include "cli/app_config.hpp"
#include "cli/options.hpp"
#include "store/backup.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

int backup_command(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "to", po::value<std::string>()->required(), "the new file to write (never overwritten)");
    po::variables_map vm;
    if (auto stop =
            parse_options("backup",
                          "Copies the database consistently while `scep-ra serve` runs. Back up the\n"
                          "configuration and the private/ directory (keys) separately: they are files.",
                          desc, args, vm)) {
        return *stop;
    }
    const AppConfig config = load_config(vm["config"].as<std::string>());
    const std::filesystem::path to = vm["to"].as<std::string>();
    const store::BackupResult result = store::backup_database(config.database, to);
    std::cout << "backed up " << config.database.string() << " to " << to.string() << " (" << result.pages
              << " pages, " << result.bytes << " bytes; integrity ok)\n";
    return exit_ok;
}

}  // namespace scepra::cli
