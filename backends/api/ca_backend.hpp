// SPDX-License-Identifier: Apache-2.0
// The contract every CA backend implements (local OpenSSL CA, EJBCA REST,
// Microsoft CA bridge). Business outcomes are return values; infrastructure
// failures throw: BackendUnavailable when the CA certainly did not act on the
// request, OutcomeUnknown when it may have.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "crypto/handles.hpp"

namespace scepra::backend {

enum class Disposition { issued, pending, rejected };

/// What the RA hands to the CA once it has approved a request.
struct SubmitRequest {
    std::string transaction_id;  ///< SCEP transactionID, for the CA's records
    Bytes csr_der;               ///< the PKCS#10 exactly as the client sent it
    std::string template_name;   ///< NDES-style template / profile name; empty = default
    std::string requester;       ///< client address, for the CA's records
    /// Optional: the same request already parsed, with its signature verified,
    /// so a local backend need not decode it again. Valid during submit() only.
    X509_REQ* verified_csr = nullptr;
};

struct SubmitResult {
    Disposition disposition = Disposition::rejected;
    Bytes certificate_der;                ///< set when issued
    std::vector<Bytes> chain_der;         ///< issuing CA first, up to (and including) the root
    std::string backend_ref;              ///< CA-side request id, for poll() when pending
    std::string reason;                   ///< why, when rejected (safe to show the client)
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

class CaBackend {
public:
    virtual ~CaBackend() = default;
    /// Short name for logs and the audit trail ("local", "ejbca", "mscep").
    virtual std::string name() const = 0;
    virtual SubmitResult submit(const SubmitRequest& request) = 0;
    /// Asks again about a pending request (backend_ref from submit()).
    virtual SubmitResult poll(const std::string& backend_ref) = 0;
    /// The issuing CA certificate first, then its issuers up to the root.
    virtual std::vector<crypto::X509Ptr> ca_chain() const = 0;

    // Optional look-ups (GetCert, GetCRL, renewal and subject policies). A
    // backend that cannot answer keeps these defaults: "not known".

    /// A certificate this CA issued, by issuer DN (RFC 2253) and serial (hex).
    virtual std::optional<IssuedCertificate> find_certificate(const std::string& /*issuer_dn*/,
                                                              const std::string& /*serial_hex*/) {
        return std::nullopt;
    }
    /// Whether the subject (RFC 2253) holds an unexpired, unrevoked certificate.
    virtual bool subject_has_valid_certificate(const std::string& /*subject_dn*/) { return false; }
    /// The CA's current CRL (DER), if the backend has one.
    virtual std::optional<Bytes> crl() { return std::nullopt; }

    /// What the CA already did with a request of this SCEP transactionID for
    /// this public key (key_hash: SHA-256 of its DER SubjectPublicKeyInfo):
    /// issued (the certificate), pending (its backend_ref) or rejected; nothing
    /// when it never saw one. The RA asks before submitting again a request it
    /// claimed but whose answer it never stored (it stopped during the call),
    /// so that a re-sent request never gets a second certificate. A backend
    /// that cannot tell keeps this default, and such a request is submitted again.
    virtual std::optional<SubmitResult> find_by_transaction(const std::string& /*transaction_id*/,
                                                            const Bytes& /*key_hash*/) {
        return std::nullopt;
    }
    /// Why the CA would refuse a request under template_name for this subject
    /// key (type, size, curve), checked by the RA before the challenge so that
    /// such a request does not use up a one-time password. Nothing = no
    /// objection known (the CA may still refuse at submit()).
    virtual std::optional<std::string> key_refusal(const std::string& /*template_name*/, EVP_PKEY& /*subject_key*/) const {
        return std::nullopt;
    }
};

}  // namespace scepra::backend
