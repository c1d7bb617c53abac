// SPDX-License-Identifier: Apache-2.0
#include "support/scripted_backend.hpp"

#include <openssl/x509.h>

#include <stdexcept>
#include <utility>

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "support/test_pki.hpp"

namespace scepra::test {

namespace {

crypto::X509ReqPtr parse_csr(const Bytes& der) {
    const unsigned char* p = der.data();
    crypto::X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
    if (!req) {
        throw std::runtime_error("scripted backend: unreadable CSR");
    }
    return req;
}

Behaviour next(std::deque<Behaviour>& script, std::optional<Behaviour> when_empty) {
    if (script.empty()) {
        if (!when_empty) {
            throw std::logic_error("scripted backend: submit() called more often than scripted");
        }
        return *when_empty;
    }
    Behaviour b = script.front();
    script.pop_front();
    return b;
}

}  // namespace

ScriptedBackend::ScriptedBackend(X509& ca_cert, EVP_PKEY& ca_key) : m_ca_cert(ca_cert), m_ca_key(ca_key) {}

void ScriptedBackend::script_submit(std::vector<Behaviour> behaviours) {
    m_submit_script.insert(m_submit_script.end(), behaviours.begin(), behaviours.end());
}

void ScriptedBackend::script_poll(std::vector<Behaviour> behaviours) {
    m_poll_script.insert(m_poll_script.end(), behaviours.begin(), behaviours.end());
}

int ScriptedBackend::submits(const std::string& transaction_id) const {
    auto it = m_submits.find(transaction_id);
    return it == m_submits.end() ? 0 : it->second;
}

backend::SubmitResult ScriptedBackend::act(Behaviour behaviour, const Bytes& csr_der) {
    backend::SubmitResult result;
    switch (behaviour) {
        case Behaviour::issued: {
            auto req = parse_csr(csr_der);
            auto cert = make_cert("CN=scripted device", *X509_REQ_get0_pubkey(req.get()), &m_ca_cert,
                                  &m_ca_key, {}, 30, m_next_serial++);
            result.disposition = backend::Disposition::issued;
            result.certificate_der = crypto::cert_der(*cert);
            result.chain_der.push_back(crypto::cert_der(m_ca_cert));
            break;
        }
        case Behaviour::pending:
            result.disposition = backend::Disposition::pending;
            result.backend_ref = "ref-" + std::to_string(m_next_serial++);
            m_pending_csr[result.backend_ref] = csr_der;
            break;
        case Behaviour::rejected:
            result.disposition = backend::Disposition::rejected;
            result.reason = "scripted rejection";
            break;
        case Behaviour::unavailable:
            throw backend::BackendUnavailable("scripted: the CA is down");
        case Behaviour::outcome_unknown:
        case Behaviour::lost_before_ca:
            throw std::logic_error("unknown outcomes are handled by submit()");
    }
    return result;
}

backend::SubmitResult ScriptedBackend::submit(const backend::SubmitRequest& request) {
    ++m_submits[request.transaction_id];
    Behaviour b = next(m_submit_script, std::nullopt);
    if (b == Behaviour::outcome_unknown) {
        // The CA took the request (and issued), but its answer never came back.
        m_done[request.transaction_id] = act(Behaviour::issued, request.csr_der);
        throw backend::OutcomeUnknown("scripted: timed out after sending");
    }
    if (b == Behaviour::lost_before_ca) {
        throw backend::OutcomeUnknown("scripted: 502 from a proxy in front of the CA");
    }
    backend::SubmitResult result = act(b, request.csr_der);
    m_done[request.transaction_id] = result;
    return result;
}

backend::SubmitResult ScriptedBackend::poll(const backend::PollRequest& request) {
    const std::string& backend_ref = request.backend_ref;
    ++m_polls;
    m_last_poll_csr = request.csr_der;
    auto csr = m_pending_csr.find(backend_ref);
    if (csr == m_pending_csr.end()) {
        throw std::logic_error("scripted backend: poll of an unknown backend_ref");
    }
    Behaviour b = next(m_poll_script, Behaviour::pending);
    if (b == Behaviour::outcome_unknown) {
        throw backend::OutcomeUnknown("scripted: the poll's answer was lost");
    }
    if (b == Behaviour::pending) {
        backend::SubmitResult result;
        result.disposition = backend::Disposition::pending;
        result.backend_ref = backend_ref;
        return result;
    }
    return act(b, csr->second);
}

std::vector<crypto::X509Ptr> ScriptedBackend::ca_chain() const {
    std::vector<crypto::X509Ptr> chain;
    chain.push_back(crypto::up_ref(m_ca_cert));
    return chain;
}

backend::Capabilities ScriptedBackend::capabilities() const {
    backend::Capabilities caps;
    caps.find_by_transaction = m_can_find;
    return caps;
}

std::optional<backend::SubmitResult> ScriptedBackend::find_by_transaction(
    const backend::TransactionQuery& query) {
    ++m_finds;
    m_last_find_claimed_at = query.claimed_at;
    std::optional<backend::SubmitResult> answer;
    if (auto done = m_done.find(query.transaction_id); m_can_find && done != m_done.end()) {
        answer = done->second;
    }
    // What the CA knew when it was asked, whatever happens while it answers.
    if (auto hook = std::exchange(m_find_hook, nullptr)) {
        hook();
    }
    return answer;
}

}  // namespace scepra::test
