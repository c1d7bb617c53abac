// SPDX-License-Identifier: Apache-2.0
// GetNextCACert (RFC 8894 §3.5.3, §4.7): the certificates that will replace
// the current ones, as a degenerate PKCS#7 inside a SignedData signed by the
// current CA, so clients can trust them before the switch.
#pragma once

#include <vector>

#include "common/bytes.hpp"
#include "crypto/handles.hpp"

namespace scepra::scep {

/// SignedData (eContentType data) whose content is the degenerate certs-only
/// PKCS#7 of next_certs, signed by signer/key (the current CA), with
/// signer_chain among its certificates (to chain a signer that is not the CA).
Bytes make_next_ca_response(const std::vector<X509*>& next_certs, X509& signer, EVP_PKEY& key,
                            const std::vector<X509*>& signer_chain = {});

/// Verifies a GetNextCACert response against the current CA certificate and
/// returns the certificates it announces. Throws DecodeError when it does not verify.
std::vector<crypto::X509Ptr> read_next_ca_response(ByteView der, X509& current_ca);

}  // namespace scepra::scep
