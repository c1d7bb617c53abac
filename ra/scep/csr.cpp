// SPDX-License-Identifier: Apache-2.0
// Reading the PKCS#10 a client sent, once: subject, names, key,
// challengePassword, self-signature.
#include "scep/csr.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "crypto/der.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "scep/types.hpp"

namespace scepra::scep {

namespace {
/// PKCS#9 caps a challengePassword at 255 characters (ub-challenge-password),
/// but Intune's challenges are signed, encrypted blobs of several KB: the
/// parser takes up to 16 KiB and each validator sets its own limit.
constexpr std::size_t max_challenge_bytes = 16 * 1024;

std::optional<std::string> challenge_of(X509_REQ* req) {
    int pos = X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword, -1);
    if (pos < 0) {
        return std::nullopt;
    }
    if (X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword, pos) >= 0) {
        throw ScepFailure(FailInfo::bad_request, "the challengePassword attribute occurs more than once");
    }
    // PKCS#9: SINGLE VALUE. An empty SET or two values is not a password.
    X509_ATTRIBUTE* attr = X509_REQ_get_attr(req, pos);
    if (attr == nullptr || X509_ATTRIBUTE_count(attr) != 1) {
        throw ScepFailure(FailInfo::bad_request,
                          "the challengePassword attribute must have exactly one value");
    }
    ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attr, 0);
    if (value == nullptr) {
        throw ScepFailure(FailInfo::bad_request, "the challengePassword cannot be read");
    }
    switch (value->type) {
        case V_ASN1_PRINTABLESTRING:
        case V_ASN1_UTF8STRING:
        case V_ASN1_IA5STRING:
        case V_ASN1_T61STRING:
        case V_ASN1_BMPSTRING:
        case V_ASN1_UNIVERSALSTRING: {
            std::optional<std::string> text = crypto::utf8_text(*value->value.asn1_string);
            if (!text) {
                throw ScepFailure(FailInfo::bad_request, "the challengePassword cannot be read");
            }
            std::string out = std::move(*text);
            if (out.size() > max_challenge_bytes) {
                throw ScepFailure(FailInfo::bad_request, "the challengePassword is longer than 16384 bytes");
            }
            return out;
        }
        default:
            throw ScepFailure(FailInfo::bad_request, "the challengePassword is not a string");
    }
}

/// Every attribute `nid` of the subject as UTF-8, in order.
std::vector<std::optional<std::string>> name_entries_of(const X509_NAME& subject, int nid) {
    std::vector<std::optional<std::string>> out;
    for (int pos = -1; (pos = X509_NAME_get_index_by_NID(&subject, nid, pos)) >= 0;) {
        const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(&subject, pos));
        out.push_back(data ? crypto::utf8_text(*data) : std::nullopt);
    }
    return out;
}

std::string oid_text(const ASN1_OBJECT* object) {
    char text[128] = {};
    if (object == nullptr || OBJ_obj2txt(text, sizeof text, object, 1) <= 0) {
        return "?";
    }
    return text;
}

std::vector<RequestAttribute> attributes_of(X509_REQ& req) {
    std::vector<RequestAttribute> out;
    const int count = X509_REQ_get_attr_count(&req);
    for (int i = 0; i < count; ++i) {
        X509_ATTRIBUTE* attr = X509_REQ_get_attr(&req, i);
        out.push_back({oid_text(X509_ATTRIBUTE_get0_object(attr)), attr ? X509_ATTRIBUTE_count(attr) : 0});
    }
    return out;
}

std::vector<std::string> extension_oids_of(X509_REQ& req) {
    std::vector<std::string> out;
    crypto::X509ExtensionStackPtr exts(X509_REQ_get_extensions(&req));
    ERR_clear_error();
    for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts.get()); ++i) {
        out.push_back(oid_text(X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts.get(), i))));
    }
    return out;
}

/// The keyUsage bits requested in the extensionRequest as KU_* flags.
std::optional<unsigned> key_usage_of(X509_REQ& req) {
    crypto::X509ExtensionStackPtr exts(X509_REQ_get_extensions(&req));
    if (!exts) {
        ERR_clear_error();
        return std::nullopt;
    }
    const int pos = X509v3_get_ext_by_NID(exts.get(), NID_key_usage, -1);
    if (pos < 0) {
        return std::nullopt;
    }
    crypto::Asn1BitStringPtr bits(
        static_cast<ASN1_BIT_STRING*>(X509V3_EXT_d2i(X509v3_get_ext(exts.get(), pos))));
    if (!bits) {
        ERR_clear_error();
        return std::nullopt;
    }
    unsigned ku = 0;
    // KU_* constants put bit 0 (digitalSignature) at 0x80, bit 7 (encipherOnly) at 0x01.
    for (int bit = 0; bit < 8; ++bit) {
        if (ASN1_BIT_STRING_get_bit(bits.get(), bit)) {
            ku |= 0x80U >> bit;
        }
    }
    return ku;
}

PublicKeyInfo key_info_of(EVP_PKEY* key) {
    PublicKeyInfo info;
    if (key == nullptr) {
        return info;
    }
    const char* type = EVP_PKEY_get0_type_name(key);
    info.type = type ? type : "";
    info.bits = std::max(0, EVP_PKEY_get_bits(key));
    char group[80] = {};
    size_t len = 0;
    if (EVP_PKEY_is_a(key, "EC") == 1 && EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1) {
        info.curve.assign(group, len);
    }
    ERR_clear_error();
    return info;
}

/// SHA-256 of the CertificationRequestInfo as sent; for input that is not
/// DER (OpenSSL also accepts some BER), of OpenSSL's DER encoding of it.
Bytes request_info_hash_of(ByteView der, X509_REQ& req) {
    crypto::der::Reader outer(der);
    if (auto request = outer.expect(crypto::der::tag_sequence)) {
        crypto::der::Reader inner(request->content);
        if (auto info = inner.expect(crypto::der::tag_sequence)) {
            return crypto::sha256(info->whole);
        }
    }
    unsigned char* raw = nullptr;
    const int len = i2d_re_X509_REQ_tbs(&req, &raw);
    crypto::OpensslBytesPtr tbs(raw);
    crypto::check(len > 0, "i2d_re_X509_REQ_tbs");
    return crypto::sha256(ByteView(tbs.get(), static_cast<size_t>(len)));
}
}  // namespace

struct Csr::Decoded {
    crypto::X509ReqPtr req;
    Bytes der;
    std::string subject;
    std::vector<std::optional<std::string>> common_names;
    std::vector<std::optional<std::string>> subject_emails;
    std::optional<std::string> challenge_password;
    bool signature_valid = false;
    crypto::AltNames alt_names;
    std::vector<RequestAttribute> attributes;
    std::vector<std::string> extension_oids;
    std::optional<unsigned> key_usage;
    PublicKeyInfo key_info;
    Bytes key_hash;
    Bytes request_info_hash;
};

Csr::Csr(std::shared_ptr<const Decoded> decoded) : m_decoded(std::move(decoded)) {}

Csr Csr::parse(ByteView der) {
    auto d = std::make_shared<Decoded>();
    try {
        d->req = crypto::csr_from_der(der);
    } catch (const std::exception&) {
        ERR_clear_error();
        throw ScepFailure(FailInfo::bad_request, "the messageData is not a PKCS#10 certificate request");
    }
    X509_REQ& req = *d->req;
    d->der.assign(der.begin(), der.end());
    const X509_NAME& subject = *X509_REQ_get_subject_name(&req);
    d->subject = crypto::name_string(subject);
    d->common_names = name_entries_of(subject, NID_commonName);
    d->subject_emails = name_entries_of(subject, NID_pkcs9_emailAddress);
    d->challenge_password = challenge_of(&req);
    EVP_PKEY* key = X509_REQ_get0_pubkey(&req);
    d->signature_valid = key != nullptr && X509_REQ_verify(&req, key) == 1;
    ERR_clear_error();
    d->alt_names = crypto::request_alt_names(req);
    d->attributes = attributes_of(req);
    d->extension_oids = extension_oids_of(req);
    d->key_usage = key_usage_of(req);
    d->key_info = key_info_of(key);
    d->key_hash = crypto::spki_hash(*X509_REQ_get_X509_PUBKEY(&req));
    d->request_info_hash = request_info_hash_of(der, req);
    return Csr(std::move(d));
}

const Bytes& Csr::der() const { return m_decoded->der; }
const std::string& Csr::subject() const { return m_decoded->subject; }
const std::vector<std::optional<std::string>>& Csr::common_names() const { return m_decoded->common_names; }
const std::vector<std::optional<std::string>>& Csr::subject_emails() const {
    return m_decoded->subject_emails;
}
const std::optional<std::string>& Csr::challenge_password() const { return m_decoded->challenge_password; }
bool Csr::signature_valid() const { return m_decoded->signature_valid; }
const crypto::AltNames& Csr::alt_names() const { return m_decoded->alt_names; }
const std::vector<RequestAttribute>& Csr::attributes() const { return m_decoded->attributes; }
const std::vector<std::string>& Csr::extension_oids() const { return m_decoded->extension_oids; }
std::optional<unsigned> Csr::requested_key_usage() const { return m_decoded->key_usage; }
const PublicKeyInfo& Csr::key_info() const { return m_decoded->key_info; }
EVP_PKEY* Csr::public_key() const { return X509_REQ_get0_pubkey(m_decoded->req.get()); }
const Bytes& Csr::key_hash() const { return m_decoded->key_hash; }
const Bytes& Csr::request_info_hash() const { return m_decoded->request_info_hash; }
X509_REQ& Csr::req() const { return *m_decoded->req; }

bool Csr::has_subject_of(const X509& cert) const {
    return X509_NAME_cmp(X509_get_subject_name(&cert), X509_REQ_get_subject_name(m_decoded->req.get())) == 0;
}

bool Csr::has_key_of(const X509& cert) const {
    EVP_PKEY* mine = public_key();
    const EVP_PKEY* theirs = X509_get0_pubkey(&cert);
    const bool same = mine != nullptr && theirs != nullptr && EVP_PKEY_eq(mine, theirs) == 1;
    ERR_clear_error();
    return same;
}

Csr parse_csr(ByteView der) { return Csr::parse(der); }

}  // namespace scepra::scep
