// SPDX-License-Identifier: Apache-2.0
// Enrolment load: N pre-built PKCSReq messages, one per identity, and the CertRep checks.
#pragma once

#include <string>
#include <vector>

#include "bench/ca_certs.hpp"
#include "bench/identity.hpp"
#include "bench/options.hpp"
#include "bench/target_url.hpp"
#include "bench/workload.hpp"
#include "common/bytes.hpp"

namespace scepra::bench {

/// One PKCSReq ready to send.
struct PreparedRequest {
    std::string target;  ///< path and query
    std::string body;    ///< the pkiMessage for POST; empty for GET
    std::string transaction_id;
    Bytes sender_nonce;
};

class EnrollWorkload final : public Workload {
  public:
    /// Builds one PKCSReq per identity (CSR with challenges[i], encrypted to
    /// the RA encryption certificate, signed by the identity) on every core.
    EnrollWorkload(const TargetUrl& target, const Options& options, const CaCerts& ca,
                   std::vector<Identity> identities, const std::vector<std::string>& challenges);
    size_t size() const override { return m_requests.size(); }
    httplib::Result send(httplib::Client& client, size_t i) const override;
    Outcome check(size_t i, const httplib::Response& reply) const override;

  private:
    const CaCerts& m_ca;
    std::vector<Identity> m_identities;
    std::vector<PreparedRequest> m_requests;
    bool m_post;
    size_t m_verify_every;
};

}  // namespace scepra::bench
