// SPDX-License-Identifier: Apache-2.0
// Pre-generates (or loads from the cache) the N distinct client identities of an enrolment run.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "bench/identity.hpp"

namespace scepra::bench {

/// n identities of this key spec: taken from cache_file when it has them,
/// the rest generated on every core; the cache is then rewritten with these n
/// (identities of another key type in it are dropped).
/// Progress goes to log.
std::vector<Identity> prepare_identities(const crypto::KeySpec& spec, size_t n,
                                         const std::optional<std::string>& cache_file, std::ostream& log);

/// The identities repeated in turn until there are n (--distinct-keys: the
/// same device key in several transactions, each CSR with its own subject).
void repeat_identities(std::vector<Identity>& ids, size_t n);

}  // namespace scepra::bench
