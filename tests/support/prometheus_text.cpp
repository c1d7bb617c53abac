// SPDX-License-Identifier: Apache-2.0
#include "support/prometheus_text.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace scepra::test {

namespace {
std::string slurp(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

std::optional<double> ParsedMetrics::get(const std::string& series) const {
    auto it = samples.find(series);
    return it == samples.end() ? std::nullopt : std::optional<double>(it->second);
}

ParsedMetrics parse_prometheus_text(const TempDir& dir, const std::string& text) {
    const std::string in = dir.file("metrics.txt");
    const std::string out = dir.file("metrics.parsed");
    const std::string err = dir.file("metrics.err");
    std::ofstream(in, std::ios::binary) << text;
    const std::string cmd = std::string("/usr/bin/python3 ") + SCEPRA_SOURCE_DIR +
                            "/tests/support/parse_metrics.py " + in + " >" + out + " 2>" + err;
    const int rc = std::system(cmd.c_str());
    INFO("parser: ", slurp(err));
    REQUIRE((WIFEXITED(rc) && WEXITSTATUS(rc) == 0));
    ParsedMetrics parsed;
    std::istringstream lines(slurp(out));
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("TYPE ")) {
            std::istringstream fields(line.substr(5));
            std::string name, type;
            fields >> name >> type;
            parsed.types[name] = type;
            continue;
        }
        const auto space = line.rfind(' ');
        REQUIRE(space != std::string::npos);
        parsed.samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return parsed;
}

}  // namespace scepra::test
