// SPDX-License-Identifier: Apache-2.0
// A CaBackend that forwards every call to another one and records each
// call's outcome and duration (scep_ra_backend_calls_total,
// scep_ra_backend_call_duration_seconds). Exceptions pass through unchanged.
#pragma once

#include <chrono>
#include <string_view>

#include "api/ca_backend.hpp"
#include "metrics/scep_metrics.hpp"

namespace scepra::metrics {

class InstrumentedBackend final : public backend::CaBackend {
  public:
    InstrumentedBackend(backend::CaBackend& inner, ScepMetrics& metrics)
        : m_inner(inner), m_metrics(metrics) {}

    std::string name() const override { return m_inner.name(); }
    backend::SubmitResult submit(const backend::SubmitRequest& request) override;
    backend::SubmitResult poll(const backend::PollRequest& request) override;
    backend::Capabilities capabilities() const override { return m_inner.capabilities(); }
    std::chrono::seconds settle_time() const override { return m_inner.settle_time(); }
    backend::Health health() const override { return m_inner.health(); }
    backend::RevokeOutcome revoke(const std::string& serial_hex, int crl_reason) override;
    std::vector<crypto::X509Ptr> ca_chain() const override { return m_inner.ca_chain(); }
    bool refresh_ca_chain() override { return m_inner.refresh_ca_chain(); }
    std::optional<backend::IssuedCertificate> find_certificate(const std::string& issuer_dn,
                                                               const std::string& serial_hex) override;
    bool subject_has_valid_certificate(const std::string& subject_dn) override;
    std::optional<Bytes> crl() override;
    std::optional<backend::SubmitResult> find_by_transaction(const backend::TransactionQuery& query) override;
    std::optional<std::string> key_refusal(const std::string& template_name,
                                           EVP_PKEY& subject_key) const override;

  private:
    /// Runs call(), records it under this name with outcome_of(its result),
    /// or with the kind of exception it threw (then rethrown).
    template <class Call, class Outcome>
    auto timed(std::string_view name, Call&& call, Outcome&& outcome_of) const;

    backend::CaBackend& m_inner;
    ScepMetrics& m_metrics;
};

/// "issued", "pending" or "rejected".
std::string_view disposition_label(backend::Disposition disposition);

}  // namespace scepra::metrics
