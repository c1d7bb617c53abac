// SPDX-License-Identifier: Apache-2.0
// /certsrv/mscep_admin/: hands out one-time challenge passwords to
// authenticated administrators (HTTP Basic), as the NDES admin page does.
#pragma once

#include "core/challenge_verifier.hpp"
#include "crypto/handles.hpp"
#include "http/admin_page.hpp"
#include "http/listener.hpp"
#include "http/ntlm_challenges.hpp"
#include "store/admin_store.hpp"
#include "store/challenge_store.hpp"

namespace scepra::http {

struct AdminSiteOptions {
    AdminPageSettings page;        ///< encoding and authentication
    bool allow_plaintext = false;  ///< [admin] allow_plaintext: take Basic passwords without TLS
};

class AdminSite final : public Site {
public:
    AdminSite(AdminSiteOptions options, store::AdminStore& admins, store::ChallengeStore& challenges,
              core::PasswordModes& modes, X509& ca_cert);
    bool handles(std::string_view path) const override;
    Served serve(const httplib::Request& request, httplib::Response& response) override;

private:
    /// The account the request authenticates (NTLM or Basic, as configured),
    /// or nullopt after answering it (401 with the next NTLM step, 429).
    std::optional<store::AdminStore::Login> authenticate(const httplib::Request& request, httplib::Response& response,
                                                         std::string& account, std::string& summary);
    /// 401 offering every configured scheme, in order.
    void challenge_login(httplib::Response& response) const;

    /// Issues one password (bound as asked) if role allows, and renders the page or JSON.
    std::string issue(const httplib::Request& request, httplib::Response& response, const std::string& admin,
                      store::AdminRole role, const store::ChallengeBinding& binding, bool json);

    AdminSiteOptions m_options;
    store::AdminStore& m_admins;
    store::ChallengeStore& m_challenges;
    core::PasswordModes& m_modes;
    std::string m_md5, m_sha256;
    Bytes m_ntlm_key;  ///< [password] hmac_key when NTLM is on
    NtlmChallenges m_ntlm_challenges;
};

}  // namespace scepra::http
