// SPDX-License-Identifier: Apache-2.0
// The local CA's revocations and its CRL, signed again after a revocation
// or at half its validity.
#include <chrono>
#include <stdexcept>

#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "local/ca_setup.hpp"
#include "local/local_ca_internal.hpp"

namespace scepra::backend::local {

using crypto::check;
using detail::canonical_serial;

RevokeOutcome LocalCaBackend::revoke(const std::string& serial_hex, int crl_reason) {
    revoke(serial_hex, crl_reason, m_clock.now());
    return RevokeOutcome::revoked;
}

void LocalCaBackend::revoke(const std::string& serial_hex, int reason_code, TimePoint when) {
    const auto serial = canonical_serial(serial_hex);
    if (!serial) {
        throw std::invalid_argument("bad serial number '" + serial_hex + "' (expected hex)");
    }
    const auto reason = crl_reason_name(reason_code);
    if (!reason || !is_revocation_reason(reason_code)) {
        throw std::invalid_argument("revocation reason " + std::to_string(reason_code) +
                                    " is not allowed (RFC 5280 CRLReason 0-6, 9, 10)");
    }
    if (when > m_clock.now()) {
        throw std::invalid_argument("the revocation time " + sql_time(when) + " is in the future");
    }
    m_db.write([&](store::Database& db) {
        auto state = m_store.certificate_state(db, *serial);
        if (!state) {
            throw std::invalid_argument("no certificate with serial " + *serial + " was issued by " +
                                        m_issuer_dn);
        }
        if (state->revoked_at) {
            throw std::invalid_argument("the certificate with serial " + *serial +
                                        " was already revoked at " + *state->revoked_at);
        }
        m_store.set_revoked(db, *serial, sql_time(when), *reason);
        m_store.mark_crl_stale(db);
    });
}

Bytes LocalCaBackend::crl_der() {
    std::lock_guard lock(m_crl_mutex);
    const TimePoint now = m_clock.now();
    // Re-signing at half-life leaves relying parties a full half period to
    // fetch the next CRL before the one they hold expires.
    auto usable = [&](const LocalCaStore::CrlRow& row) {
        if (row.stale) {
            return false;
        }
        const TimePoint this_update = parse_sql_time(row.this_update);
        const TimePoint next_update = parse_sql_time(row.next_update);
        return now >= this_update && now < this_update + (next_update - this_update) / 2;
    };
    try {
        auto current = m_db.read([&](store::Database& db) { return m_store.crl(db, false); });
        if (current && usable(*current) && current->number == m_crl_number && !m_crl_der.empty()) {
            return m_crl_der;
        }
        // Under the write lock, so two processes never sign two CRLs with one number.
        LocalCaStore::CrlRow row = m_db.write([&](store::Database& db) {
            auto stored = m_store.crl(db, true);
            if (stored && usable(*stored)) {
                return *stored;
            }
            LocalCaStore::CrlRow fresh;
            fresh.number = stored ? stored->number + 1 : 1;
            const TimePoint next = now + std::chrono::hours(m_config.crl_validity_hours);
            fresh.this_update = sql_time(now);
            fresh.next_update = sql_time(next);
            auto crl = build_crl(*m_ca_cert, *m_ca_key, m_digest.get(),
                                 m_store.revoked_unexpired(db, sql_time(now)), now, next, fresh.number);
            fresh.der = crypto::der_of(*crl, i2d_X509_CRL);
            m_store.save_crl(db, fresh);
            return fresh;
        });
        m_crl_der = std::move(row.der);
        m_crl_number = row.number;
        return m_crl_der;
    } catch (const store::DbError& e) {
        throw BackendUnavailable(std::string("cannot read or record the CRL: ") + e.what());
    } catch (const crypto::OpensslError& e) {
        throw BackendUnavailable(std::string("the local CA cannot sign its CRL: ") + e.what());
    }
}

crypto::X509CrlPtr LocalCaBackend::current_crl() {
    const Bytes der = crl_der();
    const unsigned char* p = der.data();
    crypto::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    check(crl != nullptr, "d2i_X509_CRL");
    return crl;
}

std::optional<CertStatus> LocalCaBackend::status_of(const std::string& serial_hex) const {
    const auto serial = canonical_serial(serial_hex);
    if (!serial) {
        return std::nullopt;
    }
    auto state = m_db.read([&](store::Database& db) { return m_store.certificate_state(db, *serial); });
    if (!state) {
        return std::nullopt;
    }
    CertStatus status;
    status.certificate = crypto::cert_from_der(state->der);
    if (state->revoked_at) {
        status.state = CertStatus::State::revoked;
        status.revoked_at = parse_sql_time(*state->revoked_at);
        status.reason_code =
            crl_reason_code(state->revocation_reason.value_or("")).value_or(crl_reason_unspecified);
    } else if (to_time_t(*X509_get0_notAfter(status.certificate.get())) <= unix_seconds(m_clock.now())) {
        status.state = CertStatus::State::expired;
    }
    return status;
}

}  // namespace scepra::backend::local
