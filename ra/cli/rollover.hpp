// SPDX-License-Identifier: Apache-2.0
// Where a rollover keeps its files: next/ and previous/ beside the RA signing
// certificate ([ra] signing_cert), their private parts beside its key
// ([ra] signing_key); for `scep-ra init`'s layout that is DIR/next and
// DIR/private/next. next/ holds what GetNextCACert announces, previous/ what
// was replaced and is still honoured for a grace period.
#pragma once

#include <filesystem>
#include <optional>

#include "cli/app_config.hpp"
#include "common/clock.hpp"
#include "core/scep_service.hpp"

namespace scepra::cli {

struct RolloverPaths {
    std::filesystem::path next_dir, next_private, previous_dir, previous_private;
    std::filesystem::path next_response() const { return next_dir / "getnextcacert.der"; }
    std::filesystem::path grace_until() const { return previous_dir / "grace-until"; }
};

RolloverPaths rollover_paths(const AppConfig& config);

/// The prepared GetNextCACert response, if a rollover is in progress.
std::optional<Bytes> load_next_ca_response(const AppConfig& config);

/// Adds the replaced encryption key and CA to identity while the grace period lasts.
void load_previous_identity(const AppConfig& config, TimePoint now, core::RaIdentity& identity);

}  // namespace scepra::cli
