// SPDX-License-Identifier: Apache-2.0
// GetCACert / GetCACaps load: the same GET n times, each reply compared with the first one.
#pragma once

#include <string>

#include "bench/target_url.hpp"
#include "bench/workload.hpp"

namespace scepra::bench {

class GetWorkload final : public Workload {
  public:
    /// expected_body: the reply to the untimed first GET of this operation.
    GetWorkload(const TargetUrl& target, const std::string& operation, size_t n, std::string expected_body);
    size_t size() const override { return m_n; }
    httplib::Result send(httplib::Client& client, size_t i) const override;
    Outcome check(size_t i, const httplib::Response& reply) const override;

  private:
    std::string m_target;
    size_t m_n;
    std::string m_expected;
};

}  // namespace scepra::bench
