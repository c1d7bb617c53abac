// SPDX-License-Identifier: Apache-2.0
// The client side of SCEP, used by `scep-ra doctor --enroll`, the test suite and the benchmark tool:
// building pkiMessage requests and reading CertRep replies.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scep/envelope.hpp"
#include "scep/signed_message.hpp"

namespace scepra::scep {

struct ClientRequest {
    MessageType type = MessageType::pkcs_req;
    std::string transaction_id;
    Bytes sender_nonce;  ///< 16 random bytes when left empty
};

/// Encrypts message_data to the RA encryption certificate and signs the result.
Bytes build_pki_request(const ClientRequest& request, ByteView message_data, X509& ra_encryption_cert,
                        const EnvelopeAlgorithms& algorithms, const Signer& signer, TimePoint now);

struct CertRepView {
    PkiStatus status = PkiStatus::failure;
    std::optional<FailInfo> fail_info;
    std::optional<std::string> fail_info_text;
    int message_type = 0;
    std::string transaction_id;
    Bytes sender_nonce;
    std::optional<Bytes> recipient_nonce;
    std::vector<crypto::X509Ptr> certs;    ///< decrypted certificates on SUCCESS
    std::vector<crypto::X509CrlPtr> crls;  ///< decrypted CRLs on SUCCESS (GetCRL)
    bool signature_valid = false;
    bool signed_by_expected = false;  ///< the signer is the expected RA signing certificate
    std::string digest;
    EnvelopeAlgorithms algorithms;  ///< how the SUCCESS envelope was encrypted
};

/// The `message` value of a GET PKIOperation (RFC 8894 §4.1): standard base64
/// with '+', '/' and '=' percent-escaped.
std::string encode_get_message(ByteView der);

/// Reads a CertRep; on SUCCESS decrypts it with the client's key. Throws
/// DecodeError or ScepFailure when it cannot be read.
CertRepView read_cert_rep(ByteView der, const X509& expected_signer, const Recipient& client);

}  // namespace scepra::scep
