// SPDX-License-Identifier: Apache-2.0
// /certsrv/mscep_admin/: hands out one-time challenge passwords to
// authenticated administrators (Negotiate/Kerberos, NTLM, Basic), as the NDES
// admin page does.
#pragma once

#include <memory>

#include "api/ca_backend.hpp"
#include "core/challenge_verifier.hpp"
#include "http/admin_page.hpp"
#include "http/listener.hpp"
#include "http/ntlm_challenges.hpp"
#include "store/admin_store.hpp"
#include "store/challenge_store.hpp"

namespace scepra::http {

class NegotiateAcceptor;

struct AdminSiteOptions {
    AdminPageSettings page;        ///< encoding and authentication
    bool allow_plaintext = false;  ///< [admin] allow_plaintext: take Basic passwords without TLS
};

class AdminSite final : public Site {
  public:
    /// Throws KeytabError when auth has negotiate and the keytab cannot serve.
    /// The page shows the thumbprints of ca's issuing CA as it is at each
    /// request (a chain `scep-ra reload` fetched anew included).
    AdminSite(AdminSiteOptions options, store::AdminStore& admins, store::ChallengeStore& challenges,
              core::PasswordModes& modes, const backend::CaBackend& ca);
    ~AdminSite() override;
    bool handles(std::string_view path) const override;
    Served serve(const httplib::Request& request, httplib::Response& response) override;

  private:
    using Login = store::AdminStore::Login;

    /// The account the request authenticates (Negotiate, NTLM or Basic, as
    /// configured), or nullopt after answering it (401 with the next NTLM
    /// step or the schemes offered, 429).
    std::optional<Login> authenticate(const httplib::Request& request, httplib::Response& response,
                                      std::string& account, std::string& summary);

    // One step of each scheme: the login it came to (ok or not), or nullopt
    // after answering the request itself. detail says why a login failed.
    std::optional<Login> negotiate_step(const httplib::Request& request, httplib::Response& response,
                                        const std::string& header, std::string& account, std::string& detail,
                                        std::string& mutual_token, std::string& summary);
    std::optional<Login> ntlm_step(const httplib::Request& request, httplib::Response& response,
                                   ByteView message, const char* reply_scheme, std::string& account,
                                   std::string& summary);
    std::optional<Login> basic_step(const httplib::Request& request, httplib::Response& response,
                                    std::string& account, std::string& summary);
    bool offers(AuthScheme scheme) const;
    /// 401 offering every configured scheme, in order.
    void challenge_login(httplib::Response& response) const;

    /// Issues one password (bound as asked) if role allows and make_password
    /// (false for HEAD: the same answer, with no password made), and renders the page or JSON.
    std::string issue(const httplib::Request& request, httplib::Response& response, const std::string& admin,
                      store::AdminRole role, const store::ChallengeBinding& binding, bool json,
                      bool make_password);

    AdminSiteOptions m_options;
    store::AdminStore& m_admins;
    store::ChallengeStore& m_challenges;
    core::PasswordModes& m_modes;
    const backend::CaBackend& m_ca;
    Bytes m_ntlm_key;  ///< [password] hmac_key when NTLM is on
    NtlmChallenges m_ntlm_challenges;
    std::unique_ptr<NegotiateAcceptor> m_negotiate;  ///< when auth has negotiate
};

}  // namespace scepra::http
