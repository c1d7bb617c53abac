// SPDX-License-Identifier: Apache-2.0
// The messageData of CertPoll, GetCert and GetCRL (RFC 8894 §3.3.3, §3.3.4).
#pragma once

#include <string>

#include "common/bytes.hpp"
#include "crypto/handles.hpp"

namespace scepra::scep {

/// IssuerAndSerialNumber, as strings: issuer DN (RFC 2253) and serial (hex).
struct IssuerAndSerial {
    std::string issuer;
    std::string serial_hex;
};

/// Parses IssuerAndSerialNumber. Throws ScepFailure(badRequest) when it is not one.
IssuerAndSerial parse_issuer_and_serial(ByteView der);
/// Encodes the IssuerAndSerialNumber of a certificate (for GetCert/GetCRL clients).
Bytes issuer_and_serial_der(const X509& cert);
/// Encodes IssuerAndSubject (for CertPoll clients).
Bytes issuer_and_subject_der(const X509_NAME& issuer, const X509_NAME& subject);

}  // namespace scepra::scep
