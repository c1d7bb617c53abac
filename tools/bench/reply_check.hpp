// SPDX-License-Identifier: Apache-2.0
// Judges one CertRep: HTTP status, RA signature, echoed fields, pkiStatus, and optionally the issued
// certificate.
#pragma once

#include <httplib.h>

#include <string>

#include "bench/identity.hpp"
#include "bench/workload.hpp"
#include "common/bytes.hpp"
#include "scep/ca_certs.hpp"

namespace scepra::bench {

using scep::CaCerts;

/// What the reply must echo from our request.
struct ExpectedReply {
    const std::string& transaction_id;
    ByteView sender_nonce;
    bool pending_is_success = false;  ///< poll mode: PENDING is the expected answer
};

/// Success only for HTTP 200, a CertRep signed (validly) by the RA signing
/// certificate, echoing transactionID and senderNonce (as recipientNonce),
/// with pkiStatus SUCCESS. With verify, also decrypts the envelope and checks
/// that a certificate in it carries the client's public key and chains to a
/// CA from GetCACert; its serial is then reported.
Outcome check_cert_rep(const httplib::Response& reply, const ExpectedReply& expected, const Identity& client,
                       const CaCerts& ca, bool verify);

}  // namespace scepra::bench
