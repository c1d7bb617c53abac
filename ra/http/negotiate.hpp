// SPDX-License-Identifier: Apache-2.0
// Negotiate (RFC 4559) with Kerberos on the admin page: SPNEGO or raw
// Kerberos tokens accepted with MIT's GSSAPI under the service's keytab, and
// the authenticated principal mapped to an admin account name.
#pragma once

#include <optional>
#include <string>

#include "common/bytes.hpp"
#include "http/admin_page.hpp"
#include "http/gss_handles.hpp"

namespace scepra::http {

/// The admin account a principal logs in as: "alice@EXAMPLE.COM" as it is,
/// or "alice" when realm is EXAMPLE.COM. nullopt when no account name can
/// spell it (a service principal such as HTTP/host, other characters than
/// A-Za-z0-9._@-, more than 64 characters).
std::optional<std::string> admin_account_for(const std::string& principal, const std::string& realm);

class NegotiateAcceptor final {
  public:
    /// Larger tokens are refused unread. cpp-httplib 0.11 refuses any header
    /// line over 8,192 bytes (HTTP 400) before a handler runs: "Authorization:
    /// Negotiate " and the base64 of 6,000 bytes fit in it. A ticket whose PAC
    /// lists very many groups can be larger; IIS's defaults allow about 12 KiB.
    static constexpr std::size_t kMaxTokenBytes = 6000;

    /// Checks the keytab (throws KeytabError) and acquires the acceptor's
    /// credential for its principal, Kerberos and SPNEGO only.
    explicit NegotiateAcceptor(const NegotiateSettings& settings);

    struct Accepted {
        std::string principal;  ///< "alice@EXAMPLE.COM"
        Bytes reply;            ///< the mutual-authentication token for "WWW-Authenticate: Negotiate"
    };

    /// One token, one round trip: a Kerberos AP-REQ (SPNEGO-wrapped or raw)
    /// is accepted or refused; nullopt with the reason for anything else
    /// (garbage, a ticket for another service, a replay the krb5 replay cache
    /// saw, a mechanism other than Kerberos, a SPNEGO exchange needing more legs).
    std::optional<Accepted> accept(ByteView token, std::string& reason) const;

    /// The principal tokens must be addressed to.
    const std::string& service_principal() const { return m_principal; }

  private:
    std::string m_principal;
    gss::Credential m_credential;
};

}  // namespace scepra::http
