// SPDX-License-Identifier: Apache-2.0
// AES-256-GCM sealing of CSRs at rest (see csr_seal.hpp).
#include "crypto/csr_seal.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <string>

#include "crypto/digest.hpp"
#include "crypto/handles.hpp"
#include "crypto/openssl_error.hpp"

namespace scepra::crypto {

namespace {

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CDeleter<&EVP_CIPHER_CTX_free>>;

// Not 0x30, the first byte of every DER CSR, so sealed and legacy rows are told apart.
constexpr std::array<std::uint8_t, 4> magic{'s', 'C', 'R', '1'};
constexpr std::size_t key_size = 32;
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;
constexpr std::uint8_t der_sequence = 0x30;

int length(std::size_t n) {
    if (n > static_cast<std::size_t>(INT32_MAX)) {
        throw std::runtime_error("sealed CSR too large");
    }
    return static_cast<int>(n);
}

}  // namespace

CsrSeal::CsrSeal(Bytes key) : m_key(std::move(key)) {
    if (m_key.size() != key_size) {
        throw std::invalid_argument("the CSR sealing key must be 32 bytes");
    }
}

bool CsrSeal::is_sealed(ByteView stored) {
    return stored.size() >= magic.size() && std::equal(magic.begin(), magic.end(), stored.begin());
}

Bytes CsrSeal::seal(ByteView csr_der, std::string_view aad) const {
    Bytes out(magic.begin(), magic.end());
    const Bytes nonce = random_bytes(nonce_size);
    out.insert(out.end(), nonce.begin(), nonce.end());
    const std::size_t body = out.size();
    out.resize(body + csr_der.size() + tag_size);

    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int n = 0;
    check(ctx != nullptr, "EVP_CIPHER_CTX_new");
    check(EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), m_key.data(), nonce.data(), nullptr) == 1,
          "EVP_EncryptInit_ex2");
    check(EVP_EncryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                            length(aad.size())) == 1,
          "EVP_EncryptUpdate aad");
    check(EVP_EncryptUpdate(ctx.get(), out.data() + body, &n, csr_der.data(), length(csr_der.size())) == 1,
          "EVP_EncryptUpdate");
    int tail = 0;
    check(EVP_EncryptFinal_ex(ctx.get(), out.data() + body + n, &tail) == 1, "EVP_EncryptFinal_ex");
    check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_size),
                              out.data() + body + csr_der.size()) == 1,
          "EVP_CTRL_AEAD_GET_TAG");
    return out;
}

Bytes CsrSeal::open(ByteView stored, std::string_view aad) const {
    if (!stored.empty() && stored[0] == der_sequence) {
        return Bytes(stored.begin(), stored.end());  // written before sealing existed
    }
    if (stored.empty()) {
        throw std::runtime_error("the request's CSR was deleted after its final outcome");
    }
    if (!is_sealed(stored) || stored.size() < magic.size() + nonce_size + tag_size) {
        throw std::runtime_error("the stored CSR is neither sealed nor a DER request");
    }
    const unsigned char* nonce = stored.data() + magic.size();
    const unsigned char* cipher = nonce + nonce_size;
    const std::size_t cipher_size = stored.size() - magic.size() - nonce_size - tag_size;
    Bytes tag(cipher + cipher_size, cipher + cipher_size + tag_size);
    Bytes plain(cipher_size);

    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int n = 0;
    check(ctx != nullptr, "EVP_CIPHER_CTX_new");
    check(EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), m_key.data(), nonce, nullptr) == 1,
          "EVP_DecryptInit_ex2");
    check(EVP_DecryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                            length(aad.size())) == 1,
          "EVP_DecryptUpdate aad");
    check(EVP_DecryptUpdate(ctx.get(), plain.data(), &n, cipher, length(cipher_size)) == 1,
          "EVP_DecryptUpdate");
    check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_size), tag.data()) == 1,
          "EVP_CTRL_AEAD_SET_TAG");
    int tail = 0;
    if (EVP_DecryptFinal_ex(ctx.get(), plain.data() + n, &tail) != 1) {
        ERR_clear_error();
        throw std::runtime_error("the sealed CSR of " + std::string(aad) +
                                 " does not open with this instance's key (wrong key, or altered)");
    }
    return plain;
}

}  // namespace scepra::crypto
