// SPDX-License-Identifier: Apache-2.0
// Runs tests/unit/adcs/bridge_harness.py: the REAL AD CS bridge process on a
// loopback port with mutual TLS, in front of the fake CA RPC server of
// tests/adcs_bridge/fake_ca.py, and talks to the harness's control endpoint.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "adcs/adcs_config.hpp"
#include "support/child_process.hpp"
#include "support/loopback_port.hpp"
#include "support/test_pki.hpp"

namespace scepra::test {

/// Empty when /usr/bin/python3 has impacket and cryptography; else why the bridge cannot run.
std::string bridge_unavailable_reason();

class BridgeProcess {
  public:
    struct Options {
        int bridge_timeout_seconds = 20;  ///< the bridge's own CA call timeout
        /// The fake CA's certificates name a CRL the harness serves as their HTTP CRL distribution
        /// point, one per CA key as AD CS publishes them (/CertEnroll/<CA name>(K).crl after K
        /// re-keys); control({"revoke": "HEX"}) lists a serial on the CRL of the key that issued it.
        bool crl_distribution_point = false;
    };
    BridgeProcess() : BridgeProcess(Options{}) {}
    explicit BridgeProcess(Options options);
    BridgeProcess(const BridgeProcess&) = delete;
    BridgeProcess& operator=(const BridgeProcess&) = delete;

    /// A file the harness wrote (tls-ca.pem, ra.pem, other.key, stranger-ca.pem, ca-chain.pem, ...).
    std::string file(const std::string& name) const { return m_dir.file(name); }
    int port() const { return m_port; }
    /// Acts on the fake CA: {"approve": id}, {"deny": id}, {"offline": true}, {"online": true},
    /// {"hang_next": true}, {"release": true}, {"revoke": "HEX SERIAL"}.
    void control(const nlohmann::json& knobs) const;
    /// {"new_submissions": N, "rows": {...}, "bridge_running": bool}
    nlohmann::json state() const;
    int new_submissions() const { return state().at("new_submissions").get<int>(); }
    /// A working backend configuration: the allowed client certificate, the
    /// bridge's TLS CA, the chain fetched from the bridge.
    backend::adcs::AdcsConfig config() const;

  private:
    TempDir m_dir;
    ChildProcess m_process;
    int m_port = 0;
    int m_control_port = 0;
};

}  // namespace scepra::test
