// SPDX-License-Identifier: Apache-2.0
// The RA's record of authenticated enrolments (RFC 8894 §3.3.3, §5.2): re-sent
// requests get the stored outcome, pending ones survive restarts.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "store/database.hpp"

namespace scepra::store {

struct RequestRecord {
    std::int64_t id = 0;
    std::string transaction_id;
    std::string kind;  ///< "PKCSReq" or "Renewal:<serial>"
    Bytes key_hash;
    std::string subject;
    std::string template_name;
    std::string status;  ///< pending | issued | rejected
    std::string backend;
    std::optional<std::string> backend_ref;
    Bytes cert_der;
    Bytes chain_der;
    std::optional<std::string> fail_info;
    std::optional<std::string> fail_text;
    std::optional<std::int64_t> challenge_id;
    std::optional<std::string> requester;
    std::string created_at;             ///< sql_time of the claim (read only; the store sets it)
    std::string updated_at;             ///< sql_time of the last write (read only; the store sets it)
    std::optional<std::string> serial;  ///< the issued certificate's serial (crypto::serial_hex), once issued
    /// SHA-256 of the claimed CSR's CertificationRequestInfo; empty for claims
    /// made before schema version 6.
    Bytes csr_info_hash;
    /// SHA-256 of the DER certificate that signed the request; empty before version 6.
    Bytes signer_hash;
    /// The CSR sealed (crypto::CsrSeal, bound to sealed_csr_row()) while the
    /// request is pending; empty once it has its final outcome.
    Bytes csr_sealed;
    /// The server run (this_run()) that made or last took over the claim;
    /// empty for claims made before schema version 12. Written by the store.
    std::string run_id;
};

/// What a request's sealed CSR is bound to: its transaction, never another row's.
std::string sealed_csr_row(const std::string& transaction_id, const std::string& kind);

/// How fail_text starts on a held claim whose submission may have reached the
/// CA (its answer was lost): never submitted again automatically unless the CA
/// says it never saw it, or an operator releases it (release_unknown_outcome).
inline constexpr std::string_view outcome_unknown_note = "outcome unknown: ";

/// fail_text of a request the RA holds for an operator's approval
/// (manual_approval): no CA has seen it. approve() and deny() decide it.
inline constexpr std::string_view awaiting_approval_note = "awaiting approval";

/// Thrown by a claim made inside another transaction (insert_in) when the
/// transaction is claimed already, so that the whole transaction rolls back.
class ClaimExists : public std::runtime_error {
  public:
    ClaimExists() : std::runtime_error("this transaction is claimed already") {}
};

class RequestStore final {
  public:
    RequestStore(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

    /// The request with this transactionID and kind, if any.
    std::optional<RequestRecord> find(const std::string& transaction_id, const std::string& kind);
    /// The newest request with this transactionID, of any kind.
    std::optional<RequestRecord> find_latest(const std::string& transaction_id);
    /// The requests with this transactionID, of any kind, newest first, at most
    /// limit (for CertPoll, which picks the poller's own: another device may
    /// have used the same transactionID for a request of another kind).
    std::vector<RequestRecord> find_all(const std::string& transaction_id, std::size_t limit);
    /// The issued request whose certificate has this serial (crypto::serial_hex), if any.
    std::optional<RequestRecord> find_issued(const std::string& serial);

    /// Records a new request and returns its id. Returns nothing (and writes
    /// nothing) when one with the same transactionID and kind exists already:
    /// a concurrent duplicate.
    ///
    /// `retiring`: the id of a decided request (issued or rejected) with the
    /// same transactionID and kind that this one replaces. It is kept, renamed
    /// to "<transactionID>#<id>" (never a transactionID: '#' is not a
    /// PrintableString character), in the same commit.
    std::optional<std::int64_t> insert(const RequestRecord& record,
                                       std::optional<std::int64_t> retiring = std::nullopt);
    /// insert() inside the caller's Database::write() (e.g. the one that uses
    /// up the one-time password), so both are committed or neither is.
    std::optional<std::int64_t> insert_in(Database& db, const RequestRecord& record,
                                          std::optional<std::int64_t> retiring = std::nullopt);
    /// Takes over a claim that was never finished (pending, no backend_ref):
    /// true only for the one caller that finds it as `record` last saw it.
    /// Clears the note hold_for_retry() left. Returns the claim's new
    /// updated_at for the caller that took it over.
    std::optional<std::string> take_over(const RequestRecord& record);
    /// Marks a claim taken over by this caller as still in hand (updated_at now),
    /// so that it does not look interrupted while a second CA call is under
    /// way; false when another caller has taken it over since.
    bool renew_claim(RequestRecord& record);
    /// Keeps a claim the CA could not take (pending, no backend_ref) with
    /// `why` in fail_text, so that the device's next attempt resumes it.
    void hold_for_retry(std::int64_t id, const std::string& why);
    /// Claims held because the CA's outcome is unknown (see
    /// outcome_unknown_note), oldest first, at most `limit`.
    std::vector<RequestRecord> list_unknown_outcome(int limit);
    /// An operator's release of such a claim (after checking the CA by hand):
    /// the device's next attempt submits it again. False when `id` is not one.
    bool release_unknown_outcome(std::int64_t id, const std::string& by);
    /// Requests held for an operator's approval, oldest first, at most `limit`.
    std::vector<RequestRecord> list_awaiting_approval(int limit);
    /// Approves such a request: the device's next CertPoll or re-send submits
    /// it to the CA. False when `id` is not one awaiting approval.
    bool approve(std::int64_t id, const std::string& by);
    /// Denies such a request: it is rejected (badRequest, with the reason)
    /// and its CSR deleted. False when `id` is not one awaiting approval.
    bool deny(std::int64_t id, const std::string& reason);
    /// Records the outcome of a pending request (and the serial once issued).
    /// A final outcome (issued, rejected) deletes the sealed CSR.
    void update(const RequestRecord& record);
    /// update() inside the caller's Database::write() (e.g. the local CA's
    /// record of the certificate), so both are committed or neither is.
    void update_in(Database& db, const RequestRecord& record);
    /// True when `db` is the database this store writes to.
    bool writes_to(const Database& db) const { return &db == &m_db; }
    /// Marks a request's final outcome (issued, rejected) as told to the
    /// outcome listeners: true for the one caller that marks it, false when
    /// it was told already or is not final.
    bool mark_outcome_told(std::int64_t id);
    /// Forgets a request the CA never saw (its submission failed).
    void remove(std::int64_t id);

  private:
    Database& m_db;
    const Clock& m_clock;
};

}  // namespace scepra::store
