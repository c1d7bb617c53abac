// SPDX-License-Identifier: Apache-2.0
// Shared Boost.Program_options handling for the subcommands.
#pragma once

#include <boost/program_options.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "cli/commands.hpp"

namespace scepra::cli {

/// Parses args against desc (adding --help), with optional positional arguments. Returns the exit status to
/// stop with (help shown, or a usage error printed), or nullopt to go on.
std::optional<int> parse_options(const std::string& command, const std::string& summary,
                                 boost::program_options::options_description& desc, const Args& args,
                                 boost::program_options::variables_map& vm,
                                 const boost::program_options::positional_options_description* positional = nullptr);

}  // namespace scepra::cli
