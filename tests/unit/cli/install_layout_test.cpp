// SPDX-License-Identifier: Apache-2.0
// The packaged layout: `init --state-dir` (config in one directory, keys and
// database in another, named absolutely), `check-config`, rollover files
// beside the keys, and the sample configurations in config/.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "cli/app_config.hpp"
#include "crypto/encoding.hpp"
#include "support/scep_ra_process.hpp"
#include "support/test_pki.hpp"
#include "support/text.hpp"

using namespace scepra;
namespace fs = std::filesystem;

using test::contains;

namespace {

/// A packaged-style instance: ETC holds scep-ra.conf only, VAR everything else.
struct SplitInstance {
    test::TempDir tmp;
    std::string etc = tmp.file("etc"), var = tmp.file("var"), conf = etc + "/scep-ra.conf";
    SplitInstance() {
        test::CliRun r = test::run_cli(tmp, "init --dir " + etc + " --state-dir " + var + " --pid-file " +
                                                tmp.file("scep-ra.pid") + " --admin-listen 127.0.0.1:0");
        REQUIRE_MESSAGE(r.status == 0, r.err);
    }
};

}  // namespace

TEST_SUITE("install layout") {
    TEST_CASE("init --state-dir keeps only the config in --dir and names the state files absolutely") {
        SplitInstance inst;
        std::vector<std::string> in_etc;
        for (const auto& entry : fs::directory_iterator(inst.etc)) in_etc.push_back(entry.path().filename());
        CHECK(in_etc == std::vector<std::string>{"scep-ra.conf"});
        for (const char* file :
             {"scep-ra.db", "ca.pem", "ra-signing.pem", "ra-encryption.pem", "admin-tls.pem",
              "private/ca.key", "private/ra-signing.key", "private/ra-encryption.key",
              "private/challenge-hmac.key", "private/admin-tls.key"}) {
            CAPTURE(file);
            CHECK(fs::exists(inst.var + "/" + file));
        }
        const cli::AppConfig c = cli::load_config(inst.conf);
        CHECK(c.signing_key == fs::path(inst.var + "/private/ra-signing.key"));
        CHECK(c.database == fs::path(inst.var + "/scep-ra.db"));
        CHECK(c.local_ca.key_file == fs::path(inst.var + "/private/ca.key"));
        CHECK(c.hmac_key_file == fs::path(inst.var + "/private/challenge-hmac.key"));
        CHECK(c.admin.listen->tls_key == fs::path(inst.var + "/private/admin-tls.key"));
        CHECK(c.pid_file == fs::path(inst.tmp.file("scep-ra.pid")));
        const std::string text = crypto::read_file(inst.conf);
        CHECK(contains(text, "signing_cert = " + inst.var + "/ra-signing.pem\n"));
    }

    TEST_CASE("init --state-dir defaults the pid file to the service's runtime directory") {
        test::TempDir tmp;
        REQUIRE(test::run_cli(tmp, "init --dir " + tmp.file("etc") + " --state-dir " + tmp.file("var") +
                                       " --admin-listen none")
                    .status == 0);
        CHECK(cli::load_config(tmp.file("etc/scep-ra.conf")).pid_file ==
              fs::path("/run/scep-ra/scep-ra.pid"));
    }

    TEST_CASE("init refuses a state directory that already holds a database") {
        SplitInstance inst;
        fs::remove(inst.conf);
        test::CliRun again = test::run_cli(inst.tmp, "init --dir " + inst.etc + " --state-dir " + inst.var);
        CHECK(again.status == 3);
        CHECK(contains(again.err, inst.var + "/scep-ra.db already exists"));
        CHECK_FALSE(fs::exists(inst.conf));
    }

    TEST_CASE("a rollover prepares next/ beside the RA certificates and keys, not beside the config") {
        SplitInstance inst;
        test::CliRun r = test::run_cli(inst.tmp, "ra rollover --config " + inst.conf);
        REQUIRE_MESSAGE(r.status == 0, r.err);
        CHECK(fs::exists(inst.var + "/next/ra-signing.pem"));
        CHECK(fs::exists(inst.var + "/private/next/ra-signing.key"));
        CHECK_FALSE(fs::exists(inst.etc + "/next"));
        test::CliRun activate = test::run_cli(inst.tmp, "ra activate --config " + inst.conf);
        REQUIRE_MESSAGE(activate.status == 0, activate.err);
        CHECK(fs::exists(inst.var + "/previous/ra-encryption.pem"));
        CHECK(fs::exists(inst.var + "/private/previous/ra-encryption.key"));
        CHECK_FALSE(fs::exists(inst.var + "/next"));
        CHECK(test::run_cli(inst.tmp, "check-config --config " + inst.conf).status == 0);
    }

    TEST_CASE("check-config says ok for a fresh instance") {
        SplitInstance inst;
        test::CliRun r = test::run_cli(inst.tmp, "check-config --config " + inst.conf);
        CHECK_MESSAGE(r.status == 0, r.err);
        CHECK(r.out == "ok\n");
    }

    TEST_CASE("check-config fails on a private key every user can read, and warns on a group-readable one") {
        SplitInstance inst;
        fs::permissions(inst.var + "/private/ra-signing.key", fs::perms(0640), fs::perm_options::replace);
        test::CliRun group = test::run_cli(inst.tmp, "check-config --config " + inst.conf);
        CHECK(group.status == 0);
        CHECK(contains(group.err, "warning: "));
        CHECK(contains(group.err, "ra-signing.key is readable by its group (mode 0640)"));
        fs::permissions(inst.var + "/private/ca.key", fs::perms(0644), fs::perm_options::replace);
        test::CliRun world = test::run_cli(inst.tmp, "check-config --config " + inst.conf);
        CHECK(world.status == 1);
        CHECK(contains(world.err, "error: "));
        CHECK(contains(world.err, "ca.key is accessible to every user (mode 0644)"));
        CHECK(world.out.empty());
    }

    TEST_CASE("check-config reports every problem at once: settings, then files") {
        SplitInstance inst;
        std::string text = crypto::read_file(inst.conf);
        text.replace(text.find("PasswordMax = 5"), 15, "PasswordMax = 0");
        text.replace(text.find("digest = SHA256"), 15, "digest = MD5");
        text.replace(text.find("unavailable = pending"), 21, "unavailable = later");
        fs::remove(inst.var + "/ra-encryption.pem");
        crypto::write_file(inst.conf, text, 0640, true);
        test::CliRun r = test::run_cli(inst.tmp, "check-config --config " + inst.conf);
        CHECK(r.status == 1);
        CHECK(contains(r.err, "[password] PasswordMax must be between 1"));
        CHECK(contains(r.err, "[local_ca] digest"));
        CHECK(contains(r.err, "[ca] unavailable must be pending or fail, not 'later'"));
        CHECK(contains(
            r.err, "[ra] encryption_cert names " + inst.var + "/ra-encryption.pem, which does not exist"));
    }

    TEST_CASE("check-config finds a key that does not match its certificate and a missing database") {
        SplitInstance inst;
        fs::copy_file(inst.var + "/private/ra-encryption.key", inst.var + "/private/ra-signing.key",
                      fs::copy_options::overwrite_existing);
        fs::remove(inst.var + "/scep-ra.db");
        test::CliRun r = test::run_cli(inst.tmp, "check-config --config " + inst.conf);
        CHECK(r.status == 1);
        CHECK(contains(r.err, "ra-signing.key does not match its certificate"));
        CHECK(contains(r.err, "[database] path " + inst.var + "/scep-ra.db does not exist"));
    }

    TEST_CASE("every sample configuration in config/ loads, in the password mode its name promises") {
        const std::string dir = std::string(SCEPRA_SOURCE_DIR) + "/config/";
        struct Sample {
            const char* file;
            bool enforce, single;
        };
        for (const Sample& s :
             {Sample{"scep-ra.conf.local", true, false}, Sample{"scep-ra.conf.single-password", true, true},
              Sample{"scep-ra.conf.no-password", false, false}}) {
            CAPTURE(s.file);
            const cli::AppConfig c = cli::load_config(dir + s.file, cli::FileCheck::skip);
            CHECK(c.password.enforce_password == s.enforce);
            CHECK(c.password.use_single_password == s.single);
            CHECK(c.pid_file == fs::path("/run/scep-ra/scep-ra.pid"));
            CHECK(c.database == fs::path("/var/lib/scep-ra/scep-ra.db"));
            CHECK(c.signing_key.parent_path() == fs::path("/var/lib/scep-ra/private"));
        }
    }

    TEST_CASE("every sample configuration in config/ sets the metrics listener and the request log format") {
        const std::string dir = std::string(SCEPRA_SOURCE_DIR) + "/config/";
        for (const char* file : {"scep-ra.conf.local", "scep-ra.conf.single-password",
                                 "scep-ra.conf.no-password", "scep-ra.conf.ejbca", "scep-ra-adcs.conf"}) {
            CAPTURE(file);
            const std::string text = crypto::read_file(dir + file);
            CHECK(contains(text, "\n[metrics]\n"));
            CHECK(contains(text, "\nlisten = 127.0.0.1:9464\n"));
            CHECK(contains(text, "\n[log]\n"));
            CHECK(contains(text, "\nformat = text\n"));
            const cli::AppConfig c = cli::load_config(dir + file, cli::FileCheck::skip);
            REQUIRE(c.metrics_listen.has_value());
            CHECK(c.metrics_listen->host == "127.0.0.1");
            CHECK(c.metrics_listen->port == 9464);
            CHECK(c.log_format == http::LogFormat::text);
        }
    }

    TEST_CASE("check-config --skip-files checks a sample's settings only") {
        test::TempDir tmp;
        test::CliRun r =
            test::run_cli(tmp, "check-config --skip-files --config " + std::string(SCEPRA_SOURCE_DIR) +
                                   "/config/scep-ra.conf.local");
        CHECK_MESSAGE(r.status == 0, r.err);
        CHECK(contains(r.out, "ok"));
        const std::string broken = tmp.file("broken.conf");
        crypto::write_file(broken, "[password]\nEnforcePassword = 2\n[server]\nlisten = nowhere\n", 0600,
                           false);
        test::CliRun bad = test::run_cli(tmp, "check-config --skip-files --config " + broken);
        CHECK(bad.status == 1);
        CHECK(contains(bad.err, "[password] EnforcePassword"));
        CHECK(contains(bad.err, "[server] listen"));
    }
}
