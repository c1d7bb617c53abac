// SPDX-License-Identifier: Apache-2.0
#include "bench/pinning.hpp"

#include <sched.h>

#include <sstream>
#include <stdexcept>

namespace scepra::bench {

void pin_to_cpus(const std::string& list) {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::istringstream items(list);
    std::string item;
    bool any = false;
    while (std::getline(items, item, ',')) {
        try {
            const auto dash = item.find('-');
            size_t used = 0;
            const int first = std::stoi(item.substr(0, dash), &used);
            const int last = dash == std::string::npos ? first : std::stoi(item.substr(dash + 1));
            if (first < 0 || last < first || last >= CPU_SETSIZE) {
                throw std::out_of_range("cpu");
            }
            for (int cpu = first; cpu <= last; ++cpu) {
                CPU_SET(cpu, &set);
                any = true;
            }
        } catch (const std::logic_error&) {
            throw std::invalid_argument("--pin: '" + list + "' is not a CPU list such as 1 or 0,2 or 2-3");
        }
    }
    if (!any || ::sched_setaffinity(0, sizeof set, &set) != 0) {
        throw std::invalid_argument("--pin: cannot run on CPUs '" + list + "'");
    }
}

}  // namespace scepra::bench
