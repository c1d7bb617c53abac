// SPDX-License-Identifier: Apache-2.0
// A SCEP client's own key, the self-signed certificate that signs its requests
// (RFC 8894 §2.3), and its PKCS#10: used by `scep-ra doctor --enroll` and the
// benchmark client.
#pragma once

#include <string>

#include "crypto/handles.hpp"
#include "crypto/keys.hpp"

namespace scepra::scep {

struct ClientIdentity {
    crypto::EvpPkeyPtr key;
    crypto::X509Ptr cert;  ///< self-signed, subject = the name it was made with
};

/// CN=common_name,O=organization (the O left out when empty).
crypto::X509NamePtr client_name(const std::string& common_name, const std::string& organization);

/// Generates a key and its self-signed certificate, valid from an hour ago for ten years.
ClientIdentity make_client_identity(const crypto::KeySpec& spec, const X509_NAME& subject);

/// PKCS#10 for key with this subject, the challenge (when not empty) as PKCS#9
/// challengePassword, signed with digest (an OpenSSL digest name, e.g. "SHA256").
crypto::X509ReqPtr make_client_csr(EVP_PKEY& key, const X509_NAME& subject, const std::string& challenge,
                                   const std::string& digest);

}  // namespace scepra::scep
