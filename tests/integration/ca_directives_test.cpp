// SPDX-License-Identifier: Apache-2.0
// A PKCS#10 can carry instructions that a CA reads on its own: AD CS takes
// name-value pairs ("SAN:upn=administrator@corp") and application policies
// from the request itself, and a second set of requested extensions could
// hold names the RA never read. Through the real server,
// each is refused before its one-time password is used up.
#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include "crypto/encoding.hpp"
#include "integration/scep_exchange.hpp"
#include "integration/server_fixture.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::PkiStatus;

namespace {

/// A DER BMPString of ASCII text (shorter than 64 characters).
Bytes bmp_string(const std::string& text) {
    Bytes out{0x1e, static_cast<unsigned char>(2 * text.size())};
    for (char c : text) {
        out.push_back(0);
        out.push_back(static_cast<unsigned char>(c));
    }
    return out;
}

Bytes der_sequence(const Bytes& content) {
    REQUIRE(content.size() < 128);
    Bytes out{0x30, static_cast<unsigned char>(content.size())};
    out.insert(out.end(), content.begin(), content.end());
    return out;
}

/// EnrollmentNameValuePairs (MS-WCCE 2.2.2.7.10) with one pair.
Bytes name_value_pairs(const std::string& name, const std::string& value) {
    Bytes pair = bmp_string(name);
    const Bytes v = bmp_string(value);
    pair.insert(pair.end(), v.begin(), v.end());
    return der_sequence(der_sequence(pair));
}

crypto::X509ExtensionPtr extension(const std::string& oid, const Bytes& value) {
    crypto::Asn1ObjectPtr object(OBJ_txt2obj(oid.c_str(), 1));
    crypto::Asn1OctetStringPtr data(ASN1_OCTET_STRING_new());
    ASN1_OCTET_STRING_set(data.get(), value.data(), static_cast<int>(value.size()));
    crypto::X509ExtensionPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, object.get(), 0, data.get()));
    REQUIRE(ext);
    return ext;
}

std::string bound_password(ServerFixture& server) {
    store::ChallengeBinding binding;
    binding.expected_subject = "router-*.example.com";
    return server.instance()
        .challenges()
        .issue(server.config().password.one_time, "test", std::nullopt, binding)
        .password;
}

scep::CertRepView enrol(ServerFixture& server, Device& device, X509_REQ& csr, const std::string& txid) {
    REQUIRE(X509_REQ_sign(&csr, device.key.get(), EVP_sha256()) > 0);
    const Bytes req = scep::build_pki_request({scep::MessageType::pkcs_req, txid, {}}, crypto::csr_der(csr),
                                              server.ra_encryption_cert(), {"AES-128-CBC", false},
                                              device.signer(), server.clock().now());
    const Reply reply = send_pki(server, req);
    REQUIRE(reply.http_status == 200);
    return scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), device.recipient());
}

}  // namespace

TEST_SUITE("http.ca_directives") {
    TEST_CASE("a request carrying instructions for the CA is refused and leaves its password usable") {
        ServerFixture server;
        Device device(0, "router-1.example.com");
        const std::string password = bound_password(server);
        const std::vector<Ext> own_name = {{NID_subject_alt_name, "DNS:router-1.example.com"}};

        SUBCASE("fail/a-name-value-pair-asking-for-a-upn") {
            crypto::X509ReqPtr csr = device.csr(password, own_name);
            const Bytes pairs = name_value_pairs("SAN", "upn=administrator@corp");
            REQUIRE(X509_REQ_add1_attr_by_txt(csr.get(), "1.3.6.1.4.1.311.13.2.1", V_ASN1_SEQUENCE,
                                              pairs.data(), static_cast<int>(pairs.size())) == 1);
            check_refused(enrol(server, device, *csr, "TX-NVP"), "name-value pairs (1.3.6.1.4.1.311.13.2.1)");
        }
        SUBCASE("fail/a-second-set-of-extensions-naming-another-host") {
            crypto::X509ReqPtr csr = device.csr(password, own_name);
            crypto::X509ExtensionStackPtr more(sk_X509_EXTENSION_new_null());
            X509V3_CTX ctx;
            X509V3_set_ctx(&ctx, nullptr, nullptr, csr.get(), nullptr, 0);
            sk_X509_EXTENSION_push(more.get(),
                                   X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:dc01.corp"));
            REQUIRE(X509_REQ_add_extensions_nid(csr.get(), more.get(), NID_ms_ext_req) == 1);
            check_refused(enrol(server, device, *csr, "TX-EXT2"),
                          "more than one set of requested extensions");
        }
        SUBCASE("fail/an-application-policies-extension") {
            crypto::X509ReqPtr csr = device.csr(password);
            crypto::X509ExtensionStackPtr exts(sk_X509_EXTENSION_new_null());
            // SEQUENCE { SEQUENCE { id-kp-clientAuth } }: ESC15 on a version 1 template.
            const Bytes client_auth{0x30, 0x0c, 0x30, 0x0a, 0x06, 0x08, 0x2b,
                                    0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};
            sk_X509_EXTENSION_push(exts.get(), extension("1.3.6.1.4.1.311.21.10", client_auth).release());
            REQUIRE(X509_REQ_add_extensions(csr.get(), exts.get()) == 1);
            check_refused(enrol(server, device, *csr, "TX-APP"), "application policies extension");
        }
        // Whatever was refused, the password was not used up: the plain request gets its certificate.
        crypto::X509ReqPtr plain = device.csr(password, own_name);
        const scep::CertRepView view = enrol(server, device, *plain, "TX-GOOD");
        CAPTURE(view.fail_info_text.value_or(""));
        CHECK(view.status == PkiStatus::success);
        CHECK(server.sql("SELECT count(*) FROM issued_certs WHERE transaction_id = 'TX-GOOD'") == "1");
    }
}
