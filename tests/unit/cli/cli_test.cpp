// SPDX-License-Identifier: Apache-2.0
// The scep-ra command line, run as a real process.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <thread>

#include "crypto/encoding.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

namespace {

struct Run {
    int status;
    std::string out;
    std::string err;
};

Run run(const test::TempDir& dir, const std::string& args) {
    const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
    int rc = std::system((std::string(SCEPRA_BINARY) + " " + args + " >" + out + " 2>" + err + " </dev/null").c_str());
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, crypto::read_file(out), crypto::read_file(err)};
}

unsigned mode_of(const std::string& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 0777;
}

void replace_line(const std::string& file, const std::string& from, const std::string& to) {
    std::string text = crypto::read_file(file);
    auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, from.size(), to);
    crypto::write_file(file, text, 0640, true);
}

}  // namespace

TEST_SUITE("cli") {
    TEST_CASE("every subcommand answers --help") {
        test::TempDir dir;
        for (const char* cmd : {"--help", "init --help", "serve --help", "password --help", "password issue --help"}) {
            CAPTURE(cmd);
            Run r = run(dir, cmd);
            CHECK(r.status == 0);
            CHECK(r.out.find("usage: scep-ra") != std::string::npos);
        }
        CHECK(run(dir, "frobnicate").status == 2);
        CHECK(run(dir, "init --bogus").status == 2);
        CHECK(run(dir, "init").err.find("--dir") != std::string::npos);
    }

    TEST_CASE("init creates a complete instance and protects its keys") {
        test::TempDir dir;
        const std::string inst = dir.file("ra");
        Run r = run(dir, "init --dir " + inst);
        REQUIRE(r.status == 0);
        for (const char* f : {"scep-ra.conf", "ca.pem", "ra-signing.pem", "ra-encryption.pem", "scep-ra.db"}) {
            CHECK(std::filesystem::exists(inst + "/" + f));
        }
        CHECK(mode_of(inst + "/private") == 0700);
        for (const char* key : {"ca.key", "ra-signing.key", "ra-encryption.key", "challenge-hmac.key"}) {
            CAPTURE(key);
            CHECK(mode_of(inst + "/private/" + key) == 0600);
        }
        auto ca = crypto::load_cert_file(inst + "/ca.pem");
        auto sign = crypto::load_cert_file(inst + "/ra-signing.pem");
        auto enc = crypto::load_cert_file(inst + "/ra-encryption.pem");
        CHECK(X509_check_issued(ca.get(), sign.get()) == X509_V_OK);
        CHECK(X509_check_issued(ca.get(), enc.get()) == X509_V_OK);
        CHECK(X509_get_key_usage(sign.get()) == KU_DIGITAL_SIGNATURE);
        CHECK(X509_get_key_usage(enc.get()) == KU_KEY_ENCIPHERMENT);
        const std::string conf = crypto::read_file(inst + "/scep-ra.conf");
        for (const char* key : {"EnforcePassword = 1", "UseSinglePassword = 0", "PasswordMax = 5", "PasswordLength = 8",
                                "PasswordValidity = 60", "SignatureTemplate = ", "EncryptionTemplate = ",
                                "GeneralPurposeTemplate = "}) {
            CHECK(conf.find(key) != std::string::npos);
        }

        SUBCASE("fail/second-init-refused") {
            const std::string before = crypto::read_file(inst + "/ca.pem");
            Run again = run(dir, "init --dir " + inst);
            CHECK(again.status == 3);
            CHECK(again.err.find("already exists") != std::string::npos);
            CHECK(crypto::read_file(inst + "/ca.pem") == before);
        }
        SUBCASE("ok/force-replaces") {
            const std::string before = crypto::read_file(inst + "/ca.pem");
            CHECK(run(dir, "init --force --dir " + inst).status == 0);
            CHECK(crypto::read_file(inst + "/ca.pem") != before);
        }
        SUBCASE("ok/key-type-and-subjects") {
            const std::string other = dir.file("ec");
            REQUIRE(run(dir, "init --dir " + other + " --ca-key-type ec:P-256 --key-type rsa:3072 "
                             "--ca-subject 'CN=Example Issuing CA,O=Example' --ca-validity-days 100")
                        .status == 0);
            auto ec_ca = crypto::load_cert_file(other + "/ca.pem");
            CHECK(EVP_PKEY_get_base_id(X509_get0_pubkey(ec_ca.get())) == EVP_PKEY_EC);
            CHECK(crypto::name_string(*X509_get_subject_name(ec_ca.get())) == "CN=Example Issuing CA,O=Example");
            auto ra = crypto::load_cert_file(other + "/ra-encryption.pem");
            CHECK(EVP_PKEY_get_bits(X509_get0_pubkey(ra.get())) == 3072);
        }
        SUBCASE("fail/ec-ra-key-refused") {
            CHECK(run(dir, "init --dir " + dir.file("ec2") + " --key-type ec:P-256").status == 2);
        }
    }

    TEST_CASE("password issue prints one NDES-style password and stops when the cache is full") {
        test::TempDir dir;
        const std::string inst = dir.file("ra");
        REQUIRE(run(dir, "init --dir " + inst).status == 0);
        const std::string conf = " --config " + inst + "/scep-ra.conf";
        for (int i = 0; i < 5; ++i) {
            Run r = run(dir, "password issue" + conf);
            REQUIRE(r.status == 0);
            CHECK(std::regex_match(r.out, std::regex("[0-9A-F]{16}\n")));
        }
        Run full = run(dir, "password issue" + conf);
        CHECK(full.status == 3);
        CHECK(full.out.empty());
        CHECK(full.err.find("The password cache is full.") != std::string::npos);
    }

    TEST_CASE("configuration errors name the file and the key") {
        test::TempDir dir;
        const std::string inst = dir.file("ra");
        REQUIRE(run(dir, "init --dir " + inst).status == 0);
        const std::string file = inst + "/scep-ra.conf";
        SUBCASE("fail/unknown-key") {
            replace_line(file, "PasswordMax = 5", "PasswordMax = 5\nPasswordMaximum = 7");
            Run r = run(dir, "password issue --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find(file) != std::string::npos);
            CHECK(r.err.find("PasswordMaximum") != std::string::npos);
        }
        SUBCASE("fail/out-of-range") {
            replace_line(file, "PasswordMax = 5", "PasswordMax = 0");
            Run r = run(dir, "serve --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find(file + ": [password] PasswordMax must be between") != std::string::npos);
        }
        SUBCASE("fail/not-a-number") {
            replace_line(file, "PasswordLength = 8", "PasswordLength = eight");
            Run r = run(dir, "serve --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find("PasswordLength") != std::string::npos);
            CHECK(r.err.find(file) != std::string::npos);
        }
        SUBCASE("fail/missing-file") {
            replace_line(file, "signing_cert = ra-signing.pem", "signing_cert = nowhere.pem");
            Run r = run(dir, "serve --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find("[ra] signing_cert names") != std::string::npos);
        }
        SUBCASE("fail/mismatched-key") {
            replace_line(file, "signing_key = private/ra-signing.key", "signing_key = private/ra-encryption.key");
            Run r = run(dir, "serve --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find("signing_key does not match signing_cert") != std::string::npos);
        }
        SUBCASE("fail/bad-listen") {
            replace_line(file, "listen = 127.0.0.1:8080", "listen = localhost");
            Run r = run(dir, "serve --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find("[server] listen") != std::string::npos);
        }
        SUBCASE("fail/no-config-file") {
            Run r = run(dir, "serve --config " + dir.file("absent.conf"));
            CHECK(r.status == 1);
            CHECK(r.err.find("absent.conf") != std::string::npos);
        }
    }

    TEST_CASE("serve binds the port it is given, writes it, and stops on SIGTERM") {
        test::TempDir dir;
        const std::string inst = dir.file("ra");
        REQUIRE(run(dir, "init --dir " + inst).status == 0);
        const std::string port_file = dir.file("port");
        const std::string cmd = std::string(SCEPRA_BINARY) + " serve --config " + inst + "/scep-ra.conf --listen 127.0.0.1:0 --port-file " +
                                port_file + " 2>" + dir.file("serve.log") + " & echo $! >" + dir.file("pid");
        REQUIRE(std::system(cmd.c_str()) == 0);
        for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        REQUIRE(std::filesystem::exists(port_file));
        const std::string port = crypto::read_file(port_file);
        CHECK(std::stoi(port) > 0);
        const std::string pid = crypto::read_file(dir.file("pid"));
        const std::string curl = "curl -fsS -o /dev/null 'http://127.0.0.1:" + std::to_string(std::stoi(port)) +
                                 "/certsrv/mscep/mscep.dll?operation=GetCACaps'";
        CHECK(std::system(curl.c_str()) == 0);
        CHECK(std::system(("kill -TERM " + pid).c_str()) == 0);
        // The process is not our child (the shell started it), so watch its log for the clean exit.
        std::string log;
        for (int i = 0; i < 200 && log.find("scep-ra stopped") == std::string::npos; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
            log = crypto::read_file(dir.file("serve.log"));
        }
        CHECK(log.find("GetCACaps") != std::string::npos);
        CHECK(log.find("scep-ra stopped") != std::string::npos);
    }
}
