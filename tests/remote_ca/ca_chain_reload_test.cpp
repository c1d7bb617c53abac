// SPDX-License-Identifier: Apache-2.0
// A remote CA's chain fetched again on reload: the real `scep-ra serve` in
// front of the fake EJBCA, reloaded with the real `scep-ra reload` (SIGHUP).
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "crypto/digest.hpp"
#include "remote_ca/remote_instance.hpp"

using namespace scepra;
using namespace scepra::test;

namespace {

std::string issuing_ca_serial(const std::vector<crypto::X509Ptr>& ca_certs) {
    REQUIRE(ca_certs.size() == 4);  // RA signing, RA encryption, issuing CA, root
    return crypto::serial_hex(*ca_certs[2]);
}

/// The SHA-256 thumbprint the admin page (JSON) shows, as alice on the SCEP listener.
std::string admin_page_thumbprint(const Server& server, const std::string& password) {
    httplib::Client client("127.0.0.1", server.port());
    client.set_basic_auth("alice", password.c_str());
    auto res = client.Get("/certsrv/mscep_admin/?format=json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    std::smatch m;
    REQUIRE(std::regex_search(res->body, m, std::regex("\"ca_thumbprint_sha256\":\"([0-9A-F]{64})\"")));
    return m[1].str();
}

std::string sha256_of_file(const std::string& file) {
    return to_hex(crypto::sha256(crypto::cert_der(*crypto::load_cert_file(file))));
}

}  // namespace

TEST_CASE("reload: a remote CA's new chain is fetched and served; a failed fetch keeps the chain in use") {
    FakeEjbca fake;
    TempDir dir;
    const std::string conf = ejbca_instance(dir, fake);
    Server server(dir, conf);
    const std::string original = serial_of_file(fake.file("issuing-ca.pem"));
    CHECK(issuing_ca_serial(server.ca_certs()) == original);

    // EJBCA renews its issuing CA certificate (same subject and key, new serial).
    fake.control({{"ca_reissued", true}});
    std::string out;
    REQUIRE(scep_ra(dir, "reload --config " + conf, &out) == 0);
    INFO(server.log());
    REQUIRE(server.logged("CA chain refreshed from the ejbca backend"));
    const std::string renewed = serial_of_file(fake.file("reissued-ca.pem"));
    REQUIRE(renewed != original);
    CHECK(issuing_ca_serial(server.ca_certs()) == renewed);
    // The copy serve starts from when EJBCA is down is the new chain too.
    const std::string cache = dir.file("instance/scep-ra.db.ca-chain.pem");
    REQUIRE(std::filesystem::exists(cache));
    CHECK(crypto::serial_hex(*crypto::certs_from_pem(crypto::read_file(cache)).front()) == renewed);

    // EJBCA's CA API stops answering: the reload says so and the chain in use stays.
    fake.control({{"ca_api_disabled", true}});
    REQUIRE(scep_ra(dir, "reload --config " + conf, &out) == 0);
    CHECK(server.logged("CA chain not refreshed, the chain in use is kept"));
    CHECK(issuing_ca_serial(server.ca_certs()) == renewed);
    CHECK(crypto::serial_hex(*crypto::certs_from_pem(crypto::read_file(cache)).front()) == renewed);
}

TEST_CASE("reload: the admin page shows the thumbprint of the CA certificate the reload fetched") {
    FakeEjbca fake;
    TempDir dir;
    const std::string conf = ejbca_instance(dir, fake);
    std::string text = crypto::read_file(conf);
    set_key(text, "on_scep_listener", "1");
    set_key(text, "allow_plaintext", "1");  // the SCEP listener of the test is plain HTTP
    crypto::write_file(conf, text, 0640, true);
    const std::string password = "alice-long-password";
    crypto::write_file(dir.file("alice.pw"), password + "\n", 0600, true);
    REQUIRE(scep_ra(dir, "admin add alice --config " + conf + " --password-file " + dir.file("alice.pw")) ==
            0);
    Server server(dir, conf);
    CHECK(admin_page_thumbprint(server, password) == sha256_of_file(fake.file("issuing-ca.pem")));

    fake.control({{"ca_reissued", true}});
    std::string out;
    REQUIRE(scep_ra(dir, "reload --config " + conf, &out) == 0);
    INFO(server.log());
    REQUIRE(server.logged("CA chain refreshed from the ejbca backend"));
    const std::string renewed = sha256_of_file(fake.file("reissued-ca.pem"));
    REQUIRE(renewed != sha256_of_file(fake.file("issuing-ca.pem")));
    CHECK(admin_page_thumbprint(server, password) == renewed);
}
