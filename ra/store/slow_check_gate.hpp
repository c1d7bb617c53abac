// SPDX-License-Identifier: Apache-2.0
// A bound on slow checks (scrypt, 32 MiB each): a few run at once, a few more
// wait for a turn, and the rest are turned away at once.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>

namespace scepra::store {

class SlowCheckGate final {
  public:
    /// max_running checks may run at once and max_waiting more wait for a turn.
    /// Throws std::invalid_argument when max_running < 1 or max_waiting < 0.
    SlowCheckGate(int max_running, int max_waiting);
    SlowCheckGate(const SlowCheckGate&) = delete;
    SlowCheckGate& operator=(const SlowCheckGate&) = delete;

    /// The right to run one check, given back when destroyed.
    class Turn final {
      public:
        explicit Turn(SlowCheckGate& gate) : m_gate(&gate) {}
        Turn(Turn&& other) noexcept : m_gate(other.m_gate) { other.m_gate = nullptr; }
        Turn& operator=(Turn&&) = delete;
        Turn(const Turn&) = delete;
        Turn& operator=(const Turn&) = delete;
        ~Turn();

      private:
        SlowCheckGate* m_gate;
    };

    /// Waits for a turn; nullopt at once (without waiting) when max_running
    /// checks run and max_waiting more already wait.
    std::optional<Turn> enter();

    /// The most checks that ever ran at once (for tests and metrics).
    int most_running() const;

  private:
    void leave();

    const int m_max_running;
    const int m_max_waiting;
    mutable std::mutex m_mutex;
    std::condition_variable m_turn_free;
    int m_running = 0;
    int m_waiting = 0;
    int m_most_running = 0;
};

}  // namespace scepra::store
