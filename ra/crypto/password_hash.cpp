// SPDX-License-Identifier: Apache-2.0
// Slow salted password hashing (scrypt) in the text form '$scrypt$N$r$p$salt-hex$hash-hex'.
#include "crypto/password_hash.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <charconv>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "common/bytes.hpp"
#include "crypto/digest.hpp"
#include "crypto/handles.hpp"
#include "crypto/openssl_error.hpp"

namespace scepra::crypto {

namespace {

using EvpKdfPtr = std::unique_ptr<EVP_KDF, CDeleter<&EVP_KDF_free>>;
using EvpKdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, CDeleter<&EVP_KDF_CTX_free>>;

constexpr std::size_t kSaltSize = 16;
constexpr std::size_t kHashSize = 32;
constexpr std::string_view kPrefix = "$scrypt$";

constexpr std::uint64_t kMinN = std::uint64_t{1} << 10;
constexpr std::uint64_t kMaxN = std::uint64_t{1} << 20;
constexpr std::uint32_t kMaxR = 32;
constexpr std::uint32_t kMaxP = 16;
constexpr std::uint64_t kMaxMemory = std::uint64_t{1} << 30;  // 128 * r * N
constexpr std::uint64_t kMaxWork = std::uint64_t{1} << 24;    // N * r * p

/// Buffer we own that may hold password-derived bytes; wiped when it goes away.
class SecretBytes final {
  public:
    explicit SecretBytes(std::size_t n) : m_bytes(n) {}
    ~SecretBytes() { OPENSSL_cleanse(m_bytes.data(), m_bytes.size()); }
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;
    std::uint8_t* data() { return m_bytes.data(); }
    std::size_t size() const { return m_bytes.size(); }
    ByteView view() const { return m_bytes; }

  private:
    Bytes m_bytes;
};

/// scrypt(password, salt, params) into out; params must be allowed.
void scrypt(std::string_view password, ByteView salt, const ScryptParams& params, SecretBytes& out) {
    EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr));
    check(kdf != nullptr, "EVP_KDF_fetch(SCRYPT)");
    EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
    check(ctx != nullptr, "EVP_KDF_CTX_new");

    // OpenSSL needs 128 * r * (N + 2) bytes for V plus 128 * r * p for B; the
    // default cap (32 MiB) is just too small for N = 2^15, r = 8.
    std::uint64_t n = params.n;
    std::uint32_t r = params.r;
    std::uint32_t p = params.p;
    std::uint64_t maxmem =
        std::uint64_t{128} * r * (n + 2) + std::uint64_t{128} * r * p + (std::uint64_t{1} << 20);
    // The KDF copies the password into its context and clears it when freed.
    std::array<OSSL_PARAM, 7> ossl_params = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()),
                                          password.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()),
                                          salt.size()),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    check(EVP_KDF_derive(ctx.get(), out.data(), out.size(), ossl_params.data()) == 1,
          "EVP_KDF_derive(SCRYPT)");
}

std::string lower_hex(ByteView b) { return to_hex(b, false); }

int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/// Exactly `size` bytes as lowercase hex, else nullopt.
std::optional<Bytes> parse_hex(std::string_view text, std::size_t size) {
    if (text.size() != 2 * size) {
        return std::nullopt;
    }
    Bytes out(size);
    for (std::size_t i = 0; i < size; ++i) {
        const int hi = hex_digit(text[2 * i]);
        const int lo = hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return out;
}

/// A canonical decimal (digits only, no sign, no leading zero) that fits T.
template <class T>
std::optional<T> parse_number(std::string_view text) {
    if (text.empty() || (text.size() > 1 && text[0] == '0')) {
        return std::nullopt;
    }
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
    }
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

struct Decoded {
    ScryptParams params;
    Bytes salt;
    Bytes hash;
};

std::optional<Decoded> decode(std::string_view encoded) {
    if (encoded.substr(0, kPrefix.size()) != kPrefix) {
        return std::nullopt;
    }
    std::string_view rest = encoded.substr(kPrefix.size());
    std::array<std::string_view, 5> fields;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const auto sep = rest.find('$');
        const bool last = i + 1 == fields.size();
        if (last != (sep == std::string_view::npos)) {
            return std::nullopt;
        }
        fields[i] = rest.substr(0, sep);
        rest = last ? std::string_view() : rest.substr(sep + 1);
    }
    const auto n = parse_number<std::uint64_t>(fields[0]);
    const auto r = parse_number<std::uint32_t>(fields[1]);
    const auto p = parse_number<std::uint32_t>(fields[2]);
    auto salt = parse_hex(fields[3], kSaltSize);
    auto hash = parse_hex(fields[4], kHashSize);
    if (!n || !r || !p || !salt || !hash) {
        return std::nullopt;
    }
    Decoded out{ScryptParams{*n, *r, *p}, std::move(*salt), std::move(*hash)};
    if (!params_allowed(out.params)) {
        return std::nullopt;
    }
    return out;
}

}  // namespace

bool params_allowed(const ScryptParams& params) {
    const std::uint64_t n = params.n;
    const std::uint64_t r = params.r;
    const std::uint64_t p = params.p;
    if (n < kMinN || n > kMaxN || (n & (n - 1)) != 0) {
        return false;
    }
    if (r < 1 || r > kMaxR || p < 1 || p > kMaxP) {
        return false;
    }
    // No overflow: n <= 2^20, r <= 2^5, p <= 2^4.
    return 128 * r * n <= kMaxMemory && n * r * p <= kMaxWork;
}

std::string hash_password(std::string_view password, const ScryptParams& params) {
    if (!params_allowed(params)) {
        throw std::invalid_argument(
            "scrypt parameters out of range (N a power of two in [2^10, 2^20], "
            "r in [1, 32], p in [1, 16], at most 1 GiB)");
    }
    const Bytes salt = random_bytes(kSaltSize);
    SecretBytes out(kHashSize);
    scrypt(password, salt, params, out);
    return std::string(kPrefix) + std::to_string(params.n) + "$" + std::to_string(params.r) + "$" +
           std::to_string(params.p) + "$" + lower_hex(salt) + "$" + lower_hex(out.view());
}

bool verify_password(std::string_view password, std::string_view encoded) {
    const auto decoded = decode(encoded);
    if (!decoded) {
        return false;
    }
    SecretBytes out(decoded->hash.size());
    scrypt(password, decoded->salt, decoded->params, out);
    return constant_time_equal(out.view(), decoded->hash);
}

std::size_t password_length(std::string_view password) {
    std::size_t count = 0;
    for (char c : password) {
        // Every byte except UTF-8 continuation bytes (10xxxxxx) starts a character.
        if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) {
            ++count;
        }
    }
    return count;
}

}  // namespace scepra::crypto
