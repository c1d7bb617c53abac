// SPDX-License-Identifier: Apache-2.0
// The SCEP service: one request in, one response out. Knows nothing of HTTP;
// ra/http turns requests into ScepRequest and ScepResponse into bytes.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "api/ca_backend.hpp"
#include "common/clock.hpp"
#include "core/challenge_verifier.hpp"
#include "core/template_selection.hpp"
#include "scep/envelope.hpp"
#include "store/audit_log.hpp"

namespace scepra::core {

/// The RA's own credentials and the CA chain it presents.
struct RaIdentity {
    crypto::X509Ptr signing_cert;
    crypto::EvpPkeyPtr signing_key;
    crypto::X509Ptr encryption_cert;
    crypto::EvpPkeyPtr encryption_key;
};

struct ServiceOptions {
    scep::CipherPolicy ciphers;
    /// Largest accepted difference between a request's signingTime and our
    /// clock; unset = not checked (devices often enrol before they have NTP).
    std::optional<std::chrono::seconds> max_clock_skew;
    /// Templates chosen by the CSR's key usage and passed to the backend.
    TemplateNames templates;
};

struct ScepRequest {
    std::string operation;   ///< GetCACert, GetCACaps, PKIOperation, ...
    std::optional<Bytes> message;  ///< the decoded pkiMessage for PKIOperation
    std::string peer;        ///< client address, for the audit trail
};

struct ScepResponse {
    int status = 200;
    std::string content_type;
    std::string body;
    std::string log;         ///< one-line summary for the request log (no secrets)
};

class ScepService {
public:
    ScepService(ServiceOptions options, RaIdentity identity, backend::CaBackend& backend,
                ChallengeVerifier& challenges, store::AuditLog& audit, const Clock& clock);

    ScepResponse handle(const ScepRequest& request);

    /// The GetCACert body: RA signing, RA encryption, then the CA chain.
    const Bytes& ca_certs_der() const { return m_ca_certs_der; }

private:
    ScepResponse pki_operation(const ScepRequest& request);

    ServiceOptions m_options;
    RaIdentity m_identity;
    backend::CaBackend& m_backend;
    ChallengeVerifier& m_challenges;
    store::AuditLog& m_audit;
    const Clock& m_clock;
    std::vector<crypto::X509Ptr> m_ca_chain;
    Bytes m_ca_certs_der;
};

}  // namespace scepra::core
