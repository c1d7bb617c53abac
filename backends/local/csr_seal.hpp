// SPDX-License-Identifier: Apache-2.0
// Manual-approval CSRs at rest: their challengePassword is covered by the
// CSR's signature, so it cannot be stripped; the CSR is sealed instead
// (AES-256-GCM under an instance key, the row id as associated data).
#pragma once

#include <cstdint>
#include <filesystem>

#include "common/bytes.hpp"

namespace scepra::backend::local {

class CsrSeal {
  public:
    /// key: 32 bytes.
    explicit CsrSeal(Bytes key);
    /// Reads the 32-byte key file, or creates it (mode 0600) from the CSPRNG.
    static CsrSeal from_key_file(const std::filesystem::path& file);

    /// magic || 12-byte nonce || ciphertext || 16-byte tag, bound to row_id.
    Bytes seal(ByteView csr_der, std::int64_t row_id) const;
    /// The CSR DER back from seal()'s output for the same row, or the stored
    /// bytes as they are when they are a plaintext DER CSR (rows written before
    /// sealing existed). Throws std::runtime_error for anything else: a wrong
    /// key, another row's CSR, tampering, or a deleted (empty) CSR.
    Bytes open(ByteView stored, std::int64_t row_id) const;

    /// Whether stored is seal()'s output (not a plaintext CSR).
    static bool is_sealed(ByteView stored);

  private:
    Bytes m_key;
};

}  // namespace scepra::backend::local
