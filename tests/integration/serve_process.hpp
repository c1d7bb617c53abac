// SPDX-License-Identifier: Apache-2.0
// A real `scep-ra serve` process on free loopback ports (support/scep_ra_process.hpp),
// for tests of what only the whole program does (the metrics listener, the request
// log, a backup taken while it serves), and a SCEP client of it.
#pragma once

#include <string>

#include "integration/server_fixture.hpp"
#include "scep/client.hpp"
#include "support/scep_ra_process.hpp"
#include "support/test_pki.hpp"

namespace scepra::test {

/// `scep-ra password issue` for the instance of conf: a fresh one-time password.
std::string issue_password(const TempDir& dir, const std::string& conf);

/// A SCEP client of a ServeProcess, with the RA certificates of its instance.
class ProcessClient {
  public:
    ProcessClient(const std::string& instance_dir, int port);
    /// An HTTP client of the server, sending from this loopback source address.
    httplib::Client http(const std::string& source = "127.0.0.1") const;
    /// A PKCSReq of this device with this challenge; the server's decoded reply.
    scep::CertRepView enrol(Device& device, const std::string& challenge, const std::string& transaction_id,
                            const std::string& source = "127.0.0.1") const;
    /// POSTs a PKIOperation body; the HTTP status.
    int post_pki(const std::string& body, const std::string& source = "127.0.0.1") const;

  private:
    int m_port;
    crypto::X509Ptr m_ra_signing, m_ra_encryption;
};

}  // namespace scepra::test
