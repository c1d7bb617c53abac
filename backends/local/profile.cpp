// SPDX-License-Identifier: Apache-2.0
// Named certificate profiles of the local CA, the equivalent of NDES certificate templates.
#include "local/profile.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

namespace scepra::backend::local {

namespace {

// Spelled as OpenSSL's key type names, so EVP_PKEY_is_a() understands them.
constexpr std::array<const char*, 5> known_key_types = {"RSA", "RSA-PSS", "EC", "ED25519", "ED448"};

std::string trim(const std::string& s) {
    auto first = s.find_first_not_of(" \t");
    if (first == std::string::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

void check_extension_text(const CertificateProfile& profile, int nid, const std::string& value, const char* setting) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, nullptr, nullptr, nullptr, nullptr, X509V3_CTX_TEST);
    crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (ext == nullptr) {
        ERR_clear_error();
        throw std::invalid_argument("certificate template '" + profile.name + "': bad " + setting + " '" + value + "'");
    }
}

bool key_is(EVP_PKEY& key, const std::string& type) {
    // A profile allowing "RSA" means RSA keys, whichever padding they are restricted to.
    if (iequals(type, "RSA")) {
        return is_rsa(key);
    }
    return EVP_PKEY_is_a(&key, type.c_str()) == 1;
}

std::string template_label(const CertificateProfile& profile) {
    return profile.name.empty() ? "the default certificate template" : "certificate template '" + profile.name + "'";
}

}  // namespace

bool iequals(const std::string& a, const std::string& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](unsigned char x, unsigned char y) {
        return std::tolower(x) == std::tolower(y);
    });
}

bool is_rsa(EVP_PKEY& key) { return EVP_PKEY_is_a(&key, "RSA") == 1 || EVP_PKEY_is_a(&key, "RSA-PSS") == 1; }

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
        if (std::none_of(known_key_types.begin(), known_key_types.end(),
                         [&](const char* known) { return iequals(type, known); })) {
            throw std::invalid_argument(label + ": unknown key type '" + type +
                                        "' (known: RSA, RSA-PSS, EC, ED25519, ED448)");
        }
    }
}

std::optional<std::string> key_rejection(const CertificateProfile& profile, EVP_PKEY& key) {
    const auto& allowed = profile.allowed_key_types;
    const bool type_allowed =
        allowed.empty() || std::any_of(allowed.begin(), allowed.end(), [&](const auto& t) { return key_is(key, t); });
    if (!type_allowed) {
        std::string list;
        for (const auto& t : allowed) {
            list += (list.empty() ? "" : ", ") + t;
        }
        return template_label(profile) + " does not allow " + EVP_PKEY_get0_type_name(&key) + " keys (allowed: " +
               list + ")";
    }
    if (is_rsa(key) && EVP_PKEY_get_bits(&key) < profile.min_rsa_bits) {
        return "RSA keys must have at least " + std::to_string(profile.min_rsa_bits) + " bits, the request's has " +
               std::to_string(EVP_PKEY_get_bits(&key));
    }
    return std::nullopt;
}

}  // namespace scepra::backend::local
