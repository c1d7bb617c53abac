// SPDX-License-Identifier: Apache-2.0
// Secrets come from a file or stdin so they never show in `ps` or shell history.
#include "cli/secret_input.hpp"

#include <fstream>
#include <iostream>
#include <stdexcept>

namespace scepra::cli {

std::string read_secret(const std::string& file, const std::string& what) {
    std::string line;
    if (file.empty() || file == "-") {
        std::getline(std::cin, line);
    } else {
        std::ifstream in(file);
        if (!in) {
            throw std::runtime_error("cannot read " + what + " from " + file);
        }
        std::getline(in, line);
    }
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    if (line.empty()) {
        throw std::runtime_error("no " + what + " given (expected on the first line of " +
                                 (file.empty() || file == "-" ? std::string("standard input") : file) + ")");
    }
    return line;
}

}  // namespace scepra::cli
