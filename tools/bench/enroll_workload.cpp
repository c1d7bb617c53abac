// SPDX-License-Identifier: Apache-2.0
// Builds PKCSReq messages with the project's SCEP client code and sends them by POST or GET.
#include "bench/enroll_workload.hpp"

#include "bench/parallel.hpp"
#include "bench/reply_check.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "scep/client.hpp"
#include "scep/message_data.hpp"

namespace scepra::bench {

EnrollWorkload::EnrollWorkload(const TargetUrl& target, const Options& options, const CaCerts& ca,
                               std::vector<Identity> identities, const std::vector<std::string>& challenges,
                               const MessagePlan& plan)
    : m_ca(ca),
      m_identities(std::move(identities)),
      m_post(!options.use_get),
      m_verify_every(options.verify_every),
      m_pending_is_success(plan.type == scep::MessageType::cert_poll) {
    m_requests.resize(m_identities.size());
    // Subjects unique to this run, so cached keys never collide with an earlier run's certificates.
    const std::string run_id = to_hex(crypto::random_bytes(4));
    const scep::EnvelopeAlgorithms algorithms{options.cipher, false};
    parallel_for(m_requests.size(), core_count(), [&](size_t i) {
        Identity& id = m_identities[i];
        PreparedRequest& req = m_requests[i];
        scep::ClientRequest client_request;
        client_request.type = plan.type;
        client_request.transaction_id = plan.type == scep::MessageType::cert_poll
                                            ? plan.transaction_ids.at(i)
                                            : to_hex(crypto::random_bytes(16));
        client_request.sender_nonce = crypto::random_bytes(16);
        Bytes message_data;
        if (plan.type == scep::MessageType::cert_poll) {
            // IssuerAndSubject; the server finds the request by transactionID.
            message_data = scep::issuer_and_subject_der(*X509_get_issuer_name(id.cert.get()),
                                                        *X509_get_subject_name(id.cert.get()));
        } else if (plan.type == scep::MessageType::renewal_req) {
            // Same subject as the certificate being renewed, same key, no challenge.
            auto csr = make_csr(*id.key, "renewal", "", options.digest);
            X509_REQ_set_subject_name(csr.get(), X509_get_subject_name(id.cert.get()));
            X509_REQ_sign(csr.get(), id.key.get(), EVP_get_digestbyname(options.digest.c_str()));
            message_data = crypto::csr_der(*csr);
        } else {
            auto csr = make_csr(*id.key, "scep-bench " + run_id + " " + std::to_string(i), challenges.at(i),
                                options.digest);
            message_data = crypto::csr_der(*csr);
        }
        scep::Signer signer{*id.cert, *id.key, options.digest};
        Bytes message = scep::build_pki_request(client_request, message_data, *ca.ra_encryption, algorithms,
                                                signer, std::chrono::system_clock::now());
        req.transaction_id = client_request.transaction_id;
        req.sender_nonce = client_request.sender_nonce;
        if (m_post) {
            req.target = target.path + "?operation=PKIOperation";
            req.body = to_string(message);
        } else {
            req.target = target.path + "?operation=PKIOperation&message=" + scep::encode_get_message(message);
        }
    });
}

httplib::Result EnrollWorkload::send(httplib::Client& client, size_t i) const {
    const PreparedRequest& req = m_requests[i];
    if (m_post) {
        return client.Post(req.target, req.body, "application/x-pki-message");
    }
    return client.Get(req.target);
}

Outcome EnrollWorkload::check(size_t i, const httplib::Response& reply) const {
    const PreparedRequest& req = m_requests[i];
    const bool verify = i % m_verify_every == 0;
    return check_cert_rep(reply, {req.transaction_id, req.sender_nonce, m_pending_is_success},
                          m_identities[i], m_ca, verify);
}

}  // namespace scepra::bench
