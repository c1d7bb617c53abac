// SPDX-License-Identifier: Apache-2.0
// Concurrency tests: n threads released together, each running body(i).
#pragma once

#include <latch>
#include <thread>
#include <vector>

namespace scepra::test {

/// Runs body(0) .. body(n - 1) on n threads that start together (a latch
/// holds each until all exist); returns once every one has finished.
template <typename Body>
void all_at_once(int n, Body&& body) {
    std::latch start(n);
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            body(i);
        });
    }
    for (auto& t : threads) {
        t.join();
    }
}

}  // namespace scepra::test
