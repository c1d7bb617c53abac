// SPDX-License-Identifier: Apache-2.0
// Loading the rollover state for a running instance.
#include "cli/rollover.hpp"

#include "crypto/encoding.hpp"

namespace scepra::cli {

RolloverPaths rollover_paths(const AppConfig& config) {
    // Beside the files they replace, not beside scep-ra.conf: a packaged
    // instance keeps its config in read-only /etc and its keys in /var/lib.
    const auto certs = config.signing_cert.parent_path();
    const auto keys = config.signing_key.parent_path();
    return {certs / "next", keys / "next", certs / "previous", keys / "previous"};
}

std::optional<Bytes> load_next_ca_response(const AppConfig& config) {
    const auto file = rollover_paths(config).next_response();
    if (!std::filesystem::exists(file)) {
        return std::nullopt;
    }
    std::string data = crypto::read_file(file);
    return Bytes(data.begin(), data.end());
}

void load_previous_identity(const AppConfig& config, TimePoint now, core::RaIdentity& identity) {
    const RolloverPaths paths = rollover_paths(config);
    if (!std::filesystem::exists(paths.grace_until())) {
        return;
    }
    std::string until = crypto::read_file(paths.grace_until());
    until = until.substr(0, until.find('\n'));
    if (sql_time(now) >= until) {
        return;  // the grace period is over: the old keys are no longer honoured
    }
    if (std::filesystem::exists(paths.previous_dir / "ra-encryption.pem")) {
        identity.previous_encryption_cert = crypto::load_cert_file(paths.previous_dir / "ra-encryption.pem");
        identity.previous_encryption_key =
            crypto::load_key_file(paths.previous_private / "ra-encryption.key");
    }
    if (std::filesystem::exists(paths.previous_dir / "ca.pem")) {
        identity.previous_cas.push_back(crypto::load_cert_file(paths.previous_dir / "ca.pem"));
    }
}

}  // namespace scepra::cli
