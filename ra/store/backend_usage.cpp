// SPDX-License-Identifier: Apache-2.0
#include "store/backend_usage.hpp"

namespace scepra::store {

std::vector<BackendUsage> backends_with_open_requests(Database& db) {
    return db.read([](Database& d) {
        std::vector<BackendUsage> usage;
        auto st = d.prepare(
            "SELECT backend, COUNT(*) FROM requests WHERE status = 'pending' GROUP BY backend ORDER BY 2 "
            "DESC");
        while (st.step()) {
            usage.push_back({st.column_text(0), st.column_int(1)});
        }
        return usage;
    });
}

}  // namespace scepra::store
