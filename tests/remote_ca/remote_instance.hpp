// SPDX-License-Identifier: Apache-2.0
// The real scep-ra binary in front of the fake EJBCA: an instance made by
// `init` and switched to EJBCA, and `scep-ra serve` on loopback ports.
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "crypto/encoding.hpp"
#include "scep/degenerate.hpp"
#include "support/fake_ejbca/fake_ejbca_process.hpp"
#include "support/scep_ra_process.hpp"
#include "support/test_pki.hpp"

namespace scepra::test {

inline void set_key(std::string& conf, const std::string& key, const std::string& value) {
    const auto pos = conf.find("\n" + key + " = ");
    REQUIRE(pos != std::string::npos);
    const auto end = conf.find('\n', pos + 1);
    conf.replace(pos + 1, end - pos - 1, key + " = " + value);
}

/// An instance made by `init`, switched to the fake EJBCA with no chain file:
/// the chain comes from EJBCA. Returns the path of its scep-ra.conf.
inline std::string ejbca_instance(const TempDir& dir, const FakeEjbca& fake, const std::string& more = "") {
    const std::string conf = init_instance(dir);
    std::string text = crypto::read_file(conf);
    set_key(text, "backend", "ejbca");
    text += "\n[ejbca]\nurl = https://localhost:" + std::to_string(fake.port()) + "/ejbca/ejbca-rest-api\n" +
            "client_cert = " + fake.file("admin.pem") + "\nclient_key = " + fake.file("admin.key") +
            "\nserver_ca = " + fake.file("tls-ca.pem") +
            "\nca_name = IssuingCA\ncertificate_profile = SCEP_DEVICE\nend_entity_profile = SCEP_EEP\n"
            "timeout_seconds = 10\n" +
            more;
    crypto::write_file(conf, text, 0640, true);
    return conf;
}

/// `scep-ra serve` on free loopback ports, killed when it goes out of scope.
class Server : public ServeProcess {
  public:
    Server(const TempDir& dir, const std::string& conf) : ServeProcess(dir, conf) {}

    /// The certificates GetCACert answers: RA signing, RA encryption, then the CA chain.
    std::vector<crypto::X509Ptr> ca_certs() const {
        httplib::Client client("127.0.0.1", port());
        auto res = client.Get("/certsrv/mscep/mscep.dll?operation=GetCACert");
        REQUIRE(res);
        REQUIRE(res->status == 200);
        return scep::parse_degenerate(as_bytes(res->body));
    }
};

/// The serial number (hex) of the certificate in a PEM file.
inline std::string serial_of_file(const std::string& file) {
    return crypto::serial_hex(*crypto::load_cert_file(file));
}

}  // namespace scepra::test
