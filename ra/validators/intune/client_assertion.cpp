// SPDX-License-Identifier: Apache-2.0
#include "validators/intune/client_assertion.hpp"

#include <openssl/evp.h>

#include <chrono>
#include <stdexcept>

#include "common/json.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "http/base64.hpp"
#include "validators/intune/request_id.hpp"

namespace scepra::validators::intune {

namespace {

constexpr std::chrono::minutes assertion_lifetime{10};

Bytes rs256(EVP_PKEY& key, const std::string& signing_input) {
    crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    std::size_t length = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, &key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, data, signing_input.size()) != 1) {
        throw std::runtime_error("cannot sign the Intune client assertion");
    }
    Bytes signature(length);
    if (EVP_DigestSign(ctx.get(), signature.data(), &length, data, signing_input.size()) != 1) {
        throw std::runtime_error("cannot sign the Intune client assertion");
    }
    signature.resize(length);
    return signature;
}

ByteView text_bytes(const std::string& text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace

std::string base64url(ByteView data) {
    std::string text = backend::http::base64_encode(data);
    for (char& c : text) {
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    while (!text.empty() && text.back() == '=') {
        text.pop_back();
    }
    return text;
}

std::string client_assertion(const X509& cert, EVP_PKEY& key, const std::string& client_id,
                             const std::string& token_url, TimePoint now) {
    if (EVP_PKEY_get_base_id(&key) != EVP_PKEY_RSA) {
        throw std::invalid_argument(
            "the Intune client_key must be an RSA key (Entra ID takes RS256 assertions)");
    }
    const std::int64_t issued =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const std::int64_t expires = issued + std::chrono::seconds(assertion_lifetime).count();
    const std::string header = JsonObject()
                                   .add("alg", "RS256")
                                   .add("typ", "JWT")
                                   .add("x5t", base64url(crypto::sha1(crypto::cert_der(cert))))
                                   .str();
    const std::string claims = JsonObject()
                                   .add("aud", token_url)
                                   .add("iss", client_id)
                                   .add("sub", client_id)
                                   .add("jti", new_request_id())
                                   .add("nbf", issued)
                                   .add("iat", issued)
                                   .add("exp", expires)
                                   .str();
    const std::string signing_input = base64url(text_bytes(header)) + "." + base64url(text_bytes(claims));
    return signing_input + "." + base64url(rs256(key, signing_input));
}

}  // namespace scepra::validators::intune
