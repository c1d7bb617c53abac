// SPDX-License-Identifier: Apache-2.0
// One owning smart-pointer alias per OpenSSL type. Wrap every new/get1/d2i
// result at once; never wrap a get0 result.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace scepra::crypto {

template <auto Fn>
struct CDeleter {
    template <class T>
    void operator()(T* p) const noexcept {
        Fn(p);
    }
};

using X509Ptr = std::unique_ptr<X509, CDeleter<&X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, CDeleter<&X509_REQ_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, CDeleter<&X509_CRL_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, CDeleter<&X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, CDeleter<&X509_EXTENSION_free>>;
using X509AttributePtr = std::unique_ptr<X509_ATTRIBUTE, CDeleter<&X509_ATTRIBUTE_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, CDeleter<&X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, CDeleter<&X509_STORE_CTX_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, CDeleter<&EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, CDeleter<&EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, CDeleter<&EVP_MD_CTX_free>>;
using EvpCipherPtr = std::unique_ptr<EVP_CIPHER, CDeleter<&EVP_CIPHER_free>>;
using EvpMdPtr = std::unique_ptr<EVP_MD, CDeleter<&EVP_MD_free>>;
using BioPtr = std::unique_ptr<BIO, CDeleter<&BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, CDeleter<&BN_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, CDeleter<&ASN1_INTEGER_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, CDeleter<&ASN1_TIME_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, CDeleter<&ASN1_OBJECT_free>>;
using Asn1OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, CDeleter<&ASN1_OCTET_STRING_free>>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, CDeleter<&CMS_ContentInfo_free>>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, CDeleter<&PKCS7_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, CDeleter<&GENERAL_NAMES_free>>;
using Asn1BitStringPtr = std::unique_ptr<ASN1_BIT_STRING, CDeleter<&ASN1_BIT_STRING_free>>;
using ExtendedKeyUsagePtr = std::unique_ptr<EXTENDED_KEY_USAGE, CDeleter<&EXTENDED_KEY_USAGE_free>>;
using CrlDistPointsPtr = std::unique_ptr<CRL_DIST_POINTS, CDeleter<&CRL_DIST_POINTS_free>>;
using IssuingDistPointPtr = std::unique_ptr<ISSUING_DIST_POINT, CDeleter<&ISSUING_DIST_POINT_free>>;
using Asn1GeneralizedTimePtr = std::unique_ptr<ASN1_GENERALIZEDTIME, CDeleter<&ASN1_GENERALIZEDTIME_free>>;
using IssuerAndSerialPtr = std::unique_ptr<PKCS7_ISSUER_AND_SERIAL, CDeleter<&PKCS7_ISSUER_AND_SERIAL_free>>;

/// Memory OpenSSL allocated for the caller (i2d_* output, ASN1_STRING_to_UTF8, BN_bn2hex).
struct OpensslFree {
    void operator()(void* p) const noexcept { OPENSSL_free(p); }
};
using OpensslBytesPtr = std::unique_ptr<unsigned char, OpensslFree>;
using OpensslCharsPtr = std::unique_ptr<char, OpensslFree>;

struct X509StackDeleter {
    void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

struct X509ExtensionStackDeleter {
    void operator()(STACK_OF(X509_EXTENSION) * s) const noexcept {
        sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
    }
};
using X509ExtensionStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), X509ExtensionStackDeleter>;

/// New owning handle to the same certificate (reference count + 1).
inline X509Ptr up_ref(X509& cert) {
    X509_up_ref(&cert);
    return X509Ptr(&cert);
}

/// New owning handle to the same key (reference count + 1).
inline EvpPkeyPtr up_ref(EVP_PKEY& key) {
    EVP_PKEY_up_ref(&key);
    return EvpPkeyPtr(&key);
}

}  // namespace scepra::crypto
