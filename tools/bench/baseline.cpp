// SPDX-License-Identifier: Apache-2.0
// Measures RSA private-key signatures per second with one thread per core, like `openssl speed -multi`.
#include "bench/baseline.hpp"

#include <openssl/rsa.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "crypto/digest.hpp"
#include "crypto/handles.hpp"
#include "crypto/keys.hpp"
#include "crypto/openssl_error.hpp"

namespace scepra::bench {

using crypto::check;

namespace {

struct ThreadCount {
    long ops = 0;
    double seconds = 0;
};

ThreadCount sign_for(EVP_PKEY& shared_key, double seconds) {
    using Clock = std::chrono::steady_clock;
    // A private copy, so threads do not share the key's blinding state.
    crypto::EvpPkeyPtr key(EVP_PKEY_dup(&shared_key));
    check(key != nullptr, "EVP_PKEY_dup");
    crypto::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    check(ctx && EVP_PKEY_sign_init(ctx.get()) == 1, "EVP_PKEY_sign_init");
    check(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1, "padding");
    check(EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1, "signature md");
    const Bytes digest = crypto::sha256(as_bytes("scep-bench baseline"));
    Bytes sig(static_cast<size_t>(EVP_PKEY_get_size(key.get())));
    ThreadCount count;
    const auto start = Clock::now();
    const auto stop =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    auto now = start;
    while (now < stop) {
        size_t len = sig.size();
        check(EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest.data(), digest.size()) == 1, "EVP_PKEY_sign");
        ++count.ops;
        now = Clock::now();
    }
    count.seconds = std::chrono::duration<double>(now - start).count();
    return count;
}

}  // namespace

Baseline measure_rsa_sign_rate(int rsa_bits, unsigned threads, double seconds) {
    crypto::KeySpec spec;
    spec.rsa_bits = rsa_bits;
    crypto::EvpPkeyPtr key = crypto::generate_key(spec);
    std::vector<ThreadCount> counts(threads);
    std::vector<std::thread> pool;
    std::atomic<bool> failed{false};
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            try {
                counts[t] = sign_for(*key, seconds);
            } catch (...) {
                failed = true;
            }
        });
    }
    for (auto& th : pool) th.join();
    check(!failed, "RSA baseline");
    Baseline b;
    b.rsa_bits = rsa_bits;
    b.threads = threads;
    b.seconds = seconds;
    for (const auto& c : counts) {
        if (c.seconds > 0) b.sign_ops_per_second += static_cast<double>(c.ops) / c.seconds;
    }
    return b;
}

}  // namespace scepra::bench
