// SPDX-License-Identifier: Apache-2.0
// CRL reasons and the full v2 CRL the local CA signs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "crypto/handles.hpp"

namespace scepra::backend::local {

/// RFC 5280 5.3.1 CRLReason values (7 is unused).
enum CrlReason : int {
    crl_reason_unspecified = 0,
    crl_reason_key_compromise = 1,
    crl_reason_ca_compromise = 2,
    crl_reason_affiliation_changed = 3,
    crl_reason_superseded = 4,
    crl_reason_cessation_of_operation = 5,
    crl_reason_certificate_hold = 6,
    crl_reason_remove_from_crl = 8,
    crl_reason_privilege_withdrawn = 9,
    crl_reason_aa_compromise = 10,
};

/// The RFC 5280 ASN.1 name of a reason ("keyCompromise", "cACompromise", ...),
/// or nothing for a value that is not a CRLReason.
std::optional<std::string> crl_reason_name(int code);
/// The code of a reason name, case-insensitive; also accepts the code as
/// decimal text. Nothing for an unknown name.
std::optional<int> crl_reason_code(std::string_view name);

/// One revoked certificate as it goes on the CRL.
struct RevokedEntry {
    std::string serial_hex;  ///< as crypto::serial_hex
    TimePoint revoked_at;
    int reason_code = crl_reason_unspecified;
};

/// A full v2 CRL issued by ca_cert: thisUpdate/nextUpdate as given, extensions
/// authorityKeyIdentifier (keyid = the CA's subjectKeyIdentifier) and
/// cRLNumber, one entry per revoked certificate (reasonCode only when not
/// unspecified, as RFC 5280 5.3.1 recommends), sorted by serial, signed with
/// ca_key and digest (null for EdDSA). Throws crypto::OpensslError.
crypto::X509CrlPtr build_crl(X509& ca_cert, EVP_PKEY& ca_key, const EVP_MD* digest,
                             const std::vector<RevokedEntry>& entries, TimePoint this_update,
                             TimePoint next_update, std::int64_t crl_number);

}  // namespace scepra::backend::local
