// SPDX-License-Identifier: Apache-2.0
// Fills the identity pool from the cache and parallel key generation.
#include "bench/identity_pool.hpp"

#include <chrono>
#include <iomanip>
#include <ostream>

#include "bench/key_cache.hpp"
#include "bench/parallel.hpp"

namespace scepra::bench {

std::vector<Identity> prepare_identities(const crypto::KeySpec& spec, size_t n,
                                         const std::optional<std::string>& cache_file, std::ostream& log) {
    std::vector<Identity> ids;
    if (cache_file) {
        ids = load_identities(*cache_file, spec);
        log << "scep-bench: " << ids.size() << " " << spec.to_string() << " identities in cache "
            << *cache_file << '\n';
    }
    const size_t cached = ids.size();
    if (cached >= n) {
        ids.resize(n);
        return ids;
    }
    const size_t missing = n - cached;
    const unsigned threads = core_count();
    log << "scep-bench: generating " << missing << " " << spec.to_string() << " keys on " << threads
        << " threads (not timed)..." << std::flush;
    const auto started = std::chrono::steady_clock::now();
    ids.resize(n);
    parallel_for(missing, threads, [&](size_t k) {
        const size_t i = cached + k;
        ids[i] = make_identity(spec, "scep-bench device " + std::to_string(i));
    });
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    log << " " << std::fixed << std::setprecision(1) << took.count() << " s\n";
    if (cache_file) {
        save_identities(*cache_file, ids);
    }
    return ids;
}

void repeat_identities(std::vector<Identity>& ids, size_t n) {
    const size_t distinct = ids.size();
    for (size_t i = distinct; distinct > 0 && i < n; ++i) {
        const Identity& from = ids[i % distinct];
        ids.push_back({crypto::up_ref(*from.key), crypto::up_ref(*from.cert)});
    }
}

}  // namespace scepra::bench
