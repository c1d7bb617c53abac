// SPDX-License-Identifier: Apache-2.0
// PKCS#12 in a private library context (legacy algorithms), then the RA certificate checks.
#include "cli/pfx_import.hpp"

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>

#include <array>

#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"

namespace scepra::cli {

namespace {

using LibCtxPtr = std::unique_ptr<OSSL_LIB_CTX, crypto::CDeleter<&OSSL_LIB_CTX_free>>;
using ProviderPtr = std::unique_ptr<OSSL_PROVIDER, crypto::CDeleter<&OSSL_PROVIDER_unload>>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, crypto::CDeleter<&PKCS12_free>>;

using EkuPtr = crypto::ExtendedKeyUsagePtr;

/// Makes ctx this thread's default library context for its lifetime, so that
/// PKCS#12's internal fetches (which take no context argument) use it.
class ThreadDefaultContext {
  public:
    explicit ThreadDefaultContext(OSSL_LIB_CTX& ctx) : m_previous(OSSL_LIB_CTX_set0_default(&ctx)) {}
    ~ThreadDefaultContext() { OSSL_LIB_CTX_set0_default(m_previous); }
    ThreadDefaultContext(const ThreadDefaultContext&) = delete;
    ThreadDefaultContext& operator=(const ThreadDefaultContext&) = delete;

  private:
    OSSL_LIB_CTX* m_previous;
};

/// The PFX's key and certificates as PEM text, so that nothing made in the
/// private context outlives it.
struct PfxPem {
    std::string key;
    std::string cert;
    std::vector<std::string> chain;
};

PfxPem open_in_legacy_context(ByteView der, const std::string& password) {
    LibCtxPtr ctx(OSSL_LIB_CTX_new());
    crypto::check(ctx != nullptr, "OSSL_LIB_CTX_new");
    ProviderPtr legacy(OSSL_PROVIDER_load(ctx.get(), "legacy"));
    ProviderPtr fallback(OSSL_PROVIDER_load(ctx.get(), "default"));
    if (!legacy || !fallback) {
        throw crypto::OpensslError(
            "cannot load OpenSSL's legacy provider (Windows PFX files use RC2 and 3DES)");
    }
    ThreadDefaultContext in_ctx(*ctx);
    const unsigned char* p = der.data();
    Pkcs12Ptr p12(d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())));
    if (!p12 || p != der.data() + der.size()) {
        ERR_clear_error();
        throw PfxError("not a PFX (PKCS#12) file");
    }
    // The iteration counts are the file's to choose: bound them before any key derivation runs
    // (Windows writes 2000, OpenSSL 2048).
    const ASN1_INTEGER* mac_iterations = nullptr;
    PKCS12_get0_mac(nullptr, nullptr, nullptr, &mac_iterations, p12.get());
    if (mac_iterations && ASN1_INTEGER_get(mac_iterations) > max_pfx_iterations) {
        throw PfxError("the PFX asks for more than " + std::to_string(max_pfx_iterations) +
                       " MAC iterations; not an export from Windows");
    }
    if (PKCS12_mac_present(p12.get()) &&
        PKCS12_verify_mac(p12.get(), password.c_str(), static_cast<int>(password.size())) != 1) {
        ERR_clear_error();
        throw PfxError("wrong PFX password (the file's integrity check failed)");
    }
    EVP_PKEY* raw_key = nullptr;
    X509* raw_cert = nullptr;
    STACK_OF(X509)* raw_ca = nullptr;
    const int ok = PKCS12_parse(p12.get(), password.c_str(), &raw_key, &raw_cert, &raw_ca);
    crypto::EvpPkeyPtr key(raw_key);
    crypto::X509Ptr cert(raw_cert);
    crypto::X509StackPtr ca(raw_ca);
    if (ok != 1) {
        throw crypto::OpensslError(
            "cannot read the PFX (wrong password, or an algorithm OpenSSL does not know)");
    }
    if (!key) {
        throw PfxError("the PFX holds no private key (export it with \"Yes, export the private key\")");
    }
    if (!cert && ca && sk_X509_num(ca.get()) > 0) {
        // PKCS12_parse pairs the certificate with the key by checking the key itself: none
        // matched. Hand back the first one so the checks refuse it by name.
        cert.reset(sk_X509_shift(ca.get()));
    }
    if (!cert) {
        throw PfxError("the PFX holds no certificate");
    }
    PfxPem out{crypto::key_pem(*key), crypto::cert_pem(*cert), {}};
    for (int i = 0; ca && i < sk_X509_num(ca.get()); ++i) {
        out.chain.push_back(crypto::cert_pem(*sk_X509_value(ca.get(), i)));
    }
    return out;
}

bool has_eku(X509& cert, const char* oid) {
    EkuPtr eku(
        static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(&cert, NID_ext_key_usage, nullptr, nullptr)));
    std::array<char, 128> text{};
    for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
        if (OBJ_obj2txt(text.data(), static_cast<int>(text.size()), sk_ASN1_OBJECT_value(eku.get(), i), 1) >
                0 &&
            std::string(text.data()) == oid) {
            return true;
        }
    }
    return false;
}

std::string asn1_time_text(const ASN1_TIME& t) {
    crypto::BioPtr bio(BIO_new(BIO_s_mem()));
    crypto::check(bio && ASN1_TIME_print(bio.get(), &t) == 1, "ASN1_TIME_print");
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
}

bool chains_to(X509& cert, const std::vector<crypto::X509Ptr>& untrusted_in, const CaAnchors& anchors,
               std::time_t now, std::string& why) {
    crypto::X509StorePtr store(X509_STORE_new());
    crypto::check(store != nullptr, "X509_STORE_new");
    for (X509* anchor : anchors.trusted) {
        X509_STORE_add_cert(store.get(), anchor);
    }
    crypto::X509StackPtr untrusted(sk_X509_new_null());
    crypto::check(untrusted != nullptr, "sk_X509_new_null");
    for (const auto& c : untrusted_in) {
        crypto::check(sk_X509_push(untrusted.get(), crypto::up_ref(*c).release()) > 0, "sk_X509_push");
    }
    crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    crypto::check(ctx && X509_STORE_CTX_init(ctx.get(), store.get(), &cert, untrusted.get()) == 1,
                  "X509_STORE_CTX_init");
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_PARTIAL_CHAIN);  // the CA may be an intermediate
    X509_STORE_CTX_set_time(ctx.get(), 0, now);
    if (X509_verify_cert(ctx.get()) == 1) {
        return true;
    }
    why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    ERR_clear_error();
    return false;
}

}  // namespace

PfxContents read_pfx(ByteView der, const std::string& password) {
    if (der.size() > max_pfx_bytes) {
        throw PfxError("larger than " + std::to_string(max_pfx_bytes) +
                       " bytes; not an RA certificate export");
    }
    const PfxPem pem = open_in_legacy_context(der, password);
    PfxContents out{crypto::key_from_pem(pem.key), std::move(crypto::certs_from_pem(pem.cert).front()), {}};
    for (const auto& c : pem.chain) {
        out.chain.push_back(std::move(crypto::certs_from_pem(c).front()));
    }
    return out;
}

RaCertificateCheck check_ra_certificate(const PfxContents& pfx, RaRole role, const CaAnchors& anchors,
                                        std::time_t now) {
    RaCertificateCheck out;
    X509& cert = *pfx.cert;
    const std::string name = role == RaRole::signing ? "RA signing certificate" : "RA encryption certificate";
    const std::string subject = name + " " + crypto::name_string(*X509_get_subject_name(&cert));
    if (X509_check_private_key(&cert, pfx.key.get()) != 1) {
        ERR_clear_error();
        out.refusals.push_back(subject + ": the private key does not match the certificate");
    }
    std::time_t soon = now + 30L * 24 * 3600;
    if (X509_cmp_time(X509_get0_notAfter(&cert), &now) <= 0) {
        out.refusals.push_back(subject + ": expired on " + asn1_time_text(*X509_get0_notAfter(&cert)) +
                               " (NDES answers HTTP 500 with an expired RA certificate too; renew it first)");
    } else if (X509_cmp_time(X509_get0_notAfter(&cert), &soon) <= 0) {
        out.warnings.push_back(subject + ": expires on " + asn1_time_text(*X509_get0_notAfter(&cert)) +
                               ", within 30 days (plan `scep-ra ra rollover`)");
    }
    if (X509_cmp_time(X509_get0_notBefore(&cert), &now) > 0) {
        out.refusals.push_back(subject + ": not valid before " + asn1_time_text(*X509_get0_notBefore(&cert)));
    }
    const std::uint32_t ku = X509_get_key_usage(&cert);  // UINT32_MAX: no keyUsage extension, any use
    const bool has_ku = ku != UINT32_MAX;
    if (role == RaRole::signing) {
        if (has_ku && !(ku & KU_DIGITAL_SIGNATURE)) {
            out.refusals.push_back(subject +
                                   ": its keyUsage lacks digitalSignature, which signing CertReps needs");
        } else if (ku != KU_DIGITAL_SIGNATURE) {
            out.warnings.push_back(subject +
                                   ": NDES's has keyUsage digitalSignature alone; this one differs");
        }
        if (!has_eku(cert, "1.3.6.1.4.1.311.20.2.1")) {
            out.warnings.push_back(
                subject +
                ": no Certificate Request Agent EKU (1.3.6.1.4.1.311.20.2.1), which NDES's "
                "Exchange Enrollment Agent (Offline request) certificate has");
        }
    } else {
        if (has_ku && !(ku & KU_KEY_ENCIPHERMENT)) {
            out.refusals.push_back(subject +
                                   ": its keyUsage lacks keyEncipherment, which request envelopes need");
        } else if (ku != KU_KEY_ENCIPHERMENT) {
            out.warnings.push_back(subject + ": NDES's has keyUsage keyEncipherment alone; this one differs");
        }
        if (EVP_PKEY_get_base_id(pfx.key.get()) != EVP_PKEY_RSA) {
            out.refusals.push_back(subject +
                                   ": the key is not RSA (SCEP clients encrypt to the RA with RSA)");
        }
    }
    std::string why;
    if (!chains_to(cert, pfx.chain, anchors, now, why)) {
        const std::string text = subject + ": does not chain to the configured CA (" + why + ")";
        if (anchors.local_backend) {
            out.refusals.push_back(text);
        } else {
            out.warnings.push_back(text + "; with a remote CA the chain comes from the CA backend");
        }
    }
    return out;
}

}  // namespace scepra::cli
