// SPDX-License-Identifier: Apache-2.0
// A remote CA's chain fetched again on reload: the real `scep-ra serve` in
// front of the fake EJBCA, reloaded with the real `scep-ra reload` (SIGHUP).
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "remote_ca/remote_instance.hpp"

using namespace scepra;
using namespace scepra::test;

namespace {

std::string issuing_ca_serial(const std::vector<crypto::X509Ptr>& ca_certs) {
    REQUIRE(ca_certs.size() == 4);  // RA signing, RA encryption, issuing CA, root
    return crypto::serial_hex(*ca_certs[2]);
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
