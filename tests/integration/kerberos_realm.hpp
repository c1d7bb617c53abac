// SPDX-License-Identifier: Apache-2.0
// A Kerberos realm for this test run: MIT's krb5kdc on a loopback port, its
// database, configuration, tickets, keytabs and replay cache in a temporary
// directory (KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5RCACHEDIR point there; no DNS).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/bytes.hpp"
#include "support/test_pki.hpp"

namespace scepra::test {

class KerberosRealm {
  public:
    static constexpr const char* kName = "TEST.SCEPRA";
    /// The service the admin page runs as: curl --negotiate asks for HTTP@localhost.
    static constexpr const char* kService = "HTTP/localhost@TEST.SCEPRA";

    /// The realm of this process, made on first use; nullptr (with why) when
    /// the KDC programs are not installed.
    static KerberosRealm* shared(std::string& why_not);

    ~KerberosRealm();
    KerberosRealm(const KerberosRealm&) = delete;
    KerberosRealm& operator=(const KerberosRealm&) = delete;

    /// A user principal with this password (kadmin.local addprinc).
    void add_user(const std::string& name, const std::string& password);
    /// A credential cache holding name's ticket-granting ticket (kinit), as FILE:path.
    std::string kinit(const std::string& name, const std::string& password);
    /// A new keytab file (mode 0600) with keys for principal (created with a random key if new).
    std::string keytab(const std::string& principal, const std::string& file_name);
    std::string file(const std::string& name) const { return m_dir.file(name); }

  private:
    KerberosRealm();
    void start_kdc();
    void run(const std::string& command);

    TempDir m_dir;
    int m_port = 0;
    pid_t m_kdc = -1;
};

/// A Kerberos initiator (what a browser or curl --negotiate does): the SPNEGO
/// token for HTTP@localhost from the tickets in ccache, and the check of the
/// server's mutual-authentication reply.
class KerberosClient {
  public:
    explicit KerberosClient(const std::string& ccache);
    ~KerberosClient();
    KerberosClient(const KerberosClient&) = delete;
    KerberosClient& operator=(const KerberosClient&) = delete;

    /// The first token (a SPNEGO NegTokenInit with a Kerberos AP-REQ asking for mutual authentication).
    const Bytes& token() const { return m_token; }
    /// Whether reply is the server's valid answer to token() (completes the context).
    bool accepts_reply(ByteView reply);

  private:
    struct State;
    std::unique_ptr<State> m_state;
    Bytes m_token;
};

}  // namespace scepra::test
