// SPDX-License-Identifier: Apache-2.0
// /metrics of a real `scep-ra serve` after real enrolments, read back with
// Debian's Prometheus text parser.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/asn1_time.hpp"
#include "crypto/encoding.hpp"
#include "integration/serve_process.hpp"
#include "support/prometheus_text.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::PkiStatus;

namespace {

std::string scrape(int port) {
    httplib::Client c("127.0.0.1", port);
    auto res = c.Get("/metrics");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    CHECK(res->get_header_value("Content-Type").starts_with("text/plain; version=0.0.4"));
    return res->body;
}

std::string requests(const std::string& operation, const std::string& type, const std::string& outcome,
                     const std::string& fail_info = "") {
    return "scep_ra_requests_total{fail_info=\"" + fail_info + "\",message_type=\"" + type +
           "\",operation=\"" + operation + "\",outcome=\"" + outcome + "\"}";
}

double not_after(const std::string& pem_file) {
    auto cert = crypto::load_cert_file(pem_file);
    return static_cast<double>(unix_seconds(*crypto::to_time_point(*X509_get0_notAfter(cert.get()))));
}

}  // namespace

TEST_SUITE("http.metrics") {
    TEST_CASE(
        "after enrolments, /metrics counts requests, enrolment latency, backend calls, passwords and "
        "lockouts") {
        TempDir dir;
        const std::string conf = init_instance(dir);
        std::string text = crypto::read_file(conf);
        set_key(text, "PasswordMax", "20");
        set_key(text, "max_failures", "2");
        crypto::write_file(conf, text, 0640, true);
        const std::string used1 = issue_password(dir, conf), used2 = issue_password(dir, conf);
        issue_password(dir, conf);  // stays outstanding

        ServeProcess server(dir, conf);
        REQUIRE(server.metrics_port() > 0);
        ProcessClient client(dir.file("instance"), server.port());
        Device a(0, "metrics-a"), b(1, "metrics-b"), c(2, "metrics-c"), d(3, "metrics-d");
        CHECK(client.enrol(a, used1, "TX-M1").status == PkiStatus::success);
        CHECK(client.enrol(b, used2, "TX-M2").status == PkiStatus::success);
        // Two wrong passwords from 127.0.0.2 (other subjects) lock that address out.
        for (Device* device : {&c, &d}) {
            auto reply = client.enrol(*device, "0000000000000000", "TX-W-" + device->subject, "127.0.0.2");
            CHECK(reply.status == PkiStatus::failure);
            CHECK(reply.fail_info == FailInfo::bad_request);
        }
        auto http = client.http();
        CHECK(http.Get("/certsrv/mscep/mscep.dll?operation=GetCACaps")->status == 200);
        CHECK(http.Get("/certsrv/mscep/mscep.dll?operation=GetCACert")->status == 200);
        CHECK(client.post_pki("not a pkiMessage") == 400);
        // Client-chosen operation names must not become label values (series per attacker string).
        CHECK(http.Get("/certsrv/mscep/mscep.dll?operation=Evil%22%7D%0Aevil_total%201")->status == 400);

        TempDir parse_dir;
        const std::string body = scrape(server.metrics_port());
        CAPTURE(body);
        auto m = parse_prometheus_text(parse_dir, body);
        CHECK(m.types.at("scep_ra_requests") == "counter");
        CHECK(m.get(requests("PKIOperation", "PKCSReq", "success")) == 2);
        CHECK(m.get(requests("PKIOperation", "PKCSReq", "failure", "badRequest")) == 2);
        CHECK(m.get(requests("GetCACaps", "", "success")) == 1);
        CHECK(m.get(requests("GetCACert", "", "success")) == 1);
        CHECK(m.get(requests("PKIOperation", "", "malformed")) == 1);
        CHECK(m.get(requests("other", "", "refused")) == 1);
        CHECK(body.find("Evil") == std::string::npos);
        CHECK(body.find("evil_total") == std::string::npos);

        CHECK(m.types.at("scep_ra_enrolment_duration_seconds") == "histogram");
        CHECK(
            m.get("scep_ra_enrolment_duration_seconds_count{message_type=\"PKCSReq\",outcome=\"success\"}") ==
            2);
        CHECK(m.get("scep_ra_enrolment_duration_seconds_bucket{le=\"+Inf\",message_type=\"PKCSReq\",outcome="
                    "\"failure\"}") == 2);
        CHECK(*m.get("scep_ra_enrolment_duration_seconds_sum{message_type=\"PKCSReq\",outcome=\"success\"}") >
              0);

        CHECK(m.get("scep_ra_backend_calls_total{backend=\"local\",call=\"submit\",outcome=\"issued\"}") ==
              2);
        CHECK(m.get("scep_ra_backend_call_duration_seconds_count{backend=\"local\",call=\"submit\"}") == 2);

        CHECK(m.get("scep_ra_one_time_passwords_outstanding{}") == 1);
        CHECK(m.get("scep_ra_one_time_passwords_max{}") == 20);
        CHECK(m.get("scep_ra_lockouts_active{kind=\"address\"}") == 1);
        CHECK(m.get("scep_ra_lockouts_active{kind=\"subject\"}") == 0);

        const std::string instance = dir.file("instance");
        CHECK(m.get("scep_ra_certificate_expiry_timestamp_seconds{role=\"ra_signing\",subject=\"" +
                    crypto::name_string(
                        *X509_get_subject_name(crypto::load_cert_file(instance + "/ra-signing.pem").get())) +
                    "\"}") == not_after(instance + "/ra-signing.pem"));
        bool ca_seen = false;
        for (const auto& [series, value] : m.samples) {
            if (series.starts_with("scep_ra_certificate_expiry_timestamp_seconds{role=\"ca\"")) {
                ca_seen = true;
                CHECK(value == not_after(instance + "/ca.pem"));
            }
        }
        CHECK(ca_seen);
        CHECK(*m.get("scep_ra_database_size_bytes{file=\"main\"}") > 0);

        // Nothing secret: no password, no key material.
        CHECK(body.find(used1) == std::string::npos);
        CHECK(body.find("PRIVATE") == std::string::npos);
        server.stop();
    }

    TEST_CASE(
        "the metrics listener answers only /metrics, refuses other methods, and its port being taken does "
        "not stop SCEP") {
        TempDir dir;
        const std::string conf = init_instance(dir);
        ServeProcess first(dir, conf);
        httplib::Client c("127.0.0.1", first.metrics_port());
        CHECK(c.Get("/")->status == 404);
        CHECK(c.Post("/metrics", "x", "text/plain")->status == 405);

        // A server whose metrics port another program holds still serves SCEP.
        const int taken = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(taken >= 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(taken, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(taken, 1) == 0);
        socklen_t length = sizeof address;
        REQUIRE(::getsockname(taken, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        TempDir other;
        const std::string other_conf = init_instance(other);
        ServeProcess second(other, other_conf,
                            {.metrics_listen = "127.0.0.1:" + std::to_string(ntohs(address.sin_port))});
        ::close(taken);
        CHECK(second.metrics_port() == 0);
        ProcessClient client(other.file("instance"), second.port());
        CHECK(client.http().Get("/certsrv/mscep/mscep.dll?operation=GetCACaps")->status == 200);
        CHECK(second.log().find("serving without metrics") != std::string::npos);
    }

    TEST_CASE("[metrics] listen empty turns the metrics listener off") {
        TempDir dir;
        const std::string conf = init_instance(dir);
        std::string text = crypto::read_file(conf);
        const auto pos = text.find("listen = 127.0.0.1:9464");
        REQUIRE(pos != std::string::npos);
        text.replace(pos, std::string("listen = 127.0.0.1:9464").size(), "listen =");
        crypto::write_file(conf, text, 0640, true);
        ServeProcess server(dir, conf, {.metrics_listen = ""});
        CHECK(server.metrics_port() == 0);
        CHECK(server.log().find("metrics") == std::string::npos);
        ProcessClient client(dir.file("instance"), server.port());
        CHECK(client.http().Get("/certsrv/mscep/mscep.dll?operation=GetCACaps")->status == 200);
    }

    TEST_CASE("a [metrics] listen that is not HOST:PORT is a config error naming the section and key") {
        TempDir dir;
        const std::string conf = init_instance(dir);
        std::string text = crypto::read_file(conf);
        text.replace(text.find("listen = 127.0.0.1:9464"), std::string("listen = 127.0.0.1:9464").size(),
                     "listen = nowhere");
        crypto::write_file(conf, text, 0640, true);
        std::string out, err;
        CHECK(run_scep_ra(dir, "check-config --config " + conf, &out, &err) == 1);
        CHECK((out + err).find("[metrics] listen") != std::string::npos);
    }
}
