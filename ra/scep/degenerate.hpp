// SPDX-License-Identifier: Apache-2.0
// Degenerate certificates-only PKCS#7 SignedData (GetCACert and CertRep content).
#pragma once

#include <vector>

#include "common/bytes.hpp"
#include "crypto/handles.hpp"

namespace scepra::scep {

/// DER of a SignedData with no signers and these certificates, in this order.
Bytes make_degenerate(const std::vector<X509*>& certs);
/// The certificates of a degenerate (or any) SignedData. Throws DecodeError.
std::vector<crypto::X509Ptr> parse_degenerate(ByteView der);

}  // namespace scepra::scep
