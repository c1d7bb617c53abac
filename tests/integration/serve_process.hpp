// SPDX-License-Identifier: Apache-2.0
// A real `scep-ra serve` process on free loopback ports, for tests of what
// only the whole program does (the metrics listener, the request log, a backup
// taken while it serves).
#pragma once

#include <string>

#include "integration/server_fixture.hpp"
#include "scep/client.hpp"
#include "support/test_pki.hpp"

namespace scepra::test {

/// Runs the scep-ra binary with these arguments (a shell command line); returns
/// its exit status, its stdout in *out and its stderr in *err.
int run_scep_ra(const TempDir& dir, const std::string& args, std::string* out = nullptr,
                std::string* err = nullptr);

/// `scep-ra init` of an instance in DIR/instance without an admin listener;
/// returns the path of its scep-ra.conf.
std::string init_instance(const TempDir& dir);

class ServeProcess {
  public:
    /// Starts `scep-ra serve --config CONF` with the SCEP listener on a free
    /// loopback port and `--metrics-listen metrics_listen` (empty: the file's
    /// [metrics] listen), extra_args added; returns once the SCEP port is bound.
    ServeProcess(const TempDir& dir, const std::string& conf, const std::string& extra_args = "",
                 const std::string& metrics_listen = "127.0.0.1:0");
    ~ServeProcess();
    ServeProcess(const ServeProcess&) = delete;
    ServeProcess& operator=(const ServeProcess&) = delete;

    int port() const { return m_port; }
    /// 0 when the metrics listener is off.
    int metrics_port() const { return m_metrics_port; }
    /// What the server wrote to stderr so far (its log).
    std::string log() const;
    /// SIGTERM, then waits until it has exited.
    void stop();

  private:
    const TempDir& m_dir;
    std::string m_pid;
    int m_port = 0;
    int m_metrics_port = 0;
};

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
