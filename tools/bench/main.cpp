// SPDX-License-Identifier: Apache-2.0
// scep-bench: load generator and checker for SCEP servers (enrolment, GetCACert, GetCACaps).
#include <iostream>

#include "bench/bench.hpp"
#include "bench/options.hpp"

int main(int argc, char** argv) {
    int exit_code = 0;
    auto options = scepra::bench::parse_options(argc, argv, std::cout, std::cerr, exit_code);
    if (!options) return exit_code;
    return scepra::bench::run_bench(*options, std::cout, std::cerr);
}
