// SPDX-License-Identifier: Apache-2.0
// Certificates-only PKCS#7 (RFC 8894 §3.4), built with the PKCS7 API the way
// `openssl crl2pkcs7` does, or directly as DER from certificates already in DER.
#include "scep/degenerate.hpp"

#include <openssl/err.h>

#include <algorithm>

#include "crypto/der.hpp"
#include "crypto/openssl_error.hpp"
#include "scep/types.hpp"

namespace scepra::scep {

using crypto::check;

Bytes make_degenerate(const std::vector<X509*>& certs, const std::vector<X509_CRL*>& crls) {
    crypto::Pkcs7Ptr p7(PKCS7_new());
    check(p7 && PKCS7_set_type(p7.get(), NID_pkcs7_signed) == 1, "PKCS7_set_type");
    // RFC 8894 §3.4: the encapsulated content is omitted (PKCS7_content_new
    // would add an empty eContent); only its type, id-data, is given.
    check(p7->d.sign != nullptr && p7->d.sign->contents != nullptr, "PKCS7_set_type");
    p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
    for (X509* cert : certs) {
        check(PKCS7_add_certificate(p7.get(), cert) == 1, "PKCS7_add_certificate");
    }
    for (X509_CRL* crl : crls) {
        check(PKCS7_add_crl(p7.get(), crl) == 1, "PKCS7_add_crl");
    }
    int len = i2d_PKCS7(p7.get(), nullptr);
    check(len > 0, "i2d_PKCS7");
    Bytes out(static_cast<size_t>(len));
    unsigned char* p = out.data();
    i2d_PKCS7(p7.get(), &p);
    return out;
}

namespace der = crypto::der;

// Content octets of the OIDs pkcs7-signedData (1.2.840.113549.1.7.2) and pkcs7-data (.1).
constexpr std::uint8_t oid_signed_data[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
constexpr std::uint8_t oid_data[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
constexpr std::uint8_t version_one[] = {0x01};

Bytes make_degenerate_der(const std::vector<ByteView>& cert_ders) {
    // The encoding i2d_PKCS7 gives make_degenerate(): certificates stay in the
    // given order (OpenSSL encodes PKCS#7 certificates as an ordered [0] IMPLICIT
    // SET), because clients take the first certificate as the issued one.
    Bytes signed_data;
    der::append_tlv(signed_data, der::tag_integer, version_one);
    der::append_tlv(signed_data, der::tag_set, {});  // digestAlgorithms: none
    der::append_tlv(signed_data, der::tag_sequence, der::tlv(der::tag_oid, oid_data));
    if (!cert_ders.empty()) {
        Bytes certs;
        for (ByteView cert : cert_ders) {
            der::Reader reader(cert);
            if (!reader.expect(der::tag_sequence) || !reader.at_end()) {
                throw DecodeError("not a DER certificate");
            }
            certs.insert(certs.end(), cert.begin(), cert.end());
        }
        der::append_tlv(signed_data, der::context(0), certs);
    }
    der::append_tlv(signed_data, der::tag_set, {});  // signerInfos: none
    Bytes content_info = der::tlv(der::tag_oid, oid_signed_data);
    der::append_tlv(content_info, der::context(0), der::tlv(der::tag_sequence, signed_data));
    return der::tlv(der::tag_sequence, content_info);
}

std::vector<Bytes> degenerate_cert_ders(ByteView der) {
    auto malformed = [] { return DecodeError("not a degenerate PKCS#7 SignedData"); };
    der::Reader outer(der);
    auto content_info = outer.expect(der::tag_sequence);
    if (!content_info) {
        throw malformed();
    }
    der::Reader ci(content_info->content);
    auto type = ci.expect(der::tag_oid);
    auto explicit_content = ci.expect(der::context(0));
    if (!type || !std::ranges::equal(type->content, oid_signed_data) || !explicit_content) {
        throw malformed();
    }
    der::Reader content(explicit_content->content);
    auto signed_data = content.expect(der::tag_sequence);
    if (!signed_data) {
        throw malformed();
    }
    der::Reader sd(signed_data->content);
    if (!sd.expect(der::tag_integer) || !sd.expect(der::tag_set) || !sd.expect(der::tag_sequence)) {
        throw malformed();
    }
    std::vector<Bytes> out;
    if (sd.peek_tag() == der::context(0)) {
        // The [0] element may claim more bytes than remain: next() is then empty.
        auto cert_set = sd.next();
        if (!cert_set) {
            throw malformed();
        }
        der::Reader certs(cert_set->content);
        while (!certs.at_end()) {
            auto cert = certs.expect(der::tag_sequence);
            if (!cert) {
                throw malformed();
            }
            out.emplace_back(cert->whole.begin(), cert->whole.end());
        }
    }
    return out;
}

namespace {

crypto::Pkcs7Ptr parse_signed_data(ByteView der) {
    const unsigned char* p = der.data();
    crypto::Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
    // d.sign is an OPTIONAL [0]: a bare ContentInfo of type signedData decodes with it NULL.
    if (!p7 || !PKCS7_type_is_signed(p7.get()) || p7->d.sign == nullptr) {
        ERR_clear_error();
        throw DecodeError("not a PKCS#7 SignedData");
    }
    return p7;
}

}  // namespace

std::vector<crypto::X509Ptr> parse_degenerate(ByteView der) {
    crypto::Pkcs7Ptr p7 = parse_signed_data(der);
    std::vector<crypto::X509Ptr> out;
    STACK_OF(X509)* certs = p7->d.sign->cert;
    for (int i = 0; certs && i < sk_X509_num(certs); ++i) {
        out.push_back(crypto::up_ref(*sk_X509_value(certs, i)));
    }
    return out;
}

std::vector<crypto::X509CrlPtr> parse_degenerate_crls(ByteView der) {
    crypto::Pkcs7Ptr p7 = parse_signed_data(der);
    std::vector<crypto::X509CrlPtr> out;
    STACK_OF(X509_CRL)* crls = p7->d.sign->crl;
    for (int i = 0; crls && i < sk_X509_CRL_num(crls); ++i) {
        X509_CRL* crl = sk_X509_CRL_value(crls, i);
        X509_CRL_up_ref(crl);
        out.emplace_back(crl);
    }
    return out;
}

}  // namespace scepra::scep
