// SPDX-License-Identifier: Apache-2.0
// Random certificate serial numbers for the local CA.
#include "local/serial.hpp"

#include <algorithm>

#include "crypto/digest.hpp"
#include "crypto/openssl_error.hpp"

namespace scepra::backend::local {

crypto::Asn1IntegerPtr random_serial() {
    // CA/B Forum BR 7.1: non-sequential, positive, at least 64 CSPRNG bits.
    constexpr size_t serial_bytes = 16;
    for (;;) {
        Bytes raw = crypto::random_bytes(serial_bytes);
        raw[0] &= 0x7f;  // DER INTEGER is signed: a clear top bit keeps it positive without padding
        if (std::all_of(raw.begin(), raw.end(), [](std::uint8_t b) { return b == 0; })) {
            continue;  // RFC 5280 forbids a zero serial
        }
        crypto::BignumPtr bn(BN_bin2bn(raw.data(), static_cast<int>(raw.size()), nullptr));
        crypto::check(bn != nullptr, "BN_bin2bn");
        crypto::Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
        crypto::check(serial != nullptr, "BN_to_ASN1_INTEGER");
        return serial;
    }
}

}  // namespace scepra::backend::local
