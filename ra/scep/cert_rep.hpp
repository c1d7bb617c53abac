// SPDX-License-Identifier: Apache-2.0
// CertRep replies (RFC 8894 §3.3.2): SUCCESS, FAILURE and PENDING.
#pragma once

#include <string>
#include <vector>

#include "scep/envelope.hpp"
#include "scep/signed_message.hpp"

namespace scepra::scep {

/// What a reply echoes from the request it answers.
struct ReplyTo {
    std::string transaction_id;
    Bytes request_sender_nonce;  ///< becomes the reply's recipientNonce
};

/// SUCCESS: a degenerate SignedData (the issued certificate first, or a CRL)
/// enveloped to `recipient` (the request's signer) with `algorithms`, then
/// signed. A fresh senderNonce is drawn for every reply.
Bytes make_cert_rep_success(const ReplyTo& to, const Signer& signer, ByteView degenerate, X509& recipient,
                            const EnvelopeAlgorithms& algorithms, TimePoint now);

/// FAILURE: signed, no envelope (RFC 8894 §3.3.2.2), failInfo and failInfoText.
Bytes make_cert_rep_failure(const ReplyTo& to, const Signer& signer, FailInfo info, const std::string& text,
                            TimePoint now);

/// PENDING: signed, no envelope.
Bytes make_cert_rep_pending(const ReplyTo& to, const Signer& signer, TimePoint now);

}  // namespace scepra::scep
