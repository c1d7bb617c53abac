// SPDX-License-Identifier: Apache-2.0
// A bound on slow checks: a few run, a few wait, the rest are turned away.
#include "store/slow_check_gate.hpp"

#include <algorithm>
#include <stdexcept>

namespace scepra::store {

SlowCheckGate::SlowCheckGate(int max_running, int max_waiting)
    : m_max_running(max_running), m_max_waiting(max_waiting) {
    if (m_max_running < 1) {
        throw std::invalid_argument("slow checks: at least one must be allowed to run");
    }
    if (m_max_waiting < 0) {
        throw std::invalid_argument("slow checks: the number waiting cannot be negative");
    }
}

SlowCheckGate::Turn::~Turn() {
    if (m_gate != nullptr) {
        m_gate->leave();
    }
}

std::optional<SlowCheckGate::Turn> SlowCheckGate::enter() {
    std::unique_lock lock(m_mutex);
    if (m_running >= m_max_running) {
        if (m_waiting >= m_max_waiting) {
            return std::nullopt;
        }
        ++m_waiting;
        m_turn_free.wait(lock, [&] { return m_running < m_max_running; });
        --m_waiting;
    }
    ++m_running;
    m_most_running = std::max(m_most_running, m_running);
    return std::optional<Turn>(std::in_place, *this);
}

void SlowCheckGate::leave() {
    {
        std::lock_guard lock(m_mutex);
        --m_running;
    }
    m_turn_free.notify_one();
}

int SlowCheckGate::most_running() const {
    std::lock_guard lock(m_mutex);
    return m_most_running;
}

}  // namespace scepra::store
