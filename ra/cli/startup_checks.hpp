// SPDX-License-Identifier: Apache-2.0
// What `serve` refuses to start with (issue 16): private keys it cannot read
// or that every user can read, and RA certificates outside their validity.
#pragma once

#include "cli/app_config.hpp"
#include "common/clock.hpp"

namespace scepra::cli {

/// Throws one ConfigError naming the file, section, key and path of every
/// such problem at once; returns when there is none.
void refuse_unsafe_start(const AppConfig& config, TimePoint now);

}  // namespace scepra::cli
