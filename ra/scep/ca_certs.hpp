// SPDX-License-Identifier: Apache-2.0
// What GetCACert told a client: the RA signing and encryption certificates and
// the CAs (used by `scep-ra doctor --enroll` and the benchmark client).
#pragma once

#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "crypto/handles.hpp"

namespace scepra::scep {

struct CaCerts {
    std::vector<crypto::X509Ptr> all;  ///< in the server's order
    X509* ra_signing = nullptr;        ///< signs CertReps (the CA itself when the server has no RA)
    X509* ra_encryption = nullptr;     ///< requests are encrypted to it
    std::vector<X509*> cas;            ///< certificates with CA:TRUE: the trust anchors for issued certs
    std::string body;                  ///< the GetCACert reply as received
    std::string content_type;
};

/// Reads a GetCACert reply: a degenerate PKCS#7 (RA + CA) or one DER
/// certificate (a CA without an RA). Throws std::runtime_error when it holds
/// no usable certificate.
CaCerts read_ca_certs(const std::string& body, const std::string& content_type);

/// RSA modulus size of the RA key that does the private-key work (0 if not RSA).
int ra_rsa_bits(const CaCerts& certs);

}  // namespace scepra::scep
