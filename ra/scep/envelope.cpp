// SPDX-License-Identifier: Apache-2.0
// Opening and sealing the pkcsPKIEnvelope with OpenSSL's CMS code.
#include "scep/envelope.hpp"

#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>

#include <mutex>

#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "scep/types.hpp"

namespace scepra::scep {

using crypto::check;

namespace {

struct EnvelopeInfo {
    int cipher_nid = NID_undef;
    bool oaep = false;
    bool names_us = false;
};

/// Reads the algorithms and checks the recipientInfos through the PKCS7 view
/// of the same DER (its structures are public, CMS's are not).
EnvelopeInfo inspect(ByteView der, const std::vector<Recipient>& recipients) {
    EnvelopeInfo info;
    const unsigned char* p = der.data();
    crypto::Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
    if (!p7 || !PKCS7_type_is_enveloped(p7.get())) {
        ERR_clear_error();
        throw ScepFailure(FailInfo::bad_message_check, "the pkcsPKIEnvelope is not an EnvelopedData");
    }
    PKCS7_ENVELOPE* env = p7->d.enveloped;
    if (env->enc_data && env->enc_data->algorithm) {
        info.cipher_nid = OBJ_obj2nid(env->enc_data->algorithm->algorithm);
    }
    for (int i = 0; i < sk_PKCS7_RECIP_INFO_num(env->recipientinfo); ++i) {
        PKCS7_RECIP_INFO* ri = sk_PKCS7_RECIP_INFO_value(env->recipientinfo, i);
        for (const auto& r : recipients) {
            if (X509_NAME_cmp(ri->issuer_and_serial->issuer, X509_get_issuer_name(&r.cert)) == 0 &&
                ASN1_INTEGER_cmp(ri->issuer_and_serial->serial, X509_get0_serialNumber(&r.cert)) == 0) {
                info.names_us = true;
                info.oaep = OBJ_obj2nid(ri->key_enc_algor->algorithm) == NID_rsaesOaep;
            }
        }
    }
    return info;
}

}  // namespace

void enable_legacy_ciphers() {
    static std::once_flag once;
    static bool loaded = false;
    std::call_once(once, [] {
        // Loading any provider explicitly stops the implicit default one, so load both.
        loaded = OSSL_PROVIDER_load(nullptr, "legacy") != nullptr && OSSL_PROVIDER_load(nullptr, "default") != nullptr;
    });
    check(loaded, "cannot load OpenSSL's legacy provider (needed for single DES)");
}

OpenedEnvelope open_envelope(ByteView der, const std::vector<Recipient>& recipients, const CipherPolicy& policy) {
    ERR_clear_error();
    EnvelopeInfo info = inspect(der, recipients);
    OpenedEnvelope opened;
    switch (info.cipher_nid) {
        case NID_aes_128_cbc: opened.algorithms.cipher = "AES-128-CBC"; break;
        case NID_aes_192_cbc: opened.algorithms.cipher = "AES-192-CBC"; break;
        case NID_aes_256_cbc: opened.algorithms.cipher = "AES-256-CBC"; break;
        case NID_des_ede3_cbc: opened.algorithms.cipher = "DES-EDE3-CBC"; break;
        case NID_des_cbc:
            if (!policy.allow_single_des) {
                throw ScepFailure(FailInfo::bad_alg, "single DES is not allowed (RFC 8894 §2.9); use AES or 3DES");
            }
            opened.algorithms.cipher = "DES-CBC";
            break;
        default:
            throw ScepFailure(FailInfo::bad_alg, std::string("unsupported content encryption algorithm ") +
                                                     (info.cipher_nid == NID_undef ? "?" : OBJ_nid2sn(info.cipher_nid)));
    }
    if (!info.names_us) {
        throw ScepFailure(FailInfo::bad_cert_id, "the request is not encrypted to this RA's encryption certificate");
    }
    opened.algorithms.oaep = info.oaep;

    const unsigned char* p = der.data();
    crypto::CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    check(cms != nullptr, "d2i_CMS_ContentInfo");
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
    if (algorithms.oaep) {
        EVP_PKEY_CTX* pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
        check(pctx && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) > 0, "OAEP padding");
    }
    check(CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) == 1, "CMS_final");
    return crypto::cms_der(*cms);
}

std::string reply_cipher_for(const std::string& request_cipher) {
    return request_cipher == "DES-CBC" ? "DES-EDE3-CBC" : request_cipher;
}

}  // namespace scepra::scep
