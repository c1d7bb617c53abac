// SPDX-License-Identifier: Apache-2.0
// Reading a certificate's CRL distribution points and checking a CRL.
#pragma once

#include <string>
#include <vector>

#include "common/bytes.hpp"
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

}  // namespace scepra::crypto
