// SPDX-License-Identifier: Apache-2.0
// --help and usage errors, the same way for every subcommand.
#include "cli/options.hpp"

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
        std::cerr << "scep-ra " << command << ": " << e.what() << "\n(see 'scep-ra " << command << " --help')\n";
        return exit_usage;
    }
    return std::nullopt;
}

}  // namespace scepra::cli
