// SPDX-License-Identifier: Apache-2.0
// Subject key policy of a certificate template (see key_policy.hpp).
#include "crypto/key_policy.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include <algorithm>
#include <array>

#include "common/ascii.hpp"
#include "crypto/handles.hpp"

namespace scepra::crypto {

namespace {

// Spelled as OpenSSL's key type names, so EVP_PKEY_is_a() understands them.
constexpr std::array<const char*, 5> known_key_types = {"RSA", "RSA-PSS", "EC", "ED25519", "ED448"};

// The curves of the default allow-list (NIST P-256, P-384, P-521).
constexpr std::array<int, 3> allowed_curves = {NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1};

bool key_is(EVP_PKEY& key, const std::string& type) {
    // A policy allowing "RSA" means RSA keys, whichever padding they are restricted to.
    if (equal_ignoring_ascii_case(type, "RSA")) {
        return is_rsa_key(key);
    }
    return EVP_PKEY_is_a(&key, type.c_str()) == 1;
}

std::optional<std::string> rsa_refusal(const KeyPolicy& policy, EVP_PKEY& key) {
    const int bits = EVP_PKEY_get_bits(&key);
    if (bits < policy.min_rsa_bits) {
        return "RSA keys must have at least " + std::to_string(policy.min_rsa_bits) +
               " bits, the request's has " + std::to_string(bits);
    }
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(&key, OSSL_PKEY_PARAM_RSA_E, &raw) != 1) {
        ERR_clear_error();
        return "the request's RSA public exponent cannot be read";
    }
    BignumPtr e(raw);
    // e = 1 makes "encryption" the identity; an even e is not an RSA key at all.
    if (BN_is_odd(e.get()) != 1 || BN_is_one(e.get()) == 1) {
        return "the request's RSA public exponent must be odd and at least 3";
    }
    return std::nullopt;
}

std::optional<std::string> ec_refusal(EVP_PKEY& key) {
    int explicit_parameters = 0;
    if (EVP_PKEY_get_int_param(&key, OSSL_PKEY_PARAM_EC_DECODED_FROM_EXPLICIT_PARAMS, &explicit_parameters) ==
            1 &&
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

bool is_rsa_key(EVP_PKEY& key) {
    return EVP_PKEY_is_a(&key, "RSA") == 1 || EVP_PKEY_is_a(&key, "RSA-PSS") == 1;
}

bool known_key_type(const std::string& type) {
    return std::any_of(known_key_types.begin(), known_key_types.end(),
                       [&](const char* known) { return equal_ignoring_ascii_case(type, known); });
}

std::optional<std::string> key_policy_refusal(const KeyPolicy& policy, EVP_PKEY& key,
                                              const std::string& label) {
    const auto& listed = policy.allowed_key_types;
    // Nothing listed means the default allow-list: RSA and EC. EdDSA must be
    // listed; DSA cannot be (known_key_type knows no such type).
    const bool type_allowed = listed.empty() ? is_rsa_key(key) || EVP_PKEY_is_a(&key, "EC") == 1
                                             : std::any_of(listed.begin(), listed.end(),
                                                           [&](const auto& t) { return key_is(key, t); });
    if (!type_allowed) {
        std::string list;
        for (const auto& t : listed) {
            list += (list.empty() ? "" : ", ") + t;
        }
        const char* type = EVP_PKEY_get0_type_name(&key);
        return label + " does not allow " + (type ? type : "this type of") +
               " keys (allowed: " + (list.empty() ? std::string("RSA, EC") : list) + ")";
    }
    if (is_rsa_key(key)) {
        return rsa_refusal(policy, key);
    }
    if (EVP_PKEY_is_a(&key, "EC") == 1) {
        return ec_refusal(key);
    }
    return std::nullopt;
}

}  // namespace scepra::crypto
