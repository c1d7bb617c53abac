// SPDX-License-Identifier: Apache-2.0
// scep-ra: the executable only hands the command line to the CLI layer.
#include "cli/cli.hpp"

int main(int argc, char** argv) { return scepra::cli::run(argc, argv); }
