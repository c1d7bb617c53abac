// SPDX-License-Identifier: Apache-2.0
// What `scep-ra serve` refuses to start with (issue 16), as a real process:
// each problem named by the file, section, key and path, all at once.
#include <doctest/doctest.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "crypto/encoding.hpp"
#include "support/scep_ra_process.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

namespace {

struct Started {
    int status;
    std::string err;
};

/// `serve` on a free port (the instance is refused before any listener binds;
/// one accepted by mistake is ended after 20 s, and its test fails).
Started serve(const test::TempDir& dir, const std::string& conf) {
    const std::string err = dir.file("serve.err");
    const std::string cmd =
        "timeout -s KILL 20 " + std::string(SCEPRA_BINARY) + " serve --config " + conf +
        " --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 2>" + err +
        " >/dev/null";
    const int rc = std::system(cmd.c_str());
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, crypto::read_file(err)};
}

struct Instance {
    test::TempDir dir;
    std::string inst = dir.file("ra");
    std::string conf = inst + "/scep-ra.conf";
    Instance() { test::init_from_template(inst, ""); }
    std::string file(const std::string& name) const { return inst + "/" + name; }
};

bool names(const std::string& err, const std::string& part) { return err.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("cli.startup") {
    TEST_CASE("serve refuses a private key every user can read, naming its key and file") {
        Instance i;
        REQUIRE(::chmod(i.file("private/ra-signing.key").c_str(), 0644) == 0);
        const Started s = serve(i.dir, i.conf);
        CAPTURE(s.err);
        CHECK(s.status == 1);
        CHECK(names(s.err, i.conf + ": refusing to start"));
        CHECK(names(s.err, "[ra] signing_key " + i.file("private/ra-signing.key") +
                               " is accessible to every user (mode 0644)"));
    }

    TEST_CASE("serve refuses a private key it cannot read") {
        Instance i;
        crypto::write_file(i.file("private/ra-encryption.key"), "not a key\n", 0600, true);
        const Started s = serve(i.dir, i.conf);
        CAPTURE(s.err);
        CHECK(s.status == 1);
        CHECK(names(s.err, "[ra] encryption_key " + i.file("private/ra-encryption.key") + " cannot be read"));
    }

    TEST_CASE("serve refuses an expired RA certificate, with the rollover fix") {
        Instance i;
        auto key = crypto::load_key_file(i.file("private/ra-signing.key"));
        auto ca_key = crypto::load_key_file(i.file("private/ca.key"));
        auto ca = crypto::load_cert_file(i.file("ca.pem"));
        auto expired = test::make_cert("CN=old RA,O=scep-ra", *key, ca.get(), ca_key.get(),
                                       {{NID_key_usage, "critical,digitalSignature"}}, -1, 4242);
        crypto::save_cert_file(i.file("ra-signing.pem"), *expired, true);
        const Started s = serve(i.dir, i.conf);
        CAPTURE(s.err);
        CHECK(s.status == 1);
        CHECK(names(s.err, "[ra] signing_cert " + i.file("ra-signing.pem") + " expired"));
        CHECK(names(s.err, "scep-ra ra rollover"));
    }

    TEST_CASE("serve names every start-up problem at once") {
        Instance i;
        REQUIRE(::chmod(i.file("private/ca.key").c_str(), 0604) == 0);
        REQUIRE(::chmod(i.file("private/admin-tls.key").c_str(), 0666) == 0);
        crypto::write_file(i.file("private/ra-encryption.key"), "", 0600, true);
        const Started s = serve(i.dir, i.conf);
        CAPTURE(s.err);
        CHECK(s.status == 1);
        CHECK(names(s.err, "[local_ca] key " + i.file("private/ca.key") +
                               " is accessible to every user (mode 0604)"));
        CHECK(names(s.err,
                    "[admin] tls_key " + i.file("private/admin-tls.key") + " is accessible to every user"));
        CHECK(names(s.err, "[ra] encryption_key " + i.file("private/ra-encryption.key") + " cannot be read"));
    }

    TEST_CASE("serve refuses a webhook secret every user can read") {
        Instance i;
        crypto::write_file(i.file("private/webhook.secret"), "0123456789abcdef0123456789abcdef\n", 0644,
                           true);
        std::string text = crypto::read_file(i.conf);
        const auto at = text.find("\nvalidator = local");
        REQUIRE(at != std::string::npos);
        text.replace(at, std::string("\nvalidator = local").size(), "\nvalidator = webhook");
        text += "\n[webhook]\nurl = https://127.0.0.1:9/policy\nsecret_file = " +
                i.file("private/webhook.secret") + "\n";
        crypto::write_file(i.conf, text, 0640, true);
        const Started s = serve(i.dir, i.conf);
        CAPTURE(s.err);
        CHECK(s.status == 1);
        CHECK(names(s.err, "[webhook] secret_file " + i.file("private/webhook.secret") +
                               " is accessible to every user (mode 0644)"));
    }

    TEST_CASE("a path the file system cannot look up is a configuration error naming its key, not a crash") {
        Instance i;
        std::string text = crypto::read_file(i.conf);
        const std::string line = "key = private/ca.key";
        const auto at = text.find(line);
        REQUIRE(at != std::string::npos);
        const std::string too_long = "private/" + std::string(300, 'k') + ".key";  // a name over NAME_MAX
        text.replace(at, line.size(), "key = " + too_long);
        crypto::write_file(i.conf, text, 0640, true);
        const Started s = serve(i.dir, i.conf);
        CAPTURE(s.err);
        CHECK(s.status == 1);
        CHECK(names(s.err, "[local_ca] key"));
        CHECK(names(s.err, "which cannot be looked up: File name too long"));
    }

    TEST_CASE("serve refuses an unknown configuration key, naming the file and the key") {
        Instance i;
        std::string text = crypto::read_file(i.conf);
        const auto at = text.find("[server]\n");
        REQUIRE(at != std::string::npos);
        text.insert(at + 9, "worker_threads = 8\n");
        crypto::write_file(i.conf, text, 0640, true);
        const Started s = serve(i.dir, i.conf);
        CAPTURE(s.err);
        CHECK(s.status == 1);
        CHECK(names(s.err, i.conf));
        CHECK(names(s.err, "server.worker_threads"));
    }
}
