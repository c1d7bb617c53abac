// SPDX-License-Identifier: Apache-2.0
// Reading a secret from a file or standard input, never from the command line.
#pragma once

#include <string>

namespace scepra::cli {

/// The first line of `file` (or of stdin when file is empty or "-"), without
/// its line ending. Throws std::runtime_error when nothing could be read.
std::string read_secret(const std::string& file, const std::string& what);

}  // namespace scepra::cli
