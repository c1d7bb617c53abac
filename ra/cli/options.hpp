// SPDX-License-Identifier: Apache-2.0
// Shared Boost.Program_options handling for the subcommands.
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.hpp"

namespace scepra::cli {

using SubcommandTable = std::vector<std::pair<std::string, std::function<int(const Args&)>>>;

/// `scep-ra COMMAND SUB ...`: runs the named subcommand with the remaining
/// arguments; prints summary for --help (exit 0) or when none or an unknown
/// one is named (exit 2).
int run_subcommand(const std::string& command, const std::string& summary, const Args& args,
                   const SubcommandTable& table);

/// Parses args against desc (adding --help), with optional positional arguments. Returns the exit status to
/// stop with (help shown, or a usage error printed), or nullopt to go on.
std::optional<int> parse_options(
    const std::string& command, const std::string& summary, boost::program_options::options_description& desc,
    const Args& args, boost::program_options::variables_map& vm,
    const boost::program_options::positional_options_description* positional = nullptr);

}  // namespace scepra::cli
