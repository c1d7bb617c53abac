// SPDX-License-Identifier: Apache-2.0
#include "validators/intune/token_client.hpp"

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <algorithm>
#include <charconv>

#include "crypto/encoding.hpp"
#include "validators/intune/bounded_json.hpp"
#include "validators/intune/client_assertion.hpp"
#include "validators/intune/intune_answers.hpp"
#include "validators/intune/intune_errors.hpp"

namespace scepra::validators::intune {

namespace {

constexpr std::size_t max_token_answer = 64 * 1024;
constexpr std::size_t max_token_length = 16 * 1024;
constexpr std::size_t max_secret_length = 1024;
constexpr std::int64_t max_lifetime_seconds = 24 * 3600;
/// Tokens are renewed this long before they expire (or at half their life when shorter).
constexpr std::chrono::seconds refresh_margin{300};

backend::http::ClientConfig login_config(const IntuneSettings& s) {
    return {"Entra ID", s.login_url, {}, {}, s.server_ca, s.timeout_seconds};
}

std::string read_secret(const std::filesystem::path& file) {
    std::string secret = crypto::read_file(file);
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' || secret.back() == ' ')) {
        secret.pop_back();
    }
    if (secret.empty() || secret.size() > max_secret_length) {
        throw std::runtime_error("the Intune client_secret_file " + file.string() +
                                 " must hold one client secret (1 to 1024 bytes)");
    }
    return secret;
}

/// expires_in is a number in v2.0 answers and a string of digits in v1.0 ones.
std::optional<std::int64_t> lifetime_of(const nlohmann::json& answer) {
    const auto found = answer.find("expires_in");
    if (found == answer.end()) {
        return std::nullopt;
    }
    std::int64_t seconds = -1;
    if (found->is_number_integer()) {
        seconds = found->get<std::int64_t>();
    } else if (found->is_string()) {
        const auto& text = found->get_ref<const std::string&>();
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
        if (ec != std::errc() || end != text.data() + text.size()) {
            return std::nullopt;
        }
    }
    if (seconds < 1 || seconds > max_lifetime_seconds) {
        return std::nullopt;
    }
    return seconds;
}

bool token_text_ok(const std::string& token) {
    return !token.empty() &&
           std::all_of(token.begin(), token.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

TokenClient::TokenClient(const IntuneSettings& settings, const Clock& clock)
    : m_clock(clock), m_client_id(settings.client_id), m_login(login_config(settings)) {
    m_token_path = backend::http::percent_encode(settings.tenant_id) + "/oauth2/v2.0/token";
    m_token_url = settings.login_url;
    while (!m_token_url.empty() && m_token_url.back() == '/') {
        m_token_url.pop_back();
    }
    m_token_url += "/" + m_token_path;
    if (!settings.client_secret_file.empty()) {
        m_secret = read_secret(settings.client_secret_file);
    } else {
        m_cert = crypto::load_cert_file(settings.client_cert);
        m_key = crypto::load_key_file(settings.client_key);
        if (X509_check_private_key(m_cert.get(), m_key.get()) != 1) {
            throw std::runtime_error("the Intune client_key " + settings.client_key.string() +
                                     " does not belong to client_cert " + settings.client_cert.string());
        }
        if (EVP_PKEY_get_base_id(m_key.get()) != EVP_PKEY_RSA) {
            throw std::runtime_error("the Intune client_key " + settings.client_key.string() +
                                     " must be an RSA key (Entra ID takes RS256 client assertions)");
        }
    }
}

TokenClient::~TokenClient() {
    OPENSSL_cleanse(m_secret.data(), m_secret.size());
    for (auto& [scope, cached] : m_cache) {
        OPENSSL_cleanse(cached.value.data(), cached.value.size());
    }
}

std::string TokenClient::token(const std::string& scope) {
    {
        std::lock_guard lock(m_mutex);
        if (auto found = m_cache.find(scope);
            found != m_cache.end() && m_clock.now() < found->second.refresh_after) {
            return found->second.value;
        }
    }
    // Requests arriving during a fetch share its token, or its failure: a slow
    // or failing Entra ID costs each of them one wait, not one wait per request before it.
    return m_fetches.run(scope, [&] {
        Cached fresh = fetch(scope);
        std::lock_guard lock(m_mutex);
        m_cache[scope] = fresh;
        return fresh.value;
    });
}

void TokenClient::forget(const std::string& scope) {
    std::lock_guard lock(m_mutex);
    m_cache.erase(scope);
}

std::string TokenClient::request_body(const std::string& scope) const {
    using backend::http::percent_encode;
    std::string body = "grant_type=client_credentials&client_id=" + percent_encode(m_client_id) +
                       "&scope=" + percent_encode(scope);
    if (!m_secret.empty()) {
        body += "&client_secret=" + percent_encode(m_secret);
    } else {
        body +=
            "&client_assertion_type=" +
            percent_encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
            "&client_assertion=" + client_assertion(*m_cert, *m_key, m_client_id, m_token_url, m_clock.now());
    }
    return body;
}

TokenClient::Cached TokenClient::fetch(const std::string& scope) const {
    backend::http::HttpAnswer answer;
    try {
        std::string body = request_body(scope);
        answer = m_login.post(m_token_path, body, "application/x-www-form-urlencoded", {}, max_token_answer);
        OPENSSL_cleanse(body.data(), body.size());
    } catch (const backend::http::TransportError& e) {
        throw IntuneUnavailable(std::string("cannot get a token from Entra ID: ") + e.what());
    }
    detail::TokenAnswer read = detail::read_token_answer(answer.status, answer.body, scope);
    const std::chrono::seconds margin = std::min(refresh_margin, read.lifetime / 2);
    return {std::move(read.access_token), m_clock.now() + read.lifetime - margin};
}

detail::TokenAnswer detail::read_token_answer(int status, const std::string& body, const std::string& scope) {
    const auto parsed = parse_bounded(body);
    if (status != 200) {
        // Entra ID's error code and description (e.g. AADSTS7000215) name the fault; never the secret.
        std::string why = "HTTP " + std::to_string(status);
        if (parsed) {
            if (auto error = string_member(*parsed, "error", 256)) {
                why += " " + printable(*error, 64);
            }
            if (auto description = string_member(*parsed, "error_description", 4096)) {
                why += ": " + printable(*description, 200);
            }
        }
        throw IntuneUnavailable("Entra ID refused a token for " + scope + " (" + why + ")");
    }
    std::optional<std::string> token =
        parsed ? string_member(*parsed, "access_token", max_token_length) : std::nullopt;
    const std::optional<std::int64_t> lifetime = parsed ? lifetime_of(*parsed) : std::nullopt;
    if (!token || !token_text_ok(*token) || !lifetime) {
        throw IntuneUnavailable("Entra ID's token answer has no usable access_token and expires_in");
    }
    return {std::move(*token), std::chrono::seconds{*lifetime}};
}

}  // namespace scepra::validators::intune
