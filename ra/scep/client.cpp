// SPDX-License-Identifier: Apache-2.0
// Client-side SCEP messages for tests and benchmarks.
#include "scep/client.hpp"

#include <openssl/evp.h>

#include "crypto/digest.hpp"
#include "scep/degenerate.hpp"

namespace scepra::scep {

Bytes build_pki_request(const ClientRequest& request, ByteView message_data, X509& ra_encryption_cert,
                        const EnvelopeAlgorithms& algorithms, const Signer& signer, TimePoint now) {
    ScepAttributes attrs;
    attrs.message_type = static_cast<int>(request.type);
    attrs.transaction_id = request.transaction_id;
    attrs.sender_nonce = request.sender_nonce.empty() ? crypto::random_bytes(16) : request.sender_nonce;
    Bytes envelope = seal_envelope(message_data, ra_encryption_cert, algorithms);
    return sign_pki_message(envelope, attrs, signer, now);
}

std::string encode_get_message(ByteView der) {
    std::string b64(4 * ((der.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), der.data(),
                            static_cast<int>(der.size()));
    b64.resize(static_cast<size_t>(n));
    std::string out;
    out.reserve(b64.size() + b64.size() / 8);
    for (char c : b64) {
        if (c == '+') {
            out += "%2B";
        } else if (c == '/') {
            out += "%2F";
        } else if (c == '=') {
            out += "%3D";
        } else {
            out += c;
        }
    }
    return out;
}

CertRepView read_cert_rep(ByteView der, const X509& expected_signer, const Recipient& client) {
    SignedMessage msg = parse_signed_message(der);
    CertRepView view;
    view.message_type = msg.attrs.message_type;
    view.transaction_id = msg.attrs.transaction_id;
    view.sender_nonce = msg.attrs.sender_nonce;
    view.recipient_nonce = msg.attrs.recipient_nonce;
    view.fail_info = msg.attrs.fail_info;
    view.fail_info_text = msg.attrs.fail_info_text;
    view.signature_valid = msg.signature_valid;
    view.signed_by_expected = X509_cmp(msg.signer_cert.get(), &expected_signer) == 0;
    view.digest = msg.digest;
    if (!msg.attrs.pki_status) {
        throw DecodeError("CertRep without pkiStatus");
    }
    view.status = *msg.attrs.pki_status;
    if (view.status == PkiStatus::success) {
        OpenedEnvelope opened = open_envelope(msg.content, {client}, CipherPolicy{.allow_single_des = true});
        view.algorithms = opened.algorithms;
        view.certs = parse_degenerate(opened.content);
        view.crls = parse_degenerate_crls(opened.content);
    }
    return view;
}

}  // namespace scepra::scep
