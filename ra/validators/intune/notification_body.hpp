// SPDX-License-Identifier: Apache-2.0
// The bodies of Intune's ScepActions calls, with the field names of
// Microsoft's Intune library.
#pragma once

#include <string>

#include "common/bytes.hpp"
#include "core/enrolment_outcome.hpp"

namespace scepra::validators::intune {

/// {"request": {transactionId, certificateRequest, callerInfo}}
std::string validate_request_body(const std::string& transaction_id, ByteView csr_der,
                                  const std::string& caller_info);

/// {"notification": {transactionId, certificateRequest, certificateThumbprint,
/// certificateSerialNumber, certificateExpirationDateUtc, issuingCertificateAuthority,
/// callerInfo, caConfiguration, certificateAuthority}} for an issued certificate.
std::string success_notification_body(const core::EnrolmentOutcome& issued, const std::string& caller_info);

/// CERTSRV_E_ENROLL_DENIED, the HRESULT Intune's console shows for a refused request.
inline constexpr long long enroll_denied_hresult = 0x80094011LL;

/// {"notification": {transactionId, certificateRequest, hResult, errorDescription, callerInfo}}
std::string failure_notification_body(const core::EnrolmentOutcome& rejected, const std::string& caller_info);

}  // namespace scepra::validators::intune
