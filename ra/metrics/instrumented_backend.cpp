// SPDX-License-Identifier: Apache-2.0
#include "metrics/instrumented_backend.hpp"

namespace scepra::metrics {

std::string_view disposition_label(backend::Disposition disposition) {
    switch (disposition) {
        case backend::Disposition::issued:
            return "issued";
        case backend::Disposition::pending:
            return "pending";
        case backend::Disposition::rejected:
            return "rejected";
    }
    return "unknown";
}

template <class Call, class Outcome>
auto InstrumentedBackend::timed(std::string_view name, Call&& call, Outcome&& outcome_of) const {
    const auto started = std::chrono::steady_clock::now();
    auto seconds = [&started] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    const std::string backend = m_inner.name();
    try {
        auto result = call();
        m_metrics.backend_call(backend, name, outcome_of(result), seconds());
        return result;
    } catch (const backend::BackendUnavailable&) {
        m_metrics.backend_call(backend, name, "unavailable", seconds());
        throw;
    } catch (const backend::OutcomeUnknown&) {
        m_metrics.backend_call(backend, name, "outcome_unknown", seconds());
        throw;
    } catch (...) {
        m_metrics.backend_call(backend, name, "error", seconds());
        throw;
    }
}

backend::SubmitResult InstrumentedBackend::submit(const backend::SubmitRequest& request) {
    return timed(
        "submit", [&] { return m_inner.submit(request); },
        [](const backend::SubmitResult& r) { return disposition_label(r.disposition); });
}

backend::SubmitResult InstrumentedBackend::poll(const backend::PollRequest& request) {
    return timed(
        "poll", [&] { return m_inner.poll(request); },
        [](const backend::SubmitResult& r) { return disposition_label(r.disposition); });
}

std::optional<backend::IssuedCertificate> InstrumentedBackend::find_certificate(
    const std::string& issuer_dn, const std::string& serial_hex) {
    return timed(
        "find_certificate", [&] { return m_inner.find_certificate(issuer_dn, serial_hex); },
        [](const auto& found) { return std::string_view(found ? "found" : "not_found"); });
}

bool InstrumentedBackend::subject_has_valid_certificate(const std::string& subject_dn) {
    return timed(
        "subject_has_valid_certificate", [&] { return m_inner.subject_has_valid_certificate(subject_dn); },
        [](bool has) { return std::string_view(has ? "found" : "not_found"); });
}

std::optional<Bytes> InstrumentedBackend::crl() {
    return timed(
        "crl", [&] { return m_inner.crl(); },
        [](const auto& crl) { return std::string_view(crl ? "found" : "not_found"); });
}

backend::RevokeOutcome InstrumentedBackend::revoke(const std::string& serial_hex, int crl_reason) {
    return timed(
        "revoke", [&] { return m_inner.revoke(serial_hex, crl_reason); },
        [](backend::RevokeOutcome outcome) {
            return std::string_view(outcome == backend::RevokeOutcome::revoked ? "revoked"
                                                                               : "awaiting_approval");
        });
}

std::optional<backend::SubmitResult> InstrumentedBackend::find_by_transaction(
    const backend::TransactionQuery& query) {
    return timed(
        "find_by_transaction", [&] { return m_inner.find_by_transaction(query); },
        [](const auto& found) {
            return found ? disposition_label(found->disposition) : std::string_view("not_found");
        });
}

std::optional<std::string> InstrumentedBackend::key_refusal(const std::string& template_name,
                                                            EVP_PKEY& subject_key) const {
    return timed(
        "key_refusal", [&] { return m_inner.key_refusal(template_name, subject_key); },
        [](const auto& why) { return std::string_view(why ? "refused" : "accepted"); });
}

}  // namespace scepra::metrics
