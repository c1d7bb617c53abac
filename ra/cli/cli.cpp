// SPDX-License-Identifier: Apache-2.0
#include "cli/cli.hpp"

namespace scepra::cli {
int run(int, char**) { return 1; }
}  // namespace scepra::cli
