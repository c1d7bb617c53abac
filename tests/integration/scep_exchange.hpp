// SPDX-License-Identifier: Apache-2.0
// SCEP messages the integration tests send to a ServerFixture, the checks of its replies and the
// configuration edits that several test files share (one definition each: http_tests is a unity build).
#pragma once

#include <cstdint>
#include <string>

#include "integration/server_fixture.hpp"
#include "scep/message_data.hpp"

namespace scepra::test {

/// Who signs a request (and so receives the encrypted reply): a certificate and its key.
struct Identity {
    X509& cert;
    EVP_PKEY& key;
};

/// The device as the signer of its first request: its self-signed certificate.
Identity self_signed(Device& device);

/// Encrypts message_data to the RA (AES-128-CBC), signs it as `as` (SHA-256), POSTs it and reads the
/// CertRep; checks HTTP 200, the RA's signature and the transaction ID.
scep::CertRepView send_scep(ServerFixture& server, scep::MessageType type, const std::string& txid,
                            const Bytes& message_data, Identity as);

/// A PKCSReq for csr, signed by the device's self-signed certificate.
scep::CertRepView pkcs_req(ServerFixture& server, Device& device, const X509_REQ& csr,
                           const std::string& txid);

/// A CertPoll (IssuerAndSubject) naming `issuer` and the device's subject, signed by the device.
scep::CertRepView cert_poll(ServerFixture& server, Device& device, X509& issuer, const std::string& txid);

/// The PKCSReq message of the device's CSR with this challenge (signed by the device), not sent.
Bytes pkcs_req_message(ServerFixture& server, Device& device, const std::string& challenge,
                       const std::string& txid);

/// FAILURE with failInfo `info`, no certificate, and a failure text that holds text_part.
void check_failure(const scep::CertRepView& view, scep::FailInfo info, const std::string& text_part);

/// FAILURE badRequest, no certificate, and a failure text that holds text_part.
void check_refused(const scep::CertRepView& view, const std::string& text_part);

/// PENDING: no failInfo, no certificate.
void check_pending(const scep::CertRepView& view);

/// GetCACaps' answer.
std::string ca_caps(ServerFixture& server);

/// The one request the RA holds for approval.
std::int64_t only_pending_request(ServerFixture& server);

/// Configuration edit: up to 100 outstanding one-time passwords (NDES's default is 5).
void many_passwords(std::string& conf);

/// Configuration edit: every template (all three [templates] names) is the profile Manual, which waits for
/// an officer.
void manual_approval(std::string& conf);

}  // namespace scepra::test
