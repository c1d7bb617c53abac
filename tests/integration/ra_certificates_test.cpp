// SPDX-License-Identifier: Apache-2.0
// The RA certificates `scep-ra init` makes, as NDES has them issued, and the
// authenticated attributes of the CertReps the real server signs with them,
// as Windows' SCEP client expects (read here with OpenSSL, not scep-ra's parser).
#include <doctest/doctest.h>
#include <openssl/cms.h>
#include <openssl/x509v3.h>

#include <map>
#include <set>

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "integration/server_fixture.hpp"
#include "scep/degenerate.hpp"

using namespace scepra;
using namespace scepra::test;

namespace {

using ExtendedKeyUsagePtr = std::unique_ptr<EXTENDED_KEY_USAGE, crypto::CDeleter<&EXTENDED_KEY_USAGE_free>>;

std::string oid_text(const ASN1_OBJECT* object) {
    char buf[128] = {};
    OBJ_obj2txt(buf, sizeof buf, object, 1);
    return buf;
}

/// The extendedKeyUsage OIDs; empty when there is no such extension.
std::set<std::string> eku_oids(X509& cert) {
    ExtendedKeyUsagePtr eku(
        static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(&cert, NID_ext_key_usage, nullptr, nullptr)));
    std::set<std::string> out;
    for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
        out.insert(oid_text(sk_ASN1_OBJECT_value(eku.get(), i)));
    }
    return out;
}

bool key_usage_is_critical(X509& cert) {
    const int at = X509_get_ext_by_NID(&cert, NID_key_usage, -1);
    return at >= 0 && X509_EXTENSION_get_critical(X509_get_ext(&cert, at)) == 1;
}

/// Each signed attribute's OID with its single value (a duplicate OID or a
/// multi-valued attribute fails the test).
std::map<std::string, const ASN1_TYPE*> signed_attributes(CMS_SignerInfo& si) {
    std::map<std::string, const ASN1_TYPE*> out;
    for (int i = 0; i < CMS_signed_get_attr_count(&si); ++i) {
        X509_ATTRIBUTE* attr = CMS_signed_get_attr(&si, i);
        const std::string oid = oid_text(X509_ATTRIBUTE_get0_object(attr));
        CAPTURE(oid);
        CHECK(X509_ATTRIBUTE_count(attr) == 1);
        CHECK(out.count(oid) == 0);
        out[oid] = X509_ATTRIBUTE_get0_type(attr, 0);
    }
    return out;
}

std::string printable(const ASN1_TYPE* value) {
    REQUIRE(value != nullptr);
    REQUIRE(value->type == V_ASN1_PRINTABLESTRING);
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value->value.printablestring)),
                       static_cast<size_t>(ASN1_STRING_length(value->value.printablestring)));
}

Bytes octets(const ASN1_TYPE* value) {
    REQUIRE(value != nullptr);
    REQUIRE(value->type == V_ASN1_OCTET_STRING);
    const unsigned char* data = ASN1_STRING_get0_data(value->value.octet_string);
    return Bytes(data, data + ASN1_STRING_length(value->value.octet_string));
}

/// Checks the CMS attributes and the SCEP ones every CertRep carries; returns
/// the attributes for status-specific checks.
std::map<std::string, const ASN1_TYPE*> check_cert_rep_attributes(CMS_ContentInfo& cms,
                                                                  const std::string& transaction_id,
                                                                  const Bytes& request_nonce,
                                                                  const std::string& status) {
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(&cms);
    REQUIRE(infos != nullptr);
    REQUIRE(sk_CMS_SignerInfo_num(infos) == 1);
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
    auto attrs = signed_attributes(*si);

    // CMS: contentType id-data, messageDigest of the eContent, signingTime.
    REQUIRE(attrs.count(oid_text(OBJ_nid2obj(NID_pkcs9_contentType))) == 1);
    const ASN1_TYPE* content_type = attrs[oid_text(OBJ_nid2obj(NID_pkcs9_contentType))];
    REQUIRE(content_type->type == V_ASN1_OBJECT);
    CHECK(OBJ_obj2nid(content_type->value.object) == NID_pkcs7_data);
    CHECK(OBJ_obj2nid(CMS_get0_eContentType(&cms)) == NID_pkcs7_data);

    REQUIRE(attrs.count(oid_text(OBJ_nid2obj(NID_pkcs9_signingTime))) == 1);
    const ASN1_TYPE* signing_time = attrs[oid_text(OBJ_nid2obj(NID_pkcs9_signingTime))];
    CHECK((signing_time->type == V_ASN1_UTCTIME || signing_time->type == V_ASN1_GENERALIZEDTIME));

    REQUIRE(attrs.count(oid_text(OBJ_nid2obj(NID_pkcs9_messageDigest))) == 1);
    X509_ALGOR* digest_alg = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, nullptr);
    REQUIRE(digest_alg != nullptr);
    const ASN1_OBJECT* digest_oid = nullptr;
    X509_ALGOR_get0(&digest_oid, nullptr, nullptr, digest_alg);
    ASN1_OCTET_STRING** content = CMS_get0_content(&cms);
    REQUIRE(content != nullptr);
    const Bytes econtent = *content ? Bytes(ASN1_STRING_get0_data(*content),
                                            ASN1_STRING_get0_data(*content) + ASN1_STRING_length(*content))
                                    : Bytes();
    CHECK(octets(attrs[oid_text(OBJ_nid2obj(NID_pkcs9_messageDigest))]) ==
          crypto::digest(OBJ_nid2sn(OBJ_obj2nid(digest_oid)), econtent));

    // SCEP (RFC 8894 §3.2.1): CertRep, the status, the transaction, both nonces.
    CHECK(printable(attrs[scep::oid::message_type]) == "3");
    CHECK(printable(attrs[scep::oid::pki_status]) == status);
    CHECK(printable(attrs[scep::oid::transaction_id]) == transaction_id);
    CHECK(octets(attrs[scep::oid::sender_nonce]).size() == 16);
    CHECK(octets(attrs[scep::oid::recipient_nonce]) == request_nonce);
    return attrs;
}

crypto::CmsPtr parse_cms(const std::string& der) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    crypto::CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    REQUIRE(cms != nullptr);
    return cms;
}

}  // namespace

TEST_SUITE("http.ra_certificates") {
    TEST_CASE(
        "init issues the RA certificates as NDES has them: signing for CRA, encryption for key transport") {
        ServerFixture server;
        X509& signing = server.ra_signing_cert();
        X509& encryption = server.ra_encryption_cert();

        CHECK(X509_get_key_usage(&signing) == KU_DIGITAL_SIGNATURE);
        CHECK(key_usage_is_critical(signing));
        CHECK(eku_oids(signing) ==
              std::set<std::string>{"1.3.6.1.4.1.311.20.2.1"});  // Certificate Request Agent

        CHECK(X509_get_key_usage(&encryption) == KU_KEY_ENCIPHERMENT);
        CHECK(key_usage_is_critical(encryption));
        CHECK(eku_oids(encryption).empty());

        for (X509* ra : {&signing, &encryption}) {
            CHECK(X509_check_ca(ra) == 0);
            CHECK(X509_check_issued(&server.ca_cert(), ra) == X509_V_OK);
        }
        // GetCACert hands out exactly these two beside the CA.
        auto res = server.client().Get(server.base_path() + "?operation=GetCACert&message=ca");
        REQUIRE(res);
        std::set<std::string> served;
        for (const Bytes& der : scep::degenerate_cert_ders(as_bytes(res->body))) {
            served.insert(to_hex(der));
        }
        CHECK(served == std::set<std::string>{to_hex(crypto::cert_der(signing)),
                                              to_hex(crypto::cert_der(encryption)),
                                              to_hex(crypto::cert_der(server.ca_cert()))});
    }

    TEST_CASE("a CertRep carries contentType, signingTime, messageDigest and the SCEP attributes") {
        ServerFixture server;
        Device device(0, "attributes");
        const Bytes nonce(16, 0x5A);
        SUBCASE("ok/success") {
            auto csr = device.csr(server.password());
            auto req = scep::build_pki_request({scep::MessageType::pkcs_req, "TX-ATTR-OK", nonce},
                                               crypto::csr_der(*csr), server.ra_encryption_cert(),
                                               {"AES-128-CBC", false}, device.signer(),
                                               std::chrono::system_clock::now());
            Reply reply = send_pki(server, req);
            REQUIRE(reply.http_status == 200);
            auto cms = parse_cms(reply.body);
            auto attrs = check_cert_rep_attributes(*cms, "TX-ATTR-OK", nonce, "0");
            CHECK(attrs.count(scep::oid::fail_info) == 0);
        }
        SUBCASE("ok/failure-with-failInfo") {
            auto csr = device.csr("0000000000000000");  // not a password the server issued
            auto req = scep::build_pki_request({scep::MessageType::pkcs_req, "TX-ATTR-FAIL", nonce},
                                               crypto::csr_der(*csr), server.ra_encryption_cert(),
                                               {"AES-128-CBC", false}, device.signer(),
                                               std::chrono::system_clock::now());
            Reply reply = send_pki(server, req);
            REQUIRE(reply.http_status == 200);
            auto cms = parse_cms(reply.body);
            auto attrs = check_cert_rep_attributes(*cms, "TX-ATTR-FAIL", nonce, "2");
            REQUIRE(attrs.count(scep::oid::fail_info) == 1);
            CHECK(printable(attrs[scep::oid::fail_info]) == "2");  // badRequest
        }
    }
}
