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

// The curves of the default allow-list (NIST P-256, P-384, P-521).
constexpr std::array<int, 3> allowed_curves = {NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1};

constexpr std::array<int, 10> strong_digests = {NID_sha224,     NID_sha256,     NID_sha384,   NID_sha512,
                                                NID_sha512_224, NID_sha512_256, NID_sha3_224, NID_sha3_256,
                                                NID_sha3_384,   NID_sha3_512};

std::optional<std::string> rsa_rejection(const CertificateProfile& profile, EVP_PKEY& key) {
    const int bits = EVP_PKEY_get_bits(&key);
    if (bits < profile.min_rsa_bits) {
        return "RSA keys must have at least " + std::to_string(profile.min_rsa_bits) + " bits, the request's has " +
               std::to_string(bits);
    }
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(&key, OSSL_PKEY_PARAM_RSA_E, &raw) != 1) {
        ERR_clear_error();
        return "the request's RSA public exponent cannot be read";
    }
    crypto::BignumPtr e(raw);
    // e = 1 makes "encryption" the identity; an even e is not an RSA key at all.
    if (BN_is_odd(e.get()) != 1 || BN_is_one(e.get()) == 1) {
        return "the request's RSA public exponent must be odd and at least 3";
    }
    return std::nullopt;
}

std::optional<std::string> ec_rejection(EVP_PKEY& key) {
    int explicit_parameters = 0;
    if (EVP_PKEY_get_int_param(&key, OSSL_PKEY_PARAM_EC_DECODED_FROM_EXPLICIT_PARAMS, &explicit_parameters) == 1 &&
        explicit_parameters != 0) {
        return "EC keys must name their curve (P-256, P-384 or P-521), not spell out its parameters";
    }
    ERR_clear_error();
    char name[80] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(&key, name, sizeof name, &len) != 1) {
        ERR_clear_error();
        return "EC keys must use the curve P-256, P-384 or P-521; the request's curve is unknown";
    }
    const int nid = OBJ_txt2nid(name);
    if (std::none_of(allowed_curves.begin(), allowed_curves.end(), [&](int curve) { return curve == nid; })) {
        const char* nist = nid == NID_undef ? nullptr : EC_curve_nid2nist(nid);
        return std::string("EC keys must use the curve P-256, P-384 or P-521, not ") + (nist ? nist : name);
    }
    return std::nullopt;
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
    const auto& listed = profile.allowed_key_types;
    // Nothing listed means the default allow-list: RSA and EC. EdDSA must be
    // listed; DSA cannot be (check_profile knows no such type).
    const bool type_allowed = listed.empty() ? is_rsa(key) || EVP_PKEY_is_a(&key, "EC") == 1
                                             : std::any_of(listed.begin(), listed.end(),
                                                           [&](const auto& t) { return key_is(key, t); });
    if (!type_allowed) {
        std::string list;
        for (const auto& t : listed) {
            list += (list.empty() ? "" : ", ") + t;
        }
        const char* type = EVP_PKEY_get0_type_name(&key);
        return template_label(profile) + " does not allow " + (type ? type : "this type of") + " keys (allowed: " +
               (list.empty() ? std::string("RSA, EC") : list) + ")";
    }
    if (is_rsa(key)) {
        return rsa_rejection(profile, key);
    }
    if (EVP_PKEY_is_a(&key, "EC") == 1) {
        return ec_rejection(key);
    }
    return std::nullopt;
}

std::optional<std::string> digest_refusal(const std::string& name) {
    crypto::EvpMdPtr md(EVP_MD_fetch(nullptr, name.c_str(), nullptr));
    if (!md) {
        ERR_clear_error();
        return "names an unknown digest '" + name + "' (use SHA256, SHA384 or SHA512)";
    }
    const int nid = EVP_MD_get_type(md.get());
    if (std::none_of(strong_digests.begin(), strong_digests.end(), [&](int strong) { return strong == nid; })) {
        // MD5 and SHA-1 signatures can be forged by collision (RFC 6151, SHA-mbles).
        return "must be a SHA-2 or SHA-3 digest (SHA256, SHA384, SHA512), not '" + name + "'";
    }
    return std::nullopt;
}

}  // namespace scepra::backend::local
