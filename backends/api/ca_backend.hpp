// SPDX-License-Identifier: Apache-2.0
// The contract every CA backend implements (local OpenSSL CA, EJBCA REST,
// Microsoft CA bridge). Business outcomes are return values; infrastructure
// failures throw: BackendUnavailable when the CA certainly did not act on the
// request, OutcomeUnknown when it may have.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "crypto/handles.hpp"

namespace scepra::store {
class Database;
}

namespace scepra::backend {

struct SubmitResult;

enum class Disposition { issued, pending, rejected };

/// An RFC 5280 §5.3.1 CRLReason.
struct CrlReasonEntry {
    int code;
    std::string_view name;  ///< the ASN.1 name
    /// A revocation may name it. removeFromCRL (8) only takes an entry off a
    /// delta CRL, so no revocation names it; 7 is unassigned.
    bool revocable;
};

/// Every CRLReason: what revoke() accepts, and how the CLI and the CRLs name them.
inline constexpr std::array<CrlReasonEntry, 10> crl_reasons = {{
    {0, "unspecified", true},
    {1, "keyCompromise", true},
    {2, "cACompromise", true},
    {3, "affiliationChanged", true},
    {4, "superseded", true},
    {5, "cessationOfOperation", true},
    {6, "certificateHold", true},
    {8, "removeFromCRL", false},
    {9, "privilegeWithdrawn", true},
    {10, "aACompromise", true},
}};

/// The ASN.1 name of a CRLReason, or nothing for a value that is not one.
inline std::optional<std::string_view> crl_reason_name(int code) {
    for (const auto& reason : crl_reasons) {
        if (reason.code == code) {
            return reason.name;
        }
    }
    return std::nullopt;
}

/// A CRLReason by ASN.1 name (any case) or decimal code; nothing for anything else.
inline std::optional<int> crl_reason_code(std::string_view text) {
    int code = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), code);
    const bool numeric = ec == std::errc() && end == text.data() + text.size();
    for (const auto& reason : crl_reasons) {
        const bool same_name =
            std::equal(text.begin(), text.end(), reason.name.begin(), reason.name.end(),
                       [](unsigned char a, unsigned char b) { return std::tolower(a) == std::tolower(b); });
        if (numeric ? reason.code == code : same_name) {
            return reason.code;
        }
    }
    return std::nullopt;
}

/// A CRLReason a revocation may name (crl_reasons' revocable).
inline bool is_revocation_reason(int code) {
    return std::any_of(crl_reasons.begin(), crl_reasons.end(),
                       [&](const CrlReasonEntry& r) { return r.code == code && r.revocable; });
}

/// What `scep-ra revoke --reason` and revoke() accept: a revocable CRLReason
/// by name or code; nothing for anything else.
inline std::optional<int> revocation_reason_code(std::string_view text) {
    const auto code = crl_reason_code(text);
    return code && is_revocation_reason(*code) ? code : std::nullopt;
}

/// What the RA hands to the CA once it has approved a request.
struct SubmitRequest {
    std::string transaction_id;  ///< SCEP transactionID, for the CA's records
    Bytes csr_der;               ///< the PKCS#10 exactly as the client sent it
    std::string template_name;   ///< NDES-style template / profile name; empty = default
    std::string requester;       ///< client address, for the CA's records
    /// Optional: the same request already parsed, with its signature verified,
    /// so a local backend need not decode it again. Valid during submit() only.
    X509_REQ* verified_csr = nullptr;
    /// Optional: the RA's record of an issued certificate, for a backend that
    /// keeps its own records in the RA's database (the local CA). It runs inside
    /// the transaction that records the certificate, so that one durable commit
    /// holds both; a throw rolls both back (the backend then throws
    /// BackendUnavailable). It returns false when it wrote nothing (another
    /// database); SubmitResult::recorded_by_ra tells the RA whether it ran.
    std::function<bool(store::Database&, const SubmitResult&)> record_issued = nullptr;
};

struct SubmitResult {
    Disposition disposition = Disposition::rejected;
    Bytes certificate_der;         ///< set when issued
    std::vector<Bytes> chain_der;  ///< issuing CA first, up to (and including) the root
    std::string backend_ref;       ///< CA-side request id, for poll() when pending
    std::string reason;            ///< why, when rejected (safe to show the client)
    /// The CA's own words about a refusal (e.g. EJBCA's error_message), for
    /// the audit trail only: never shown to the client. Empty when none.
    std::string audit_detail;
    /// True when SubmitRequest::record_issued recorded this result with the CA's record.
    bool recorded_by_ra = false;
};

/// What the RA hands the CA when it asks again about a request it submitted.
struct PollRequest {
    std::string backend_ref;     ///< the CA's id from SubmitResult::backend_ref
    std::string transaction_id;  ///< SCEP transactionID of the request
    std::string template_name;   ///< the template it was submitted under
    /// The PKCS#10 as submitted, for a CA that needs it again after an
    /// approval; empty when the RA no longer holds it.
    Bytes csr_der;
};

/// A request the RA submitted (or may have), to find what the CA did with it.
struct TransactionQuery {
    std::string transaction_id;  ///< SCEP transactionID
    Bytes key_hash;              ///< SHA-256 of the CSR's DER SubjectPublicKeyInfo
    std::string template_name;
    Bytes csr_der;  ///< the PKCS#10 when the RA still holds it, else empty
    /// When the RA claimed the request: a certificate the CA issued long
    /// before it (the one a same-key renewal replaces) is not its answer.
    std::optional<TimePoint> claimed_at;
};

/// Which optional calls a backend really answers. The RA never treats a
/// missing capability as "nothing found": a policy that needs one the
/// configured backend lacks is refused when the configuration is checked.
struct Capabilities {
    bool find_certificate = false;     ///< GetCert and revocation status by issuer and serial
    bool subject_lookup = false;       ///< subject_has_valid_certificate ([policy] existing_subject)
    bool crl = false;                  ///< GetCRL
    bool find_by_transaction = false;  ///< what the CA did with a transaction whose answer was lost
    bool revoke = false;               ///< revoke()
};

/// The outcome of a revocation the CA accepted.
enum class RevokeOutcome {
    revoked,            ///< in effect now
    awaiting_approval,  ///< queued at the CA for an officer's approval
};

/// One line for the operator about whether the CA can be used now.
struct Health {
    bool ok = false;
    std::string line;
};

enum class CertState { valid, revoked, expired };

/// A certificate the backend issued, with its state now.
struct IssuedCertificate {
    crypto::X509Ptr certificate;
    CertState state = CertState::valid;
};

/// The CA could not be reached or refused to work (down, overloaded, store
/// failure): it did not act on the request, which may be sent again.
class BackendUnavailable : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The request may have reached the CA, but its answer was lost (a timeout
/// after sending, a 5xx, an unreadable answer): a certificate may have been
/// issued. Submitting again blindly could issue a second one; the RA asks
/// find_by_transaction() first.
class OutcomeUnknown : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The backend has no such call (see Capabilities).
class Unsupported : public std::logic_error {
  public:
    using std::logic_error::logic_error;
};

class CaBackend {
  public:
    virtual ~CaBackend() = default;
    /// Short name for logs and the audit trail ("local", "ejbca", "adcs"),
    /// the value of [ca] backend that selects it.
    virtual std::string name() const = 0;
    virtual SubmitResult submit(const SubmitRequest& request) = 0;
    /// Asks again about a pending request (backend_ref from submit()).
    virtual SubmitResult poll(const PollRequest& request) = 0;
    /// The issuing CA certificate first, then its issuers up to the root.
    /// Remote backends answer from what they fetched or were configured with.
    virtual std::vector<crypto::X509Ptr> ca_chain() const = 0;

    /// Reads the CA chain again (on reload): a remote backend asks the CA, or
    /// re-reads the operator's chain file; afterwards ca_chain() answers what
    /// was read. False when nothing is re-read (the local CA). Throws
    /// BackendUnavailable when it cannot be read or is the chain of another
    /// issuing CA; the chain in use is then kept.
    virtual bool refresh_ca_chain() { return false; }

    /// Which of the optional calls below this backend answers.
    virtual Capabilities capabilities() const { return {}; }
    /// Whether the CA can be used now (reachable, credentials accepted), for
    /// the start-up log and `scep-ra doctor`. Never throws.
    virtual Health health() const { return {true, name() + ": no health check for this backend"}; }
    /// Revokes a certificate this CA issued (serial in hex, RFC 5280
    /// CRLReason code). Throws Unsupported without the capability,
    /// std::invalid_argument for a certificate the CA refuses to revoke, and
    /// BackendUnavailable when the CA cannot be asked.
    virtual RevokeOutcome revoke(const std::string& /*serial_hex*/, int /*crl_reason*/) {
        throw Unsupported(name() + " backend cannot revoke: revoke at the CA");
    }
    // Optional look-ups (GetCert, GetCRL, renewal and subject policies). A
    // backend that cannot answer keeps these defaults and says so in
    // capabilities(); the RA never calls one the backend lacks.

    /// A certificate this CA issued, by issuer DN (RFC 2253) and serial (hex).
    virtual std::optional<IssuedCertificate> find_certificate(const std::string& /*issuer_dn*/,
                                                              const std::string& /*serial_hex*/) {
        return std::nullopt;
    }
    /// Whether the subject (RFC 2253) holds an unexpired, unrevoked certificate.
    virtual bool subject_has_valid_certificate(const std::string& /*subject_dn*/) { return false; }
    /// The CA's current CRL (DER), if the backend has one.
    virtual std::optional<Bytes> crl() { return std::nullopt; }

    /// What the CA already did with this request (transactionID and public
    /// key): issued (the certificate), pending (its backend_ref) or rejected;
    /// nothing when it never saw one or cannot tell. The RA asks before
    /// submitting again a request it claimed but whose answer it never stored
    /// (it stopped during the call, or the answer was lost), so that a re-sent
    /// request never gets a second certificate. A backend may answer by an
    /// idempotent submission keyed on the transactionID (the AD CS bridge
    /// knows requests only by the client_ref it was given): for a request the
    /// CA never saw, that submits it, which is what the RA would do next.
    virtual std::optional<SubmitResult> find_by_transaction(const TransactionQuery& /*query*/) {
        return std::nullopt;
    }
    /// How long after a call whose answer was lost the CA may still act on
    /// it (a CA still working when the RA stopped waiting). Until then, "no
    /// record" from find_by_transaction() may mean "not yet": the RA submits
    /// such a request again only once this has passed since it was held.
    /// Zero for a CA that cannot act late (in process), or whose
    /// find_by_transaction() is an idempotent submission.
    virtual std::chrono::seconds settle_time() const { return std::chrono::seconds(0); }
    /// Why the CA would refuse a request under template_name for this subject
    /// key (type, size, curve), checked by the RA before the challenge so that
    /// such a request does not use up a one-time password. Nothing = no
    /// objection known (the CA may still refuse at submit()).
    virtual std::optional<std::string> key_refusal(const std::string& /*template_name*/,
                                                   EVP_PKEY& /*subject_key*/) const {
        return std::nullopt;
    }
};

}  // namespace scepra::backend
