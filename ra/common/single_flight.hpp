// SPDX-License-Identifier: Apache-2.0
// One slow call at a time per key, its outcome shared: callers that arrive
// while a call for their key is under way wait for that call and get its
// value or its exception, instead of each making the call again in turn.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace scepra {

template <typename T>
class SingleFlight {
  public:
    /// produce() for this key, unless a call for it is under way: then that
    /// call's outcome. No lock is held while produce() runs.
    template <typename Produce>
    T run(const std::string& key, Produce&& produce) {
        std::unique_lock lock(m_mutex);
        if (auto under_way = m_flights.find(key); under_way != m_flights.end()) {
            std::shared_ptr<Flight> flight = under_way->second;
            ++flight->waiters;
            m_landed.wait(lock, [&] { return flight->landed; });
            return outcome(*flight);
        }
        auto flight = std::make_shared<Flight>();
        m_flights.emplace(key, flight);
        lock.unlock();
        try {
            flight->value.emplace(produce());
        } catch (...) {
            flight->error = std::current_exception();
        }
        lock.lock();
        flight->landed = true;
        m_flights.erase(key);
        m_landed.notify_all();
        return outcome(*flight);
    }

    /// How many callers wait for the call under way for this key (0 when none is).
    std::size_t waiting(const std::string& key) {
        std::lock_guard lock(m_mutex);
        auto under_way = m_flights.find(key);
        return under_way == m_flights.end() ? 0 : under_way->second->waiters;
    }

  private:
    struct Flight {
        std::optional<T> value;
        std::exception_ptr error;
        bool landed = false;
        std::size_t waiters = 0;
    };

    static T outcome(const Flight& flight) {
        if (flight.error) {
            std::rethrow_exception(flight.error);
        }
        return *flight.value;
    }

    std::mutex m_mutex;
    std::condition_variable m_landed;
    std::map<std::string, std::shared_ptr<Flight>> m_flights;
};

}  // namespace scepra
