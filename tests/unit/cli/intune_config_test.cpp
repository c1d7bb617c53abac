// SPDX-License-Identifier: Apache-2.0
// [challenge] validator and [intune]: every problem reported at once, naming
// the file, section and key; a complete section gives typed settings.
#include <doctest/doctest.h>

#include "cli/app_config.hpp"
#include "support/config_files.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

using test::config_error;
using test::contains;
using test::write_config;

TEST_SUITE("cli.intune") {
    TEST_CASE("validator defaults to local and [intune] is not checked then") {
        test::TempDir dir;
        const auto config = cli::load_config(write_config(dir, ""), cli::FileCheck::skip);
        CHECK(config.challenge_validator == "local");
    }

    TEST_CASE("an unknown validator is an error naming [challenge] validator") {
        test::TempDir dir;
        const std::string error = config_error(write_config(dir, "[challenge]\nvalidator = scepman\n"));
        CHECK(contains(error, "scep-ra.conf"));
        CHECK(contains(error, "[challenge] validator"));
        CHECK(contains(error, "scepman"));
    }

    TEST_CASE("intune: every missing or wrong setting is reported at once") {
        test::TempDir dir;
        const std::string error = config_error(
            write_config(dir,
                         "[challenge]\nvalidator = intune\n[intune]\ntenant_id = contoso example\n"
                         "login_url = http://login.example\ngraph_url = https://graph.example?x=1\n"
                         "timeout_seconds = 0\n"));
        CHECK(contains(error, "scep-ra.conf"));
        CHECK(contains(error, "[intune] tenant_id"));
        CHECK(contains(error, "[intune] client_id"));
        CHECK(contains(error, "[intune] login_url"));
        CHECK(contains(error, "[intune] graph_url"));
        CHECK(contains(error, "[intune] timeout_seconds"));
        CHECK(contains(error, "[intune] client_secret_file"));
    }

    TEST_CASE("intune: a client secret and a certificate exclude each other, and named files must exist") {
        test::TempDir dir;
        std::string error = config_error(
            write_config(dir,
                         "[challenge]\nvalidator = intune\n[intune]\ntenant_id = contoso.onmicrosoft.com\n"
                         "client_id = 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b\nclient_secret_file = secret.txt\n"
                         "client_cert = app.pem\nclient_key = app.key\n"));
        CHECK(contains(error, "[intune] client_secret_file"));
        CHECK(contains(error, "exclude each other"));
        test::TempDir other;
        error = config_error(write_config(other,
                                          "[challenge]\nvalidator = intune\n[intune]\n"
                                          "tenant_id = 0c4f1f7e-96a1-4c5e-9a0b-8d2c3e4f5a6b\n"
                                          "client_id = 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b\n"
                                          "client_cert = app.pem\n"),
                             cli::FileCheck::require);
        CHECK(contains(error, "[intune] client_cert"));
        CHECK(contains(error, "does not exist"));
        CHECK(contains(error, "[intune] client_key"));
    }

    TEST_CASE("intune: a complete section gives typed settings with the Microsoft defaults") {
        test::TempDir dir;
        const auto config = cli::load_config(
            write_config(dir,
                         "[challenge]\nvalidator = intune\n[intune]\ntenant_id = contoso.onmicrosoft.com\n"
                         "client_id = 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b\n"
                         "client_secret_file = private/intune-secret.txt\n"),
            cli::FileCheck::skip);
        CHECK(config.challenge_validator == "intune");
        CHECK(config.intune.tenant_id == "contoso.onmicrosoft.com");
        CHECK(config.intune.client_secret_file == dir.path() + "/private/intune-secret.txt");
        CHECK(config.intune.login_url == "https://login.microsoftonline.com");
        CHECK(config.intune.graph_url == "https://graph.microsoft.com");
        CHECK(config.intune.server_ca == "/etc/ssl/certs/ca-certificates.crt");
        CHECK(config.intune.timeout_seconds == 10);
    }

    TEST_CASE("the sample config/scep-ra.conf.intune is valid and selects Intune") {
        const auto config =
            cli::load_config(SCEPRA_SOURCE_DIR "/config/scep-ra.conf.intune", cli::FileCheck::skip);
        CHECK(config.challenge_validator == "intune");
        CHECK_FALSE(config.intune.client_secret_file.empty());
    }
}
