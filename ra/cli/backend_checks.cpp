// SPDX-License-Identifier: Apache-2.0
#include "cli/backend_checks.hpp"

#include "http/http_crl_fetcher.hpp"
#include "store/backend_usage.hpp"

namespace scepra::cli {

void check_backend_supports_policies(const AppConfig& config, const backend::CaBackend& backend) {
    const backend::Capabilities can = backend.capabilities();
    const std::string where = config.file.string() + ": ";
    std::string problems;
    auto problem = [&](const std::string& text) {
        problems += (problems.empty() ? "" : "\n") + where + text;
    };
    if (config.existing_subject_requires_renewal && !can.subject_lookup) {
        problem(
            "[policy] existing_subject = require-renewal needs a CA backend that can look up certificates by "
            "subject; the " +
            backend.name() + " backend cannot, so the policy would do nothing: set allow");
    }
    if (config.renewal.enabled && config.renewal.revocation == core::RevocationMode::backend &&
        !can.find_certificate) {
        problem(
            "[renewal] revocation = backend needs a CA backend that reports a certificate's revocation "
            "status; "
            "the " +
            backend.name() +
            " backend cannot: set revocation = crl (the CRL named in the certificate) "
            "or none");
    }
    if (!problems.empty()) {
        throw ConfigError(problems);
    }
}

void check_no_orphaned_requests(const AppConfig& config, store::Database& db,
                                const std::string& backend_name) {
    std::string orphaned;
    for (const auto& usage : store::backends_with_open_requests(db)) {
        if (usage.backend != backend_name) {
            orphaned +=
                (orphaned.empty() ? "" : ", ") + std::to_string(usage.open) + " at '" + usage.backend + "'";
        }
    }
    if (!orphaned.empty()) {
        throw ConfigError(config.file.string() + ": [ca] backend = " + backend_name +
                          ", but requests are still pending (" + orphaned +
                          "), which only that backend can finish: switch back until they are decided, "
                          "or deny them there (`scep-ra request list`)");
    }
}

std::shared_ptr<core::RevocationCheck> make_revocation_check(const AppConfig& config,
                                                             backend::CaBackend& backend,
                                                             std::vector<crypto::X509Ptr> ca_certs,
                                                             const Clock& clock) {
    switch (config.renewal.revocation) {
        case core::RevocationMode::backend:
            return std::make_shared<core::BackendRevocationCheck>(backend);
        case core::RevocationMode::none:
            return std::make_shared<core::NoRevocationCheck>();
        case core::RevocationMode::crl:
            break;
    }
    // The fetcher lives as long as the check that uses it.
    struct CrlCheck {
        http::HttpCrlFetcher fetcher;
        core::CrlRevocationCheck check;
        CrlCheck(std::vector<crypto::X509Ptr> certs, const Clock& c) : check(fetcher, std::move(certs), c) {}
    };
    auto both = std::make_shared<CrlCheck>(std::move(ca_certs), clock);
    return std::shared_ptr<core::RevocationCheck>(both, &both->check);
}

}  // namespace scepra::cli
