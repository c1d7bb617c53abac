// SPDX-License-Identifier: Apache-2.0
// `scep-ra doctor` on a fresh instance, then on one broken in one way at a
// time: each breakage shows as its own warn or fail line with a fix.
#include <doctest/doctest.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "crypto/encoding.hpp"
#include "support/doctor_instance.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::test;

namespace {

/// A fresh instance made by `scep-ra init`, and doctor run on it.
class Instance : public DoctorInstance {
  public:
    Instance()
        : ca_cert(crypto::load_cert_file(file("ca.pem"))),
          ca_key(crypto::load_key_file(file("private/ca.key"))) {}
    /// Without the running server (tests/integration/doctor_server_test.cpp asks one).
    DoctorRun doctor(const std::string& options = "--no-server") const {
        return DoctorInstance::doctor(options);
    }
    /// Replaces a certificate file with one for the same key (or another), issued by the CA (or self-signed).
    void replace_cert(const std::string& name, const std::string& key_name, const std::vector<Ext>& exts,
                      int days, bool by_ca = true) {
        auto key = crypto::load_key_file(file(key_name));
        auto cert = make_cert("CN=replaced,O=scep-ra", *key, by_ca ? ca_cert.get() : nullptr,
                              by_ca ? ca_key.get() : nullptr, exts, days, 4242);
        crypto::save_cert_file(file(name), *cert, true);
    }
    crypto::X509Ptr ca_cert;
    crypto::EvpPkeyPtr ca_key;
};

const std::vector<Ext> signing_exts{{NID_key_usage, "critical,digitalSignature"},
                                    {NID_ext_key_usage, "1.3.6.1.4.1.311.20.2.1"}};
const std::vector<Ext> encryption_exts{{NID_key_usage, "critical,keyEncipherment"}};

}  // namespace

TEST_SUITE("cli.doctor") {
    TEST_CASE("a fresh instance passes every check, the local CA backend's health included, and exits 0") {
        Instance instance;
        const DoctorRun run = instance.doctor();
        CAPTURE(run.out);
        CHECK(run.status == 0);
        CHECK(run.count("fail") == 0);
        CHECK(run.count("warn") == 0);
        CHECK(run.count("pass") >= 20);
        CHECK_FALSE(run.line("pass", "CA backend: local").empty());
        CHECK_FALSE(run.line("pass", "CA backend: local policies").empty());
        CHECK(run.out.ends_with("ok\n"));
    }

    TEST_CASE(
        "an EJBCA the RA cannot reach fails the backend check, and a policy it cannot enforce fails too") {
        Instance instance;
        std::string conf = crypto::read_file(instance.file("scep-ra.conf"));
        conf.replace(conf.find("backend = local"), 15, "backend = ejbca");
        conf.replace(conf.find("existing_subject = allow"), 24, "existing_subject = require-renewal");
        // The RA's own signing pair stands in for the TLS client pair; the chain is the local CA's, so the
        // backend is built without EJBCA, and only its health call meets the closed port.
        conf +=
            "\n[ejbca]\nurl = https://127.0.0.1:1/ejbca/ejbca-rest-api\nclient_cert = ra-signing.pem\n"
            "client_key = private/ra-signing.key\nserver_ca = ca.pem\nca_name = IssuingCA\nchain = ca.pem\n";
        std::ofstream(instance.file("scep-ra.conf")) << conf;
        const DoctorRun run = instance.doctor();
        CAPTURE(run.out);
        CHECK(run.status == 1);
        CHECK_FALSE(run.line("fail", "CA backend: ejbca").empty());
        CHECK(run.out.find("existing_subject = require-renewal needs") != std::string::npos);
    }

    TEST_CASE(
        "in front of a remote CA the CA certificate is the backend's chain, and no CA key is asked for") {
        Instance instance;
        std::string conf = crypto::read_file(instance.file("scep-ra.conf"));
        conf.replace(conf.find("backend = local"), 15, "backend = ejbca");
        conf +=
            "\n[ejbca]\nurl = https://127.0.0.1:1/ejbca/ejbca-rest-api\nclient_cert = ra-signing.pem\n"
            "client_key = private/ra-signing.key\nserver_ca = ca.pem\nca_name = IssuingCA\nchain = ca.pem\n";
        std::ofstream(instance.file("scep-ra.conf")) << conf;
        // An RA in front of EJBCA holds no CA key.
        std::filesystem::remove(instance.file("private/ca.key"));
        const DoctorRun run = instance.doctor();
        CAPTURE(run.out);
        CHECK_FALSE(run.line("pass", "CA certificate: validity").empty());
        CHECK(run.line("fail", "CA certificate").empty());
        CHECK(run.out.find("CA key") == std::string::npos);
        CHECK_FALSE(run.line("pass", "RA signing certificate: chain").empty());
        CHECK_FALSE(run.line("pass", "RA encryption certificate: chain").empty());
    }

    TEST_CASE("an RA certificate expiring within 30 days warns; an expired one fails with the rollover fix") {
        Instance instance;
        instance.replace_cert("ra-signing.pem", "private/ra-signing.key", signing_exts, 10);
        DoctorRun run = instance.doctor();
        CAPTURE(run.out);
        CHECK(run.status == 0);
        CHECK(run.line("warn", "RA signing certificate: validity").find("expires") != std::string::npos);
        CHECK(run.out.find("fix: prepare new RA certificates with `scep-ra ra rollover`") !=
              std::string::npos);

        instance.replace_cert("ra-signing.pem", "private/ra-signing.key", signing_exts, -1);
        run = instance.doctor();
        CHECK(run.status == 1);
        CHECK(run.line("fail", "RA signing certificate: validity").find("expired") != std::string::npos);
        CHECK(run.out.ends_with("problems found\n"));
    }

    TEST_CASE("an RA key that is not its certificate's fails") {
        Instance instance;
        auto other = make_key();
        crypto::save_key_file(instance.file("private/ra-encryption.key"), *other, true);
        const DoctorRun run = instance.doctor();
        CAPTURE(run.out);
        CHECK(run.status == 1);
        CHECK(run.line("fail", "RA encryption certificate: key").find("is not the certificate's key") !=
              std::string::npos);
    }

    TEST_CASE("an RA certificate that does not chain to the CA fails") {
        Instance instance;
        instance.replace_cert("ra-signing.pem", "private/ra-signing.key", signing_exts, 365, false);
        const DoctorRun run = instance.doctor();
        CAPTURE(run.out);
        CHECK(run.status == 1);
        CHECK_FALSE(run.line("fail", "RA signing certificate: chain").empty());
        CHECK(run.line("pass", "RA encryption certificate: chain").size() > 0);
    }

    TEST_CASE(
        "an RA encryption certificate without keyEncipherment fails; a signing one without the "
        "Certificate Request Agent EKU warns") {
        Instance instance;
        instance.replace_cert("ra-encryption.pem", "private/ra-encryption.key",
                              {{NID_key_usage, "critical,digitalSignature"}}, 365);
        instance.replace_cert("ra-signing.pem", "private/ra-signing.key",
                              {{NID_key_usage, "critical,digitalSignature"}}, 365);
        const DoctorRun run = instance.doctor();
        CAPTURE(run.out);
        CHECK(run.status == 1);
        CHECK(run.line("fail", "RA encryption certificate: key usage").find("keyEncipherment") !=
              std::string::npos);
        CHECK_FALSE(run.line("warn", "RA signing certificate: extended key usage").empty());
        CHECK_FALSE(run.line("pass", "RA signing certificate: key usage").empty());
    }

    TEST_CASE("a private key readable by every user fails, one readable by its group warns") {
        Instance instance;
        REQUIRE(::chmod(instance.file("private/ca.key").c_str(), 0644) == 0);
        DoctorRun run = instance.doctor();
        CAPTURE(run.out);
        CHECK(run.status == 1);
        CHECK(run.line("fail", "CA key: permissions").find("mode 0644") != std::string::npos);
        CHECK(run.out.find("fix: chmod 600 " + instance.file("private/ca.key")) != std::string::npos);

        REQUIRE(::chmod(instance.file("private/ca.key").c_str(), 0640) == 0);
        run = instance.doctor();
        CHECK(run.status == 0);
        CHECK_FALSE(run.line("warn", "CA key: permissions").empty());
    }

    TEST_CASE("a damaged database fails its integrity check with the restore fix") {
        Instance instance;
        const std::string db = instance.file("scep-ra.db");
        {
            std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(4096 * 3);
            const std::string garbage(4096 * 4, '\x5a');
            f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
        }
        const DoctorRun run = instance.doctor();
        CAPTURE(run.out);
        CHECK(run.status == 1);
        CHECK_FALSE(run.line("fail", "database: integrity").empty());
        CHECK(run.out.find("restore the latest backup") != std::string::npos);
    }

    TEST_CASE("an admin TLS certificate for another host warns; one whose key does not match fails") {
        Instance instance;
        auto key = crypto::load_key_file(instance.file("private/admin-tls.key"));
        auto cert = make_cert("CN=other.example", *key, instance.ca_cert.get(), instance.ca_key.get(),
                              {{NID_subject_alt_name, "DNS:other.example"}}, 365, 77);
        crypto::save_cert_file(instance.file("admin-tls.pem"), *cert, true);
        DoctorRun run = instance.doctor();
        CAPTURE(run.out);
        CHECK(run.status == 0);
        CHECK(run.line("warn", "admin TLS certificate: name").find("not valid for 127.0.0.1") !=
              std::string::npos);

        auto other = make_key();
        crypto::save_key_file(instance.file("private/admin-tls.key"), *other, true);
        run = instance.doctor();
        CHECK(run.status == 1);
        CHECK_FALSE(run.line("fail", "admin TLS certificate: key").empty());
    }

    TEST_CASE("a configuration that does not load is one fail line per problem and exit 1") {
        Instance instance;
        std::string text = crypto::read_file(instance.file("scep-ra.conf"));
        text += "\n[nosuch]\nkey = 1\n";
        crypto::write_file(instance.file("scep-ra.conf"), text, 0640, true);
        const DoctorRun run = instance.doctor();
        CAPTURE(run.out);
        CHECK(run.status == 1);
        CHECK(run.out.find("fail  configuration: ") != std::string::npos);
        CHECK(run.out.find("nosuch.key") != std::string::npos);
    }

    TEST_CASE("--enroll without the server, and a --url that is not http(s), are usage errors (exit 2)") {
        Instance instance;
        DoctorRun run = instance.doctor("--no-server --enroll");
        CHECK(run.status == 2);
        CHECK(run.out.find("--enroll needs the server") != std::string::npos);
        run = instance.doctor("--url ftp://127.0.0.1/x");
        CHECK(run.status == 2);
        CHECK(run.out.find("is not an http:// or https:// URL") != std::string::npos);
        run = instance.doctor("--url 'http://127.0.0.1:1/scep?operation=x'");
        CHECK(run.status == 2);
        run = instance.doctor("--url http://127.0.0.1:/scep");
        CHECK(run.status == 2);
        CHECK(run.out.find("an optional numeric port") != std::string::npos);
    }
}
