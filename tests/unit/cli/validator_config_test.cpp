// SPDX-License-Identifier: Apache-2.0
// [challenge] validator, [profile.NAME] validator and [webhook]: what
// load_config accepts, and the errors that name the file, section and key.
#include <doctest/doctest.h>

#include <string>

#include "cli/app_config.hpp"
#include "support/config_files.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

using test::contains;

namespace {

/// load_config of text (files not checked); the ConfigError's message, or "" when it loads.
std::string text_config_error(const std::string& text, cli::AppConfig* loaded = nullptr) {
    test::TempDir dir;
    return test::config_error(test::write_config_text(dir, text), cli::FileCheck::skip, loaded);
}

}  // namespace

TEST_SUITE("cli.validators") {
    TEST_CASE(
        "local is the default validator, and the webhook sample loads with its template routed to the "
        "webhook") {
        cli::AppConfig plain;
        CHECK(text_config_error("", &plain).empty());
        CHECK(plain.challenge_validator == "local");
        CHECK(plain.webhook.timeout_seconds == 10);

        const cli::AppConfig sample = cli::load_config(
            std::string(SCEPRA_SOURCE_DIR) + "/config/scep-ra.conf.webhook", cli::FileCheck::skip);
        CHECK(sample.challenge_validator == "local");
        CHECK(sample.template_policies.of("MdmDevices").validator == "webhook");
        CHECK(sample.webhook.url == "https://mdm.example.com/scep/decide");
        CHECK(sample.webhook.notify_url == "https://mdm.example.com/scep/notify");
    }

    TEST_CASE("intune as a validator asks for the [intune] section, naming the file, section and key") {
        CHECK(contains(text_config_error("[challenge]\nvalidator = intune\n"),
                       "scep-ra.conf: [intune] tenant_id"));
        CHECK(contains(text_config_error("[profile.Phones]\nvalidator = intune\n"),
                       "scep-ra.conf: [intune] tenant_id"));
    }

    TEST_CASE("an unknown validator name is an error for [challenge] and for a template") {
        CHECK(contains(text_config_error("[challenge]\nvalidator = ldap\n"),
                       "[challenge] validator must be local, intune or webhook"));
        CHECK(contains(text_config_error("[profile.Phones]\nvalidator = ldap\n"),
                       "[profile.Phones] validator must be local, intune or webhook, not 'ldap'"));
    }

    TEST_CASE("validator = webhook without a [webhook] url is an error naming the key and who asks it") {
        CHECK(contains(text_config_error("[challenge]\nvalidator = webhook\n"),
                       "[webhook] url must be set: [challenge] validator = webhook asks it"));
        CHECK(contains(text_config_error("[profile.Phones]\nvalidator = webhook\n"),
                       "[webhook] url must be set: [profile.Phones] validator = webhook asks it"));
        // Unused, the section may be empty.
        CHECK(text_config_error("[webhook]\ntimeout_seconds = 5\n").empty());
    }

    TEST_CASE("[webhook] settings are checked: https only, client_cert with client_key, a bounded timeout") {
        const std::string base = "[challenge]\nvalidator = webhook\n[webhook]\n";
        CHECK(contains(text_config_error(base + "url = http://mdm.example.com/hook\n"),
                       "[webhook] url is not usable"));
        CHECK(contains(text_config_error(base + "url = https://mdm.example.com/hook?x=1\n"),
                       "[webhook] url is not usable"));
        CHECK(contains(text_config_error(base + "url = https://mdm.example.com/\nnotify_url = ftp://x/\n"),
                       "[webhook] notify_url is not usable"));
        CHECK(contains(text_config_error(base + "url = https://mdm.example.com/\nclient_cert = c.pem\n"),
                       "[webhook] client_cert and client_key must be set together"));
        CHECK(contains(text_config_error(base + "url = https://mdm.example.com/\ntimeout_seconds = 0\n"),
                       "[webhook] timeout_seconds must be between 1 and 120"));
        CHECK(text_config_error(base + "url = https://mdm.example.com/scep\n").empty());
    }
}
