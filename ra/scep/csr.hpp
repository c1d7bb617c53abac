// SPDX-License-Identifier: Apache-2.0
// The PKCS#10 inside a PKCSReq/RenewalReq (RFC 8894 §3.3.1).
#pragma once

#include <optional>
#include <string>

#include "common/bytes.hpp"
#include "crypto/handles.hpp"

namespace scepra::scep {

struct Csr {
    crypto::X509ReqPtr req;
    Bytes der;
    std::string subject;                            ///< RFC 2253
    std::optional<std::string> challenge_password;  ///< PKCS#9 challengePassword, as UTF-8
    bool signature_valid = false;                   ///< proof of possession of the key
};

/// Parses a DER PKCS#10. Throws ScepFailure(badRequest) when it is not one.
Csr parse_csr(ByteView der);

}  // namespace scepra::scep
