// SPDX-License-Identifier: Apache-2.0
// The schema migrations compiled into the binary from schema/NNNN_*.sql.
#pragma once

#include <vector>

namespace scepra::store {

struct Migration {
    int version;
    const char* name;
    const char* sql;
};

/// All migrations in ascending version order (generated at build time).
const std::vector<Migration>& migrations();

}  // namespace scepra::store
