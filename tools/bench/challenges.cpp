// SPDX-License-Identifier: Apache-2.0
// Reads --challenge or one one-time password per line from --challenge-file.
#include "bench/challenges.hpp"

#include <fstream>
#include <stdexcept>

namespace scepra::bench {

std::vector<std::string> challenges_for(const Options& options, size_t n) {
    if (!options.challenge_file) {
        return std::vector<std::string>(n, options.challenge.value_or(""));
    }
    std::ifstream in(*options.challenge_file);
    if (!in) throw std::runtime_error("cannot read challenge file " + *options.challenge_file);
    std::vector<std::string> out;
    std::string line;
    while (out.size() < n && std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
            line.pop_back();
        if (!line.empty()) out.push_back(line);
    }
    if (out.size() < n) {
        throw std::runtime_error("challenge file " + *options.challenge_file + " has " +
                                 std::to_string(out.size()) + " passwords; " + std::to_string(n) +
                                 " requests need one each");
    }
    return out;
}

}  // namespace scepra::bench
