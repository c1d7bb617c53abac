// SPDX-License-Identifier: Apache-2.0
// Named certificate profiles of the local CA, the equivalent of NDES certificate templates.
#include "local/profile.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

#include "crypto/key_policy.hpp"

namespace scepra::backend::local {

namespace {

std::string trim(const std::string& s) {
    auto first = s.find_first_not_of(" \t");
    if (first == std::string::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

void check_extension_text(const CertificateProfile& profile, int nid, const std::string& value,
                          const char* setting) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, nullptr, nullptr, nullptr, nullptr, X509V3_CTX_TEST);
    crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (ext == nullptr) {
        ERR_clear_error();
        throw std::invalid_argument("certificate template '" + profile.name + "': bad " + setting + " '" +
                                    value + "'");
    }
}

std::string template_label(const CertificateProfile& profile) {
    return profile.name.empty() ? "the default certificate template"
                                : "certificate template '" + profile.name + "'";
}

constexpr std::array<int, 10> strong_digests = {NID_sha224,     NID_sha256,     NID_sha384,   NID_sha512,
                                                NID_sha512_224, NID_sha512_256, NID_sha3_224, NID_sha3_256,
                                                NID_sha3_384,   NID_sha3_512};

}  // namespace

bool iequals(const std::string& a, const std::string& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

bool is_rsa(EVP_PKEY& key) { return crypto::is_rsa_key(key); }

std::string key_usage_for(const std::string& configured, EVP_PKEY& key) {
    if (is_rsa(key)) {
        return configured;
    }
    std::string out;
    size_t pos = 0;
    while (pos <= configured.size()) {
        size_t comma = std::min(configured.find(',', pos), configured.size());
        std::string item = trim(configured.substr(pos, comma - pos));
        if (!item.empty() && item != "keyEncipherment" && item != "dataEncipherment") {
            out += (out.empty() ? "" : ",") + item;
        }
        pos = comma + 1;
    }
    return out;
}

void check_profile(const CertificateProfile& profile) {
    const std::string label = "certificate template '" + profile.name + "'";
    if (profile.name.empty()) {
        throw std::invalid_argument("a certificate template needs a name");
    }
    if (profile.validity_days <= 0) {
        throw std::invalid_argument(label + ": validity_days must be positive");
    }
    if (profile.min_rsa_bits <= 0) {
        throw std::invalid_argument(label + ": min_rsa_bits must be positive");
    }
    if (!profile.key_usage.empty()) {
        check_extension_text(profile, NID_key_usage, "critical," + profile.key_usage, "key_usage");
    }
    if (!profile.extended_key_usage.empty()) {
        check_extension_text(profile, NID_ext_key_usage, profile.extended_key_usage, "extended_key_usage");
    }
    for (const auto& type : profile.allowed_key_types) {
        if (!crypto::known_key_type(type)) {
            throw std::invalid_argument(label + ": unknown key type '" + type +
                                        "' (known: RSA, RSA-PSS, EC, ED25519, ED448)");
        }
    }
}

std::optional<std::string> key_rejection(const CertificateProfile& profile, EVP_PKEY& key) {
    return crypto::key_policy_refusal({profile.min_rsa_bits, profile.allowed_key_types}, key,
                                      template_label(profile));
}

std::optional<std::string> digest_refusal(const std::string& name) {
    crypto::EvpMdPtr md(EVP_MD_fetch(nullptr, name.c_str(), nullptr));
    if (!md) {
        ERR_clear_error();
        return "names an unknown digest '" + name + "' (use SHA256, SHA384 or SHA512)";
    }
    const int nid = EVP_MD_get_type(md.get());
    if (std::none_of(strong_digests.begin(), strong_digests.end(),
                     [&](int strong) { return strong == nid; })) {
        // MD5 and SHA-1 signatures can be forged by collision (RFC 6151, SHA-mbles).
        return "must be a SHA-2 or SHA-3 digest (SHA256, SHA384, SHA512), not '" + name + "'";
    }
    return std::nullopt;
}

}  // namespace scepra::backend::local
