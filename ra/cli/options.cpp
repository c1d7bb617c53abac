// SPDX-License-Identifier: Apache-2.0
// --help and usage errors, the same way for every subcommand.
#include "cli/options.hpp"

#include "cli/option_errors.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

std::optional<int> parse_options(const std::string& command, const std::string& summary,
                                 po::options_description& desc, const Args& args, po::variables_map& vm,
                                 const po::positional_options_description* positional) {
    desc.add_options()("help,h", "show this help");
    try {
        po::command_line_parser parser(args);
        parser.options(desc);
        if (positional) {
            parser.positional(*positional);
        }
        po::store(parser.run(), vm);
        if (vm.count("help")) {
            std::cout << "usage: scep-ra " << command << " [OPTIONS]\n\n" << summary << "\n\n" << desc;
            return exit_ok;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "scep-ra " << command << ": " << describe_option_error(e) << "\n(see 'scep-ra "
                  << command << " --help')\n";
        return exit_usage;
    }
    return std::nullopt;
}

int run_subcommand(const std::string& command, const std::string& summary, const Args& args,
                   const SubcommandTable& table) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        (args.empty() ? std::cerr : std::cout) << summary;
        return args.empty() ? exit_usage : exit_ok;
    }
    for (const auto& [name, run] : table) {
        if (args[0] == name) {
            return run(Args(args.begin() + 1, args.end()));
        }
    }
    std::cerr << "scep-ra " << command << ": unknown subcommand '" << args[0] << "'\n\n" << summary;
    return exit_usage;
}

}  // namespace scepra::cli
