// SPDX-License-Identifier: Apache-2.0
// What the configured backend must be able to do for the configured policies,
// checked before serving so that a policy never silently does nothing.
#pragma once

#include <memory>

#include "api/ca_backend.hpp"
#include "cli/app_config.hpp"
#include "core/revocation_check.hpp"
#include "store/database.hpp"

namespace scepra::cli {

/// Throws ConfigError listing each policy the backend cannot enforce
/// ([policy] existing_subject = require-renewal needs a subject look-up,
/// [renewal] revocation = backend needs find_certificate).
void check_backend_supports_policies(const AppConfig& config, const backend::CaBackend& backend);

/// Throws ConfigError when requests are still pending at a backend other than
/// the configured one: only that CA can finish them.
void check_no_orphaned_requests(const AppConfig& config, store::Database& db,
                                const std::string& backend_name);

/// The renewal revocation check [renewal] revocation asks for. ca_certs: the
/// issuing CA first, then previous CAs whose certificates may still renew.
std::shared_ptr<core::RevocationCheck> make_revocation_check(const AppConfig& config,
                                                             backend::CaBackend& backend,
                                                             std::vector<crypto::X509Ptr> ca_certs,
                                                             const Clock& clock);

}  // namespace scepra::cli
