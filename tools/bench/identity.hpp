// SPDX-License-Identifier: Apache-2.0
// A benchmark device: its key pair, the self-signed certificate that signs its requests, and its CSR.
#pragma once

#include <string>

#include "crypto/handles.hpp"
#include "crypto/keys.hpp"

namespace scepra::bench {

struct Identity {
    crypto::EvpPkeyPtr key;
    crypto::X509Ptr cert;  ///< self-signed, CN=common_name
};

/// Generates a key and its self-signed certificate (the slow part of pre-generation).
Identity make_identity(const crypto::KeySpec& spec, const std::string& common_name);

/// PKCS#10 for key with subject CN=common_name,O=scep-bench, the challenge
/// (when not empty) as PKCS#9 challengePassword, signed with digest.
crypto::X509ReqPtr make_csr(EVP_PKEY& key, const std::string& common_name, const std::string& challenge,
                            const std::string& digest);

}  // namespace scepra::bench
