// SPDX-License-Identifier: Apache-2.0
// Building CertRep messages.
#include "scep/cert_rep.hpp"

#include "crypto/digest.hpp"

namespace scepra::scep {

namespace {
ScepAttributes reply_attributes(const ReplyTo& to, PkiStatus status) {
    ScepAttributes attrs;
    attrs.message_type = static_cast<int>(MessageType::cert_rep);
    attrs.transaction_id = to.transaction_id;
    attrs.sender_nonce = crypto::random_bytes(16);
    attrs.recipient_nonce = to.request_sender_nonce;
    attrs.pki_status = status;
    return attrs;
}
}  // namespace

Bytes make_cert_rep_success(const ReplyTo& to, const Signer& signer, ByteView degenerate, X509& recipient,
                            const EnvelopeAlgorithms& algorithms, TimePoint now) {
    Bytes envelope = seal_envelope(degenerate, recipient, algorithms);
    return sign_pki_message(envelope, reply_attributes(to, PkiStatus::success), signer, now);
}

Bytes make_cert_rep_failure(const ReplyTo& to, const Signer& signer, FailInfo info, const std::string& text,
                            TimePoint now) {
    ScepAttributes attrs = reply_attributes(to, PkiStatus::failure);
    attrs.fail_info = info;
    if (!text.empty()) {
        attrs.fail_info_text = text;
    }
    return sign_pki_message({}, attrs, signer, now);
}

Bytes make_cert_rep_pending(const ReplyTo& to, const Signer& signer, TimePoint now) {
    return sign_pki_message({}, reply_attributes(to, PkiStatus::pending), signer, now);
}

}  // namespace scepra::scep
