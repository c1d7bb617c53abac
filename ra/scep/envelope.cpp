// SPDX-License-Identifier: Apache-2.0
// Opening and sealing the pkcsPKIEnvelope with OpenSSL's CMS code.
#include "scep/envelope.hpp"

#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>

#include <cstdlib>
#include <mutex>
#include <optional>

#include "crypto/der.hpp"
#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "scep/types.hpp"

namespace scepra::scep {

using crypto::check;
namespace der = crypto::der;

namespace {

struct EnvelopeInfo {
    int cipher_nid = NID_undef;
    bool oaep = false;
    bool names_us = false;
};

std::optional<der::Element> skip_optional(der::Reader& reader, std::uint8_t tag) {
    return reader.peek_tag() == tag ? reader.next() : std::nullopt;
}

/// contentEncryptionAlgorithm of a DER EnvelopedData ContentInfo (RFC 5652
/// §6.1), read directly: OpenSSL's CMS API has no getter for it, and its PKCS7
/// structures cannot hold recipientInfos other than issuer-and-serial ktri.
std::optional<int> cipher_nid_from_der(ByteView content_info_der) {
    der::Reader outer(content_info_der);
    auto content_info = outer.expect(der::tag_sequence);
    der::Reader ci(content_info ? content_info->content : ByteView{});
    auto content_type = ci.expect(der::tag_oid);
    auto explicit_content = ci.expect(der::context(0));
    der::Reader wrapper(explicit_content ? explicit_content->content : ByteView{});
    auto enveloped = wrapper.expect(der::tag_sequence);
    der::Reader env(enveloped ? enveloped->content : ByteView{});
    env.expect(der::tag_integer);
    skip_optional(env, der::context(0));  // originatorInfo
    env.expect(der::tag_set);             // recipientInfos
    auto encrypted_content_info = env.expect(der::tag_sequence);
    der::Reader eci(encrypted_content_info ? encrypted_content_info->content : ByteView{});
    eci.expect(der::tag_oid);
    auto algorithm = eci.expect(der::tag_sequence);
    der::Reader alg(algorithm ? algorithm->content : ByteView{});
    auto alg_oid = alg.expect(der::tag_oid);
    if (!content_type || !alg_oid || ci.failed() || env.failed() || eci.failed()) {
        return std::nullopt;
    }
    const unsigned char* p = alg_oid->whole.data();
    crypto::Asn1ObjectPtr obj(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(alg_oid->whole.size())));
    if (!obj) {
        ERR_clear_error();
        return std::nullopt;
    }
    return OBJ_obj2nid(obj.get());
}

/// The same through OpenSSL's PKCS7 view, which also reads BER (indefinite
/// lengths) but only issuer-and-serial key transport recipientInfos.
std::optional<int> cipher_nid_from_pkcs7(ByteView der) {
    const unsigned char* p = der.data();
    crypto::Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
    // d.enveloped is an OPTIONAL [0]: a bare ContentInfo of type envelopedData decodes with it NULL.
    if (!p7 || !PKCS7_type_is_enveloped(p7.get()) || p7->d.enveloped == nullptr ||
        p7->d.enveloped->enc_data == nullptr || p7->d.enveloped->enc_data->algorithm == nullptr) {
        ERR_clear_error();
        return std::nullopt;
    }
    return OBJ_obj2nid(p7->d.enveloped->enc_data->algorithm->algorithm);
}

/// Reads the algorithms and looks for a key transport recipientInfo naming one
/// of our certificates (by issuer and serial or by subjectKeyIdentifier); the
/// other kinds (kari, kekri, pwri) are someone else's.
EnvelopeInfo inspect(CMS_ContentInfo& cms, ByteView der, const std::vector<Recipient>& recipients) {
    EnvelopeInfo info;
    auto cipher = cipher_nid_from_der(der);
    if (!cipher) {
        cipher = cipher_nid_from_pkcs7(der);
    }
    if (!cipher) {
        throw ScepFailure(FailInfo::bad_message_check,
                          "the pkcsPKIEnvelope's content encryption algorithm cannot be read");
    }
    info.cipher_nid = *cipher;
    STACK_OF(CMS_RecipientInfo)* infos = CMS_get0_RecipientInfos(&cms);
    for (int i = 0; infos && i < sk_CMS_RecipientInfo_num(infos); ++i) {
        CMS_RecipientInfo* ri = sk_CMS_RecipientInfo_value(infos, i);
        if (CMS_RecipientInfo_type(ri) != CMS_RECIPINFO_TRANS) {
            continue;
        }
        for (const auto& r : recipients) {
            if (CMS_RecipientInfo_ktri_cert_cmp(ri, &r.cert) != 0) {
                continue;
            }
            X509_ALGOR* key_transport = nullptr;
            CMS_RecipientInfo_ktri_get0_algs(ri, nullptr, nullptr, &key_transport);
            const ASN1_OBJECT* key_transport_oid = nullptr;
            if (key_transport) {
                X509_ALGOR_get0(&key_transport_oid, nullptr, nullptr, key_transport);
            }
            info.names_us = true;
            info.oaep = key_transport_oid != nullptr && OBJ_obj2nid(key_transport_oid) == NID_rsaesOaep;
        }
    }
    ERR_clear_error();
    return info;
}

// The providers enable_legacy_ciphers loaded, kept for the whole process: no
// unload is safe while another thread may still fetch a cipher.
OSSL_PROVIDER* legacy_provider = nullptr;
OSSL_PROVIDER* default_provider = nullptr;

// At exit, our references are given back, so that OpenSSL's own exit handler
// (registered when OpenSSL initialised, before this one, so it runs after it)
// frees the providers and everything cached from them, and a leak checker
// sees nothing left over.
void unload_providers_at_exit() {
    if (default_provider != nullptr) {
        OSSL_PROVIDER_unload(default_provider);
    }
    if (legacy_provider != nullptr) {
        OSSL_PROVIDER_unload(legacy_provider);
    }
}

}  // namespace

void enable_legacy_ciphers() {
    static std::once_flag once;
    std::call_once(once, [] {
        // Loading any provider explicitly stops the implicit default one, so load both.
        legacy_provider = OSSL_PROVIDER_load(nullptr, "legacy");
        default_provider = OSSL_PROVIDER_load(nullptr, "default");
        std::atexit(unload_providers_at_exit);
    });
    check(legacy_provider != nullptr && default_provider != nullptr,
          "cannot load OpenSSL's legacy provider (needed for single DES)");
}

OpenedEnvelope open_envelope(ByteView der, const std::vector<Recipient>& recipients,
                             const CipherPolicy& policy) {
    ERR_clear_error();
    const unsigned char* p = der.data();
    crypto::CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    if (!cms || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_enveloped) {
        ERR_clear_error();
        throw ScepFailure(FailInfo::bad_message_check, "the pkcsPKIEnvelope is not an EnvelopedData");
    }
    EnvelopeInfo info = inspect(*cms, der, recipients);
    OpenedEnvelope opened;
    switch (info.cipher_nid) {
        case NID_aes_128_cbc:
            opened.algorithms.cipher = "AES-128-CBC";
            break;
        case NID_aes_192_cbc:
            opened.algorithms.cipher = "AES-192-CBC";
            break;
        case NID_aes_256_cbc:
            opened.algorithms.cipher = "AES-256-CBC";
            break;
        case NID_des_ede3_cbc:
            opened.algorithms.cipher = "DES-EDE3-CBC";
            break;
        case NID_des_cbc:
            if (!policy.allow_single_des) {
                throw ScepFailure(FailInfo::bad_alg,
                                  "single DES is not allowed (RFC 8894 §2.9); use AES or 3DES");
            }
            opened.algorithms.cipher = "DES-CBC";
            break;
        default:
            throw ScepFailure(FailInfo::bad_alg,
                              std::string("unsupported content encryption algorithm ") +
                                  (info.cipher_nid == NID_undef ? "?" : OBJ_nid2sn(info.cipher_nid)));
    }
    if (!info.names_us) {
        throw ScepFailure(FailInfo::bad_cert_id,
                          "the request is not encrypted to this RA's encryption certificate");
    }
    opened.algorithms.oaep = info.oaep;

    for (const auto& r : recipients) {
        crypto::BioPtr out(BIO_new(BIO_s_mem()));
        // Naming the certificate makes CMS try only the recipientInfo for it.
        if (CMS_decrypt(cms.get(), &r.key, &r.cert, nullptr, out.get(), CMS_BINARY) == 1) {
            char* data = nullptr;
            long len = BIO_get_mem_data(out.get(), &data);
            opened.content.assign(data, data + len);
            ERR_clear_error();
            return opened;
        }
    }
    ERR_clear_error();
    throw ScepFailure(FailInfo::bad_message_check, "cannot decrypt the pkcsPKIEnvelope");
}

Bytes seal_envelope(ByteView content, X509& recipient, const EnvelopeAlgorithms& algorithms) {
    ERR_clear_error();
    crypto::EvpCipherPtr cipher(EVP_CIPHER_fetch(nullptr, algorithms.cipher.c_str(), nullptr));
    check(cipher != nullptr, "EVP_CIPHER_fetch");
    crypto::X509StackPtr no_recipients(sk_X509_new_null());
    crypto::BioPtr in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    crypto::CmsPtr cms(CMS_encrypt(no_recipients.get(), nullptr, cipher.get(), CMS_BINARY | CMS_PARTIAL));
    check(cms != nullptr, "CMS_encrypt");
    CMS_RecipientInfo* ri = CMS_add1_recipient_cert(cms.get(), &recipient, CMS_KEY_PARAM);
    check(ri != nullptr, "CMS_add1_recipient_cert");
    // The reply mirrors the request's OAEP only where it means something: an
    // RSA recipient (key transport); an EC one gets key agreement.
    if (algorithms.oaep && CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_TRANS) {
        EVP_PKEY_CTX* pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
        check(pctx && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) > 0, "OAEP padding");
    }
    check(CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) == 1, "CMS_final");
    return crypto::cms_der(*cms);
}

void check_sealable(X509& recipient, const EnvelopeAlgorithms& algorithms) {
    try {
        static constexpr std::uint8_t probe[1] = {0};
        seal_envelope(probe, recipient, algorithms);
    } catch (const std::exception&) {
        ERR_clear_error();
        throw ScepFailure(
            FailInfo::bad_alg,
            "the signer certificate's key cannot receive an encrypted reply (use an RSA or EC key)");
    }
}

std::string reply_cipher_for(const std::string& request_cipher) {
    return request_cipher == "DES-CBC" ? "DES-EDE3-CBC" : request_cipher;
}

}  // namespace scepra::scep
