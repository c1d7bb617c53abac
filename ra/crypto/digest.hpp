// SPDX-License-Identifier: Apache-2.0
// Hashes, HMAC, CSPRNG bytes and constant-time comparison.
#pragma once

#include <string_view>

#include "common/bytes.hpp"

namespace scepra::crypto {

/// Digest by OpenSSL name ("SHA1", "SHA256", "MD5", ...).
Bytes digest(std::string_view algorithm, ByteView data);
inline Bytes sha256(ByteView data) { return digest("SHA256", data); }
inline Bytes sha1(ByteView data) { return digest("SHA1", data); }
Bytes hmac_sha256(ByteView key, ByteView data);
/// Bytes from the OS-seeded CSPRNG (RAND_bytes).
Bytes random_bytes(size_t n);
/// Equality that takes the same time whatever the contents (CRYPTO_memcmp).
bool constant_time_equal(ByteView a, ByteView b);

}  // namespace scepra::crypto
