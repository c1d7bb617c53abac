// SPDX-License-Identifier: Apache-2.0
// NTLMv2 for the admin page ([MS-NLMP] 2.2.1, 3.3.2).
#include "http/ntlm.hpp"

#include <openssl/evp.h>
#include <openssl/provider.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "common/ascii.hpp"
#include "crypto/digest.hpp"
#include "crypto/handles.hpp"
#include "crypto/openssl_error.hpp"
#include "http/admin_page.hpp"

namespace scepra::http::ntlm {

namespace {

using LibCtxPtr = std::unique_ptr<OSSL_LIB_CTX, crypto::CDeleter<&OSSL_LIB_CTX_free>>;
using ProviderPtr = std::unique_ptr<OSSL_PROVIDER, crypto::CDeleter<&OSSL_PROVIDER_unload>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, crypto::CDeleter<&EVP_CIPHER_CTX_free>>;

constexpr char kSignature[] = "NTLMSSP";  // with its NUL: 8 bytes
constexpr size_t kNonce = 12, kTag = 16;

// NEGOTIATE flags of the CHALLENGE ([MS-NLMP] 2.2.2.5).
constexpr std::uint32_t kUnicode = 0x00000001, kRequestTarget = 0x00000004, kNtlm = 0x00000200,
                        kAlwaysSign = 0x00008000, kTargetTypeServer = 0x00020000,
                        kExtendedSecurity = 0x00080000, kTargetInfo = 0x00800000, k128 = 0x20000000,
                        k56 = 0x80000000;

void put16(Bytes& out, unsigned v) {
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(Bytes& out, std::uint32_t v) {
    put16(out, v & 0xffff);
    put16(out, v >> 16);
}
std::uint32_t get32(ByteView m, size_t at) {
    return m[at] | (m[at + 1] << 8) | (m[at + 2] << 16) | (static_cast<std::uint32_t>(m[at + 3]) << 24);
}
unsigned get16(ByteView m, size_t at) { return m[at] | (m[at + 1] << 8); }

Bytes utf16le(std::string_view text) {
    const std::string units = to_utf16le(std::string(text));
    return Bytes(units.begin(), units.end());
}

/// A (length, maxlength, offset) field's payload, or nullopt when it points
/// outside the message.
std::optional<Bytes> field(ByteView m, size_t at) {
    const size_t length = get16(m, at);
    const size_t offset = get32(m, at + 4);
    if (offset > m.size() || length > m.size() - offset) {
        return std::nullopt;
    }
    return Bytes(m.begin() + static_cast<std::ptrdiff_t>(offset),
                 m.begin() + static_cast<std::ptrdiff_t>(offset + length));
}

/// UTF-16LE that is printable ASCII only, as the admin names are.
std::optional<std::string> ascii_from_utf16le(const Bytes& units) {
    if (units.size() % 2 != 0) {
        return std::nullopt;
    }
    std::string out;
    for (size_t i = 0; i < units.size(); i += 2) {
        if (units[i + 1] != 0 || units[i] < 0x20 || units[i] > 0x7e) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>(units[i]));
    }
    return out;
}

Bytes hmac_md5(ByteView key, ByteView data) {
    Bytes out(EVP_MAX_MD_SIZE);
    size_t len = 0;
    crypto::check(EVP_Q_mac(nullptr, "HMAC", nullptr, "MD5", nullptr, key.data(), key.size(), data.data(),
                            data.size(), out.data(), out.size(), &len) != nullptr,
                  "EVP_Q_mac HMAC-MD5");
    out.resize(len);
    return out;
}

Bytes concat(ByteView a, ByteView b) {
    Bytes out(a.begin(), a.end());
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

/// NTOWFv2: HMAC-MD5(NT hash, UTF-16LE(uppercase(user) + domain)).
Bytes ntowf_v2(ByteView nt_hash, const std::string& user, const std::string& domain) {
    std::string upper = user;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    return hmac_md5(nt_hash, utf16le(upper + domain));
}

Bytes seal_key(ByteView key_material) {
    const std::string label = "scep-ra admin NT hash v1";
    return crypto::hmac_sha256(key_material, as_bytes(label));
}

}  // namespace

Bytes nt_hash(std::string_view password) {
    LibCtxPtr ctx(OSSL_LIB_CTX_new());
    crypto::check(ctx != nullptr, "OSSL_LIB_CTX_new");
    ProviderPtr legacy(OSSL_PROVIDER_load(ctx.get(), "legacy"));
    crypto::check(legacy != nullptr, "OSSL_PROVIDER_load legacy (MD4)");
    const Bytes units = utf16le(password);
    Bytes out(EVP_MAX_MD_SIZE);
    size_t len = 0;
    crypto::check(EVP_Q_digest(ctx.get(), "MD4", nullptr, units.data(), units.size(), out.data(), &len) == 1,
                  "EVP_Q_digest MD4");
    out.resize(len);
    return out;
}

Bytes seal_nt_hash(ByteView key_material, const std::string& account, ByteView hash) {
    const Bytes key = seal_key(key_material);
    Bytes out = crypto::random_bytes(kNonce);
    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    crypto::check(ctx != nullptr, "EVP_CIPHER_CTX_new");
    crypto::check(EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key.data(), out.data(), nullptr) == 1,
                  "EVP_EncryptInit_ex2");
    int len = 0;
    crypto::check(
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(account.data()),
                          static_cast<int>(account.size())) == 1,
        "EVP_EncryptUpdate AAD");
    Bytes sealed(hash.size());
    crypto::check(
        EVP_EncryptUpdate(ctx.get(), sealed.data(), &len, hash.data(), static_cast<int>(hash.size())) == 1,
        "EVP_EncryptUpdate");
    int final_len = 0;
    crypto::check(EVP_EncryptFinal_ex(ctx.get(), sealed.data() + len, &final_len) == 1,
                  "EVP_EncryptFinal_ex");
    Bytes tag(kTag);
    crypto::check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, tag.data()) == 1, "GCM tag");
    out.insert(out.end(), sealed.begin(), sealed.end());
    out.insert(out.end(), tag.begin(), tag.end());
    return out;
}

std::optional<Bytes> open_nt_hash(ByteView key_material, const std::string& account, ByteView box) {
    if (box.size() != kNonce + 16 + kTag) {
        return std::nullopt;
    }
    const Bytes key = seal_key(key_material);
    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    crypto::check(ctx != nullptr, "EVP_CIPHER_CTX_new");
    crypto::check(EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key.data(), box.data(), nullptr) == 1,
                  "EVP_DecryptInit_ex2");
    int len = 0;
    crypto::check(
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(account.data()),
                          static_cast<int>(account.size())) == 1,
        "EVP_DecryptUpdate AAD");
    Bytes hash(16);
    crypto::check(EVP_DecryptUpdate(ctx.get(), hash.data(), &len, box.data() + kNonce, 16) == 1,
                  "EVP_DecryptUpdate");
    Bytes tag(box.end() - kTag, box.end());
    crypto::check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1, "GCM tag");
    int final_len = 0;
    if (EVP_DecryptFinal_ex(ctx.get(), hash.data() + len, &final_len) != 1) {
        return std::nullopt;  // another key, another account, or altered
    }
    return hash;
}

std::string base64(ByteView message) {
    std::string out(4 * ((message.size() + 2) / 3) + 1, '\0');
    const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), message.data(),
                                    static_cast<int>(message.size()));
    out.resize(static_cast<size_t>(len));
    return out;
}

int message_type(ByteView m) {
    if (m.size() < 12 ||
        !std::equal(m.begin(), m.begin() + 8, reinterpret_cast<const std::uint8_t*>(kSignature))) {
        return 0;
    }
    const std::uint32_t type = get32(m, 8);
    return type >= 1 && type <= 3 ? static_cast<int>(type) : 0;
}

Bytes challenge_message(ByteView server_challenge, const std::string& target_name) {
    const Bytes name = utf16le(target_name);
    // Target info: NetBIOS domain and computer name, then MsvAvEOL.
    Bytes info;
    for (unsigned id : {2u, 1u}) {
        put16(info, id);
        put16(info, static_cast<unsigned>(name.size()));
        info.insert(info.end(), name.begin(), name.end());
    }
    put32(info, 0);
    constexpr size_t kHeader = 48;
    Bytes m(kSignature, kSignature + 8);
    put32(m, 2);
    put16(m, static_cast<unsigned>(name.size()));
    put16(m, static_cast<unsigned>(name.size()));
    put32(m, kHeader);
    put32(m, kUnicode | kRequestTarget | kNtlm | kAlwaysSign | kTargetTypeServer | kExtendedSecurity |
                 kTargetInfo | k128 | k56);
    m.insert(m.end(), server_challenge.begin(), server_challenge.end());
    m.insert(m.end(), 8, 0);  // reserved
    put16(m, static_cast<unsigned>(info.size()));
    put16(m, static_cast<unsigned>(info.size()));
    put32(m, static_cast<std::uint32_t>(kHeader + name.size()));
    m.insert(m.end(), name.begin(), name.end());
    m.insert(m.end(), info.begin(), info.end());
    return m;
}

std::optional<Authenticate> read_authenticate(ByteView m, std::string& reason) {
    if (message_type(m) != 3 || m.size() < 64) {
        reason = "not an NTLM AUTHENTICATE message";
        return std::nullopt;
    }
    if ((get32(m, 60) & kUnicode) == 0) {
        reason = "NTLM without Unicode";
        return std::nullopt;
    }
    auto nt = field(m, 20);
    auto domain = field(m, 28);
    auto user = field(m, 36);
    if (!nt || !domain || !user) {
        reason = "NTLM AUTHENTICATE field outside the message";
        return std::nullopt;
    }
    // 24 bytes is an NTLMv1 (or NTLM2 session) response; NTLMv2 is the proof
    // (16) and a blob of at least 28 bytes.
    if (nt->size() < 16 + 28) {
        reason = "NTLMv1 or LM response refused (NTLMv2 only)";
        return std::nullopt;
    }
    auto user_text = ascii_from_utf16le(*user);
    auto domain_text = ascii_from_utf16le(*domain);
    if (!user_text || user_text->empty() || !domain_text) {
        reason = "NTLM user or domain is not printable ASCII";
        return std::nullopt;
    }
    return Authenticate{*user_text, *domain_text, std::move(*nt)};
}

bool verify_ntlmv2(const Authenticate& auth, ByteView hash, ByteView server_challenge) {
    if (auth.nt_response.size() <= 16 || hash.size() != 16 || server_challenge.size() != 8) {
        return false;
    }
    const ByteView proof(auth.nt_response.data(), 16);
    const ByteView blob(auth.nt_response.data() + 16, auth.nt_response.size() - 16);
    const Bytes expected = hmac_md5(ntowf_v2(hash, auth.user, auth.domain), concat(server_challenge, blob));
    return crypto::constant_time_equal(expected, proof);
}

std::optional<std::string> target_name(const Authenticate& auth) {
    // The NTLMv2 blob after the NTProofStr: a 28-byte header, then AV pairs
    // (id and length, 16 bits each, little-endian) up to MsvAvEOL.
    constexpr size_t kProof = 16, kBlobHeader = 28;
    constexpr unsigned kEol = 0, kTargetName = 9;
    const ByteView pairs =
        ByteView(auth.nt_response).subspan(std::min(auth.nt_response.size(), kProof + kBlobHeader));
    for (size_t at = 0; at + 4 <= pairs.size();) {
        const unsigned id = get16(pairs, at);
        const size_t length = get16(pairs, at + 2);
        at += 4;
        if (id == kEol || at + length > pairs.size()) {
            return std::nullopt;
        }
        if (id == kTargetName) {
            return ascii_from_utf16le(Bytes(pairs.begin() + static_cast<std::ptrdiff_t>(at),
                                            pairs.begin() + static_cast<std::ptrdiff_t>(at + length)))
                .value_or("?");
        }
        at += length;
    }
    return std::nullopt;
}

bool names_http_service(std::string_view target_name) {
    return starts_with_ignoring_ascii_case(target_name, "http/");
}

Bytes authenticate_message(ByteView challenge, const std::string& user, const std::string& domain,
                           std::string_view password, const std::string& target) {
    if (message_type(challenge) != 2 || challenge.size() < 48) {
        throw std::invalid_argument("not an NTLM CHALLENGE message");
    }
    const ByteView server_challenge(challenge.data() + 24, 8);
    const auto info = field(challenge, 40);
    if (!info) {
        throw std::invalid_argument("NTLM CHALLENGE target info outside the message");
    }
    // The NTLMv2 client blob ([MS-NLMP] 2.2.2.7): version, time, nonce, target info.
    Bytes blob{1, 1, 0, 0, 0, 0, 0, 0};
    blob.insert(blob.end(), 8, 0);  // timestamp: not checked by this server
    const Bytes nonce = crypto::random_bytes(8);
    blob.insert(blob.end(), nonce.begin(), nonce.end());
    blob.insert(blob.end(), 4, 0);
    blob.insert(blob.end(), info->begin(), info->end());
    if (!target.empty() && blob.size() >= 4) {  // before the target info's MsvAvEOL, as Windows sends it
        blob.resize(blob.size() - 4);
        const Bytes name = utf16le(target);
        put16(blob, 9);
        put16(blob, static_cast<unsigned>(name.size()));
        blob.insert(blob.end(), name.begin(), name.end());
        put32(blob, 0);
    }
    blob.insert(blob.end(), 4, 0);
    const Bytes proof = hmac_md5(ntowf_v2(nt_hash(password), user, domain), concat(server_challenge, blob));
    const Bytes nt_response = concat(proof, blob);

    const Bytes d = utf16le(domain), u = utf16le(user), w = utf16le("TEST");
    constexpr size_t kHeader = 64;
    Bytes m(kSignature, kSignature + 8);
    put32(m, 3);
    size_t offset = kHeader;
    auto add_field = [&](size_t length) {
        put16(m, static_cast<unsigned>(length));
        put16(m, static_cast<unsigned>(length));
        put32(m, static_cast<std::uint32_t>(offset));
        offset += length;
    };
    add_field(0);  // LM response: none
    add_field(nt_response.size());
    add_field(d.size());
    add_field(u.size());
    add_field(w.size());
    add_field(0);  // session key
    put32(m, kUnicode | kNtlm | kExtendedSecurity);
    for (const Bytes* part : {&nt_response, &d, &u, &w}) {
        m.insert(m.end(), part->begin(), part->end());
    }
    return m;
}

}  // namespace scepra::http::ntlm
