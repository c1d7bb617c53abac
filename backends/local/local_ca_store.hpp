// SPDX-License-Identifier: Apache-2.0
// The SQL of the local CA: issued certificates, pending requests and the current CRL (schema 0001, 0003).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "crypto/handles.hpp"
#include "local/crl.hpp"
#include "store/database.hpp"

namespace scepra::backend::local {

/// A request waiting for (or past) a CA officer's decision, as the officer sees it.
struct PendingRequest {
    std::int64_t id = 0;         ///< the backend_ref, as a number
    std::string transaction_id;  ///< SCEP transactionID
    std::string template_name;   ///< empty = default profile
    std::string subject;         ///< the CSR's subject, RFC 2253
    std::string requester;       ///< client address
    std::string status;          ///< pending | approved | denied | issued
    std::string reason;          ///< the officer's reason when denied
    TimePoint created_at;
    std::optional<TimePoint> decided_at;
    std::string decided_by;   ///< the officer who approved or denied
    std::string cert_serial;  ///< hex serial once issued
};

/// Records in issued_certs a certificate the local CA signed outside SCEP (the
/// RA signing, RA encryption and admin TLS certificates of `init` and `ra
/// rollover`), under its issuer, so that `scep-ra revoke` and the renewal
/// checks know it. role goes to the template column. Run inside Database::write().
void record_certificate(store::Database& db, const X509& cert, const std::string& role, TimePoint issued_at);

/// Statements on the local CA's tables, all scoped to one issuer DN. Each
/// method must run inside Database::read()/write() and takes that callback's
/// Database&, so callers compose them into one transaction.
class LocalCaStore {
  public:
    explicit LocalCaStore(std::string issuer_dn) : m_issuer(std::move(issuer_dn)) {}

    // --- issued_certs -------------------------------------------------------

    struct NewCertificate {
        std::string serial, subject, not_before, not_after, transaction_id, template_name, issued_at;
        Bytes der;
    };
    bool serial_exists(store::Database& db, const std::string& serial) const;
    /// Returns the new row id.
    std::int64_t insert_certificate(store::Database& db, const NewCertificate& cert) const;
    std::optional<Bytes> certificate_der(store::Database& db, const std::string& serial) const;
    std::optional<Bytes> certificate_der_by_id(store::Database& db, std::int64_t id) const;
    /// DER of the certificates issued for this SCEP transactionID, newest first.
    std::vector<Bytes> certificates_of_transaction(store::Database& db,
                                                   const std::string& transaction_id) const;

    struct CertificateState {
        Bytes der;
        std::string not_after;
        std::optional<std::string> revoked_at;
        std::optional<std::string> revocation_reason;  ///< RFC 5280 name, e.g. keyCompromise
    };
    std::optional<CertificateState> certificate_state(store::Database& db, const std::string& serial) const;
    void set_revoked(store::Database& db, const std::string& serial, const std::string& revoked_at,
                     const std::string& reason_name) const;
    /// DER of unrevoked certificates of this subject with notAfter after now, latest notAfter first.
    std::vector<Bytes> valid_by_subject(store::Database& db, const std::string& subject,
                                        const std::string& now) const;
    /// Revoked certificates whose notAfter is after now, for the CRL.
    std::vector<RevokedEntry> revoked_unexpired(store::Database& db, const std::string& now) const;

    // --- local_ca_requests (issuer independent) ---------------------------

    struct NewRequest {
        std::string transaction_id, template_name, subject, requester, created_at;
        Bytes csr_der;
    };
    /// Records the request with csr_der as given (callers seal it: see set_request_csr()).
    std::int64_t insert_request(store::Database& db, const NewRequest& request) const;
    /// Replaces the stored CSR (with its sealed form, once the row id is known).
    void set_request_csr(store::Database& db, std::int64_t id, const Bytes& stored) const;
    /// Id and CSR of the undecided or approved requests still stored as plaintext DER (by older versions).
    std::vector<std::pair<std::int64_t, Bytes>> plaintext_requests(store::Database& db) const;
    /// Id and stored CSR of the requests of this SCEP transactionID, newest first.
    std::vector<std::pair<std::int64_t, Bytes>> requests_of_transaction(
        store::Database& db, const std::string& transaction_id) const;
    struct RequestRow {
        PendingRequest info;
        Bytes csr_der;
        std::optional<std::int64_t> cert_id;
    };
    std::optional<RequestRow> request(store::Database& db, std::int64_t id) const;
    std::vector<PendingRequest> requests(store::Database& db, const std::optional<std::string>& status) const;
    /// Moves a pending request to approved or denied (deleting the CSR of a
    /// denied one); false when it is not pending.
    bool decide(store::Database& db, std::int64_t id, const std::string& status, const std::string& officer,
                const std::string& reason, const std::string& now) const;
    /// Marks the request issued and deletes its CSR (it is no longer needed).
    void set_request_issued(store::Database& db, std::int64_t id, std::int64_t cert_id,
                            const std::string& serial) const;

    // --- local_ca_crls -----------------------------------------------------

    struct CrlRow {
        std::int64_t number = 0;
        std::string this_update, next_update;
        bool stale = false;
        Bytes der;  ///< only filled when asked for
    };
    std::optional<CrlRow> crl(store::Database& db, bool with_der) const;
    void save_crl(store::Database& db, const CrlRow& row) const;
    /// Makes the next crl_der() regenerate, in whichever process serves it.
    void mark_crl_stale(store::Database& db) const;

  private:
    std::string m_issuer;
};

}  // namespace scepra::backend::local
