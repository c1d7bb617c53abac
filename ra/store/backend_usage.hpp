// SPDX-License-Identifier: Apache-2.0
// Which CA backends still hold open requests: a request pending at one CA
// can only be finished by that CA, so a configuration that drops it is refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace scepra::store {

struct BackendUsage {
    std::string backend;    ///< requests.backend, as CaBackend::name() recorded it
    std::int64_t open = 0;  ///< requests still pending there (a CA reference, or held for it)
};

/// Backends with pending requests, the most first.
std::vector<BackendUsage> backends_with_open_requests(Database& db);

}  // namespace scepra::store
