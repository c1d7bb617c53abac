// SPDX-License-Identifier: Apache-2.0
// The backend registry: [ca] backend -> a CaBackend built from its typed section.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/ca_backend.hpp"
#include "cli/app_config.hpp"
#include "common/clock.hpp"
#include "store/database.hpp"

namespace scepra::cli {

/// The values [ca] backend accepts, in the order the documentation lists them:
/// one per backend make_backend() builds.
const std::vector<std::string>& backend_names();

/// Builds the backend the configuration selects. A remote backend that gets
/// its CA chain from the CA (no `chain` file) keeps the last chain it
/// fetched in chain_cache_file(); when the CA cannot be reached at start,
/// it starts from that copy, so serve never depends on the CA being up.
/// Throws ConfigError for unusable settings, and backend::BackendUnavailable
/// when the CA is down and no copy of its chain exists yet.
std::unique_ptr<backend::CaBackend> make_backend(const AppConfig& config, store::Database& db,
                                                 const Clock& clock);

/// On reload: asks a remote backend for its CA chain again (or re-reads the
/// section's chain file) and keeps what the CA answered in
/// chain_cache_file(). False for the local CA. Throws backend::BackendUnavailable when it cannot be fetched
/// (the chain in use stays), std::exception when the copy cannot be written.
bool refresh_ca_chain(backend::CaBackend& backend, const AppConfig& config);

/// The CA chain file the operator set in the backend's section (`chain` of
/// [ejbca] or [adcs]); nullopt when the section leaves it unset (the chain
/// comes from the CA) or the backend's section has no `chain` key (local).
std::optional<std::filesystem::path> operator_chain_file(const AppConfig& config);

/// Where the chain fetched from a remote CA is kept (beside the database).
std::filesystem::path chain_cache_file(const AppConfig& config);

}  // namespace scepra::cli
