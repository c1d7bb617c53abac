// SPDX-License-Identifier: Apache-2.0
// Prometheus text read back through Debian's python3-prometheus-client parser
// (tests/support/parse_metrics.py), so tests check what a real scraper sees.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "support/test_pki.hpp"

namespace scepra::test {

struct ParsedMetrics {
    /// `name{k="v",...}` (labels sorted, values escaped) -> value.
    std::map<std::string, double> samples;
    /// family name (without _total) -> counter | gauge | histogram | ...
    std::map<std::string, std::string> types;

    std::optional<double> get(const std::string& series) const;
};

/// Parses the text; fails the test (with the parser's message) when it is not valid.
ParsedMetrics parse_prometheus_text(const TempDir& dir, const std::string& text);

}  // namespace scepra::test
