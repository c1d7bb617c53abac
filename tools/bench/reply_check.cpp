// SPDX-License-Identifier: Apache-2.0
// CertRep checks built on the project's pkiMessage parser and envelope code.
#include "bench/reply_check.hpp"

#include <openssl/err.h>

#include "crypto/digest.hpp"
#include "scep/degenerate.hpp"
#include "scep/envelope.hpp"
#include "scep/issued_cert_check.hpp"
#include "scep/signed_message.hpp"

namespace scepra::bench {

namespace {

Outcome failed(std::string reason) {
    Outcome out;
    out.failure = std::move(reason);
    return out;
}

std::string status_failure(const scep::ScepAttributes& attrs) {
    if (*attrs.pki_status == scep::PkiStatus::pending) return "PENDING";
    if (attrs.fail_info) return scep::fail_info_name(*attrs.fail_info);
    return "FAILURE without failInfo";
}

}  // namespace

Outcome check_cert_rep(const httplib::Response& reply, const ExpectedReply& expected, const Identity& client,
                       const CaCerts& ca, bool verify) {
    if (reply.status != 200) {
        return failed("HTTP " + std::to_string(reply.status));
    }
    scep::SignedMessage msg;
    try {
        msg = scep::parse_signed_message(as_bytes(reply.body));
    } catch (const std::exception&) {
        ERR_clear_error();
        return failed("reply is not a pkiMessage");
    }
    if (!msg.signature_valid) return failed("bad reply signature");
    if (X509_cmp(msg.signer_cert.get(), ca.ra_signing) != 0) return failed("reply not signed by the RA");
    const scep::ScepAttributes& attrs = msg.attrs;
    if (attrs.message_type != static_cast<int>(scep::MessageType::cert_rep))
        return failed("reply is not a CertRep");
    if (attrs.transaction_id != expected.transaction_id) return failed("transactionID not echoed");
    if (!attrs.recipient_nonce ||
        !crypto::constant_time_equal(*attrs.recipient_nonce, expected.sender_nonce)) {
        return failed("recipientNonce != senderNonce");
    }
    if (!attrs.pki_status) return failed("no pkiStatus");
    if (expected.pending_is_success && *attrs.pki_status == scep::PkiStatus::pending) {
        Outcome out;
        out.success = true;
        return out;
    }
    if (*attrs.pki_status != scep::PkiStatus::success) return failed(status_failure(attrs));

    Outcome out;
    out.success = true;
    if (!verify) return out;
    std::vector<crypto::X509Ptr> certs;
    try {
        // The same decryption read_cert_rep does, without parsing the message twice.
        scep::Recipient me{*client.cert, *client.key};
        scep::OpenedEnvelope opened =
            scep::open_envelope(msg.content, {me}, scep::CipherPolicy{.allow_single_des = true});
        certs = scep::parse_degenerate(opened.content);
    } catch (const std::exception&) {
        ERR_clear_error();
        return failed("cannot decrypt the reply envelope");
    }
    scep::IssuedCertCheck issued = scep::check_issued_cert(certs, *client.key, ca);
    if (!issued.failure.empty()) return failed(issued.failure);
    out.verified = true;
    out.serial = issued.serial;
    return out;
}

}  // namespace scepra::bench
