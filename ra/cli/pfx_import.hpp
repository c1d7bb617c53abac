// SPDX-License-Identifier: Apache-2.0
// Reading NDES's RA certificates and keys from PFX (PKCS#12) files, as Windows
// exports them, and checking that they can serve as scep-ra's RA identity.
#pragma once

#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "crypto/handles.hpp"

namespace scepra::cli {

/// Larger PFX files are refused unread (an RA key and its chain are a few KiB).
inline constexpr size_t max_pfx_bytes = 1 << 20;

/// PFX files asking for more MAC iterations are refused before the MAC is computed.
inline constexpr long max_pfx_iterations = 1'000'000;

struct PfxContents {
    crypto::EvpPkeyPtr key;
    crypto::X509Ptr cert;                ///< the certificate of key
    std::vector<crypto::X509Ptr> chain;  ///< the other certificates in the file
};

/// A PFX that cannot be opened; the message says why (wrong password, not a PFX, no key...).
class PfxError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Opens a PFX in a private OpenSSL library context that has the legacy
/// provider, because Windows protects PFX files with RC2-40-CBC and 3DES under
/// a SHA-1 MAC. The legacy provider is never loaded into the process's default
/// context; the key and certificates returned live in the default context.
PfxContents read_pfx(ByteView der, const std::string& password);

enum class RaRole { signing, encryption };

struct RaCertificateCheck {
    std::vector<std::string> refusals;  ///< the certificate must not be installed
    std::vector<std::string> warnings;  ///< it may be, but the operator should know
};

/// What the CA side knows of the chain the RA certificates must lead to.
struct CaAnchors {
    std::vector<X509*> trusted;  ///< the configured CA certificate and its chain
    bool local_backend = true;   ///< false: the chain comes from a remote CA, a mismatch only warns
};

/// Checks an RA certificate as NDES would have used it: key and certificate
/// match, valid at now (warns within 30 days of expiry), the key usage the role
/// needs (signing: digitalSignature; encryption: keyEncipherment and an RSA key),
/// NDES's usual EKU/KU (warnings), and a chain to the configured CA.
RaCertificateCheck check_ra_certificate(const PfxContents& pfx, RaRole role, const CaAnchors& anchors,
                                        std::time_t now);

}  // namespace scepra::cli
