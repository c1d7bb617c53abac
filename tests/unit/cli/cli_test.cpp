// SPDX-License-Identifier: Apache-2.0
// The scep-ra command line, run as a real process.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "cli/instance.hpp"
#include "crypto/encoding.hpp"
#include "store/audit_log.hpp"
#include "store/database.hpp"
#include "store/request_store.hpp"
#include "support/scep_ra_process.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

namespace {

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
        for (const char* cmd : {"--help",
                                "init --help",
                                "serve --help",
                                "password --help",
                                "password issue --help",
                                "password list --help",
                                "password revoke --help",
                                "password set-single --help",
                                "password mode --help",
                                "admin --help",
                                "admin add --help",
                                "admin remove --help",
                                "admin list --help",
                                "audit --help",
                                "reload --help",
                                "request --help",
                                "request list --help",
                                "request approve --help",
                                "request deny --help",
                                "request retry --help",
                                "revoke --help"}) {
            CAPTURE(cmd);
            test::CliRun r = test::run_cli(dir, cmd);
            CHECK(r.status == 0);
            CHECK(r.out.find("usage: scep-ra") != std::string::npos);
            CHECK(r.err.empty());
        }
        CHECK(test::run_cli(dir, "frobnicate").status == 2);
        CHECK(test::run_cli(dir, "init --bogus").status == 2);
        CHECK(test::run_cli(dir, "init").err.find("--dir") != std::string::npos);
    }

    TEST_CASE("init creates a complete instance and protects its keys") {
        test::TempDir dir;
        const std::string inst = dir.file("ra");
        test::CliRun r = test::run_cli(dir, "init --dir " + inst);
        REQUIRE(r.status == 0);
        for (const char* f :
             {"scep-ra.conf", "ca.pem", "ra-signing.pem", "ra-encryption.pem", "scep-ra.db"}) {
            CHECK(std::filesystem::exists(inst + "/" + f));
        }
        CHECK(test::file_mode(inst + "/private") == 0700);
        for (const char* key : {"ca.key", "ra-signing.key", "ra-encryption.key", "challenge-hmac.key"}) {
            CAPTURE(key);
            CHECK(test::file_mode(inst + "/private/" + key) == 0600);
        }
        auto ca = crypto::load_cert_file(inst + "/ca.pem");
        auto sign = crypto::load_cert_file(inst + "/ra-signing.pem");
        auto enc = crypto::load_cert_file(inst + "/ra-encryption.pem");
        CHECK(X509_check_issued(ca.get(), sign.get()) == X509_V_OK);
        CHECK(X509_check_issued(ca.get(), enc.get()) == X509_V_OK);
        CHECK(X509_get_key_usage(sign.get()) == KU_DIGITAL_SIGNATURE);
        CHECK(X509_get_key_usage(enc.get()) == KU_KEY_ENCIPHERMENT);
        const std::string conf = crypto::read_file(inst + "/scep-ra.conf");
        for (const char* key : {"EnforcePassword = 1", "UseSinglePassword = 0", "PasswordMax = 5",
                                "PasswordLength = 8", "PasswordValidity = 60", "SignatureTemplate = ",
                                "EncryptionTemplate = ", "GeneralPurposeTemplate = "}) {
            CHECK(conf.find(key) != std::string::npos);
        }

        SUBCASE("fail/second-init-refused") {
            const std::string before = crypto::read_file(inst + "/ca.pem");
            test::CliRun again = test::run_cli(dir, "init --dir " + inst);
            CHECK(again.status == 3);
            CHECK(again.err.find("already exists") != std::string::npos);
            CHECK(crypto::read_file(inst + "/ca.pem") == before);
        }
        SUBCASE("ok/force-replaces") {
            const std::string before = crypto::read_file(inst + "/ca.pem");
            CHECK(test::run_cli(dir, "init --force --dir " + inst).status == 0);
            CHECK(crypto::read_file(inst + "/ca.pem") != before);
        }
    }

    // Apart from the instance above: doctest runs a test case's body once per SUBCASE, and each run
    // of it is an init (four RSA-2048 keys).
    TEST_CASE("init takes the key types and CA subject it is given, and refuses an EC RA key") {
        test::TempDir dir;
        const std::string other = dir.file("ec");
        REQUIRE(
            test::run_cli(dir, "init --dir " + other +
                                   " --ca-key-type ec:P-256 --key-type rsa:3072 "
                                   "--ca-subject 'CN=Example Issuing CA,O=Example' --ca-validity-days 100")
                .status == 0);
        auto ec_ca = crypto::load_cert_file(other + "/ca.pem");
        CHECK(EVP_PKEY_get_base_id(X509_get0_pubkey(ec_ca.get())) == EVP_PKEY_EC);
        CHECK(crypto::name_string(*X509_get_subject_name(ec_ca.get())) == "CN=Example Issuing CA,O=Example");
        auto ra = crypto::load_cert_file(other + "/ra-encryption.pem");
        CHECK(EVP_PKEY_get_bits(X509_get0_pubkey(ra.get())) == 3072);
        CHECK(test::run_cli(dir, "init --dir " + dir.file("ec2") + " --key-type ec:P-256").status == 2);
    }

    TEST_CASE("password issue prints one NDES-style password and stops when the cache is full") {
        test::TempDir dir;
        const std::string inst = dir.file("ra");
        test::init_from_template(inst, "");
        const std::string conf = " --config " + inst + "/scep-ra.conf";
        for (int i = 0; i < 5; ++i) {
            test::CliRun r = test::run_cli(dir, "password issue" + conf);
            REQUIRE(r.status == 0);
            CHECK(std::regex_match(r.out, std::regex("[0-9A-F]{16}\n")));
        }
        test::CliRun full = test::run_cli(dir, "password issue" + conf);
        CHECK(full.status == 3);
        CHECK(full.out.empty());
        CHECK(full.err.find("The password cache is full.") != std::string::npos);
    }

    TEST_CASE("configuration errors name the file and the key") {
        test::TempDir dir;
        const std::string inst = dir.file("ra");
        test::init_from_template(inst, "");
        const std::string file = inst + "/scep-ra.conf";
        SUBCASE("fail/unknown-key") {
            replace_line(file, "PasswordMax = 5", "PasswordMax = 5\nPasswordMaximum = 7");
            test::CliRun r = test::run_cli(dir, "password issue --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find(file) != std::string::npos);
            CHECK(r.err.find("PasswordMaximum") != std::string::npos);
        }
        SUBCASE("fail/out-of-range") {
            replace_line(file, "PasswordMax = 5", "PasswordMax = 0");
            test::CliRun r = test::run_cli(dir, "serve --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find(file + ": [password] PasswordMax must be between") != std::string::npos);
        }
        SUBCASE("fail/not-a-number") {
            replace_line(file, "PasswordLength = 8", "PasswordLength = eight");
            test::CliRun r = test::run_cli(dir, "serve --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find("PasswordLength") != std::string::npos);
            CHECK(r.err.find(file) != std::string::npos);
        }
        SUBCASE("fail/missing-file") {
            replace_line(file, "signing_cert = ra-signing.pem", "signing_cert = nowhere.pem");
            test::CliRun r = test::run_cli(dir, "serve --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find("[ra] signing_cert names") != std::string::npos);
        }
        SUBCASE("fail/mismatched-key") {
            replace_line(file, "signing_key = private/ra-signing.key",
                         "signing_key = private/ra-encryption.key");
            test::CliRun r = test::run_cli(dir, "serve --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find("signing_key does not match signing_cert") != std::string::npos);
        }
        SUBCASE("fail/bad-listen") {
            replace_line(file, "listen = 127.0.0.1:8080", "listen = localhost");
            test::CliRun r = test::run_cli(dir, "serve --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find("[server] listen") != std::string::npos);
        }
        SUBCASE("fail/unknown-profile-key") {
            replace_line(file, "\n[password]\n",
                         "\n[profile.VPN]\nvalidity_days = 30\nmanual_aproval = 1\n\n[password]\n");
            test::CliRun r = test::run_cli(dir, "serve --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find("[profile.VPN] manual_aproval is not a profile setting") != std::string::npos);
        }
        SUBCASE("fail/bad-profile-value") {
            replace_line(file, "\n[password]\n", "\n[profile.VPN]\nvalidity_days = soon\n\n[password]\n");
            test::CliRun r = test::run_cli(dir, "serve --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find("[profile.VPN] validity_days must be a number") != std::string::npos);
        }
        SUBCASE("fail/unknown-section") {
            replace_line(file, "\n[password]\n", "\n[pasword]\nEnforcePassword = 0\n\n[password]\n");
            test::CliRun r = test::run_cli(dir, "serve --config " + file);
            CHECK(r.status == 1);
            CHECK(r.err.find("unknown key 'pasword.EnforcePassword'") != std::string::npos);
        }
        SUBCASE("fail/no-config-file") {
            test::CliRun r = test::run_cli(dir, "serve --config " + dir.file("absent.conf"));
            CHECK(r.status == 1);
            CHECK(r.err.find("absent.conf") != std::string::npos);
        }
    }

    TEST_CASE("serve binds the port it is given, writes it, and stops on SIGTERM") {
        test::TempDir dir;
        const std::string inst = dir.file("ra");
        test::init_from_template(inst, "");
        test::ServeProcess server(dir, inst + "/scep-ra.conf");
        CHECK(server.port() > 0);
        const std::string curl = "curl -fsS -o /dev/null 'http://127.0.0.1:" + std::to_string(server.port()) +
                                 "/certsrv/mscep/mscep.dll?operation=GetCACaps'";
        CHECK(std::system(curl.c_str()) == 0);
        server.stop();  // SIGTERM, and it exits
        const std::string log = server.log();
        CHECK(log.find("GetCACaps") != std::string::npos);
        CHECK(log.find("scep-ra stopped") != std::string::npos);
    }
}

TEST_SUITE("cli.operators") {
    struct Instance {
        test::TempDir dir;
        std::string inst = dir.file("ra");
        std::string conf;
        Instance() {
            test::init_from_template(inst, "");
            conf = " --config " + inst + "/scep-ra.conf";
        }
    };

    TEST_CASE("password list, revoke and mode show state but never a secret") {
        Instance i;
        test::CliRun issued =
            test::run_cli(i.dir, "password issue --subject 'router-*' --template T1 --validity 30" + i.conf);
        REQUIRE(issued.status == 0);
        const std::string pw = issued.out.substr(0, 16);
        REQUIRE(test::run_cli(i.dir, "password issue" + i.conf).status == 0);
        test::CliRun list = test::run_cli(i.dir, "password list --json" + i.conf);
        CHECK(list.status == 0);
        CHECK(list.out.find(pw) == std::string::npos);
        CHECK(list.out.find("\"state\":\"outstanding\"") != std::string::npos);
        CHECK(list.out.find("\"expected_subject\":\"router-*\",\"template\":\"T1\"") != std::string::npos);
        CHECK(std::count(list.out.begin(), list.out.end(), '\n') == 2);
        CHECK(test::run_cli(i.dir, "password revoke 1" + i.conf).status == 0);
        CHECK(test::run_cli(i.dir, "password revoke 1" + i.conf).status == 1);  // already revoked
        CHECK(test::run_cli(i.dir, "password list" + i.conf).out.find("revoked") != std::string::npos);
        test::CliRun mode = test::run_cli(i.dir, "password mode --json" + i.conf);
        CHECK(mode.out.find("\"mode\":\"one-time\"") != std::string::npos);
        CHECK(mode.out.find("\"PasswordMax\":5") != std::string::npos);
        CHECK(mode.out.find("\"outstanding\":1") != std::string::npos);
        CHECK(mode.out.find("\"single_password_set_at\":null") != std::string::npos);
    }

    TEST_CASE("password list prints an admin's binding with its control characters escaped") {
        Instance i;
        {
            // What an issue admin can POST: {"subject": "\u001b]0;...\u0007router-*", ...}.
            SystemClock clock;
            cli::Stores stores = cli::open_stores(cli::load_config(i.inst + "/scep-ra.conf"), clock);
            store::ChallengeBinding binding;
            binding.expected_subject = "\x1b]0;owned\x07router-*";
            binding.template_name = "\x1b[2JT1\xc2\x9b";
            stores.challenges->issue(store::ChallengePolicy{}, "alice", "192.0.2.1", binding);
        }
        test::CliRun list = test::run_cli(i.dir, "password list" + i.conf);
        CHECK(list.status == 0);
        CHECK(list.out.find('\x1b') == std::string::npos);
        CHECK(list.out.find('\x07') == std::string::npos);
        CHECK(list.out.find("\xc2\x9b") == std::string::npos);  // C1 CSI
        CHECK(list.out.find("\\x1b]0;owned\\x07router-* template=\\x1b[2JT1\\xc2\\x9b\n") !=
              std::string::npos);
        // JSON allows DEL and the C1 controls raw; a terminal obeys them all the same.
        test::CliRun json = test::run_cli(i.dir, "password list --json" + i.conf);
        CHECK(json.status == 0);
        CHECK(json.out.find('\x1b') == std::string::npos);
        CHECK(json.out.find("\xc2\x9b") == std::string::npos);
        CHECK(json.out.find("\"template\":\"\\u001b[2JT1\\u009b\"") != std::string::npos);
    }

    TEST_CASE("set-single reads the password from stdin or a file, never from the command line") {
        Instance i;
        SUBCASE("ok/stdin") {
            test::CliRun r = test::run_cli(i.dir, "password set-single" + i.conf, "my-shared-secret\n");
            CHECK(r.status == 0);
            CHECK(test::run_cli(i.dir, "password mode --json" + i.conf)
                      .out.find("\"single_password_set_at\":null") == std::string::npos);
            CHECK(crypto::read_file(i.inst + "/scep-ra.db").find("my-shared-secret") == std::string::npos);
        }
        SUBCASE("ok/file") {
            crypto::write_file(i.dir.file("pw.txt"), "from-a-file-123\n", 0600, true);
            CHECK(
                test::run_cli(i.dir, "password set-single --file " + i.dir.file("pw.txt") + i.conf).status ==
                0);
        }
        SUBCASE("fail/empty-stdin") {
            test::CliRun r = test::run_cli(i.dir, "password set-single" + i.conf, "");
            CHECK(r.status == 1);
            CHECK(r.err.find("standard input") != std::string::npos);
        }
        SUBCASE("fail/no-argv-option") {
            CHECK(test::run_cli(i.dir, "password set-single --password x" + i.conf).status == 2);
        }
        SUBCASE("fail/too-short") {
            CHECK(test::run_cli(i.dir, "password set-single" + i.conf, "short\n").status == 1);
        }
    }

    TEST_CASE("admin add, list and remove") {
        Instance i;
        CHECK(test::run_cli(i.dir, "admin add alice" + i.conf, "a-long-admin-password\n").status == 0);
        CHECK(test::run_cli(i.dir, "admin add alice" + i.conf, "a-long-admin-password\n").status ==
              3);  // duplicate
        CHECK(test::run_cli(i.dir, "admin add bob" + i.conf, "short\n").status == 3);
        CHECK(test::run_cli(i.dir, "admin add 'bad name'" + i.conf, "a-long-admin-password\n").status == 3);
        test::CliRun list = test::run_cli(i.dir, "admin list --json" + i.conf);
        CHECK(list.out.find("\"name\":\"alice\"") != std::string::npos);
        CHECK(list.out.find("scrypt") == std::string::npos);
        CHECK(list.out.find("\"role\":\"issue\"") != std::string::npos);
        CHECK(test::run_cli(i.dir, "admin remove alice" + i.conf).status == 0);
        CHECK(test::run_cli(i.dir, "admin remove alice" + i.conf).status == 1);
        CHECK(test::run_cli(i.dir, "admin list" + i.conf).out.empty());
    }

    TEST_CASE("admin remove revokes the unused passwords the account issued and says how many") {
        Instance i;
        REQUIRE(test::run_cli(i.dir, "admin add alice" + i.conf, "a-long-admin-password\n").status == 0);
        REQUIRE(test::run_cli(i.dir, "admin add bob" + i.conf, "a-long-admin-password\n").status == 0);
        std::string used, unused, bobs;
        {
            // As the admin page issues them: issued_by is the account.
            SystemClock clock;
            cli::Stores stores = cli::open_stores(cli::load_config(i.inst + "/scep-ra.conf"), clock);
            const store::ChallengePolicy policy;
            used = stores.challenges->issue(policy, "alice", "192.0.2.1").password;
            unused = stores.challenges->issue(policy, "alice", "192.0.2.1").password;
            bobs = stores.challenges->issue(policy, "bob", "192.0.2.2").password;
            REQUIRE(stores.challenges->consume(used, "TX-USED").result == store::ChallengeCheck::accepted);
        }
        test::CliRun removed = test::run_cli(i.dir, "admin remove alice" + i.conf);
        CHECK(removed.status == 0);
        CHECK(removed.out == "removed admin alice; revoked 1 unused one-time password(s) it had issued\n");
        SystemClock clock;
        cli::Stores stores = cli::open_stores(cli::load_config(i.inst + "/scep-ra.conf"), clock);
        CHECK(stores.challenges->consume(unused, "TX-AFTER").result == store::ChallengeCheck::revoked);
        CHECK(stores.challenges->consume(bobs, "TX-BOB").result == store::ChallengeCheck::accepted);
        test::CliRun list = test::run_cli(i.dir, "password list --json" + i.conf);
        CHECK(list.out.find("\"state\":\"revoked\"") != std::string::npos);
        CHECK(test::run_cli(i.dir, "admin remove bob" + i.conf).out.find("revoked 0 ") != std::string::npos);
    }

    TEST_CASE("admin add --role view; list shows each account's role") {
        Instance i;
        test::CliRun viewer =
            test::run_cli(i.dir, "admin add watcher --role view" + i.conf, "a-long-admin-password\n");
        CHECK(viewer.status == 0);
        CHECK(viewer.out.find("role view") != std::string::npos);
        CHECK(test::run_cli(i.dir, "admin add issuer" + i.conf, "a-long-admin-password\n").status == 0);
        CHECK(
            test::run_cli(i.dir, "admin add boss --role admin" + i.conf, "a-long-admin-password\n").status ==
            2);
        const std::string table = test::run_cli(i.dir, "admin list" + i.conf).out;
        CHECK(table.find("issuer\tissue\t") != std::string::npos);
        CHECK(table.find("watcher\tview\t") != std::string::npos);
        CHECK(table.find("boss") == std::string::npos);
        const std::string json = test::run_cli(i.dir, "admin list --json" + i.conf).out;
        CHECK(json.find("{\"name\":\"watcher\",\"role\":\"view\"") != std::string::npos);
    }

    TEST_CASE("reload applies a changed password mode to the running server, and refuses a broken file") {
        Instance i;
        const std::string conf_file = i.inst + "/scep-ra.conf";
        test::ServeProcess server(i.dir, conf_file);
        REQUIRE(std::filesystem::exists(i.inst + "/scep-ra.pid"));
        replace_line(conf_file, "EnforcePassword = 1", "EnforcePassword = 0");
        CHECK(test::run_cli(i.dir, "reload" + i.conf).status == 0);
        CHECK(server.logged("passwords not required"));
        replace_line(conf_file, "EnforcePassword = 0", "EnforcePassword = 7");
        test::CliRun broken = test::run_cli(i.dir, "reload" + i.conf);
        CHECK(broken.status == 1);
        CHECK(broken.err.find("EnforcePassword") != std::string::npos);
        const std::string pid = crypto::read_file(i.inst + "/scep-ra.pid");
        CHECK(std::system(("kill -TERM " + pid).c_str()) == 0);
        CHECK(server.logged("scep-ra stopped"));
        CHECK(test::run_cli(i.dir, "reload" + i.conf).status ==
              1);  // nothing running any more (the pid file is gone)
    }

    TEST_CASE(
        "reload refuses a pid file naming a process that is not a scep-ra server, and leaves it alone") {
        Instance i;
        // A server killed with SIGKILL leaves its pid file; the pid may since be another program's.
        const pid_t other = ::fork();
        REQUIRE(other >= 0);
        if (other == 0) {
            ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        crypto::write_file(i.inst + "/scep-ra.pid", std::to_string(other) + "\n", 0644, true);
        test::CliRun r = test::run_cli(i.dir, "reload" + i.conf);
        CHECK(r.status == 1);
        CHECK(r.err.find("no scep-ra server with pid") != std::string::npos);
        CHECK(::kill(other, 0) == 0);  // SIGHUP would have ended it
        int status = 0;
        CHECK(::waitpid(other, &status, WNOHANG) == 0);
        ::kill(other, SIGKILL);
        ::waitpid(other, &status, 0);

        for (const char* junk : {"123junk\n", "-5\n", "\n", "99999999999999999999\n"}) {
            CAPTURE(junk);
            crypto::write_file(i.inst + "/scep-ra.pid", junk, 0644, true);
            CHECK(test::run_cli(i.dir, "reload" + i.conf).status == 1);
        }
    }

    TEST_CASE("audit filters and prints JSON") {
        Instance i;
        // No server needed: rows are written by the store the server uses.
        {
            SystemClock clock;
            auto db = store::Database::open(i.inst + "/scep-ra.db", false);
            store::AuditLog log(*db, clock);
            log.record({.peer = "10.0.0.1",
                        .operation = "PKIOperation",
                        .message_type = "PKCSReq",
                        .transaction_id = "T1",
                        .subject = "CN=router-1",
                        .decision = "issued",
                        .serial = "AB"});
            log.record({.peer = "10.0.0.2",
                        .operation = "PKIOperation",
                        .message_type = "PKCSReq",
                        .transaction_id = "T2",
                        .subject = "CN=laptop",
                        .decision = "rejected",
                        .fail_info = "badRequest",
                        .detail = "the challenge password is not valid"});
        }
        test::CliRun all = test::run_cli(i.dir, "audit" + i.conf);
        CHECK(std::count(all.out.begin(), all.out.end(), '\n') == 2);
        test::CliRun rejected = test::run_cli(i.dir, "audit --outcome rejected --json" + i.conf);
        CHECK(rejected.out.find("\"transaction_id\":\"T2\"") != std::string::npos);
        CHECK(rejected.out.find("T1") == std::string::npos);
        CHECK(test::run_cli(i.dir, "audit --subject router --json" + i.conf).out.find("\"serial\":\"AB\"") !=
              std::string::npos);
        CHECK(test::run_cli(i.dir, "audit --transaction T2" + i.conf).out.find("laptop") !=
              std::string::npos);
        CHECK(test::run_cli(i.dir, "audit --since 2999-01-01" + i.conf).out.empty());
        CHECK(test::run_cli(i.dir, "audit --outcome maybe" + i.conf).status == 2);
    }
}

TEST_SUITE("cli.local_ca") {
    TEST_CASE("request approve/deny and revoke refuse what does not exist") {
        test::TempDir dir;
        const std::string inst = dir.file("ra");
        test::init_from_template(inst, "");
        const std::string conf = " --config " + inst + "/scep-ra.conf";
        test::CliRun list = test::run_cli(dir, "request list --pending --json" + conf);
        CHECK(list.status == 0);
        CHECK(list.out.empty());
        CHECK(test::run_cli(dir, "request approve 42" + conf).status == 3);
        CHECK(test::run_cli(dir, "request deny 42 --reason nope" + conf).status == 3);
        CHECK(test::run_cli(dir, "request deny 42" + conf).status == 2);  // --reason is required
        test::CliRun revoke = test::run_cli(dir, "revoke 0A0B0C --reason keyCompromise" + conf);
        CHECK(revoke.status == 3);
        CHECK(revoke.err.find("0A0B0C") != std::string::npos);
        CHECK(test::run_cli(dir, "revoke 0A0B0C --reason sometimes" + conf).status == 2);
    }

    TEST_CASE(
        "request list shows the requests the RA holds for approval; approve and deny decide each once") {
        test::TempDir dir;
        const std::string inst = dir.file("ra");
        test::init_from_template(inst, "");
        const std::string conf = " --config " + inst + "/scep-ra.conf";
        std::vector<std::int64_t> ids;
        {
            SystemClock clock;
            auto db = store::Database::open(inst + "/scep-ra.db", false);
            store::RequestStore requests(*db, clock);
            for (const char* txid : {"TX-HELD-1", "TX-HELD-2"}) {
                store::RequestRecord claim;
                claim.transaction_id = txid;
                claim.kind = "PKCSReq";
                claim.key_hash = Bytes(32, 1);
                claim.subject = "CN=held";
                claim.status = "pending";
                claim.backend = "local";
                claim.fail_text = std::string(store::awaiting_approval_note);
                ids.push_back(requests.insert(claim).value());
            }
        }
        test::CliRun list = test::run_cli(dir, "request list --json" + conf);
        CHECK(list.status == 0);
        CHECK(list.out.find("\"transaction_id\":\"TX-HELD-1\"") != std::string::npos);
        CHECK(list.out.find("\"transaction_id\":\"TX-HELD-2\"") != std::string::npos);
        CHECK(test::run_cli(dir, "request approve " + std::to_string(ids[0]) + conf).status == 0);
        CHECK(test::run_cli(dir, "request approve " + std::to_string(ids[0]) + conf).status ==
              3);  // decided already
        CHECK(test::run_cli(dir, "request deny " + std::to_string(ids[1]) + " --reason 'not ours'" + conf)
                  .status == 0);
        CHECK(test::run_cli(dir, "request approve " + std::to_string(ids[1]) + conf).status == 3);
        CHECK(test::run_cli(dir, "request list --json" + conf).out.empty());
        test::CliRun audit = test::run_cli(dir, "audit --json" + conf);
        CHECK(audit.out.find("denied by cli:") != std::string::npos);
        CHECK(audit.out.find("approved by cli:") != std::string::npos);
    }

    TEST_CASE("request list --unknown-outcome shows held submissions and request retry releases them") {
        test::TempDir dir;
        const std::string inst = dir.file("ra");
        test::init_from_template(inst, "");
        const std::string conf = " --config " + inst + "/scep-ra.conf";
        std::int64_t id = 0;
        {
            SystemClock clock;
            auto db = store::Database::open(inst + "/scep-ra.db", false);
            store::RequestStore requests(*db, clock);
            store::RequestRecord claim;
            claim.transaction_id = "TX-LOST";
            claim.kind = "PKCSReq";
            claim.key_hash = Bytes(32, 1);
            claim.subject = "CN=lost";
            claim.status = "pending";
            claim.backend = "local";
            id = requests.insert(claim).value();
            requests.hold_for_retry(id, std::string(store::outcome_unknown_note) + "timed out");
        }
        test::CliRun list = test::run_cli(dir, "request list --unknown-outcome --json" + conf);
        CHECK(list.status == 0);
        CHECK(list.out.find("\"transaction_id\":\"TX-LOST\"") != std::string::npos);
        CHECK(test::run_cli(dir, "request retry " + std::to_string(id) + conf).status == 0);
        CHECK(test::run_cli(dir, "request retry " + std::to_string(id) + conf).status ==
              3);  // released already
        CHECK(test::run_cli(dir, "request retry 4242" + conf).status == 3);
        CHECK(test::run_cli(dir, "request list --unknown-outcome --json" + conf).out.empty());
    }
}
