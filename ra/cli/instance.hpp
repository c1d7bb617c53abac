// SPDX-License-Identifier: Apache-2.0
// Everything a running instance is built from, opened from its configuration.
#pragma once

#include <memory>

#include "cli/app_config.hpp"
#include "core/challenge_verifier.hpp"
#include "core/scep_service.hpp"
#include "local/local_ca_backend.hpp"
#include "store/audit_log.hpp"
#include "store/challenge_store.hpp"
#include "store/database.hpp"

namespace scepra::cli {

/// The parts of a serving instance, wired in dependency order (members are
/// destroyed in reverse, so the service goes before what it uses).
class Instance {
public:
    Instance(AppConfig config, const Clock& clock);

    const AppConfig& config() const { return m_config; }
    store::Database& database() { return *m_db; }
    store::ChallengeStore& challenges() { return *m_challenges; }
    core::ScepService& service() { return *m_service; }

private:
    AppConfig m_config;
    std::unique_ptr<store::Database> m_db;
    std::unique_ptr<store::ChallengeStore> m_challenges;
    std::unique_ptr<store::AuditLog> m_audit;
    std::unique_ptr<backend::CaBackend> m_backend;
    std::unique_ptr<core::ChallengeVerifier> m_verifier;
    std::unique_ptr<core::ScepService> m_service;
};

/// Just the database and the one-time password store, for the CLI's password commands.
struct PasswordStoreHandle {
    std::unique_ptr<store::Database> db;
    std::unique_ptr<store::ChallengeStore> challenges;
};
PasswordStoreHandle open_password_store(const AppConfig& config, const Clock& clock);

}  // namespace scepra::cli
