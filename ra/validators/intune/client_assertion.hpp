// SPDX-License-Identifier: Apache-2.0
// The signed JWT an application presents instead of a client secret
// (OAuth 2.0 client credentials with a certificate, RFC 7523 as Entra ID
// takes it): RS256 over {aud: the token endpoint, iss = sub: the client id,
// jti, nbf, iat, exp}, with the certificate's SHA-1 thumbprint as x5t.
#pragma once

#include <string>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "crypto/handles.hpp"

namespace scepra::validators::intune {

/// base64url without padding (RFC 7515 §2).
std::string base64url(ByteView data);

/// A client assertion valid for ten minutes from now. key must be RSA.
std::string client_assertion(const X509& cert, EVP_PKEY& key, const std::string& client_id,
                             const std::string& token_url, TimePoint now);

}  // namespace scepra::validators::intune
