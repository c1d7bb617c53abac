// SPDX-License-Identifier: Apache-2.0
// The checks of `scep-ra doctor`: what would make devices fail to enrol, found
// before they do. Each says pass, warn or fail, and how to fix it.
#pragma once

#include <string>
#include <vector>

#include "cli/app_config.hpp"
#include "common/clock.hpp"

namespace scepra::cli {

enum class Verdict { pass, warn, fail, skip };

struct DoctorFinding {
    std::string check;  ///< what was looked at, e.g. "RA signing certificate: expiry"
    Verdict verdict = Verdict::pass;
    std::string detail;
    std::string fix;  ///< empty when nothing needs doing
};

/// Certificates expiring within this many days are a warning.
inline constexpr int expiry_warning_days = 30;

/// Every check on an instance whose configuration loaded.
std::vector<DoctorFinding> run_doctor_checks(const AppConfig& config, TimePoint now);

const char* verdict_name(Verdict verdict);

}  // namespace scepra::cli
