// SPDX-License-Identifier: Apache-2.0
// An instance made by the real `scep-ra init --backend adcs`, its [adcs]
// section pointed at a running AD CS bridge (tests/unit/adcs harness).
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "crypto/encoding.hpp"
#include "remote_ca/remote_instance.hpp"
#include "unit/adcs/adcs_test_support.hpp"

namespace scepra::test {

/// `init --backend adcs` in dir/instance, the bridge's URL and client
/// credentials written into its configuration, then `extra` keys; returns the
/// configuration file's path. init's output goes to init_out when given.
inline std::string init_adcs_instance(const TempDir& dir, const BridgeProcess& bridge,
                                      const std::vector<std::pair<std::string, std::string>>& extra,
                                      std::string* init_out = nullptr) {
    const std::string instance = dir.file("instance");
    REQUIRE(scep_ra(dir, "init --dir " + instance + " --backend adcs", init_out) == 0);
    const std::string conf = instance + "/scep-ra.conf";
    std::string text = crypto::read_file(conf);
    set_key(text, "bridge_url", "https://localhost:" + std::to_string(bridge.port()));
    set_key(text, "client_cert", bridge.file("ra.pem"));
    set_key(text, "client_key", bridge.file("ra.key"));
    set_key(text, "server_ca", bridge.file("tls-ca.pem"));
    for (const auto& [key, value] : extra) {
        set_key(text, key, value);
    }
    crypto::write_file(conf, text, 0640, true);
    return conf;
}

}  // namespace scepra::test
