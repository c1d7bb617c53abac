// SPDX-License-Identifier: Apache-2.0
// The AD CS backend: relays approved requests to a Microsoft Enterprise CA
// through the bridge (backends/adcs/bridge) over mutually authenticated TLS.
// The bridge speaks MS-ICPR / MS-WCCE to the CA; this side speaks its fixed
// HTTP API (backends/adcs/bridge/README.md, "API").
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adcs/adcs_config.hpp"
#include "adcs/bridge_answers.hpp"
#include "api/ca_backend.hpp"
#include "common/bytes.hpp"
#include "crypto/handles.hpp"
#include "http/rest_client.hpp"

namespace scepra::backend::adcs {

/// submit() or poll() with what the audit trail needs besides the SubmitResult.
struct AdcsSubmitOutcome {
    SubmitResult result;
    std::string serial_hex;  ///< the issued certificate's serial (checked against it), when issued
    /// The CA's own words (request id, disposition, HRESULT, message) when it
    /// denied or queued the request: for the audit trail only, never for the client.
    std::string audit_detail;
};

/// The result, carrying the audit words in SubmitResult::audit_detail.
inline SubmitResult with_audit_detail(AdcsSubmitOutcome outcome) {
    outcome.result.audit_detail = std::move(outcome.audit_detail);
    return std::move(outcome.result);
}

/// Thread safe: every call opens its own connection; the CA chain changes
/// only through refresh_ca_chain(), behind a lock.
class AdcsBackend final : public CaBackend {
  public:
    /// Loads the client certificate and key and the CA chain: from chain_file
    /// when set (the bridge is not contacted), else GET /v1/ca. Throws
    /// std::invalid_argument for bad config values, std::runtime_error naming
    /// a file that cannot be read or holds no valid chain, and
    /// BackendUnavailable when the chain must come from the bridge and cannot.
    explicit AdcsBackend(AdcsConfig config);

    std::string name() const override { return "adcs"; }
    const AdcsConfig& config() const { return m_config; }

    SubmitResult submit(const SubmitRequest& request) override {
        return with_audit_detail(submit_with_audit(request));
    }
    /// POST /v1/requests {csr, template, client_ref = transactionID}. 201 (or
    /// 200 for a request the bridge already had): issued; 202 pending: pending
    /// with backend_ref = the CA's request id; 422 denied, 400 unusable, 409
    /// transactionID used for another CSR, 413 too large: rejected with a
    /// short reason. Throws BackendUnavailable when the CA certainly did not
    /// act (no connection, TLS refused, 403, 503) and OutcomeUnknown when it
    /// may have (timeout after sending, 202 unknown, another 5xx, an answer
    /// that cannot be understood or a certificate that does not check out).
    AdcsSubmitOutcome submit_with_audit(const SubmitRequest& request) const;

    SubmitResult poll(const PollRequest& request) override {
        return with_audit_detail(poll_with_audit(request));
    }
    /// GET /v1/requests/{backend_ref}: the same shapes (200 issued); 404 (the
    /// CA does not know the request) is rejected.
    AdcsSubmitOutcome poll_with_audit(const PollRequest& request) const;

    /// Only the look-up after a lost answer: AD CS publishes its CRLs itself,
    /// and revocation and certificate look-ups are the CA's business.
    Capabilities capabilities() const override;
    /// POSTs the request again under the same client_ref: the bridge keeps a
    /// client_ref → request id map and answers the request it already holds
    /// without submitting it twice (one it never saw is submitted now, once).
    /// Nothing when the RA no longer holds the CSR (the bridge needs it).
    std::optional<SubmitResult> find_by_transaction(const TransactionQuery& query) override;
    std::vector<crypto::X509Ptr> ca_chain() const override;
    /// On reload: GET /v1/ca again, or (the operator's chain file) reads the
    /// file again; validated as at start. Throws BackendUnavailable, keeping
    /// the chain in use, when it cannot be read or is unusable, or when its
    /// issuing CA has another subject (another CA needs a restart). Always
    /// true: the chain is re-read from wherever it comes from.
    bool refresh_ca_chain() override;
    /// GET /healthz: 200 when the bridge reaches the CA.
    Health health() const override;

  private:
    http::HttpAnswer post_request(const SubmitRequest& request) const;
    AdcsSubmitOutcome outcome_of(const http::HttpAnswer& answer, X509_REQ* csr,
                                 std::optional<std::uint32_t> asked_id) const;
    AdcsSubmitOutcome issued(const RequestAnswer& answer, X509_REQ* csr) const;
    std::vector<crypto::X509Ptr> fetch_chain() const;
    std::vector<crypto::X509Ptr> read_chain_file() const;
    /// The chain in use; a caller keeps it alive while a reload swaps it.
    std::shared_ptr<const std::vector<crypto::X509Ptr>> chain() const;

    AdcsConfig m_config;
    http::RestClient m_client;
    mutable std::mutex m_chain_mutex;  ///< guards m_chain (the pointer, not what it points to)
    std::shared_ptr<const std::vector<crypto::X509Ptr>> m_chain;
    std::string m_issuer_dn;  ///< the issuing CA's subject at start: a reload keeps it
};

}  // namespace scepra::backend::adcs
