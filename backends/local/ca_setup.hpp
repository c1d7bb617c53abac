// SPDX-License-Identifier: Apache-2.0
// Creates the local CA root and the RA certificates for `scep-ra init`.
#pragma once

#include <ctime>
#include <string>

#include "common/clock.hpp"
#include "crypto/handles.hpp"

namespace scepra::backend::local {

/// Validity periods are configured in days; certificates count seconds.
inline constexpr std::time_t seconds_per_day = 86400;

/// Which of the two NDES-style RA certificates to issue.
enum class RaRole {
    signing,     ///< signs CertReps: digitalSignature + Certificate Request Agent EKU
    encryption,  ///< clients encrypt their requests to it: keyEncipherment
};

/// Parses a distinguished name in either of two forms:
///  * "CN=x,O=y": RFC 4514 order (most specific first), so the entries are
///    stored reversed and crypto::name_string() gives back the same text;
///  * "/O=y/CN=x": OpenSSL -subj order, stored as written.
/// Spaces around types and values are ignored; a backslash escapes the next
/// character. Multi-valued RDNs ('+') are not supported.
/// Throws std::invalid_argument quoting text.
crypto::X509NamePtr parse_subject(const std::string& text);

/// Self-signed v3 CA certificate for key: random serial, valid from a few
/// minutes before clock.now() for validity_days, basicConstraints critical
/// CA:TRUE, keyUsage critical keyCertSign+cRLSign+digitalSignature, SKI hash,
/// SHA-256 signature (none for Ed25519/Ed448). Throws std::invalid_argument
/// on a bad subject or validity, crypto::OpensslError otherwise.
crypto::X509Ptr create_root_ca(EVP_PKEY& key, const std::string& subject, int validity_days,
                               const Clock& clock);

/// RA certificate for ra_key issued by the CA: basicConstraints critical
/// CA:FALSE, SKI hash, AKI keyid:always, and per role keyUsage critical
/// digitalSignature + EKU Certificate Request Agent (signing) or keyUsage
/// critical keyEncipherment (encryption). notAfter is clamped to the CA's.
/// Throws std::invalid_argument if ca_key does not match ca_cert or ca_cert is
/// not a CA, std::runtime_error if the CA has expired.
crypto::X509Ptr issue_ra_certificate(X509& ca_cert, EVP_PKEY& ca_key, EVP_PKEY& ra_key,
                                     const std::string& subject, RaRole role, int validity_days,
                                     const Clock& clock);

// Building blocks shared with LocalCaBackend.

/// Adds an extension given as OpenSSL config text, e.g. "critical,CA:FALSE".
void add_extension(X509& cert, X509V3_CTX& ctx, int nid, const std::string& value);
/// The digest to sign with key: name fetched from the default provider, or
/// null for keys that hash internally (Ed25519, Ed448). Throws
/// std::invalid_argument for an unknown digest name.
crypto::EvpMdPtr signing_digest(EVP_PKEY& key, const std::string& name);
/// Seconds since the epoch of an ASN.1 time.
std::time_t to_time_t(const ASN1_TIME& time);

}  // namespace scepra::backend::local
