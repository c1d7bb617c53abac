// SPDX-License-Identifier: Apache-2.0
// `scep-ra import ndes` run as a real process on a real instance, then the real
// server serving what it imported; plus the INI rewriter and the PFX reader.
#include <doctest/doctest.h>
#include <httplib.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>

#include "cli/config_rewriter.hpp"
#include "cli/pfx_import.hpp"
#include "crypto/encoding.hpp"
#include "scep/client.hpp"
#include "scep/degenerate.hpp"
#include "support/regedit_text.hpp"
#include "support/scep_ra_process.hpp"
#include "support/test_pki.hpp"
#include "support/text.hpp"

using namespace scepra;

using test::contains;

namespace {

const std::string mscep = "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP";

std::string ndes_export(int password_max = 20) {
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", password_max);
    return "Windows Registry Editor Version 5.00\n\n" + mscep +
           "]\n\"SignatureTemplate\"=\"NDESDevice\"\n\"EncryptionTemplate\"=\"IPSECIntermediateOffline\"\n"
           "\"GeneralPurposeTemplate\"=\"NDESDevice\"\n\n" +
           mscep + "\\CAInfo]\n\"Configuration\"=\"ca01.example.com\\\\Example Issuing CA\"\n\n" + mscep +
           "\\EnforcePassword]\n\"EnforcePassword\"=dword:00000001\n\n" + mscep +
           "\\PasswordMax]\n\"PasswordMax\"=dword:" + hex + "\n\n" + mscep +
           "\\PasswordLength]\n\"PasswordLength\"=dword:00000002\n\n" + mscep +
           "\\PasswordVDir]\n\"PasswordVDir\"=\"CertSrv/mscep_admin\"\n";
}

/// An instance made by `scep-ra init` (a copy of its template), and the files an NDES server's administrator
/// exports.
struct Migration {
    test::TempDir dir;
    std::string inst = dir.file("ra");
    std::string conf = inst + "/scep-ra.conf";
    crypto::X509Ptr ca;
    crypto::EvpPkeyPtr ca_key;

    Migration() {
        test::init_from_template(inst, "");
        ca = crypto::load_cert_file(inst + "/ca.pem");
        ca_key = crypto::load_key_file(inst + "/private/ca.key");
        crypto::write_file(dir.file("MSCEP.reg"), test::regedit_utf16le(ndes_export()), 0644, true);
    }

    /// An RA certificate of NDES's kind, issued by the instance's CA (the CA NDES used stays).
    std::pair<crypto::EvpPkeyPtr, crypto::X509Ptr> ra_cert(
        cli::RaRole role, int days = 400, const std::string& eku = "1.3.6.1.4.1.311.20.2.1") {
        auto key = test::make_key();
        std::vector<test::Ext> exts{
            {NID_basic_constraints, "critical,CA:FALSE"},
            {NID_key_usage,
             role == cli::RaRole::signing ? "critical,digitalSignature" : "critical,keyEncipherment"}};
        if (!eku.empty()) exts.push_back({NID_ext_key_usage, eku});
        static long serial = 1000;
        auto cert = test::make_cert(role == cli::RaRole::signing ? "CN=NDES01-MSCEP-RA,O=Example"
                                                                 : "CN=NDES01-MSCEP-RA-ENC,O=Example",
                                    *key, ca.get(), ca_key.get(), exts, days, ++serial);
        return {std::move(key), std::move(cert)};
    }

    /// A PFX written by the openssl command: legacy = RC2-40-CBC + 3DES + SHA-1 MAC, as Windows
    /// exports; otherwise OpenSSL 3's AES-256 + PBKDF2.
    std::string pfx(const std::string& name, EVP_PKEY& key, const X509& cert, const std::string& password,
                    bool legacy) {
        const std::string key_file = dir.file(name + ".key"), cert_file = dir.file(name + ".pem");
        crypto::write_file(key_file, crypto::key_pem(key), 0600, true);
        crypto::write_file(cert_file, crypto::cert_pem(cert), 0644, true);
        const std::string out = dir.file(name + ".pfx");
        const std::string cmd = "openssl pkcs12 -export " + std::string(legacy ? "-legacy " : "") +
                                "-inkey " + key_file + " -in " + cert_file + " -certfile " + inst +
                                "/ca.pem -passout pass:" + password + " -out " + out;
        REQUIRE(std::system(cmd.c_str()) == 0);
        return out;
    }

    test::CliRun import(const std::string& options, const std::string& input = "") {
        return test::run_cli(
            dir, "import ndes --config " + conf + " --registry " + dir.file("MSCEP.reg") + " " + options,
            input);
    }

    /// Every file of the instance, to prove that nothing changed.
    std::map<std::string, std::string> snapshot() const {
        std::map<std::string, std::string> files;
        for (const auto& e : std::filesystem::recursive_directory_iterator(inst)) {
            if (e.is_regular_file() && e.path().filename().string().find("scep-ra.db") == std::string::npos) {
                files[e.path().string()] = crypto::read_file(e.path());
            }
        }
        return files;
    }
};

/// A PFX whose certificate is not the one of its key (Windows never writes one; an attacker can).
std::string mismatched_pfx_der(EVP_PKEY& key, X509& other_cert, const char* password) {
    STACK_OF(PKCS12_SAFEBAG)* bags = nullptr;
    REQUIRE(PKCS12_add_cert(&bags, &other_cert) != nullptr);
    REQUIRE(PKCS12_add_key(&bags, &key, 0, PKCS12_DEFAULT_ITER, NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
                           password) != nullptr);
    STACK_OF(PKCS7)* safes = nullptr;
    REQUIRE(PKCS12_add_safe(&safes, bags, -1, 0, password) == 1);
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    PKCS12* p12 = PKCS12_add_safes(safes, 0);
    sk_PKCS7_pop_free(safes, PKCS7_free);
    REQUIRE(p12 != nullptr);
    REQUIRE(PKCS12_set_mac(p12, password, -1, nullptr, 0, PKCS12_DEFAULT_ITER, nullptr) == 1);
    unsigned char* der = nullptr;
    const int len = i2d_PKCS12(p12, &der);
    PKCS12_free(p12);
    REQUIRE(len > 0);
    std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
    return out;
}

}  // namespace

TEST_SUITE("import ndes") {
    TEST_CASE("import moves NDES's settings and RA certificates; the server then serves and uses them") {
        Migration m;
        auto [sign_key, sign_cert] = m.ra_cert(cli::RaRole::signing);
        auto [enc_key, enc_cert] = m.ra_cert(cli::RaRole::encryption);
        const std::string sign_pfx = m.pfx("sign", *sign_key, *sign_cert, "Signing-Pass1", true);
        const std::string enc_pfx = m.pfx("enc", *enc_key, *enc_cert, "Encryption-Pass2", false);
        std::filesystem::permissions(m.conf, std::filesystem::perms(0600),
                                     std::filesystem::perm_options::replace);
        const std::string old_conf = crypto::read_file(m.conf);
        const std::string old_sign_cert = crypto::read_file(m.inst + "/ra-signing.pem");
        const std::string old_enc_key = crypto::read_file(m.inst + "/private/ra-encryption.key");

        test::CliRun r = m.import("--ra-signing-pfx " + sign_pfx + " --ra-encryption-pfx " + enc_pfx,
                                  "Signing-Pass1\nEncryption-Pass2\n");
        INFO(r.out, r.err);
        REQUIRE(r.status == 0);
        CHECK(contains(r.out, "set [password] PasswordMax = 20 (MSCEP.reg line 15)\n"));
        CHECK(contains(r.out, "set [templates] SignatureTemplate = NDESDevice (MSCEP.reg line 4)\n"));
        CHECK(contains(r.out, "not set: [password] PasswordLength = 2"));
        CHECK(contains(r.out, "not mapped: MSCEP\\CAInfo\\Configuration (line 9)"));
        CHECK(contains(r.out, "set RA signing certificate O=Example,CN=NDES01-MSCEP-RA"));
        CHECK_FALSE(contains(r.out, "warning"));

        // The configuration: only the mapped keys changed, comments kept, mode kept, old one kept.
        const std::string conf = crypto::read_file(m.conf);
        CHECK(contains(conf, "\nPasswordMax = 20\n"));
        CHECK(contains(conf, "\nPasswordLength = 8\n"));
        CHECK(contains(conf, "\nSignatureTemplate = NDESDevice\n"));
        CHECK(contains(conf, "# The NDES settings, under their registry names.\n"));
        CHECK(conf.size() ==
              old_conf.size() + 1 + 2 * (sizeof "NDESDevice" - sizeof "IPSECIntermediateOffline"));
        CHECK(test::file_mode(m.conf) == 0600);
        CHECK(crypto::read_file(m.conf + ".bak") == old_conf);
        CHECK_FALSE(std::filesystem::exists(m.conf + ".import"));

        // The RA files: NDES's, keys 0600 in the 0700 private directory, the old ones as .bak.
        CHECK(crypto::cert_der(*crypto::load_cert_file(m.inst + "/ra-signing.pem")) ==
              crypto::cert_der(*sign_cert));
        CHECK(crypto::cert_der(*crypto::load_cert_file(m.inst + "/ra-encryption.pem")) ==
              crypto::cert_der(*enc_cert));
        CHECK(EVP_PKEY_eq(crypto::load_key_file(m.inst + "/private/ra-signing.key").get(), sign_key.get()) ==
              1);
        CHECK(test::file_mode(m.inst + "/private") == 0700);
        for (const char* key : {"/private/ra-signing.key", "/private/ra-encryption.key",
                                "/private/ra-signing.key.bak", "/private/ra-encryption.key.bak"}) {
            CAPTURE(key);
            CHECK(test::file_mode(m.inst + key) == 0600);
        }
        CHECK(test::file_mode(m.inst + "/ra-signing.pem.bak") == 0644);
        CHECK(crypto::read_file(m.inst + "/ra-signing.pem.bak") == old_sign_cert);
        CHECK(crypto::read_file(m.inst + "/private/ra-encryption.key.bak") == old_enc_key);

        // The real server: GetCACert returns NDES's RA certificates, and a device that cached
        // them (it encrypts to NDES's encryption certificate) enrols.
        const std::string challenge =
            test::run_cli(m.dir, "password issue --config " + m.conf).out.substr(0, 16);
        REQUIRE(challenge.size() == 16);
        test::ServeProcess server(m.dir, m.conf);
        httplib::Client client("127.0.0.1", server.port());
        auto cacert = client.Get("/certsrv/mscep/mscep.dll?operation=GetCACert&message=ndes");
        REQUIRE(cacert);
        REQUIRE(cacert->status == 200);
        auto served = scep::degenerate_cert_ders(as_bytes(cacert->body));
        CHECK(std::find(served.begin(), served.end(), crypto::cert_der(*sign_cert)) != served.end());
        CHECK(std::find(served.begin(), served.end(), crypto::cert_der(*enc_cert)) != served.end());

        auto device_key = test::make_key();
        auto device_cert = test::make_cert("CN=router1,O=Example", *device_key, nullptr, nullptr, {});
        auto csr = test::make_csr(*device_key, "CN=router1,O=Example", challenge);
        const Bytes request = scep::build_pki_request(
            {scep::MessageType::pkcs_req, "NDES-MIGRATED-1", {}}, crypto::csr_der(*csr), *enc_cert,
            {"AES-256-CBC", false}, {*device_cert, *device_key, "SHA256"}, std::chrono::system_clock::now());
        auto reply = client.Post("/certsrv/mscep/mscep.dll?operation=PKIOperation",
                                 std::string(request.begin(), request.end()), "application/x-pki-message");
        REQUIRE(reply);
        REQUIRE(reply->status == 200);
        auto view = scep::read_cert_rep(as_bytes(reply->body), *sign_cert, {*device_cert, *device_key});
        CHECK(view.signature_valid);
        CHECK(view.signed_by_expected);
        REQUIRE(view.status == scep::PkiStatus::success);
        REQUIRE_FALSE(view.certs.empty());
        CHECK(crypto::name_string(*X509_get_subject_name(view.certs.front().get())) ==
              "O=Example,CN=router1");
    }

    TEST_CASE("a second import keeps the first backup, so the files from before any import survive") {
        Migration m;
        const std::string original = crypto::read_file(m.inst + "/ra-signing.pem");
        for (int round = 0; round < 2; ++round) {
            auto [key, cert] = m.ra_cert(cli::RaRole::signing);
            const std::string pfx = m.pfx("sign" + std::to_string(round), *key, *cert, "pw", true);
            REQUIRE(m.import("--ra-signing-pfx " + pfx, "pw\n").status == 0);
        }
        CHECK(crypto::read_file(m.inst + "/ra-signing.pem.bak") == original);
    }

    TEST_CASE("a wrong PFX password gets a clear error and nothing is written") {
        Migration m;
        auto [key, cert] = m.ra_cert(cli::RaRole::signing);
        const std::string pfx = m.pfx("sign", *key, *cert, "right", true);
        const auto before = m.snapshot();
        test::CliRun r = m.import("--ra-signing-pfx " + pfx, "wrong\n");
        CHECK(r.status == 1);
        CHECK(contains(r.err, "sign.pfx: wrong PFX password"));
        CHECK(contains(r.err, "nothing written"));
        CHECK(m.snapshot() == before);
        SUBCASE("no password at all") {
            test::CliRun none = m.import("--ra-signing-pfx " + pfx, "");
            CHECK(none.status == 1);
            CHECK(contains(none.err, "no password of"));
            CHECK(m.snapshot() == before);
        }
    }

    TEST_CASE("RA certificates that cannot serve are refused with exit 3 and nothing is written") {
        Migration m;
        const auto before = m.snapshot();
        SUBCASE("a certificate that is not the key's") {
            auto [key, cert] = m.ra_cert(cli::RaRole::signing);
            auto [other_key, other_cert] = m.ra_cert(cli::RaRole::signing);
            crypto::write_file(m.dir.file("mix.pfx"), mismatched_pfx_der(*key, *other_cert, "pw"), 0600,
                               true);
            test::CliRun r = m.import("--ra-signing-pfx " + m.dir.file("mix.pfx"), "pw\n");
            CHECK(r.status == 3);
            CHECK(contains(r.err,
                           "refused: RA signing certificate O=Example,CN=NDES01-MSCEP-RA: the private key "
                           "does not match the certificate"));
        }
        SUBCASE("an expired certificate") {
            auto [key, cert] = m.ra_cert(cli::RaRole::encryption, -1);
            test::CliRun r = m.import("--ra-encryption-pfx " + m.pfx("enc", *key, *cert, "pw", true), "pw\n");
            CHECK(r.status == 3);
            CHECK(contains(r.err, ": expired on "));
        }
        SUBCASE("a certificate from another CA") {
            const auto& other = test::shared_test_pki();
            test::CliRun r = m.import(
                "--ra-signing-pfx " + m.pfx("sign", *other.ra_sign_key, *other.ra_sign_cert, "pw", true),
                "pw\n");
            CHECK(r.status == 3);
            CHECK(contains(r.err, "does not chain to the configured CA"));
        }
        SUBCASE("a signing certificate without digitalSignature") {
            auto [key, cert] = m.ra_cert(cli::RaRole::encryption);
            test::CliRun r = m.import("--ra-signing-pfx " + m.pfx("sign", *key, *cert, "pw", false), "pw\n");
            CHECK(r.status == 3);
            CHECK(contains(r.err, "lacks digitalSignature"));
        }
        CHECK(m.snapshot() == before);
    }

    TEST_CASE("an RA certificate expiring soon or without NDES's EKU is imported with a warning") {
        Migration m;
        auto [key, cert] = m.ra_cert(cli::RaRole::signing, 10, "clientAuth");
        test::CliRun r = m.import("--ra-signing-pfx " + m.pfx("sign", *key, *cert, "pw", true), "pw\n");
        CHECK(r.status == 0);
        CHECK(contains(r.out, "warning: RA signing certificate O=Example,CN=NDES01-MSCEP-RA: expires on "));
        CHECK(contains(r.out, "within 30 days"));
        CHECK(contains(r.out, "no Certificate Request Agent EKU (1.3.6.1.4.1.311.20.2.1)"));
        CHECK(crypto::cert_der(*crypto::load_cert_file(m.inst + "/ra-signing.pem")) ==
              crypto::cert_der(*cert));
    }

    TEST_CASE("--dry-run prints what it would set and writes nothing") {
        Migration m;
        auto [key, cert] = m.ra_cert(cli::RaRole::signing);
        const std::string pfx = m.pfx("sign", *key, *cert, "pw", true);
        const auto before = m.snapshot();
        test::CliRun r = m.import("--dry-run --ra-signing-pfx " + pfx, "pw\n");
        CHECK(r.status == 0);
        CHECK(contains(r.out, "set [password] PasswordMax = 20"));
        CHECK(contains(r.out, "set RA signing certificate"));
        CHECK(contains(r.out, "dry run: nothing written"));
        CHECK(m.snapshot() == before);
    }

    TEST_CASE("a malformed or oversized export is reported by line and nothing is written") {
        Migration m;
        const auto before = m.snapshot();
        SUBCASE("a dword with 9 hex digits") {
            std::string text = ndes_export();
            text.replace(text.find("dword:00000014"), 14, "dword:000000014");
            crypto::write_file(m.dir.file("MSCEP.reg"), test::regedit_utf16le(text), 0644, true);
            test::CliRun r = m.import("");
            CHECK(r.status == 1);
            CHECK(contains(r.err, "MSCEP.reg line 15: a dword needs 1 to 8 hex digits"));
        }
        SUBCASE("larger than 1 MiB") {
            crypto::write_file(m.dir.file("MSCEP.reg"), std::string((1 << 20) + 1, 'x'), 0644, true);
            test::CliRun r = m.import("");
            CHECK(r.status == 1);
            CHECK(contains(r.err, "larger than 1048576 bytes"));
        }
        SUBCASE("a template name the configuration cannot hold is not set, the rest is") {
            std::string text = ndes_export();
            text.replace(text.find("\"NDESDevice\""), 12, "\"NDES#Device\"");
            crypto::write_file(m.dir.file("MSCEP.reg"), test::regedit_utf16le(text), 0644, true);
            test::CliRun r = m.import("--dry-run");
            CHECK(r.status == 0);
            CHECK(contains(r.out,
                           "not set: [templates] SignatureTemplate from MSCEP\\SignatureTemplate (line 4)"));
        }
        CHECK(m.snapshot() == before);
    }

    TEST_CASE("import usage errors exit 2") {
        test::TempDir dir;
        CHECK(test::run_cli(dir, "import").status == 2);
        CHECK(test::run_cli(dir, "import ndes --config x.conf").status == 2);
        CHECK(test::run_cli(dir, "import ndes --config x.conf --registry r.reg --ra-signing-pfx").status ==
              2);
        CHECK(test::run_cli(dir, "import nps").status == 2);
        test::CliRun help = test::run_cli(dir, "import ndes --help");
        CHECK(help.status == 0);
        CHECK(contains(help.out, "--ra-encryption-pfx"));
    }

    TEST_CASE("a Windows PFX is opened without loading the legacy provider into the process") {
        const auto& pki = test::shared_test_pki();
        test::TempDir dir;
        crypto::write_file(dir.file("k.pem"), crypto::key_pem(*pki.ra_sign_key), 0600, true);
        crypto::write_file(dir.file("c.pem"), crypto::cert_pem(*pki.ra_sign_cert), 0644, true);
        const std::string cmd = "openssl pkcs12 -export -legacy -inkey " + dir.file("k.pem") + " -in " +
                                dir.file("c.pem") + " -passout pass:pw -out " + dir.file("w.pfx");
        REQUIRE(std::system(cmd.c_str()) == 0);
        const std::string der = crypto::read_file(dir.file("w.pfx"));
        CHECK(OSSL_PROVIDER_available(nullptr, "legacy") == 0);
        auto pfx = cli::read_pfx(as_bytes(der), "pw");
        CHECK(OSSL_PROVIDER_available(nullptr, "legacy") == 0);
        CHECK(EVP_PKEY_eq(pfx.key.get(), pki.ra_sign_key.get()) == 1);
        CHECK(crypto::cert_der(*pfx.cert) == crypto::cert_der(*pki.ra_sign_cert));
        CHECK_THROWS_AS(cli::read_pfx(as_bytes(der), "pW"), cli::PfxError);
        // A file that asks for an unbounded key derivation is refused before it runs.
        std::unique_ptr<PKCS12, crypto::CDeleter<&PKCS12_free>> costly(
            PKCS12_create("pw", nullptr, pki.ra_sign_key.get(), pki.ra_sign_cert.get(), nullptr, 0, 0, 1,
                          static_cast<int>(cli::max_pfx_iterations) + 1, 0));
        REQUIRE(costly != nullptr);
        unsigned char* costly_der = nullptr;
        const int costly_len = i2d_PKCS12(costly.get(), &costly_der);
        REQUIRE(costly_len > 0);
        const std::string costly_bytes(reinterpret_cast<char*>(costly_der), static_cast<size_t>(costly_len));
        OPENSSL_free(costly_der);
        CHECK_THROWS_WITH_AS(cli::read_pfx(as_bytes(costly_bytes), "pw"),
                             "the PFX asks for more than 1000000 MAC iterations; not an export from Windows",
                             cli::PfxError);
        CHECK_THROWS_AS(cli::read_pfx(as_bytes(der.substr(0, der.size() / 2)), "pw"), cli::PfxError);
        CHECK_THROWS_AS(cli::read_pfx(as_bytes(std::string("\x30\x03\x02\x01\x03", 5)), "pw"), cli::PfxError);
    }
}

TEST_SUITE("config rewriter") {
    const std::string conf =
        "# top comment\n[server]\nlisten = 127.0.0.1:8080\n\n[password]\n"
        "# PasswordMax = 3 (a comment, not a setting)\n  PasswordMax=5\nhmac_key = k\n\n"
        "[admin]\nlisten =\n";

    TEST_CASE("a key's line is replaced in its own section only, everything else kept") {
        const std::string out = cli::set_ini_value(conf, "password", "PasswordMax", "20");
        CHECK(out ==
              "# top comment\n[server]\nlisten = 127.0.0.1:8080\n\n[password]\n"
              "# PasswordMax = 3 (a comment, not a setting)\n  PasswordMax = 20\nhmac_key = k\n\n"
              "[admin]\nlisten =\n");
        CHECK(cli::set_ini_value(conf, "admin", "listen", "127.0.0.1:8443")
                  .find("[server]\nlisten = 127.0.0.1:8080\n") != std::string::npos);
    }

    TEST_CASE("a missing key is added after its section's last setting; a missing section at the end") {
        CHECK(cli::set_ini_value(conf, "password", "PasswordLength", "16")
                  .find("hmac_key = k\nPasswordLength = 16\n\n[admin]") != std::string::npos);
        const std::string added = cli::set_ini_value(conf, "templates", "SignatureTemplate", "NDESDevice");
        CHECK(added == conf + "\n[templates]\nSignatureTemplate = NDESDevice\n");
        CHECK(cli::set_ini_value("[a]\r\nx = 1\r\n", "a", "y", "2") == "[a]\r\nx = 1\r\ny = 2\r\n");
        CHECK(cli::set_ini_value("[a]\r\nx = 1\r\n", "a", "x", "3") == "[a]\r\nx = 3\r\n");
    }

    TEST_CASE("values the INI format cannot hold are refused") {
        CHECK_THROWS_AS(cli::set_ini_value(conf, "templates", "SignatureTemplate", "a\nb"),
                        std::invalid_argument);
        CHECK_THROWS_AS(cli::set_ini_value(conf, "templates", "SignatureTemplate", "a#b"),
                        std::invalid_argument);
        CHECK_THROWS_AS(cli::set_ini_value(conf, "templates", "Sig=nature", "a"), std::invalid_argument);
    }
}

TEST_SUITE("import ndes") {
    TEST_CASE("a chain to another CA is refused with the local CA and only warned about with a remote one") {
        const auto& pki = test::shared_test_pki();
        auto other_key = test::make_key();
        auto other_ca = test::make_cert("CN=Other CA", *other_key, nullptr, nullptr,
                                        {{NID_basic_constraints, "critical,CA:TRUE"}});
        cli::PfxContents ra{crypto::up_ref(*pki.ra_sign_key), crypto::up_ref(*pki.ra_sign_cert), {}};
        cli::CaAnchors anchors;
        anchors.trusted = {other_ca.get()};
        auto local = cli::check_ra_certificate(ra, cli::RaRole::signing, anchors, std::time(nullptr));
        REQUIRE(local.refusals.size() == 1);
        CHECK(contains(local.refusals[0], "does not chain to the configured CA"));
        anchors.local_backend = false;
        auto remote = cli::check_ra_certificate(ra, cli::RaRole::signing, anchors, std::time(nullptr));
        CHECK(remote.refusals.empty());
        CHECK(std::any_of(remote.warnings.begin(), remote.warnings.end(),
                          [](const auto& w) { return contains(w, "the chain comes from the CA backend"); }));
        anchors.trusted = {pki.ca_cert.get()};
        CHECK(cli::check_ra_certificate(ra, cli::RaRole::signing, anchors, std::time(nullptr))
                  .refusals.empty());
    }
}
