// SPDX-License-Identifier: Apache-2.0
// POSTs JSON to one webhook URL over the shared HTTPS client, signed with
// HMAC-SHA256 of the raw body in X-Scep-Ra-Signature when a secret is set.
#pragma once

#include <string>

#include "common/bytes.hpp"
#include "http/rest_client.hpp"
#include "validators/webhook/webhook_config.hpp"

namespace scepra::validators::webhook {

/// The signature header's name and its value for a body: "sha256=<lowercase hex>".
inline constexpr const char* signature_header = "X-Scep-Ra-Signature";
std::string signature_value(ByteView secret, const std::string& body);

class WebhookClient {
  public:
    /// Reads the secret file (once: a changed secret takes a reload) and the
    /// client certificate; throws std::runtime_error / std::invalid_argument
    /// naming what is wrong. peer names the receiver in messages.
    WebhookClient(const WebhookConfig& config, const std::string& url, const std::string& peer);
    ~WebhookClient();
    WebhookClient(const WebhookClient&) = delete;
    WebhookClient& operator=(const WebhookClient&) = delete;

    /// Throws backend::http::TransportError when no HTTP answer came.
    backend::http::HttpAnswer post(const std::string& body, std::size_t max_answer) const;

  private:
    backend::http::RestClient m_client;
    Bytes m_secret;
};

/// Reads a secret file: its bytes without a trailing newline; throws when it
/// cannot be read or is shorter than 16 bytes.
Bytes read_webhook_secret(const std::filesystem::path& file);

}  // namespace scepra::validators::webhook
