// SPDX-License-Identifier: Apache-2.0
// A signed JSON POST to a webhook (see webhook_client.hpp).
#include "validators/webhook/webhook_client.hpp"

#include <openssl/crypto.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

#include "crypto/digest.hpp"

namespace scepra::validators::webhook {

namespace {

// A shorter key makes the HMAC guessable; 16 bytes is what the README's
// `openssl rand -hex 32` far exceeds.
constexpr std::size_t min_secret_bytes = 16;
constexpr std::size_t max_secret_bytes = 4096;

backend::http::ClientConfig client_config(const WebhookConfig& config, const std::string& url,
                                          const std::string& peer) {
    backend::http::ClientConfig c;
    c.peer = peer;
    c.url = url;
    c.client_cert = config.client_cert;
    c.client_key = config.client_key;
    c.server_ca = config.server_ca;
    c.timeout_seconds = config.timeout_seconds;
    c.system_trust_without_server_ca = true;
    return c;
}

}  // namespace

std::string signature_value(ByteView secret, const std::string& body) {
    return "sha256=" + to_hex(crypto::hmac_sha256(secret, as_bytes(body)), false);
}

Bytes read_webhook_secret(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read the webhook secret_file " + file.string());
    }
    Bytes secret;
    char c = 0;
    while (secret.size() <= max_secret_bytes && in.get(c)) {
        secret.push_back(static_cast<std::uint8_t>(c));
    }
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
        secret.pop_back();
    }
    if (secret.size() < min_secret_bytes || secret.size() > max_secret_bytes) {
        OPENSSL_cleanse(secret.data(), secret.size());
        throw std::runtime_error("the webhook secret_file " + file.string() + " must hold " +
                                 std::to_string(min_secret_bytes) + " to " +
                                 std::to_string(max_secret_bytes) + " bytes");
    }
    return secret;
}

WebhookClient::WebhookClient(const WebhookConfig& config, const std::string& url, const std::string& peer)
    : m_client(client_config(config, url, peer)) {
    if (!config.secret_file.empty()) {
        m_secret = read_webhook_secret(config.secret_file);
    }
}

WebhookClient::~WebhookClient() { OPENSSL_cleanse(m_secret.data(), m_secret.size()); }

backend::http::HttpAnswer WebhookClient::post(const std::string& body, std::size_t max_answer) const {
    backend::http::ExtraHeaders headers;
    if (!m_secret.empty()) {
        headers.emplace_back(signature_header, signature_value(m_secret, body));
    }
    return m_client.post_json("", body, max_answer, headers);
}

}  // namespace scepra::validators::webhook
