// SPDX-License-Identifier: Apache-2.0
// SingleFlight: callers arriving while a call for their key is under way get
// that call's value or exception; other keys, and callers after it, call anew.
#include "common/single_flight.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace scepra;

namespace {

/// Waits (bounded) until `count` callers wait for the call under way for key.
bool await_waiters(SingleFlight<int>& flights, const std::string& key, std::size_t count) {
    for (int spins = 0; spins < 10'000'000; ++spins) {
        if (flights.waiting(key) == count) {
            return true;
        }
        std::this_thread::yield();
    }
    return false;
}

}  // namespace

TEST_SUITE("common.single_flight") {
    TEST_CASE("callers during a call share its value, without calling; a caller after it calls anew") {
        SingleFlight<int> flights;
        std::atomic<int> calls{0};
        std::promise<void> release;
        std::shared_future<void> released = release.get_future().share();
        auto first = std::async(std::launch::async, [&] {
            return flights.run("k", [&] {
                ++calls;
                released.wait();
                return 42;
            });
        });
        while (calls == 0) {  // bounded by the call starting
            std::this_thread::yield();
        }
        std::vector<std::future<int>> waiting;
        for (int i = 0; i < 4; ++i) {
            waiting.push_back(std::async(std::launch::async, [&] {
                return flights.run("k", [&] {
                    ++calls;
                    return 7;
                });
            }));
        }
        REQUIRE(await_waiters(flights, "k", 4));
        release.set_value();
        CHECK(first.get() == 42);
        for (auto& f : waiting) {
            CHECK(f.get() == 42);
        }
        CHECK(calls == 1);
        CHECK(flights.waiting("k") == 0);
        CHECK(flights.run("k", [] { return 9; }) == 9);
    }

    TEST_CASE("a call's exception reaches every caller that waited for it, and other keys are not held") {
        SingleFlight<int> flights;
        std::promise<void> release;
        std::shared_future<void> released = release.get_future().share();
        std::atomic<bool> started{false};
        auto failing = std::async(std::launch::async, [&] {
            return flights.run("down", [&]() -> int {
                started = true;
                released.wait();
                throw std::runtime_error("the service is down");
            });
        });
        while (!started) {
            std::this_thread::yield();
        }
        CHECK(flights.run("up", [] { return 1; }) == 1);  // another key, while "down" is under way
        auto waiter = std::async(std::launch::async, [&] { return flights.run("down", [] { return 2; }); });
        REQUIRE(await_waiters(flights, "down", 1));
        release.set_value();
        CHECK_THROWS_WITH_AS(failing.get(), "the service is down", std::runtime_error);
        CHECK_THROWS_WITH_AS(waiter.get(), "the service is down", std::runtime_error);
    }
}
