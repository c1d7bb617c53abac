// SPDX-License-Identifier: Apache-2.0
// Checks the certificate a SUCCESS CertRep delivered: the client's key, chained to the CA.
#pragma once

#include <string>
#include <vector>

#include "crypto/handles.hpp"
#include "scep/ca_certs.hpp"

namespace scepra::scep {

struct IssuedCertCheck {
    std::string failure;  ///< empty when the certificate is good
    std::string serial;   ///< hex, when found
};

/// Finds among certs the one whose public key is client_key and verifies it
/// against the CA certificates of GetCACert (intermediates from certs and GetCACert).
IssuedCertCheck check_issued_cert(const std::vector<crypto::X509Ptr>& certs, EVP_PKEY& client_key,
                                  const CaCerts& ca);

}  // namespace scepra::scep
