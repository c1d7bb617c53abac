// SPDX-License-Identifier: Apache-2.0
// Enrolment load: N pre-built PKCSReq messages, one per identity, and the CertRep checks.
#pragma once

#include <string>
#include <vector>

#include "bench/identity.hpp"
#include "bench/options.hpp"
#include "bench/target_url.hpp"
#include "bench/workload.hpp"
#include "common/bytes.hpp"
#include "scep/ca_certs.hpp"
#include "scep/types.hpp"

namespace scepra::bench {

using scep::CaCerts;

/// One PKCSReq ready to send.
struct PreparedRequest {
    std::string target;  ///< path and query
    std::string body;    ///< the pkiMessage for POST; empty for GET
    std::string transaction_id;
    Bytes sender_nonce;
};

/// Which pkiMessage the workload sends.
struct MessagePlan {
    scep::MessageType type = scep::MessageType::pkcs_req;
    /// CertPoll: the transactionIDs of the PKCSReqs sent before, one per identity.
    std::vector<std::string> transaction_ids = {};
};

class EnrollWorkload final : public Workload {
  public:
    /// Builds one message per identity on every core, encrypted to the RA
    /// encryption certificate and signed by the identity: a PKCSReq (CSR with
    /// challenges[i]), a RenewalReq (identities hold their issued
    /// certificates; no challenge), or a CertPoll for plan.transaction_ids[i]
    /// (PENDING counts as success).
    EnrollWorkload(const TargetUrl& target, const Options& options, const CaCerts& ca,
                   std::vector<Identity> identities, const std::vector<std::string>& challenges,
                   const MessagePlan& plan = {});
    /// The transactionID of request i.
    const std::string& transaction_id(size_t i) const { return m_requests[i].transaction_id; }
    /// Moves the identities out (the workload is spent).
    std::vector<Identity> take_identities() { return std::move(m_identities); }
    size_t size() const override { return m_requests.size(); }
    httplib::Result send(httplib::Client& client, size_t i) const override;
    Outcome check(size_t i, const httplib::Response& reply) const override;

  private:
    const CaCerts& m_ca;
    std::vector<Identity> m_identities;
    std::vector<PreparedRequest> m_requests;
    bool m_post;
    size_t m_verify_every;
    bool m_pending_is_success;
};

}  // namespace scepra::bench
