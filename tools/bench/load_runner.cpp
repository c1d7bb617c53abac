// SPDX-License-Identifier: Apache-2.0
// Worker threads with a shared request counter, a start gate and a deadline.
#include "bench/load_runner.hpp"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>

#include "bench/http_client.hpp"

namespace scepra::bench {

namespace {

double process_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

RunResult run_load(const TargetUrl& target, const Workload& workload, size_t concurrency,
                   double max_seconds) {
    using Clock = std::chrono::steady_clock;
    RunResult result;
    result.samples.resize(workload.size());
    result.concurrency = concurrency;
    std::atomic<size_t> next{0};
    std::atomic<bool> out_of_time{false};
    std::latch ready(static_cast<std::ptrdiff_t>(concurrency));
    std::latch start(1);
    Clock::time_point t0;
    Clock::time_point deadline;
    std::vector<Clock::time_point> last_reply(concurrency);

    auto worker = [&](size_t w) {
        auto client = make_client(target);
        ready.count_down();
        start.wait();
        last_reply[w] = t0;
        for (;;) {
            if (Clock::now() >= deadline) {
                out_of_time = true;
                break;
            }
            const size_t i = next++;
            if (i >= result.samples.size()) break;
            Sample& sample = result.samples[i];
            const auto sent_at = Clock::now();
            httplib::Result res = workload.send(*client, i);
            const auto got_at = Clock::now();
            sample.sent = true;
            sample.latency_ms = std::chrono::duration<double, std::milli>(got_at - sent_at).count();
            if (res) {
                sample.outcome = workload.check(i, *res);
            } else {
                sample.outcome.failure = transport_error(res);
            }
            last_reply[w] = got_at;
        }
    };

    std::vector<std::thread> threads;
    threads.reserve(concurrency);
    for (size_t w = 0; w < concurrency; ++w) threads.emplace_back(worker, w);
    ready.wait();
    const double cpu_before = process_cpu_seconds();
    t0 = Clock::now();
    deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(max_seconds));
    start.count_down();
    for (auto& t : threads) t.join();
    result.client_cpu_seconds = process_cpu_seconds() - cpu_before;

    Clock::time_point end = t0;
    for (auto t : last_reply) end = std::max(end, t);
    result.wall_seconds = std::chrono::duration<double>(end - t0).count();
    result.stopped_by_time = out_of_time && next.load() < result.samples.size();
    return result;
}

}  // namespace scepra::bench
