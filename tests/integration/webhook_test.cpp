// SPDX-License-Identifier: Apache-2.0
// validator = webhook through the real server: a policy webhook on loopback
// HTTPS (in this test) allows, denies, times out, answers nonsense, checks the
// HMAC signature and the RA's client certificate; template choice between
// local one-time passwords and the webhook; notifications queued while the
// receiver is down and delivered when it comes back.
#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "integration/server_fixture.hpp"
#include "scep/client.hpp"

using namespace scepra;
using namespace scepra::test;
using nlohmann::json;
using scep::FailInfo;
using scep::PkiStatus;

namespace {

/// A TLS CA, a server certificate for localhost / 127.0.0.1 and a client certificate, as PEM files.
struct TlsFiles {
    TempDir dir;
    TlsFiles() {
        auto ca_key = make_key(2048, true);
        auto ca =
            make_cert("CN=webhook test CA", *ca_key, nullptr, nullptr,
                      {{NID_basic_constraints, "critical,CA:TRUE"}, {NID_key_usage, "critical,keyCertSign"}});
        auto server_key = make_key(2048, true);
        auto server = make_cert(
            "CN=localhost", *server_key, ca.get(), ca_key.get(),
            {{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"}, {NID_ext_key_usage, "serverAuth"}}, 30, 2);
        auto client_key = make_key(2048, true);
        auto client = make_cert("CN=scep-ra", *client_key, ca.get(), ca_key.get(),
                                {{NID_ext_key_usage, "clientAuth"}}, 30, 3);
        crypto::write_file(file("ca.pem"), crypto::cert_pem(*ca), 0644, true);
        crypto::write_file(file("server.pem"), crypto::cert_pem(*server), 0644, true);
        crypto::write_file(file("server.key"), crypto::key_pem(*server_key), 0600, true);
        crypto::write_file(file("client.pem"), crypto::cert_pem(*client), 0644, true);
        crypto::write_file(file("client.key"), crypto::key_pem(*client_key), 0600, true);
        crypto::write_file(file("secret"), "0123456789abcdef0123456789abcdef\n", 0600, true);
        crypto::write_file(file("wrong-secret"), "fedcba9876543210fedcba9876543210\n", 0600, true);
    }
    std::string file(const std::string& name) const { return dir.file(name); }
};

const TlsFiles& tls() {
    static const TlsFiles files;
    return files;
}

struct Received {
    std::string body;
    std::string signature;
};

/// The webhook receiver: HTTPS on loopback, answering what the test scripts.
class Receiver {
  public:
    /// require_client_cert: mutual TLS against the test CA. port 0: any free port.
    explicit Receiver(bool require_client_cert = false, int port = 0)
        : m_server(tls().file("server.pem").c_str(), tls().file("server.key").c_str(),
                   require_client_cert ? tls().file("ca.pem").c_str() : nullptr) {
        m_server.Post(".*", [this](const httplib::Request& request, httplib::Response& response) {
            std::string body;
            int status = 0;
            std::chrono::milliseconds delay{};
            {
                std::lock_guard lock(m_mutex);
                m_received.push_back({request.body, request.get_header_value("X-Scep-Ra-Signature")});
                body = m_body;
                status = m_status;
                delay = m_delay;
                if (!m_secret.empty() &&
                    request.get_header_value("X-Scep-Ra-Signature") !=
                        "sha256=" +
                            to_hex(crypto::hmac_sha256(as_bytes(m_secret), as_bytes(request.body)), false)) {
                    status = 401;
                    body = R"({"error":"bad signature"})";
                }
            }
            std::this_thread::sleep_for(delay);
            response.status = status;
            response.set_content(body, "application/json");
        });
        m_port = port == 0 ? m_server.bind_to_any_port("127.0.0.1") : port;
        if (port != 0) {
            REQUIRE(m_server.bind_to_port("127.0.0.1", port));
        }
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
        for (int i = 0; i < 1000 && !m_server.is_running(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    ~Receiver() {
        m_server.stop();
        m_thread.join();
    }
    void answer(int status, std::string body, std::chrono::milliseconds delay = {}) {
        std::lock_guard lock(m_mutex);
        m_status = status;
        m_body = std::move(body);
        m_delay = delay;
    }
    /// The receiver checks X-Scep-Ra-Signature with this secret (401 when it does not match).
    void check_signature(std::string secret) {
        std::lock_guard lock(m_mutex);
        m_secret = std::move(secret);
    }
    std::vector<Received> received() {
        std::lock_guard lock(m_mutex);
        return m_received;
    }
    int port() const { return m_port; }
    std::string url() const { return "https://localhost:" + std::to_string(m_port) + "/scep/decide"; }

  private:
    httplib::SSLServer m_server;
    std::thread m_thread;
    int m_port = 0;
    std::mutex m_mutex;
    int m_status = 200;
    std::string m_body = R"({"allow": true, "reason": "known device"})";
    std::chrono::milliseconds m_delay{};
    std::string m_secret;
    std::vector<Received> m_received;
};

/// [challenge] validator = webhook and a [webhook] section reaching url, plus extra lines.
std::function<void(std::string&)> webhook_config(const std::string& url, const std::string& extra = "",
                                                 bool for_all_templates = true,
                                                 const std::string& server_ca = tls().file("ca.pem")) {
    return [=](std::string& conf) {
        set_key(conf, "PasswordMax", "100");
        if (for_all_templates) {
            set_key(conf, "validator", "webhook");  // [challenge]
        }
        conf += "\n[webhook]\nurl = " + url + "\nserver_ca = " + server_ca + "\n" + extra;
    };
}

scep::CertRepView enrol_past_webhook(ServerFixture& server, Device& d, const std::string& txid,
                                     const crypto::X509ReqPtr& csr) {
    Bytes req = scep::build_pki_request({scep::MessageType::pkcs_req, txid, {}}, crypto::csr_der(*csr),
                                        server.ra_encryption_cert(), {"AES-128-CBC", false}, d.signer(),
                                        server.clock().now());
    Reply reply = send_pki(server, req);
    REQUIRE(reply.http_status == 200);
    return scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), d.recipient());
}

scep::CertRepView enrol_past_webhook(ServerFixture& server, const std::string& txid,
                                     const std::string& challenge = "mdm-token",
                                     const std::vector<Ext>& exts = {}) {
    Device device(0, "dev-" + txid);
    return enrol_past_webhook(server, device, txid, device.csr(challenge, exts));
}

void check_refused(const scep::CertRepView& view) {
    CHECK(view.status == PkiStatus::failure);
    CHECK(view.fail_info == FailInfo::bad_request);
}

std::string audit_detail(ServerFixture& server, const std::string& txid) {
    return server.sql("SELECT group_concat(detail, ' | ') FROM audit_events WHERE transaction_id = '" + txid +
                      "'");
}

}  // namespace

TEST_SUITE("http.webhook") {
    TEST_CASE("the webhook allows: the device gets its certificate and the webhook saw the whole request") {
        Receiver hook;
        ServerFixture server(webhook_config(hook.url()));
        const auto view = enrol_past_webhook(
            server, "TX-ALLOW", "mdm-token",
            {{NID_subject_alt_name, "DNS:dev.example.com,email:a@example.com,IP:192.0.2.7"}});
        CAPTURE(view.fail_info_text.value_or(""));
        REQUIRE(view.status == PkiStatus::success);
        REQUIRE(hook.received().size() == 1);
        const json asked = json::parse(hook.received()[0].body);
        CHECK(asked["transaction_id"] == "TX-ALLOW");
        CHECK(asked["message_type"] == "PKCSReq");
        CHECK(asked["challenge"] == "mdm-token");
        // RFC 4514: the last RDN of the CSR's sequence (O, added after CN) first.
        CHECK(asked["subject"] == "O=Example,CN=dev-TX-ALLOW");
        CHECK(asked["template"] == "IPSECIntermediateOffline");
        CHECK(asked["peer"] == "127.0.0.1");
        CHECK(asked["renewal"] == false);
        CHECK(asked["key"] == json{{"type", "RSA"}, {"bits", 2048}, {"curve", nullptr}});
        CHECK(asked["sans"] == json::array({{{"type", "dns"}, {"value", "dev.example.com"}},
                                            {{"type", "email"}, {"value", "a@example.com"}},
                                            {{"type", "ip"}, {"value", "192.0.2.7"}}}));
        CHECK(!asked["csr"].get<std::string>().empty());
        // When it was sent, and a nonce: a receiver can refuse a replayed request.
        CHECK(asked["at"].get<std::string>().size() == 20);
        CHECK(asked["at"].get<std::string>().back() == 'Z');
        CHECK(asked["nonce"].get<std::string>().size() == 32);
        CHECK(hook.received()[0].signature.empty());  // no secret_file: unsigned
        CHECK(audit_detail(server, "TX-ALLOW").find("allowed by the webhook: known device") !=
              std::string::npos);
    }

    TEST_CASE(
        "the webhook denies with a reason: FAILURE badRequest with a fixed text, the reason in the audit "
        "trail") {
        Receiver hook;
        hook.answer(200, R"({"allow": false, "reason": "device not enrolled in MDM"})");
        ServerFixture server(webhook_config(hook.url()));
        const auto view = enrol_past_webhook(server, "TX-DENY");
        check_refused(view);
        CHECK(view.fail_info_text.value_or("") == "the request was refused by the enrolment policy");
        CHECK(audit_detail(server, "TX-DENY").find("device not enrolled in MDM") != std::string::npos);
        CHECK(server.sql("SELECT decision FROM audit_events WHERE transaction_id = 'TX-DENY'") == "rejected");
    }

    TEST_CASE(
        "template choice: one-time passwords for one template, the webhook for another, in one server") {
        Receiver hook;
        ServerFixture server([&](std::string& conf) {
            webhook_config(hook.url(), "", false)(conf);
            set_key(conf, "EncryptionTemplate", "MdmDevices");
            conf += "\n[profile.MdmDevices]\nvalidator = webhook\n";
        });
        // keyEncipherment only: EncryptionTemplate, the webhook's.
        const auto by_webhook = enrol_past_webhook(server, "TX-MDM", "not-a-password",
                                                   {{NID_key_usage, "critical,keyEncipherment"}});
        CAPTURE(by_webhook.fail_info_text.value_or(""));
        CHECK(by_webhook.status == PkiStatus::success);
        REQUIRE(hook.received().size() == 1);
        CHECK(json::parse(hook.received()[0].body)["template"] == "MdmDevices");
        // No keyUsage: the general-purpose template, local one-time passwords.
        check_refused(enrol_past_webhook(server, "TX-LOCAL-BAD", "not-a-password"));
        const auto by_password = enrol_past_webhook(server, "TX-LOCAL", server.password());
        CHECK(by_password.status == PkiStatus::success);
        CHECK(hook.received().size() == 1);  // the webhook was not asked for the local template
    }

    TEST_CASE("fail closed: a timeout, a non-2xx status or an answer that is not the expected JSON refuses") {
        Receiver hook;
        ServerFixture server(webhook_config(hook.url(), "timeout_seconds = 1\n"));
        auto check_unavailable = [&](const std::string& txid, const std::string& detail_part) {
            const auto view = enrol_past_webhook(server, txid);
            check_refused(view);
            CHECK(view.fail_info_text.value_or("") ==
                  "the enrolment policy could not be checked; try again later");
            const std::string detail = audit_detail(server, txid);
            CAPTURE(detail);
            CHECK(detail.find(detail_part) != std::string::npos);
        };
        SUBCASE("a receiver that never answers in time") {
            hook.answer(200, R"({"allow": true})", std::chrono::milliseconds(2500));
            check_unavailable("TX-SLOW", "in time");
        }
        SUBCASE("HTTP 500") {
            hook.answer(500, R"({"allow": true})");
            check_unavailable("TX-500", "HTTP 500");
        }
        SUBCASE("HTTP 302") {
            hook.answer(302, R"({"allow": true})");
            check_unavailable("TX-302", "HTTP 302");
        }
        SUBCASE("not JSON") {
            hook.answer(200, "allow");
            check_unavailable("TX-NOTJSON", "not JSON");
        }
        SUBCASE("allow is not a boolean") {
            hook.answer(200, R"({"allow": "true"})");
            check_unavailable("TX-STRING", "no boolean 'allow'");
        }
        SUBCASE("huge answer") {
            hook.answer(200, R"({"allow": true, "reason": ")" + std::string(1 << 20, 'x') + "\"}");
            check_unavailable("TX-HUGE", "larger than");
        }
        SUBCASE("deeply nested answer") {
            hook.answer(200,
                        R"({"allow": true, "x": )" + std::string(5000, '[') + std::string(5000, ']') + "}");
            check_unavailable("TX-NESTED", "nested too deeply");
        }
    }

    TEST_CASE("a long reason with control characters reaches the audit trail bounded and escaped") {
        Receiver hook;
        hook.answer(
            200, json{{"allow", false}, {"reason", "line1\nline2\x1b[31m" + std::string(5000, 'r')}}.dump());
        ServerFixture server(webhook_config(hook.url()));
        check_refused(enrol_past_webhook(server, "TX-REASON"));
        const std::string detail = audit_detail(server, "TX-REASON");
        CHECK(detail.find("line1?line2?[31m") != std::string::npos);
        CHECK(detail.size() < 1000);
    }

    TEST_CASE("the receiver checks the HMAC signature: the right secret is allowed, a wrong one refused") {
        Receiver hook;
        hook.check_signature("0123456789abcdef0123456789abcdef");
        SUBCASE("the right secret") {
            ServerFixture server(webhook_config(hook.url(), "secret_file = " + tls().file("secret") + "\n"));
            CHECK(enrol_past_webhook(server, "TX-SIGNED").status == PkiStatus::success);
            REQUIRE(hook.received().size() == 1);
            CHECK(hook.received()[0].signature.starts_with("sha256="));
        }
        SUBCASE("a wrong secret") {
            ServerFixture server(
                webhook_config(hook.url(), "secret_file = " + tls().file("wrong-secret") + "\n"));
            check_refused(enrol_past_webhook(server, "TX-WRONG-SECRET"));
            CHECK(audit_detail(server, "TX-WRONG-SECRET").find("HTTP 401") != std::string::npos);
            CHECK(server.log().find("0123456789abcdef") == std::string::npos);
            CHECK(server.log().find("fedcba9876543210") == std::string::npos);
        }
        SUBCASE("no secret at all") {
            ServerFixture server(webhook_config(hook.url()));
            check_refused(enrol_past_webhook(server, "TX-UNSIGNED"));
        }
    }

    TEST_CASE("mutual TLS: the receiver takes the RA's client certificate and refuses a RA without one") {
        Receiver hook(true);
        SUBCASE("with client_cert") {
            ServerFixture server(webhook_config(hook.url(), "client_cert = " + tls().file("client.pem") +
                                                                "\nclient_key = " + tls().file("client.key") +
                                                                "\n"));
            CHECK(enrol_past_webhook(server, "TX-MTLS").status == PkiStatus::success);
        }
        SUBCASE("without") {
            ServerFixture server(webhook_config(hook.url()));
            check_refused(enrol_past_webhook(server, "TX-NO-CLIENT-CERT"));
            CHECK(hook.received().empty());
        }
    }

    TEST_CASE("a receiver whose certificate the RA does not trust is never sent the request") {
        Receiver hook;
        // The RA's own CA (ca.pem beside the config), which did not issue the receiver's certificate.
        ServerFixture server(webhook_config(hook.url(), "", true, "ca.pem"));
        check_refused(enrol_past_webhook(server, "TX-UNTRUSTED"));
        CHECK(hook.received().empty());
    }

    TEST_CASE("quotes, backslashes and control characters from the CSR are escaped in the JSON body") {
        Receiver hook;
        ServerFixture server(webhook_config(hook.url()));
        Device device(0, "plain");
        const std::string cn = "evil\",\"allow\":true,\"x\":\"\\\x01\x7f";
        const std::string challenge = "pw\"}\n\t\x02";
        crypto::X509ReqPtr csr(X509_REQ_new());
        REQUIRE(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(csr.get()), "CN", MBSTRING_UTF8,
                                           reinterpret_cast<const unsigned char*>(cn.c_str()),
                                           static_cast<int>(cn.size()), -1, 0) == 1);
        REQUIRE(X509_REQ_set_pubkey(csr.get(), device.key.get()) == 1);
        REQUIRE(X509_REQ_add1_attr_by_NID(csr.get(), NID_pkcs9_challengePassword, MBSTRING_UTF8,
                                          reinterpret_cast<const unsigned char*>(challenge.c_str()),
                                          static_cast<int>(challenge.size())) == 1);
        REQUIRE(X509_REQ_sign(csr.get(), device.key.get(), EVP_sha256()) > 0);
        hook.answer(200, R"({"allow": false, "reason": "checked"})");
        check_refused(enrol_past_webhook(server, device, "TX-'QUOTE',:=?", csr));
        REQUIRE(hook.received().size() == 1);
        const json asked = json::parse(hook.received()[0].body);  // throws if the escaping broke the JSON
        CHECK(asked.size() == 12);                                // no field injected
        CHECK(asked["challenge"] == challenge);
        CHECK(asked["transaction_id"] == "TX-'QUOTE',:=?");
        CHECK(asked["subject"].get<std::string>().find("evil") != std::string::npos);
        CHECK(asked.find("x") == asked.end());
    }

    TEST_CASE("renewals are put to the webhook too, marked renewal, and its denial refuses them") {
        Receiver hook;
        ServerFixture server(webhook_config(hook.url()));
        Device device(1, "renewing");
        auto first = enrol_past_webhook(server, device, "TX-FIRST", device.csr("mdm-token"));
        REQUIRE(first.status == PkiStatus::success);
        REQUIRE(!first.certs.empty());
        X509& cert = *first.certs[0];
        auto renew = [&](const std::string& txid) {
            Bytes req = scep::build_pki_request({scep::MessageType::renewal_req, txid, {}},
                                                crypto::csr_der(*make_csr(*device.key, device.subject)),
                                                server.ra_encryption_cert(), {"AES-128-CBC", false},
                                                {cert, *device.key, "SHA256"}, server.clock().now());
            Reply reply = send_pki(server, req);
            REQUIRE(reply.http_status == 200);
            return scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), {cert, *device.key});
        };
        hook.answer(200, R"({"allow": false, "reason": "renewals paused"})");
        check_refused(renew("TX-RENEW-DENIED"));
        hook.answer(200, R"({"allow": true})");
        CHECK(renew("TX-RENEW").status == PkiStatus::success);
        const auto asked = hook.received();
        REQUIRE(asked.size() == 3);
        const json renewal = json::parse(asked[2].body);
        CHECK(renewal["renewal"] == true);
        CHECK(renewal["message_type"] == "RenewalReq");
        CHECK(renewal["challenge"].is_null());
        // Each request its own nonce.
        CHECK(json::parse(asked[0].body)["nonce"] != json::parse(asked[1].body)["nonce"]);
        CHECK(json::parse(asked[1].body)["nonce"] != renewal["nonce"]);
        CHECK(audit_detail(server, "TX-RENEW-DENIED").find("renewals paused") != std::string::npos);
        CHECK(audit_detail(server, "TX-RENEW").find("renewal authenticated by certificate") !=
              std::string::npos);
    }

    TEST_CASE("notifications wait in the database while the receiver is down and arrive when it comes back") {
        Receiver hook;
        int notify_port = 0;
        {
            Receiver placeholder;  // a free port, closed again before the server starts
            notify_port = placeholder.port();
        }
        ServerFixture server(webhook_config(
            hook.url(), "notify_url = https://localhost:" + std::to_string(notify_port) + "/scep/notify\n"));
        const auto view = enrol_past_webhook(server, "TX-NOTIFY");
        REQUIRE(view.status == PkiStatus::success);
        REQUIRE(!view.certs.empty());
        CHECK(server.sql("SELECT count(*) FROM webhook_notifications") ==
              "2");  // the decision and the outcome

        Receiver receiver(false, notify_port);
        // Bounded: the worker retries with backoff (1 s, 2 s, 4 s, ...).
        for (int i = 0; i < 600 && receiver.received().size() < 2; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        const auto got = receiver.received();
        REQUIRE(got.size() == 2);
        const json decision = json::parse(got[0].body);
        CHECK(decision["event"] == "decision");
        CHECK(decision["transaction_id"] == "TX-NOTIFY");
        CHECK(decision["outcome"] == "allowed");
        const json outcome = json::parse(got[1].body);
        CHECK(outcome["event"] == "outcome");
        CHECK(outcome["outcome"] == "issued");
        CHECK(outcome["serial"] == crypto::serial_hex(*view.certs[0]));
        CHECK(outcome["not_after"].get<std::string>().ends_with("Z"));
        for (int i = 0; i < 100 && server.sql("SELECT count(*) FROM webhook_notifications") != "0"; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        CHECK(server.sql("SELECT count(*) FROM webhook_notifications") == "0");
        // A re-sent request gets the stored certificate and tells nobody again.
        CHECK(enrol_past_webhook(server, "TX-NOTIFY").status == PkiStatus::success);
        CHECK(server.sql("SELECT count(*) FROM webhook_notifications") == "0");
    }
}
