// SPDX-License-Identifier: Apache-2.0
// Gauges read from a running instance when /metrics is scraped: one-time
// passwords against PasswordMax, lockouts, certificate expiry, database size.
#pragma once

#include <openssl/x509.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/challenge_verifier.hpp"
#include "metrics/registry.hpp"
#include "store/challenge_store.hpp"
#include "store/throttle_store.hpp"

namespace scepra::metrics {

/// A certificate the RA depends on and when it expires.
struct CertificateExpiry {
    std::string role;      ///< ra_signing | ra_encryption | ca | ca_chain
    std::string subject;   ///< RFC 2253
    double not_after = 0;  ///< Unix seconds
};

/// The expiry of one certificate under this role.
CertificateExpiry certificate_expiry(const std::string& role, X509& cert);

struct InstanceSources {
    store::ChallengeStore& challenges;
    const core::PasswordModes& modes;
    store::ThrottleStore& throttle;
    std::filesystem::path database_file;
    std::vector<CertificateExpiry> certificates;
};

void add_instance_gauges(Registry& registry, InstanceSources sources);

}  // namespace scepra::metrics
