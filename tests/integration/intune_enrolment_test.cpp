// SPDX-License-Identifier: Apache-2.0
// [challenge] validator = intune through the real server: SCEP enrolments
// whose (several KB long) Intune challenge the fake Intune accepts or refuses,
// by POST and by GET, and Intune out of reach.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "crypto/encoding.hpp"
#include "integration/scep_exchange.hpp"
#include "integration/server_fixture.hpp"
#include "support/fake_intune/fake_intune_process.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::PkiStatus;

namespace {

/// An Intune-like challenge: base64 text of the given length.
std::string intune_challenge(char seed, std::size_t size) {
    std::string text;
    for (std::size_t i = 0; text.size() < size; ++i) {
        text += static_cast<char>('A' + (seed + i * 5) % 26);
        text += "k9+/";
    }
    return text.substr(0, size);
}

scep::CertRepView answer(ServerFixture& server, Device& device, const Reply& reply) {
    REQUIRE(reply.http_status == 200);
    return scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), device.recipient());
}

struct IntuneServer {
    FakeIntune fake;
    ServerFixture server{[this](std::string& conf) {
        set_key(conf, "validator", "intune");
        conf += "\n" + fake.config_section();
    }};
};

}  // namespace

TEST_SUITE("http.intune") {
    TEST_CASE_FIXTURE(IntuneServer,
                      "a device whose Intune challenge Intune accepts is issued a certificate (POST)") {
        Device device(3, "intune-device");
        const std::string challenge = intune_challenge('a', 4000);
        auto view = answer(server, device,
                           send_pki(server, pkcs_req_message(server, device, challenge, "TX-INTUNE-OK")));
        CHECK(view.status == PkiStatus::success);
        // validateRequest, then (from the outcome listener, in the background) successNotification.
        auto state = fake.state();
        for (int i = 0; i < 300 && state["actions"].size() < 2; ++i) {  // bounded: 30 s at most
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            state = fake.state();
        }
        REQUIRE(state["actions"].size() == 2);
        CHECK(state["actions"][0]["action"] == "validateRequest");
        CHECK(state["actions"][0]["body"]["transactionId"] == "TX-INTUNE-OK");
        CHECK(state["actions"][0]["challenge_length"] == 4000);
        CHECK(state["actions"][1]["action"] == "successNotification");
        CHECK(state["actions"][1]["body"]["transactionId"] == "TX-INTUNE-OK");
        CHECK(state["violations"].empty());
        CHECK(server.sql("SELECT decision FROM audit_events WHERE transaction_id = 'TX-INTUNE-OK'") ==
              "issued");
        CHECK(server.sql("SELECT detail FROM audit_events WHERE transaction_id = 'TX-INTUNE-OK'")
                  .starts_with("Intune validated the request"));
        // The challenge is Intune's secret: it is nowhere in the audit trail.
        CHECK(server.sql("SELECT count(*) FROM audit_events WHERE detail LIKE '%" + challenge.substr(0, 30) +
                         "%'") == "0");
    }

    TEST_CASE_FIXTURE(
        IntuneServer,
        "a challenge Intune refuses gets FAILURE badRequest naming the code, and an audit row") {
        Device device(4, "intune-refused");
        const std::string challenge = intune_challenge('r', 3000);
        fake.control({{"codes", {{challenge, "ScepProfileNoLongerTargetedToTheClient"}}}});
        auto view = answer(server, device,
                           send_pki(server, pkcs_req_message(server, device, challenge, "TX-INTUNE-NO")));
        CHECK(view.status == PkiStatus::failure);
        CHECK(view.fail_info == FailInfo::bad_request);
        CHECK(view.fail_info_text.value_or("").find("ScepProfileNoLongerTargetedToTheClient") !=
              std::string::npos);
        CHECK(server.sql("SELECT decision || '|' || fail_info FROM audit_events WHERE transaction_id = "
                         "'TX-INTUNE-NO'") == "rejected|badRequest");
        CHECK(server.sql(
                  "SELECT count(*) FROM audit_events WHERE transaction_id = 'TX-INTUNE-NO' AND detail LIKE "
                  "'%ScepProfileNoLongerTargetedToTheClient%'") == "1");
        CHECK(server.sql("SELECT count(*) FROM requests WHERE status = 'issued'") == "0");
    }

    TEST_CASE_FIXTURE(IntuneServer,
                      "GET PKIOperation carries an Intune challenge up to the 8 KiB request line, "
                      "and beyond it gets HTTP 414 telling the client to POST") {
        Device device(5, "intune-get");
        const Bytes fits = pkcs_req_message(server, device, intune_challenge('g', 1500), "TX-INTUNE-GET");
        auto view = answer(server, device, send_pki(server, fits, true));
        CHECK(view.status == PkiStatus::success);

        Device other(6, "intune-get-long");
        const Bytes too_long =
            pkcs_req_message(server, other, intune_challenge('h', 4000), "TX-INTUNE-GET-LONG");
        const Reply refused = send_pki(server, too_long, true);
        CHECK(refused.http_status == 414);
        CHECK(refused.body.find("POST") != std::string::npos);
        // The same request by POST goes through.
        view = answer(server, other, send_pki(server, too_long));
        CHECK(view.status == PkiStatus::success);
        CHECK(fake.state()["violations"].empty());
    }

    TEST_CASE_FIXTURE(IntuneServer,
                      "with Intune out of reach nothing is issued, and the device is told to try later") {
        Device device(7, "intune-down");
        fake.control({{"discovery", "fail"}});
        auto view = answer(server, device,
                           send_pki(server, pkcs_req_message(server, device, intune_challenge('d', 2000),
                                                             "TX-INTUNE-DOWN")));
        CHECK(view.status == PkiStatus::failure);
        CHECK(view.fail_info == FailInfo::bad_request);
        CHECK(view.fail_info_text.value_or("").find("try again later") != std::string::npos);
        CHECK(server.sql("SELECT count(*) FROM requests WHERE status = 'issued'") == "0");
        // Intune's outage is not the device's fault: no failed attempt counted against it.
        CHECK(server.sql("SELECT count(*) FROM challenge_failures") == "0");
        fake.control({{"discovery", "normal"}});
        view = answer(server, device,
                      send_pki(server, pkcs_req_message(server, device, intune_challenge('d', 2000),
                                                        "TX-INTUNE-BACK")));
        CHECK(view.status == PkiStatus::success);
    }
}
