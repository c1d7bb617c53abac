// SPDX-License-Identifier: Apache-2.0
// A one-time password bound to a subject, through the real server: every CN
// and every subjectAltName must match, names the binding cannot judge are
// refused, and a refused request leaves the password usable.
#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include "crypto/encoding.hpp"
#include "integration/scep_exchange.hpp"
#include "integration/server_fixture.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::PkiStatus;

namespace {

std::string bound_password(ServerFixture& server, const std::string& glob) {
    store::ChallengeBinding binding;
    binding.expected_subject = glob;
    return server.instance()
        .challenges()
        .issue(server.config().password.one_time, "test", std::nullopt, binding)
        .password;
}

scep::CertRepView enrol_with_san(ServerFixture& server, Device& device, const std::string& password,
                                 const std::string& san, const std::string& txid) {
    std::vector<Ext> exts;
    if (!san.empty()) exts.push_back({NID_subject_alt_name, san});
    Bytes req = scep::build_pki_request(
        {scep::MessageType::pkcs_req, txid, {}}, crypto::csr_der(*device.csr(password, exts)),
        server.ra_encryption_cert(), {"AES-128-CBC", false}, device.signer(), server.clock().now());
    Reply reply = send_pki(server, req);
    REQUIRE(reply.http_status == 200);
    return scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), device.recipient());
}

}  // namespace

TEST_SUITE("http.binding_policy") {
    TEST_CASE(
        "a password bound to a subject refuses a request with any name that does not match, and stays "
        "usable") {
        ServerFixture server;
        Device device(0, "router-1.example.com");
        const std::string password = bound_password(server, "router-*.example.com");

        SUBCASE("fail/matching-cn-and-a-foreign-dns-name") {
            check_refused(
                enrol_with_san(server, device, password, "DNS:router-1.example.com,DNS:vpn.corp", "TX-DNS"),
                "bound to another subject");
        }
        SUBCASE("fail/an-ip-address") {
            check_refused(enrol_with_san(server, device, password, "IP:127.0.0.1", "TX-IP"), "IP:127.0.0.1");
        }
        SUBCASE("fail/a-upn") {
            check_refused(
                enrol_with_san(server, device, password,
                               "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:administrator@corp", "TX-UPN"),
                "otherName (UPN)");
        }
        SUBCASE("fail/a-second-cn") {
            Device two_names(0, "router-1.example.com,CN=administrator");
            check_refused(enrol_with_san(server, two_names, password, "", "TX-CN2"),
                          "bound to another subject");
        }
        // Whatever was refused, the password was not used up: the right request gets its certificate.
        auto view = enrol_with_san(server, device, password, "DNS:router-1.example.com", "TX-GOOD");
        CAPTURE(view.fail_info_text.value_or(""));
        REQUIRE(view.status == PkiStatus::success);
        CHECK(server.sql("SELECT count(*) FROM issued_certs WHERE transaction_id = 'TX-GOOD'") == "1");
        check_refused(enrol_with_san(server, device, password, "DNS:router-1.example.com", "TX-AGAIN"),
                      "already used");
    }
}
