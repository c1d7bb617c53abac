// SPDX-License-Identifier: Apache-2.0
// Messages for Boost.Program_options errors that never call what() where it
// can hang.
#pragma once

#include <boost/program_options/errors.hpp>
#include <string>

namespace scepra::cli {

/// What was wrong, in one line, with the offending text escaped and bounded.
///
/// Boost 1.74's error_with_option_name::what() puts the offending text into
/// its message template with a loop that never ends when that text contains
/// the placeholder itself: a config line "%invalid_line%", or a value
/// "%value%", hangs it (found by the config fuzzer). So the message is built
/// here from the error's type and parts instead.
std::string describe_option_error(const boost::program_options::error& e);

}  // namespace scepra::cli
