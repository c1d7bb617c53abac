// SPDX-License-Identifier: Apache-2.0
// `scep-ra ra rollover` in front of EJBCA: the next RA certificates enrolled
// at the (fake) EJBCA or taken from files, announced by GetNextCACert on the
// real server after `scep-ra reload`, then switched to by `ra activate`.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "remote_ca/remote_instance.hpp"
#include "scep/next_ca.hpp"

using namespace scepra;
using namespace scepra::test;
namespace fs = std::filesystem;

namespace {

/// [ejbca] keys for the RA's own certificates (the fake's server profiles).
const std::string ra_profiles = "ra_certificate_profile = SCEP_SERVER\nra_end_entity_profile = SERVER_EEP\n";

std::string issuer_of_file(const std::string& file) {
    return crypto::name_string(*X509_get_issuer_name(crypto::load_cert_file(file).get()));
}

std::string subject_of_file(const std::string& file) {
    return crypto::name_string(*X509_get_subject_name(crypto::load_cert_file(file).get()));
}

int certificates_in(const FakeEjbca& fake) { return static_cast<int>(fake.state()["certificates"].size()); }

}  // namespace

TEST_CASE(
    "rollover: in front of EJBCA the next RA certificates are enrolled there and announced, then activated") {
    FakeEjbca fake;
    TempDir dir;
    const std::string conf = ejbca_instance(dir, fake, ra_profiles);
    const std::string instance = dir.file("instance");
    std::string out;
    INFO(out);
    // The RA certificates in use come from EJBCA too, as in front of EJBCA they do.
    REQUIRE(scep_ra(dir, "ra enroll --force --config " + conf, &out) == 0);
    const std::string ejbca_ca = subject_of_file(fake.file("issuing-ca.pem"));
    const std::string old_signing_subject = subject_of_file(instance + "/ra-signing.pem");
    const int issued_before = certificates_in(fake);

    REQUIRE(scep_ra(dir, "ra rollover --config " + conf, &out) == 0);
    CHECK(certificates_in(fake) == issued_before + 2);
    const std::string next_signing = instance + "/next/ra-signing.pem";
    const std::string next_encryption = instance + "/next/ra-encryption.pem";
    CHECK(issuer_of_file(next_signing) == ejbca_ca);
    CHECK(issuer_of_file(next_encryption) == ejbca_ca);
    // The subjects stay the RA's.
    CHECK(subject_of_file(next_signing) == old_signing_subject);
    CHECK_FALSE(fs::exists(instance + "/next/ca.pem"));

    {
        Server server(dir, conf);
        REQUIRE(scep_ra(dir, "reload --config " + conf, &out) == 0);
        // GetNextCACert, verified to EJBCA's root through the chain inside it.
        auto root = crypto::load_cert_file(fake.file("root-ca.pem"));
        std::vector<crypto::X509Ptr> next;
        for (int i = 0; i < 400 && next.empty(); ++i) {
            httplib::Client client("127.0.0.1", server.port());
            auto res = client.Get("/certsrv/mscep/mscep.dll?operation=GetNextCACert");
            REQUIRE(res);
            if (res->status == 200) {
                next = scep::read_next_ca_response(as_bytes(res->body), *root);
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(25));  // the reload is asynchronous
            }
        }
        REQUIRE(next.size() == 3);
        CHECK(crypto::serial_hex(*next[0]) == serial_of_file(next_signing));
        CHECK(crypto::serial_hex(*next[1]) == serial_of_file(next_encryption));
        CHECK(crypto::serial_hex(*next[2]) == serial_of_file(fake.file("issuing-ca.pem")));
    }

    const std::string next_serial = serial_of_file(next_signing);
    REQUIRE(scep_ra(dir, "ra activate --config " + conf, &out) == 0);
    CHECK(serial_of_file(instance + "/ra-signing.pem") == next_serial);
    Server restarted(dir, conf);
    const auto served = restarted.ca_certs();
    REQUIRE_FALSE(served.empty());
    CHECK(crypto::serial_hex(*served[0]) == next_serial);
}

TEST_CASE(
    "rollover: in front of a remote CA the next RA certificates may come from files, never from another CA") {
    FakeEjbca fake;
    TempDir dir;
    const std::string conf = ejbca_instance(dir, fake, ra_profiles);
    const std::string instance = dir.file("instance");
    std::string out;
    INFO(out);
    // Certificates EJBCA issued, kept as files the operator hands over.
    REQUIRE(scep_ra(dir, "ra rollover --config " + conf, &out) == 0);
    const std::string files = dir.file("files");
    fs::create_directories(files);
    for (const std::string name : {"next/ra-signing.pem", "next/ra-encryption.pem",
                                   "private/next/ra-signing.key", "private/next/ra-encryption.key"}) {
        fs::copy_file(instance + "/" + name, files + "/" + fs::path(name).filename().string());
    }
    const std::string from_files = " --ra-signing-cert " + files + "/ra-signing.pem --ra-signing-key " +
                                   files + "/ra-signing.key --ra-encryption-cert " + files +
                                   "/ra-encryption.pem --ra-encryption-key " + files + "/ra-encryption.key";
    const int issued = certificates_in(fake);
    REQUIRE(scep_ra(dir, "ra rollover --force --config " + conf + from_files, &out) == 0);
    CHECK(certificates_in(fake) == issued);  // nothing enrolled this time
    CHECK(serial_of_file(instance + "/next/ra-signing.pem") == serial_of_file(files + "/ra-signing.pem"));

    SUBCASE("certificates another CA issued are refused, and next/ keeps what was prepared") {
        auto key = make_key();
        auto self_signed = make_cert("CN=intruder", *key, nullptr, nullptr, {});
        crypto::save_cert_file(files + "/ra-signing.pem", *self_signed, true);
        crypto::save_key_file(files + "/ra-signing.key", *key, true);
        const std::string prepared = serial_of_file(instance + "/next/ra-signing.pem");
        CHECK(scep_ra(dir, "ra rollover --force --config " + conf + from_files, &out) == 2);
        CHECK(out.find("is not issued by the CA") != std::string::npos);
        CHECK(serial_of_file(instance + "/next/ra-signing.pem") == prepared);
    }
    SUBCASE("some of the files but not all is a usage error") {
        CHECK(scep_ra(
                  dir,
                  "ra rollover --force --config " + conf + " --ra-signing-cert " + files + "/ra-signing.pem",
                  &out) == 2);
    }
    SUBCASE("--new-ca is refused: the CA is EJBCA's") {
        CHECK(scep_ra(dir, "ra rollover --force --new-ca --config " + conf, &out) == 2);
    }
}
