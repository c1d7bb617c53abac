// SPDX-License-Identifier: Apache-2.0
// The backend registry's configuration: [ca] backend selects one typed
// section, only its files must exist, policies the backend cannot enforce and
// requests pending at another backend are refused before serving.
#include <doctest/doctest.h>

#include <fstream>

#include "cli/app_config.hpp"
#include "cli/backend_checks.hpp"
#include "cli/backend_factory.hpp"
#include "crypto/encoding.hpp"
#include "store/request_store.hpp"
#include "support/config_files.hpp"
#include "support/scripted_backend.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
namespace fs = std::filesystem;

using test::config_error;
using test::contains;
using test::write_config;

namespace {

/// Creates each named file (empty), relative to dir.
void touch(const test::TempDir& dir, std::initializer_list<const char*> names) {
    fs::create_directories(dir.file("private"));
    for (const char* name : names) {
        std::ofstream(dir.file(name)) << "";
    }
}

}  // namespace

TEST_SUITE("cli.backend_registry") {
    TEST_CASE("init's config for each backend names that backend and only its section") {
        for (const std::string backend : {"local", "ejbca", "adcs"}) {
            CAPTURE(backend);
            test::TempDir dir;
            const std::string file = write_config(dir, "", backend);
            const std::string text = crypto::read_file(file);
            CHECK(contains(text, "backend = " + backend + "\n"));
            CHECK(contains(text, "[local_ca]") == (backend == "local"));
            CHECK(contains(text, "[ejbca]") == (backend == "ejbca"));
            CHECK(contains(text, "[adcs]") == (backend == "adcs"));
            const cli::AppConfig config = cli::load_config(file, cli::FileCheck::skip);
            CHECK(config.backend == backend);
        }
    }

    TEST_CASE("an unknown backend is a config error naming [ca] backend and the choices") {
        test::TempDir dir;
        const std::string file = write_config(dir, "", "local");
        std::string text = crypto::read_file(file);
        text.replace(text.find("backend = local"), 15, "backend = mscep");
        std::ofstream(file) << text;
        const std::string error = config_error(file, cli::FileCheck::skip);
        CHECK(contains(error, "[ca] backend must be local, ejbca or adcs, not 'mscep'"));
    }

    TEST_CASE("ejbca: every missing setting is reported at once, and no local CA file is required") {
        test::TempDir dir;
        const std::string file = write_config(dir, "", "ejbca");
        std::string text = crypto::read_file(file);
        for (const char* key :
             {"url = https://ejbca.example:8443/ejbca/ejbca-rest-api", "ca_name = IssuingCA1"}) {
            const std::string k = key;
            text.replace(text.find(k), k.size(), k.substr(0, k.find('=') + 1));
        }
        std::ofstream(file) << text;
        const std::string error = config_error(file, cli::FileCheck::require);
        CAPTURE(error);
        CHECK(contains(error, "[ejbca] url must be an https:// URL"));
        CHECK(contains(error, "[ejbca] ca_name must name the issuing CA"));
        CHECK(contains(error, "[ejbca] client_cert names"));
        CHECK(contains(error, "[ejbca] server_ca names"));
        CHECK_FALSE(contains(error, "[local_ca]"));
        CHECK_FALSE(contains(error, "/ca.pem"));
    }

    TEST_CASE("ejbca: a complete section loads, with per-template profiles") {
        test::TempDir dir;
        touch(dir,
              {"ra-signing.pem", "private/ra-signing.key", "ra-encryption.pem", "private/ra-encryption.key",
               "ejbca-client.pem", "private/ejbca-client.key", "ejbca-server-ca.pem"});
        const std::string file = write_config(dir,
                                              "\n[ejbca.template.IPSECIntermediateOffline]\n"
                                              "certificate_profile = ROUTER\nend_entity_profile = ROUTERS\n",
                                              "ejbca");
        const cli::AppConfig config = cli::load_config(file);
        CHECK(config.ejbca.url == "https://ejbca.example:8443/ejbca/ejbca-rest-api");
        CHECK(config.ejbca.client_cert == fs::path(dir.file("ejbca-client.pem")));
        CHECK(config.ejbca.username_rule == backend::ejbca::UsernameRule::cn);
        REQUIRE(config.ejbca.template_profiles.count("IPSECIntermediateOffline") == 1);
        CHECK(config.ejbca.template_profiles.at("IPSECIntermediateOffline").certificate_profile == "ROUTER");
        CHECK(config.crl_path.empty());  // the HTTP CRL is the local CA's
    }

    TEST_CASE("ejbca: an unknown key of a template section and a bad username rule are refused") {
        test::TempDir dir;
        const std::string file =
            write_config(dir, "\n[ejbca.template.Router]\ncertificate_profil = X\n", "ejbca");
        std::string text = crypto::read_file(file);
        text.replace(text.find("username = cn"), 13, "username = serial");
        std::ofstream(file) << text;
        const std::string error = config_error(file, cli::FileCheck::skip);
        CHECK(contains(error, "[ejbca.template.Router] certificate_profil is not an EJBCA template setting"));
        CHECK(contains(error,
                       "[ejbca] username must be cn, cn+transaction, san-dns or san-email, not 'serial'"));
    }

    TEST_CASE("adcs: the bridge must be reached over https with a client certificate") {
        test::TempDir dir;
        const std::string file = write_config(dir, "", "adcs");
        std::string text = crypto::read_file(file);
        text.replace(text.find("bridge_url = https://"), 21, "bridge_url = http://");
        std::ofstream(file) << text;
        const std::string error = config_error(file, cli::FileCheck::require);
        CHECK(contains(error, "[adcs] bridge_url must be the bridge's https:// URL"));
        CHECK(contains(error, "[adcs] client_cert names"));
        CHECK_FALSE(contains(error, "[local_ca]"));
    }

    TEST_CASE("a policy the backend cannot enforce is refused, never silently skipped") {
        const auto& pki = test::shared_test_pki();
        test::ScriptedBackend backend(*pki.ca_cert, *pki.ca_key);  // no subject look-up, no find_certificate
        cli::AppConfig config;
        config.file = "/etc/scep-ra/scep-ra.conf";
        config.renewal.revocation = core::RevocationMode::none;
        CHECK_NOTHROW(cli::check_backend_supports_policies(config, backend));
        config.existing_subject_requires_renewal = true;
        config.renewal.revocation = core::RevocationMode::backend;
        try {
            cli::check_backend_supports_policies(config, backend);
            FAIL("accepted");
        } catch (const cli::ConfigError& e) {
            const std::string error = e.what();
            CHECK(contains(error, "[policy] existing_subject = require-renewal needs"));
            CHECK(contains(error, "[renewal] revocation = backend needs"));
            CHECK(contains(error, "scripted backend cannot"));
        }
        config.existing_subject_requires_renewal = false;
        config.renewal.revocation = core::RevocationMode::crl;
        CHECK_NOTHROW(cli::check_backend_supports_policies(config, backend));
    }

    TEST_CASE("requests pending at another backend stop a backend change") {
        test::TempDir dir;
        auto db = store::Database::open(dir.file("scep-ra.db"), true);
        FixedClock clock(std::chrono::system_clock::now());
        store::RequestStore requests(*db, clock);
        cli::AppConfig config;
        config.file = dir.file("scep-ra.conf");
        store::RequestRecord r;
        r.transaction_id = "TX-AT-EJBCA";
        r.kind = "PKCSReq";
        r.key_hash = Bytes(32, 0x22);
        r.subject = "CN=router";
        r.status = "pending";
        r.backend = "ejbca";
        r.backend_ref = "42";
        REQUIRE(requests.insert(r));
        CHECK_NOTHROW(cli::check_no_orphaned_requests(config, *db, "ejbca"));
        try {
            cli::check_no_orphaned_requests(config, *db, "local");
            FAIL("accepted");
        } catch (const cli::ConfigError& e) {
            CHECK(contains(e.what(), "requests are still pending (1 at 'ejbca')"));
        }
        r.transaction_id = "TX-DONE";
        r.status = "issued";
        r.backend = "adcs";
        REQUIRE(requests.insert(r));  // decided requests never block a change
        r.transaction_id = "TX-AT-EJBCA-2";
        r.status = "pending";
        r.backend = "ejbca";
        REQUIRE(requests.insert(r));
        try {
            cli::check_no_orphaned_requests(config, *db, "local");
            FAIL("accepted");
        } catch (const cli::ConfigError& e) {
            CHECK(contains(e.what(), "(2 at 'ejbca')"));
        }
    }

    TEST_CASE("the operator's chain file is the selected backend's own `chain`, and the local CA has none") {
        cli::AppConfig config;
        config.ejbca.chain_file = "/etc/scep-ra/ejbca-chain.pem";
        config.adcs.chain_file = "/etc/scep-ra/adcs-chain.pem";
        config.backend = "ejbca";
        CHECK(cli::operator_chain_file(config) == fs::path("/etc/scep-ra/ejbca-chain.pem"));
        config.backend = "adcs";
        CHECK(cli::operator_chain_file(config) == fs::path("/etc/scep-ra/adcs-chain.pem"));
        config.backend = "local";
        CHECK_FALSE(cli::operator_chain_file(config).has_value());
        config.backend = "adcs";
        config.adcs.chain_file.clear();  // the chain comes from the CA
        CHECK_FALSE(cli::operator_chain_file(config).has_value());
    }
}
