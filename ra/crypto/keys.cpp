// SPDX-License-Identifier: Apache-2.0
#include "crypto/keys.hpp"

#include <stdexcept>

#include "crypto/openssl_error.hpp"

namespace scepra::crypto {

KeySpec KeySpec::parse(const std::string& text) {
    KeySpec spec;
    auto colon = text.find(':');
    std::string kind = text.substr(0, colon);
    std::string arg = colon == std::string::npos ? "" : text.substr(colon + 1);
    if (kind == "rsa") {
        spec.type = Type::rsa;
        if (!arg.empty()) {
            try {
                spec.rsa_bits = std::stoi(arg);
            } catch (const std::exception&) {
                throw std::invalid_argument("bad RSA key size in '" + text + "'");
            }
        }
        if (spec.rsa_bits < 2048 || spec.rsa_bits > 8192) {
            throw std::invalid_argument("RSA key size must be 2048..8192 in '" + text + "'");
        }
    } else if (kind == "ec") {
        spec.type = Type::ec;
        if (!arg.empty()) {
            spec.curve = arg;
        }
        if (spec.curve != "P-256" && spec.curve != "P-384" && spec.curve != "P-521") {
            throw std::invalid_argument("unsupported curve in '" + text + "' (P-256, P-384, P-521)");
        }
    } else {
        throw std::invalid_argument("key type must be rsa:BITS or ec:CURVE, not '" + text + "'");
    }
    return spec;
}

std::string KeySpec::to_string() const {
    return type == Type::rsa ? "rsa:" + std::to_string(rsa_bits) : "ec:" + curve;
}

EvpPkeyPtr generate_key(const KeySpec& spec) {
    EVP_PKEY* key = nullptr;
    if (spec.type == KeySpec::Type::rsa) {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(spec.rsa_bits));
    } else {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", spec.curve.c_str());
    }
    check(key != nullptr, "EVP_PKEY_Q_keygen");
    return EvpPkeyPtr(key);
}

}  // namespace scepra::crypto
