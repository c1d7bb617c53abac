// SPDX-License-Identifier: Apache-2.0
// CSRs at rest (the RA's held requests, the local CA's approval queue): their
// challengePassword is covered by the CSR's signature, so it cannot be
// stripped; the CSR is sealed instead (AES-256-GCM under an instance key,
// private/csr-seal.key, with the row it belongs to as associated data).
#pragma once

#include <string_view>

#include "common/bytes.hpp"

namespace scepra::crypto {

class CsrSeal {
  public:
    /// key: 32 bytes (store::ChallengeStore::load_or_create_key reads or makes the file).
    explicit CsrSeal(Bytes key);

    /// magic || 12-byte nonce || ciphertext || 16-byte tag, bound to `row`
    /// (text naming the table and row the sealed CSR is stored in).
    Bytes seal(ByteView csr_der, std::string_view row) const;
    /// The CSR DER back from seal()'s output for the same row, or the stored
    /// bytes as they are when they are a plaintext DER CSR (rows written before
    /// sealing existed). Throws std::runtime_error for anything else: a wrong
    /// key, another row's CSR, tampering, or a deleted (empty) CSR.
    Bytes open(ByteView stored, std::string_view row) const;

    /// Whether stored is seal()'s output (not a plaintext CSR).
    static bool is_sealed(ByteView stored);

  private:
    Bytes m_key;
};

}  // namespace scepra::crypto
