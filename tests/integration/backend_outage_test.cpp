// SPDX-License-Identifier: Apache-2.0
// Each CA backend slow or down (issue 16): a request gets its answer within the
// configured timeout (PENDING, or FAILURE with [ca] unavailable = fail),
// GetCACert keeps answering meanwhile, and service comes back without a restart.
#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <future>
#include <thread>

#include "crypto/encoding.hpp"
#include "integration/ejbca_test_support.hpp"
#include "integration/server_fixture.hpp"
#include "store/database.hpp"
#include "support/fake_ejbca/fake_ejbca_process.hpp"
#include "unit/adcs/adcs_test_support.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::MessageType;
using scep::PkiStatus;

namespace {

/// The device's PKCSReq for this CSR, as it sends it (and sends it again).
Bytes pkcs_req_for_csr(ServerFixture& server, Device& device, const X509_REQ& csr, const std::string& txid) {
    return scep::build_pki_request({MessageType::pkcs_req, txid, {}}, crypto::csr_der(csr),
                                   server.ra_encryption_cert(), {"AES-128-CBC", false}, device.signer(),
                                   server.clock().now());
}

scep::CertRepView send_message(ServerFixture& server, Device& device, const Bytes& message) {
    Reply reply = send_pki(server, message);
    REQUIRE(reply.http_status == 200);
    return scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), device.recipient());
}

/// GetCACert answered (the RA and CA certificates) while the backend is busy elsewhere.
void check_ca_cert_answered(ServerFixture& server) {
    auto res = server.client().Get(server.base_path() + "?operation=GetCACert");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == "application/x-x509-ca-ra-cert");
}

/// Polls `done` up to 200 times, 50 ms apart (a bounded wait for another process).
template <typename F>
bool eventually(F done) {
    for (int i = 0; i < 200; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
}

}  // namespace

TEST_SUITE("http.backend_outage") {
    TEST_CASE(
        "local CA: its database locked by another process is a clear FAILURE, GetCACert still answers, and "
        "the "
        "re-sent request is issued once the lock goes") {
        ServerFixture server([](std::string& conf) { set_key(conf, "PasswordMax", "100"); });
        Device device(3, "locked-out");
        auto csr = device.csr(server.password());
        const Bytes message = pkcs_req_for_csr(server, device, *csr, "TX-LOCKED");
        {
            // Another process (an operator's sqlite3, a backup) holds the write lock past the RA's busy
            // timeout.
            auto other = store::Database::open(server.instance_dir() + "/scep-ra.db", false);
            other->write([&](store::Database& db) {
                db.exec("UPDATE challenges SET created_at = created_at");  // take the write lock
                auto view = send_message(server, device, message);
                CHECK(view.status == PkiStatus::failure);
                CHECK(view.fail_info_text == "the RA cannot store requests now; try again later");
                check_ca_cert_answered(server);
            });
        }
        // Nothing was claimed and the one-time password is still usable: the same request succeeds.
        auto again = send_message(server, device, message);
        REQUIRE(again.status == PkiStatus::success);
        CHECK(server.sql("SELECT count(*) FROM issued_certs WHERE transaction_id = 'TX-LOCKED'") == "1");
    }

    TEST_CASE(
        "ejbca: EJBCA stalling past timeout_seconds gets PENDING while GetCACert answers, and the re-sent "
        "request gets the certificate EJBCA issued late") {
        FakeEjbca ejbca;
        ServerFixture server([&](std::string& conf) {
            set_key(conf, "backend", "ejbca");
            set_key(conf, "PasswordMax", "100");
            conf += ejbca_section(ejbca, {{"timeout_seconds", "2"}});
        });
        ejbca.control({{"enroll_mode", "stall"}, {"stall_seconds", 8}});
        Device device(6, "stalled-ejbca");
        auto csr = device.csr(server.password());
        const Bytes message = pkcs_req_for_csr(server, device, *csr, "TX-STALLED");
        auto stuck = std::async(std::launch::async, [&] { return send_message(server, device, message); });
        // The worker waiting for EJBCA holds one thread; the others serve GetCACert.
        check_ca_cert_answered(server);
        auto view = stuck.get();
        CHECK(view.status == PkiStatus::pending);
        // The RA answered within its own timeout: EJBCA is still sleeping and has issued nothing.
        CHECK(ejbca.state()["certificates"].size() == 0);

        ejbca.control({{"enroll_mode", "normal"}});
        REQUIRE(eventually([&] { return ejbca.state()["certificates"].size() == 1; }));
        auto again = send_message(server, device, message);  // no restart
        REQUIRE(again.status == PkiStatus::success);
        REQUIRE(!again.certs.empty());
        CHECK(EVP_PKEY_eq(X509_get0_pubkey(again.certs[0].get()), device.key.get()) == 1);
        CHECK(ejbca.state()["certificates"].size() == 1);
    }

    TEST_CASE(
        "adcs: the CA down with [ca] unavailable = fail is FAILURE at once; a hung CA is PENDING within "
        "timeout_seconds; GetCACert answers throughout; both complete once the CA is back") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        ServerFixture server([&](std::string& conf) {
            set_key(conf, "backend", "adcs");
            set_key(conf, "revocation", "none");
            set_key(conf, "PasswordMax", "100");
            set_key(conf, "unavailable", "fail");
            set_key(conf, "GeneralPurposeTemplate", "SCEPDevice");  // issued at once
            conf += "\n[adcs]\nbridge_url = https://localhost:" + std::to_string(bridge.port()) +
                    "\nclient_cert = " + bridge.file("ra.pem") + "\nclient_key = " + bridge.file("ra.key") +
                    "\nserver_ca = " + bridge.file("tls-ca.pem") + "\ntimeout_seconds = 3\n";
        });

        // Down: the CA's RPC port refuses connections.
        bridge.control({{"offline", true}});
        Device down(12, "adcs-down");
        auto down_csr = down.csr(server.password());
        const Bytes down_message = pkcs_req_for_csr(server, down, *down_csr, "TX-ADCS-DOWN");
        auto refused = send_message(server, down, down_message);
        CHECK(refused.status == PkiStatus::failure);
        CHECK(refused.fail_info_text == "the CA is unavailable; try again later");
        check_ca_cert_answered(server);
        bridge.control({{"online", true}});
        auto resumed = send_message(server, down, down_message);  // the same request, no restart
        REQUIRE(resumed.status == PkiStatus::success);
        CHECK(EVP_PKEY_eq(X509_get0_pubkey(resumed.certs[0].get()), down.key.get()) == 1);

        // Slow: the CA takes the next request and answers only when released.
        bridge.control({{"hang_next", true}});
        Device slow(13, "adcs-slow");
        auto slow_csr = slow.csr(server.password());
        const Bytes slow_message = pkcs_req_for_csr(server, slow, *slow_csr, "TX-ADCS-SLOW");
        auto stuck = std::async(std::launch::async, [&] { return send_message(server, slow, slow_message); });
        check_ca_cert_answered(server);
        auto view = stuck.get();
        // A submission whose answer was lost is never a final FAILURE: the CA may have issued.
        CHECK(view.status == PkiStatus::pending);
        bridge.control({{"release", true}});
        // The device sends again until it gets its certificate (the bridge says PENDING while it is
        // still storing the CA's late answer).
        scep::CertRepView again;
        REQUIRE(eventually([&] {
            again = send_message(server, slow, slow_message);
            CHECK((again.status == PkiStatus::success || again.status == PkiStatus::pending));
            return again.status == PkiStatus::success;
        }));
        CHECK(EVP_PKEY_eq(X509_get0_pubkey(again.certs[0].get()), slow.key.get()) == 1);
        CHECK(bridge.new_submissions() == 2);  // the hung one was not submitted a second time
    }
}
