// SPDX-License-Identifier: Apache-2.0
// SCEP protocol constants (RFC 8894 §3.2.1): message types, pkiStatus,
// failInfo and the attribute OIDs.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace scepra::scep {

enum class MessageType : int {
    cert_rep = 3,
    renewal_req = 17,
    pkcs_req = 19,
    cert_poll = 20,  // GetCertInitial in older drafts
    get_cert = 21,
    get_crl = 22,
};

enum class PkiStatus : int { success = 0, failure = 2, pending = 3 };

enum class FailInfo : int {
    bad_alg = 0,
    bad_message_check = 1,
    bad_request = 2,
    bad_time = 3,
    bad_cert_id = 4,
};

/// "PKCSReq", "RenewalReq", ... or the number for an unknown type.
std::string message_type_name(int type);
/// "badAlg", "badMessageCheck", ...
std::string fail_info_name(FailInfo info);

namespace oid {
inline constexpr const char* message_type = "2.16.840.1.113733.1.9.2";
inline constexpr const char* pki_status = "2.16.840.1.113733.1.9.3";
inline constexpr const char* fail_info = "2.16.840.1.113733.1.9.4";
inline constexpr const char* sender_nonce = "2.16.840.1.113733.1.9.5";
inline constexpr const char* recipient_nonce = "2.16.840.1.113733.1.9.6";
inline constexpr const char* transaction_id = "2.16.840.1.113733.1.9.7";
inline constexpr const char* fail_info_text = "1.3.6.1.5.5.7.24.1";
}  // namespace oid

/// The request is not a SCEP pkiMessage at all (answered with HTTP 400).
class DecodeError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The request is a pkiMessage but cannot be served; answered with a signed
/// CertRep FAILURE carrying this failInfo.
class ScepFailure : public std::runtime_error {
  public:
    ScepFailure(FailInfo info, const std::string& text) : std::runtime_error(text), m_info(info) {}
    /// audit_detail: what the audit trail records besides the device's text
    /// (e.g. a webhook's reason), never sent to the device.
    ScepFailure(FailInfo info, const std::string& text, std::string audit_detail)
        : std::runtime_error(text), m_info(info), m_audit_detail(std::move(audit_detail)) {}
    FailInfo info() const { return m_info; }
    const std::string& audit_detail() const { return m_audit_detail; }

  private:
    FailInfo m_info;
    std::string m_audit_detail;
};

}  // namespace scepra::scep
