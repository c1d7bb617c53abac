// SPDX-License-Identifier: Apache-2.0
// Requests and the skip rule shared by the AD CS backend tests.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "api/ca_backend.hpp"
#include "bridge_process.hpp"
#include "crypto/encoding.hpp"
#include "support/test_pki.hpp"
#include "support/text.hpp"

/// Ends the test case with a clear message when the bridge cannot run here.
#define SKIP_WITHOUT_BRIDGE()                                                                  \
    do {                                                                                       \
        if (const std::string why = scepra::test::bridge_unavailable_reason(); !why.empty()) { \
            MESSAGE("skipped: " << why);                                                       \
            return;                                                                            \
        }                                                                                      \
    } while (false)

namespace scepra::test {

/// A SubmitRequest for a fresh P-256 key under template.
struct DeviceRequest {
    crypto::EvpPkeyPtr key = make_key(0, true);
    backend::SubmitRequest request;
    DeviceRequest(const std::string& template_name, const std::string& transaction_id,
                  const std::string& subject = "CN=device-1,O=scep-ra tests") {
        request.transaction_id = transaction_id;
        request.template_name = template_name;
        request.csr_der = crypto::csr_der(*make_csr(*key, subject));
        request.requester = "127.0.0.1";
    }
    backend::PollRequest poll(const std::string& backend_ref) const {
        return {backend_ref, request.transaction_id, request.template_name, request.csr_der};
    }
    backend::TransactionQuery query() const {
        return {request.transaction_id, {}, request.template_name, request.csr_der, std::nullopt};
    }
};

inline bool certifies_key(const Bytes& cert_der, EVP_PKEY& key) {
    auto cert = crypto::cert_from_der(cert_der);
    return EVP_PKEY_eq(X509_get0_pubkey(cert.get()), &key) == 1;
}

inline std::string subject_of(const Bytes& cert_der) {
    auto cert = crypto::cert_from_der(cert_der);
    return crypto::name_string(*X509_get_subject_name(cert.get()));
}

}  // namespace scepra::test
