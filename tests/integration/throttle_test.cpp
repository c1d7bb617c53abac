// SPDX-License-Identifier: Apache-2.0
// Failed challenge passwords through the real server: lockouts per client
// address and per subject, a burst of wrong single passwords that must not
// hold every worker, and client-supplied fields stored within their bounds.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "crypto/encoding.hpp"
#include "integration/scep_exchange.hpp"
#include "integration/server_fixture.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::PkiStatus;

namespace {

constexpr const char* kLockedOut = "too many failed attempts; try again later";
constexpr const char* kNotValid = "the challenge password is not valid";

/// POSTs the request from a source address of our choice (any of 127.0.0.0/8).
Reply post_from(const ServerFixture& server, const std::string& source, const Bytes& message) {
    auto c = server.client();
    c.set_interface(source);
    auto res = c.Post(server.base_path() + "?operation=PKIOperation",
                      std::string(reinterpret_cast<const char*>(message.data()), message.size()),
                      "application/x-pki-message");
    if (!res) throw std::runtime_error("HTTP request failed: " + httplib::to_string(res.error()));
    return {res->status, res->get_header_value("Content-Type"), res->body};
}

/// Enrols from source and returns the failInfoText, or "issued".
std::string enrol_from(ServerFixture& server, const std::string& source, Device& device,
                       const std::string& challenge, const std::string& txid) {
    Reply reply = post_from(server, source, pkcs_req_message(server, device, challenge, txid));
    REQUIRE(reply.http_status == 200);
    auto view = scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), device.recipient());
    if (view.status == PkiStatus::success) return "issued";
    CHECK(view.fail_info == FailInfo::bad_request);
    return view.fail_info_text.value_or("");
}

/// `scep-ra ARGS --config <the fixture's file>` as a real process; its exit status.
int scep_ra(const ServerFixture& server, const std::string& args) {
    const std::string cmd = std::string(SCEPRA_BINARY) + " " + args + " --config " + server.instance_dir() +
                            "/scep-ra.conf >/dev/null 2>&1";
    const int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

TEST_SUITE("http.throttle") {
    TEST_CASE(
        "five wrong passwords lock an address out: the sixth request is refused without a password check") {
        ServerFixture server([](std::string& conf) { set_key(conf, "UseSinglePassword", "1"); });
        server.instance().single_password().set("the-right-secret", "cli");
        auto& single = server.instance().single_password();
        std::vector<Device> devices;
        for (int i = 0; i < 8; ++i)
            devices.emplace_back(static_cast<size_t>(i), "guess-" + std::to_string(i));
        // Another subject each time: only the address is counted five times.
        for (int i = 0; i < 5; ++i) {
            CHECK(enrol_from(server, "127.0.0.1", devices[static_cast<size_t>(i)],
                             "wrong-guess-" + std::to_string(i), "TX-G" + std::to_string(i)) == kNotValid);
        }
        CHECK(server.sql("SELECT detail FROM audit_events WHERE operation = 'lockout'")
                  .starts_with("address 127.0.0.1 locked out until "));
        const auto checks = single.slow_verifications();
        CHECK(enrol_from(server, "127.0.0.1", devices[5], "wrong-guess-5", "TX-G5") == kLockedOut);
        // Even the right password is refused unchecked while the lockout lasts.
        CHECK(enrol_from(server, "127.0.0.1", devices[6], "the-right-secret", "TX-G6") == kLockedOut);
        CHECK(single.slow_verifications() == checks);
        CHECK(server.sql("SELECT count(*) FROM audit_events WHERE detail = '" + std::string(kLockedOut) +
                         "'") == "2");
        // Another address is not affected.
        CHECK(enrol_from(server, "127.0.0.2", devices[7], "the-right-secret", "TX-OTHER") == "issued");
        // The lockout lives in the database: a restarted server keeps it.
        server.restart();
        CHECK(enrol_from(server, "127.0.0.1", devices[6], "the-right-secret", "TX-G6R") == kLockedOut);

        SUBCASE("lockout clear lifts it") {
            CHECK(scep_ra(server, "lockout clear --address 127.0.0.2 --all") == 2);
            CHECK(scep_ra(server, "lockout clear --address 127.0.0.1") == 0);
            CHECK(scep_ra(server, "lockout clear --address 127.0.0.1") == 1);  // nothing left to clear
            CHECK(enrol_from(server, "127.0.0.1", devices[6], "the-right-secret", "TX-G7") == "issued");
        }
        SUBCASE("the lockout ends after lockout_minutes") {
            server.clock().advance(std::chrono::minutes(14));
            CHECK(enrol_from(server, "127.0.0.1", devices[6], "the-right-secret", "TX-G8") == kLockedOut);
            server.clock().advance(std::chrono::minutes(2));
            CHECK(enrol_from(server, "127.0.0.1", devices[6], "the-right-secret", "TX-G9") == "issued");
        }
    }

    TEST_CASE(
        "a subject is locked out across addresses for wrong passwords; its right password still enrols") {
        ServerFixture server;
        Device victim(0, "router-7.example.com");
        for (int i = 0; i < 5; ++i) {
            const std::string from = "127.0.0." + std::to_string(10 + i);
            CHECK(enrol_from(server, from, victim, "0000000000000000", "TX-S" + std::to_string(i)) ==
                  kNotValid);
        }
        CHECK(server.sql("SELECT count(*) FROM audit_events WHERE operation = 'lockout' AND detail LIKE "
                         "'subject %CN=router-7.example.com% locked out until %'") == "1");
        const std::string subject = server.sql("SELECT key FROM challenge_failures WHERE kind = 'subject'");
        // Anyone can lock a device out by its name: a wrong password gets the
        // lockout text, the device's own password still passes.
        CHECK(enrol_from(server, "127.0.0.20", victim, "1111111111111111", "TX-S5") == kLockedOut);
        Device other(1, "printer");
        CHECK(enrol_from(server, "127.0.0.20", other, server.password(), "TX-S6") == "issued");
        CHECK(enrol_from(server, "127.0.0.21", victim, server.password(), "TX-S7") == "issued");
        CHECK(scep_ra(server, "lockout clear --subject '" + subject + "'") == 0);
        CHECK(server.sql("SELECT count(*) FROM challenge_failures WHERE kind = 'subject'") == "0");
    }

    TEST_CASE("only failed challenges count: a policy refusal and a success do not") {
        ServerFixture server([](std::string& conf) { set_key(conf, "max_failures", "2"); });
        Device device(2, "counted");
        CHECK(enrol_from(server, "127.0.0.1", device, server.password(), "TX-C1") == "issued");
        // The same transactionID with another key: refused, but not a challenge failure.
        Device other_key(3, "counted");
        CHECK(enrol_from(server, "127.0.0.1", other_key, server.password(), "TX-C1") ==
              "this transactionID was already used with another key");
        CHECK(server.sql("SELECT count(*) FROM challenge_failures") == "0");
        CHECK(enrol_from(server, "127.0.0.1", device, "", "TX-C2") == "a challenge password is required");
        CHECK(server.sql("SELECT failures FROM challenge_failures WHERE kind = 'address'") == "1");
    }

    TEST_CASE(
        "a burst of 80 wrong single passwords gets quick busy answers while GetCACert keeps answering") {
        // The per-address lockout and the per-address worker share would cut the burst (all from
        // 127.0.0.1) short: this tests the bound on the scrypt queue alone.
        ServerFixture server([](std::string& conf) {
            set_key(conf, "UseSinglePassword", "1");
            set_key(conf, "max_failures", "1000");
            set_key(conf, "max_active_requests_per_address", "1000");
        });
        server.instance().single_password().set("the-right-secret", "cli");
        constexpr int burst = 80;
        std::vector<Device> devices;
        std::vector<Bytes> requests;
        for (int i = 0; i < burst; ++i) {
            devices.emplace_back(static_cast<size_t>(i), "burst-" + std::to_string(i));
            requests.push_back(pkcs_req_message(server, devices.back(), "wrong-guess-" + std::to_string(i),
                                                "TX-B" + std::to_string(i)));
        }
        std::atomic<int> busy{0}, not_valid{0}, other{0}, finished{0};
        std::vector<std::thread> senders;
        for (int i = 0; i < burst; ++i) {
            senders.emplace_back([&, i] {
                const auto at = static_cast<size_t>(i);
                try {
                    Reply reply = send_pki(server, requests[at]);
                    auto view = scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(),
                                                    devices[at].recipient());
                    const std::string text = view.fail_info_text.value_or("");
                    (text == "busy, try again later" ? busy : text == kNotValid ? not_valid : other)++;
                } catch (const std::exception&) {
                    ++other;
                }
                ++finished;
            });
        }
        // GetCACert is answered during the burst (a worker is free for it).
        int answered = 0;
        for (int i = 0; i < 3; ++i) {
            auto res = server.client().Get(server.base_path() + "?operation=GetCACert");
            answered += res && res->status == 200 ? 1 : 0;
        }
        for (auto& s : senders) s.join();
        CHECK(answered == 3);
        CHECK(other == 0);
        CHECK(busy + not_valid == burst);
        CHECK(busy > 0);
        CHECK(server.instance().single_password().slow_verifications() ==
              static_cast<std::uint64_t>(not_valid.load()));
        // A busy answer is not a failed attempt.
        CHECK(server.sql("SELECT failures FROM challenge_failures WHERE kind = 'address'") ==
              std::to_string(not_valid.load()));
    }

    TEST_CASE("a 900 KiB subject and a 2 MiB transactionID are stored truncated") {
        ServerFixture server([](std::string& conf) { set_key(conf, "max_body_bytes", "16777216"); });
        // OpenSSL decodes no Name over 1 MiB (X509_NAME_MAX): 14000 organisational
        // units of 60 characters (each attribute is limited to 64) come close.
        std::string cn = "big";
        for (int i = 0; i < 14000; ++i) cn += ",OU=" + std::string(60, 'u');
        Device huge_subject(0, cn);
        CHECK(enrol_from(server, "127.0.0.1", huge_subject, "0000000000000000", "TX-HUGE-SUBJECT") ==
              kNotValid);
        Device device(1, "big-txid");
        const std::string txid(2 << 20, 'T');
        Reply reply =
            post_from(server, "127.0.0.1", pkcs_req_message(server, device, "0000000000000000", txid));
        CHECK((reply.http_status == 200 || reply.http_status == 400));
        CHECK(server.sql("SELECT count(*) FROM audit_events") != "0");
        CHECK(std::stoi(server.sql("SELECT max(length(subject)) FROM audit_events")) == 1024);
        CHECK(server.sql(
                  "SELECT substr(subject, -14) FROM audit_events WHERE transaction_id = 'TX-HUGE-SUBJECT'") ==
              "...[truncated]");
        CHECK(std::stoi(server.sql("SELECT coalesce(max(length(transaction_id)), 0) FROM audit_events")) <=
              128);
        CHECK(std::stoi(server.sql("SELECT coalesce(max(length(detail)), 0) FROM audit_events")) <= 1024);
        CHECK(std::stoi(server.sql("SELECT max(length(key)) FROM challenge_failures")) <= 1024);
    }
}
