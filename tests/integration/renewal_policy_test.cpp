// SPDX-License-Identifier: Apache-2.0
// Renewal through the real server may not widen a certificate: it keeps the
// certificate's subjectAltName (or a subset) and its template, it needs a
// certificate the CA has on record, and with renewal disabled a
// certificate-signed PKCSReq is an ordinary one decided by its password.
#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include "crypto/encoding.hpp"
#include "integration/scep_exchange.hpp"
#include "integration/server_fixture.hpp"
#include "store/database.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::MessageType;
using scep::PkiStatus;

namespace {

scep::CertRepView send_csr_as(ServerFixture& server, MessageType type, const std::string& txid,
                              const X509_REQ& csr, Identity as) {
    Bytes req =
        scep::build_pki_request({type, txid, {}}, crypto::csr_der(csr), server.ra_encryption_cert(),
                                {"AES-128-CBC", false}, {as.cert, as.key, "SHA256"}, server.clock().now());
    Reply reply = send_pki(server, req);
    REQUIRE(reply.http_status == 200);
    auto view = scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), {as.cert, as.key});
    CHECK(view.signature_valid);
    return view;
}

/// Enrols the device with a fresh password and the given extensions; returns the certificate.
crypto::X509Ptr enrolled(ServerFixture& server, Device& device, const std::vector<Ext>& exts,
                         const std::string& txid) {
    auto view = send_csr_as(server, MessageType::pkcs_req, txid, *device.csr(server.password(), exts),
                            {*device.self_signed, *device.key});
    REQUIRE(view.status == PkiStatus::success);
    REQUIRE(!view.certs.empty());
    return std::move(view.certs[0]);
}

scep::CertRepView renew(ServerFixture& server, Device& device, X509& cert, const std::vector<Ext>& exts,
                        const std::string& txid, MessageType type = MessageType::renewal_req) {
    return send_csr_as(server, type, txid, *make_csr(*device.key, device.subject, "", exts),
                       {cert, *device.key});
}

X509& check_issued(const scep::CertRepView& view) {
    CAPTURE(view.fail_info_text.value_or(""));
    REQUIRE(view.status == PkiStatus::success);
    REQUIRE(!view.certs.empty());
    return *view.certs[0];
}

/// The subjectAltName of a certificate as OpenSSL prints it.
std::string san_text(X509& cert) {
    crypto::GeneralNamesPtr names(
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(&cert, NID_subject_alt_name, nullptr, nullptr)));
    if (!names) return "";
    crypto::BioPtr bio(BIO_new(BIO_s_mem()));
    crypto::X509ExtensionPtr ext(X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get()));
    X509V3_EXT_print(bio.get(), ext.get(), 0, 0);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
}

std::string issued_template(ServerFixture& server, X509& cert) {
    return server.sql("SELECT template FROM issued_certs WHERE serial = '" + crypto::serial_hex(cert) + "'");
}

const Ext printer_names{NID_subject_alt_name, "DNS:printer-7.example.com,DNS:printer-7"};

}  // namespace

TEST_SUITE("http.renewal_policy") {
    TEST_CASE("a renewal may not add a subjectAltName: DNS, UPN or IP") {
        ServerFixture server;
        Device device(0, "printer-7");
        auto cert = enrolled(server, device, {printer_names}, "TX-FIRST");
        const std::string names = "DNS:printer-7.example.com,DNS:printer-7";

        SUBCASE("fail/dns") {
            check_refused(
                renew(server, device, *cert, {{NID_subject_alt_name, names + ",DNS:vpn.corp"}}, "TX-R-DNS"),
                "may not add names: the certificate has no subjectAltName DNS:vpn.corp");
        }
        SUBCASE("fail/upn") {
            check_refused(renew(server, device, *cert,
                                {{NID_subject_alt_name,
                                  names + ",otherName:1.3.6.1.4.1.311.20.2.3;UTF8:administrator@corp"}},
                                "TX-R-UPN"),
                          "otherName (UPN)");
        }
        SUBCASE("fail/ip") {
            check_refused(
                renew(server, device, *cert, {{NID_subject_alt_name, names + ",IP:127.0.0.1"}}, "TX-R-IP"),
                "IP:127.0.0.1");
        }
        SUBCASE("fail/pkcsreq-signed-by-the-certificate") {
            check_refused(renew(server, device, *cert, {{NID_subject_alt_name, names + ",DNS:vpn.corp"}},
                                "TX-P-DNS", MessageType::pkcs_req),
                          "may not add names");
        }
        SUBCASE("fail/a-san-where-the-certificate-has-none") {
            Device bare(1, "bare-device");
            auto bare_cert = enrolled(server, bare, {}, "TX-BARE");
            check_refused(
                renew(server, bare, *bare_cert, {{NID_subject_alt_name, "DNS:vpn.corp"}}, "TX-R-BARE"),
                "may not add names");
        }
        SUBCASE("ok/same-names-in-another-order-and-case") {
            auto view =
                renew(server, device, *cert,
                      {{NID_subject_alt_name, "DNS:PRINTER-7,DNS:Printer-7.Example.com"}}, "TX-R-SAME");
            CHECK(san_text(check_issued(view)).find("Printer-7.Example.com") != std::string::npos);
        }
    }

    TEST_CASE("[renewal] san: same refuses dropping a name, subset allows it") {
        SUBCASE("fail/same-drops-a-name") {
            ServerFixture server;
            Device device(0, "printer-7");
            auto cert = enrolled(server, device, {printer_names}, "TX-FIRST");
            check_refused(
                renew(server, device, *cert, {{NID_subject_alt_name, "DNS:printer-7.example.com"}}, "TX-R"),
                "must keep the certificate's subjectAltName: DNS:printer-7 is missing");
        }
        SUBCASE("ok/subset-drops-a-name") {
            ServerFixture server([](std::string& conf) { set_key(conf, "san", "subset"); });
            Device device(0, "printer-7");
            auto cert = enrolled(server, device, {printer_names}, "TX-FIRST");
            auto view =
                renew(server, device, *cert, {{NID_subject_alt_name, "DNS:printer-7.example.com"}}, "TX-R");
            CHECK(san_text(check_issued(view)) == "DNS:printer-7.example.com");
            // Still never one more.
            check_refused(renew(server, device, *cert, {{NID_subject_alt_name, "DNS:vpn.corp"}}, "TX-R-ADD"),
                          "may not add names");
        }
    }

    TEST_CASE("a renewal keeps the certificate's template whatever keyUsage the new request asks for") {
        ServerFixture server([](std::string& conf) {
            set_key(conf, "SignatureTemplate", "SigT");
            set_key(conf, "EncryptionTemplate", "EncT");
            set_key(conf, "GeneralPurposeTemplate", "GenT");
            conf +=
                "\n[profile.SigT]\nkey_usage = digitalSignature\nvalidity_days = 100\n"
                "[profile.EncT]\nkey_usage = keyEncipherment\nvalidity_days = 200\n"
                "[profile.GenT]\nkey_usage = digitalSignature,keyEncipherment\nvalidity_days = 300\n";
        });
        Device device(0, "signer-only");
        auto cert = enrolled(server, device, {{NID_key_usage, "critical,digitalSignature"}}, "TX-FIRST");
        REQUIRE(issued_template(server, *cert) == "SigT");
        const std::vector<Ext> asks_encryption{{NID_key_usage, "critical,keyEncipherment"}};

        SUBCASE("ok/from-the-ra-record") {
            auto view = renew(server, device, *cert, asks_encryption, "TX-R");
            X509& renewed = check_issued(view);
            CHECK(issued_template(server, renewed) == "SigT");
            CHECK(server.sql("SELECT template FROM requests WHERE transaction_id = 'TX-R'") == "SigT");
            // The renewed certificate's own row carries its serial: its renewal keeps the template too.
            CHECK(server.sql("SELECT serial FROM requests WHERE transaction_id = 'TX-R'") ==
                  crypto::serial_hex(renewed));
            auto second = renew(server, device, renewed, asks_encryption, "TX-R2");
            CHECK(issued_template(server, check_issued(second)) == "SigT");
        }
        SUBCASE("ok/no-ra-record-falls-back-to-the-old-certificate's-keyUsage") {
            // As for a certificate issued before the RA recorded serials.
            server.instance().database().write(
                [](store::Database& db) { db.exec("UPDATE requests SET serial = NULL"); });
            auto view = renew(server, device, *cert, asks_encryption, "TX-R");
            CHECK(issued_template(server, check_issued(view)) == "SigT");
        }
    }

    TEST_CASE("with [renewal] unrecorded_signers = 0 only a certificate this RA issued renews") {
        ServerFixture server([](std::string& conf) { set_key(conf, "unrecorded_signers", "0"); });
        Device device(0, "recorded-only");
        auto cert = enrolled(server, device, {}, "TX-FIRST");
        SUBCASE("ok/recorded") { check_issued(renew(server, device, *cert, {}, "TX-R")); }
        SUBCASE("fail/issued-by-the-ca-without-this-ra") {
            // As for a certificate the CA issued otherwise (NDES's, or a user's of another profile).
            server.instance().database().write(
                [](store::Database& db) { db.exec("UPDATE requests SET serial = NULL"); });
            auto view = renew(server, device, *cert, {}, "TX-R-OTHER");
            CHECK(view.status == PkiStatus::failure);
            CHECK(view.fail_info == FailInfo::bad_cert_id);
            CHECK(view.fail_info_text.value_or("").find("issued through this RA") != std::string::npos);
            // A PKCSReq it signs is an ordinary one: no password, no certificate.
            check_refused(renew(server, device, *cert, {}, "TX-P-OTHER", MessageType::pkcs_req),
                          "challenge password");
            CHECK(server.sql("SELECT count(*) FROM issued_certs WHERE transaction_id LIKE '%OTHER'") == "0");
        }
    }

    TEST_CASE("a certificate signed by the CA but not in its records cannot renew") {
        ServerFixture server;
        Device device(0, "off-the-books");
        auto ca_key = crypto::load_key_file(server.instance_dir() + "/private/ca.key");
        // Signed with the CA key outside the CA's records (a leaked key's work, or a certificate
        // the CA never recorded): it chains, it is not revoked, and nothing vouches for it.
        auto minted = make_cert(device.subject, *device.key, &server.ca_cert(), ca_key.get(), {}, 365, 4242);
        check_refused(renew(server, device, *minted, {}, "TX-R-MINTED"), "not in the CA's records");
        check_refused(renew(server, device, *minted, {}, "TX-P-MINTED", MessageType::pkcs_req),
                      "not in the CA's records");
        CHECK(server.sql("SELECT count(*) FROM issued_certs WHERE transaction_id LIKE '%MINTED'") == "0");
    }

    TEST_CASE("with [renewal] enabled = 0 a certificate-signed PKCSReq is decided by its password") {
        ServerFixture server([](std::string& conf) { set_key(conf, "enabled", "0"); });
        Device device(0, "no-renewal");
        auto cert = enrolled(server, device, {}, "TX-FIRST");
        Identity by_cert{*cert, *device.key};
        SUBCASE("ok/good-password") {
            auto view = send_csr_as(server, MessageType::pkcs_req, "TX-P-PW", *device.csr(server.password()),
                                    by_cert);
            X509& fresh = check_issued(view);
            CHECK(crypto::serial_hex(fresh) != crypto::serial_hex(*cert));
            CHECK(server.sql("SELECT kind FROM requests WHERE transaction_id = 'TX-P-PW'") == "PKCSReq");
            CHECK(server.sql(
                      "SELECT challenge_id IS NOT NULL FROM audit_events WHERE transaction_id = 'TX-P-PW'") ==
                  "1");
        }
        SUBCASE("fail/no-password") {
            check_refused(send_csr_as(server, MessageType::pkcs_req, "TX-P", *device.csr(""), by_cert),
                          "password is required");
        }
        SUBCASE("fail/renewalreq") {
            check_refused(send_csr_as(server, MessageType::renewal_req, "TX-R",
                                      *device.csr(server.password()), by_cert),
                          "renewal is disabled");
        }
    }
}
