// SPDX-License-Identifier: Apache-2.0
// Degenerate certificates-only PKCS#7 SignedData (GetCACert and CertRep content).
#pragma once

#include <vector>

#include "common/bytes.hpp"
#include "crypto/handles.hpp"

namespace scepra::scep {

/// DER of a SignedData with no signers and these certificates, in this order
/// (and these CRLs: the GetCRL reply, RFC 8894 §3.3.2.1).
Bytes make_degenerate(const std::vector<X509*>& certs, const std::vector<X509_CRL*>& crls = {});
/// The same structure from certificates already in DER, which are copied, not
/// parsed (see crypto/der.hpp for why). Throws DecodeError if one is not a DER SEQUENCE.
Bytes make_degenerate_der(const std::vector<ByteView>& cert_ders);
/// The DER of each certificate of a degenerate SignedData, in order, without
/// parsing them. Throws DecodeError.
std::vector<Bytes> degenerate_cert_ders(ByteView der);
/// The CRLs of a degenerate SignedData. Throws DecodeError.
std::vector<crypto::X509CrlPtr> parse_degenerate_crls(ByteView der);
/// The certificates of a degenerate (or any) SignedData. Throws DecodeError.
std::vector<crypto::X509Ptr> parse_degenerate(ByteView der);

}  // namespace scepra::scep
