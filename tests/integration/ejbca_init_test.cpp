// SPDX-License-Identifier: Apache-2.0
// `scep-ra init --backend ejbca|adcs` and `scep-ra ra enroll`, run as the
// operator would (the binary), against the fake EJBCA on loopback.
#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include <filesystem>

#include "crypto/encoding.hpp"
#include "integration/ejbca_test_support.hpp"
#include "integration/server_fixture.hpp"
#include "scep/degenerate.hpp"
#include "support/text.hpp"

using namespace scepra;
using namespace scepra::test;
namespace fs = std::filesystem;

namespace {

/// Whether the PEM certificate file chains to the fake EJBCA's root.
bool chains_to_ejbca(const FakeEjbca& fake, const std::string& cert_file) {
    auto cert = crypto::load_cert_file(cert_file);
    auto root = crypto::load_cert_file(fake.file("root-ca.pem"));
    auto issuing = crypto::load_cert_file(fake.file("issuing-ca.pem"));
    crypto::X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), root.get());
    crypto::X509StackPtr untrusted(sk_X509_new_null());
    sk_X509_push(untrusted.get(), issuing.release());  // the stack owns it now
    crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), untrusted.get());
    return X509_verify_cert(ctx.get()) == 1;
}

/// Sets "KEY = VALUE" on the line that starts with "KEY =" (init writes empty values as "KEY =").
void set_line(std::string& conf, const std::string& key, const std::string& value) {
    const auto pos = conf.find("\n" + key + " =");
    REQUIRE(pos != std::string::npos);
    const auto end = conf.find('\n', pos + 1);
    conf.replace(pos + 1, end - pos - 1, key + " = " + value);
}

}  // namespace

TEST_CASE(
    "ejbca: init --backend ejbca makes no local CA; ra enroll gets the RA certificates from EJBCA; serve "
    "serves them") {
    FakeEjbca fake;
    TempDir dir;
    const std::string instance = dir.path() + "/instance";
    const std::string conf = instance + "/scep-ra.conf";
    std::string out;
    REQUIRE(scep_ra(dir, "init --dir " + instance + " --backend ejbca", &out) == 0);
    CAPTURE(out);
    CHECK(contains(out, "scep-ra ra enroll --config " + conf));
    CHECK(!fs::exists(instance + "/ca.pem"));
    CHECK(!fs::exists(instance + "/private/ca.key"));
    CHECK(!fs::exists(instance + "/ra-signing.pem"));
    CHECK(fs::exists(instance + "/scep-ra.db"));
    std::string text = crypto::read_file(conf);
    CHECK(contains(text, "\nbackend = ejbca\n"));
    CHECK(contains(text, "\n[ejbca]\n"));
    CHECK(!contains(text, "\n[local_ca]\n"));

    // The RA profiles are not set yet: refused, naming the file, section and key.
    CHECK(scep_ra(dir, "ra enroll --config " + conf, &out) == 1);
    CHECK(contains(out, conf + ": [ejbca] ra_certificate_profile"));

    Settings filled = ejbca_settings(fake);
    filled["ra_certificate_profile"] = "SCEP_SERVER";
    filled["ra_end_entity_profile"] = "SERVER_EEP";
    for (const auto& [key, value] : filled) set_line(text, key, value);
    crypto::write_file(conf, text, 0640, true);

    REQUIRE(
        scep_ra(dir,
                "ra enroll --config " + conf +
                    " --ra-signing-subject 'CN=ra-sign,O=Test' --ra-encryption-subject 'CN=ra-enc,O=Test'",
                &out) == 0);
    CHECK(chains_to_ejbca(fake, instance + "/ra-signing.pem"));
    CHECK(chains_to_ejbca(fake, instance + "/ra-encryption.pem"));
    // Each asks for its role's key usage: clients choose the RA certificate to encrypt to by it.
    auto ra_signing = crypto::load_cert_file(instance + "/ra-signing.pem");
    auto ra_encryption = crypto::load_cert_file(instance + "/ra-encryption.pem");
    CHECK(X509_get_key_usage(ra_signing.get()) == KU_DIGITAL_SIGNATURE);
    CHECK(X509_get_key_usage(ra_encryption.get()) == KU_KEY_ENCIPHERMENT);
    CHECK((fs::status(instance + "/private/ra-signing.key").permissions() & fs::perms::others_all) ==
          fs::perms::none);
    const auto state = fake.state();
    CHECK(state["end_entities"]["ra-sign"]["certificate_profile_name"] == "SCEP_SERVER");
    CHECK(state["end_entities"]["ra-enc"]["end_entity_profile_name"] == "SERVER_EEP");
    CHECK(state["certificates"].size() == 2);
    // Once there, they are not replaced by accident.
    CHECK(scep_ra(dir, "ra enroll --config " + conf, &out) == 3);
    CHECK(fake.state()["certificates"].size() == 2);

    CHECK(scep_ra(dir, "check-config --config " + conf, &out) == 0);
    // The operator's commands for held requests need no local CA.
    CHECK(scep_ra(dir, "request list --unknown-outcome --config " + conf, &out) == 0);
    CHECK(scep_ra(dir, "request retry 1 --config " + conf, &out) == 3);
    const ServeResult served = serve_instance(conf);
    CAPTURE(served.log);
    CHECK(contains(served.log, "CA backend ejbca ready"));
    REQUIRE(served.answers);
    const auto certs = scep::degenerate_cert_ders(as_bytes(served.ca_certs));
    auto served_cert = [&](const std::string& file) {
        const Bytes der = crypto::cert_der(*crypto::load_cert_file(file));
        return std::find(certs.begin(), certs.end(), der) != certs.end();
    };
    CHECK(served_cert(instance + "/ra-signing.pem"));
    CHECK(served_cert(instance + "/ra-encryption.pem"));
    CHECK(served_cert(fake.file("issuing-ca.pem")));
}

TEST_CASE(
    "ejbca: init --backend takes the RA certificates from files and refuses a key that is not the "
    "certificate's") {
    TempDir dir;
    auto sign_key = pooled_client_key(0);
    auto enc_key = pooled_client_key(1);
    auto sign_cert = make_cert("CN=ndes-ra,O=Test", *sign_key, nullptr, nullptr, {});
    auto enc_cert = make_cert("CN=ndes-ra-enc,O=Test", *enc_key, nullptr, nullptr, {});
    crypto::save_cert_file(dir.file("s.pem"), *sign_cert, true);
    crypto::save_key_file(dir.file("s.key"), *sign_key, true);
    crypto::save_cert_file(dir.file("e.pem"), *enc_cert, true);
    crypto::save_key_file(dir.file("e.key"), *enc_key, true);
    const std::string files = " --ra-signing-cert " + dir.file("s.pem") + " --ra-signing-key " +
                              dir.file("s.key") + " --ra-encryption-cert " + dir.file("e.pem") +
                              " --ra-encryption-key ";
    std::string out;

    SUBCASE("matching files are copied into the instance") {
        const std::string instance = dir.path() + "/adcs";
        REQUIRE(scep_ra(dir, "init --dir " + instance + " --backend adcs" + files + dir.file("e.key"),
                        &out) == 0);
        CAPTURE(out);
        CHECK(crypto::cert_der(*crypto::load_cert_file(instance + "/ra-signing.pem")) ==
              crypto::cert_der(*sign_cert));
        CHECK(crypto::cert_der(*crypto::load_cert_file(instance + "/ra-encryption.pem")) ==
              crypto::cert_der(*enc_cert));
        CHECK(EVP_PKEY_eq(crypto::load_key_file(instance + "/private/ra-encryption.key").get(),
                          enc_key.get()) == 1);
        CHECK(contains(crypto::read_file(instance + "/scep-ra.conf"), "\nbackend = adcs\n"));
        CHECK(!fs::exists(instance + "/ca.pem"));
    }
    SUBCASE("a key that is not the certificate's: refused, nothing written") {
        const std::string instance = dir.path() + "/bad";
        CHECK(scep_ra(dir, "init --dir " + instance + " --backend ejbca" + files + dir.file("s.key"), &out) ==
              2);
        CHECK(contains(out, "is not the key of " + dir.file("e.pem")));
        CHECK(!fs::exists(instance + "/scep-ra.conf"));
    }
    SUBCASE("some of the four files only, or an unknown backend: refused") {
        CHECK(
            scep_ra(dir,
                    "init --dir " + dir.path() + "/x --backend ejbca --ra-signing-cert " + dir.file("s.pem"),
                    &out) == 2);
        CHECK(contains(out, "give all four"));
        CHECK(scep_ra(dir, "init --dir " + dir.path() + "/z --backend nosuch", &out) == 2);
        CHECK(!fs::exists(dir.path() + "/x/scep-ra.conf"));
    }
}
