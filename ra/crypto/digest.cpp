// SPDX-License-Identifier: Apache-2.0
#include "crypto/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <string>

#include "crypto/openssl_error.hpp"

namespace scepra::crypto {

Bytes digest(std::string_view algorithm, ByteView data) {
    Bytes out(EVP_MAX_MD_SIZE);
    size_t len = 0;
    check(EVP_Q_digest(nullptr, std::string(algorithm).c_str(), nullptr, data.data(), data.size(), out.data(),
                       &len) == 1,
          "EVP_Q_digest");
    out.resize(len);
    return out;
}

Bytes hmac_sha256(ByteView key, ByteView data) {
    Bytes out(EVP_MAX_MD_SIZE);
    size_t len = 0;
    check(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), data.data(),
                    data.size(), out.data(), out.size(), &len) != nullptr,
          "EVP_Q_mac");
    out.resize(len);
    return out;
}

Bytes random_bytes(size_t n) {
    Bytes out(n);
    check(RAND_bytes(out.data(), static_cast<int>(n)) == 1, "RAND_bytes");
    return out;
}

bool constant_time_equal(ByteView a, ByteView b) {
    if (a.size() != b.size()) {
        return false;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace scepra::crypto
