// SPDX-License-Identifier: Apache-2.0
// CA chain, revocation, revocation status and CRL through the fake EJBCA.
#include <doctest/doctest.h>

#include <fstream>

#include "ejbca/ejbca_backend.hpp"
#include "ejbca_test_support.hpp"
#include "http/base64.hpp"
#include "support/fake_ejbca/fake_ejbca_process.hpp"
#include "support/loopback_port.hpp"

using namespace scepra;
using namespace scepra::backend;
using namespace scepra::backend::ejbca;
using namespace scepra::backend::http;
using scepra::test::FakeEjbca;

namespace {

std::vector<std::string> subjects(const std::vector<crypto::X509Ptr>& chain) {
    std::vector<std::string> names;
    for (const auto& cert : chain) {
        names.push_back(crypto::name_string(*X509_get_subject_name(cert.get())));
    }
    return names;
}

const std::vector<std::string> expected_chain = {"CN=IssuingCA,O=Fake EJBCA", "CN=Fake Root CA,O=Fake EJBCA"};

}  // namespace

TEST_CASE("the CA chain comes from EJBCA when no chain file is configured") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    CHECK(subjects(backend.ca_chain()) == expected_chain);
    CHECK(backend.issuer_dn() == "CN=IssuingCA,O=Fake EJBCA");
}

TEST_CASE("a configured chain file is the chain, in any order, and EJBCA need not be reachable") {
    FakeEjbca fake;
    const std::string reversed = fake.file("reversed.pem");
    {
        std::ofstream out(reversed);
        out << crypto::read_file(fake.file("root-ca.pem")) << crypto::read_file(fake.file("issuing-ca.pem"));
    }
    auto config = fake.config();
    config.url =
        "https://127.0.0.1:" + std::to_string(test::closed_loopback_port()) + "/ejbca/ejbca-rest-api";
    config.chain_file = reversed;
    CHECK(subjects(EjbcaBackend(config).ca_chain()) == expected_chain);

    config.chain_file.clear();
    CHECK_THROWS_AS(EjbcaBackend{config}, BackendUnavailable);
}

TEST_CASE("revoke, then the revocation status and the CRL show it") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    auto key = test::pooled_client_key(30);
    const auto issued = backend.submit_with_audit(test::request_for(*key, "CN=dev", "tx"));
    REQUIRE(issued.result.disposition == Disposition::issued);
    const std::string serial = issued.serial_hex;

    auto found = backend.find_certificate(backend.issuer_dn(), serial);
    REQUIRE(found.has_value());
    CHECK(found->state == CertState::valid);
    CHECK(crypto::cert_der(*found->certificate) == issued.result.certificate_der);
    // Leading zeros (the RA pads serials to whole bytes; EJBCA does not) change nothing.
    CHECK(backend.find_certificate(backend.issuer_dn(), "000" + serial).has_value());

    CHECK(backend.revoke("0x" + serial, RevocationReason::key_compromise));
    found = backend.find_certificate(backend.issuer_dn(), serial);
    REQUIRE(found.has_value());
    CHECK(found->state == CertState::revoked);
    CHECK_THROWS_AS(backend.revoke(serial, RevocationReason::superseded), std::invalid_argument);

    const auto crl_der = backend.crl();
    REQUIRE(crl_der.has_value());
    const unsigned char* p = crl_der->data();
    crypto::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(crl_der->size())));
    REQUIRE(crl);
    X509_REVOKED* entry = nullptr;
    CHECK(X509_CRL_get0_by_serial(
              crl.get(), &entry,
              X509_get0_serialNumber(crypto::cert_from_der(issued.result.certificate_der).get())) == 1);
}

TEST_CASE("unknown serials: nothing to find, nothing to revoke") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    CHECK_FALSE(backend.find_certificate(backend.issuer_dn(), "0ABCDEF1").has_value());
    CHECK_FALSE(backend.find_certificate(backend.issuer_dn(), "not hex/../x").has_value());
    CHECK_THROWS_AS(backend.revoke("0ABCDEF1", RevocationReason::unspecified), std::invalid_argument);
    CHECK_THROWS_AS(backend.revoke("12/../34", RevocationReason::unspecified), std::invalid_argument);
}

TEST_CASE("look-ups while EJBCA fails are BackendUnavailable") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    fake.control({{"all_error", {503, "Device was unavailable."}}});
    CHECK_THROWS_AS(backend.crl(), BackendUnavailable);
    CHECK_THROWS_AS(backend.find_certificate(backend.issuer_dn(), "0A"), BackendUnavailable);
    CHECK_THROWS_AS(backend.revoke("0A", RevocationReason::unspecified), BackendUnavailable);
}

TEST_CASE("a CRL that is not the issuing CA's is BackendUnavailable, never served") {
    FakeEjbca fake;
    EjbcaBackend backend(fake.config());
    for (const std::string mode : {"foreign", "garbage"}) {
        CAPTURE(mode);
        fake.control({{"crl_mode", mode}});
        CHECK_THROWS_AS(backend.crl(), BackendUnavailable);
    }
}

TEST_CASE("base64 decoding is strict") {
    CHECK(base64_decode("TWFu") == Bytes{'M', 'a', 'n'});
    CHECK(base64_decode("TWE=") == Bytes{'M', 'a'});
    CHECK(base64_decode("TQ==") == Bytes{'M'});
    CHECK(base64_decode("") == Bytes{});
    for (const char* bad : {"TWF", "TW=u", "TQ=", "TR==", "TWE\n", "T WE=", "%%%%", "TQ==TQ=="}) {
        CAPTURE(bad);
        CHECK_FALSE(base64_decode(bad).has_value());
    }
    const Bytes all = [] {
        Bytes b;
        for (int i = 0; i < 256; ++i) b.push_back(static_cast<std::uint8_t>(i));
        return b;
    }();
    CHECK(base64_decode(base64_encode(all)) == all);
}
