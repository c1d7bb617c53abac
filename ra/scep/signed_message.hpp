// SPDX-License-Identifier: Apache-2.0
// A SCEP pkiMessage is a CMS SignedData whose signed attributes carry the
// SCEP fields (RFC 8894 §3.2). This file builds and reads that layer; the
// request and reply code on top decide what goes in it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "crypto/handles.hpp"
#include "scep/types.hpp"

namespace scepra::scep {

/// Longest transactionID accepted (RFC 8894 sets none; it is echoed in every reply and stored).
inline constexpr size_t max_transaction_id_length = 128;
/// senderNonce and recipientNonce are 16 octets (RFC 8894 §3.2.1.5).
inline constexpr size_t nonce_length = 16;

/// The SCEP signed attributes of one pkiMessage.
struct ScepAttributes {
    int message_type = 0;
    std::string transaction_id;
    Bytes sender_nonce;
    std::optional<Bytes> recipient_nonce;
    std::optional<PkiStatus> pki_status;
    std::optional<FailInfo> fail_info;
    std::optional<std::string> fail_info_text;
};

/// What it takes to sign a pkiMessage.
struct Signer {
    X509& cert;
    EVP_PKEY& key;
    std::string digest = "SHA256";        ///< OpenSSL digest name
    std::vector<X509*> extra_certs = {};  ///< placed in SignedData.certificates besides the signer's
};

/// Signs content (may be empty) with the attributes, the signingTime and the
/// CMS contentType/messageDigest. Content is always encapsulated: an empty
/// eContent rather than a detached signature, so that verifiers that refuse
/// detached data (certmonger's PKCS7_verify) still accept FAILURE replies.
Bytes sign_pki_message(ByteView content, const ScepAttributes& attrs, const Signer& signer,
                       TimePoint signing_time);

/// A parsed (not yet trusted) pkiMessage.
struct SignedMessage {
    ScepAttributes attrs;
    crypto::X509Ptr signer_cert;         ///< the certificate the SignerInfo names
    std::vector<crypto::X509Ptr> certs;  ///< all certificates carried in the message
    std::string digest;                  ///< "SHA1", "SHA256", ... as named by OpenSSL; empty if unknown
    int digest_nid = 0;
    Bytes content;  ///< eContent (the pkcsPKIEnvelope), may be empty
    std::optional<TimePoint> signing_time;
    bool signature_valid = false;  ///< the signature verifies with signer_cert's key
    std::string signature_error;   ///< why not, when signature_valid is false
};

/// Parses a pkiMessage and checks its signature against the certificate it
/// names. Throws DecodeError when the bytes are not a SignedData of id-data
/// with exactly one signer, the signer's certificate and the mandatory SCEP
/// attributes (messageType: a number; transactionID: 1..128 PrintableString
/// characters; senderNonce: 16 octets), or when an attribute occurs twice or
/// has other than one value. No DecodeError text contains client data. A bad signature is reported in
/// the result, not thrown, so the caller can still answer with a signed
/// FAILURE (badMessageCheck).
SignedMessage parse_signed_message(ByteView der);

}  // namespace scepra::scep
