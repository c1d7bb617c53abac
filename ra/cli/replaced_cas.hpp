// SPDX-License-Identifier: Apache-2.0
// The issuing CA certificates a remote CA (EJBCA, AD CS) replaced by renewing
// with a new key under the same name, as this RA saw it happen: certificates
// they issued may still sign a renewal. Kept beside the database so that a
// restart keeps them; bounded, and each dropped once it has expired.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "crypto/handles.hpp"

namespace scepra::cli {

class ReplacedCas {
  public:
    /// At most this many are kept; a newer replacement pushes out the oldest.
    static constexpr std::size_t max_kept = 4;

    /// Reads file (PEM; none yet is empty) and drops what expired before now.
    /// Throws std::runtime_error naming the file when it cannot be read.
    ReplacedCas(std::filesystem::path file, TimePoint now);

    /// previous was the issuing CA, current is: when that is a re-key (same
    /// subject, another key) and previous is still valid, keeps previous and
    /// writes the file, and returns a line for the log and audit trail.
    /// Nothing when it is not a re-key (the same certificate, a renewal with
    /// the same key: what it issued verifies under current).
    std::optional<std::string> note(X509& previous, X509& current, TimePoint now);

    /// Drops the ones expired before now (and writes the file when any was);
    /// the log lines saying which.
    std::vector<std::string> drop_expired(TimePoint now);

    std::vector<crypto::X509Ptr> certificates() const;
    const std::filesystem::path& file() const { return m_file; }

  private:
    void save() const;

    std::filesystem::path m_file;
    std::vector<crypto::X509Ptr> m_kept;  ///< oldest first
};

/// Where the replaced CA certificates are kept (beside the database).
std::filesystem::path replaced_cas_file(const std::filesystem::path& database);

}  // namespace scepra::cli
