// SPDX-License-Identifier: Apache-2.0
// A CA backend whose answers a test scripts in advance: each submit() or
// poll() takes the next scripted behaviour (issued, pending, rejected,
// unavailable, outcome unknown, lost before the CA), and every call is recorded.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/ca_backend.hpp"

namespace scepra::test {

enum class Behaviour {
    issued,
    pending,
    rejected,
    unavailable,
    outcome_unknown,  ///< the CA issues, its answer is lost (a timeout after sending)
    lost_before_ca,   ///< an answer that leaves the outcome unknown, but the CA never got the request (a
                      ///< proxy's 502)
};

class ScriptedBackend final : public backend::CaBackend {
  public:
    /// Issues with this CA (certificate and key) when told to.
    ScriptedBackend(X509& ca_cert, EVP_PKEY& ca_key);

    /// The next submit() calls behave like this, in order. With none left, submit() throws.
    void script_submit(std::vector<Behaviour> behaviours);
    /// The next poll() calls behave like this, in order. With none left, poll() answers pending.
    void script_poll(std::vector<Behaviour> behaviours);
    /// find_by_transaction() answers what the CA really did (true, the default)
    /// or, like a CA that cannot tell, nothing (false).
    void set_can_find(bool can_find) { m_can_find = can_find; }
    /// Runs `hook` once, inside the next find_by_transaction() call, after it
    /// has looked and before it answers (a slow CA, another attempt meanwhile).
    void during_next_find(std::function<void()> hook) { m_find_hook = std::move(hook); }
    /// What settle_time() answers (zero unless set).
    void set_settle_time(std::chrono::seconds settle) { m_settle = settle; }
    std::chrono::seconds settle_time() const override { return m_settle; }

    int submits(const std::string& transaction_id) const;
    int polls() const { return m_polls; }
    int finds() const { return m_finds; }
    /// TransactionQuery::claimed_at of the last find_by_transaction() call.
    std::optional<TimePoint> last_find_claimed_at() const { return m_last_find_claimed_at; }
    /// The CSR the RA handed to the last poll() (empty when it held none).
    const Bytes& last_poll_csr() const { return m_last_poll_csr; }

    std::string name() const override { return "scripted"; }
    backend::SubmitResult submit(const backend::SubmitRequest& request) override;
    backend::SubmitResult poll(const backend::PollRequest& request) override;
    std::vector<crypto::X509Ptr> ca_chain() const override;
    backend::Capabilities capabilities() const override;
    std::optional<backend::SubmitResult> find_by_transaction(const backend::TransactionQuery& query) override;

  private:
    backend::SubmitResult act(Behaviour behaviour, const Bytes& csr_der);

    X509& m_ca_cert;
    EVP_PKEY& m_ca_key;
    std::deque<Behaviour> m_submit_script;
    std::deque<Behaviour> m_poll_script;
    bool m_can_find = true;
    std::function<void()> m_find_hook;
    std::chrono::seconds m_settle{0};
    std::map<std::string, int> m_submits;
    /// What the CA did per transaction (even when the RA never heard the answer).
    std::map<std::string, backend::SubmitResult> m_done;
    std::map<std::string, Bytes> m_pending_csr;  ///< backend_ref -> CSR
    Bytes m_last_poll_csr;
    int m_polls = 0;
    int m_finds = 0;
    std::optional<TimePoint> m_last_find_claimed_at;
    long m_next_serial = 100;
};

}  // namespace scepra::test
