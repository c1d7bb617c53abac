// SPDX-License-Identifier: Apache-2.0
// `scep-ra init --backend adcs` and `scep-ra ra enroll` at AD CS, run as the
// operator would (the binary): the RA certificates enrolled through the REAL
// AD CS bridge in front of the fake CA RPC server, then `scep-ra serve`.
// The fake CA issues SCEPDevice at once, holds SCEPPending for an officer
// and denies any other template (its policy module).
#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <string>

#include "remote_ca/adcs_instance.hpp"
#include "remote_ca/remote_instance.hpp"
#include "support/loopback_port.hpp"
#include "unit/adcs/adcs_test_support.hpp"

using namespace scepra;
using namespace scepra::test;
namespace fs = std::filesystem;

namespace {

/// An instance made by `init --backend adcs`, its [adcs] section pointed at the bridge.
std::string adcs_instance(const TempDir& dir, const BridgeProcess& bridge, std::string* init_out) {
    return init_adcs_instance(dir, bridge, {{"timeout_seconds", "30"}}, init_out);
}

void set_templates(const std::string& conf, const std::string& signing, const std::string& encryption) {
    std::string text = crypto::read_file(conf);
    set_key(text, "ra_signing_template", signing);
    set_key(text, "ra_encryption_template", encryption);
    crypto::write_file(conf, text, 0640, true);
}

bool chains_to(const BridgeProcess& bridge, const std::string& cert_file) {
    auto cert = crypto::load_cert_file(cert_file);
    auto chain = crypto::load_certs_file(bridge.file("ca-chain.pem"));
    REQUIRE(chain.size() == 2);
    crypto::X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), chain[1].get());
    crypto::X509StackPtr untrusted(sk_X509_new_null());
    REQUIRE(sk_X509_push(untrusted.get(), chain[0].release()) == 1);
    crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), untrusted.get());
    return X509_verify_cert(ctx.get()) == 1;
}

}  // namespace

TEST_CASE(
    "adcs: init --backend adcs names NDES's templates; ra enroll gets the RA certificates through the "
    "bridge; "
    "serve serves them") {
    SKIP_WITHOUT_BRIDGE();
    BridgeProcess bridge;
    TempDir dir;
    std::string out;
    const std::string conf = adcs_instance(dir, bridge, &out);
    const std::string instance = dir.file("instance");
    CAPTURE(out);
    CHECK(contains(out, "scep-ra ra enroll --config " + conf));
    const std::string text = crypto::read_file(conf);
    CHECK(contains(text, "\nra_signing_template = EnrollmentAgentOffline\n"));
    CHECK(contains(text, "\nra_encryption_template = CEPEncryption\n"));
    CHECK(!fs::exists(instance + "/ra-signing.pem"));

    // NDES's templates are not on this bridge's allow-list: refused, in the bridge's words.
    CHECK(scep_ra(dir, "ra enroll --config " + conf, &out) == 1);
    CHECK(contains(out, "template EnrollmentAgentOffline"));
    CHECK(contains(out, "allow-list"));
    CHECK(!fs::exists(instance + "/ra-signing.pem"));
    CHECK(!fs::exists(instance + "/private/ra-signing.key"));

    set_templates(conf, "SCEPDevice", "SCEPDevice");
    REQUIRE(
        scep_ra(dir,
                "ra enroll --config " + conf +
                    " --ra-signing-subject 'CN=ra-sign,O=Test' --ra-encryption-subject 'CN=ra-enc,O=Test'",
                &out) == 0);
    CHECK(chains_to(bridge, instance + "/ra-signing.pem"));
    CHECK(chains_to(bridge, instance + "/ra-encryption.pem"));
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(crypto::load_cert_file(instance + "/ra-encryption.pem").get()),
                      crypto::load_key_file(instance + "/private/ra-encryption.key").get()) == 1);
    CHECK((fs::status(instance + "/private/ra-signing.key").permissions() & fs::perms::others_all) ==
          fs::perms::none);
    // Once there, they are not replaced by accident.
    const int submitted = bridge.new_submissions();
    CHECK(scep_ra(dir, "ra enroll --config " + conf, &out) == 3);
    CHECK(bridge.new_submissions() == submitted);

    CHECK(scep_ra(dir, "check-config --config " + conf, &out) == 0);
    CAPTURE(out);
    Server server(dir, conf);
    CAPTURE(server.log());
    const auto certs = server.ca_certs();
    REQUIRE(certs.size() == 4);
    CHECK(crypto::cert_der(*certs[0]) ==
          crypto::cert_der(*crypto::load_cert_file(instance + "/ra-signing.pem")));
    CHECK(crypto::cert_der(*certs[1]) ==
          crypto::cert_der(*crypto::load_cert_file(instance + "/ra-encryption.pem")));
    CHECK(crypto::cert_der(*certs[2]) ==
          crypto::cert_der(*crypto::load_certs_file(bridge.file("ca-chain.pem"))[0]));
}

TEST_CASE("adcs: ra enroll writes nothing when the CA holds an RA request for approval or denies one") {
    SKIP_WITHOUT_BRIDGE();
    BridgeProcess bridge;
    TempDir dir;
    std::string out;
    const std::string conf = adcs_instance(dir, bridge, &out);
    const std::string instance = dir.file("instance");
    auto nothing_written = [&] {
        for (const char* file :
             {"ra-signing.pem", "ra-encryption.pem", "private/ra-signing.key", "private/ra-encryption.key"}) {
            CHECK_MESSAGE(!fs::exists(instance + "/" + file), file);
        }
    };

    SUBCASE("pending: the template and request are named, and how to finish") {
        set_templates(conf, "SCEPPending", "SCEPDevice");
        CHECK(scep_ra(dir, "ra enroll --config " + conf, &out) == 1);
        CAPTURE(out);
        CHECK(contains(out, "template SCEPPending"));
        CHECK(contains(out, "CA manager's approval"));
        CHECK(contains(out, "Taken Under Submission"));
        const auto rows = bridge.state().at("rows");
        REQUIRE(rows.size() == 1);
        CHECK(contains(out, "deny AD CS request " + rows.begin().key()));
        nothing_written();
    }
    SUBCASE(
        "the encryption certificate denied after the signing one was issued: it is named for revocation") {
        set_templates(conf, "SCEPDevice", "SCEPNotOnCa");
        CHECK(scep_ra(dir, "ra enroll --config " + conf, &out) == 1);
        CAPTURE(out);
        CHECK(contains(out, "the CA did not issue the RA encryption certificate (template SCEPNotOnCa)"));
        CHECK(contains(out, "Denied by Policy Module"));
        CHECK(contains(out, "issued the RA signing certificate already"));
        CHECK(contains(out, "revoke it at the CA"));
        nothing_written();
    }
    SUBCASE("the bridge cannot be reached: said, nothing written") {
        std::string text = crypto::read_file(conf);
        set_key(text, "bridge_url", "https://localhost:" + std::to_string(closed_loopback_port()));
        crypto::write_file(conf, text, 0640, true);
        CHECK(scep_ra(dir, "ra enroll --config " + conf, &out) == 1);
        CAPTURE(out);
        CHECK(contains(out, "the AD CS bridge cannot be reached"));
        nothing_written();
    }
}
