// SPDX-License-Identifier: Apache-2.0
// The exception thrown at the OpenSSL boundary; it carries the drained error queue.
#pragma once

#include <stdexcept>
#include <string>

namespace scepra::crypto {

class OpensslError : public std::runtime_error {
  public:
    /// Builds "what: <OpenSSL error queue>" and empties the queue.
    explicit OpensslError(const std::string& what);
};

/// Throws OpensslError(what) unless ok.
inline void check(bool ok, const char* what) {
    if (!ok) {
        throw OpensslError(what);
    }
}

}  // namespace scepra::crypto
