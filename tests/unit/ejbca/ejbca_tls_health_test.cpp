// SPDX-License-Identifier: Apache-2.0
// TLS trust both ways, and the operator's health line for each misconfiguration.
#include <doctest/doctest.h>

#include "ejbca/ejbca_backend.hpp"
#include "ejbca_test_support.hpp"
#include "support/fake_ejbca/fake_ejbca_process.hpp"
#include "support/loopback_port.hpp"
#include "support/text.hpp"

using namespace scepra;
using namespace scepra::backend;
using namespace scepra::backend::ejbca;
using scepra::test::FakeEjbca;

using test::contains;

namespace {}  // namespace

TEST_CASE("health: one line saying EJBCA is usable") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    const auto report = backend.health();
    CHECK(report.ok);
    CHECK(contains(report.line, "client certificate accepted"));
    CHECK(contains(report.line, "EJBCA 9.9.9"));
}

TEST_CASE("a server certificate from another CA is refused before anything is sent") {
    FakeEjbca fake;
    auto config = fake.config();
    config.server_ca = fake.file("other-ca.pem");
    config.chain_file = fake.file("chain.pem");
    EjbcaBackend backend(config);
    auto key = test::pooled_client_key(20);
    CHECK_THROWS_AS(backend.submit(test::request_for(*key, "CN=dev", "tx")), BackendUnavailable);
    const auto report = backend.health();
    CHECK_FALSE(report.ok);
    CHECK(contains(report.line, "not trusted by server_ca"));
    CHECK(fake.state()["enrolments"] == 0);
}

TEST_CASE("a server certificate for another host name is refused") {
    FakeEjbca fake(FakeEjbca::Options{false, "ejbca.invalid"});
    auto config = fake.config();
    config.chain_file = fake.file("chain.pem");
    EjbcaBackend backend(config);
    auto key = test::pooled_client_key(21);
    CHECK_THROWS_AS(backend.submit(test::request_for(*key, "CN=dev", "tx")), BackendUnavailable);
    const auto report = backend.health();
    CHECK_FALSE(report.ok);
    CHECK(contains(report.line, "does not name host 'localhost'"));
    CHECK(fake.state()["enrolments"] == 0);
}

TEST_CASE("no client certificate where TLS requires one: refused at the handshake, BackendUnavailable") {
    FakeEjbca fake;
    auto config = fake.config();
    config.client_cert.clear();
    config.client_key.clear();
    config.chain_file = fake.file("chain.pem");
    EjbcaBackend backend(config);
    auto key = test::pooled_client_key(22);
    CHECK_THROWS_AS(backend.submit(test::request_for(*key, "CN=dev", "tx")), BackendUnavailable);
    const auto report = backend.health();
    CHECK_FALSE(report.ok);
    CHECK(contains(report.line, "refused the RA's client certificate"));
}

TEST_CASE("no client certificate where TLS lets it through: EJBCA answers 403, a rejection") {
    FakeEjbca fake(FakeEjbca::Options{true, "localhost"});
    auto config = fake.config();
    config.client_cert.clear();
    config.client_key.clear();
    config.chain_file = fake.file("chain.pem");
    EjbcaBackend backend(config);
    auto key = test::pooled_client_key(23);
    const auto outcome = backend.submit_with_audit(test::request_for(*key, "CN=dev", "tx"));
    CHECK(outcome.result.disposition == Disposition::rejected);
    CHECK(contains(outcome.audit_detail, "no client certificate received"));
    const auto report = backend.health();
    CHECK_FALSE(report.ok);
    CHECK(contains(report.line, "does not accept the RA's client certificate as an administrator"));
}

TEST_CASE("health: a client certificate that is no administrator, also when v1/ca is disabled") {
    FakeEjbca fake;
    auto config = fake.config();
    config.client_cert = fake.file("stranger.pem");
    config.client_key = fake.file("stranger.key");
    config.chain_file = fake.file("chain.pem");
    EjbcaBackend backend(config);
    auto report = backend.health();
    CHECK_FALSE(report.ok);
    CHECK(contains(report.line, "as an administrator: EJBCA HTTP 403: Authorization Denied."));

    fake.control({{"ca_api_disabled", true}});
    report = backend.health();
    CHECK_FALSE(report.ok);
    CHECK(contains(report.line, "as an administrator: EJBCA HTTP 403: Authorization Denied."));
}

TEST_CASE("health: the REST protocol disabled in EJBCA") {
    FakeEjbca fake;
    auto config = fake.config();
    config.chain_file = fake.file("chain.pem");
    EjbcaBackend backend(config);
    fake.control({{"rest_disabled", true}});
    const auto report = backend.health();
    CHECK_FALSE(report.ok);
    CHECK(contains(report.line, "REST protocol disabled"));
}

TEST_CASE("health: a wrong URL path and a port nobody listens on") {
    FakeEjbca fake;
    auto config = fake.config();
    config.chain_file = fake.file("chain.pem");
    config.url = "https://localhost:" + std::to_string(fake.port()) + "/ejbca/wrong-api";
    CHECK(contains(EjbcaBackend(config).health().line, "no EJBCA REST API at"));

    config.url = "https://127.0.0.1:" + std::to_string(test::closed_loopback_port());
    const auto report = EjbcaBackend(config).health();
    CHECK_FALSE(report.ok);
    CHECK(contains(report.line, "cannot connect to EJBCA at 127.0.0.1:"));
}

TEST_CASE("health: a CA name EJBCA does not know") {
    FakeEjbca fake;
    auto config = fake.config();
    config.chain_file = fake.file("chain.pem");
    config.ca_name = "NoSuchCA";
    const auto report = EjbcaBackend(config).health();
    CHECK_FALSE(report.ok);
    CHECK(contains(report.line, "knows no CA named 'NoSuchCA'"));
}

TEST_CASE("bad configuration values are refused when the backend is built") {
    FakeEjbca fake;
    auto config = fake.config();
    config.chain_file = fake.file("chain.pem");
    for (const std::string url :
         {"http://localhost/x", "https://", "https://user@host/x", "https://h:70000/x", "https://h/x?y=1"}) {
        CAPTURE(url);
        config.url = url;
        CHECK_THROWS_AS(EjbcaBackend{config}, std::invalid_argument);
    }
    config = fake.config();
    config.client_key = fake.file("stranger.key");
    CHECK_THROWS_AS(EjbcaBackend{config}, std::runtime_error);
    config = fake.config();
    config.server_ca = fake.file("missing.pem");
    CHECK_THROWS_AS(EjbcaBackend{config}, std::runtime_error);
}
