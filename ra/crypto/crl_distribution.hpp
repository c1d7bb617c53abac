// SPDX-License-Identifier: Apache-2.0
// Reading a certificate's CRL distribution points and checking a CRL.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "crypto/handles.hpp"

namespace scepra::crypto {

/// The http:// URIs of the certificate's crlDistributionPoints (full names
/// only, in the certificate's order); ldap:// and file URIs are left out.
std::vector<std::string> http_crl_urls(const X509& cert);

/// Parses a DER (or PEM) CRL; throws std::runtime_error when it is neither.
X509CrlPtr crl_from_bytes(ByteView bytes);

/// True when crl is signed by issuer's key and names issuer's subject as its issuer.
bool crl_signed_by(X509_CRL& crl, X509& issuer);

/// True when the CRL lists the certificate's serial number.
bool crl_lists(X509_CRL& crl, const X509& cert);

/// Why the CRL cannot show a certificate unrevoked on its own, or nothing:
/// a delta CRL (only the changes since a base CRL), or one whose
/// issuingDistributionPoint limits it to some reasons, to CA or attribute
/// certificates, or makes it indirect.
std::optional<std::string> incomplete_crl(X509_CRL& crl);

/// The CRL's cRLNumber, or nullptr when it has none (or an unreadable one).
Asn1IntegerPtr crl_number(X509_CRL& crl);

/// The date of the CRL's ExpiredCertsOnCRL extension (RFC 5280 §5.2.7 cites
/// X.509's id-ce-expiredCertsOnCRL, 2.5.29.60): certificates that expired on
/// or after it stay listed once revoked. Nothing when the CRL has none, as
/// most CRLs, which drop a certificate once it expires.
std::optional<TimePoint> expired_certs_on_crl(X509_CRL& crl);

}  // namespace scepra::crypto
