// SPDX-License-Identifier: Apache-2.0
// The scep-ra command line: subcommands init, serve, password.
#pragma once

namespace scepra::cli {

/// Runs the command line; returns the process exit status.
int run(int argc, char** argv);

}  // namespace scepra::cli
