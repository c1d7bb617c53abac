// SPDX-License-Identifier: Apache-2.0
// [webhook]: the policy webhook that decides requests (validator = webhook)
// and the receiver of enrolment notifications (notify_url).
#pragma once

#include <filesystem>
#include <string>

namespace scepra::validators::webhook {

struct WebhookConfig {
    std::string url;                    ///< https:// URL asked for every request; required
    std::filesystem::path secret_file;  ///< HMAC-SHA256 key for X-Scep-Ra-Signature; empty = unsigned
    std::filesystem::path client_cert;  ///< mutual TLS; with client_key
    std::filesystem::path client_key;
    std::filesystem::path server_ca;  ///< CA(s) trusted for the receivers; empty = the system store
    int timeout_seconds = 10;         ///< connect, read and write, each
    std::string notify_url;           ///< https:// URL told every decision and outcome; empty = none
};

}  // namespace scepra::validators::webhook
