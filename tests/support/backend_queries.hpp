// SPDX-License-Identifier: Apache-2.0
// Backend contract requests with only the fields a test cares about.
#pragma once

#include <string>

#include "api/ca_backend.hpp"

namespace scepra::test {

inline backend::PollRequest poll_of(std::string backend_ref) {
    backend::PollRequest request;
    request.backend_ref = std::move(backend_ref);
    return request;
}

inline backend::TransactionQuery transaction_query(std::string transaction_id, Bytes key_hash) {
    backend::TransactionQuery query;
    query.transaction_id = std::move(transaction_id);
    query.key_hash = std::move(key_hash);
    return query;
}

}  // namespace scepra::test
