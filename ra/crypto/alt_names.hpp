// SPDX-License-Identifier: Apache-2.0
// subjectAltName entries as typed values: read from a CSR or a certificate,
// compared the way RFC 5280 name matching does (DNS case-insensitively).
#pragma once

#include <optional>
#include <string>

#include "crypto/handles.hpp"

namespace scepra::crypto {

/// The subjectAltName entries of a request or certificate.
struct AltNames {
    GeneralNamesPtr names;  ///< null when there is no subjectAltName
    std::string error;      ///< set when the extension is repeated or cannot be decoded
    int count() const;
    const GENERAL_NAME& at(int i) const;
};

/// The subjectAltName the CSR's extensionRequest asks for.
AltNames request_alt_names(X509_REQ& csr);
/// The subjectAltName of a certificate.
AltNames certificate_alt_names(const X509& cert);

/// GENERAL_NAME_cmp equality, except that DNS names compare case-insensitively.
bool same_alt_name(const GENERAL_NAME& a, const GENERAL_NAME& b);
/// True when some entry of names equals name (same_alt_name).
bool contains_alt_name(const AltNames& names, const GENERAL_NAME& name);

/// The characters of a dNSName or rfc822Name entry, exactly as sent (they
/// may hold anything, NUL included); nullopt for every other type of name.
std::optional<std::string> dns_or_email(const GENERAL_NAME& name);

/// "DNS:vpn.example.com", "IP:192.0.2.1", "otherName (UPN)", ...: printable,
/// bounded text for refusal messages and logs.
std::string describe_alt_name(const GENERAL_NAME& name);

}  // namespace scepra::crypto
