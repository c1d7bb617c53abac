// SPDX-License-Identifier: Apache-2.0
// The AD CS backend against a hostile bridge: a tiny HTTPS server on a
// loopback port, with the real bridge's TLS identity, that answers whatever
// the test scripts (oversized, garbage, lies about the certificate).
#include <doctest/doctest.h>
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "adcs/adcs_backend.hpp"
#include "adcs_test_support.hpp"
#include "http/base64.hpp"

using namespace scepra;
using namespace scepra::backend;
using namespace scepra::backend::adcs;
using namespace scepra::test;
using nlohmann::json;

namespace {

/// Answers every call with the scripted status and body.
class HostileBridge {
  public:
    explicit HostileBridge(const BridgeProcess& identity)
        : m_server(identity.file("server.pem").c_str(), identity.file("server.key").c_str(),
                   identity.file("tls-ca.pem").c_str()) {
        auto handler = [this](const httplib::Request&, httplib::Response& response) {
            std::lock_guard lock(m_mutex);
            response.status = m_status;
            response.set_content(m_body, "application/json");
        };
        m_server.Post(".*", handler);
        m_server.Get(".*", handler);
        m_port = m_server.bind_to_any_port("127.0.0.1");
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
        // Bound and listening already; wait (bounded) for the accept loop so that stop() finds it.
        for (int i = 0; i < 1000 && !m_server.is_running(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    ~HostileBridge() {
        m_server.stop();
        m_thread.join();
    }
    void answer(int status, std::string body) {
        std::lock_guard lock(m_mutex);
        m_status = status;
        m_body = std::move(body);
    }
    AdcsConfig config(const BridgeProcess& identity) const {
        AdcsConfig config = identity.config();
        config.bridge_url = "https://localhost:" + std::to_string(m_port);
        config.chain_file = identity.file("ca-chain.pem");
        config.timeout_seconds = 10;
        return config;
    }

  private:
    httplib::SSLServer m_server;
    std::thread m_thread;
    int m_port = 0;
    std::mutex m_mutex;
    int m_status = 500;
    std::string m_body;
};

std::string b64(const Bytes& der) { return http::base64_encode(der); }

json chain_json(const BridgeProcess& bridge) {
    json chain = json::array();
    for (const auto& cert : crypto::load_certs_file(bridge.file("ca-chain.pem"))) {
        chain.push_back(b64(crypto::cert_der(*cert)));
    }
    return chain;
}

json issued_json(const Bytes& cert_der, const json& chain, std::uint32_t request_id = 41) {
    return {{"status", "issued"},
            {"request_id", request_id},
            {"certificate", b64(cert_der)},
            {"chain", chain},
            {"serial", crypto::serial_hex_of_der(cert_der)}};
}

}  // namespace

TEST_SUITE("adcs backend against a hostile bridge") {
    TEST_CASE("answers that cannot be trusted are OutcomeUnknown on submit, never a certificate") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        // A real certificate from the real bridge, for another key than the request below.
        AdcsBackend real(bridge.config());
        DeviceRequest other("SCEPDevice", "txid-other");
        const SubmitResult other_issued = real.submit(other.request);
        REQUIRE(other_issued.disposition == Disposition::issued);
        DeviceRequest device("SCEPDevice", "txid-hostile");
        // The genuine answer for the request below, for lies that change one thing only.
        const SubmitResult genuine = real.submit(device.request);
        REQUIRE(genuine.disposition == Disposition::issued);
        // A certificate for the request's key, but signed by nobody in the chain.
        auto self_signed = make_cert("CN=device-1,O=scep-ra tests", *device.key, nullptr, nullptr, {});
        const Bytes self_signed_der = crypto::cert_der(*self_signed);
        const json chain = chain_json(bridge);
        // A CA of the bridge's own making, named like the real issuing CA, that signed a
        // certificate for the request's key and is sent as the answer's chain.
        const auto real_chain = crypto::load_certs_file(bridge.file("ca-chain.pem"));
        auto rogue_ca_key = make_key(0, true);
        auto rogue_ca =
            make_cert(crypto::name_string(*X509_get_subject_name(real_chain.front().get())), *rogue_ca_key,
                      nullptr, nullptr, {{NID_basic_constraints, "critical,CA:TRUE"}});
        auto rogue_leaf =
            make_cert("CN=device-1,O=scep-ra tests", *device.key, rogue_ca.get(), rogue_ca_key.get(), {});

        HostileBridge hostile(bridge);
        AdcsBackend backend(hostile.config(bridge));
        // One bridge for all the lies below (no SUBCASEs: doctest would start the bridge and the
        // fake CA again for each, about 2 s apiece).
        hostile.answer(201, issued_json(genuine.certificate_der, chain).dump());
        CHECK_MESSAGE(backend.submit(device.request).certificate_der == genuine.certificate_der,
                      "the genuine answer is taken (each lie below differs from it in one thing)");

        struct Lie {
            std::string what;
            int status;
            std::string body;
        };
        std::vector<Lie> lies = {
            {"an answer over the size cap", 201, std::string(300 * 1024, 'x')},
            {"not JSON", 201, "<html>issued</html>"},
            {"JSON nested too deep", 201, std::string(5000, '[') + std::string(5000, ']')},
            {"a JSON array instead of an object", 201, "[]"},
            {"no status", 201, R"({"request_id": 4})"},
            {"a status the API does not have", 201, R"({"status": "maybe", "request_id": 4})"},
            {"a status that does not match the HTTP code", 202,
             issued_json(other_issued.certificate_der, chain).dump()},
            {"a certificate for another key than the request's", 201,
             issued_json(other_issued.certificate_der, chain).dump()},
            {"a certificate the chain's issuing CA did not sign", 201,
             issued_json(self_signed_der, chain).dump()},
            {"a certificate from a CA of the answer's own, sent as its chain", 201,
             issued_json(crypto::cert_der(*rogue_leaf), json::array({b64(crypto::cert_der(*rogue_ca))}))
                 .dump()},
            {"a malformed HRESULT", 422,
             R"({"status": "denied", "request_id": 4, "hresult": "0x1234567890"})"},
            {"an internal error of the bridge", 500, R"({"status": "error"})"},
            {"a redirect", 302, ""},
        };
        auto with = [&](const std::string& key, const json& value) {
            json body = issued_json(genuine.certificate_der, chain);
            body[key] = value;
            return body.dump();
        };
        lies.push_back({"certificate not base64", 201, with("certificate", "!!!not base64!!!")});
        lies.push_back(
            {"certificate not a certificate", 201, with("certificate", b64(device.request.csr_der))});
        Bytes padded = genuine.certificate_der;
        padded.push_back(0);
        lies.push_back({"bytes after the certificate's DER", 201, with("certificate", b64(padded))});
        lies.push_back({"a serial that is not the certificate's", 201, with("serial", "0BADC0DE")});
        std::string lower_serial = crypto::serial_hex_of_der(genuine.certificate_der);
        std::transform(lower_serial.begin(), lower_serial.end(), lower_serial.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        lies.push_back({"a lower-case serial", 201, with("serial", lower_serial)});
        json long_chain = json::array();
        for (int i = 0; i < 11; ++i) {
            long_chain.push_back(chain[0]);
        }
        lies.push_back({"a chain of eleven certificates", 201, with("chain", long_chain)});
        lies.push_back({"a chain in the wrong order", 201, with("chain", json::array({chain[1], chain[0]}))});
        for (const std::string id : {"0", "4294967296", "-3", "\"41\"", "4.5", "null", "9223372036854775808",
                                     "18446744073709551617"}) {
            lies.push_back({"pending without a usable request id: " + id, 202,
                            R"({"status": "pending", "disposition": 5, "request_id": )" + id + "}"});
        }
        // A disposition that is no DWORD would read as negative or wrapped.
        for (const std::string disposition : {"9223372036854775808", "18446744073709551617", "-1"}) {
            lies.push_back({"a pending disposition that is no DWORD: " + disposition, 202,
                            R"({"status": "pending", "request_id": 4, "disposition": )" + disposition + "}"});
            lies.push_back({"a denied disposition that is no DWORD: " + disposition, 422,
                            R"({"status": "denied", "request_id": 4, "disposition": )" + disposition + "}"});
        }
        for (const Lie& lie : lies) {
            CAPTURE(lie.what);
            hostile.answer(lie.status, lie.body);
            CHECK_THROWS_AS(backend.submit(device.request), OutcomeUnknown);
        }
    }

    TEST_CASE("a poll answer about another request, or unreadable, is not taken") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        HostileBridge hostile(bridge);
        AdcsBackend backend(hostile.config(bridge));
        hostile.answer(202, R"({"status": "pending", "disposition": 5, "request_id": 42})");
        CHECK_THROWS_AS(backend.poll({"41", "txid-p", "SCEPPending", {}}), OutcomeUnknown);
        CHECK(backend.poll({"42", "txid-p", "SCEPPending", {}}).disposition == Disposition::pending);
        hostile.answer(200, std::string(300 * 1024, '{'));
        CHECK_THROWS_AS(backend.poll({"42", "txid-p", "SCEPPending", {}}), OutcomeUnknown);
    }

    TEST_CASE("an unusable CA chain from the bridge at start is BackendUnavailable") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        HostileBridge hostile(bridge);
        AdcsConfig config = hostile.config(bridge);
        config.chain_file.clear();
        const json chain = chain_json(bridge);
        for (const std::string& body :
             {std::string("not json"), std::string(R"({"chain": []})"), std::string(R"({"chain": "abc"})"),
              json{{"chain", json::array({chain[1], chain[0]})}}.dump(), std::string(300 * 1024, ' ')}) {
            hostile.answer(200, body);
            CHECK_THROWS_WITH_AS(AdcsBackend{config}, doctest::Contains("[adcs] chain"), BackendUnavailable);
        }
        hostile.answer(200, json{{"chain", chain}}.dump());
        CHECK(AdcsBackend(config).ca_chain().size() == 2);
    }

    TEST_CASE("a call the CA refused before making a request is a final denial, with or without an id of 0") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        HostileBridge hostile(bridge);
        AdcsBackend backend(hostile.config(bridge));
        for (const bool with_zero_id : {true, false}) {
            CAPTURE(with_zero_id);
            json denial{{"status", "denied"},
                        {"disposition", 1},
                        {"hresult", "0x80070005"},
                        {"message", "Access denied"}};
            if (with_zero_id) {
                denial["request_id"] = 0;
            }
            hostile.answer(422, denial.dump());
            const AdcsSubmitOutcome outcome = backend.submit_with_audit(
                DeviceRequest("SCEPDevice", with_zero_id ? "txid-zero" : "txid-none").request);
            CHECK(outcome.result.disposition == Disposition::rejected);
            CHECK(contains(outcome.audit_detail, "no request made"));
            CHECK(contains(outcome.audit_detail, "0x80070005"));
        }
    }

    TEST_CASE("the CA's message is bounded and stripped of control characters in the audit detail") {
        SKIP_WITHOUT_BRIDGE();
        BridgeProcess bridge;
        HostileBridge hostile(bridge);
        AdcsBackend backend(hostile.config(bridge));
        const std::string message = "Denied\r\nFORGED AUDIT LINE" + std::string(5000, 'z');
        hostile.answer(422, json{{"status", "denied"},
                                 {"request_id", 7},
                                 {"disposition", 2},
                                 {"hresult", "0x80094800"},
                                 {"message", message}}
                                .dump());
        const AdcsSubmitOutcome outcome =
            backend.submit_with_audit(DeviceRequest("SCEPDevice", "txid-long").request);
        CHECK(outcome.result.disposition == Disposition::rejected);
        CHECK(outcome.audit_detail.find('\n') == std::string::npos);
        CHECK(outcome.audit_detail.find('\r') == std::string::npos);
        CHECK(outcome.audit_detail.size() < 400);
        CHECK(contains(outcome.audit_detail, "FORGED AUDIT LINE"));
    }
}
