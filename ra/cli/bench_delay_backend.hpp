// SPDX-License-Identifier: Apache-2.0
// FOR BENCHMARKS ONLY, compiled in only with the CMake option
// SCEPRA_BENCH_CA_DELAY (off by default, never in a package): a CA backend
// that answers like the one it wraps, each submit and poll after a fixed
// delay, as a remote CA 200 ms away would. scep-ra built with the option
// wraps the configured backend when SCEP_RA_BENCH_CA_DELAY_MS is set.
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include "api/ca_backend.hpp"

namespace scepra::cli {

class BenchDelayBackend final : public backend::CaBackend {
  public:
    BenchDelayBackend(std::unique_ptr<backend::CaBackend> inner, std::chrono::milliseconds delay)
        : m_inner(std::move(inner)), m_delay(delay) {}

    std::string name() const override { return m_inner->name(); }
    backend::SubmitResult submit(const backend::SubmitRequest& request) override {
        std::this_thread::sleep_for(m_delay);
        return m_inner->submit(request);
    }
    backend::SubmitResult poll(const backend::PollRequest& request) override {
        std::this_thread::sleep_for(m_delay);
        return m_inner->poll(request);
    }
    std::vector<crypto::X509Ptr> ca_chain() const override { return m_inner->ca_chain(); }
    backend::Capabilities capabilities() const override { return m_inner->capabilities(); }
    std::chrono::seconds settle_time() const override { return m_inner->settle_time(); }
    backend::Health health() const override { return m_inner->health(); }
    backend::RevokeOutcome revoke(const std::string& serial_hex, int crl_reason) override {
        return m_inner->revoke(serial_hex, crl_reason);
    }
    std::optional<backend::IssuedCertificate> find_certificate(const std::string& issuer_dn,
                                                               const std::string& serial_hex) override {
        return m_inner->find_certificate(issuer_dn, serial_hex);
    }
    bool subject_has_valid_certificate(const std::string& subject_dn) override {
        return m_inner->subject_has_valid_certificate(subject_dn);
    }
    std::optional<Bytes> crl() override { return m_inner->crl(); }
    std::optional<backend::SubmitResult> find_by_transaction(
        const backend::TransactionQuery& query) override {
        return m_inner->find_by_transaction(query);
    }
    std::optional<std::string> key_refusal(const std::string& template_name,
                                           EVP_PKEY& subject_key) const override {
        return m_inner->key_refusal(template_name, subject_key);
    }

  private:
    std::unique_ptr<backend::CaBackend> m_inner;
    std::chrono::milliseconds m_delay;
};

}  // namespace scepra::cli
