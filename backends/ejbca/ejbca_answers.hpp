// SPDX-License-Identifier: Apache-2.0
// Strict readers for EJBCA's JSON answers (snake_case, base64 byte arrays).
// Every reader throws BadAnswer for anything but the documented shape.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/bytes.hpp"

namespace scepra::backend::ejbca {

class BadAnswer : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// CertificateRestResponse of pkcs10enroll with response_format DER.
struct EnrollAnswer {
    Bytes certificate_der;
    std::vector<Bytes> chain_der;  ///< certificate_chain, when present
    std::string serial_hex;        ///< serial_number, when present
};
EnrollAnswer read_enroll_answer(const std::string& body);

/// error_message of an ExceptionErrorRestResponse {"error_code", "error_message"};
/// nullopt when the body is not one (an HTML error page, say).
std::optional<std::string> read_error_message(const std::string& body);

/// GET v1/certificate/status: the "revision" (EJBCA version) when status is "OK".
std::optional<std::string> read_status_revision(const std::string& body);

struct CaEntry {
    std::string name;
    std::string subject_dn;
};
/// GET v1/ca.
std::vector<CaEntry> read_ca_list(const std::string& body);

struct SearchAnswer {
    std::vector<Bytes> certificates_der;
    bool more_results = false;
};
/// POST v1/certificate/search; at most max_results certificates are accepted.
SearchAnswer read_search_answer(const std::string& body, std::size_t max_results);

struct RevocationStatus {
    bool revoked = false;
    std::string reason;  ///< EJBCA's name, e.g. "KEY_COMPROMISE", "NOT_REVOKED"
};
/// GET .../revocationstatus and PUT .../revoke.
RevocationStatus read_revocation_status(const std::string& body);

/// GET v1/ca/{issuer_dn}/getLatestCrl: the DER CRL.
Bytes read_crl_answer(const std::string& body);

}  // namespace scepra::backend::ejbca
