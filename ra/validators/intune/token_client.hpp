// SPDX-License-Identifier: Apache-2.0
// Access tokens from Entra ID by the OAuth 2.0 client-credentials grant
// (POST {login_url}/{tenant}/oauth2/v2.0/token, as Microsoft's MSAL-based
// Intune library asks), one per scope, cached until shortly before they expire.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "common/clock.hpp"
#include "common/single_flight.hpp"
#include "crypto/handles.hpp"
#include "http/rest_client.hpp"
#include "validators/intune/intune_settings.hpp"

namespace scepra::validators::intune {

/// Intune's resource, as the library names it: "https://api.manage.microsoft.com/" + "/.default".
inline constexpr const char* intune_scope = "https://api.manage.microsoft.com//.default";

class TokenClient {
  public:
    /// Reads the client secret or the certificate and key; throws
    /// std::runtime_error naming the file when one cannot be used.
    TokenClient(const IntuneSettings& settings, const Clock& clock);
    ~TokenClient();
    TokenClient(const TokenClient&) = delete;
    TokenClient& operator=(const TokenClient&) = delete;

    /// A valid token for scope, from the cache or fresh. Throws IntuneUnavailable.
    std::string token(const std::string& scope);
    /// Drops the cached token (the service refused it).
    void forget(const std::string& scope);

    const std::string& token_url() const { return m_token_url; }

  private:
    struct Cached {
        std::string value;
        TimePoint refresh_after;
    };
    std::string request_body(const std::string& scope) const;
    Cached fetch(const std::string& scope) const;

    const Clock& m_clock;
    std::string m_client_id;
    std::string m_token_url;
    std::string m_token_path;
    backend::http::RestClient m_login;
    std::string m_secret;  ///< wiped on destruction
    crypto::X509Ptr m_cert;
    crypto::EvpPkeyPtr m_key;
    std::mutex m_mutex;  ///< guards m_cache (never held while Entra ID is asked)
    std::map<std::string, Cached> m_cache;
    SingleFlight<std::string> m_fetches;  ///< one fetch per scope at a time, its outcome shared
};

}  // namespace scepra::validators::intune
