// SPDX-License-Identifier: Apache-2.0
// Slow salted password hashing (scrypt) in the text form '$scrypt$N$r$p$salt-hex$hash-hex'.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace scepra::crypto {

/// scrypt cost: N (CPU/memory, a power of two), r (block size), p (parallelism).
/// Memory used is about 128 * r * N bytes (32 MiB for the defaults).
struct ScryptParams {
    std::uint64_t n = 1 << 15;
    std::uint32_t r = 8;
    std::uint32_t p = 1;
};

/// True when params are within what hash_password and verify_password accept:
/// N a power of two in [2^10, 2^20], r in [1, 32], p in [1, 16], at most
/// 1 GiB of memory (128 * r * N) and N * r * p <= 2^24.
bool params_allowed(const ScryptParams& params);

/// Hashes password with a fresh 16-byte random salt into a 32-byte scrypt
/// output, encoded as "$scrypt$N$r$p$<salt hex>$<hash hex>" (lowercase hex).
/// Throws std::invalid_argument when !params_allowed(params), OpensslError on
/// an OpenSSL failure.
std::string hash_password(std::string_view password, const ScryptParams& params = {});

/// Recomputes scrypt with the salt and parameters of encoded and compares in
/// constant time. A malformed encoding, or one with parameters outside
/// params_allowed, gives false without running scrypt. Throws OpensslError only
/// when OpenSSL itself fails on valid input. (As with any HMAC-based KDF,
/// trailing NUL bytes of a password up to 64 bytes do not change its hash.)
bool verify_password(std::string_view password, std::string_view encoded);

/// Characters (UTF-8 code points) in a password, for minimum-length rules.
std::size_t password_length(std::string_view password);

}  // namespace scepra::crypto
