// SPDX-License-Identifier: Apache-2.0
// Renewal: a request signed by a certificate this RA's CA issued is
// authenticated by that certificate instead of a challenge password.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "core/revocation_check.hpp"
#include "scep/csr.hpp"

namespace scepra::core {

/// How the names of a renewed certificate relate to the old one's ([renewal] san).
enum class RenewalSanRule {
    same,    ///< the request's subjectAltName set equals the certificate's
    subset,  ///< it may drop names, never add one
};

struct RenewalPolicy {
    bool enabled = true;                         ///< advertise Renewal and accept renewals
    std::chrono::seconds grace_after_expiry{0};  ///< an expired certificate may still renew this long
    bool same_subject = true;                    ///< the new CSR must keep the certificate's subject
    bool require_new_key = false;                ///< refuse a renewal that reuses the old key
    int window_days = 0;                         ///< only in the last N days of validity (0 = any time)
    int window_percent = 0;                      ///< only in the last N percent of validity (0 = any time)
    RenewalSanRule san = RenewalSanRule::same;   ///< subjectAltName entries compared as typed values
    RevocationMode revocation = RevocationMode::backend;  ///< where the signer's revocation status comes from
    /// A certificate the CA issued without this RA (NDES's, before scep-ra) may
    /// renew, its template chosen by its keyUsage; false: only one this RA recorded.
    bool unrecorded_signers = true;
};

/// True when cert chains (signature and issuer) to the first certificate of
/// ca_chain, the issuing CA. Validity dates are not checked here.
bool issued_by(X509& cert, const std::vector<crypto::X509Ptr>& ca_chain);

/// Why the signer certificate may not authenticate this renewal, or nullopt
/// when it may. Checks validity (with grace) and the renewal window, that the
/// certificate is not revoked (as the revocation check finds it), the subject,
/// the subjectAltName (never widened) and the key policy.
std::optional<std::string> renewal_refusal(X509& signer, const scep::Csr& csr, RevocationCheck& revocation,
                                           const RenewalPolicy& policy, TimePoint now);

/// SHA-256 of a SubjectPublicKeyInfo as parsed from a CSR or certificate. It
/// re-encodes the parsed fields, which for DER input gives the bytes
/// i2d_PUBKEY would, without a round trip through OpenSSL 3.0's key encoders.
Bytes key_hash(const X509_PUBKEY& key);

}  // namespace scepra::core
