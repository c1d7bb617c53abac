// SPDX-License-Identifier: Apache-2.0
// CMS SignedData with SCEP signed attributes: building and reading.
#include "scep/signed_message.hpp"

#include <openssl/err.h>

#include "crypto/asn1_time.hpp"
#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"

namespace scepra::scep {

using crypto::check;
using crypto::OpensslError;

namespace {

crypto::Asn1ObjectPtr object(const char* oid) {
    crypto::Asn1ObjectPtr obj(OBJ_txt2obj(oid, 1));
    check(obj != nullptr, "OBJ_txt2obj");
    return obj;
}

void add_attr(CMS_SignerInfo* si, const char* oid, int type, ByteView value) {
    auto obj = object(oid);
    check(CMS_signed_add1_attr_by_OBJ(si, obj.get(), type, value.data(), static_cast<int>(value.size())) == 1,
          "CMS_signed_add1_attr_by_OBJ");
}

void add_string_attr(CMS_SignerInfo* si, const char* oid, const std::string& value, int type) {
    add_attr(si, oid, type, as_bytes(value));
}

/// The single value of a signed attribute, or nullptr when absent. Throws
/// DecodeError when it occurs more than once or has several values.
const ASN1_TYPE* single_attr(CMS_SignerInfo* si, const char* oid) {
    auto obj = object(oid);
    int pos = CMS_signed_get_attr_by_OBJ(si, obj.get(), -1);
    if (pos < 0) {
        return nullptr;
    }
    if (CMS_signed_get_attr_by_OBJ(si, obj.get(), pos) >= 0) {
        throw DecodeError(std::string("attribute ") + oid + " occurs twice");
    }
    X509_ATTRIBUTE* attr = CMS_signed_get_attr(si, pos);
    if (X509_ATTRIBUTE_count(attr) != 1) {
        throw DecodeError(std::string("attribute ") + oid + " must have one value");
    }
    return X509_ATTRIBUTE_get0_type(attr, 0);
}

std::optional<std::string> string_attr(CMS_SignerInfo* si, const char* oid) {
    const ASN1_TYPE* t = single_attr(si, oid);
    if (!t) {
        return std::nullopt;
    }
    // RFC 8894 says PrintableString; accept the other string types clients use.
    switch (t->type) {
        case V_ASN1_PRINTABLESTRING:
        case V_ASN1_UTF8STRING:
        case V_ASN1_IA5STRING:
        case V_ASN1_T61STRING:
            return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t->value.asn1_string)),
                               static_cast<size_t>(ASN1_STRING_length(t->value.asn1_string)));
        default:
            throw DecodeError(std::string("attribute ") + oid + " is not a string");
    }
}

std::optional<Bytes> octets_attr(CMS_SignerInfo* si, const char* oid) {
    const ASN1_TYPE* t = single_attr(si, oid);
    if (!t) {
        return std::nullopt;
    }
    if (t->type != V_ASN1_OCTET_STRING) {
        throw DecodeError(std::string("attribute ") + oid + " is not an OCTET STRING");
    }
    const unsigned char* p = ASN1_STRING_get0_data(t->value.octet_string);
    return Bytes(p, p + ASN1_STRING_length(t->value.octet_string));
}

int parse_int(const std::string& text, const char* what) {
    // The text is the client's: it never goes into the error (it may be megabytes long).
    if (text.empty() || text.size() > 4 || text.find_first_not_of("0123456789") != std::string::npos) {
        throw DecodeError(std::string(what) + " is not a number of at most 4 digits");
    }
    return std::stoi(text);
}

/// RFC 8894 §3.2.1.1: a PrintableString. Other string types are accepted (see
/// string_attr) but must hold only its characters; clients send hex or
/// standard base64 (micromdm scepclient), which fit.
void check_transaction_id(const std::string& id) {
    if (id.empty()) {
        throw DecodeError("the transactionID is empty");
    }
    // It is echoed in every reply and stored with every request.
    if (id.size() > max_transaction_id_length) {
        throw DecodeError("the transactionID is longer than " + std::to_string(max_transaction_id_length) +
                          " characters");
    }
    constexpr std::string_view printable_punctuation = " '()+,-./:=?";
    for (char c : id) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        printable_punctuation.find(c) != std::string_view::npos;
        if (!ok) {
            throw DecodeError("the transactionID has characters outside PrintableString");
        }
    }
}

std::optional<TimePoint> signing_time_of(CMS_SignerInfo* si) {
    constexpr const char* pkcs9_signing_time = "1.2.840.113549.1.9.5";
    const ASN1_TYPE* t = single_attr(si, pkcs9_signing_time);
    if (!t || (t->type != V_ASN1_UTCTIME && t->type != V_ASN1_GENERALIZEDTIME)) {
        return std::nullopt;
    }
    return crypto::to_time_point(*t->value.asn1_string);
}

}  // namespace

Bytes sign_pki_message(ByteView content, const ScepAttributes& attrs, const Signer& signer,
                       TimePoint signing_time) {
    ERR_clear_error();
    const EVP_MD* md = EVP_get_digestbyname(signer.digest.c_str());
    check(md != nullptr, "unknown digest");
    const unsigned flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
    crypto::CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
    check(cms != nullptr, "CMS_sign");
    CMS_SignerInfo* si = CMS_add1_signer(cms.get(), &signer.cert, &signer.key, md, flags);
    check(si != nullptr, "CMS_add1_signer");
    for (X509* extra : signer.extra_certs) {
        check(CMS_add1_cert(cms.get(), extra) == 1 ||
                  ERR_GET_REASON(ERR_peek_last_error()) == CMS_R_CERTIFICATE_ALREADY_PRESENT,
              "CMS_add1_cert");
        ERR_clear_error();
    }

    add_string_attr(si, oid::message_type, std::to_string(attrs.message_type), V_ASN1_PRINTABLESTRING);
    add_string_attr(si, oid::transaction_id, attrs.transaction_id, V_ASN1_PRINTABLESTRING);
    add_attr(si, oid::sender_nonce, V_ASN1_OCTET_STRING, attrs.sender_nonce);
    if (attrs.recipient_nonce) {
        add_attr(si, oid::recipient_nonce, V_ASN1_OCTET_STRING, *attrs.recipient_nonce);
    }
    if (attrs.pki_status) {
        add_string_attr(si, oid::pki_status, std::to_string(static_cast<int>(*attrs.pki_status)),
                        V_ASN1_PRINTABLESTRING);
    }
    if (attrs.fail_info) {
        add_string_attr(si, oid::fail_info, std::to_string(static_cast<int>(*attrs.fail_info)),
                        V_ASN1_PRINTABLESTRING);
    }
    if (attrs.fail_info_text) {
        add_string_attr(si, oid::fail_info_text, *attrs.fail_info_text, V_ASN1_UTF8STRING);
    }
    crypto::Asn1TimePtr when(ASN1_TIME_set(nullptr, static_cast<time_t>(unix_seconds(signing_time))));
    check(when != nullptr, "ASN1_TIME_set");
    check(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, when->type, when.get(), -1) == 1,
          "signingTime");

    crypto::BioPtr in(BIO_new_mem_buf(content.empty() ? static_cast<const void*>("") : content.data(),
                                      static_cast<int>(content.size())));
    check(in != nullptr && CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) == 1, "CMS_final");

    return crypto::cms_der(*cms);
}

SignedMessage parse_signed_message(ByteView der) {
    ERR_clear_error();
    const unsigned char* p = der.data();
    crypto::CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    if (!cms) {
        ERR_clear_error();
        throw DecodeError("not a CMS/PKCS#7 structure");
    }
    if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
        throw DecodeError("not a SignedData");
    }
    // RFC 8894 §3: the pkiMessage's encapsulated content is id-data.
    const ASN1_OBJECT* content_type = CMS_get0_eContentType(cms.get());
    if (content_type == nullptr || OBJ_obj2nid(content_type) != NID_pkcs7_data) {
        throw DecodeError("the SignedData's eContentType is not id-data");
    }
    STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms.get());
    if (sk_CMS_SignerInfo_num(signers) != 1) {
        throw DecodeError("a pkiMessage has exactly one signer");
    }
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(signers, 0);

    SignedMessage msg;
    auto type = string_attr(si, oid::message_type);
    auto txid = string_attr(si, oid::transaction_id);
    auto nonce = octets_attr(si, oid::sender_nonce);
    if (!type || !txid || !nonce) {
        throw DecodeError("missing messageType, transactionID or senderNonce");
    }
    msg.attrs.message_type = parse_int(*type, "messageType");
    check_transaction_id(*txid);
    msg.attrs.transaction_id = *txid;
    if (nonce->size() != nonce_length) {
        throw DecodeError("the senderNonce is not " + std::to_string(nonce_length) + " octets");
    }
    msg.attrs.sender_nonce = *nonce;
    msg.attrs.recipient_nonce = octets_attr(si, oid::recipient_nonce);
    if (auto status = string_attr(si, oid::pki_status)) {
        msg.attrs.pki_status = static_cast<PkiStatus>(parse_int(*status, "pkiStatus"));
    }
    if (auto info = string_attr(si, oid::fail_info)) {
        msg.attrs.fail_info = static_cast<FailInfo>(parse_int(*info, "failInfo"));
    }
    msg.attrs.fail_info_text = string_attr(si, oid::fail_info_text);
    msg.signing_time = signing_time_of(si);

    X509_ALGOR* digest_alg = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, nullptr);
    if (digest_alg) {
        const ASN1_OBJECT* alg_obj = nullptr;
        X509_ALGOR_get0(&alg_obj, nullptr, nullptr, digest_alg);
        msg.digest_nid = OBJ_obj2nid(alg_obj);
        if (msg.digest_nid != NID_undef) {
            msg.digest = OBJ_nid2sn(msg.digest_nid);
        }
    }

    crypto::X509StackPtr certs(CMS_get1_certs(cms.get()));
    for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
        X509* c = sk_X509_value(certs.get(), i);
        if (!msg.signer_cert && CMS_SignerInfo_cert_cmp(si, c) == 0) {
            msg.signer_cert = crypto::up_ref(*c);
        }
        msg.certs.push_back(crypto::up_ref(*c));
    }
    if (!msg.signer_cert) {
        throw DecodeError("the signer's certificate is not in the message");
    }

    ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
    if (content && *content) {
        const unsigned char* data = ASN1_STRING_get0_data(*content);
        msg.content.assign(data, data + ASN1_STRING_length(*content));
    }

    // Verify only the signature: the signer certificate is self-signed for
    // PKCSReq, so chain validation is the caller's business (renewal).
    crypto::BioPtr out(BIO_new(BIO_s_null()));
    crypto::X509StackPtr signer_only(sk_X509_new_null());
    sk_X509_push(signer_only.get(), msg.signer_cert.get());
    X509_up_ref(msg.signer_cert.get());
    if (CMS_verify(cms.get(), signer_only.get(), nullptr, nullptr, out.get(),
                   CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY | CMS_NOINTERN) == 1) {
        msg.signature_valid = true;
    } else {
        msg.signature_error = OpensslError("signature check").what();
    }
    ERR_clear_error();
    return msg;
}

}  // namespace scepra::scep
