// SPDX-License-Identifier: Apache-2.0
#include "integration/serve_process.hpp"

#include <doctest/doctest.h>

#include <chrono>

#include "crypto/encoding.hpp"

namespace scepra::test {

ProcessClient::ProcessClient(const std::string& instance_dir, int port)
    : m_port(port),
      m_ra_signing(crypto::load_cert_file(instance_dir + "/ra-signing.pem")),
      m_ra_encryption(crypto::load_cert_file(instance_dir + "/ra-encryption.pem")) {}

httplib::Client ProcessClient::http(const std::string& source) const {
    httplib::Client c("127.0.0.1", m_port);
    c.set_interface(source);
    c.set_read_timeout(60, 0);
    return c;
}

int ProcessClient::post_pki(const std::string& body, const std::string& source) const {
    auto res = http(source).Post("/certsrv/mscep/mscep.dll?operation=PKIOperation", body,
                                 "application/x-pki-message");
    REQUIRE(res);
    return res->status;
}

scep::CertRepView ProcessClient::enrol(Device& device, const std::string& challenge,
                                       const std::string& transaction_id, const std::string& source) const {
    auto csr = device.csr(challenge);
    const Bytes request = scep::build_pki_request(
        {scep::MessageType::pkcs_req, transaction_id, {}}, crypto::csr_der(*csr), *m_ra_encryption,
        {"AES-128-CBC", false}, device.signer(), std::chrono::system_clock::now());
    auto res = http(source).Post("/certsrv/mscep/mscep.dll?operation=PKIOperation",
                                 std::string(request.begin(), request.end()), "application/x-pki-message");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return scep::read_cert_rep(as_bytes(res->body), *m_ra_signing, device.recipient());
}

std::string issue_password(const TempDir& dir, const std::string& conf) {
    std::string out;
    REQUIRE(run_scep_ra(dir, "password issue --config " + conf, &out) == 0);
    return out.substr(0, out.find('\n'));
}

}  // namespace scepra::test
