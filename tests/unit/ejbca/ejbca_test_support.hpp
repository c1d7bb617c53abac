// SPDX-License-Identifier: Apache-2.0
// Requests and checks shared by the EJBCA backend tests.
#pragma once

#include <string>

#include "api/ca_backend.hpp"
#include "crypto/encoding.hpp"
#include "support/test_pki.hpp"

namespace scepra::test {

/// A SubmitRequest for a fresh CSR of key with subject and optional SAN text ("DNS:a,email:b").
inline backend::SubmitRequest request_for(EVP_PKEY& key, const std::string& subject,
                                          const std::string& transaction_id, const std::string& san = "") {
    std::vector<Ext> exts;
    if (!san.empty()) {
        exts.push_back({NID_subject_alt_name, san});
    }
    backend::SubmitRequest request;
    request.transaction_id = transaction_id;
    request.csr_der = crypto::csr_der(*make_csr(key, subject, "", exts));
    request.requester = "127.0.0.1";
    return request;
}

/// Whether the DER certificate carries key's public key.
inline bool certifies_key(const Bytes& cert_der, EVP_PKEY& key) {
    auto cert = crypto::cert_from_der(cert_der);
    return EVP_PKEY_eq(X509_get0_pubkey(cert.get()), &key) == 1;
}

inline std::string subject_of(const Bytes& cert_der) {
    auto cert = crypto::cert_from_der(cert_der);
    return crypto::name_string(*X509_get_subject_name(cert.get()));
}

}  // namespace scepra::test
