// SPDX-License-Identifier: Apache-2.0
#include "cli/backend_factory.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "cli/instance.hpp"
#ifdef SCEPRA_BENCH_CA_DELAY
#include "cli/bench_delay_backend.hpp"
#endif
#include "adcs/adcs_backend.hpp"
#include "crypto/encoding.hpp"
#include "ejbca/ejbca_backend.hpp"
#include "local/local_ca_backend.hpp"

namespace scepra::cli {

namespace fs = std::filesystem;

namespace {

void save_chain(const fs::path& file, const std::vector<crypto::X509Ptr>& chain) {
    std::string pem;
    for (const auto& cert : chain) {
        pem += crypto::cert_pem(*cert);
    }
    const fs::path temporary = file.string() + ".tmp";
    crypto::write_file(temporary, pem, 0644, true);
    fs::rename(temporary, file);
}

/// Builds a remote backend whose config has a chain_file member: from the CA,
/// keeping what it fetched, or from that copy when the CA is down.
template <typename Backend, typename Config>
std::unique_ptr<backend::CaBackend> remote(Config config, const fs::path& cache) {
    if (!config.chain_file.empty()) {
        return std::make_unique<Backend>(std::move(config));
    }
    try {
        auto made = std::make_unique<Backend>(config);
        try {
            save_chain(cache, made->ca_chain());
        } catch (const std::exception& e) {
            std::cerr << "scep-ra: cannot keep the CA chain in " << cache.string() << ": " << e.what()
                      << "\n";
        }
        return made;
    } catch (const backend::BackendUnavailable& e) {
        if (!fs::exists(cache)) {
            throw backend::BackendUnavailable(
                std::string(e.what()) +
                "; no copy of the CA chain exists yet: start once while the CA is "
                "reachable, or set the chain file in the backend's section");
        }
        std::cerr << "scep-ra: the CA is unreachable (" << e.what()
                  << "); using its chain as fetched last, from " << cache.string() << "\n";
        config.chain_file = cache;
        if constexpr (requires { config.chain_file_is_copy; }) {
            config.chain_file_is_copy = true;  // a reload asks the CA again
        }
        return std::make_unique<Backend>(std::move(config));
    }
}

std::unique_ptr<backend::CaBackend> make_configured_backend(const AppConfig& config, store::Database& db,
                                                            const Clock& clock) {
    try {
        if (config.backend == "local") {
            return std::make_unique<backend::local::LocalCaBackend>(local_ca_config(config), db, clock);
        }
        if (config.backend == "ejbca") {
            return remote<backend::ejbca::EjbcaBackend>(config.ejbca, chain_cache_file(config));
        }
        if (config.backend == "adcs") {
            return remote<backend::adcs::AdcsBackend>(config.adcs, chain_cache_file(config));
        }
    } catch (const std::invalid_argument& e) {
        throw ConfigError(config.file.string() + ": [" +
                          (config.backend == "local" ? "local_ca" : config.backend) + "] " + e.what());
    }
    throw ConfigError(config.file.string() + ": [ca] backend '" + config.backend +
                      "' is not built into this scep-ra");
}

}  // namespace

const std::vector<std::string>& backend_names() {
    static const std::vector<std::string> names{"local", "ejbca", "adcs"};
    return names;
}

std::optional<fs::path> operator_chain_file(const AppConfig& config) {
    const fs::path* file = config.backend == "ejbca"  ? &config.ejbca.chain_file
                           : config.backend == "adcs" ? &config.adcs.chain_file
                                                      : nullptr;
    return file != nullptr && !file->empty() ? std::optional<fs::path>(*file) : std::nullopt;
}

fs::path chain_cache_file(const AppConfig& config) { return config.database.string() + ".ca-chain.pem"; }

std::unique_ptr<backend::CaBackend> make_backend(const AppConfig& config, store::Database& db,
                                                 const Clock& clock) {
    auto made = make_configured_backend(config, db, clock);
#ifdef SCEPRA_BENCH_CA_DELAY
    // Benchmark builds only (CMake -DSCEPRA_BENCH_CA_DELAY=ON): a CA far away.
    if (const char* delay = std::getenv("SCEP_RA_BENCH_CA_DELAY_MS")) {
        const int ms = std::clamp(std::atoi(delay), 0, 60000);
        std::cerr << "scep-ra: BENCHMARK BUILD: every CA submit and poll waits " << ms << " ms" << std::endl;
        made = std::make_unique<BenchDelayBackend>(std::move(made), std::chrono::milliseconds(ms));
    }
#endif
    return made;
}

bool refresh_ca_chain(backend::CaBackend& backend, const AppConfig& config) {
    if (!backend.refresh_ca_chain()) {
        return false;
    }
    if (!operator_chain_file(config)) {  // the chain came from the CA: keep it for a start while it is down
        save_chain(chain_cache_file(config), backend.ca_chain());
    }
    return true;
}

}  // namespace scepra::cli
