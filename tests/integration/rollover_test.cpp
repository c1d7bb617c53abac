// SPDX-License-Identifier: Apache-2.0
// RA and CA rollover: GetNextCACert announces the next certificates signed by
// the current CA; after activation, requests encrypted to the old RA
// certificate are still served during the grace period, and no longer after it.
#include <doctest/doctest.h>

#include "cli/commands.hpp"
#include "crypto/encoding.hpp"
#include "integration/scep_exchange.hpp"
#include "integration/server_fixture.hpp"
#include "scep/degenerate.hpp"
#include "scep/next_ca.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::PkiStatus;

namespace {

int run_cli(const std::vector<std::string>& args) {
    std::ostringstream quiet;
    auto* old = std::cout.rdbuf(quiet.rdbuf());
    int rc = args[0] == "ra"       ? cli::ra_command({args.begin() + 1, args.end()})
             : args[0] == "revoke" ? cli::revoke_command({args.begin() + 1, args.end()})
                                   : -1;
    std::cout.rdbuf(old);
    return rc;
}

scep::CertRepView enrol_encrypting_to(ServerFixture& server, Device& device, X509& encrypt_to,
                                      X509& expected_signer, const std::string& challenge,
                                      const std::string& txid) {
    auto csr = device.csr(challenge);
    Bytes req =
        scep::build_pki_request({scep::MessageType::pkcs_req, txid, {}}, crypto::csr_der(*csr), encrypt_to,
                                {"AES-128-CBC", false}, device.signer(), std::chrono::system_clock::now());
    Reply reply = send_pki(server, req);
    REQUIRE(reply.http_status == 200);
    return scep::read_cert_rep(as_bytes(reply.body), expected_signer, device.recipient());
}

/// Enrols the device, then rolls over to a new CA (`ra rollover --new-ca`,
/// `ra activate`, restart); returns the certificate of the old CA.
crypto::X509Ptr enrolled_then_new_ca(ServerFixture& server, Device& device, const std::string& txid) {
    const std::string conf = server.instance_dir() + "/scep-ra.conf";
    auto first = enrol_encrypting_to(server, device, server.ra_encryption_cert(), server.ra_signing_cert(),
                                     server.password(), txid);
    REQUIRE(first.status == PkiStatus::success);
    REQUIRE(run_cli({"ra", "rollover", "--config", conf, "--new-ca"}) == 0);
    REQUIRE(run_cli({"ra", "activate", "--config", conf}) == 0);
    server.restart();
    return std::move(first.certs.at(0));
}

/// A RenewalReq for the device's key, signed with `old_cert`.
scep::CertRepView renew_with(ServerFixture& server, Device& device, X509& old_cert, const std::string& txid) {
    auto csr = device.csr("");
    Bytes req = scep::build_pki_request({scep::MessageType::renewal_req, txid, {}}, crypto::csr_der(*csr),
                                        server.ra_encryption_cert(), {"AES-128-CBC", false},
                                        {old_cert, *device.key, "SHA256"}, std::chrono::system_clock::now());
    return scep::read_cert_rep(as_bytes(send_pki(server, req).body), server.ra_signing_cert(),
                               {old_cert, *device.key});
}

}  // namespace

TEST_SUITE("http.rollover") {
    TEST_CASE("GetNextCACert announces the next RA certificates, signed by the current CA") {
        ServerFixture server;
        CHECK(ca_caps(server).find("GetNextCACert") == std::string::npos);
        CHECK(server.client().Get(server.base_path() + "?operation=GetNextCACert")->status == 404);
        const std::string conf = server.instance_dir() + "/scep-ra.conf";
        REQUIRE(run_cli({"ra", "rollover", "--config", conf}) == 0);
        CHECK(run_cli({"ra", "rollover", "--config", conf}) == cli::exit_refused);  // already prepared
        server.instance().reload(server.config());
        CHECK(ca_caps(server).find("GetNextCACert") != std::string::npos);
        auto res = server.client().Get(server.base_path() + "?operation=GetNextCACert");
        REQUIRE(res);
        CHECK(res->status == 200);
        CHECK(res->get_header_value("Content-Type") == "application/x-x509-next-ca-cert");
        auto next = scep::read_next_ca_response(as_bytes(res->body), server.ca_cert());
        REQUIRE(next.size() == 3);
        auto next_sign = crypto::load_cert_file(server.instance_dir() + "/next/ra-signing.pem");
        CHECK(X509_cmp(next[0].get(), next_sign.get()) == 0);
        CHECK(X509_cmp(next[1].get(), &server.ra_signing_cert()) != 0);
        CHECK(X509_cmp(next[2].get(), &server.ca_cert()) == 0);
        // A response not signed by the CA is refused by the client check.
        auto other = make_test_pki();
        CHECK_THROWS(scep::read_next_ca_response(as_bytes(res->body), *other.ca_cert));
    }

    TEST_CASE("after activation the old RA encryption certificate is honoured for the grace period only") {
        ServerFixture server;
        const std::string conf = server.instance_dir() + "/scep-ra.conf";
        auto old_enc = crypto::up_ref(server.ra_encryption_cert());
        auto old_sign = crypto::up_ref(server.ra_signing_cert());
        REQUIRE(run_cli({"ra", "rollover", "--config", conf}) == 0);
        REQUIRE(run_cli({"ra", "activate", "--config", conf, "--grace-days", "7"}) == 0);
        server.restart();
        CHECK(X509_cmp(&server.ra_signing_cert(), old_sign.get()) != 0);
        auto certs = scep::parse_degenerate(
            as_bytes(server.client().Get(server.base_path() + "?operation=GetCACert")->body));
        REQUIRE(certs.size() == 3);
        CHECK(X509_cmp(certs[1].get(), &server.ra_encryption_cert()) == 0);
        Device device(1, "late-client");
        // A client that still has the old GetCACert encrypts to the old certificate.
        auto view = enrol_encrypting_to(server, device, *old_enc, server.ra_signing_cert(), server.password(),
                                        "TX-OLD-ENC");
        CHECK(view.status == PkiStatus::success);
        CHECK(enrol_encrypting_to(server, device, server.ra_encryption_cert(), server.ra_signing_cert(),
                                  server.password(), "TX-NEW-ENC")
                  .status == PkiStatus::success);
        server.clock().advance(std::chrono::hours(24 * 8));
        server.restart();
        auto refused = enrol_encrypting_to(server, device, *old_enc, server.ra_signing_cert(),
                                           server.password(), "TX-TOO-LATE");
        CHECK(refused.fail_info == scep::FailInfo::bad_cert_id);
        CHECK(run_cli({"ra", "activate", "--config", conf}) ==
              cli::exit_refused);  // nothing prepared any more
    }

    TEST_CASE(
        "a new CA: new enrolments chain to it, certificates of the old CA still renew during the grace") {
        ServerFixture server;
        Device device(2, "ca-rollover");
        auto old_ca = crypto::up_ref(server.ca_cert());
        crypto::X509Ptr old_cert = enrolled_then_new_ca(server, device, "TX-BEFORE");
        CHECK(X509_cmp(&server.ca_cert(), old_ca.get()) != 0);
        // Renewal signed by the certificate from the old CA.
        auto view = renew_with(server, device, *old_cert, "TX-RENEW-OLD-CA");
        CHECK(view.status == PkiStatus::success);
        REQUIRE_FALSE(view.certs.empty());
        CHECK(X509_check_issued(&server.ca_cert(), view.certs[0].get()) == X509_V_OK);
    }

    TEST_CASE("a certificate of the old CA revoked during the grace can no longer renew") {
        ServerFixture server;
        const std::string conf = server.instance_dir() + "/scep-ra.conf";
        Device device(3, "ca-rollover-revoked");
        crypto::X509Ptr old_cert = enrolled_then_new_ca(server, device, "TX-BEFORE-REVOKE");
        // The operator revokes the old CA's certificate after the rollover.
        REQUIRE(run_cli({"revoke", "--config", conf, crypto::serial_hex(*old_cert), "--reason",
                         "keyCompromise"}) == 0);
        auto view = renew_with(server, device, *old_cert, "TX-RENEW-REVOKED");
        CHECK(view.status == PkiStatus::failure);
        CHECK(view.fail_info == scep::FailInfo::bad_request);
        CHECK(view.fail_info_text.value_or("").find("revoked") != std::string::npos);
    }
}
