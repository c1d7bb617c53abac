// SPDX-License-Identifier: Apache-2.0
// Random certificate serial numbers for the local CA.
#pragma once

#include "crypto/handles.hpp"

namespace scepra::backend::local {

/// 16 bytes from the CSPRNG with the top bit cleared: positive, below 2^127
/// (so well under the 2^159 / 20-octet limits), 127 random bits, never zero.
/// Throws crypto::OpensslError.
crypto::Asn1IntegerPtr random_serial();

}  // namespace scepra::backend::local
