// SPDX-License-Identifier: Apache-2.0
// Sends GET ?operation=GetCACert|GetCACaps and checks status and body.
#include "bench/get_workload.hpp"

namespace scepra::bench {

GetWorkload::GetWorkload(const TargetUrl& target, const std::string& operation, size_t n,
                         std::string expected_body)
    : m_target(target.path + "?operation=" + operation), m_n(n), m_expected(std::move(expected_body)) {}

httplib::Result GetWorkload::send(httplib::Client& client, size_t) const { return client.Get(m_target); }

Outcome GetWorkload::check(size_t, const httplib::Response& reply) const {
    Outcome out;
    if (reply.status != 200) {
        out.failure = "HTTP " + std::to_string(reply.status);
    } else if (reply.body != m_expected) {
        out.failure = "reply differs from the first one";
    } else {
        out.success = true;
    }
    return out;
}

}  // namespace scepra::bench
