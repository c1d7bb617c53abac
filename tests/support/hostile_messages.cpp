// SPDX-License-Identifier: Apache-2.0
#include "support/hostile_messages.hpp"

#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "crypto/der.hpp"

namespace scepra::test::hostile {

using namespace scepra::crypto;

namespace {

void require(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("hostile message: ") + what);
}

X509AttributePtr make_attribute(const Attribute& a) {
    Asn1ObjectPtr obj(OBJ_txt2obj(a.oid.c_str(), 1));
    require(obj != nullptr, "OBJ_txt2obj");
    // Type 0 leaves the SET empty (X509_ATTRIBUTE_set1_data).
    X509AttributePtr attr(X509_ATTRIBUTE_create_by_OBJ(nullptr, obj.get(), 0, nullptr, -1));
    require(attr != nullptr, "X509_ATTRIBUTE_create_by_OBJ");
    for (const auto& v : a.values) {
        require(X509_ATTRIBUTE_set1_data(attr.get(), v.type, v.content.data(),
                                         static_cast<int>(v.content.size())) == 1,
                "X509_ATTRIBUTE_set1_data");
    }
    return attr;
}

Bytes cms_to_der(CMS_ContentInfo& cms) {
    unsigned char* out = nullptr;
    int len = i2d_CMS_ContentInfo(&cms, &out);
    require(len > 0, "i2d_CMS_ContentInfo");
    Bytes der(out, out + len);
    OPENSSL_free(out);
    return der;
}

}  // namespace

AttrValue printable(std::string_view text) {
    auto b = as_bytes(text);
    return {V_ASN1_PRINTABLESTRING, Bytes(b.begin(), b.end())};
}

AttrValue octets(ByteView data) { return {V_ASN1_OCTET_STRING, Bytes(data.begin(), data.end())}; }

std::vector<Attribute> request_attributes(int message_type, const std::string& transaction_id,
                                          const Bytes& sender_nonce) {
    return {
        {"2.16.840.1.113733.1.9.2", {printable(std::to_string(message_type))}},
        {"2.16.840.1.113733.1.9.7", {printable(transaction_id)}},
        {"2.16.840.1.113733.1.9.5", {octets(sender_nonce)}},
    };
}

Bytes sign_raw(const RawMessage& message, X509& cert, EVP_PKEY& key) {
    const unsigned flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
    CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
    require(cms != nullptr, "CMS_sign");
    Asn1ObjectPtr type(OBJ_txt2obj(message.econtent_type.c_str(), 1));
    require(type && CMS_set1_eContentType(cms.get(), type.get()) == 1, "CMS_set1_eContentType");
    CMS_SignerInfo* si = CMS_add1_signer(cms.get(), &cert, &key, EVP_sha256(),
                                         flags | (message.signer_by_key_id ? CMS_USE_KEYID : 0));
    require(si != nullptr, "CMS_add1_signer");
    for (const auto& a : message.attributes) {
        auto attr = make_attribute(a);
        require(CMS_signed_add1_attr(si, attr.get()) == 1, "CMS_signed_add1_attr");
    }
    BioPtr in(BIO_new_mem_buf(message.content.empty() ? static_cast<const void*>("") : message.content.data(),
                              static_cast<int>(message.content.size())));
    if (!in || CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) != 1) {
        ERR_print_errors_fp(stderr);
        require(false, "CMS_final");
    }
    return cms_to_der(*cms);
}

Bytes envelope(ByteView content, const std::vector<X509*>& ktri_recipients, bool with_kekri) {
    X509StackPtr recipients(sk_X509_new_null());
    for (X509* c : ktri_recipients) {
        X509_up_ref(c);
        sk_X509_push(recipients.get(), c);
    }
    BioPtr in(BIO_new_mem_buf(content.empty() ? static_cast<const void*>("") : content.data(),
                              static_cast<int>(content.size())));
    CmsPtr cms(CMS_encrypt(recipients.get(), nullptr, EVP_aes_128_cbc(), CMS_BINARY | CMS_PARTIAL));
    require(cms != nullptr, "CMS_encrypt");
    if (with_kekri) {
        // CMS takes both the key and its id (add0): they must come from OPENSSL_malloc.
        auto* kek = static_cast<unsigned char*>(OPENSSL_malloc(16));
        auto* id = static_cast<unsigned char*>(OPENSSL_memdup("kek1", 4));
        require(kek != nullptr && id != nullptr && RAND_bytes(kek, 16) == 1, "kek");
        CMS_RecipientInfo* ri =
            CMS_add0_recipient_key(cms.get(), NID_undef, kek, 16, id, 4, nullptr, nullptr, nullptr);
        if (ri == nullptr) {
            OPENSSL_free(kek);
            OPENSSL_free(id);
        }
        require(ri != nullptr, "CMS_add0_recipient_key");
    }
    require(CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) == 1, "CMS_final");
    return cms_to_der(*cms);
}

Bytes bare_content_info(int type_nid) {
    const ASN1_OBJECT* obj = OBJ_nid2obj(type_nid);
    unsigned char* out = nullptr;
    int len = i2d_ASN1_OBJECT(obj, &out);
    require(len > 0, "i2d_ASN1_OBJECT");
    Bytes oid(out, out + len);
    OPENSSL_free(out);
    return der::tlv(der::tag_sequence, oid);
}

Bytes csr_with_attributes(EVP_PKEY& key, const std::string& common_name,
                          const std::vector<Attribute>& attributes) {
    X509ReqPtr req(X509_REQ_new());
    require(req != nullptr, "X509_REQ_new");
    X509_REQ_set_version(req.get(), 0);
    X509NamePtr name(X509_NAME_new());
    X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
    X509_REQ_set_subject_name(req.get(), name.get());
    X509_REQ_set_pubkey(req.get(), &key);
    for (const auto& a : attributes) {
        auto attr = make_attribute(a);
        require(X509_REQ_add1_attr(req.get(), attr.get()) == 1, "X509_REQ_add1_attr");
    }
    require(X509_REQ_sign(req.get(), &key, EVP_sha256()) > 0, "X509_REQ_sign");
    unsigned char* out = nullptr;
    int len = i2d_X509_REQ(req.get(), &out);
    require(len > 0, "i2d_X509_REQ");
    Bytes der(out, out + len);
    OPENSSL_free(out);
    return der;
}

Bytes with_unknown_key_algorithm(Bytes csr_der) {
    // The first rsaEncryption OID of a CSR is its subjectPublicKeyInfo's (the
    // signature algorithm, sha256WithRSAEncryption, ends in 0x0b).
    constexpr std::array<std::uint8_t, 11> rsa_encryption{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                          0xf7, 0x0d, 0x01, 0x01, 0x01};
    auto at = std::search(csr_der.begin(), csr_der.end(), rsa_encryption.begin(), rsa_encryption.end());
    require(at != csr_der.end(), "no rsaEncryption OID in the CSR");
    *(at + 10) = 0x7f;
    return csr_der;
}

Bytes csr_without_public_key() {
    // CertificationRequestInfo ::= SEQUENCE { version, subject, [missing SPKI], [0] attributes }
    Bytes info = der::tlv(der::tag_integer, Bytes{0x00});
    der::append_tlv(info, der::tag_sequence, {});
    der::append_tlv(info, der::context(0), {});
    Bytes request = der::tlv(der::tag_sequence, info);
    const std::uint8_t sha256_rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
    Bytes algorithm = der::tlv(der::tag_oid, sha256_rsa);
    der::append_tlv(algorithm, 0x05, {});
    der::append_tlv(request, der::tag_sequence, algorithm);
    der::append_tlv(request, 0x03, Bytes{0x00, 0x01, 0x02});
    return der::tlv(der::tag_sequence, request);
}

}  // namespace scepra::test::hostile
