// SPDX-License-Identifier: Apache-2.0
// A file of pre-generated client identities (PEM key + PEM certificate pairs) reused across runs.
#pragma once

#include <filesystem>
#include <vector>

#include "bench/identity.hpp"

namespace scepra::bench {

/// The identities in the cache whose key matches spec, in file order; none
/// when the file does not exist. Throws when the file exists but is damaged.
std::vector<Identity> load_identities(const std::filesystem::path& file, const crypto::KeySpec& spec);

/// Replaces the cache with these identities (mode 0600: it holds private keys).
void save_identities(const std::filesystem::path& file, const std::vector<Identity>& identities);

}  // namespace scepra::bench
